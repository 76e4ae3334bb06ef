<?php

declare(strict_types=1);

namespace Medseal;

use FFI\CData;

/**
 * What a delivery run did (a value object): records delivered (receipt verified; duplicates
 * among them were already at the hub), moved to deadLetters, retried later; nextAttemptAt (when
 * a waiting record is due, or null); error: the last transport or protocol error of the run as
 * a MedsealException (not thrown), or null.
 */
final class DeliveryReport
{
    /** @var int */
    public $delivered;
    /** @var int */
    public $duplicates;
    /** @var int */
    public $deadLetters;
    /** @var int */
    public $retried;
    /** @var \DateTimeImmutable|null */
    public $nextAttemptAt;
    /** @var MedsealException|null */
    public $error;

    private function __construct()
    {
    }

    /** @internal reads a medseal_delivery_report * and frees it */
    public static function take(CData $pointer): self
    {
        $ffi = Library::ffi();
        try {
            $code = $ffi->new('medseal_result');
            $message = $ffi->new('const uint8_t *');
            $length = $ffi->new('size_t');
            Native::check($ffi->medseal_delivery_report_last_error($pointer, \FFI::addr($code), \FFI::addr($message), \FFI::addr($length)));
            $r = new self();
            $r->error = null;
            if ($code->cdata !== 0) {
                $text = $length->cdata > 0 ? \FFI::string($message, $length->cdata) : '';
                $r->error = MedsealException::forCode((int) $code->cdata, $text);
            }
            $r->delivered = Native::getInt('medseal_delivery_report_delivered', $pointer);
            $r->duplicates = Native::getInt('medseal_delivery_report_duplicates', $pointer);
            $r->deadLetters = Native::getInt('medseal_delivery_report_dead_letters', $pointer);
            $r->retried = Native::getInt('medseal_delivery_report_retried', $pointer);
            $r->nextAttemptAt = Native::optionalUtc(Native::getOptionalTime('medseal_delivery_report_next_attempt_at', $pointer));
            return $r;
        } finally {
            $ffi->medseal_delivery_report_free($pointer);
        }
    }
}
