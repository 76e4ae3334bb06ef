<?php

declare(strict_types=1);

namespace Medseal;

/**
 * The JSON text of a record for canonicalization: a string is JSON text already (passed as is);
 * arrays, stdClass, JsonSerializable, JsonNumber, int, bool and null are written as JSON.
 * A list (keys 0..n-1) is an array, any other array an object ([] is an empty array; use
 * new \stdClass() for {}). Floats are refused unless `$allowFloats`, then written as
 * RFC 8785 writes them (6.0 -> 6, 1.0E-7 -> 1e-7). Strings are written byte for byte: invalid
 * UTF-8 is the library's MEDSEAL_JSON_INVALID_UTF8, not silently replaced.
 *
 * @internal
 */
final class Json
{
    private function __construct()
    {
    }

    /** @param mixed $record */
    public static function text($record, bool $allowFloats = false): string
    {
        if (is_string($record)) {
            return $record;
        }
        if (is_array($record) && self::plain($record)) {
            // Only strings, ints, bools and nulls: json_encode writes them as write() would, fast.
            // It refuses invalid UTF-8: then write() passes the bytes on for the library to name.
            $json = json_encode($record, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES, 512);
            if (is_string($json)) {
                return $json;
            }
        }
        $out = [];
        self::write($record, $out, $allowFloats, 0);
        return implode('', $out);
    }

    /**
     * @param mixed $value
     * @param list<string> $out
     */
    private static function write($value, array &$out, bool $allowFloats, int $depth): void
    {
        if ($depth > 512) {
            throw new \InvalidArgumentException('the record nests deeper than 512 levels (or refers to itself)');
        }
        if (is_string($value)) {
            $out[] = self::quote($value);
        } elseif ($value === null) {
            $out[] = 'null';
        } elseif ($value === true) {
            $out[] = 'true';
        } elseif ($value === false) {
            $out[] = 'false';
        } elseif (is_int($value)) {
            $out[] = (string) $value;
        } elseif (is_float($value)) {
            if (!$allowFloats) {
                throw new \InvalidArgumentException(sprintf(
                    'float %s refused: a float does not say how many digits it means; pass the record as JSON '
                    . "text, use new Medseal\\JsonNumber('...'), or set 'allowFloats' => true",
                    var_export($value, true)
                ));
            }
            $out[] = self::ecmascriptNumber($value);
        } elseif ($value instanceof JsonNumber) {
            $out[] = (string) $value;
        } elseif (is_array($value)) {
            if (self::isList($value)) {
                $out[] = '[';
                $first = true;
                foreach ($value as $item) {
                    if (!$first) {
                        $out[] = ',';
                    }
                    $first = false;
                    self::write($item, $out, $allowFloats, $depth + 1);
                }
                $out[] = ']';
            } else {
                self::writeObject($value, $out, $allowFloats, $depth);
            }
        } elseif ($value instanceof \JsonSerializable) {
            $inner = $value->jsonSerialize();
            if ($inner === $value) {
                throw new \InvalidArgumentException(get_class($value) . '::jsonSerialize() returns itself');
            }
            self::write($inner, $out, $allowFloats, $depth + 1);
        } elseif ($value instanceof \stdClass) {
            self::writeObject(get_object_vars($value), $out, $allowFloats, $depth);
        } else {
            throw new \InvalidArgumentException(Native::typeName($value) . ' is not JSON serializable');
        }
    }

    /**
     * @param array<int|string, mixed> $fields
     * @param list<string> $out
     */
    private static function writeObject(array $fields, array &$out, bool $allowFloats, int $depth): void
    {
        $out[] = '{';
        $first = true;
        foreach ($fields as $key => $item) {
            if (!$first) {
                $out[] = ',';
            }
            $first = false;
            $out[] = self::quote((string) $key);
            $out[] = ':';
            self::write($item, $out, $allowFloats, $depth + 1);
        }
        $out[] = '}';
    }

    /** @param array<int|string, mixed> $record true if every leaf is a string, int, bool or null */
    private static function plain(array $record): bool
    {
        $plain = true;
        array_walk_recursive($record, static function ($leaf) use (&$plain): void {
            if ($plain && !(is_string($leaf) || is_int($leaf) || is_bool($leaf) || $leaf === null)) {
                $plain = false;
            }
        });
        return $plain;
    }

    /** @param array<int|string, mixed> $value */
    private static function isList(array $value): bool
    {
        $expected = 0;
        foreach ($value as $key => $_) {
            if ($key !== $expected++) {
                return false;
            }
        }
        return true;
    }

    /** A JSON string literal: quotes, backslashes and control characters escaped, other bytes as they are. */
    private static function quote(string $text): string
    {
        $escaped = preg_replace_callback('/[\x00-\x1f"\\\\]/', static function (array $m): string {
            switch ($m[0]) {
                case '"':
                    return '\\"';
                case '\\':
                    return '\\\\';
                case "\n":
                    return '\\n';
                case "\r":
                    return '\\r';
                case "\t":
                    return '\\t';
                default:
                    return sprintf('\\u%04x', ord($m[0]));
            }
        }, $text);
        return '"' . $escaped . '"';
    }

    /**
     * `$value` as RFC 8785 writes a number (ECMAScript Number.prototype.toString): shortest
     * round-trip digits, no ".0" on integral values, exponents only below 1e-6 or from 1e21.
     */
    public static function ecmascriptNumber(float $value): string
    {
        if (is_nan($value) || is_infinite($value)) {
            throw new \InvalidArgumentException(var_export($value, true) . ' is not a JSON number');
        }
        if ($value == 0.0) {
            return '0';
        }
        $magnitude = abs($value);
        $text = '';
        for ($precision = 0; $precision <= 17; $precision++) {
            $text = sprintf('%.' . $precision . 'e', $magnitude);
            if ((float) $text === $magnitude) {
                break;
            }
        }
        [$mantissa, $exponent] = explode('e', $text);
        $digits = rtrim(str_replace('.', '', $mantissa), '0');
        if ($digits === '') {
            $digits = '0';
        }
        $k = strlen($digits);
        $n = (int) $exponent + 1; // the decimal point sits after n digits
        if ($k <= $n && $n <= 21) {
            $result = $digits . str_repeat('0', $n - $k);
        } elseif (0 < $n && $n <= 21) {
            $result = substr($digits, 0, $n) . '.' . substr($digits, $n);
        } elseif (-6 < $n && $n <= 0) {
            $result = '0.' . str_repeat('0', -$n) . $digits;
        } else {
            $e = $n - 1;
            $result = $digits[0] . ($k > 1 ? '.' . substr($digits, 1) : '') . 'e' . ($e > 0 ? '+' : '-') . abs($e);
        }
        return ($value < 0 ? '-' : '') . $result;
    }
}
