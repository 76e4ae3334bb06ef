package vn.medseal;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/**
 * A background delivery thread (in the library) started by {@link Outbox#deliverer}. Closing it
 * stops it (a batch in progress is finished first) and frees it. Safe from any thread.
 */
public final class Deliverer extends Handle {
    private static final NativeRef.Freer FREE = new NativeRef.Freer() {
        @Override
        public void free(Pointer p) {
            Lib.medseal_deliverer_free(p);
        }
    };

    Deliverer(Pointer peer) {
        super(peer, FREE, "Deliverer");
    }

    /** Asks for a delivery round now (e.g. after an enqueue). Returns at once. */
    public void wakeUp() {
        Pointer p = ref.acquire();
        try {
            Lib.medseal_deliverer_notify(p);
        } finally {
            ref.release();
        }
    }

    /** Stops the thread and waits for it; later calls do nothing. The handle stays open for {@link #lastReport()}. */
    public void stop() {
        Pointer p = ref.acquire();
        try {
            Lib.medseal_deliverer_stop(p);
        } finally {
            ref.release();
        }
    }

    /** The report of the last round (an empty one if none ran yet). */
    public DeliveryReport lastReport() {
        Pointer p = ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_deliverer_last_report(p, out));
            return DeliveryReport.take(out);
        } finally {
            ref.release();
        }
    }
}
