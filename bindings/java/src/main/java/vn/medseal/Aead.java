package vn.medseal;

/** AEADs for sealed envelopes (RFC 9180 ids); the KEM is DHKEM(X25519, HKDF-SHA256). */
public enum Aead {
    /** AES-256-GCM, the default. */
    AES_256_GCM(2),
    /** ChaCha20-Poly1305, for hosts without AES instructions. */
    CHACHA20_POLY1305(3);

    final int code;

    Aead(int code) {
        this.code = code;
    }
}
