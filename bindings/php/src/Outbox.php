<?php

declare(strict_types=1);

namespace Medseal;

/**
 * A durable outbox, an SQLite file (medseal_outbox): records are sealed to the hub and stored in
 * one transaction, then delivered by deliver() or a deliverer().
 *
 * `$path`: the file (created if missing); `$source`: this facility's id (the envelopes'
 * meta.source); `$recipients`: the hub's recipient key first, then any others (public keys
 * suffice; none: the outbox can be administered but not enqueue signed records);
 * `$signingKeys`: the facility's own record-signing keys (1 to 64 Key, public keys suffice, e.g.
 * the facility directory's signing.pub). Always give them when enqueueing signed records: each
 * record is then verified with them before it takes a sequence number, so an unsigned file,
 * another hospital's record or a forged signature is a JwsException (e.g.
 * MEDSEAL_JWS_SIGNATURE_INVALID) and uses no number; without them the outbox does not verify
 * signatures, and a record the hub then refuses leaves a hole in the facility's numbering that
 * only a withdrawal can explain. Several processes (PHP-FPM workers) may open the same file at
 * once: each enqueue takes the next sequence number in its own transaction, waiting (up to 30 s)
 * for the others.
 */
final class Outbox extends Handle
{
    /**
     * @param list<RecipientKey>|RecipientKey $recipients
     * @param list<Key>|Key|null $signingKeys
     * @throws \InvalidArgumentException for an empty list of signing keys or more than 64
     * @throws \TypeError for signing keys that are not Medseal\Key objects
     */
    public function __construct(string $path, string $source, $recipients = [], $signingKeys = null)
    {
        [$keys, $count] = Native::recipientArray($recipients);
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_outbox *');
        if ($signingKeys === null) {
            Native::check($ffi->medseal_outbox_open(
                Native::bytes($path),
                strlen($path),
                Native::bytes($source),
                strlen($source),
                $keys,
                $count,
                \FFI::addr($out)
            ));
        } else {
            [$own, $ownCount] = self::signingKeyArray($signingKeys);
            Native::check($ffi->medseal_outbox_open_with_signing_keys(
                Native::bytes($path),
                strlen($path),
                Native::bytes($source),
                strlen($source),
                $keys,
                $count,
                $own,
                $ownCount,
                \FFI::addr($out)
            ));
        }
        $this->adopt($out);
    }

    /**
     * A `const struct medseal_key *[]` of an outbox's 1 to 64 signing keys, and its length.
     *
     * @param mixed $signingKeys
     * @return array{0: \FFI\CData, 1: int}
     */
    private static function signingKeyArray($signingKeys): array
    {
        if ($signingKeys instanceof Key) {
            $signingKeys = [$signingKeys];
        }
        if (!is_array($signingKeys)) {
            throw new \TypeError('signingKeys must be a list of Medseal\Key, not ' . Native::typeName($signingKeys));
        }
        foreach ($signingKeys as $key) {
            if (!$key instanceof Key) {
                throw new \TypeError('signingKeys must be Medseal\Key objects, not ' . Native::typeName($key));
            }
        }
        $count = count($signingKeys);
        if ($count < 1 || $count > 64) {
            throw new \InvalidArgumentException("an outbox checks records with 1 to 64 signing keys, not $count");
        }
        $array = Library::ffi()->new("const struct medseal_key *[$count]");
        $i = 0;
        foreach ($signingKeys as $key) {
            $array[$i++] = $key->handle();
        }
        return [$array, $count];
    }

    protected static function freeFunction(): string
    {
        return 'medseal_outbox_free';
    }

    /**
     * Seals a signed record (a JWS, flattened or compact) with the next sequence number and stores
     * it durably. The same id with the same bytes again returns the original receipt
     * (alreadyQueued); other bytes are OutboxException MEDSEAL_OUTBOX_DUPLICATE. Bytes that are
     * not a signed record are JwsException (MEDSEAL_JWS_MALFORMED, ...), using no sequence number;
     * an outbox opened with signing keys also refuses, before numbering, a record that does not
     * verify with one of them.
     */
    public function enqueue(string $recordId, string $signedRecord): LocalReceipt
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_local_receipt *');
        Native::check($ffi->medseal_outbox_enqueue_signed(
            $this->handle(),
            Native::bytes($recordId),
            strlen($recordId),
            Native::bytes($signedRecord),
            strlen($signedRecord),
            \FFI::addr($out)
        ));
        return LocalReceipt::take($out);
    }

    /**
     * Stores an envelope sealed elsewhere: its source must be this outbox's and its sequence the
     * next one (OutboxException MEDSEAL_OUTBOX_SEQUENCE), addressed to the hub.
     */
    public function enqueueSealed(string $envelope): LocalReceipt
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_local_receipt *');
        Native::check($ffi->medseal_outbox_enqueue_sealed($this->handle(), Native::bytes($envelope), strlen($envelope), \FFI::addr($out)));
        return LocalReceipt::take($out);
    }

    /**
     * The hub's receipt and inclusion proof of delivered record `$recordId`, as the deliverer kept
     * them once they verified: check them again later with Receipt::verify(). OutboxException
     * MEDSEAL_OUTBOX_NOT_FOUND for an unknown id, MEDSEAL_OUTBOX_STATE for a record not delivered yet.
     */
    public function receipt(string $recordId): HubReceipt
    {
        $ffi = Library::ffi();
        $receipt = $ffi->new('struct medseal_buffer *');
        $proof = $ffi->new('struct medseal_buffer *');
        Native::check($ffi->medseal_outbox_get_receipt(
            $this->handle(),
            Native::bytes($recordId),
            strlen($recordId),
            \FFI::addr($receipt),
            \FFI::addr($proof)
        ));
        $receiptBytes = Native::takeBuffer($receipt);
        return new HubReceipt($receiptBytes, Native::takeBuffer($proof));
    }

    /** Counts per state, the next sequence number and due times. */
    public function status(): OutboxStatus
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_outbox_status *');
        Native::check($ffi->medseal_outbox_get_status($this->handle(), \FFI::addr($out)));
        try {
            $s = new OutboxStatus();
            $s->queued = Native::getInt('medseal_outbox_status_queued', $out);
            $s->inFlight = Native::getInt('medseal_outbox_status_in_flight', $out);
            $s->delivered = Native::getInt('medseal_outbox_status_delivered', $out);
            $s->deadLetter = Native::getInt('medseal_outbox_status_dead_letter', $out);
            $s->discarded = Native::getInt('medseal_outbox_status_discarded', $out);
            $s->nextSequence = Native::getInt('medseal_outbox_status_next_sequence', $out);
            $s->oldestQueuedAt = Native::optionalUtc(Native::getOptionalTime('medseal_outbox_status_oldest_queued_at', $out));
            $s->nextAttemptAt = Native::optionalUtc(Native::getOptionalTime('medseal_outbox_status_next_attempt_at', $out));
            return $s;
        } finally {
            $ffi->medseal_outbox_status_free($out);
        }
    }

    /** The number of dead letters. */
    public function deadLetterCount(): int
    {
        return Native::getInt('medseal_outbox_dead_letter_count', $this->handle());
    }

    /**
     * The outbox ids of the dead letters, oldest first.
     *
     * @return list<int>
     */
    public function deadLetters(): array
    {
        $ffi = Library::ffi();
        $written = $ffi->new('size_t');
        $tooSmall = Library::constant('MEDSEAL_BUFFER_TOO_SMALL');
        while (true) {
            $rc = $ffi->medseal_outbox_dead_letter_ids($this->handle(), null, 0, \FFI::addr($written));
            if ($rc !== $tooSmall) {
                Native::check($rc);
                return [];
            }
            $cap = (int) $written->cdata + 8;
            $ids = $ffi->new("int64_t[$cap]");
            $rc = $ffi->medseal_outbox_dead_letter_ids($this->handle(), $ids, $cap, \FFI::addr($written));
            if ($rc === $tooSmall) {
                continue; // grew meanwhile
            }
            Native::check($rc);
            $result = [];
            for ($i = 0, $n = (int) $written->cdata; $i < $n; $i++) {
                $result[] = (int) $ids[$i];
            }
            return $result;
        }
    }

    /**
     * Queues dead letter `$outboxId` again, due now (MEDSEAL_OUTBOX_NOT_FOUND,
     * MEDSEAL_OUTBOX_STATE if it is not a dead letter).
     */
    public function requeue(int $outboxId): void
    {
        Native::check(Library::ffi()->medseal_outbox_requeue($this->handle(), $outboxId));
    }

    /** Decides not to send dead letter `$outboxId`, recording `$why` (required). */
    public function discard(int $outboxId, string $why): void
    {
        Native::check(Library::ffi()->medseal_outbox_discard($this->handle(), $outboxId, Native::bytes($why), strlen($why)));
    }

    /**
     * Stops queued record `$outboxId` before delivery (it becomes a dead letter with code
     * WITHDRAWN); only a queued record (MEDSEAL_OUTBOX_STATE otherwise).
     */
    public function withdraw(int $outboxId, string $reason): void
    {
        Native::check(Library::ffi()->medseal_outbox_withdraw($this->handle(), $outboxId, Native::bytes($reason), strlen($reason)));
    }

    /**
     * Withdraws record `$outboxId` at the hub too: a tombstone signed with `$signer`'s key (the
     * facility's record-signing key) over the record's id, sequence, source and `$reason` is
     * queued in its place, so the hub ledgers the number as withdrawn with the reason instead of
     * leaving a gap. For a queued record or a dead letter (MEDSEAL_OUTBOX_STATE otherwise, or when
     * already withdrawn); `$reason` is 1 to 1024 bytes without control characters, and an outbox
     * opened with signing keys takes only one of them (MEDSEAL_INVALID_ARGUMENT). The original
     * envelope is kept unchanged.
     */
    public function withdrawSigned(int $outboxId, string $reason, Signer $signer): void
    {
        Native::check(Library::ffi()->medseal_outbox_withdraw_signed($this->handle(), $outboxId, Native::bytes($reason), strlen($reason), $signer->handle()));
    }

    /** Copies the whole outbox to a new file (online backup; never replaces a file). */
    public function backup(string $path): void
    {
        Native::check(Library::ffi()->medseal_outbox_backup($this->handle(), Native::bytes($path), strlen($path)));
    }

    /**
     * Delivers every due record through `$transport` (blocking). A hub that cannot be reached is
     * not thrown: see the report's error.
     */
    public function deliver(Transport $transport): DeliveryReport
    {
        $ffi = Library::ffi();
        $out = $ffi->new('struct medseal_delivery_report *');
        Native::check($ffi->medseal_outbox_deliver($this->handle(), $transport->handle(), \FFI::addr($out)));
        return DeliveryReport::take($out);
    }

    /** Starts a background Deliverer (close() it to stop it). */
    public function deliverer(Transport $transport, float $pollInterval = 1.0): Deliverer
    {
        return new Deliverer($this, $transport, $pollInterval);
    }
}
