package vn.medseal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.time.Instant;

/** What an enqueue returns once the record is durable: outbox id, sequence number, envelope digest. */
public final class LocalReceipt {
    private final long outboxId;
    private final long sequence;
    private final Instant enqueuedAt;
    private final byte[] digest;
    private final boolean alreadyQueued;

    private LocalReceipt(long outboxId, long sequence, Instant enqueuedAt, byte[] digest, boolean alreadyQueued) {
        this.outboxId = outboxId;
        this.sequence = sequence;
        this.enqueuedAt = enqueuedAt;
        this.digest = digest;
        this.alreadyQueued = alreadyQueued;
    }

    static LocalReceipt take(PointerByReference out) {
        Pointer r = out.getValue();
        try {
            Memory m = new Memory(8);
            Ffi.check(Lib.medseal_local_receipt_outbox_id(r, m));
            long id = m.getLong(0);
            Ffi.check(Lib.medseal_local_receipt_sequence(r, m));
            long seq = m.getLong(0);
            Ffi.check(Lib.medseal_local_receipt_enqueued_at(r, m));
            Instant at = Instant.ofEpochSecond(m.getLong(0));
            Ffi.check(Lib.medseal_local_receipt_already_queued(r, m));
            boolean again = m.getInt(0) != 0;
            byte[] digest = new byte[32];
            Memory written = Ffi.sizeOut();
            Ffi.check(Lib.medseal_local_receipt_digest(r, digest, new SizeT(digest.length), written));
            return new LocalReceipt(id, seq, at, digest, again);
        } finally {
            Lib.medseal_local_receipt_free(r);
        }
    }

    /** The record's row in this outbox file. */
    public long outboxId() {
        return outboxId;
    }

    /** The record's per-source sequence number (1, 2, 3, ...). */
    public long sequence() {
        return sequence;
    }

    public Instant enqueuedAt() {
        return enqueuedAt;
    }

    /** SHA-256 of the protobuf envelope (32 bytes), as the hub receives it and its receipt names it. */
    public byte[] digest() {
        return digest.clone();
    }

    /** True when the same record id and content were already queued (this is the original receipt). */
    public boolean alreadyQueued() {
        return alreadyQueued;
    }

    @Override
    public String toString() {
        return "LocalReceipt(outboxId=" + outboxId + ", sequence=" + sequence + ", enqueuedAt=" + enqueuedAt
                + ", alreadyQueued=" + alreadyQueued + ")";
    }
}
