<?php

declare(strict_types=1);

namespace Medseal;

use FFI\CData;

/**
 * What an enqueue returns once the record is on disk (a value object): outboxId (its row in this
 * outbox), sequence (the source's number for it), enqueuedAt (UTC), digest (SHA-256 of the
 * protobuf envelope as the hub receives it, 32 bytes) and alreadyQueued (true if the same record
 * was enqueued before: this is the original receipt).
 */
final class LocalReceipt
{
    /** @var int */
    public $outboxId;
    /** @var int */
    public $sequence;
    /** @var \DateTimeImmutable */
    public $enqueuedAt;
    /** @var string 32 bytes */
    public $digest;
    /** @var bool */
    public $alreadyQueued;

    private function __construct()
    {
    }

    /** @internal reads a medseal_local_receipt * and frees it */
    public static function take(CData $pointer): self
    {
        $ffi = Library::ffi();
        try {
            $digest = $ffi->new('uint8_t[64]');
            $written = $ffi->new('size_t');
            Native::check($ffi->medseal_local_receipt_digest($pointer, $digest, 64, \FFI::addr($written)));
            $r = new self();
            $r->outboxId = Native::getInt('medseal_local_receipt_outbox_id', $pointer, 'int64_t');
            $r->sequence = Native::getInt('medseal_local_receipt_sequence', $pointer);
            $r->enqueuedAt = Native::utc(Native::getInt('medseal_local_receipt_enqueued_at', $pointer, 'int64_t'));
            $r->digest = Native::string($digest, (int) $written->cdata);
            $r->alreadyQueued = Native::getInt('medseal_local_receipt_already_queued', $pointer, 'uint32_t') === 1;
            return $r;
        } finally {
            $ffi->medseal_local_receipt_free($pointer);
        }
    }
}
