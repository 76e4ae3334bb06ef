package vn.medseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vn.medseal.TestSupport.assertMedseal;
import static vn.medseal.TestSupport.read;
import static vn.medseal.TestSupport.str;
import static vn.medseal.TestSupport.utf8;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The outbox, and delivery to the reference hub on 127.0.0.1 over mutual TLS with receipts checked. */
class OutboxTest {
    @TempDir
    static Path base;
    static Hub hub;

    @BeforeAll
    static void startHub() throws Exception {
        hub = Hub.start(base);
    }

    @AfterAll
    static void stopHub() throws Exception {
        if (hub != null) {
            hub.close();
        }
    }

    static byte[] record(int n) {
        return utf8(String.format("{\"resourceType\":\"Patient\",\"id\":\"pat-%04d\",\"active\":true,\"name\":[{\"text\":\"Nguy\u1ec5n Th\u1ecb Ho\u00e0\"}]}", n));
    }

    static List<RecipientKey> to(RecipientKey k) {
        return Collections.singletonList(k);
    }

    static boolean waitFor(BooleanSupplier condition, long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(50);
        }
        return condition.getAsBoolean();
    }

    @Test
    void enqueueStatusAndAdministration(@TempDir Path tmp) throws Exception {
        try (RecipientKey hubKey = RecipientKey.generate(); RecipientKey hubPublic = hubKey.publicKey();
                Key key = Key.generate(Algorithm.EDDSA); Signer signer = new Signer(key);
                Outbox outbox = Outbox.open(tmp.resolve("outbox.db"), "hospital-a", to(hubPublic))) {
            OutboxStatus empty = outbox.status();
            assertEquals(0, empty.queued());
            assertEquals(0, empty.delivered());
            assertEquals(1, empty.nextSequence());
            assertNull(empty.oldestQueuedAt());
            assertNull(empty.nextAttemptAt());
            byte[] jws = signer.sign(record(1));
            LocalReceipt first = outbox.enqueue("rec-1", jws);
            assertEquals(1, first.sequence());
            assertFalse(first.alreadyQueued());
            assertEquals(32, first.digest().length);
            assertTrue(first.outboxId() > 0);
            LocalReceipt again = outbox.enqueue("rec-1", jws);
            assertTrue(again.alreadyQueued());
            assertEquals(first.outboxId(), again.outboxId());
            assertArrayEquals(first.digest(), again.digest());
            assertMedseal(OutboxException.class, "MEDSEAL_OUTBOX_DUPLICATE", () -> outbox.enqueue("rec-1", signer.sign(record(99))));
            LocalReceipt second = outbox.enqueue("rec-2", signer.sign(record(2), JwsFormat.COMPACT));
            assertEquals(2, second.sequence());
            OutboxStatus status = outbox.status();
            assertEquals(2, status.queued());
            assertEquals(3, status.nextSequence());
            assertNotNull(status.oldestQueuedAt());
            assertTrue(Math.abs(status.oldestQueuedAt().getEpochSecond() - Instant.now().getEpochSecond()) < 120);

            // A pre-sealed envelope must carry the next sequence number.
            byte[] sealed = signer.signAndSeal(record(3), new Meta("rec-3", "hospital-a", 3), to(hubKey));
            LocalReceipt third = outbox.enqueueSealed(sealed);
            assertEquals(3, third.sequence());
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(sealed), third.digest());
            assertMedseal(OutboxException.class, "MEDSEAL_OUTBOX_SEQUENCE",
                    () -> outbox.enqueueSealed(signer.signAndSeal(record(5), new Meta("rec-5", "hospital-a", 9), to(hubKey))));
            try (RecipientKey stranger = RecipientKey.generate()) {
                assertMedseal(SealException.class, "MEDSEAL_SEAL_WRONG_RECIPIENT",
                        () -> outbox.enqueueSealed(signer.signAndSeal(record(4), new Meta("rec-4", "hospital-a", 4), to(stranger))));
            }

            // Withdraw -> dead letter -> requeue; withdraw again -> discard.
            assertEquals(0, outbox.deadLetters().length);
            assertEquals(0, outbox.deadLetterCount());
            outbox.withdraw(second.outboxId(), "enqueued by mistake");
            assertArrayEquals(new long[] {second.outboxId()}, outbox.deadLetters());
            assertEquals(1, outbox.deadLetterCount());
            assertEquals(1, outbox.status().deadLetter());
            outbox.requeue(second.outboxId());
            assertEquals(0, outbox.deadLetters().length);
            assertEquals(3, outbox.status().queued());
            outbox.withdraw(second.outboxId(), "wrong patient");
            outbox.discard(second.outboxId(), "the ward confirmed");
            assertEquals(1, outbox.status().discarded());
            assertMedseal(OutboxException.class, "MEDSEAL_OUTBOX_STATE", () -> outbox.requeue(second.outboxId()));
            assertMedseal(OutboxException.class, "MEDSEAL_OUTBOX_NOT_FOUND", () -> outbox.requeue(987654));
            assertMedseal(OutboxException.class, "MEDSEAL_OUTBOX_STATE", () -> outbox.discard(first.outboxId(), "not a dead letter"));
            assertThrows(GeneralException.class, () -> outbox.withdraw(first.outboxId(), ""));

            Path backup = tmp.resolve("backup.db");
            outbox.backup(backup);
            assertTrue(Files.size(backup) > 0);
            assertMedseal(OutboxException.class, "MEDSEAL_OUTBOX_IO", () -> outbox.backup(backup)); // never replaced
            try (Outbox copy = Outbox.open(backup, "hospital-a")) {
                assertEquals(2, copy.status().queued());
                assertThrows(MedsealException.class, () -> copy.enqueue("rec-9", signer.sign(record(9)))); // administration only
            }
        }
    }

    static byte[] madeUp(String header) {
        Base64.Encoder b = Base64.getUrlEncoder().withoutPadding();
        return utf8(b.encodeToString(utf8(header)) + "." + b.encodeToString(utf8("{\"id\":\"1\"}")) + "." + b.encodeToString(utf8("sig")));
    }

    @Test
    void outboxErrors(@TempDir Path tmp) throws Exception {
        try (RecipientKey hubKey = RecipientKey.generate(); Key key = Key.generate(Algorithm.EDDSA); Signer signer = new Signer(key)) {
            Path path = tmp.resolve("o.db");
            Outbox.open(path, "hospital-a", to(hubKey)).close();
            assertMedseal(GeneralException.class, "MEDSEAL_INVALID_ARGUMENT", () -> Outbox.open(path, "hospital-b", to(hubKey)));
            Path notOutbox = tmp.resolve("not.db");
            StringBuilder junk = new StringBuilder();
            for (int i = 0; i < 100; i++) {
                junk.append("this is not sqlite");
            }
            Files.write(notOutbox, utf8(junk.toString()));
            OutboxException e = assertThrows(OutboxException.class, () -> Outbox.open(notOutbox, "hospital-a", to(hubKey)));
            assertTrue(e.getName().equals("MEDSEAL_OUTBOX_SCHEMA") || e.getName().equals("MEDSEAL_OUTBOX_IO"), e.getName());
            assertThrows(OutboxException.class, () -> Outbox.open(tmp.resolve("missing-dir/o.db"), "hospital-a", to(hubKey)));
            try (Outbox outbox = Outbox.open(path, "hospital-a", to(hubKey))) {
                assertThrows(MedsealException.class, () -> outbox.enqueue("", utf8("{}")));
                Object[][] cases = {
                    {utf8("not a jws"), "MEDSEAL_JWS_MALFORMED"},
                    {utf8("{}"), "MEDSEAL_JWS_MALFORMED"},
                    {signer.sign(record(1), JwsFormat.DETACHED_COMPACT), "MEDSEAL_JWS_PAYLOAD_MISSING"},
                    {madeUp("{\"alg\":\"EdDSA\",\"sigT\":\"2026-01-01T00:00:00Z\",\"typ\":\"JWT\"}"), "MEDSEAL_JWS_HEADER"},
                    {madeUp("{\"alg\":\"EdDSA\",\"typ\":\"medseal+jws\"}"), "MEDSEAL_JWS_HEADER"},
                };
                for (Object[] c : cases) {
                    assertMedseal(JwsException.class, (String) c[1], () -> outbox.enqueue("rec-1", (byte[]) c[0]));
                }
                assertMedseal(OutboxException.class, "MEDSEAL_OUTBOX_NOT_FOUND", () -> outbox.receipt("rec-1"));
                assertEquals(1, outbox.status().nextSequence()); // no number used
                assertEquals(1, outbox.enqueue("rec-1", signer.sign(record(1))).sequence());
                assertMedseal(OutboxException.class, "MEDSEAL_OUTBOX_STATE", () -> outbox.receipt("rec-1"));
                assertThrows(GeneralException.class, () -> outbox.receipt(""));
            }
        }
    }

    /**
     * Issue 10 point 10: an outbox opened with the facility's signing keys verifies each record
     * before it takes a number: another key's record, a made-up signature and an unsigned document
     * are refused and use none, so the next good record still gets sequence 1.
     */
    @Test
    void signingKeysRefuseBeforeNumbering(@TempDir Path tmp) throws Exception {
        try (RecipientKey hubKey = RecipientKey.generate(); Key own = Key.generate(Algorithm.EDDSA); Key ownPublic = own.publicKey();
                Key stranger = Key.generate(Algorithm.EDDSA); Signer signer = new Signer(own); Signer foreign = new Signer(stranger)) {
            Path path = tmp.resolve("checked.db");
            try (Outbox outbox = Outbox.open(path, "hospital-a", to(hubKey), Collections.singletonList(ownPublic))) {
                Object[][] cases = {
                    {foreign.sign(record(1)), "MEDSEAL_JWS_SIGNATURE_INVALID"}, // another hospital's record
                    {madeUp("{\"alg\":\"EdDSA\",\"sigT\":\"2026-01-01T00:00:00Z\",\"typ\":\"medseal+jws\"}"), "MEDSEAL_JWS_SIGNATURE_INVALID"},
                    {record(1), "MEDSEAL_JWS_MALFORMED"}, // an unsigned document
                };
                for (Object[] c : cases) {
                    assertMedseal(JwsException.class, (String) c[1], () -> outbox.enqueue("rec-bad", (byte[]) c[0]));
                }
                assertEquals(1, outbox.status().nextSequence());
                assertEquals(1, outbox.enqueue("rec-1", signer.sign(record(1))).sequence()); // no number was used
            }
            // Without keys the outbox does not verify: the foreign record takes number 2 (the hub would refuse it).
            try (Outbox unchecked = Outbox.open(path, "hospital-a", to(hubKey))) {
                assertEquals(2, unchecked.enqueue("rec-2", foreign.sign(record(2))).sequence());
            }
            List<Key> none = Collections.emptyList();
            assertThrows(IllegalArgumentException.class, () -> Outbox.open(path, "hospital-a", to(hubKey), none));
            List<Key> tooMany = Collections.nCopies(65, ownPublic);
            assertThrows(IllegalArgumentException.class, () -> Outbox.open(path, "hospital-a", to(hubKey), tooMany));
            assertThrows(NullPointerException.class, () -> Outbox.open(path, "hospital-a", to(hubKey), (List<Key>) null));
            assertThrows(NullPointerException.class, () -> Outbox.open(path, "hospital-a", to(hubKey), Collections.<Key>singletonList(null)));
            ownPublic.close();
            assertThrows(IllegalStateException.class, () -> Outbox.open(path, "hospital-a", to(hubKey), Collections.singletonList(ownPublic)));
        }
    }

    @Test
    void transportConfiguration() {
        TransportException plain = assertMedseal(TransportException.class, "MEDSEAL_TRANSPORT_CONFIG",
                () -> Transport.builder("http://127.0.0.1:1").facilityDir(hub.facilityDir).build());
        assertTrue(plain.getDetail().contains("plain HTTP"), plain.getDetail());
        assertMedseal(TransportException.class, "MEDSEAL_TRANSPORT_CONFIG", () -> Transport.builder(hub.url).build());
        assertThrows(TransportException.class, () -> Transport.builder(hub.url).facilityDir(hub.facilityDir).batchSize(0).build());
        assertThrows(TransportException.class, () -> Transport.builder(hub.url).facilityDir(hub.facilityDir).proxy("socks5://127.0.0.1:1080").build());
        assertThrows(TransportException.class, () -> Transport.builder(hub.url).facilityDir(hub.facilityDir.resolve("nope")).build());
        assertThrows(TransportException.class, () -> Transport.builder(hub.url).clientCertificate(utf8("garbage")).build());
        Path d = hub.facilityDir;
        try (Key receiptKey = hub.key("receipt.pub"); Key treeHeadKey = hub.key("tree-head.pub");
                Transport explicit = Transport.builder(hub.url).clientCertificate(read(d.resolve("client.pem")))
                        .clientKey(read(d.resolve("client.key"))).hubCa(read(d.resolve("hub-ca.pem")))
                        .receiptKey(receiptKey).treeHeadKey(treeHeadKey).connectTimeoutMillis(5000).timeoutMillis(20000)
                        .batchSize(50).proxyFromEnv(false).build()) {
            assertFalse(explicit.isClosed());
        }
    }

    @Test
    void theTlsClientKeyStaysOnTheToken(@TempDir Path tmp) throws Exception {
        // The hospital makes its TLS key on its token (facility init --tls-pkcs11-...), the hub enrols the
        // request, and each handshake is signed on the token: no client.key anywhere.
        String cli = TestSupport.cli().toString();
        String facility = "java-token-tls";
        Path dir = tmp.resolve("facility");
        String module = Pkcs11Test.module();
        String token = Pkcs11Test.token();
        String pin = new String(Pkcs11Test.pin());
        // One token serves the JDK 17 and the Java 11 run: a label of this run's own.
        String label = "java-tls-" + Long.toHexString(System.nanoTime());
        TestSupport.run(Arrays.asList(cli, "facility", "init", "--facility", facility, "--dir", dir.toString(),
                "--tls-pkcs11-module", module, "--tls-pkcs11-token", token, "--tls-key-label", label),
                Collections.singletonMap("MEDSEAL_PKCS11_PIN", pin));
        TestSupport.run(Arrays.asList(cli, "hub", "enroll", "--dir", hub.dir.toString(), "--facility", facility,
                "--signing-key", dir.resolve("signing.pub").toString(), "--csr", dir.resolve("client.csr").toString(),
                "--out", dir.toString()));
        assertFalse(Files.exists(dir.resolve("client.key")));

        assertMedseal(TransportException.class, "MEDSEAL_TRANSPORT_CONFIG", () -> Transport.forFacility(hub.url, dir));
        MedsealException wrongPin = assertMedseal(SignerException.class, "MEDSEAL_PKCS11_PIN", () -> Transport.builder(hub.url)
                .clientKeyPkcs11(module, token, label, "000000".toCharArray()).facilityDir(dir).build());
        assertFalse(wrongPin.getMessage().contains(pin), wrongPin.getMessage());
        assertMedseal(SignerException.class, "MEDSEAL_PKCS11_KEY_NOT_FOUND", () -> Transport.builder(hub.url)
                .clientKeyPkcs11(module, token, "no-such-key", Pkcs11Test.pin()).facilityDir(dir).build());
        // The token's other key is not the certificate's: refused before any connection.
        assertMedseal(TransportException.class, "MEDSEAL_TRANSPORT_CONFIG", () -> Transport.builder(hub.url)
                .clientKeyPkcs11(module, token, TestSupport.env("MEDSEAL_TEST_PKCS11_EC_KEY"), Pkcs11Test.pin()).facilityDir(dir).build());

        try (Key signingKey = Key.load(TestSupport.read(dir.resolve("signing.key"))); Signer signer = new Signer(signingKey);
                RecipientKey hubKey = RecipientKey.load(TestSupport.read(dir.resolve("hub-recipient.pub")));
                Outbox outbox = Outbox.open(tmp.resolve("token.db"), facility, to(hubKey));
                Transport transport = Transport.builder(hub.url).clientKeyPkcs11(module, token, label, Pkcs11Test.pin())
                        .facilityDir(dir).build();
                Key receiptKey = Key.load(TestSupport.read(dir.resolve("receipt.pub")));
                Key treeHeadKey = Key.load(TestSupport.read(dir.resolve("tree-head.pub")))) {
            LocalReceipt local = outbox.enqueue("java-token-1", signer.sign(record(1)));
            DeliveryReport report = outbox.deliver(transport);
            assertNull(report.error(), String.valueOf(report.error()));
            assertEquals(1, report.delivered());
            Outbox.StoredReceipt kept = outbox.receipt("java-token-1");
            Receipt checked = Receipt.verify(kept.receipt(), kept.inclusionProof(), receiptKey, treeHeadKey, facility,
                    "java-token-1", local.digest());
            assertEquals(1, checked.sequence());
        }
    }

    @Test
    void deliverToTheHubAndCheckReceipts(@TempDir Path tmp) throws Exception {
        Hub hub = OutboxTest.hub.enrol("java-deliver"); // a new outbox numbers from 1: its own facility
        Path path = tmp.resolve("deliver.db");
        List<LocalReceipt> receipts = new ArrayList<LocalReceipt>();
        Outbox.StoredReceipt kept;
        try (Key signingKey = hub.signingKey(); Signer signer = new Signer(signingKey); RecipientKey hubKey = hub.recipient();
                Outbox outbox = Outbox.open(path, hub.facility, to(hubKey));
                Transport transport = Transport.builder(hub.url).facilityDir(hub.facilityDir).batchSize(10).build()) {
            for (int n = 0; n < 25; n++) {
                receipts.add(outbox.enqueue("java-deliver-" + n, signer.sign(record(n))));
            }
            OutboxException notYet = assertMedseal(OutboxException.class, "MEDSEAL_OUTBOX_STATE", () -> outbox.receipt("java-deliver-7"));
            assertTrue(notYet.getDetail().contains("only a delivered record"), notYet.getDetail());
            DeliveryReport report = outbox.deliver(transport);
            assertNull(report.error(), String.valueOf(report.error()));
            assertEquals(25, report.delivered());
            assertEquals(0, report.deadLetters());
            assertEquals(0, report.retried());
            assertEquals(25, outbox.status().delivered());
            assertEquals(0, outbox.status().queued());
            assertEquals(0, outbox.deliver(transport).delivered()); // nothing due any more
            kept = outbox.receipt("java-deliver-7");
            assertMedseal(OutboxException.class, "MEDSEAL_OUTBOX_NOT_FOUND", () -> outbox.receipt("java-deliver-99"));
        }
        try (Outbox admin = Outbox.open(path, hub.facility)) {
            assertArrayEquals(kept.receipt(), admin.receipt("java-deliver-7").receipt());
        }
        LocalReceipt local = receipts.get(7);
        assertTrue(str(kept.receipt()).startsWith("eyJ"));
        assertTrue(kept.inclusionProof().length > 0);
        try (Key receiptKey = hub.key("receipt.pub"); Key treeHeadKey = hub.key("tree-head.pub")) {
            Receipt checked = Receipt.verify(kept.receipt(), kept.inclusionProof(), receiptKey, treeHeadKey, hub.facility,
                    "java-deliver-7", local.digest());
            assertEquals("java-deliver-7", checked.recordId());
            assertEquals(hub.facility, checked.source());
            assertEquals(local.sequence(), checked.sequence());
            assertArrayEquals(local.digest(), checked.digest());
            assertTrue(checked.ledgerIndex() < checked.treeSize());
            assertTrue(Math.abs(checked.received().getEpochSecond() - Instant.now().getEpochSecond()) < 300);
            assertEquals(checked.recordId(), Receipt.verify(kept.receipt(), kept.inclusionProof(), receiptKey, treeHeadKey, hub.facility,
                    "java-deliver-7", Ledger.digestText(local.digest())).recordId());
            // The receipt of another record, facility or envelope is refused.
            assertMedseal(LedgerException.class, "MEDSEAL_LEDGER_RECEIPT_INVALID", () -> Receipt.verify(kept.receipt(),
                    kept.inclusionProof(), receiptKey, treeHeadKey, hub.facility, "java-deliver-8", local.digest()));
            assertMedseal(LedgerException.class, "MEDSEAL_LEDGER_RECEIPT_INVALID", () -> Receipt.verify(kept.receipt(),
                    kept.inclusionProof(), receiptKey, treeHeadKey, "another-facility", "java-deliver-7", local.digest()));
            assertMedseal(LedgerException.class, "MEDSEAL_LEDGER_RECEIPT_INVALID", () -> Receipt.verify(kept.receipt(),
                    kept.inclusionProof(), receiptKey, treeHeadKey, hub.facility, "java-deliver-7", receipts.get(8).digest()));
            assertThrows(LedgerException.class, () -> Receipt.verify(kept.receipt(), kept.inclusionProof(), treeHeadKey, treeHeadKey,
                    hub.facility, "java-deliver-7", local.digest()));
            assertMedseal(GeneralException.class, "MEDSEAL_INVALID_ARGUMENT", () -> Receipt.verify(kept.receipt(),
                    kept.inclusionProof(), receiptKey, treeHeadKey, hub.facility, "java-deliver-7", "not-a-digest"));
        }
    }

    @Test
    void backgroundDeliverer(@TempDir Path tmp) throws Exception {
        Hub hub = OutboxTest.hub.enrol("java-background");
        try (Key signingKey = hub.signingKey(); Signer signer = new Signer(signingKey); RecipientKey hubKey = hub.recipient();
                Outbox outbox = Outbox.open(tmp.resolve("bg.db"), hub.facility, to(hubKey))) {
            Deliverer deliverer;
            try (Transport transport = hub.transport(); Deliverer d = outbox.deliverer(transport, 200)) {
                deliverer = d;
                transport.close(); // the deliverer holds its own reference
                for (int n = 0; n < 10; n++) {
                    outbox.enqueue("java-bg-" + n, signer.sign(record(n)));
                    d.wakeUp();
                }
                assertTrue(waitFor(() -> outbox.status().delivered() == 10, 30000), outbox.status().toString());
                assertNull(d.lastReport().error());
            }
            assertTrue(deliverer.isClosed());
            assertThrows(IllegalStateException.class, deliverer::wakeUp);
            OutboxStatus status = outbox.status();
            assertEquals(10, status.delivered());
            assertEquals(0, status.queued());
            assertEquals(0, status.inFlight());
        }
    }

    @Test
    void hubDownKeepsRecordsQueued(@TempDir Path tmp) throws Exception {
        try (Key signingKey = hub.signingKey(); Signer signer = new Signer(signingKey); RecipientKey hubKey = hub.recipient();
                Outbox outbox = Outbox.open(tmp.resolve("down.db"), hub.facility, to(hubKey));
                Transport down = Transport.builder("https://127.0.0.1:9").facilityDir(hub.facilityDir).connectTimeoutMillis(2000)
                        .timeoutMillis(5000).build()) {
            outbox.enqueue("java-down-1", signer.sign(record(1)));
            DeliveryReport report = outbox.deliver(down);
            assertEquals(0, report.delivered());
            assertEquals(1, report.retried());
            assertTrue(report.error() instanceof TransportException, String.valueOf(report.error()));
            assertEquals("MEDSEAL_TRANSPORT_CONNECT", report.error().getName());
            assertFalse(report.error().getDetail().isEmpty());
            assertNotNull(report.nextAttemptAt());
            assertEquals(1, outbox.status().queued());
            try (Deliverer d = outbox.deliverer(down, 50)) {
                d.stop();
                d.stop(); // later stops do nothing
                assertNotNull(d.lastReport());
            }
        }
    }

    @Test
    void refusedRecordBecomesADeadLetter(@TempDir Path tmp) throws Exception {
        Hub hub = OutboxTest.hub.enrol("java-dead-letter"); // refused for its key, not for a number another outbox used
        try (Key strangerKey = Key.generate(Algorithm.EDDSA); Signer stranger = new Signer(strangerKey); RecipientKey hubKey = hub.recipient();
                Outbox outbox = Outbox.open(tmp.resolve("dead.db"), hub.facility, to(hubKey)); Transport transport = hub.transport()) {
            LocalReceipt local = outbox.enqueue("java-dead-1", stranger.sign(record(1)));
            DeliveryReport report = outbox.deliver(transport);
            assertEquals(1, report.deadLetters());
            assertEquals(0, report.delivered());
            assertArrayEquals(new long[] {local.outboxId()}, outbox.deadLetters());
            outbox.discard(local.outboxId(), "signed with an unregistered key");
            assertEquals(1, outbox.status().discarded());
        }
    }

    @Test
    void deadLetterWithdrawnWithASignedTombstoneIsNoGap(@TempDir Path tmp) throws Exception {
        // A record the hub refused keeps its number; withdrawing it with the facility's key sends a
        // signed tombstone in its place, which the hub ledgers as withdrawn with the reason.
        Hub hub = OutboxTest.hub.enrol("java-withdrawn");
        try (Key signingKey = hub.signingKey(); Signer signer = new Signer(signingKey); Key strangerKey = Key.generate(Algorithm.EDDSA);
                Signer stranger = new Signer(strangerKey); RecipientKey hubKey = hub.recipient();
                Outbox outbox = Outbox.open(tmp.resolve("w.db"), hub.facility, to(hubKey)); Transport transport = hub.transport()) {
            outbox.enqueue("java-w-1", signer.sign(record(1)));
            LocalReceipt refused = outbox.enqueue("java-w-2", stranger.sign(record(2))); // a key the hub does not know
            DeliveryReport report = outbox.deliver(transport);
            assertEquals(1, report.delivered());
            assertEquals(1, report.deadLetters());
            assertThrows(NullPointerException.class, () -> outbox.withdrawSigned(refused.outboxId(), "entered twice", null));
            assertThrows(NullPointerException.class, () -> outbox.withdrawSigned(refused.outboxId(), null, signer));
            assertMedseal(GeneralException.class, "MEDSEAL_INVALID_ARGUMENT", () -> outbox.withdrawSigned(refused.outboxId(), "", signer));
            assertMedseal(OutboxException.class, "MEDSEAL_OUTBOX_NOT_FOUND", () -> outbox.withdrawSigned(refused.outboxId() + 100, "no such record", signer));
            outbox.withdrawSigned(refused.outboxId(), "signed with a key the hub does not know", signer);
            assertMedseal(OutboxException.class, "MEDSEAL_OUTBOX_STATE", () -> outbox.withdrawSigned(refused.outboxId(), "again", signer));
            report = outbox.deliver(transport);
            assertNull(report.error());
            assertEquals(1, report.delivered());
            assertEquals(0, report.deadLetters());
            assertTrue(outbox.receipt("java-w-2").receipt().length > 0); // the tombstone's receipt
        }
        String audit = TestSupport.run(Arrays.asList(TestSupport.cli().toString(), "hub", "audit", "--dir", hub.dir.toString()));
        assertTrue(audit.contains("withdrawn 2: signed with a key the hub does not know"), audit);
        assertTrue(audit.contains("no gaps"), audit);
    }
}
