<?php

declare(strict_types=1);

namespace Medseal;

/** Codes 300-399: a malformed JWS, a forbidden algorithm, a signature that does not verify. */
class JwsException extends MedsealException
{
}
