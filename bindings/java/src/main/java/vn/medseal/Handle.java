package vn.medseal;

import com.sun.jna.Pointer;

/**
 * Base of every class that owns a native handle: {@link AutoCloseable} (use try-with-resources),
 * with a safety net that frees a handle never closed once it is unreachable. Each handle is freed
 * exactly once, from whichever thread closes it; closing twice does nothing; using a closed handle
 * throws {@link IllegalStateException}. Immutable handles may be shared between threads.
 */
public abstract class Handle implements AutoCloseable {
    final NativeRef ref;

    Handle(Pointer peer, NativeRef.Freer freer, String what) {
        this.ref = new NativeRef(this, peer, freer, what);
    }

    /** Frees the native handle (after calls in progress on other threads return). Idempotent. */
    @Override
    public void close() {
        ref.close();
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return ref.isClosed();
    }
}
