<?php

declare(strict_types=1);

namespace Medseal;

/** Codes 800-899: reaching the hub (TCP, TLS, HTTP, protocol, configuration). */
class TransportException extends MedsealException
{
}
