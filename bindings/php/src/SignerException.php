<?php

declare(strict_types=1);

namespace Medseal;

/** Codes 600-699: signing backends (PKCS#11 tokens, callbacks) and the clock guard. */
class SignerException extends MedsealException
{
}
