package vn.medseal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;

/** The result of a successful verification (an immutable copy; nothing to close). */
public final class Verified {
    private final byte[] payload;
    private final String kid;
    private final Algorithm algorithm;
    private final String signingTimeText;
    private final TrustedBy trustedBy;
    private final String signer;
    private final byte[] headerJson;

    private Verified(byte[] payload, String kid, Algorithm algorithm, String signingTimeText, TrustedBy trustedBy,
            String signer, byte[] headerJson) {
        this.payload = payload;
        this.kid = kid;
        this.algorithm = algorithm;
        this.signingTimeText = signingTimeText;
        this.trustedBy = trustedBy;
        this.signer = signer;
        this.headerJson = headerJson;
    }

    /** Reads a medseal_verified and frees it (its payload is zeroized). */
    static Verified take(PointerByReference out) {
        Pointer v = out.getValue();
        try {
            PointerByReference data = new PointerByReference();
            Memory len = Ffi.sizeOut();
            Ffi.check(Lib.medseal_verified_payload(v, data, len));
            byte[] payload = Ffi.borrowed(data, len);
            Ffi.check(Lib.medseal_verified_key_id(v, data, len));
            String kid = new String(Ffi.borrowed(data, len), StandardCharsets.UTF_8);
            Ffi.check(Lib.medseal_verified_signing_time(v, data, len));
            String sigT = new String(Ffi.borrowed(data, len), StandardCharsets.UTF_8);
            Ffi.check(Lib.medseal_verified_header(v, data, len));
            byte[] header = Ffi.borrowed(data, len);
            Ffi.check(Lib.medseal_verified_signer(v, data, len));
            String signer = new String(Ffi.borrowed(data, len), StandardCharsets.UTF_8);
            Memory u = new Memory(4);
            Ffi.check(Lib.medseal_verified_algorithm(v, u));
            Algorithm alg = Algorithm.fromCode(u.getInt(0));
            Ffi.check(Lib.medseal_verified_trusted_by(v, u));
            TrustedBy by = TrustedBy.fromCode(u.getInt(0));
            return new Verified(payload, kid, alg, sigT, by, signer, header);
        } finally {
            Lib.medseal_verified_free(v);
        }
    }

    /** The verified payload: for medseal records, the canonical JSON. */
    public byte[] payload() {
        return payload.clone();
    }

    /** The payload as UTF-8 text. */
    public String payloadText() {
        return new String(payload, StandardCharsets.UTF_8);
    }

    /** The thumbprint (kid) of the key that verified. */
    public String kid() {
        return kid;
    }

    public Algorithm algorithm() {
        return algorithm;
    }

    /** The JAdES {@code sigT} as written (RFC 3339 UTC), or "" if none. */
    public String signingTimeText() {
        return signingTimeText;
    }

    /** The JAdES {@code sigT}, or null if none. */
    public Instant signingTime() {
        return signingTimeText.isEmpty() ? null : Instant.from(DateTimeFormatter.ISO_INSTANT.parse(signingTimeText));
    }

    public TrustedBy trustedBy() {
        return trustedBy;
    }

    /** Who signed, as trusted: certificate subject (RFC 4514), trust-list facility, or "" for a key. */
    public String signer() {
        return signer;
    }

    /** The protected header as canonical JSON. */
    public byte[] headerJson() {
        return headerJson.clone();
    }

    /** The line every interop driver prints: {@code valid kid=... alg=... sigT=...}. */
    @Override
    public String toString() {
        return "valid kid=" + kid + " alg=" + algorithm.jwsName() + " sigT=" + signingTimeText;
    }
}
