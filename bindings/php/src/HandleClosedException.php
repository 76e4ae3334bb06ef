<?php

declare(strict_types=1);

namespace Medseal;

/** A method was called on a key, signer, outbox, ... after its close(). */
class HandleClosedException extends \LogicException
{
}
