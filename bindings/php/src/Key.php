<?php

declare(strict_types=1);

namespace Medseal;

use FFI\CData;

/**
 * A signing or verification key bound to one algorithm (medseal_key): Ed25519 (EdDSA), P-256
 * (ES256) or RSA (RS256/PS256). Make one with generate() or load(); immutable. Freed by close()
 * or when the object goes away.
 */
final class Key extends Handle
{
    /** Signature algorithms (JOSE names). */
    public const ALGORITHMS = ['EdDSA', 'ES256', 'RS256', 'PS256'];
    /** Export formats, as the header's medseal_key_format names them. */
    public const FORMATS = [
        'pkcs8-der', 'pkcs8-pem', 'pkcs8-v2-der', 'pkcs8-v2-pem', 'spki-der', 'spki-pem', 'jwk', 'raw-private', 'raw-public',
    ];

    /** @var string|null */
    private $kid = null;

    /** @internal use generate() or load() */
    public function __construct(CData $pointer)
    {
        $this->adopt($pointer);
    }

    protected static function freeFunction(): string
    {
        return 'medseal_key_free';
    }

    /** A new private key: 'EdDSA' (Ed25519) or 'ES256' (P-256). */
    public static function generate(string $alg = 'EdDSA'): self
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_key *');
        Native::check($ffi->medseal_key_generate(self::algorithmId($alg), \FFI::addr($out)));
        return new self($out);
    }

    /**
     * Imports a key from PEM, DER (PKCS#8 v1/v2, PKCS#1, SPKI) or JWK, detected from the bytes.
     * `$alg` chooses the scheme of an RSA key ('RS256', the default, or 'PS256').
     *
     * @throws KeyException MEDSEAL_KEY_FORMAT, MEDSEAL_KEY_UNSUPPORTED, ...
     */
    public static function load(string $data, ?string $alg = null): self
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_key *');
        $c_alg = $alg === null ? Library::constant('MEDSEAL_ALG_FROM_KEY') : self::algorithmId($alg);
        $bytes = Native::bytes($data);
        $rc = $ffi->medseal_key_import($bytes, strlen($data), $c_alg, \FFI::addr($out));
        Native::wipe($bytes); // the C copy of a private key
        Native::check($rc);
        return new self($out);
    }

    /**
     * The key in `$format` (see FORMATS). Private formats of a public key are
     * KeyException MEDSEAL_KEY_NOT_PRIVATE.
     */
    public function export(string $format = 'spki-pem'): string
    {
        $id = Native::enumValue('MEDSEAL_KEY_FORMAT_', $format, self::FORMATS, 'key format');
        return Native::callBuffer('medseal_key_export', $this->handle(), $id);
    }

    /** The key id: the RFC 7638 thumbprint (base64url of SHA-256, 43 characters). */
    public function kid(): string
    {
        if ($this->kid === null) {
            $this->kid = Native::callBuffer('medseal_key_kid', $this->handle());
        }
        return $this->kid;
    }

    /** The algorithm: 'EdDSA', 'ES256', 'RS256' or 'PS256'. */
    public function algorithm(): string
    {
        return self::algorithmName(Native::getInt('medseal_key_algorithm', $this->handle(), 'uint32_t'));
    }

    /** True if the key holds its private half (can sign). */
    public function hasPrivate(): bool
    {
        return Native::getInt('medseal_key_has_private', $this->handle(), 'uint32_t') === 1;
    }

    /** A new Key with only the public half (same algorithm and kid). */
    public function publicKey(): self
    {
        return self::load($this->export('spki-der'), $this->algorithm());
    }

    /** Length of a key id in characters (medseal_key_kid_bytes()). */
    public static function kidLength(): int
    {
        return (int) Library::ffi()->medseal_key_kid_bytes();
    }

    /** @internal the MEDSEAL_ALG_* value of a JOSE algorithm name */
    public static function algorithmId(string $alg): int
    {
        if (!in_array($alg, self::ALGORITHMS, true)) {
            throw new \InvalidArgumentException("unknown algorithm '$alg' (EdDSA, ES256, RS256 or PS256)");
        }
        return Library::constant('MEDSEAL_ALG_' . strtoupper($alg));
    }

    /** @internal the JOSE name of a MEDSEAL_ALG_* value */
    public static function algorithmName(int $id): string
    {
        foreach (self::ALGORITHMS as $alg) {
            if (Library::constant('MEDSEAL_ALG_' . strtoupper($alg)) === $id) {
                return $alg;
            }
        }
        throw new \UnexpectedValueException("unknown MEDSEAL_ALG value $id");
    }

    /** @return array<string, mixed> */
    public function __debugInfo(): array
    {
        if ($this->isClosed()) {
            return ['closed' => true];
        }
        return ['algorithm' => $this->algorithm(), 'kid' => $this->kid(), 'private' => $this->hasPrivate()];
    }
}
