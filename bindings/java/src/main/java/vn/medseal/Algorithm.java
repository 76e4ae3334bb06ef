package vn.medseal;

/** JWS algorithms ({@code medseal_alg}). */
public enum Algorithm {
    /** Ed25519. */
    EDDSA("EdDSA", 1),
    /** ECDSA P-256 with SHA-256. */
    ES256("ES256", 2),
    /** RSASSA-PKCS1-v1_5 with SHA-256. */
    RS256("RS256", 3),
    /** RSASSA-PSS with SHA-256 (MGF1-SHA-256, 32-byte salt). */
    PS256("PS256", 4);

    private final String jwsName;
    final int code;

    Algorithm(String jwsName, int code) {
        this.jwsName = jwsName;
        this.code = code;
    }

    /** The JWS {@code alg} name, e.g. {@code "EdDSA"}. */
    public String jwsName() {
        return jwsName;
    }

    @Override
    public String toString() {
        return jwsName;
    }

    /** The algorithm named {@code name} ({@code "EdDSA"}, {@code "ES256"}, ...; the enum names too). */
    public static Algorithm fromName(String name) {
        for (Algorithm a : values()) {
            if (a.jwsName.equals(name) || a.name().equals(name)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown algorithm " + name + " (EdDSA, ES256, RS256 or PS256)");
    }

    static Algorithm fromCode(int code) {
        for (Algorithm a : values()) {
            if (a.code == code) {
                return a;
            }
        }
        throw new IllegalStateException("medseal returned unknown algorithm " + code);
    }
}
