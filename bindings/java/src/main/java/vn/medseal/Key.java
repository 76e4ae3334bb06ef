package vn.medseal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/**
 * A signing or verification key (Ed25519, P-256, RSA) bound to one algorithm. Immutable: share it
 * between threads. Signers and verifiers keep their own reference, so it may be closed before them.
 */
public final class Key extends Handle {
    private static final NativeRef.Freer FREE = new NativeRef.Freer() {
        @Override
        public void free(Pointer p) {
            Lib.medseal_key_free(p);
        }
    };

    Key(Pointer peer) {
        super(peer, FREE, "Key");
    }

    static Key take(PointerByReference out) {
        return new Key(out.getValue());
    }

    /** Generates a new private key: {@link Algorithm#EDDSA} or {@link Algorithm#ES256}. */
    public static Key generate(Algorithm alg) {
        PointerByReference out = new PointerByReference();
        Ffi.check(Lib.medseal_key_generate(Ffi.notNull(alg, "alg").code, out));
        return take(out);
    }

    /** Reads a key from PEM, DER (PKCS#8 v1/v2, PKCS#1, SPKI) or JWK, detected from the bytes. RSA keys are RS256. */
    public static Key load(byte[] data) {
        return load(data, null);
    }

    /** As {@link #load(byte[])}; {@code alg} chooses the scheme of an RSA key ({@link Algorithm#PS256} or RS256), or null. */
    public static Key load(byte[] data, Algorithm alg) {
        Ffi.notNull(data, "data");
        PointerByReference out = new PointerByReference();
        Ffi.check(Lib.medseal_key_import(data, Ffi.len(data), alg == null ? 0 : alg.code, out));
        return take(out);
    }

    /** A PEM or JWK text. */
    public static Key load(String text) {
        return load(Ffi.utf8(Ffi.notNull(text, "text")), null);
    }

    /** The key id: the RFC 7638 thumbprint (43 base64url characters). */
    public String kid() {
        Pointer p = ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_key_kid(p, out));
            return Ffi.takeString(out);
        } finally {
            ref.release();
        }
    }

    public Algorithm algorithm() {
        Pointer p = ref.acquire();
        try {
            Memory out = new Memory(4);
            Ffi.check(Lib.medseal_key_algorithm(p, out));
            return Algorithm.fromCode(out.getInt(0));
        } finally {
            ref.release();
        }
    }

    /** Whether the key holds its private half. */
    public boolean hasPrivate() {
        Pointer p = ref.acquire();
        try {
            Memory out = new Memory(4);
            Ffi.check(Lib.medseal_key_has_private(p, out));
            return out.getInt(0) != 0;
        } finally {
            ref.release();
        }
    }

    /** The key in {@code format}; private formats of a public key throw {@code MEDSEAL_KEY_NOT_PRIVATE}. */
    public byte[] export(KeyFormat format) {
        Pointer p = ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_key_export(p, Ffi.notNull(format, "format").code, out));
            return Ffi.takeBuffer(out);
        } finally {
            ref.release();
        }
    }

    /** A new key holding only the public half (same algorithm). */
    public Key publicKey() {
        byte[] spki = export(KeyFormat.SPKI_DER);
        Algorithm alg = algorithm();
        return load(spki, alg == Algorithm.PS256 ? alg : null);
    }

    @Override
    public String toString() {
        return isClosed() ? "Key(closed)" : "Key(" + algorithm() + ", kid=" + kid() + (hasPrivate() ? ", private)" : ")");
    }
}
