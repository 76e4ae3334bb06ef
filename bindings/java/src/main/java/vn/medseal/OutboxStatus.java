package vn.medseal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.time.Instant;

/** A snapshot of an outbox's counts and times. */
public final class OutboxStatus {
    private final long queued;
    private final long inFlight;
    private final long delivered;
    private final long deadLetter;
    private final long discarded;
    private final long nextSequence;
    private final Instant oldestQueuedAt;
    private final Instant nextAttemptAt;

    private OutboxStatus(long[] counts, Instant oldestQueuedAt, Instant nextAttemptAt) {
        this.queued = counts[0];
        this.inFlight = counts[1];
        this.delivered = counts[2];
        this.deadLetter = counts[3];
        this.discarded = counts[4];
        this.nextSequence = counts[5];
        this.oldestQueuedAt = oldestQueuedAt;
        this.nextAttemptAt = nextAttemptAt;
    }

    static OutboxStatus take(PointerByReference out) {
        Pointer s = out.getValue();
        try {
            Memory m = new Memory(8);
            long[] counts = new long[6];
            Ffi.check(Lib.medseal_outbox_status_queued(s, m));
            counts[0] = m.getLong(0);
            Ffi.check(Lib.medseal_outbox_status_in_flight(s, m));
            counts[1] = m.getLong(0);
            Ffi.check(Lib.medseal_outbox_status_delivered(s, m));
            counts[2] = m.getLong(0);
            Ffi.check(Lib.medseal_outbox_status_dead_letter(s, m));
            counts[3] = m.getLong(0);
            Ffi.check(Lib.medseal_outbox_status_discarded(s, m));
            counts[4] = m.getLong(0);
            Ffi.check(Lib.medseal_outbox_status_next_sequence(s, m));
            counts[5] = m.getLong(0);
            Memory present = new Memory(4);
            Ffi.check(Lib.medseal_outbox_status_oldest_queued_at(s, present, m));
            Instant oldest = present.getInt(0) != 0 ? Instant.ofEpochSecond(m.getLong(0)) : null;
            Ffi.check(Lib.medseal_outbox_status_next_attempt_at(s, present, m));
            Instant next = present.getInt(0) != 0 ? Instant.ofEpochSecond(m.getLong(0)) : null;
            return new OutboxStatus(counts, oldest, next);
        } finally {
            Lib.medseal_outbox_status_free(s);
        }
    }

    public long queued() {
        return queued;
    }

    public long inFlight() {
        return inFlight;
    }

    public long delivered() {
        return delivered;
    }

    public long deadLetter() {
        return deadLetter;
    }

    public long discarded() {
        return discarded;
    }

    /** The sequence number the next record will get. */
    public long nextSequence() {
        return nextSequence;
    }

    /** When the oldest record not yet delivered was enqueued, or null. */
    public Instant oldestQueuedAt() {
        return oldestQueuedAt;
    }

    /** When the next record becomes due, or null. */
    public Instant nextAttemptAt() {
        return nextAttemptAt;
    }

    @Override
    public String toString() {
        return "OutboxStatus(queued=" + queued + ", inFlight=" + inFlight + ", delivered=" + delivered + ", deadLetter="
                + deadLetter + ", discarded=" + discarded + ", nextSequence=" + nextSequence + ")";
    }
}
