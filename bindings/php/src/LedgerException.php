<?php

declare(strict_types=1);

namespace Medseal;

/** Codes 900-999: receipts, tree heads and ledger proofs. */
class LedgerException extends MedsealException
{
}
