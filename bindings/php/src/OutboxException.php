<?php

declare(strict_types=1);

namespace Medseal;

/** Codes 700-799: the outbox database and the state of its records. */
class OutboxException extends MedsealException
{
}
