package vn.medseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vn.medseal.TestSupport.assertMedseal;
import static vn.medseal.TestSupport.pki;
import static vn.medseal.TestSupport.read;
import static vn.medseal.TestSupport.str;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JCA bridge: keys in a PKCS#12 file and on a SoftHSM2 token through SunPKCS11. */
class JcaSignerTest {
    static final byte[] PATIENT = SignTest.PATIENT;
    static final Instant T = SignTest.T;
    static final char[] PASSWORD = "changeit-test".toCharArray();

    /** Signs with {@code key} through the bridge and checks the JWS with medseal (anchored at the test root) and with the JDK. */
    static void signAndCheck(PrivateKey key, X509Certificate[] chain, Algorithm alg, Provider provider) throws Exception {
        try (Signer signer = JcaSigner.builder(key, chain, alg, provider).signingTime(T).build();
                Verifier anchored = Verifier.builder().addTrustAnchors(read(pki("root.pem"))).build();
                Key publicKey = Key.load(chain[0].getPublicKey().getEncoded(), alg == Algorithm.PS256 ? alg : null);
                Verifier byKey = new Verifier(publicKey)) {
            String compact = str(signer.sign(PATIENT, JwsFormat.COMPACT));
            Verified v = anchored.verify(compact);
            assertEquals(TrustedBy.CERTIFICATE, v.trustedBy());
            assertEquals(alg, v.algorithm());
            assertTrue(v.signer().contains("CN="), v.signer());
            assertArrayEquals(Medseal.canonicalize(PATIENT), v.payload());
            assertEquals(alg, byKey.verify(signer.sign(PATIENT)).algorithm());
            assertTrue(Jca.jdkVerifies(compact, chain[0].getPublicKey(), alg), alg + " rejected by the JDK's Signature");
            // the JDK rejects a tampered one too: the check above can fail
            String tampered = compact.substring(0, compact.length() - 4) + (compact.endsWith("AAAA") ? "BBBB" : "AAAA");
            assertFalse(Jca.jdkVerifies(tampered, chain[0].getPublicKey(), alg));
            String header = SignTest.header(compact.getBytes("US-ASCII"));
            assertTrue(header.contains("\"x5c\":[\""), header);
            assertTrue(header.contains("\"alg\":\"" + alg.jwsName() + "\""), header);
        }
    }

    /** A PKCS#12 file made with the JDK from the fixture keys and chains, then read back. */
    static KeyStore pkcs12(Path dir) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("ec", Jca.privateKey(pki("signer-ec.key"), "EC"), PASSWORD, Jca.chain(pki("signer-ec-chain.pem")));
        ks.setKeyEntry("rsa", Jca.privateKey(pki("signer-rsa.key"), "RSA"), PASSWORD, Jca.chain(pki("signer-rsa-chain.pem")));
        Path file = dir.resolve("hospital.p12");
        try (OutputStream out = new FileOutputStream(file.toFile())) {
            ks.store(out, PASSWORD);
        }
        KeyStore loaded = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(file.toFile())) {
            loaded.load(in, PASSWORD);
        }
        return loaded;
    }

    static X509Certificate[] chainOf(KeyStore ks, String alias) throws Exception {
        Certificate[] certs = ks.getCertificateChain(alias);
        return Arrays.copyOf(certs, certs.length, X509Certificate[].class);
    }

    @Test
    void pkcs12File(@TempDir Path tmp) throws Exception {
        KeyStore ks = pkcs12(tmp);
        PrivateKey ec = (PrivateKey) ks.getKey("ec", PASSWORD);
        PrivateKey rsa = (PrivateKey) ks.getKey("rsa", PASSWORD);
        assertEquals(2, chainOf(ks, "ec").length);
        signAndCheck(ec, chainOf(ks, "ec"), Algorithm.ES256, null);
        signAndCheck(rsa, chainOf(ks, "rsa"), Algorithm.RS256, null);
        signAndCheck(rsa, chainOf(ks, "rsa"), Algorithm.PS256, null);
        // algorithm from the key
        try (Signer s = JcaSigner.builder(ec, chainOf(ks, "ec")).build()) {
            try (Key pub = s.publicKey()) {
                assertEquals(Algorithm.ES256, pub.algorithm());
            }
        }
        assertEquals(Algorithm.RS256, JcaSigner.algorithmFor(chainOf(ks, "rsa")[0].getPublicKey()));
    }

    @Test
    void bridgeErrors(@TempDir Path tmp) throws Exception {
        KeyStore ks = pkcs12(tmp);
        PrivateKey ec = (PrivateKey) ks.getKey("ec", PASSWORD);
        PrivateKey rsa = (PrivateKey) ks.getKey("rsa", PASSWORD);
        // a key that does not match the certificate: medseal refuses what the JDK signed
        try (Signer wrong = JcaSigner.builder(rsa, chainOf(ks, "rsa"), Algorithm.RS256, null).build();
                Signer mismatched = JcaSigner.builder(Jca.privateKey(pki("signer-past.key"), "EC"), chainOf(ks, "ec"), null, null).build()) {
            assertEquals(Algorithm.RS256, wrong.publicKey().algorithm());
            assertMedseal(SignerException.class, "MEDSEAL_SIGNER_BAD_SIGNATURE", () -> mismatched.sign(PATIENT));
        }
        // an RSA key asked to sign ES256, an empty chain
        assertThrows(IllegalArgumentException.class, () -> JcaSigner.builder(rsa, chainOf(ks, "rsa"), Algorithm.ES256, null));
        assertThrows(IllegalArgumentException.class, () -> JcaSigner.builder(ec, new X509Certificate[0]));
        // a provider that cannot sign with this key: the JDK's exception, wrapped, comes out of sign
        try (Signer s = JcaSigner.builder(ec, chainOf(ks, "ec"), null, java.security.Security.getProvider("SunRsaSign")).build()) {
            SignerException e = assertMedseal(SignerException.class, "MEDSEAL_SIGNER_FAILED", () -> s.sign(PATIENT));
            assertTrue(e.getCause() instanceof java.security.GeneralSecurityException, String.valueOf(e.getCause()));
        }
    }

    @Test
    void softHsmTokenThroughSunPkcs11(@TempDir Path tmp) throws Exception {
        Provider p11 = Jca.sunPkcs11(tmp);
        char[] pin = TestSupport.env("MEDSEAL_TEST_PKCS11_PIN").toCharArray();
        KeyStore token = KeyStore.getInstance("PKCS11", p11);
        token.load(null, pin);
        // Put the fixture keys on the token with their chains, as a CA's enrolment tool would (key and
        // certificate objects with one CKA_ID), then read them back as token keys.
        token.setKeyEntry("java-ec", Jca.privateKey(pki("signer-ec.key"), "EC"), null, Jca.chain(pki("signer-ec-chain.pem")));
        token.setKeyEntry("java-rsa", Jca.privateKey(pki("signer-rsa.key"), "RSA"), null, Jca.chain(pki("signer-rsa-chain.pem")));
        KeyStore reopened = KeyStore.getInstance("PKCS11", p11);
        reopened.load(null, pin);
        PrivateKey ec = (PrivateKey) reopened.getKey("java-ec", null);
        PrivateKey rsa = (PrivateKey) reopened.getKey("java-rsa", null);
        // These are handles to objects on the token, signed with by SoftHSM2 itself.
        assertTrue(ec.getClass().getName().startsWith("sun.security.pkcs11."), ec.getClass().getName());
        assertTrue(rsa.getClass().getName().startsWith("sun.security.pkcs11."), rsa.getClass().getName());
        assertEquals(2, chainOf(reopened, "java-ec").length);
        signAndCheck(ec, chainOf(reopened, "java-ec"), Algorithm.ES256, p11);
        signAndCheck(rsa, chainOf(reopened, "java-rsa"), Algorithm.RS256, p11);
        signAndCheck(rsa, chainOf(reopened, "java-rsa"), Algorithm.PS256, p11);
        // With the provider installed and left to the JCA, the token key selects SunPKCS11 by itself.
        java.security.Security.addProvider(p11);
        try {
            signAndCheck(ec, chainOf(reopened, "java-ec"), Algorithm.ES256, null);
        } finally {
            java.security.Security.removeProvider(p11.getName());
        }
    }
}
