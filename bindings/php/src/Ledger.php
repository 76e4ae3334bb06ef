<?php

declare(strict_types=1);

namespace Medseal;

/**
 * RFC 9162 ledger proofs of the hub, checked by themselves (hashes are 32-byte strings; an audit
 * path is the concatenated hashes or a list of them). Receipt::verify() checks a hub receipt and
 * its inclusion proof together.
 */
final class Ledger
{
    public const HASH_BYTES = 32;

    private function __construct()
    {
    }

    /** The RFC 9162 leaf hash of a ledger entry, SHA-256(0x00 || entry) (its canonical JSON line as served). */
    public static function leafHash(string $entry): string
    {
        $out = Library::ffi()->new('uint8_t[32]');
        Native::check(Library::ffi()->medseal_ledger_leaf_hash(Native::bytes($entry), strlen($entry), $out));
        return \FFI::string($out, self::HASH_BYTES);
    }

    /**
     * Checks that `$path` leads from leaf hash `$leaf` at `$index` to `$root`, the root of a tree
     * of `$size` leaves (RFC 9162 2.1.3.2).
     *
     * @param string|list<string> $path
     * @throws LedgerException MEDSEAL_LEDGER_PROOF_INVALID, MEDSEAL_LEDGER_RANGE
     */
    public static function verifyInclusion(string $leaf, int $index, int $size, $path, string $root): void
    {
        self::checkHash($leaf, 'leaf');
        self::checkHash($root, 'root');
        $pathBytes = self::path($path);
        Native::check(Library::ffi()->medseal_ledger_verify_inclusion(
            Native::bytes($leaf),
            self::unsigned($index, 'index'),
            self::unsigned($size, 'size'),
            $pathBytes === '' ? null : Native::bytes($pathBytes),
            strlen($pathBytes),
            Native::bytes($root)
        ));
    }

    /**
     * Checks that the tree of `$first` leaves (`$firstRoot`) is a prefix of the tree of `$second`
     * leaves (`$secondRoot`) with consistency `$path` (RFC 9162 2.1.4.2).
     *
     * @param string|list<string> $path
     * @throws LedgerException
     */
    public static function verifyConsistency(int $first, int $second, string $firstRoot, string $secondRoot, $path): void
    {
        self::checkHash($firstRoot, 'firstRoot');
        self::checkHash($secondRoot, 'secondRoot');
        $pathBytes = self::path($path);
        Native::check(Library::ffi()->medseal_ledger_verify_consistency(
            self::unsigned($first, 'first'),
            self::unsigned($second, 'second'),
            Native::bytes($firstRoot),
            Native::bytes($secondRoot),
            $pathBytes === '' ? null : Native::bytes($pathBytes),
            strlen($pathBytes)
        ));
    }

    /**
     * Verifies a signed tree head (compact JWS, typ medseal-tree-head+jws) with the hub's tree-head key.
     *
     * @throws LedgerException MEDSEAL_LEDGER_TREE_HEAD_INVALID
     */
    public static function verifyTreeHead(string $jws, Key $treeHeadKey): TreeHead
    {
        $ffi = Library::ffi();
        $size = $ffi->new('uint64_t');
        $timestamp = $ffi->new('int64_t');
        $root = $ffi->new('uint8_t[32]');
        Native::check($ffi->medseal_ledger_verify_tree_head(
            Native::bytes($jws),
            strlen($jws),
            $treeHeadKey->handle(),
            \FFI::addr($size),
            \FFI::addr($timestamp),
            $root
        ));
        return new TreeHead((int) $size->cdata, Native::utc((int) $timestamp->cdata), \FFI::string($root, self::HASH_BYTES));
    }

    /** An envelope digest as receipts write it: base64url of the 32 bytes, no padding (text passes as is). */
    public static function digestText(string $digest): string
    {
        if (strlen($digest) === self::HASH_BYTES && preg_match('/^[A-Za-z0-9_-]{43}$/', $digest) !== 1) {
            return rtrim(strtr(base64_encode($digest), '+/', '-_'), '=');
        }
        if (preg_match('/^[A-Za-z0-9_-]{43}$/', $digest) === 1) {
            return $digest;
        }
        throw new \InvalidArgumentException('digest must be 32 bytes or their base64url text (43 characters)');
    }

    private static function checkHash(string $hash, string $what): void
    {
        if (strlen($hash) !== self::HASH_BYTES) {
            throw new \InvalidArgumentException(sprintf('%s must be %d bytes, not %d', $what, self::HASH_BYTES, strlen($hash)));
        }
    }

    /** @param mixed $path */
    private static function path($path): string
    {
        if (is_string($path)) {
            return $path;
        }
        if (is_array($path)) {
            foreach ($path as $hash) {
                self::checkHash(Native::text($hash, 'path hash'), 'path hash');
            }
            return implode('', $path);
        }
        throw new \TypeError('path must be a string or a list of 32-byte hashes, not ' . Native::typeName($path));
    }

    private static function unsigned(int $value, string $what): int
    {
        if ($value < 0) {
            throw new \InvalidArgumentException("$what must not be negative, not $value");
        }
        return $value;
    }
}
