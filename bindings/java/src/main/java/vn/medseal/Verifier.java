package vn.medseal;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Verifies JWS against trusted keys, certificate anchors and a trust list. Immutable: share it between threads. */
public final class Verifier extends Handle {
    private static final NativeRef.Freer FREE = new NativeRef.Freer() {
        @Override
        public void free(Pointer p) {
            Lib.medseal_verifier_free(p);
        }
    };

    private Verifier(Pointer peer) {
        super(peer, FREE, "Verifier");
    }

    /** A verifier trusting {@code keys} (their public halves). */
    public Verifier(Key... keys) {
        this(builder().addKeys(Arrays.asList(keys)).buildPeer());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Collects keys, anchors, a trust list and canonicalization options; {@link #build()} makes the verifier. */
    public static final class Builder {
        private final List<Key> keys = new ArrayList<Key>();
        private final List<byte[]> anchors = new ArrayList<byte[]>();
        private TrustList trustList;
        private int flags;

        private Builder() {}

        public Builder addKey(Key key) {
            keys.add(Ffi.notNull(key, "key"));
            return this;
        }

        public Builder addKeys(Iterable<Key> keys) {
            for (Key k : keys) {
                addKey(k);
            }
            return this;
        }

        /** Trusts the CA certificates in {@code pem} (or one DER certificate) for {@code x5c} chains. */
        public Builder addTrustAnchors(byte[] pemOrDer) {
            anchors.add(Ffi.notNull(pemOrDer, "anchors").clone());
            return this;
        }

        public Builder addTrustAnchors(String pem) {
            return addTrustAnchors(pem.getBytes(StandardCharsets.UTF_8));
        }

        /** Trusts the record-signing keys of a verified trust list (each within its window). */
        public Builder trustList(TrustList list) {
            this.trustList = list;
            return this;
        }

        /** Canonicalization options for detached payloads given as documents. */
        public Builder canon(CanonOption... options) {
            this.flags = CanonOption.flags(options);
            return this;
        }

        Pointer buildPeer() {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_verifier_builder_new(out));
            Pointer b = out.getValue();
            try {
                for (Key k : keys) {
                    Pointer kp = k.ref.acquire();
                    try {
                        Ffi.check(Lib.medseal_verifier_builder_add_key(b, kp));
                    } finally {
                        k.ref.release();
                    }
                }
                for (byte[] a : anchors) {
                    Ffi.check(Lib.medseal_verifier_builder_add_trust_anchors(b, a, Ffi.len(a)));
                }
                if (trustList != null) {
                    Pointer lp = trustList.ref.acquire();
                    try {
                        Ffi.check(Lib.medseal_verifier_builder_set_trust_list(b, lp));
                    } finally {
                        trustList.ref.release();
                    }
                }
                Ffi.check(Lib.medseal_verifier_builder_set_canon_flags(b, flags));
                PointerByReference v = new PointerByReference();
                Ffi.check(Lib.medseal_verifier_builder_build(b, v));
                return v.getValue();
            } finally {
                Lib.medseal_verifier_builder_free(b);
            }
        }

        /** Builds the verifier; {@code MEDSEAL_JWS_NO_KEYS} if nothing to trust was given. */
        public Verifier build() {
            return new Verifier(buildPeer());
        }
    }

    /**
     * Verifies a compact or JSON JWS that carries its payload, whatever it signs (a record, a
     * receipt, a trust list...). For medseal records use {@link #verifyRecord(byte[])}.
     */
    public Verified verify(byte[] jws) {
        Ffi.notNull(jws, "jws");
        Pointer p = ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_verifier_verify(p, jws, Ffi.len(jws), out));
            return Verified.take(out);
        } finally {
            ref.release();
        }
    }

    public Verified verify(String jws) {
        return verify(Ffi.utf8(Ffi.notNull(jws, "jws")));
    }

    /**
     * Verifies a medseal record: as {@link #verify(byte[])}, and the JWS must also be a record
     * ({@code typ} {@code medseal+jws}, a {@code sigT}, a canonical JSON payload), else a
     * {@link JwsException} {@code MEDSEAL_JWS_HEADER} or {@code MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL}.
     * A receipt or a trust list signed by a trusted key verifies with {@code verify} but is not a
     * record: use this method wherever a record is expected.
     */
    public Verified verifyRecord(byte[] jws) {
        Ffi.notNull(jws, "jws");
        Pointer p = ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_verifier_verify_record(p, jws, Ffi.len(jws), out));
            return Verified.take(out);
        } finally {
            ref.release();
        }
    }

    public Verified verifyRecord(String jws) {
        return verifyRecord(Ffi.utf8(Ffi.notNull(jws, "jws")));
    }

    /**
     * Verifies a detached JWS against {@code payload}: the exact signed bytes, or with
     * {@code document} true a JSON document canonicalized with the verifier's options.
     */
    public Verified verifyDetached(byte[] jws, byte[] payload, boolean document) {
        Ffi.notNull(jws, "jws");
        Ffi.notNull(payload, "payload");
        Pointer p = ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_verifier_verify_detached(p, jws, Ffi.len(jws), payload, Ffi.len(payload), document ? 2 : 1, out));
            return Verified.take(out);
        } finally {
            ref.release();
        }
    }
}
