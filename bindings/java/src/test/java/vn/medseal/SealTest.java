package vn.medseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vn.medseal.TestSupport.assertMedseal;
import static vn.medseal.TestSupport.str;
import static vn.medseal.TestSupport.utf8;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SealTest {
    static final Meta META = new Meta("rec-1", "79001", 7, "2026-03-01T08:30:00Z", "application/fhir+json");

    @Test
    void sealAndOpenBothEncodingsAndAeads() {
        byte[] plaintext = utf8("{\"resourceType\":\"Patient\"}");
        try (RecipientKey a = RecipientKey.generate(); RecipientKey b = RecipientKey.generate(); RecipientKey aPublic = a.publicKey()) {
            for (EnvelopeEncoding encoding : EnvelopeEncoding.values()) {
                for (Aead aead : Aead.values()) {
                    byte[] envelope = Medseal.seal(plaintext, META, Arrays.asList(aPublic, b), aead, encoding);
                    assertEquals(encoding == EnvelopeEncoding.JSON, envelope[0] == '{');
                    assertArrayEquals(plaintext, a.open(envelope));
                    assertArrayEquals(plaintext, b.open(envelope));
                    assertEquals(plaintext.length, a.plaintextSize(envelope));
                    try (Envelope e = Envelope.decode(envelope)) {
                        assertEquals(META, e.meta());
                        String meta = str(e.metaJson());
                        assertTrue(meta.contains("\"record_id\":\"rec-1\""), meta);
                        assertArrayEquals(plaintext, e.open(b));
                    }
                }
            }
            assertArrayEquals(plaintext, a.open(Medseal.seal(plaintext, new Meta("r", "s", 1), Collections.singletonList(a))));
        }
    }

    @Test
    void sealErrors() {
        byte[] plaintext = utf8("hello");
        try (RecipientKey a = RecipientKey.generate(); RecipientKey stranger = RecipientKey.generate(); RecipientKey aPublic = a.publicKey()) {
            byte[] envelope = Medseal.seal(plaintext, META, Collections.singletonList(aPublic));
            assertMedseal(SealException.class, "MEDSEAL_SEAL_WRONG_RECIPIENT", () -> stranger.open(envelope));
            assertMedseal(KeyException.class, "MEDSEAL_KEY_NOT_PRIVATE", () -> aPublic.open(envelope));
            byte[] flipped = envelope.clone();
            flipped[flipped.length - 5] ^= 1;
            assertMedseal(SealException.class, "MEDSEAL_SEAL_DECRYPT_FAILED", () -> a.open(flipped));
            assertThrows(SealException.class, () -> a.open(Arrays.copyOf(envelope, envelope.length - 40)));
            assertMedseal(SealException.class, "MEDSEAL_SEAL_NOT_PROTOBUF", () -> Envelope.decode(utf8("garbage")));
            assertMedseal(SealException.class, "MEDSEAL_SEAL_MALFORMED", () -> Envelope.decode(utf8("{\"x\":1}")));
            // meta validation
            assertMedseal(SealException.class, "MEDSEAL_SEAL_META_INVALID",
                    () -> Medseal.seal(plaintext, new Meta("", "s", 1), Collections.singletonList(a)));
            assertMedseal(SealException.class, "MEDSEAL_SEAL_META_INVALID",
                    () -> Medseal.seal(plaintext, new Meta("r", "s", 0), Collections.singletonList(a)));
            assertMedseal(SealException.class, "MEDSEAL_SEAL_META_INVALID",
                    () -> Medseal.seal(plaintext, new Meta("r", "s", 1).withCreated("yesterday"), Collections.singletonList(a)));
            assertMedseal(SealException.class, "MEDSEAL_SEAL_META_INVALID",
                    () -> Medseal.seal(plaintext, new Meta("r\n", "s", 1), Collections.singletonList(a)));
            // recipients: none, too many
            assertThrows(MedsealException.class, () -> Medseal.seal(plaintext, META, Collections.<RecipientKey>emptyList()));
            List<RecipientKey> many = new ArrayList<RecipientKey>();
            for (int i = 0; i < 17; i++) {
                many.add(aPublic);
            }
            assertThrows(MedsealException.class, () -> Medseal.seal(plaintext, META, many));
            assertThrows(NullPointerException.class, () -> Medseal.seal(plaintext, META, Arrays.asList(a, null)));
        }
    }

    @Test
    void largeRecordsIntoDirectBuffersWithoutCopies() {
        byte[] big = new byte[8 * 1024 * 1024];
        new Random(7).nextBytes(big);
        try (RecipientKey key = RecipientKey.generate()) {
            List<RecipientKey> to = Collections.singletonList(key);
            long size = Medseal.sealedSize(big.length, META, to);
            assertTrue(size > big.length, "size " + size);
            ByteBuffer in = ByteBuffer.allocateDirect(big.length);
            in.put(big).flip();
            ByteBuffer out = ByteBuffer.allocateDirect((int) size + 10);
            out.position(3);
            int n = Medseal.sealInto(in, META, to, Aead.AES_256_GCM, out);
            assertEquals(size, n);
            assertEquals(3 + n, out.position());
            byte[] envelope = new byte[n];
            ((ByteBuffer) out.duplicate().position(3)).get(envelope);
            assertArrayEquals(big, key.open(envelope));
            // open straight into a direct buffer
            ByteBuffer sealed = ByteBuffer.allocateDirect(n);
            sealed.put(envelope).flip();
            ByteBuffer plain = ByteBuffer.allocateDirect(big.length);
            assertEquals(big.length, key.openInto(sealed, plain));
            assertEquals(big.length, plain.position());
            byte[] back = new byte[big.length];
            ((ByteBuffer) plain.flip()).get(back);
            assertArrayEquals(big, back);
            try (Envelope e = Envelope.decode(envelope)) {
                ByteBuffer again = ByteBuffer.allocateDirect(big.length);
                assertEquals(big.length, e.openInto(key, again));
                ByteBuffer small = ByteBuffer.allocateDirect(10);
                assertMedseal(GeneralException.class, "MEDSEAL_BUFFER_TOO_SMALL", () -> e.openInto(key, small));
            }
            ByteBuffer tooSmall = ByteBuffer.allocateDirect(100);
            assertMedseal(GeneralException.class, "MEDSEAL_BUFFER_TOO_SMALL", () -> Medseal.sealInto(in, META, to, Aead.AES_256_GCM, tooSmall));
            assertThrows(IllegalArgumentException.class, () -> Medseal.sealInto(ByteBuffer.wrap(big), META, to, Aead.AES_256_GCM, out));
            assertThrows(IllegalArgumentException.class, () -> key.openInto(sealed, ByteBuffer.allocate(10)));
        }
    }

    @Test
    void openVerifiedRequiresASignedRecord() {
        try (Key key = Key.generate(Algorithm.EDDSA); Signer signer = new Signer(key); Verifier verifier = new Verifier(key);
                RecipientKey hub = RecipientKey.generate(); Key other = Key.generate(Algorithm.EDDSA); Verifier wrong = new Verifier(other)) {
            byte[] envelope = signer.signAndSeal(SignTest.PATIENT, new Meta("r1", "79001", 1), Collections.singletonList(hub));
            assertEquals(key.kid(), hub.openVerified(envelope, verifier).kid());
            assertMedseal(JwsException.class, "MEDSEAL_JWS_SIGNATURE_INVALID", () -> hub.openVerified(envelope, wrong));
            byte[] notSigned = Medseal.seal(utf8("{}"), new Meta("r1", "79001", 1), Collections.singletonList(hub));
            assertThrows(MedsealException.class, () -> hub.openVerified(notSigned, verifier));
        }
    }
}
