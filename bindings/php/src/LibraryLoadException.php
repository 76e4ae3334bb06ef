<?php

declare(strict_types=1);

namespace Medseal;

/** libmedseal or its declarations could not be loaded (or PHP's ffi.enable refuses FFI here). */
class LibraryLoadException extends \RuntimeException
{
}
