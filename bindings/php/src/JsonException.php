<?php

declare(strict_types=1);

namespace Medseal;

/** Codes 100-199: the input is not acceptable JSON for canonicalization. */
class JsonException extends MedsealException
{
}
