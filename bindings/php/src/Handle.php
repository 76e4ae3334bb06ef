<?php

declare(strict_types=1);

namespace Medseal;

use FFI\CData;

/**
 * Owns one library handle, freed exactly once: by close(), or by __destruct when the object
 * goes away, whichever comes first. After close() every method throws HandleClosedException.
 * Handles cannot be cloned (the copy would free the same handle again).
 */
abstract class Handle
{
    /** @var CData|null */
    protected $ptr = null;

    /** @var array<string, int> frees per class, for tests of the "exactly once" promise */
    private static $frees = [];

    /** The library's free function of this handle type, e.g. "medseal_key_free". */
    abstract protected static function freeFunction(): string;

    protected function adopt(CData $pointer): void
    {
        if (\FFI::isNull($pointer)) {
            throw new \LogicException('medseal returned a NULL ' . static::class . ' handle');
        }
        $this->ptr = $pointer;
    }

    /**
     * The C handle, for passing to libmedseal.
     *
     * @internal
     */
    public function handle(): CData
    {
        if ($this->ptr === null) {
            $parts = explode('\\', static::class);
            throw new HandleClosedException('this ' . end($parts) . ' is closed');
        }
        return $this->ptr;
    }

    /** True once close() was called. */
    public function isClosed(): bool
    {
        return $this->ptr === null;
    }

    /** Frees the handle now (later calls do nothing). */
    public function close(): void
    {
        $pointer = $this->ptr;
        if ($pointer === null) {
            return;
        }
        $this->ptr = null;
        $free = static::freeFunction();
        Library::ffi()->$free($pointer);
        self::$frees[static::class] = (self::$frees[static::class] ?? 0) + 1;
    }

    public function __destruct()
    {
        $this->close();
    }

    /** @throws \LogicException always: a copy would free the same handle twice */
    public function __clone()
    {
        $this->ptr = null; // the copy must not free the original's handle when it is destroyed
        throw new \LogicException('medseal handles cannot be cloned');
    }

    /** @return array<string, mixed> */
    public function __debugInfo(): array
    {
        return ['closed' => $this->ptr === null];
    }

    /**
     * How many handles of `$class` were freed in this process (or request) so far.
     *
     * @param class-string<Handle> $class
     */
    public static function freeCount(string $class): int
    {
        return self::$frees[$class] ?? 0;
    }
}
