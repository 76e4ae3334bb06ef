package vn.medseal;

/**
 * A signing function that lives in the host (a Java KeyStore, a token through SunPKCS11, a
 * remote-signing service): see {@link Signer#builder(Key, HostSigner)} and {@link JcaSigner}.
 */
public interface HostSigner {
    /**
     * Signs {@code signingInput} exactly as given (the JWS signing input; hash it with SHA-256 as the
     * algorithm says: RS256 = SHA256withRSA, PS256 = RSASSA-PSS with MGF1-SHA-256 and a 32-byte salt,
     * ES256 = SHA256withECDSA (DER or raw r||s), EdDSA = Ed25519). At most
     * {@link Signer#maxSignatureBytes()} bytes. An exception thrown here is rethrown from
     * {@link Signer#sign} (a checked one wrapped in a {@link SignerException}, as its cause).
     */
    byte[] sign(byte[] signingInput) throws Exception;
}
