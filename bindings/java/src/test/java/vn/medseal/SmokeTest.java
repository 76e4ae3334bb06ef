package vn.medseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static vn.medseal.TestSupport.assertMedseal;
import static vn.medseal.TestSupport.read;
import static vn.medseal.TestSupport.smoke;
import static vn.medseal.TestSupport.text;

import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shared smoke scenario (tests/smoke/README.md): canonicalize, sign, verify, seal, open, byte for byte. */
class SmokeTest {
    static final byte[] CANONICAL = read(smoke("patient.canonical.json"));

    static Signer signer() {
        try (Key key = Key.load(read(smoke("signer_ed25519.pem")))) {
            return Signer.builder(key).signingTime(Instant.ofEpochSecond(Long.parseLong(text(smoke("sigt.unix"))))).build();
        }
    }

    static Verifier verifier() {
        try (Key key = Key.load(read(smoke("signer_ed25519.pub.pem")))) {
            return new Verifier(key);
        }
    }

    static void checkVerified(Verified v) {
        assertArrayEquals(CANONICAL, v.payload());
        assertEquals(text(smoke("kid.txt")), v.kid());
        assertEquals(Algorithm.EDDSA, v.algorithm());
        assertEquals(text(smoke("sigt.txt")), v.signingTimeText());
        assertEquals(Instant.parse(text(smoke("sigt.txt"))), v.signingTime());
        assertEquals(TrustedBy.KEY, v.trustedBy());
        assertEquals("", v.signer());
    }

    static Meta meta() {
        Map<String, String> m = new HashMap<String, String>();
        for (String line : text(smoke("seal.txt")).split("\n")) {
            String[] kv = line.split("=", 2);
            m.put(kv[0], kv[1]);
        }
        return new Meta(m.get("record_id"), m.get("source"), Long.parseLong(m.get("sequence")));
    }

    @Test
    void canonicalize() {
        assertArrayEquals(CANONICAL, Medseal.canonicalize(read(smoke("patient.json"))));
        assertMedseal(JsonException.class, "MEDSEAL_JSON_NOT_NFC", () -> Medseal.canonicalize(read(smoke("patient_nfd.json"))));
        assertArrayEquals(CANONICAL, Medseal.canonicalize(read(smoke("patient_nfd.json")), CanonOption.NORMALIZE_NFC));
    }

    @Test
    void signByteForByte() {
        try (Key key = Key.load(read(smoke("signer_ed25519.pem"))); Signer signer = signer()) {
            assertEquals(text(smoke("kid.txt")), key.kid());
            assertEquals(key.kid(), signer.kid());
            assertArrayEquals(read(smoke("patient.flattened.jws")), signer.sign(read(smoke("patient.json"))));
            assertArrayEquals(read(smoke("patient.compact.jws")), signer.sign(read(smoke("patient.json")), JwsFormat.COMPACT));
        }
    }

    @Test
    void verifyAndTamper() {
        try (Verifier verifier = verifier()) {
            checkVerified(verifier.verify(read(smoke("patient.flattened.jws"))));
            checkVerified(verifier.verify(read(smoke("patient.compact.jws"))));
            byte[] compact = read(smoke("patient.compact.jws"));
            int last = compact.length - 3; // a byte inside the signature
            compact[last] = (byte) (compact[last] == 'A' ? 'B' : 'A');
            assertMedseal(JwsException.class, "MEDSEAL_JWS_SIGNATURE_INVALID", () -> verifier.verify(compact));
        }
    }

    @Test
    void signSealOpenVerify() {
        try (Signer signer = signer(); Verifier verifier = verifier();
                RecipientKey hubPublic = RecipientKey.load(read(smoke("recipient_x25519.pub.pem")));
                RecipientKey hub = RecipientKey.load(read(smoke("recipient_x25519.pem")))) {
            assertEquals(text(smoke("recipient_kid.txt")), hub.kid());
            byte[] envelope = signer.signAndSeal(read(smoke("patient.json")), meta(), Collections.singletonList(hubPublic));
            try (Envelope e = Envelope.decode(envelope)) {
                Meta m = e.meta();
                assertEquals(meta().recordId(), m.recordId());
                assertEquals(meta().source(), m.source());
                assertEquals(42, m.sequence());
                assertEquals("application/jose+json", m.contentType());
                assertArrayEquals(read(smoke("patient.flattened.jws")), e.open(hub));
                checkVerified(e.openVerified(hub, verifier));
            }
            // JSON encoding and the one-call open too.
            byte[] json = signer.signAndSeal(read(smoke("patient.json")), meta(), Arrays.asList(hubPublic), Aead.CHACHA20_POLY1305,
                    EnvelopeEncoding.JSON);
            assertEquals('{', json[0]);
            checkVerified(hub.openVerified(json, verifier));
            assertArrayEquals(read(smoke("patient.flattened.jws")), hub.open(json));
            // A truncated envelope.
            byte[] cut = Arrays.copyOf(envelope, envelope.length - 20);
            SealException error = assertThrows(SealException.class, () -> hub.open(cut));
            assertNull(error.getCause());
        }
    }

    private static <T extends Throwable> T assertThrows(Class<T> type, org.junit.jupiter.api.function.Executable e) {
        return org.junit.jupiter.api.Assertions.assertThrows(type, e);
    }
}
