package vn.medseal;

import com.sun.jna.Pointer;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.Collections;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One native handle, freed exactly once: by {@code close()}, or by the safety net (a phantom
 * reference to the owning Java object, polled by one daemon thread: the Java 8 way of what
 * {@code java.lang.ref.Cleaner} does on 9+) when the owner became unreachable without being
 * closed. Calls in progress hold a use count, so a handle closed by another thread (or by the
 * safety net) is freed only after the last of them returns: never a use after free.
 */
final class NativeRef extends PhantomReference<Object> {
    interface Freer {
        void free(Pointer p);
    }

    private static final long CLOSED = 1L << 62;
    private static final ReferenceQueue<Object> QUEUE = new ReferenceQueue<Object>();
    private static final Set<NativeRef> LIVE = Collections.newSetFromMap(new ConcurrentHashMap<NativeRef, Boolean>());
    private static final AtomicLong FREED_BY_SAFETY_NET = new AtomicLong();

    static {
        Thread reaper = new Thread(new Runnable() {
            @Override
            public void run() {
                while (true) {
                    try {
                        Reference<?> ref = QUEUE.remove();
                        if (ref instanceof NativeRef) {
                            NativeRef nativeRef = (NativeRef) ref;
                            if (nativeRef.close()) {
                                FREED_BY_SAFETY_NET.incrementAndGet();
                            }
                        }
                    } catch (InterruptedException e) {
                        // keep serving: this thread lives as long as the class loader
                    } catch (Throwable t) {
                        // a free must never kill the safety net
                    }
                }
            }
        }, "medseal-cleaner");
        reaper.setDaemon(true);
        reaper.start();
    }

    private final Pointer peer;
    private final Freer freer;
    private final String what;
    private final AtomicLong state = new AtomicLong();
    private final AtomicBoolean freed = new AtomicBoolean();
    /** Objects the native side uses through this handle (callbacks, other handles): kept alive until freed. */
    private volatile Object attachment;

    NativeRef(Object owner, Pointer peer, Freer freer, String what) {
        super(owner, QUEUE);
        if (peer == null) {
            throw new IllegalArgumentException("null handle");
        }
        this.peer = peer;
        this.freer = freer;
        this.what = what;
        LIVE.add(this);
    }

    void attach(Object attachment) {
        this.attachment = attachment;
    }

    /** The handle for one call; pair with {@link #release()} in a finally block. */
    Pointer acquire() {
        while (true) {
            long s = state.get();
            if ((s & CLOSED) != 0) {
                throw new IllegalStateException("medseal: this " + what + " is closed");
            }
            if (state.compareAndSet(s, s + 1)) {
                return peer;
            }
        }
    }

    void release() {
        if (state.decrementAndGet() == CLOSED) {
            freeNow();
        }
    }

    boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /** Marks the handle closed; frees it now, or when the last call in progress returns. True the first time. */
    boolean close() {
        while (true) {
            long s = state.get();
            if ((s & CLOSED) != 0) {
                return false;
            }
            if (state.compareAndSet(s, s | CLOSED)) {
                if (s == 0) {
                    freeNow();
                }
                return true;
            }
        }
    }

    private void freeNow() {
        if (freed.compareAndSet(false, true)) {
            LIVE.remove(this);
            clear();
            try {
                freer.free(peer);
            } finally {
                attachment = null;
            }
        }
    }

    /** Handles not yet freed (for tests and leak checks). */
    static int liveCount() {
        return LIVE.size();
    }

    /** Handles the safety net freed since the JVM started. */
    static long freedBySafetyNet() {
        return FREED_BY_SAFETY_NET.get();
    }
}
