<?php

declare(strict_types=1);

namespace Medseal;

/**
 * A decoded sealed envelope (medseal_envelope), JSON or protobuf. Decoding checks the structure,
 * suite and meta, not the ciphertext. Immutable.
 */
final class Envelope extends Handle
{
    /**
     * Decodes `$data` (SealException if it is not an envelope).
     */
    public function __construct(string $data)
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_envelope *');
        Native::check($ffi->medseal_envelope_decode(Native::bytes($data), strlen($data), \FFI::addr($out)));
        $this->adopt($out);
    }

    protected static function freeFunction(): string
    {
        return 'medseal_envelope_free';
    }

    /** Same as new Envelope($data). */
    public static function decode(string $data): self
    {
        return new self($data);
    }

    /** The routing metadata as canonical JSON (not authenticated until opened). */
    public function metaJson(): string
    {
        return Native::callBuffer('medseal_envelope_meta', $this->handle());
    }

    /** The routing metadata as a Meta (created as its RFC 3339 text). */
    public function meta(): Meta
    {
        $fields = json_decode($this->metaJson(), true, 8, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING);
        return new Meta(
            $fields['record_id'],
            $fields['source'],
            (int) $fields['sequence'],
            $fields['created'] ?? null,
            $fields['content_type'] ?? null
        );
    }

    /**
     * Opens with the private `$key`: SealException MEDSEAL_SEAL_WRONG_RECIPIENT if not addressed
     * to it, MEDSEAL_SEAL_DECRYPT_FAILED if anything was altered.
     */
    public function open(RecipientKey $key): string
    {
        return Native::callBuffer('medseal_envelope_open', $this->handle(), $key->handle());
    }

    /**
     * Opens a signed record (content type application/jose+json) and verifies the JWS inside
     * with `$verifier`; the payload is the canonical record.
     */
    public function openVerified(RecipientKey $key, Verifier $verifier): Verified
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_verified *');
        Native::check($ffi->medseal_envelope_open_verified($this->handle(), $key->handle(), $verifier->handle(), \FFI::addr($out)));
        return Verified::take($out);
    }
}
