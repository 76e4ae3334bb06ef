<?php

declare(strict_types=1);

namespace Medseal;

/**
 * A background thread of the library delivering an outbox's records to the hub
 * (medseal_deliverer), started by Outbox::deliverer(): at once, when notified, when a record
 * falls due and at least every poll interval. close() (or the end of the object) stops it,
 * finishing a batch in progress, and frees it. No PHP code runs on that thread. For a PHP-FPM
 * site prefer a CLI worker or cron entry calling Outbox::deliver() (see docs/php.md).
 */
final class Deliverer extends Handle
{
    /** @internal use Outbox::deliverer() */
    public function __construct(Outbox $outbox, Transport $transport, float $pollInterval = 1.0)
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_deliverer *');
        Native::check($ffi->medseal_deliverer_start(
            $outbox->handle(),
            $transport->handle(),
            Transport::milliseconds($pollInterval, 'pollInterval'),
            \FFI::addr($out)
        ));
        $this->adopt($out);
    }

    protected static function freeFunction(): string
    {
        return 'medseal_deliverer_free';
    }

    /** Asks for a delivery round now (e.g. after an enqueue); returns at once. */
    public function notify(): void
    {
        Library::ffi()->medseal_deliverer_notify($this->handle());
    }

    /** Stops the thread and waits for it (a batch in progress is finished first). */
    public function stop(): void
    {
        Library::ffi()->medseal_deliverer_stop($this->handle());
    }

    /** The report of the last round (an empty one if none ran yet). */
    public function lastReport(): DeliveryReport
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_delivery_report *');
        Native::check($ffi->medseal_deliverer_last_report($this->handle(), \FFI::addr($out)));
        return DeliveryReport::take($out);
    }
}
