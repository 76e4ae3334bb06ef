<?php

declare(strict_types=1);

namespace Medseal;

/** Codes 1-99: bad arguments, buffer sizes, invalid UTF-8 text, internal failures. */
class GeneralException extends MedsealException
{
}
