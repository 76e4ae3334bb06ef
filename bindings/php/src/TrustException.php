<?php

declare(strict_types=1);

namespace Medseal;

/** Codes 500-599: certificates, certificate chains and trust lists. */
class TrustException extends MedsealException
{
}
