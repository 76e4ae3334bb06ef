<?php

declare(strict_types=1);

namespace Medseal;

use FFI\CData;

/** A verified, fresh trust list (medseal_trust_list); see docs/TRUST_LISTS.md. */
final class TrustList extends Handle
{
    /** @internal use verify() */
    public function __construct(CData $pointer)
    {
        $this->adopt($pointer);
    }

    protected static function freeFunction(): string
    {
        return 'medseal_trust_list_free';
    }

    /**
     * Verifies a signed trust list with the trust-list key at `$now` (default: the clock),
     * refusing lists older than `$minSequence` (the highest sequence seen so far).
     *
     * @param \DateTimeInterface|int|null $now
     * @throws TrustException MEDSEAL_TRUST_LIST_SIGNATURE, _EXPIRED, _STALE, _INVALID
     */
    public static function verify(string $jws, Key $listKey, $now = null, int $minSequence = 0): self
    {
        if ($minSequence < 0) {
            throw new \InvalidArgumentException("minSequence must not be negative, not $minSequence");
        }
        $when = $now === null ? time() : Native::unixSeconds($now, 'now');
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_trust_list *');
        Native::check($ffi->medseal_trust_list_verify(
            Native::bytes($jws),
            strlen($jws),
            $listKey->handle(),
            $when,
            $minSequence,
            \FFI::addr($out)
        ));
        return new self($out);
    }

    /**
     * Checks an unsigned trust list (JSON text or a PHP array) and signs it with the private
     * trust-list key `$key`; returns the JWS.
     *
     * @param mixed $list
     */
    public static function sign($list, Key $key): string
    {
        $json = Json::text($list);
        return Native::callBuffer('medseal_trust_list_sign', Native::bytes($json), strlen($json), $key->handle());
    }

    /** The list's sequence number. */
    public function sequence(): int
    {
        return Native::getInt('medseal_trust_list_sequence', $this->handle());
    }

    /** The list's expiry (UTC). */
    public function expires(): \DateTimeImmutable
    {
        return Native::utc(Native::getInt('medseal_trust_list_expires', $this->handle(), 'int64_t'));
    }

    /** The number of entries. */
    public function entryCount(): int
    {
        return Native::getInt('medseal_trust_list_entry_count', $this->handle(), 'size_t');
    }
}
