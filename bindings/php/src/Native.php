<?php

declare(strict_types=1);

namespace Medseal;

use FFI;
use FFI\CData;

/**
 * Helpers every wrapper uses to call libmedseal: bytes in and out, out-parameters, result codes.
 *
 * @internal
 */
final class Native
{
    private function __construct()
    {
    }

    public static function ffi(): FFI
    {
        return Library::ffi();
    }

    /**
     * A C copy of the PHP string `$data` (a `uint8_t[]`, at least one byte so it is never NULL),
     * for an input argument; pass its length separately.
     */
    public static function bytes(string $data): CData
    {
        $length = strlen($data);
        $buffer = Library::ffi()->new('uint8_t[' . ($length > 0 ? $length : 1) . ']');
        if ($length > 0) {
            FFI::memcpy($buffer, $data, $length);
        }
        return $buffer;
    }

    /** Zeroes a C buffer made by bytes() (for key material, once the library has read it). */
    public static function wipe(CData $buffer): void
    {
        FFI::memset($buffer, 0, FFI::sizeof($buffer));
    }

    /** A fresh C value of `$type` (e.g. "uint64_t", "struct medseal_key *"), zeroed. */
    public static function value(string $type): CData
    {
        return Library::ffi()->new($type);
    }

    /** The address of `$value` (for a `T *` out-parameter). */
    public static function addr(CData $value): CData
    {
        return FFI::addr($value);
    }

    /** Copies `$length` bytes at `$pointer` into a PHP string. */
    public static function string(CData $pointer, int $length): string
    {
        return $length > 0 ? FFI::string($pointer, $length) : '';
    }

    /**
     * A static `const char *` result of the library as a PHP string (PHP's FFI converts those
     * itself; a CData is read up to its NUL in case a PHP version does not).
     *
     * @param mixed $value
     */
    public static function cString($value): string
    {
        if ($value instanceof CData) {
            return FFI::isNull($value) ? '' : FFI::string($value);
        }
        return (string) $value;
    }

    /** True if the pointer is NULL. */
    public static function isNull(CData $pointer): bool
    {
        return FFI::isNull($pointer);
    }

    /** Throws the exception for a nonzero result code (reading the library's message at once). */
    public static function check(int $code): void
    {
        if ($code !== 0) {
            throw MedsealException::forCode($code);
        }
    }

    /** This thread's last error message of the library (empty after a successful call). */
    public static function lastErrorMessage(): string
    {
        $ffi = Library::ffi();
        $length = $ffi->new('size_t');
        $rc = $ffi->medseal_last_error_message(null, 0, FFI::addr($length));
        if ($rc === 0 || $length->cdata === 0) {
            return '';
        }
        $cap = $length->cdata + 1;
        $buffer = $ffi->new("uint8_t[$cap]");
        if ($ffi->medseal_last_error_message($buffer, $cap, FFI::addr($length)) !== 0) {
            return '';
        }
        return self::string($buffer, $length->cdata);
    }

    /** The bytes of a `medseal_buffer *`, copied once into a PHP string; frees the buffer. */
    public static function takeBuffer(CData $buffer): string
    {
        $ffi = Library::ffi();
        try {
            $length = $ffi->medseal_buffer_len($buffer);
            return $length > 0 ? FFI::string($ffi->medseal_buffer_data($buffer), $length) : '';
        } finally {
            $ffi->medseal_buffer_free($buffer);
        }
    }

    /**
     * Calls `$function(...$args, &buffer)` and returns the buffer's bytes.
     *
     * @param mixed ...$args
     */
    public static function callBuffer(string $function, ...$args): string
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_buffer *');
        $args[] = FFI::addr($out);
        self::check($ffi->$function(...$args));
        return self::takeBuffer($out);
    }

    /** Copies the bytes an accessor `$function(handle, &data, &len)` lends. */
    public static function borrowed(string $function, CData $handle): string
    {
        $ffi = Library::ffi();
        $data = $ffi->new('const uint8_t *');
        $length = $ffi->new('size_t');
        self::check($ffi->$function($handle, FFI::addr($data), FFI::addr($length)));
        return $length->cdata > 0 ? FFI::string($data, $length->cdata) : '';
    }

    /** Reads an integer out-parameter accessor `$function(handle, &value)` of C type `$type`. */
    public static function getInt(string $function, CData $handle, string $type = 'uint64_t'): int
    {
        $ffi = Library::ffi();
        $out = $ffi->new($type);
        self::check($ffi->$function($handle, FFI::addr($out)));
        return (int) $out->cdata;
    }

    /** Reads a `(present, at)` accessor: Unix seconds, or null. */
    public static function getOptionalTime(string $function, CData $handle): ?int
    {
        $ffi = Library::ffi();
        $present = $ffi->new('uint32_t');
        $at = $ffi->new('int64_t');
        self::check($ffi->$function($handle, FFI::addr($present), FFI::addr($at)));
        return $present->cdata !== 0 ? (int) $at->cdata : null;
    }

    /**
     * A `const medseal_recipient_key *[]` for `$recipients` and its length.
     *
     * @param mixed $recipients a list of RecipientKey (or one)
     * @return array{0: ?CData, 1: int}
     */
    public static function recipientArray($recipients): array
    {
        if ($recipients instanceof RecipientKey) {
            $recipients = [$recipients];
        }
        if (!is_array($recipients)) {
            throw new \TypeError('recipients must be a list of Medseal\RecipientKey, not ' . self::typeName($recipients));
        }
        $count = count($recipients);
        if ($count === 0) {
            return [null, 0];
        }
        $array = Library::ffi()->new("const struct medseal_recipient_key *[$count]");
        $i = 0;
        foreach ($recipients as $key) {
            if (!$key instanceof RecipientKey) {
                throw new \TypeError('recipients must be Medseal\RecipientKey objects, not ' . self::typeName($key));
            }
            $array[$i++] = $key->handle();
        }
        return [$array, $count];
    }

    /** The `MEDSEAL_CANON_*` flags of the canonicalization options in `$options`. */
    public static function canonFlags(array $options): int
    {
        $flags = 0;
        if (!empty($options['plain'])) {
            $flags |= Library::constant('MEDSEAL_CANON_PLAIN');
        }
        if (!empty($options['allowLossyNumbers'])) {
            $flags |= Library::constant('MEDSEAL_CANON_ALLOW_LOSSY_NUMBERS');
        }
        if (!empty($options['normalizeNfc'])) {
            $flags |= Library::constant('MEDSEAL_CANON_NORMALIZE_NFC');
        }
        $fhir = $options['fhir'] ?? null;
        if ($fhir !== null) {
            if (!in_array($fhir, ['data', 'static', 'document'], true)) {
                throw new \InvalidArgumentException(
                    "fhir must be null, 'data', 'static' or 'document', not " . var_export($fhir, true)
                );
            }
            $flags |= Library::constant('MEDSEAL_CANON_FHIR_' . strtoupper($fhir));
        }
        return $flags;
    }

    /**
     * Checks that `$options` only has keys of `$allowed`.
     *
     * @param array<string, mixed> $options
     * @param list<string> $allowed
     */
    public static function checkOptions(array $options, array $allowed, string $where): void
    {
        foreach (array_keys($options) as $name) {
            if (!in_array($name, $allowed, true)) {
                throw new \InvalidArgumentException(sprintf(
                    "%s: unknown option '%s' (known: %s)",
                    $where,
                    (string) $name,
                    implode(', ', $allowed)
                ));
            }
        }
    }

    /**
     * The value of a header enum constant named `$prefix` + `$name` in upper case with `_` for
     * `-` ("spki-pem" with prefix "MEDSEAL_KEY_FORMAT_" is MEDSEAL_KEY_FORMAT_SPKI_PEM).
     *
     * @param list<string> $names the accepted names (for the error message)
     */
    public static function enumValue(string $prefix, string $name, array $names, string $what): int
    {
        if (!in_array($name, $names, true)) {
            throw new \InvalidArgumentException("unknown $what '$name' (one of " . implode(', ', $names) . ')');
        }
        return Library::constant($prefix . strtoupper(str_replace('-', '_', $name)));
    }

    /** Unix seconds of a DateTimeInterface or an integer. */
    public static function unixSeconds($value, string $what): int
    {
        if ($value instanceof \DateTimeInterface) {
            return $value->getTimestamp();
        }
        if (is_int($value)) {
            return $value;
        }
        throw new \TypeError("$what must be a DateTimeInterface or Unix seconds (int), not " . self::typeName($value));
    }

    /** A UTC DateTimeImmutable of Unix seconds. */
    public static function utc(int $seconds): \DateTimeImmutable
    {
        return (new \DateTimeImmutable('@' . $seconds))->setTimezone(new \DateTimeZone('UTC'));
    }

    /** An optional UTC DateTimeImmutable. */
    public static function optionalUtc(?int $seconds): ?\DateTimeImmutable
    {
        return $seconds === null ? null : self::utc($seconds);
    }

    /** @param mixed $value */
    public static function typeName($value): string
    {
        return is_object($value) ? get_class($value) : gettype($value);
    }

    /** @param mixed $value */
    public static function text($value, string $what): string
    {
        if (!is_string($value)) {
            throw new \TypeError("$what must be a string, not " . self::typeName($value));
        }
        return $value;
    }
}
