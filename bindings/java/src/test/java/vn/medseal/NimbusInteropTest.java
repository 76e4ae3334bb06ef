package vn.medseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import java.security.KeyFactory;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Collections;
import java.util.HashSet;
import org.junit.jupiter.api.Test;

/** Interop with an independent JOSE library (Nimbus JOSE+JWT), both ways. */
class NimbusInteropTest {
    static final byte[] PATIENT = SignTest.PATIENT;

    @Test
    void nimbusVerifiesMedsealEs256AndRs256() throws Exception {
        try (Key ec = Key.generate(Algorithm.ES256); Signer signer = Signer.builder(ec).signingTime(SignTest.T).build()) {
            String compact = TestSupport.str(signer.sign(PATIENT, JwsFormat.COMPACT));
            JWSObject jws = JWSObject.parse(compact);
            assertEquals(JWSAlgorithm.ES256, jws.getHeader().getAlgorithm());
            assertEquals("medseal+jws", jws.getHeader().getType().getType());
            ECPublicKey pub = (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(ec.export(KeyFormat.SPKI_DER)));
            // sigT is a critical JAdES header: Nimbus is told it is understood (deferred to medseal's checks).
            assertTrue(jws.verify(new ECDSAVerifier(pub, new HashSet<String>(Collections.singletonList("sigT")))));
            assertFalse(jws.verify(new ECDSAVerifier(pub)), "Nimbus must refuse an unknown crit header when not told");
            assertArrayEquals(Medseal.canonicalize(PATIENT), jws.getPayload().toBytes());
        }
        byte[] rsaPem = TestSupport.read(TestSupport.pki("signer-rsa.key"));
        try (Key rsa = Key.load(rsaPem); Signer signer = new Signer(rsa)) {
            JWSObject jws = JWSObject.parse(TestSupport.str(signer.sign(PATIENT, JwsFormat.COMPACT)));
            RSAPublicKey pub = (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(rsa.export(KeyFormat.SPKI_DER)));
            assertTrue(jws.verify(new RSASSAVerifier(pub, new HashSet<String>(Collections.singletonList("sigT")))));
        }
    }

    @Test
    void medsealVerifiesNimbusSignatures() throws Exception {
        byte[] canonical = Medseal.canonicalize(PATIENT);
        try (Key ec = Key.generate(Algorithm.ES256); Key ecPub = ec.publicKey(); Verifier verifier = new Verifier(ecPub)) {
            ECPrivateKey priv = (ECPrivateKey) KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(ec.export(KeyFormat.PKCS8_DER)));
            JWSObject jws = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType("medseal+jws")).build(),
                    new Payload(canonical));
            jws.sign(new ECDSASigner(priv));
            Verified v = verifier.verify(jws.serialize());
            assertArrayEquals(canonical, v.payload());
            assertEquals(Algorithm.ES256, v.algorithm());
            assertEquals(ec.kid(), v.kid());
        }
        byte[] rsaPem = TestSupport.read(TestSupport.pki("signer-rsa.key"));
        try (Key rsa = Key.load(rsaPem, Algorithm.PS256); Key rsaPub = rsa.publicKey(); Verifier verifier = new Verifier(rsaPub)) {
            RSAPrivateKey priv = (RSAPrivateKey) KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(rsa.export(KeyFormat.PKCS8_DER)));
            JWSObject jws = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.PS256).build(), new Payload(canonical));
            jws.sign(new RSASSASigner(priv));
            assertEquals(Algorithm.PS256, verifier.verify(jws.serialize()).algorithm());
            // and the JSON that medseal canonicalizes is the same payload Nimbus signed
            assertArrayEquals(canonical, verifier.verify(jws.serialize()).payload());
        }
    }
}
