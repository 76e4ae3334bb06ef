package vn.medseal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * medseal for Java: canonical JSON (RFC 8785), JWS/JAdES signatures, HPKE sealed envelopes and
 * submission to a hub. This class holds the library-wide functions; see {@link Key},
 * {@link Signer}, {@link Verifier}, {@link RecipientKey}, {@link Envelope}, {@link Outbox}.
 *
 * <p>The native library is loaded on first use: the copy inside this jar (extracted to a private
 * directory) or the file named by the system property {@code medseal.library.path}. Its ABI
 * version must be {@link #ABI_VERSION}.
 */
public final class Medseal {
    private Medseal() {}

    /** The ABI version this binding was written for (checked against the library at load). */
    public static final int ABI_VERSION = 1;

    /** The version of this binding. */
    public static final String VERSION = "0.1.0";

    /** Loads the library now (it is otherwise loaded on first use); throws {@link UnsatisfiedLinkError} if it cannot. */
    public static void load() {
        libraryPath();
    }

    /** The library's version, e.g. {@code "0.1.0"}. */
    public static String libraryVersion() {
        return Lib.medseal_library_version();
    }

    /** The ABI version of the loaded library. */
    public static int libraryAbiVersion() {
        return Lib.medseal_abi_version();
    }

    /** Where the loaded library came from. */
    public static String libraryPath() {
        return Lib.PATH;
    }

    /** Canonicalizes the JSON document (RFC 8785 with the medseal policies: strict unless options say otherwise). */
    public static byte[] canonicalize(byte[] json, CanonOption... options) {
        Ffi.notNull(json, "json");
        PointerByReference out = new PointerByReference();
        Ffi.check(Lib.medseal_json_canonicalize(json, Ffi.len(json), CanonOption.flags(options), out));
        return Ffi.takeBuffer(out);
    }

    /** Canonicalizes JSON text. */
    public static byte[] canonicalize(String json, CanonOption... options) {
        return canonicalize(Ffi.utf8(Ffi.notNull(json, "json")), options);
    }

    /** Seals {@code plaintext} to {@code recipients} (AES-256-GCM, protobuf). */
    public static byte[] seal(byte[] plaintext, Meta meta, List<RecipientKey> recipients) {
        return seal(plaintext, meta, recipients, Aead.AES_256_GCM, EnvelopeEncoding.PROTOBUF);
    }

    /** Seals {@code plaintext} to {@code recipients} (1 to 16, public keys suffice), binding {@code meta}. */
    public static byte[] seal(byte[] plaintext, Meta meta, List<RecipientKey> recipients, Aead aead, EnvelopeEncoding encoding) {
        Ffi.notNull(plaintext, "plaintext");
        Ffi.notNull(meta, "meta");
        Ffi.notNull(recipients, "recipients");
        Ffi.notNull(aead, "aead");
        Ffi.notNull(encoding, "encoding");
        Pointer[] acquired = new Pointer[recipients.size()];
        Pointer m = null;
        try {
            Memory array = Ffi.pointerArray(recipients, acquired);
            m = meta.toNative();
            PointerByReference out = new PointerByReference();
            Ffi.check(Lib.medseal_envelope_seal(plaintext, Ffi.len(plaintext), m, recipients.isEmpty() ? null : array,
                    new SizeT(recipients.size()), aead.code, encoding.code, out));
            return Ffi.takeBuffer(out);
        } finally {
            if (m != null) {
                Lib.medseal_meta_free(m);
            }
            Ffi.releaseAll(recipients, acquired);
        }
    }

    /** The exact length of the protobuf envelope {@link #sealInto} writes (no cryptography). */
    public static long sealedSize(long plaintextLength, Meta meta, List<RecipientKey> recipients) {
        Ffi.notNull(meta, "meta");
        Ffi.notNull(recipients, "recipients");
        Pointer[] acquired = new Pointer[recipients.size()];
        Pointer m = null;
        try {
            Memory array = Ffi.pointerArray(recipients, acquired);
            m = meta.toNative();
            Memory written = Ffi.sizeOut();
            // The size query reads only the length of the plaintext, never its bytes.
            ByteBuffer none = ByteBuffer.allocateDirect(1);
            int rc = Lib.medseal_envelope_seal_into(none, new SizeT(plaintextLength), m, recipients.isEmpty() ? null : array,
                    new SizeT(recipients.size()), Aead.AES_256_GCM.code, null, new SizeT(0), written);
            if (rc != Ffi.BUFFER_TOO_SMALL) {
                Ffi.check(rc);
            }
            return Ffi.sizeAt(written);
        } finally {
            if (m != null) {
                Lib.medseal_meta_free(m);
            }
            Ffi.releaseAll(recipients, acquired);
        }
    }

    /**
     * Seals the bytes of {@code plaintext} (a direct buffer, position to limit) into {@code out} (a
     * direct buffer, from its position; room for {@link #sealedSize}): protobuf, the record copied
     * once, into {@code out}, and encrypted there. Returns the envelope's length and advances
     * {@code out}'s position by it.
     */
    public static int sealInto(ByteBuffer plaintext, Meta meta, List<RecipientKey> recipients, Aead aead, ByteBuffer out) {
        RecipientKey.requireDirect(plaintext, "plaintext");
        RecipientKey.requireDirect(out, "out");
        Ffi.notNull(meta, "meta");
        Ffi.notNull(recipients, "recipients");
        Ffi.notNull(aead, "aead");
        Pointer[] acquired = new Pointer[recipients.size()];
        Pointer m = null;
        try {
            Memory array = Ffi.pointerArray(recipients, acquired);
            m = meta.toNative();
            ByteBuffer in = plaintext.slice();
            ByteBuffer target = out.slice();
            Memory written = Ffi.sizeOut();
            Ffi.check(Lib.medseal_envelope_seal_into(in, new SizeT(in.remaining()), m, recipients.isEmpty() ? null : array,
                    new SizeT(recipients.size()), aead.code, target, new SizeT(target.remaining()), written));
            int n = (int) Ffi.sizeAt(written);
            out.position(out.position() + n);
            return n;
        } finally {
            if (m != null) {
                Lib.medseal_meta_free(m);
            }
            Ffi.releaseAll(recipients, acquired);
        }
    }

    /** Handles not yet freed in this JVM (for leak checks). */
    public static int liveHandles() {
        return NativeRef.liveCount();
    }
}
