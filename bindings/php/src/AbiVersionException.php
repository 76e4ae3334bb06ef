<?php

declare(strict_types=1);

namespace Medseal;

/** The loaded libmedseal has another ABI version than {@see Library::ABI_VERSION}. */
class AbiVersionException extends LibraryLoadException
{
}
