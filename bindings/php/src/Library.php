<?php

declare(strict_types=1);

namespace Medseal;

use FFI;

/**
 * Loads libmedseal through PHP's FFI extension, from the declarations of medseal_ffi.h read as
 * they are: no prototype, size or result code is written in this package by hand.
 *
 * Where things are looked up (first found wins):
 * - the library: `$MEDSEAL_LIB`, then the php.ini setting `medseal.library` (read with
 *   get_cfg_var(), so it may sit in any .ini file PHP reads), then `resources/libmedseal.so` in
 *   this package, then `libmedseal.so` on the dynamic linker's path (e.g. /usr/local/lib);
 * - the declarations: `$MEDSEAL_HEADER`, then `medseal.header`, then `resources/medseal_ffi.h`
 *   in this package (`make bindings` copies include/medseal_ffi.h there), then the repository's
 *   include/medseal_ffi.h when the package is used from a medseal checkout.
 *
 * The library is loaded once per request (FFI objects cannot outlive one), at the first call;
 * its ABI version must be {@see Library::ABI_VERSION}. With PHP's default `ffi.enable=preload`,
 * a web server must preload this package (bindings/php/preload.php, see medseal.ini).
 */
final class Library
{
    /** The ABI version this binding was written for; the loaded library must report the same. */
    public const ABI_VERSION = 1;

    /** @var FFI|null */
    private static $ffi = null;
    /** @var string */
    private static $path = '';
    /** @var array<string, int> constants read so far */
    private static $constants = [];

    private function __construct()
    {
    }

    /**
     * The FFI instance over libmedseal (loaded at the first call of each request).
     *
     * @throws LibraryLoadException when the library or the declarations cannot be loaded
     * @throws AbiVersionException when the library's ABI version is not {@see ABI_VERSION}
     */
    public static function ffi(): FFI
    {
        if (self::$ffi === null) {
            self::load();
        }
        return self::$ffi;
    }

    /** The path of the libmedseal that is (or will be) loaded. */
    public static function path(): string
    {
        if (self::$path === '') {
            self::$path = self::libraryPath();
        }
        return self::$path;
    }

    /** The path of the medseal_ffi.h the declarations are read from. */
    public static function headerPath(): string
    {
        $candidates = self::headerCandidates();
        foreach ($candidates as $candidate) {
            if (is_file($candidate)) {
                return $candidate;
            }
        }
        throw new LibraryLoadException(
            'medseal: cannot find medseal_ffi.h (looked at ' . implode(', ', $candidates)
            . '); set MEDSEAL_HEADER or medseal.header, or run `make bindings`'
        );
    }

    /** The loaded library's version text, e.g. "0.1.0" (medseal_library_version()). */
    public static function version(): string
    {
        return Native::cString(self::ffi()->medseal_library_version());
    }

    /**
     * The value of a constant of the header's enums, e.g. constant('MEDSEAL_JWS_SIGNATURE_INVALID') = 307.
     *
     * @throws \InvalidArgumentException for a name the header does not declare
     */
    public static function constant(string $name): int
    {
        if (isset(self::$constants[$name])) {
            return self::$constants[$name];
        }
        if (preg_match('/^MEDSEAL_[A-Z0-9_]+$/D', $name) !== 1) {
            throw new \InvalidArgumentException("not a medseal constant name: '$name'");
        }
        try {
            return self::$constants[$name] = (int) self::ffi()->{$name};
        } catch (\FFI\Exception $e) {
            throw new \InvalidArgumentException("medseal_ffi.h declares no constant $name");
        }
    }

    /** @return list<string> */
    private static function headerCandidates(): array
    {
        $candidates = [];
        $env = getenv('MEDSEAL_HEADER');
        if (is_string($env) && $env !== '') {
            return [$env];
        }
        $cfg = get_cfg_var('medseal.header');
        if (is_string($cfg) && $cfg !== '') {
            return [$cfg];
        }
        $package = dirname(__DIR__);
        $candidates[] = $package . '/resources/medseal_ffi.h';
        $candidates[] = dirname($package, 2) . '/include/medseal_ffi.h';
        return $candidates;
    }

    private static function libraryPath(): string
    {
        $env = getenv('MEDSEAL_LIB');
        if (is_string($env) && $env !== '') {
            return $env;
        }
        $cfg = get_cfg_var('medseal.library');
        if (is_string($cfg) && $cfg !== '') {
            return $cfg;
        }
        $bundled = dirname(__DIR__) . '/resources/libmedseal.so';
        if (is_file($bundled)) {
            return $bundled;
        }
        return 'libmedseal.so';
    }

    private static function load(): void
    {
        if (!extension_loaded('ffi')) {
            throw new LibraryLoadException('medseal: the PHP extension ffi is not loaded (enable extension=ffi)');
        }
        $header = self::headerPath();
        $declarations = @file_get_contents($header);
        if ($declarations === false) {
            throw new LibraryLoadException("medseal: cannot read the declarations $header");
        }
        $path = self::path();
        // First the version alone (its declaration read from the header too), so that a library of
        // another ABI is named as such rather than failing on a function it lacks.
        if (preg_match('/^[^;\n]*\bmedseal_abi_version\s*\(\s*void\s*\)\s*;/m', $declarations, $found) !== 1) {
            throw new LibraryLoadException("medseal: $header declares no medseal_abi_version(): not medseal_ffi.h");
        }
        $probe = self::cdef($found[0], $path, $header);
        $version = (int) $probe->medseal_abi_version();
        if ($version !== self::ABI_VERSION) {
            throw new AbiVersionException(sprintf(
                'medseal: the library %s has ABI version %d, but this binding was written for ABI version %d; '
                . 'install the matching medseal library or package',
                $path,
                $version,
                self::ABI_VERSION
            ));
        }
        $ffi = self::cdef($declarations, $path, $header);
        self::$ffi = $ffi;
    }

    private static function cdef(string $declarations, string $path, string $header): FFI
    {
        try {
            return FFI::cdef($declarations, $path);
        } catch (\FFI\Exception $e) {
            $message = $e->getMessage();
            if (strpos($message, 'ffi.enable') !== false) {
                // ffi.enable=preload (PHP's default) outside preloaded code, or ffi.enable=false.
                throw new LibraryLoadException(
                    "medseal: PHP refuses FFI here ($message); with ffi.enable=preload, preload "
                    . 'this package with opcache.preload (see bindings/php/medseal.ini and docs/php.md)'
                );
            }
            if (strpos($message, 'medseal_abi_version') !== false) {
                $message = "it has no medseal_abi_version(), so it is not a medseal library ($message)";
            }
            throw new LibraryLoadException("medseal: cannot load libmedseal from $path with the declarations of $header: $message");
        }
    }
}
