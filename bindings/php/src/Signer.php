<?php

declare(strict_types=1);

namespace Medseal;

use FFI\CData;

/**
 * Signs records (medseal_signer): canonical JSON, then a JWS with the JAdES headers.
 *
 * Backends: a software Key (new Signer($key, ...)), a PKCS#11 token (fromPkcs11()) or a PHP
 * function (fromCallback()). Options (an array, all optional):
 * - 'kid': the kid header (default: the key's thumbprint, or x5t#S256 with a chain);
 * - 'signingTime': a fixed sigT (DateTimeInterface or Unix seconds; default: the clock at each
 *   signature);
 * - 'certificateChain': the signer's chain, signer first (PEM text, one DER certificate, or a
 *   list of PEM certificates); signatures then carry x5c;
 * - 'commitment': a JAdES commitment type OID such as '1.2.840.10065.1.12.1.1';
 * - 'maxClockSkew': seconds a fixed signing time may be from the clock;
 * - 'clock': a callable returning the current time (Unix seconds or DateTimeInterface);
 * - 'plain', 'allowLossyNumbers', 'normalizeNfc', 'fhir': canonicalization of the records
 *   (see Medseal::canonicalize()).
 * Immutable after construction.
 */
final class Signer extends Handle
{
    /** JWS serializations for sign(). 'detached' is 'detached-compact'. */
    public const FORMATS = ['flattened', 'compact', 'detached', 'detached-compact', 'detached-flattened'];

    private const OPTIONS = [
        'kid', 'signingTime', 'certificateChain', 'commitment', 'maxClockSkew', 'clock',
        'plain', 'allowLossyNumbers', 'normalizeNfc', 'fhir',
    ];

    /** @var Key|null */
    private $publicKey = null;
    /** @var int the id of this signer's PHP callbacks in $callbacks (0: none) */
    private $callbackId = 0;
    /** @var CData|null the intptr_t the library passes back to the trampolines as ctx */
    private $context = null;

    /**
     * PHP callbacks of the live signers of this request: id => [sign, clock, pending exception].
     *
     * @var array<int, array{0: ?callable, 1: ?callable, 2: ?\Throwable}>
     */
    private static $callbacks = [];
    /** @var int */
    private static $nextId = 1;
    /** @var CData|null holds the one C function pointer for every PHP sign callback (dispatch by ctx) */
    private static $signTrampoline = null;
    /** @var CData|null holds the one C function pointer for every PHP clock */
    private static $clockTrampoline = null;

    /**
     * A signer for the private `$key`; see the class documentation for the options.
     *
     * @param array<string, mixed> $options
     */
    public function __construct(Key $key, array $options = [])
    {
        Native::checkOptions($options, self::OPTIONS, 'Signer');
        $ffi = Library::ffi();
        $builder = $ffi->new('struct medseal_signer_builder *');
        Native::check($ffi->medseal_signer_builder_new($key->handle(), \FFI::addr($builder)));
        $this->build($builder, $options, null);
    }

    protected static function freeFunction(): string
    {
        return 'medseal_signer_free';
    }

    /**
     * A signer whose private key lives elsewhere: `$sign(string $message): string` signs the JWS
     * signing input as `$publicKey`'s algorithm says (EdDSA: Ed25519; ES256: SHA-256 with ECDSA,
     * raw r||s or DER; RS256/PS256: SHA-256 with RSA PKCS#1 v1.5 / PSS). Every signature is
     * verified with `$publicKey` before a JWS is written (MEDSEAL_SIGNER_BAD_SIGNATURE otherwise).
     * An exception thrown by `$sign` comes out of sign() as that same exception.
     *
     * @param array<string, mixed> $options
     */
    public static function fromCallback(Key $publicKey, callable $sign, array $options = []): self
    {
        Native::checkOptions($options, self::OPTIONS, 'Signer::fromCallback');
        $self = new \ReflectionClass(self::class);
        /** @var Signer $signer */
        $signer = $self->newInstanceWithoutConstructor();
        $signer->register($sign, $options['clock'] ?? null);
        $ffi = Library::ffi();
        $builder = $ffi->new('struct medseal_signer_builder *');
        try {
            Native::check($ffi->medseal_signer_builder_from_callback(
                $publicKey->handle(),
                self::signTrampoline(),
                \FFI::addr($signer->context),
                \FFI::addr($builder)
            ));
        } catch (\Throwable $e) {
            $signer->unregister();
            throw $e;
        }
        $signer->build($builder, $options, true);
        return $signer;
    }

    /**
     * A signer for a key on a PKCS#11 token: the module's path, the token's label, the key's
     * label (CKA_LABEL) and the user PIN (never logged). Option 'alg': null (RS256 for RSA, ES256
     * for P-256) or 'PS256'/'RS256' for RSA keys; other options as for the constructor. The token
     * session stays open until the signer is closed.
     *
     * @param array<string, mixed> $options
     * @throws SignerException MEDSEAL_PKCS11_MODULE, _TOKEN_NOT_FOUND, _KEY_NOT_FOUND, _PIN, _DEVICE
     */
    public static function fromPkcs11(string $module, string $tokenLabel, string $keyLabel, string $pin, array $options = []): self
    {
        $alg = $options['alg'] ?? null;
        unset($options['alg']);
        Native::checkOptions($options, self::OPTIONS, 'Signer::fromPkcs11');
        $c_alg = $alg === null ? Library::constant('MEDSEAL_ALG_FROM_KEY') : Key::algorithmId(Native::text($alg, 'alg'));
        $ffi = Library::ffi();
        $builder = $ffi->new('struct medseal_signer_builder *');
        $pinBytes = Native::bytes($pin);
        try {
            Native::check($ffi->medseal_signer_builder_from_pkcs11(
                Native::bytes($module),
                strlen($module),
                Native::bytes($tokenLabel),
                strlen($tokenLabel),
                Native::bytes($keyLabel),
                strlen($keyLabel),
                $pinBytes,
                strlen($pin),
                $c_alg,
                \FFI::addr($builder)
            ));
        } finally {
            Native::wipe($pinBytes);
        }
        $self = new \ReflectionClass(self::class);
        /** @var Signer $signer */
        $signer = $self->newInstanceWithoutConstructor();
        $signer->build($builder, $options, null);
        return $signer;
    }

    /**
     * Canonicalizes `$record` (JSON text, or a PHP value as Medseal::canonicalize() takes it) and
     * signs it. `$format`: 'flattened' (JWS JSON, the default), 'compact', 'detached'
     * (= 'detached-compact') or 'detached-flattened'. Returns the JWS.
     *
     * @param mixed $record
     */
    public function sign($record, string $format = 'flattened', bool $allowFloats = false): string
    {
        $c_format = self::formatId($format);
        $json = Json::text($record, $allowFloats);
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_buffer *');
        $rc = $ffi->medseal_signer_sign($this->handle(), Native::bytes($json), strlen($json), $c_format, \FFI::addr($out));
        $this->rethrow($rc);
        return Native::takeBuffer($out);
    }

    /**
     * Signs `$record` (flattened JWS) and seals the JWS to `$recipients` with `$meta` (content
     * type application/jose+json): what the hub opens with Envelope::openVerified().
     *
     * @param mixed $record
     * @param list<RecipientKey>|RecipientKey $recipients
     */
    public function signAndSeal(
        $record,
        Meta $meta,
        $recipients,
        string $aead = 'aes-256-gcm',
        string $encoding = 'protobuf',
        bool $allowFloats = false
    ): string {
        $aeadId = Native::enumValue('MEDSEAL_AEAD_', $aead, Medseal::AEADS, 'AEAD');
        $encodingId = Native::enumValue('MEDSEAL_ENVELOPE_', $encoding, Medseal::ENCODINGS, 'envelope encoding');
        [$keys, $count] = Native::recipientArray($recipients);
        $json = Json::text($record, $allowFloats);
        $ffi = Library::ffi();
        $c_meta = $meta->create();
        try {
            $out = $ffi->new('struct medseal_buffer *');
            $rc = $ffi->medseal_signer_sign_and_seal(
                $this->handle(),
                Native::bytes($json),
                strlen($json),
                $c_meta,
                $keys,
                $count,
                $aeadId,
                $encodingId,
                \FFI::addr($out)
            );
            $this->rethrow($rc);
        } finally {
            $ffi->medseal_meta_free($c_meta);
        }
        return Native::takeBuffer($out);
    }

    /** The key this signer's signatures verify with (for tokens and callbacks too). */
    public function publicKey(): Key
    {
        if ($this->publicKey === null) {
            $ffi = Library::ffi();
            $out = $ffi->new('struct medseal_key *');
            Native::check($ffi->medseal_signer_public_key($this->handle(), \FFI::addr($out)));
            $this->publicKey = new Key($out);
        }
        return $this->publicKey;
    }

    /** The thumbprint of the signer's public key. */
    public function kid(): string
    {
        return $this->publicKey()->kid();
    }

    /** Frees the signer (and closes a PKCS#11 session) now. */
    public function close(): void
    {
        parent::close();
        if ($this->publicKey !== null) {
            $this->publicKey->close();
        }
        $this->unregister();
    }

    /** Most bytes a callback signature may have (medseal_signer_max_signature_bytes()). */
    public static function maxSignatureBytes(): int
    {
        return (int) Library::ffi()->medseal_signer_max_signature_bytes();
    }

    /** @internal the MEDSEAL_JWS_* value of a format name */
    public static function formatId(string $format): int
    {
        if ($format === 'detached') {
            $format = 'detached-compact';
        }
        return Native::enumValue('MEDSEAL_JWS_', $format, self::FORMATS, 'JWS format');
    }

    /**
     * Applies the options to `$builder`, builds the signer and frees the builder.
     *
     * @param array<string, mixed> $options
     */
    private function build(CData $builder, array $options, ?bool $callbacksRegistered): void
    {
        $ffi = Library::ffi();
        try {
            if (isset($options['kid'])) {
                $kid = Native::text($options['kid'], 'kid');
                Native::check($ffi->medseal_signer_builder_set_kid($builder, Native::bytes($kid), strlen($kid)));
            }
            if (isset($options['signingTime'])) {
                Native::check($ffi->medseal_signer_builder_set_signing_time(
                    $builder,
                    Native::unixSeconds($options['signingTime'], 'signingTime')
                ));
            }
            if (isset($options['certificateChain'])) {
                $chain = self::chainBytes($options['certificateChain']);
                Native::check($ffi->medseal_signer_builder_set_certificate_chain($builder, Native::bytes($chain), strlen($chain)));
            }
            if (isset($options['commitment'])) {
                $oid = Native::text($options['commitment'], 'commitment');
                Native::check($ffi->medseal_signer_builder_set_commitment($builder, Native::bytes($oid), strlen($oid)));
            }
            if (isset($options['maxClockSkew'])) {
                $skew = $options['maxClockSkew'];
                if (!is_int($skew) || $skew < 0 || $skew > 0xFFFFFFFF) {
                    throw new \InvalidArgumentException('maxClockSkew must be seconds from 0 to 4294967295');
                }
                Native::check($ffi->medseal_signer_builder_set_max_clock_skew($builder, $skew));
            }
            if (isset($options['clock'])) {
                if ($callbacksRegistered === null) {
                    $this->register(null, $options['clock']);
                }
                Native::check($ffi->medseal_signer_builder_set_clock($builder, self::clockTrampoline(), \FFI::addr($this->context)));
            }
            $flags = Native::canonFlags($options);
            if ($flags !== 0) {
                Native::check($ffi->medseal_signer_builder_set_canon_flags($builder, $flags));
            }
            $out = $ffi->new('struct medseal_signer *');
            Native::check($ffi->medseal_signer_builder_build($builder, \FFI::addr($out)));
            $this->adopt($out);
        } catch (\Throwable $e) {
            $this->unregister();
            throw $e;
        } finally {
            $ffi->medseal_signer_builder_free($builder);
        }
    }

    /** After a signing call: rethrows a callback's exception, else the library's error. */
    private function rethrow(int $code): void
    {
        if ($this->callbackId !== 0 && isset(self::$callbacks[$this->callbackId][2])) {
            $error = self::$callbacks[$this->callbackId][2];
            self::$callbacks[$this->callbackId][2] = null;
            throw $error;
        }
        Native::check($code);
    }

    private function register(?callable $sign, $clock): void
    {
        if ($clock !== null && !is_callable($clock)) {
            throw new \TypeError('clock must be callable, not ' . Native::typeName($clock));
        }
        $id = self::$nextId++;
        self::$callbacks[$id] = [$sign, $clock, null];
        $this->callbackId = $id;
        $this->context = Library::ffi()->new('intptr_t');
        $this->context->cdata = $id;
    }

    private function unregister(): void
    {
        if ($this->callbackId !== 0 && $this->ptr === null) {
            unset(self::$callbacks[$this->callbackId]);
            $this->callbackId = 0;
            $this->context = null;
        }
    }

    /** @param mixed $chain */
    private static function chainBytes($chain): string
    {
        if (is_string($chain)) {
            return $chain;
        }
        if (is_array($chain)) {
            if ($chain === []) {
                throw new \InvalidArgumentException('certificateChain is empty');
            }
            foreach ($chain as $item) {
                Native::text($item, 'certificateChain item');
            }
            return implode("\n", $chain);
        }
        throw new \TypeError('certificateChain must be PEM/DER text or a list of PEM certificates');
    }

    /** The id a trampoline's ctx points to. */
    private static function contextId(?CData $ctx): int
    {
        if ($ctx === null) {
            return 0;
        }
        return (int) Library::ffi()->cast('intptr_t *', $ctx)[0];
    }

    /** The C function pointer that runs the PHP sign callback named by ctx (one per request). */
    private static function signTrampoline(): CData
    {
        if (self::$signTrampoline === null) {
            // A struct field takes the closure: PHP makes one C function pointer of it.
            $holder = Library::ffi()->new('struct { medseal_sign_callback function; }');
            // Nothing may be thrown back into the library (PHP aborts the process on it): an
            // exception is kept and thrown again by sign() once the library has returned.
            $holder->function = static function ($ctx, $message, $messageLen, $signature, $cap, $signatureLen): int {
                $id = self::contextId($ctx);
                if (!isset(self::$callbacks[$id][0])) {
                    return 1;
                }
                try {
                    $result = (self::$callbacks[$id][0])(\FFI::string($message, $messageLen));
                    if (!is_string($result)) {
                        throw new \TypeError(
                            'the sign callback must return the signature as a string, not ' . Native::typeName($result)
                        );
                    }
                    $length = strlen($result);
                    if ($length > $cap) {
                        throw new \LengthException("the sign callback returned $length bytes; a signature has at most $cap");
                    }
                    if ($length > 0) {
                        \FFI::memcpy($signature, $result, $length);
                    }
                    $signatureLen[0] = $length;
                    return 0;
                } catch (\Throwable $e) {
                    self::$callbacks[$id][2] = $e;
                    return 1;
                }
            };
            self::$signTrampoline = $holder;
        }
        return self::$signTrampoline->function;
    }

    /** The C function pointer that runs the PHP clock named by ctx (one per request). */
    private static function clockTrampoline(): CData
    {
        if (self::$clockTrampoline === null) {
            $holder = Library::ffi()->new('struct { medseal_clock_callback function; }');
            $holder->function = static function ($ctx): int {
                $id = self::contextId($ctx);
                if (!isset(self::$callbacks[$id][1])) {
                    return 0;
                }
                try {
                    return Native::unixSeconds((self::$callbacks[$id][1])(), "the clock's result");
                } catch (\Throwable $e) {
                    self::$callbacks[$id][2] = $e;
                    return 0;
                }
            };
            self::$clockTrampoline = $holder;
        }
        return self::$clockTrampoline->function;
    }
}
