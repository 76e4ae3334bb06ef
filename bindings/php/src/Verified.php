<?php

declare(strict_types=1);

namespace Medseal;

use FFI\CData;

/**
 * What a successful verification established (a value object).
 */
final class Verified
{
    /** @var string the signed bytes (for medseal records, the canonical JSON) */
    public $payload;
    /** @var string thumbprint of the key that verified */
    public $kid;
    /** @var string 'EdDSA', 'ES256', 'RS256' or 'PS256' */
    public $algorithm;
    /** @var \DateTimeImmutable|null JAdES sigT (UTC), null if absent */
    public $signingTime;
    /** @var string sigT as written ('' if absent) */
    public $signingTimeText;
    /** @var string 'key', 'certificate' or 'trust_list' */
    public $trustedBy;
    /** @var string the certificate's subject (RFC 4514) or the trust-list facility; '' for a key */
    public $signer;
    /** @var string the protected header, canonical JSON */
    public $headerJson;

    private function __construct()
    {
    }

    /**
     * Reads a medseal_verified * and frees it.
     *
     * @internal
     */
    public static function take(CData $pointer): self
    {
        $ffi = Library::ffi();
        try {
            $v = new self();
            $v->payload = Native::borrowed('medseal_verified_payload', $pointer);
            $v->kid = Native::borrowed('medseal_verified_key_id', $pointer);
            $v->algorithm = Key::algorithmName(Native::getInt('medseal_verified_algorithm', $pointer, 'uint32_t'));
            $v->signingTimeText = Native::borrowed('medseal_verified_signing_time', $pointer);
            $v->signingTime = self::parseTime($v->signingTimeText);
            $v->trustedBy = self::trustedByName(Native::getInt('medseal_verified_trusted_by', $pointer, 'uint32_t'));
            $v->signer = Native::borrowed('medseal_verified_signer', $pointer);
            $v->headerJson = Native::borrowed('medseal_verified_header', $pointer);
            return $v;
        } finally {
            $ffi->medseal_verified_free($pointer);
        }
    }

    /** The protected header as an array. */
    public function header(): array
    {
        return json_decode($this->headerJson, true, 64, JSON_THROW_ON_ERROR);
    }

    /**
     * The payload parsed as JSON (json_decode; objects as arrays unless `$assoc` is false).
     *
     * @return mixed
     */
    public function json(bool $assoc = true)
    {
        return json_decode($this->payload, $assoc, 512, JSON_THROW_ON_ERROR);
    }

    private static function parseTime(string $text): ?\DateTimeImmutable
    {
        if ($text === '') {
            return null;
        }
        $parsed = \DateTimeImmutable::createFromFormat(\DateTimeInterface::RFC3339, strtoupper($text));
        if ($parsed === false) {
            return null;
        }
        return $parsed->setTimezone(new \DateTimeZone('UTC'));
    }

    private static function trustedByName(int $id): string
    {
        foreach (['key' => 'KEY', 'certificate' => 'CERTIFICATE', 'trust_list' => 'TRUST_LIST'] as $name => $suffix) {
            if (Library::constant('MEDSEAL_TRUSTED_BY_' . $suffix) === $id) {
                return $name;
            }
        }
        throw new \UnexpectedValueException("unknown MEDSEAL_TRUSTED_BY value $id");
    }
}
