package vn.medseal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/** What a delivery run did. The hub being unreachable is not thrown: it is {@link #error()}. */
public final class DeliveryReport {
    private final long delivered;
    private final long duplicates;
    private final long deadLetters;
    private final long retried;
    private final Instant nextAttemptAt;
    private final MedsealException error;

    private DeliveryReport(long delivered, long duplicates, long deadLetters, long retried, Instant nextAttemptAt,
            MedsealException error) {
        this.delivered = delivered;
        this.duplicates = duplicates;
        this.deadLetters = deadLetters;
        this.retried = retried;
        this.nextAttemptAt = nextAttemptAt;
        this.error = error;
    }

    static DeliveryReport take(PointerByReference out) {
        Pointer r = out.getValue();
        try {
            Memory m = new Memory(8);
            Ffi.check(Lib.medseal_delivery_report_delivered(r, m));
            long delivered = m.getLong(0);
            Ffi.check(Lib.medseal_delivery_report_duplicates(r, m));
            long duplicates = m.getLong(0);
            Ffi.check(Lib.medseal_delivery_report_dead_letters(r, m));
            long dead = m.getLong(0);
            Ffi.check(Lib.medseal_delivery_report_retried(r, m));
            long retried = m.getLong(0);
            Memory present = new Memory(4);
            Ffi.check(Lib.medseal_delivery_report_next_attempt_at(r, present, m));
            Instant next = present.getInt(0) != 0 ? Instant.ofEpochSecond(m.getLong(0)) : null;
            Memory code = new Memory(4);
            PointerByReference message = new PointerByReference();
            Memory len = Ffi.sizeOut();
            Ffi.check(Lib.medseal_delivery_report_last_error(r, code, message, len));
            MedsealException error = code.getInt(0) == 0 ? null
                    : MedsealException.of(code.getInt(0), new String(Ffi.borrowed(message, len), StandardCharsets.UTF_8));
            return new DeliveryReport(delivered, duplicates, dead, retried, next, error);
        } finally {
            Lib.medseal_delivery_report_free(r);
        }
    }

    /** Records acknowledged by the hub with a receipt that verified (duplicates included). */
    public long delivered() {
        return delivered;
    }

    /** Delivered records the hub already had. */
    public long duplicates() {
        return duplicates;
    }

    /** Records refused for good (moved to dead letters). */
    public long deadLetters() {
        return deadLetters;
    }

    /** Records left queued for a later attempt. */
    public long retried() {
        return retried;
    }

    /** When the next waiting record becomes due, or null. */
    public Instant nextAttemptAt() {
        return nextAttemptAt;
    }

    /** The last transport or protocol error of the run (not thrown), or null. */
    public MedsealException error() {
        return error;
    }

    @Override
    public String toString() {
        return "DeliveryReport(delivered=" + delivered + ", duplicates=" + duplicates + ", deadLetters=" + deadLetters
                + ", retried=" + retried + ", error=" + (error == null ? "none" : error.getName()) + ")";
    }
}
