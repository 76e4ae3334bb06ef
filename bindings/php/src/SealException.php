<?php

declare(strict_types=1);

namespace Medseal;

/** Codes 400-499: a malformed, truncated, altered or misaddressed sealed envelope. */
class SealException extends MedsealException
{
}
