package vn.medseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vn.medseal.TestSupport.assertMedseal;
import static vn.medseal.TestSupport.str;
import static vn.medseal.TestSupport.utf8;

import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import org.junit.jupiter.api.Test;

class KeyTest {
    @Test
    void generateExportReload() {
        for (Algorithm alg : new Algorithm[] {Algorithm.EDDSA, Algorithm.ES256}) {
            try (Key key = Key.generate(alg)) {
                assertEquals(alg, key.algorithm());
                assertTrue(key.hasPrivate());
                assertEquals(43, key.kid().length());
                String pem = str(key.export(KeyFormat.PKCS8_PEM));
                assertTrue(pem.startsWith("-----BEGIN PRIVATE KEY-----"), pem);
                try (Key again = Key.load(pem); Key pub = key.publicKey();
                        Key fromJwk = Key.load(key.export(KeyFormat.JWK));
                        Key fromDer = Key.load(key.export(KeyFormat.PKCS8_V2_DER));
                        Key fromRawPublic = Key.load(pub.export(KeyFormat.SPKI_DER))) {
                    assertEquals(key.kid(), again.kid());
                    assertEquals(key.kid(), pub.kid());
                    assertEquals(key.kid(), fromJwk.kid());
                    assertEquals(key.kid(), fromDer.kid());
                    assertEquals(key.kid(), fromRawPublic.kid());
                    assertFalse(pub.hasPrivate());
                    assertEquals(alg == Algorithm.EDDSA ? 32 : 65, pub.export(KeyFormat.RAW_PUBLIC).length);
                    assertEquals(32, key.export(KeyFormat.RAW_PRIVATE).length);
                    assertTrue(str(pub.export(KeyFormat.SPKI_PEM)).startsWith("-----BEGIN PUBLIC KEY-----"));
                    assertTrue(str(pub.export(KeyFormat.JWK)).contains("\"kty\""));
                    assertMedseal(KeyException.class, "MEDSEAL_KEY_NOT_PRIVATE", () -> pub.export(KeyFormat.PKCS8_PEM));
                    assertMedseal(KeyException.class, "MEDSEAL_KEY_NOT_PRIVATE", () -> pub.export(KeyFormat.RAW_PRIVATE));
                }
            }
        }
        try (Key a = Key.generate(Algorithm.EDDSA); Key b = Key.generate(Algorithm.EDDSA)) {
            assertNotEquals(a.kid(), b.kid());
        }
    }

    @Test
    void theJdkReadsExportedPublicKeys() throws Exception {
        try (Key key = Key.generate(Algorithm.ES256)) {
            PublicKey jdk = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(key.export(KeyFormat.SPKI_DER)));
            assertEquals("EC", jdk.getAlgorithm());
            try (Key back = Key.load(jdk.getEncoded())) {
                assertEquals(key.kid(), back.kid());
            }
        }
    }

    @Test
    void rsaSchemes() {
        byte[] pem = TestSupport.read(TestSupport.pki("signer-rsa.key"));
        try (Key rs = Key.load(pem); Key ps = Key.load(pem, Algorithm.PS256)) {
            assertEquals(Algorithm.RS256, rs.algorithm());
            assertEquals(Algorithm.PS256, ps.algorithm());
            assertMedseal(GeneralException.class, "MEDSEAL_UNSUPPORTED", () -> rs.export(KeyFormat.RAW_PRIVATE));
            try (Key psPublic = ps.publicKey()) {
                assertEquals(Algorithm.PS256, psPublic.algorithm());
            }
        }
    }

    @Test
    void loadErrors() {
        assertMedseal(KeyException.class, "MEDSEAL_KEY_FORMAT", () -> Key.load(utf8("not a key")));
        assertMedseal(KeyException.class, "MEDSEAL_KEY_FORMAT", () -> Key.load(new byte[0]));
        assertMedseal(GeneralException.class, "MEDSEAL_UNSUPPORTED", () -> Key.generate(Algorithm.RS256));
        try (RecipientKey x = RecipientKey.generate()) {
            assertMedseal(KeyException.class, "MEDSEAL_KEY_UNSUPPORTED", () -> Key.load(x.export(KeyFormat.SPKI_PEM)));
        }
        assertThrows(NullPointerException.class, () -> Key.load((byte[]) null));
        assertThrows(NullPointerException.class, () -> Key.generate(null));
        assertEquals(Algorithm.ES256, Algorithm.fromName("ES256"));
        assertEquals(Algorithm.EDDSA, Algorithm.fromName("EdDSA"));
        assertThrows(IllegalArgumentException.class, () -> Algorithm.fromName("HS256"));
    }

    @Test
    void recipientKeys() {
        try (RecipientKey key = RecipientKey.generate()) {
            assertTrue(key.hasPrivate());
            byte[] rawPrivate = key.export(KeyFormat.RAW_PRIVATE);
            byte[] rawPublic = key.export(KeyFormat.RAW_PUBLIC);
            assertEquals(32, rawPrivate.length);
            try (RecipientKey pub = key.publicKey(); RecipientKey fromRaw = RecipientKey.fromRaw(rawPrivate, true);
                    RecipientKey pem = RecipientKey.load(key.export(KeyFormat.PKCS8_PEM));
                    RecipientKey jwk = RecipientKey.load(str(pub.export(KeyFormat.JWK)))) {
                assertFalse(pub.hasPrivate());
                assertEquals(key.kid(), pub.kid());
                assertEquals(key.kid(), fromRaw.kid());
                assertEquals(key.kid(), pem.kid());
                assertEquals(key.kid(), jwk.kid());
                assertArrayEquals(rawPublic, pub.export(KeyFormat.RAW_PUBLIC));
                assertTrue(str(pub.export(KeyFormat.JWK)).contains("\"use\":\"enc\""));
                assertMedseal(KeyException.class, "MEDSEAL_KEY_NOT_PRIVATE", () -> pub.export(KeyFormat.PKCS8_DER));
            }
        }
        assertMedseal(KeyException.class, "MEDSEAL_KEY_INVALID", () -> RecipientKey.fromRaw(new byte[31], false));
        try (Key ed = Key.generate(Algorithm.EDDSA)) {
            assertMedseal(KeyException.class, "MEDSEAL_KEY_UNSUPPORTED", () -> RecipientKey.load(ed.export(KeyFormat.SPKI_PEM)));
        }
        assertMedseal(KeyException.class, "MEDSEAL_KEY_FORMAT", () -> RecipientKey.load("junk"));
    }
}
