<?php

declare(strict_types=1);

namespace Medseal;

/** Codes 200-299: a key's format, algorithm, size or missing private half. */
class KeyException extends MedsealException
{
}
