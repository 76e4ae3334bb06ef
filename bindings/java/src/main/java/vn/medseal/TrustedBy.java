package vn.medseal;

/** What made a verified signer trusted. */
public enum TrustedBy {
    /** A key given to the verifier. */
    KEY,
    /** An {@code x5c} chain that validated to a trust anchor at {@code sigT}. */
    CERTIFICATE,
    /** A trust-list entry whose window contains {@code sigT}. */
    TRUST_LIST;

    static TrustedBy fromCode(int code) {
        switch (code) {
            case 1: return KEY;
            case 2: return CERTIFICATE;
            case 3: return TRUST_LIST;
            default: throw new IllegalStateException("medseal returned unknown trusted-by kind " + code);
        }
    }
}
