package vn.medseal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.time.Instant;

/** A verified, fresh trust list (docs/TRUST_LISTS.md). Immutable: share it between threads. */
public final class TrustList extends Handle {
    private static final NativeRef.Freer FREE = new NativeRef.Freer() {
        @Override
        public void free(Pointer p) {
            Lib.medseal_trust_list_free(p);
        }
    };

    private TrustList(Pointer peer) {
        super(peer, FREE, "TrustList");
    }

    /** Verifies a signed trust list with the trust-list key, now, accepting any sequence. */
    public static TrustList verify(byte[] jws, Key listKey) {
        return verify(jws, listKey, Instant.now(), 0);
    }

    /**
     * Verifies a signed trust list with the trust-list key at time {@code now}, refusing lists with
     * a sequence below {@code minSequence} (the highest seen so far, or 0).
     */
    public static TrustList verify(byte[] jws, Key listKey, Instant now, long minSequence) {
        Ffi.notNull(jws, "jws");
        Ffi.notNull(listKey, "listKey");
        Pointer k = listKey.ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_trust_list_verify(jws, Ffi.len(jws), k, Ffi.notNull(now, "now").getEpochSecond(), minSequence, out));
            return new TrustList(out.getValue());
        } finally {
            listKey.ref.release();
        }
    }

    /** Checks an unsigned trust list (JSON) and signs it with the trust-list key (private); returns the JWS. */
    public static byte[] sign(byte[] json, Key key) {
        Ffi.notNull(json, "json");
        Ffi.notNull(key, "key");
        Pointer k = key.ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_trust_list_sign(json, Ffi.len(json), k, out));
            return Ffi.takeBuffer(out);
        } finally {
            key.ref.release();
        }
    }

    public long sequence() {
        Pointer p = ref.acquire();
        try {
            Memory out = new Memory(8);
            Ffi.check(Lib.medseal_trust_list_sequence(p, out));
            return out.getLong(0);
        } finally {
            ref.release();
        }
    }

    public Instant expires() {
        Pointer p = ref.acquire();
        try {
            Memory out = new Memory(8);
            Ffi.check(Lib.medseal_trust_list_expires(p, out));
            return Instant.ofEpochSecond(out.getLong(0));
        } finally {
            ref.release();
        }
    }

    public long entryCount() {
        Pointer p = ref.acquire();
        try {
            Memory out = Ffi.sizeOut();
            Ffi.check(Lib.medseal_trust_list_entry_count(p, out));
            return Ffi.sizeAt(out);
        } finally {
            ref.release();
        }
    }
}
