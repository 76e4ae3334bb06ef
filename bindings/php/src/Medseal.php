<?php

declare(strict_types=1);

namespace Medseal;

/**
 * Functions of the library that belong to no object: versions, result codes, canonical JSON,
 * sealing.
 */
final class Medseal
{
    /** The ABI version this binding was written for (the library is checked at load). */
    public const ABI_VERSION = Library::ABI_VERSION;

    /** AEAD names for seal() ('aes-256-gcm' is the default). */
    public const AEADS = ['aes-256-gcm', 'chacha20-poly1305'];
    /** Envelope encodings for seal() ('protobuf' is the default). */
    public const ENCODINGS = ['json', 'protobuf'];

    private const CANON_OPTIONS = ['plain', 'allowLossyNumbers', 'normalizeNfc', 'fhir', 'allowFloats'];

    private function __construct()
    {
    }

    /** The loaded library's version, e.g. "0.1.0". */
    public static function libraryVersion(): string
    {
        return Library::version();
    }

    /** The name of result code `$code` (medseal_result_name()), e.g. "MEDSEAL_JSON_SYNTAX". */
    public static function resultName(int $code): string
    {
        return Native::cString(Library::ffi()->medseal_result_name($code));
    }

    /** The library's static description of result code `$code` (medseal_result_describe()). */
    public static function resultDescription(int $code): string
    {
        return Native::cString(Library::ffi()->medseal_result_describe($code));
    }

    /**
     * The canonical bytes of a JSON record (RFC 8785 with medseal's strict policy by default).
     *
     * @param mixed $record JSON text (a string, used as is) or a PHP value (see Json)
     * @param array{plain?: bool, allowLossyNumbers?: bool, normalizeNfc?: bool, fhir?: ?string, allowFloats?: bool} $options
     *        plain: exactly RFC 8785 (no NFC or lossy-number checks); allowLossyNumbers; normalizeNfc:
     *        normalize strings to NFC instead of refusing them; fhir: 'data', 'static' or 'document'
     *        (FHIR JSON rules); allowFloats: write PHP floats as RFC 8785 does
     * @throws JsonException for JSON the policy refuses (MEDSEAL_JSON_*)
     */
    public static function canonicalize($record, array $options = []): string
    {
        Native::checkOptions($options, self::CANON_OPTIONS, 'canonicalize');
        $json = Json::text($record, !empty($options['allowFloats']));
        $flags = Native::canonFlags($options);
        return Native::callBuffer('medseal_json_canonicalize', Native::bytes($json), strlen($json), $flags);
    }

    /**
     * Seals `$plaintext` to `$recipients` (1 to 16 X25519 keys; public keys suffice), binding
     * `$meta`; returns the envelope.
     *
     * @param list<RecipientKey>|RecipientKey $recipients
     * @param string $aead 'aes-256-gcm' (default) or 'chacha20-poly1305'
     * @param string $encoding 'protobuf' (default) or 'json'
     * @throws SealException MEDSEAL_SEAL_META_INVALID, MEDSEAL_SEAL_TOO_LARGE (above 64 MiB), ...
     */
    public static function seal(
        string $plaintext,
        Meta $meta,
        $recipients,
        string $aead = 'aes-256-gcm',
        string $encoding = 'protobuf'
    ): string {
        $aeadId = Native::enumValue('MEDSEAL_AEAD_', $aead, self::AEADS, 'AEAD');
        $encodingId = Native::enumValue('MEDSEAL_ENVELOPE_', $encoding, self::ENCODINGS, 'envelope encoding');
        [$keys, $count] = Native::recipientArray($recipients);
        $data = Native::bytes($plaintext);
        $c = $meta->create();
        try {
            return Native::callBuffer(
                'medseal_envelope_seal',
                $data,
                strlen($plaintext),
                $c,
                $keys,
                $count,
                $aeadId,
                $encodingId
            );
        } finally {
            Library::ffi()->medseal_meta_free($c);
        }
    }

    /**
     * The exact length of the protobuf envelope seal() writes for these inputs (no cryptography).
     *
     * @param list<RecipientKey>|RecipientKey $recipients
     */
    public static function sealedSize(string $plaintext, Meta $meta, $recipients): int
    {
        [$keys, $count] = Native::recipientArray($recipients);
        $ffi = Library::ffi();
        $written = $ffi->new('size_t');
        $c = $meta->create();
        try {
            $rc = $ffi->medseal_envelope_seal_into(
                Native::bytes($plaintext),
                strlen($plaintext),
                $c,
                $keys,
                $count,
                Library::constant('MEDSEAL_AEAD_AES_256_GCM'),
                null,
                0,
                \FFI::addr($written)
            );
        } finally {
            $ffi->medseal_meta_free($c);
        }
        if ($rc !== Library::constant('MEDSEAL_BUFFER_TOO_SMALL')) {
            Native::check($rc);
        }
        return (int) $written->cdata;
    }
}
