<?php

declare(strict_types=1);

namespace Medseal;

/**
 * A snapshot of an outbox (a value object): counts per state, the next sequence number, when the
 * oldest undelivered record was enqueued and when the next one is due (UTC, or null).
 */
final class OutboxStatus
{
    /** @var int */
    public $queued;
    /** @var int */
    public $inFlight;
    /** @var int */
    public $delivered;
    /** @var int */
    public $deadLetter;
    /** @var int */
    public $discarded;
    /** @var int */
    public $nextSequence;
    /** @var \DateTimeImmutable|null */
    public $oldestQueuedAt;
    /** @var \DateTimeImmutable|null */
    public $nextAttemptAt;
}
