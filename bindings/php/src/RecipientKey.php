<?php

declare(strict_types=1);

namespace Medseal;

use FFI\CData;

/**
 * An HPKE recipient key, X25519 (medseal_recipient_key): private (opens envelopes) or public
 * only (envelopes are sealed to it). Immutable.
 */
final class RecipientKey extends Handle
{
    /** @var string|null */
    private $kid = null;

    /** @internal use generate(), load() or fromRaw() */
    public function __construct(CData $pointer)
    {
        $this->adopt($pointer);
    }

    protected static function freeFunction(): string
    {
        return 'medseal_recipient_key_free';
    }

    /** A new private X25519 recipient key. */
    public static function generate(): self
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_recipient_key *');
        Native::check($ffi->medseal_recipient_key_generate(\FFI::addr($out)));
        return new self($out);
    }

    /**
     * Imports an X25519 key from PEM, DER (PKCS#8, SPKI) or JWK. Signing keys are
     * KeyException MEDSEAL_KEY_UNSUPPORTED.
     */
    public static function load(string $data): self
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_recipient_key *');
        $bytes = Native::bytes($data);
        $rc = $ffi->medseal_recipient_key_import($bytes, strlen($data), \FFI::addr($out));
        Native::wipe($bytes); // the C copy of a private key
        Native::check($rc);
        return new self($out);
    }

    /**
     * A key from its 32 raw bytes: the private scalar (`$private`) or the public u-coordinate.
     * Another length is KeyException MEDSEAL_KEY_INVALID.
     */
    public static function fromRaw(string $data, bool $private): self
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_recipient_key *');
        $kind = Library::constant($private ? 'MEDSEAL_KEY_FORMAT_RAW_PRIVATE' : 'MEDSEAL_KEY_FORMAT_RAW_PUBLIC');
        $bytes = Native::bytes($data);
        $rc = $ffi->medseal_recipient_key_from_raw($bytes, strlen($data), $kind, \FFI::addr($out));
        Native::wipe($bytes);
        Native::check($rc);
        return new self($out);
    }

    /** The key in `$format` (Key::FORMATS; the JWK carries kid and "use": "enc"). */
    public function export(string $format = 'spki-pem'): string
    {
        $id = Native::enumValue('MEDSEAL_KEY_FORMAT_', $format, Key::FORMATS, 'key format');
        return Native::callBuffer('medseal_recipient_key_export', $this->handle(), $id);
    }

    /** The key id (RFC 7638 thumbprint of the public JWK); envelopes name recipients by it. */
    public function kid(): string
    {
        if ($this->kid === null) {
            $this->kid = Native::callBuffer('medseal_recipient_key_kid', $this->handle());
        }
        return $this->kid;
    }

    /** True if the key can open envelopes. */
    public function hasPrivate(): bool
    {
        return Native::getInt('medseal_recipient_key_has_private', $this->handle(), 'uint32_t') === 1;
    }

    /** A new RecipientKey with only the public half. */
    public function publicKey(): self
    {
        return self::fromRaw($this->export('raw-public'), false);
    }

    /**
     * Opens an envelope (encoded bytes, JSON or protobuf, or an Envelope) and returns the
     * plaintext. The library decrypts into memory this binding owns, copied once into the string.
     *
     * @param string|Envelope $envelope
     * @throws SealException MEDSEAL_SEAL_WRONG_RECIPIENT, MEDSEAL_SEAL_DECRYPT_FAILED, MEDSEAL_SEAL_TRUNCATED, ...
     */
    public function open($envelope): string
    {
        if ($envelope instanceof Envelope) {
            return $envelope->open($this);
        }
        $envelope = Native::text($envelope, 'envelope');
        $ffi = Library::ffi();
        $data = Native::bytes($envelope);
        $written = $ffi->new('size_t');
        $rc = $ffi->medseal_recipient_key_open_into($this->handle(), $data, strlen($envelope), null, 0, \FFI::addr($written));
        if ($rc !== Library::constant('MEDSEAL_BUFFER_TOO_SMALL')) {
            Native::check($rc);
            return ''; // an empty plaintext
        }
        $size = (int) $written->cdata;
        $out = $ffi->new("uint8_t[$size]", true);
        Native::check($ffi->medseal_recipient_key_open_into($this->handle(), $data, strlen($envelope), $out, $size, \FFI::addr($written)));
        $plaintext = Native::string($out, (int) $written->cdata);
        \FFI::memset($out, 0, $size); // the plaintext may be a patient record: do not leave it in freed memory
        return $plaintext;
    }

    /** The plaintext length of an encoded envelope (no decryption). */
    public function plaintextSize(string $envelope): int
    {
        $ffi = Library::ffi();
        $written = $ffi->new('size_t');
        $rc = $ffi->medseal_recipient_key_open_into($this->handle(), Native::bytes($envelope), strlen($envelope), null, 0, \FFI::addr($written));
        if ($rc !== Library::constant('MEDSEAL_BUFFER_TOO_SMALL')) {
            Native::check($rc);
        }
        return (int) $written->cdata;
    }

    /**
     * Opens a signed record (content type application/jose+json) and verifies the JWS inside
     * with `$verifier` (see Envelope::openVerified()).
     *
     * @param string|Envelope $envelope
     */
    public function openVerified($envelope, Verifier $verifier): Verified
    {
        if ($envelope instanceof Envelope) {
            return $envelope->openVerified($this, $verifier);
        }
        $decoded = new Envelope(Native::text($envelope, 'envelope'));
        try {
            return $decoded->openVerified($this, $verifier);
        } finally {
            $decoded->close();
        }
    }

    /** @return array<string, mixed> */
    public function __debugInfo(): array
    {
        return $this->isClosed() ? ['closed' => true] : ['kid' => $this->kid(), 'private' => $this->hasPrivate()];
    }
}
