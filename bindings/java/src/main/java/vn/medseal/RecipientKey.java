package vn.medseal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.ByteBuffer;

/**
 * An HPKE recipient key (X25519): private (opens envelopes) or public (envelopes are sealed to
 * it). Immutable: share it between threads.
 */
public final class RecipientKey extends Handle {
    private static final NativeRef.Freer FREE = new NativeRef.Freer() {
        @Override
        public void free(Pointer p) {
            Lib.medseal_recipient_key_free(p);
        }
    };

    private RecipientKey(Pointer peer) {
        super(peer, FREE, "RecipientKey");
    }

    private static RecipientKey take(PointerByReference out) {
        return new RecipientKey(out.getValue());
    }

    /** Generates a new private X25519 key. */
    public static RecipientKey generate() {
        PointerByReference out = new PointerByReference();
        Ffi.check(Lib.medseal_recipient_key_generate(out));
        return take(out);
    }

    /** Reads an X25519 key from PEM, DER (PKCS#8, SPKI) or JWK. */
    public static RecipientKey load(byte[] data) {
        Ffi.notNull(data, "data");
        PointerByReference out = new PointerByReference();
        Ffi.check(Lib.medseal_recipient_key_import(data, Ffi.len(data), out));
        return take(out);
    }

    public static RecipientKey load(String text) {
        return load(Ffi.utf8(Ffi.notNull(text, "text")));
    }

    /** A key from its 32 raw bytes: the private scalar ({@code isPrivate}) or the public u-coordinate. */
    public static RecipientKey fromRaw(byte[] raw, boolean isPrivate) {
        Ffi.notNull(raw, "raw");
        PointerByReference out = new PointerByReference();
        Ffi.check(Lib.medseal_recipient_key_from_raw(raw, Ffi.len(raw),
                isPrivate ? KeyFormat.RAW_PRIVATE.code : KeyFormat.RAW_PUBLIC.code, out));
        return take(out);
    }

    /** The key id (RFC 7638 thumbprint); envelopes name their recipients by it. */
    public String kid() {
        Pointer p = ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_recipient_key_kid(p, out));
            return Ffi.takeString(out);
        } finally {
            ref.release();
        }
    }

    public boolean hasPrivate() {
        Pointer p = ref.acquire();
        try {
            Memory out = new Memory(4);
            Ffi.check(Lib.medseal_recipient_key_has_private(p, out));
            return out.getInt(0) != 0;
        } finally {
            ref.release();
        }
    }

    public byte[] export(KeyFormat format) {
        Pointer p = ref.acquire();
        try {
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_recipient_key_export(p, Ffi.notNull(format, "format").code, out));
            return Ffi.takeBuffer(out);
        } finally {
            ref.release();
        }
    }

    /** A new key holding only the public half. */
    public RecipientKey publicKey() {
        return fromRaw(export(KeyFormat.RAW_PUBLIC), false);
    }

    /** Decodes and opens an envelope (JSON or protobuf); returns the plaintext. */
    public byte[] open(byte[] envelope) {
        try (Envelope e = Envelope.decode(envelope)) {
            return e.open(this);
        }
    }

    /** The plaintext's exact length, for {@link #openInto}, without decrypting. */
    public long plaintextSize(byte[] envelope) {
        Ffi.notNull(envelope, "envelope");
        Pointer p = ref.acquire();
        try {
            Memory written = Ffi.sizeOut();
            int rc = Lib.medseal_recipient_key_open_into(p, envelope, Ffi.len(envelope), null, new SizeT(0), written);
            if (rc == Ffi.BUFFER_TOO_SMALL) {
                return Ffi.sizeAt(written);
            }
            Ffi.check(rc);
            return Ffi.sizeAt(written);
        } finally {
            ref.release();
        }
    }

    /**
     * Opens {@code envelope} straight into {@code out} (a direct buffer; from its position, up to its
     * limit): no copy of the plaintext is made by the library or by Java. Returns the plaintext's
     * length and advances the position by it. Both buffers must be direct.
     */
    public int openInto(ByteBuffer envelope, ByteBuffer out) {
        requireDirect(envelope, "envelope");
        requireDirect(out, "out");
        Pointer p = ref.acquire();
        try {
            ByteBuffer in = envelope.slice();
            ByteBuffer target = out.slice();
            Memory written = Ffi.sizeOut();
            Ffi.check(Lib.medseal_recipient_key_open_into(p, in, new SizeT(in.remaining()), target,
                    new SizeT(target.remaining()), written));
            int n = (int) Ffi.sizeAt(written);
            out.position(out.position() + n);
            return n;
        } finally {
            ref.release();
        }
    }

    /** Opens the envelope and verifies the signed record inside with {@code verifier}, as the hub does. */
    public Verified openVerified(byte[] envelope, Verifier verifier) {
        try (Envelope e = Envelope.decode(envelope)) {
            return e.openVerified(this, verifier);
        }
    }

    static void requireDirect(ByteBuffer b, String name) {
        if (!Ffi.notNull(b, name).isDirect()) {
            throw new IllegalArgumentException(name + " must be a direct ByteBuffer (ByteBuffer.allocateDirect)");
        }
    }

    @Override
    public String toString() {
        return isClosed() ? "RecipientKey(closed)" : "RecipientKey(X25519, kid=" + kid() + (hasPrivate() ? ", private)" : ")");
    }
}
