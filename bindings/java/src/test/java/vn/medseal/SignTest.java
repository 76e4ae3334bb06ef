package vn.medseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vn.medseal.TestSupport.assertMedseal;
import static vn.medseal.TestSupport.pki;
import static vn.medseal.TestSupport.read;
import static vn.medseal.TestSupport.str;
import static vn.medseal.TestSupport.utf8;

import java.io.IOException;
import java.security.Signature;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SignTest {
    static final byte[] PATIENT = read(TestSupport.smoke("patient.json"));
    static final Instant T = Instant.parse("2026-03-01T08:30:00Z");

    static String header(byte[] jws) {
        String compact = str(jws);
        return str(Base64.getUrlDecoder().decode(compact.substring(0, compact.indexOf('.'))));
    }

    @Test
    void formatsAndVerification() {
        for (Algorithm alg : new Algorithm[] {Algorithm.EDDSA, Algorithm.ES256}) {
            try (Key key = Key.generate(alg); Signer signer = Signer.builder(key).signingTime(T).build();
                    Key pub = key.publicKey(); Verifier verifier = new Verifier(pub)) {
                byte[] canonical = Medseal.canonicalize(PATIENT);
                for (JwsFormat format : new JwsFormat[] {JwsFormat.FLATTENED, JwsFormat.COMPACT}) {
                    Verified v = verifier.verify(signer.sign(PATIENT, format));
                    assertArrayEquals(canonical, v.payload());
                    assertEquals(key.kid(), v.kid());
                    assertEquals(alg, v.algorithm());
                    assertEquals(T, v.signingTime());
                    assertEquals("valid kid=" + key.kid() + " alg=" + alg.jwsName() + " sigT=2026-03-01T08:30:00Z", v.toString());
                    assertTrue(str(v.headerJson()).contains("\"typ\":\"medseal+jws\""));
                }
                byte[] detached = signer.sign(PATIENT, JwsFormat.DETACHED_COMPACT);
                assertTrue(str(detached).contains(".."));
                assertEquals(key.kid(), verifier.verifyDetached(detached, PATIENT, true).kid());
                assertEquals(key.kid(), verifier.verifyDetached(detached, canonical, false).kid());
                byte[] detachedJson = signer.sign(PATIENT, JwsFormat.DETACHED_FLATTENED);
                assertEquals(key.kid(), verifier.verifyDetached(detachedJson, PATIENT, true).kid());
                // the payload as given (not canonical) is not what was signed
                assertMedseal(JwsException.class, "MEDSEAL_JWS_SIGNATURE_INVALID", () -> verifier.verifyDetached(detached, PATIENT, false));
                assertMedseal(JwsException.class, "MEDSEAL_JWS_PAYLOAD_MISSING", () -> verifier.verify(detached));
                assertEquals(key.kid(), verifier.verify(str(signer.sign(PATIENT, JwsFormat.COMPACT))).kid());
                assertEquals(key.kid(), signer.kid());
            }
        }
    }

    @Test
    void verificationErrors() {
        try (Key key = Key.generate(Algorithm.EDDSA); Key other = Key.generate(Algorithm.EDDSA); Key es = Key.generate(Algorithm.ES256);
                Signer signer = new Signer(key); Verifier wrong = new Verifier(other); Verifier wrongAlg = new Verifier(es)) {
            byte[] jws = signer.sign(PATIENT, JwsFormat.COMPACT);
            assertMedseal(JwsException.class, "MEDSEAL_JWS_SIGNATURE_INVALID", () -> wrong.verify(jws));
            assertEquals(307, assertThrows(JwsException.class, () -> wrong.verify(jws)).getCode());
            assertMedseal(JwsException.class, "MEDSEAL_JWS_ALG_MISMATCH", () -> wrongAlg.verify(jws));
            assertMedseal(JwsException.class, "MEDSEAL_JWS_MALFORMED", () -> wrong.verify(utf8("nonsense")));
            assertMedseal(JwsException.class, "MEDSEAL_JWS_BASE64", () -> wrong.verify(utf8("a=.b.c")));
            String none = Base64.getUrlEncoder().withoutPadding().encodeToString(utf8("{\"alg\":\"none\"}"));
            assertMedseal(JwsException.class, "MEDSEAL_JWS_ALG_FORBIDDEN", () -> wrong.verify(none + ".e30."));
            assertMedseal(JwsException.class, "MEDSEAL_JWS_NO_KEYS", () -> Verifier.builder().build());
            assertMedseal(JsonException.class, "MEDSEAL_JSON_SYNTAX", () -> signer.sign(utf8("{")));
            assertMedseal(JsonException.class, "MEDSEAL_JSON_DUPLICATE_KEY", () -> signer.sign("{\"a\":1,\"a\":1}"));
            assertThrows(NullPointerException.class, () -> signer.sign((byte[]) null));
            assertThrows(NullPointerException.class, () -> wrong.verify((byte[]) null));
            try (Key pub = key.publicKey()) {
                assertMedseal(KeyException.class, "MEDSEAL_KEY_NOT_PRIVATE", () -> new Signer(pub));
            }
        }
    }

    /** Issue 10 point 6: verifyRecord takes medseal records only; a trust list signed by the same key is a JWS, not a record. */
    @Test
    void verifyRecordTakesRecordsOnly() {
        try (Key key = Key.generate(Algorithm.EDDSA); Key pub = key.publicKey(); Key other = Key.generate(Algorithm.EDDSA);
                Signer signer = Signer.builder(key).signingTime(T).build(); Verifier verifier = new Verifier(pub);
                Verifier wrong = new Verifier(other)) {
            byte[] record = signer.sign(PATIENT);
            Verified v = verifier.verifyRecord(record);
            assertEquals(key.kid(), v.kid());
            assertEquals(T, v.signingTime());
            assertArrayEquals(Medseal.canonicalize(PATIENT), v.payload());
            assertEquals(key.kid(), verifier.verifyRecord(str(signer.sign(PATIENT, JwsFormat.COMPACT))).kid());
            byte[] list = TrustList.sign(utf8("{\"type\":\"medseal-trust-list\",\"version\":1,\"issuer\":\"T\",\"sequence\":1,"
                    + "\"issued\":\"2026-01-01T00:00:00Z\",\"expires\":\"2027-01-01T00:00:00Z\",\"entries\":[]}"), key);
            assertEquals(key.kid(), verifier.verify(list).kid()); // a valid JWS by a trusted key...
            assertMedseal(JwsException.class, "MEDSEAL_JWS_HEADER", () -> verifier.verifyRecord(list)); // ...but not a record
            assertMedseal(JwsException.class, "MEDSEAL_JWS_SIGNATURE_INVALID", () -> wrong.verifyRecord(record));
            assertMedseal(JwsException.class, "MEDSEAL_JWS_MALFORMED", () -> verifier.verifyRecord(utf8("nonsense")));
            byte[] detached = signer.sign(PATIENT, JwsFormat.DETACHED_COMPACT);
            assertMedseal(JwsException.class, "MEDSEAL_JWS_PAYLOAD_MISSING", () -> verifier.verifyRecord(detached));
            assertThrows(NullPointerException.class, () -> verifier.verifyRecord((byte[]) null));
            assertThrows(NullPointerException.class, () -> verifier.verifyRecord((String) null));
        }
    }

    @Test
    void signerOptions() {
        try (Key key = Key.generate(Algorithm.EDDSA); Key pub = key.publicKey(); Verifier verifier = new Verifier(pub)) {
            try (Signer s = Signer.builder(key).kid("hospital-key-7").commitment("1.2.840.10065.1.12.1.1").signingTime(T).build()) {
                byte[] jws = s.sign(PATIENT, JwsFormat.COMPACT);
                String h = header(jws);
                assertTrue(h.contains("\"kid\":\"hospital-key-7\""), h);
                assertTrue(h.contains("1.2.840.10065.1.12.1.1"), h);
                assertEquals(key.kid(), verifier.verify(jws).kid()); // the thumbprint of the key that verified
            }
            assertMedseal(GeneralException.class, "MEDSEAL_INVALID_ARGUMENT", () -> Signer.builder(key).commitment("not an oid").build());
            assertMedseal(GeneralException.class, "MEDSEAL_INVALID_ARGUMENT", () -> Signer.builder(key).kid("").build());
            // The clock guard, with a clock of our own.
            AtomicInteger reads = new AtomicInteger();
            Clock fixed = new Clock() {
                @Override
                public java.time.ZoneId getZone() {
                    return ZoneOffset.UTC;
                }

                @Override
                public Clock withZone(java.time.ZoneId zone) {
                    return this;
                }

                @Override
                public Instant instant() {
                    reads.incrementAndGet();
                    return T.plusSeconds(30);
                }
            };
            try (Signer near = Signer.builder(key).clock(fixed).maxClockSkew(60).signingTime(T).build();
                    Signer far = Signer.builder(key).clock(fixed).maxClockSkew(10).signingTime(T).build();
                    Signer clocked = Signer.builder(key).clock(fixed).build()) {
                assertEquals(T, verifier.verify(near.sign(PATIENT)).signingTime());
                assertMedseal(SignerException.class, "MEDSEAL_SIGNING_TIME_SKEW", () -> far.sign(PATIENT));
                assertEquals(T.plusSeconds(30), verifier.verify(clocked.sign(PATIENT)).signingTime());
                assertTrue(reads.get() >= 3, "clock reads: " + reads.get());
            }
            // Canonicalization options of the signer.
            try (Signer lossy = Signer.builder(key).canon(CanonOption.ALLOW_LOSSY_NUMBERS).build(); Signer strict = new Signer(key)) {
                assertEquals("{\"a\":1.5}", verifier.verify(lossy.sign("{\"a\":1.50}")).payloadText());
                assertMedseal(JsonException.class, "MEDSEAL_JSON_LOSSY_NUMBER", () -> strict.sign("{\"a\":1.50}"));
            }
            try (Verifier nfc = Verifier.builder().addKey(pub).canon(CanonOption.NORMALIZE_NFC).build();
                    Signer s = Signer.builder(key).canon(CanonOption.NORMALIZE_NFC).build()) {
                byte[] detached = s.sign(utf8("[\"Hoa\u0300\"]"), JwsFormat.DETACHED_COMPACT);
                assertEquals(key.kid(), nfc.verifyDetached(detached, utf8("[\"Hoa\u0300\"]"), true).kid());
                assertMedseal(JsonException.class, "MEDSEAL_JSON_NOT_NFC", () -> verifier.verifyDetached(detached, utf8("[\"Hoa\u0300\"]"), true));
            }
        }
    }

    @Test
    void hostSignerCallbacks() throws Exception {
        try (Key key = Key.generate(Algorithm.EDDSA); Key pub = key.publicKey(); Key other = Key.generate(Algorithm.EDDSA);
                Verifier verifier = new Verifier(pub)) {
            // A host signer that signs with another medseal signer's key through the JDK would need the private key;
            // use the JDK's Ed25519 where present, else a medseal-backed "remote" signature (same bytes).
            byte[] pkcs8 = key.export(KeyFormat.PKCS8_DER);
            HostSigner remote = input -> {
                Signature s = Signature.getInstance("Ed25519");
                s.initSign(java.security.KeyFactory.getInstance("Ed25519").generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(pkcs8)));
                s.update(input);
                return s.sign();
            };
            boolean jdkEd25519 = true;
            try {
                Signature.getInstance("Ed25519");
            } catch (java.security.NoSuchAlgorithmException e) {
                jdkEd25519 = false; // Java 8 and 11 before 15: exercised through ES256 below instead
            }
            if (jdkEd25519) {
                try (Signer signer = Signer.builder(pub, remote).signingTime(T).build(); Signer direct = Signer.builder(key).signingTime(T).build()) {
                    assertArrayEquals(direct.sign(PATIENT), signer.sign(PATIENT)); // Ed25519 is deterministic
                    assertEquals(key.kid(), signer.kid());
                }
            }
            // A callback that throws: the same exception comes out of sign, never a crash.
            IllegalStateException boom = new IllegalStateException("token removed");
            try (Signer failing = Signer.builder(pub, input -> {
                throw boom;
            }).build()) {
                IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> failing.sign(PATIENT));
                assertSame(boom, thrown);
                assertEquals("MEDSEAL_SIGNER_FAILED", ((MedsealException) thrown.getSuppressed()[0]).getName());
                assertSame(boom, assertThrows(IllegalStateException.class, () -> failing.sign(PATIENT))); // again
            }
            // A checked exception: wrapped in a SignerException, the original as its cause.
            IOException io = new IOException("HSM offline");
            try (Signer failing = Signer.builder(pub, input -> {
                throw io;
            }).build()) {
                SignerException thrown = assertMedseal(SignerException.class, "MEDSEAL_SIGNER_FAILED", () -> failing.sign(PATIENT));
                assertSame(io, thrown.getCause());
            }
            // Wrong, oversized and null signatures.
            try (Signer liar = Signer.builder(pub, input -> new byte[64]).build();
                    Signer huge = Signer.builder(pub, input -> new byte[Signer.maxSignatureBytes() + 1]).build();
                    Signer nothing = Signer.builder(pub, input -> null).build()) {
                assertMedseal(SignerException.class, "MEDSEAL_SIGNER_BAD_SIGNATURE", () -> liar.sign(PATIENT));
                assertThrows(IllegalStateException.class, () -> huge.sign(PATIENT));
                assertThrows(IllegalStateException.class, () -> nothing.sign(PATIENT));
            }
            // The signer checks its public key: a signature by another key is refused.
            try (Signer mixed = Signer.builder(other.publicKey(), remote).build()) {
                if (jdkEd25519) {
                    assertMedseal(SignerException.class, "MEDSEAL_SIGNER_BAD_SIGNATURE", () -> mixed.sign(PATIENT));
                }
            }
            // sign_and_seal goes through the callback too.
            try (Signer failing = Signer.builder(pub, input -> {
                throw boom;
            }).build(); RecipientKey hub = RecipientKey.generate()) {
                assertSame(boom, assertThrows(IllegalStateException.class,
                        () -> failing.signAndSeal(PATIENT, new Meta("r1", "src", 1), java.util.Collections.singletonList(hub))));
            }
        }
    }

    @Test
    void certificateChainsAndAnchors() {
        byte[] chain = read(pki("signer-ec-chain.pem"));
        try (Key key = Key.load(read(pki("signer-ec.key")));
                Signer signer = Signer.builder(key).certificateChain(chain).signingTime(T).build();
                Verifier anchored = Verifier.builder().addTrustAnchors(read(pki("root.pem"))).build();
                Verifier otherRoot = Verifier.builder().addTrustAnchors(str(read(pki("other-root.pem")))).build()) {
            byte[] jws = signer.sign(PATIENT);
            Verified v = anchored.verify(jws);
            assertEquals(TrustedBy.CERTIFICATE, v.trustedBy());
            assertTrue(v.signer().contains("CN="), v.signer());
            assertTrue(str(v.headerJson()).contains("\"x5c\""));
            assertEquals(key.kid(), v.kid()); // the thumbprint of the key that verified
            assertTrue(str(v.headerJson()).contains("\"x5t#S256\""), str(v.headerJson()));
            assertMedseal(TrustException.class, "MEDSEAL_CERT_UNKNOWN_ISSUER", () -> otherRoot.verify(jws));
            try (Key stranger = Key.generate(Algorithm.ES256)) {
                assertMedseal(SignerException.class, "MEDSEAL_SIGNER_CERT_MISMATCH",
                        () -> Signer.builder(stranger).certificateChain(chain).build());
            }
            try (Key nosig = Key.load(read(pki("signer-nosig.key")))) {
                assertMedseal(TrustException.class, "MEDSEAL_CERT_KEY_USAGE",
                        () -> Signer.builder(nosig).certificateChain(read(pki("signer-nosig-chain.pem"))).build());
            }
            try (Key past = Key.load(read(pki("signer-past.key")));
                    Signer late = Signer.builder(past).certificateChain(read(pki("signer-past-chain.pem"))).signingTime(T).build()) {
                assertMedseal(TrustException.class, "MEDSEAL_SIGNED_OUTSIDE_VALIDITY", () -> late.sign(PATIENT));
            }
            assertThrows(TrustException.class, () -> Verifier.builder().addTrustAnchors(utf8("garbage")).build());
        }
    }

    static byte[] trustList(Key listKey, Key recordKey, long sequence, String expires) {
        String x = Base64.getUrlEncoder().withoutPadding().encodeToString(recordKey.publicKey().export(KeyFormat.RAW_PUBLIC));
        String json = "{\"type\":\"medseal-trust-list\",\"version\":1,\"issuer\":\"S\u1edf Y t\u1ebf TP.HCM\",\"sequence\":" + sequence
                + ",\"issued\":\"2026-01-01T00:00:00Z\",\"expires\":\"" + expires + "\",\"entries\":[{\"facility\":\"79001\",\"kid\":\""
                + recordKey.kid() + "\",\"alg\":\"EdDSA\",\"jwk\":{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" + x
                + "\"},\"roles\":[\"record-signing\"],\"not_before\":\"2026-01-01T00:00:00Z\",\"not_after\":\"2027-12-31T00:00:00Z\"}]}";
        return TrustList.sign(utf8(json), listKey);
    }

    @Test
    void trustLists() {
        Instant now = Instant.parse("2026-06-01T00:00:00Z");
        try (Key listKey = Key.generate(Algorithm.EDDSA); Key recordKey = Key.generate(Algorithm.EDDSA);
                Key listPublic = listKey.publicKey()) {
            byte[] signed = trustList(listKey, recordKey, 12, "2027-06-01T00:00:00Z");
            try (TrustList trust = TrustList.verify(signed, listPublic, now, 0);
                    Verifier verifier = Verifier.builder().trustList(trust).build();
                    Signer signer = Signer.builder(recordKey).signingTime(now).build();
                    Signer early = Signer.builder(recordKey).signingTime(Instant.parse("2025-06-01T00:00:00Z")).build()) {
                assertEquals(12, trust.sequence());
                assertEquals(1, trust.entryCount());
                assertEquals(Instant.parse("2027-06-01T00:00:00Z"), trust.expires());
                Verified v = verifier.verify(signer.sign(PATIENT));
                assertEquals(TrustedBy.TRUST_LIST, v.trustedBy());
                assertEquals("79001", v.signer());
                MedsealException outside = assertThrows(TrustException.class, () -> verifier.verify(early.sign(PATIENT)));
                assertEquals(5, outside.getCode() / 100);
                try (Key stranger = Key.generate(Algorithm.EDDSA); Signer s = Signer.builder(stranger).signingTime(now).build()) {
                    assertMedseal(TrustException.class, "MEDSEAL_TRUST_UNKNOWN_SIGNER", () -> verifier.verify(s.sign(PATIENT)));
                }
                trust.close();
                assertThrows(IllegalStateException.class, trust::sequence);
                // the verifier holds its own copy of the list
                assertEquals(TrustedBy.TRUST_LIST, verifier.verify(signer.sign(PATIENT)).trustedBy());
            }
            try (Key stranger = Key.generate(Algorithm.EDDSA)) {
                assertMedseal(TrustException.class, "MEDSEAL_TRUST_LIST_SIGNATURE", () -> TrustList.verify(signed, stranger, now, 0));
            }
            assertMedseal(TrustException.class, "MEDSEAL_TRUST_LIST_EXPIRED",
                    () -> TrustList.verify(signed, listKey, Instant.parse("2028-01-01T00:00:00Z"), 0));
            assertMedseal(TrustException.class, "MEDSEAL_TRUST_LIST_STALE", () -> TrustList.verify(signed, listKey, now, 13));
            assertMedseal(TrustException.class, "MEDSEAL_TRUST_LIST_INVALID",
                    () -> TrustList.sign(utf8("{\"type\":\"medseal-trust-list\"}"), listKey));
            assertNull(null);
        }
    }
}
