package vn.medseal;

/** Key encodings for {@code export} ({@code medseal_key_format}). */
public enum KeyFormat {
    PKCS8_DER(1), PKCS8_PEM(2), PKCS8_V2_DER(3), PKCS8_V2_PEM(4), SPKI_DER(5), SPKI_PEM(6), JWK(7),
    /** Raw private key bytes (Ed25519 seed, P-256 scalar, X25519 scalar; not RSA). */
    RAW_PRIVATE(8),
    /** Raw public key bytes (32 bytes for Ed25519/X25519, the 65-byte point for P-256). */
    RAW_PUBLIC(9);

    final int code;

    KeyFormat(int code) {
        this.code = code;
    }

    /** Whether this format holds the private key (its bytes are secret). */
    public boolean isPrivate() {
        return this == PKCS8_DER || this == PKCS8_PEM || this == PKCS8_V2_DER || this == PKCS8_V2_PEM || this == RAW_PRIVATE;
    }
}
