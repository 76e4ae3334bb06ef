package vn.medseal;

import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;

/**
 * The JCA bridge: a medseal signer whose private key is any {@link PrivateKey} the JDK can sign
 * with (a PKCS#12 file, a USB token through {@code SunPKCS11}, {@code Windows-MY}, a remote
 * provider), signing through the host-callback ABI with {@link Signature}. medseal checks every
 * signature against the certificate's public key before it writes a JWS.
 *
 * <pre>{@code
 * KeyStore ks = KeyStore.getInstance("PKCS11", sunPkcs11);   // or "PKCS12", "Windows-MY"
 * ks.load(null, pin);
 * PrivateKey key = (PrivateKey) ks.getKey(alias, null);
 * X509Certificate[] chain = ...;                              // ks.getCertificateChain(alias)
 * try (Signer signer = JcaSigner.builder(key, chain).build()) {
 *     byte[] jws = signer.sign(record);
 * }
 * }</pre>
 *
 * Algorithms: EC P-256 keys sign ES256 ({@code SHA256withECDSA}; the DER signature Java gives is
 * accepted), RSA keys RS256 ({@code SHA256withRSA}) or PS256 ({@code RSASSA-PSS} with SHA-256,
 * MGF1-SHA-256, 32-byte salt), Ed25519 keys EdDSA (Java 15+).
 */
public final class JcaSigner {
    private JcaSigner() {}

    /** A signer builder for {@code key} with its chain (the signer's certificate first), the algorithm from the key. */
    public static Signer.Builder builder(PrivateKey key, X509Certificate[] chain) {
        return builder(key, chain, null, null);
    }

    /**
     * A signer builder for {@code key} with its chain; {@code alg} null chooses from the key (RSA:
     * RS256); {@code provider} null lets the JCA choose (a token's key selects its own provider).
     */
    public static Signer.Builder builder(PrivateKey key, X509Certificate[] chain, Algorithm alg, Provider provider) {
        Ffi.notNull(chain, "chain");
        if (chain.length == 0) {
            throw new IllegalArgumentException("the certificate chain is empty: the signer's certificate comes first");
        }
        Signer.Builder builder = builder(key, Ffi.notNull(chain[0], "chain[0]").getPublicKey(), alg, provider);
        return builder.certificateChain(chain);
    }

    /** A signer builder for {@code key} without certificates: {@code publicKey} is what signatures verify with. */
    public static Signer.Builder builder(PrivateKey key, PublicKey publicKey, Algorithm alg, Provider provider) {
        Ffi.notNull(key, "key");
        Ffi.notNull(publicKey, "publicKey");
        Algorithm algorithm = alg != null ? alg : algorithmFor(publicKey);
        Key medsealKey = Key.load(publicKey.getEncoded(), algorithm == Algorithm.PS256 ? Algorithm.PS256 : null);
        if (medsealKey.algorithm() != algorithm) {
            Algorithm found = medsealKey.algorithm();
            medsealKey.close();
            throw new IllegalArgumentException("a " + publicKey.getAlgorithm() + " key signs " + found + ", not " + algorithm);
        }
        return Signer.builder(medsealKey, new JcaHostSigner(key, algorithm, provider));
    }

    /** The JWS algorithm medseal uses for a JCA public key (RSA: RS256). */
    public static Algorithm algorithmFor(PublicKey key) {
        String a = key.getAlgorithm();
        if (a.equals("EC")) {
            return Algorithm.ES256;
        }
        if (a.equals("RSA")) {
            return Algorithm.RS256;
        }
        if (a.equals("RSASSA-PSS")) {
            return Algorithm.PS256;
        }
        if (a.equals("EdDSA") || a.equals("Ed25519")) {
            return Algorithm.EDDSA;
        }
        throw new IllegalArgumentException("medseal does not sign with " + a + " keys (EC P-256, RSA, Ed25519)");
    }

    /** A new {@link Signature} for {@code alg}, parameters set, initialized for signing with {@code key}. */
    public static Signature signature(Algorithm alg, PrivateKey key, Provider provider) throws GeneralSecurityException {
        switch (alg) {
            case ES256:
                return init(instance("SHA256withECDSA", provider), key);
            case RS256:
                return init(instance("SHA256withRSA", provider), key);
            case EDDSA:
                return init(instance("Ed25519", provider), key);
            default: {
                PSSParameterSpec pss = new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1);
                Signature s;
                try {
                    s = instance("RSASSA-PSS", provider);
                } catch (NoSuchAlgorithmException e) {
                    // Java 8 before 8u231, and some token providers: the older name.
                    return init(instance("SHA256withRSAandMGF1", provider), key);
                }
                try {
                    s.setParameter(pss);
                    s.initSign(key);
                } catch (GeneralSecurityException | RuntimeException e) {
                    // Providers that take the parameters only once a key is known.
                    s = instance("RSASSA-PSS", provider);
                    s.initSign(key);
                    s.setParameter(pss);
                }
                return s;
            }
        }
    }

    private static Signature instance(String name, Provider provider) throws NoSuchAlgorithmException {
        return provider == null ? Signature.getInstance(name) : Signature.getInstance(name, provider);
    }

    private static Signature init(Signature s, PrivateKey key) throws GeneralSecurityException {
        s.initSign(key);
        return s;
    }

    private static final class JcaHostSigner implements HostSigner {
        private final PrivateKey key;
        private final Algorithm alg;
        private final Provider provider;

        JcaHostSigner(PrivateKey key, Algorithm alg, Provider provider) {
            this.key = key;
            this.alg = alg;
            this.provider = provider;
        }

        @Override
        public byte[] sign(byte[] signingInput) throws GeneralSecurityException {
            // A Signature is not thread-safe: one per call (signers are shared between threads).
            Signature s = signature(alg, key, provider);
            s.update(signingInput);
            return s.sign();
        }
    }
}
