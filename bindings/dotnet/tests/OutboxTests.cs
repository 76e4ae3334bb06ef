// The outbox (enqueue, status, dead letters, requeue, discard, withdraw, signed withdrawal, backup)
// and delivery to the reference hub on 127.0.0.1 over mutual TLS, receipts checked.
using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using Medseal;
using NUnit.Framework;

namespace Medseal.Tests
{
    [TestFixture]
    public class OutboxTests
    {
        private Hub hub;

        [TestFixtureSetUp] public void StartHub() { hub = new Hub(); }
        [TestFixtureTearDown] public void StopHub() { if (hub != null) hub.Dispose(); }

        [Test]
        public void EnqueueStatusAndAdministration()
        {
            RecipientKey hubKey = RecipientKey.Generate();
            var signer = new Signer(Key.Generate());
            string dir = T.TempDir("outbox");
            string path = Path.Combine(dir, "outbox.db");
            using (var outbox = new Outbox(path, "hospital-a", new[] { hubKey.PublicKey() }))
            {
                OutboxStatus empty = outbox.Status();
                Assert.AreEqual(0UL, empty.Queued);
                Assert.AreEqual(1UL, empty.NextSequence);
                Assert.IsNull(empty.OldestQueuedAt);
                Assert.IsNull(empty.NextAttemptAt);
                byte[] jws = signer.Sign(T.Record(1));
                LocalReceipt first = outbox.Enqueue("rec-1", jws);
                Assert.AreEqual(1UL, first.Sequence);
                Assert.IsFalse(first.AlreadyQueued);
                Assert.AreEqual(32, first.Digest.Length);
                Assert.Greater(first.OutboxId, 0L);
                Assert.Less(Math.Abs((first.EnqueuedAt - DateTimeOffset.UtcNow).TotalMinutes), 5);
                LocalReceipt again = outbox.Enqueue("rec-1", jws);
                Assert.IsTrue(again.AlreadyQueued);
                Assert.AreEqual(first.OutboxId, again.OutboxId);
                CollectionAssert.AreEqual(first.Digest, again.Digest);
                T.Fails<OutboxException>("MEDSEAL_OUTBOX_DUPLICATE", () => outbox.Enqueue("rec-1", signer.Sign(T.Record(99))));
                LocalReceipt second = outbox.Enqueue("rec-2", signer.Sign(T.Record(2), JwsFormat.Compact));
                Assert.AreEqual(2UL, second.Sequence);
                OutboxStatus status = outbox.Status();
                Assert.AreEqual(2UL, status.Queued);
                Assert.AreEqual(3UL, status.NextSequence);
                Assert.IsNotNull(status.OldestQueuedAt);
                // Only a signed record is enqueued.
                T.Fails<JwsException>("MEDSEAL_JWS_MALFORMED", () => outbox.Enqueue("rec-x", T.Utf8("{\"not\":\"a jws\"}")));
                T.Fails<JwsException>("MEDSEAL_JWS_PAYLOAD_MISSING", () => outbox.Enqueue("rec-x", signer.Sign(T.Record(3), JwsFormat.DetachedCompact)));

                // A pre-sealed envelope must carry the next sequence number and be addressed to the hub.
                byte[] sealedBytes = signer.SignAndSeal(T.Record(3), new Meta("rec-3", "hospital-a", 3), new[] { hubKey });
                LocalReceipt third = outbox.EnqueueSealed(sealedBytes);
                Assert.AreEqual(3UL, third.Sequence);
                if (!Loader_IsCoreWithoutCrypto())
                    using (SHA256 sha = SHA256.Create()) CollectionAssert.AreEqual(sha.ComputeHash(sealedBytes), third.Digest);
                T.Fails<OutboxException>("MEDSEAL_OUTBOX_SEQUENCE", () => outbox.EnqueueSealed(signer.SignAndSeal(T.Record(5), new Meta("rec-5", "hospital-a", 9), new[] { hubKey })));
                T.Fails<SealException>("MEDSEAL_SEAL_WRONG_RECIPIENT", () => outbox.EnqueueSealed(signer.SignAndSeal(T.Record(4), new Meta("rec-4", "hospital-a", 4), new[] { RecipientKey.Generate() })));

                // Withdraw -> dead letter -> requeue; withdraw again -> discard.
                Assert.AreEqual(0, outbox.DeadLetters().Length);
                Assert.AreEqual(0UL, outbox.DeadLetterCount);
                outbox.Withdraw(second.OutboxId, "enqueued by mistake");
                CollectionAssert.AreEqual(new[] { second.OutboxId }, outbox.DeadLetters());
                Assert.AreEqual(1UL, outbox.DeadLetterCount);
                Assert.AreEqual(1UL, outbox.Status().DeadLetter);
                outbox.Requeue(second.OutboxId);
                Assert.AreEqual(0, outbox.DeadLetters().Length);
                Assert.AreEqual(3UL, outbox.Status().Queued);
                outbox.Withdraw(second.OutboxId, "wrong patient");
                outbox.Discard(second.OutboxId, "the ward confirmed");
                Assert.AreEqual(1UL, outbox.Status().Discarded);
                T.Fails<OutboxException>("MEDSEAL_OUTBOX_STATE", () => outbox.Requeue(second.OutboxId));
                T.Fails<OutboxException>("MEDSEAL_OUTBOX_NOT_FOUND", () => outbox.Requeue(987654));
                T.Fails<OutboxException>("MEDSEAL_OUTBOX_STATE", () => outbox.Discard(first.OutboxId, "not a dead letter"));
                Assert.Throws<MedsealGeneralException>(() => outbox.Withdraw(first.OutboxId, ""));
                T.Fails<OutboxException>("MEDSEAL_OUTBOX_NOT_FOUND", () => outbox.GetReceipt("no-such-record"));
                T.Fails<OutboxException>("MEDSEAL_OUTBOX_STATE", () => outbox.GetReceipt("rec-1"));

                string backup = Path.Combine(dir, "backup.db");
                outbox.Backup(backup);
                Assert.IsTrue(File.Exists(backup));
                T.Fails<OutboxException>("MEDSEAL_OUTBOX_IO", () => outbox.Backup(backup));
                using (var copy = new Outbox(backup, "hospital-a"))
                    Assert.AreEqual(2UL, copy.Status().Queued);
            }
            T.Fails<MedsealGeneralException>("MEDSEAL_INVALID_ARGUMENT", () => new Outbox(path, "hospital-b"));
            File.WriteAllText(Path.Combine(dir, "not-an-outbox.db"), "this is not SQLite, not at all, no.........................................................");
            Assert.Throws<OutboxException>(() => new Outbox(Path.Combine(dir, "not-an-outbox.db"), "hospital-a"));
            T.Fails<OutboxException>("MEDSEAL_OUTBOX_IO", () => new Outbox("/nonexistent/dir/outbox.db", "hospital-a"));
        }

        /// <summary>Issue 10 point 10: an outbox opened with the facility's signing keys verifies each record before it
        /// takes a number: another key's record, a made-up signature and an unsigned document are refused and use none,
        /// so the next good record still gets sequence 1.</summary>
        [Test]
        public void SigningKeysRefuseBeforeNumbering()
        {
            RecipientKey hubKey = RecipientKey.Generate();
            using (Key own = Key.Generate())
            using (Key ownPublic = own.PublicKey())
            using (var signer = new Signer(own))
            using (var foreign = new Signer(Key.Generate()))
            {
                string path = Path.Combine(T.TempDir("signing-keys"), "checked.db");
                using (var outbox = new Outbox(path, "hospital-a", new[] { hubKey }, new[] { ownPublic }))
                {
                    Func<string, byte[]> b64 = s => T.Utf8(Convert.ToBase64String(T.Utf8(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_'));
                    byte[] madeUp = T.Utf8(T.Text(b64("{\"alg\":\"EdDSA\",\"sigT\":\"2026-01-01T00:00:00Z\",\"typ\":\"medseal+jws\"}")) + "."
                        + T.Text(b64("{\"id\":\"1\"}")) + "." + T.Text(b64("sig")));
                    T.Fails<JwsException>("MEDSEAL_JWS_SIGNATURE_INVALID", () => outbox.Enqueue("rec-bad", foreign.Sign(T.Record(1)))); // another hospital's
                    T.Fails<JwsException>("MEDSEAL_JWS_SIGNATURE_INVALID", () => outbox.Enqueue("rec-bad", madeUp));
                    T.Fails<JwsException>("MEDSEAL_JWS_MALFORMED", () => outbox.Enqueue("rec-bad", T.Record(1))); // an unsigned document
                    Assert.AreEqual(1UL, outbox.Status().NextSequence);
                    Assert.AreEqual(1UL, outbox.Enqueue("rec-1", signer.Sign(T.Record(1))).Sequence); // no number was used
                }
                // Without keys the outbox does not verify: the foreign record takes number 2 (the hub would refuse it).
                using (var unchecked_ = new Outbox(path, "hospital-a", new[] { hubKey }))
                    Assert.AreEqual(2UL, unchecked_.Enqueue("rec-2", foreign.Sign(T.Record(2))).Sequence);
                Assert.Throws<ArgumentException>(() => new Outbox(path, "hospital-a", new[] { hubKey }, new Key[0]));
                var tooMany = new Key[65];
                for (int i = 0; i < tooMany.Length; i++) tooMany[i] = ownPublic;
                Assert.Throws<ArgumentException>(() => new Outbox(path, "hospital-a", new[] { hubKey }, tooMany));
                Assert.Throws<ArgumentNullException>(() => new Outbox(path, "hospital-a", new[] { hubKey }, (System.Collections.Generic.IList<Key>)null));
                Assert.Throws<ArgumentNullException>(() => new Outbox(path, "hospital-a", new[] { hubKey }, new Key[] { null }));
            }
        }

        private static bool Loader_IsCoreWithoutCrypto() { return Type.GetType("Mono.Runtime") == null; }

        [Test]
        public void TheTlsClientKeyStaysOnTheToken()
        {
            // The hospital makes its TLS key on its token (facility init --tls-pkcs11-...), the hub enrols the request,
            // and each handshake is signed on the token: no client.key anywhere.
            string cli = T.Env("MEDSEAL_CLI"), module = T.Env("MEDSEAL_TEST_PKCS11_MODULE"), token = T.Env("MEDSEAL_TEST_PKCS11_TOKEN");
            string pin = T.Env("MEDSEAL_TEST_PKCS11_PIN"), facility = "dotnet-token-tls";
            string label = "dotnet-tls-" + Guid.NewGuid().ToString("N").Substring(0, 8); // Mono and .NET Core share the token
            string dir = Path.Combine(T.TempDir("token"), "facility");
            T.Run(cli, "facility init --facility " + facility + " --dir " + dir + " --tls-pkcs11-module " + module
                + " --tls-pkcs11-token " + token + " --tls-key-label " + label, env: new Dictionary<string, string> { { "MEDSEAL_PKCS11_PIN", pin } });
            T.Run(cli, "hub enroll --dir " + hub.Dir + " --facility " + facility + " --signing-key " + Path.Combine(dir, "signing.pub")
                + " --csr " + Path.Combine(dir, "client.csr") + " --out " + dir);
            Assert.IsFalse(File.Exists(Path.Combine(dir, "client.key")));
            Assert.IsFalse(new Pkcs11Key(module, token, label, pin).ToString().Contains(pin));

            T.Fails<TransportException>("MEDSEAL_TRANSPORT_CONFIG", () => new Transport(hub.Url, new TransportOptions { FacilityDir = dir }));
            MedsealException wrong = T.Fails<SignerException>("MEDSEAL_PKCS11_PIN", () => new Transport(hub.Url,
                new TransportOptions { FacilityDir = dir, ClientKeyPkcs11 = new Pkcs11Key(module, token, label, "000000") }));
            Assert.IsFalse(wrong.Message.Contains(pin), wrong.Message);
            T.Fails<SignerException>("MEDSEAL_PKCS11_KEY_NOT_FOUND", () => new Transport(hub.Url,
                new TransportOptions { FacilityDir = dir, ClientKeyPkcs11 = new Pkcs11Key(module, token, "no-such-key", pin) }));
            // The token's other key is not the certificate's: refused before any connection.
            T.Fails<TransportException>("MEDSEAL_TRANSPORT_CONFIG", () => new Transport(hub.Url,
                new TransportOptions { FacilityDir = dir, ClientKeyPkcs11 = new Pkcs11Key(module, token, T.Env("MEDSEAL_TEST_PKCS11_EC_KEY"), pin) }));

            using (Key signingKey = Key.Load(File.ReadAllBytes(Path.Combine(dir, "signing.key"))))
            using (var signer = new Signer(signingKey))
            using (RecipientKey hubRecipient = RecipientKey.Load(File.ReadAllBytes(Path.Combine(dir, "hub-recipient.pub"))))
            using (var outbox = new Outbox(Path.Combine(dir, "outbox.db"), facility, new[] { hubRecipient }))
            using (var transport = new Transport(hub.Url, new TransportOptions { FacilityDir = dir, ClientKeyPkcs11 = new Pkcs11Key(module, token, label, pin) }))
            using (Key receiptKey = Key.Load(File.ReadAllBytes(Path.Combine(dir, "receipt.pub"))))
            using (Key treeHeadKey = Key.Load(File.ReadAllBytes(Path.Combine(dir, "tree-head.pub"))))
            {
                LocalReceipt local = outbox.Enqueue("dotnet-token-1", signer.Sign(T.Record(1)));
                DeliveryReport report = outbox.Deliver(transport);
                Assert.IsNull(report.Error, report.Error == null ? "" : report.Error.Message);
                Assert.AreEqual(1UL, report.Delivered);
                StoredReceipt stored = outbox.GetReceipt("dotnet-token-1");
                Receipt r = Receipt.Verify(stored.Receipt, stored.InclusionProof, receiptKey, treeHeadKey, facility, "dotnet-token-1", local.Digest);
                Assert.AreEqual(1UL, r.Sequence);
            }
        }

        [Test]
        public void DeliverToTheHubAndCheckReceipts()
        {
            Hub hub = this.hub.Enrol("dotnet-deliver"); // a new outbox numbers from 1: its own facility
            string dir = T.TempDir("deliver");
            using (Key signingKey = hub.SigningKey())
            using (var signer = new Signer(signingKey))
            using (RecipientKey hubRecipient = hub.Recipient())
            using (var outbox = new Outbox(Path.Combine(dir, "outbox.db"), hub.Facility, new[] { hubRecipient }))
            using (Transport transport = hub.Transport(new TransportOptions { Timeout = TimeSpan.FromSeconds(20), BatchSize = 50 }))
            {
                var receipts = new LocalReceipt[5];
                for (int i = 0; i < receipts.Length; i++) receipts[i] = outbox.Enqueue("rec-" + i, signer.Sign(T.Record(i)));
                DeliveryReport report = outbox.Deliver(transport);
                Assert.IsNull(report.Error, report.Error == null ? "" : report.Error.Message);
                Assert.AreEqual(5UL, report.Delivered);
                Assert.AreEqual(0UL, report.DeadLetters);
                OutboxStatus status = outbox.Status();
                Assert.AreEqual(5UL, status.Delivered);
                Assert.AreEqual(0UL, status.Queued);
                // Nothing left: a second run delivers nothing.
                Assert.AreEqual(0UL, outbox.Deliver(transport).Delivered);
                using (Key receiptKey = hub.HubKey("receipt.pub"))
                using (Key treeHeadKey = hub.HubKey("tree-head.pub"))
                {
                    for (int i = 0; i < receipts.Length; i++)
                    {
                        StoredReceipt stored = outbox.GetReceipt("rec-" + i);
                        Receipt r = Receipt.Verify(stored.Receipt, stored.InclusionProof, receiptKey, treeHeadKey, hub.Facility, "rec-" + i, receipts[i].Digest);
                        Assert.AreEqual("rec-" + i, r.RecordId);
                        Assert.AreEqual(hub.Facility, r.Source);
                        Assert.AreEqual(receipts[i].Sequence, r.Sequence);
                        CollectionAssert.AreEqual(receipts[i].Digest, r.Digest);
                        Assert.Less(r.LedgerIndex, r.TreeSize);
                        Assert.Less(Math.Abs((r.Received - DateTimeOffset.UtcNow).TotalMinutes), 10);
                    }
                    StoredReceipt s0 = outbox.GetReceipt("rec-0");
                    T.Fails<LedgerException>("MEDSEAL_LEDGER_RECEIPT_INVALID",
                        () => Receipt.Verify(s0.Receipt, s0.InclusionProof, receiptKey, treeHeadKey, hub.Facility, "rec-1", receipts[0].Digest));
                    T.Fails<LedgerException>("MEDSEAL_LEDGER_RECEIPT_INVALID",
                        () => Receipt.Verify(s0.Receipt, s0.InclusionProof, treeHeadKey, treeHeadKey, hub.Facility, "rec-0", receipts[0].Digest));
                    T.Fails<MedsealGeneralException>("MEDSEAL_INVALID_ARGUMENT",
                        () => Receipt.Verify(s0.Receipt, s0.InclusionProof, receiptKey, treeHeadKey, hub.Facility, "rec-0", "not-a-digest"));
                }
            }
        }

        [Test]
        public void BackgroundDeliverer()
        {
            Hub hub = this.hub.Enrol("dotnet-background");
            string dir = T.TempDir("deliverer");
            using (var signer = new Signer(hub.SigningKey()))
            using (var outbox = new Outbox(Path.Combine(dir, "outbox.db"), hub.Facility, new[] { hub.Recipient() }))
            using (Transport transport = hub.Transport())
            using (Deliverer deliverer = outbox.StartDeliverer(transport, TimeSpan.FromMilliseconds(200)))
            {
                for (int i = 0; i < 3; i++)
                {
                    outbox.Enqueue("bg-" + i, signer.Sign(T.Record(100 + i)));
                    deliverer.Notify();
                }
                DateTime deadline = DateTime.UtcNow.AddSeconds(30);
                while (outbox.Status().Delivered < 3 && DateTime.UtcNow < deadline) Thread.Sleep(50);
                Assert.AreEqual(3UL, outbox.Status().Delivered);
                DeliveryReport last = deliverer.LastReport();
                Assert.IsNull(last.Error);
                deliverer.Stop();
                deliverer.Stop();
                Assert.IsNotNull(outbox.GetReceipt("bg-2").Receipt);
            }
        }

        [Test]
        public void TransportFromExplicitPemsAndOptions()
        {
            Hub hub = this.hub.Enrol("dotnet-pems");
            // The same configuration as the facility directory, given piece by piece.
            using (Key receiptKey = hub.HubKey("receipt.pub"))
            using (Key treeHeadKey = hub.HubKey("tree-head.pub"))
            {
                Func<TransportOptions> pems = () => new TransportOptions
                {
                    ClientCertificate = hub.File("client.pem"), ClientKey = hub.File("client.key"), HubCa = hub.File("hub-ca.pem"),
                    ReceiptKey = receiptKey, TreeHeadKey = treeHeadKey,
                    ConnectTimeout = TimeSpan.FromSeconds(5), Timeout = TimeSpan.FromSeconds(20), BatchSize = 1000,
                };
                string dir = T.TempDir("pems");
                using (var signer = new Signer(hub.SigningKey()))
                using (var outbox = new Outbox(Path.Combine(dir, "outbox.db"), hub.Facility, new[] { hub.Recipient() }))
                using (var transport = new Transport(hub.Url, pems()))
                {
                    outbox.Enqueue("pem-1", signer.Sign(T.Record(7)));
                    DeliveryReport report = outbox.Deliver(transport);
                    Assert.IsNull(report.Error);
                    Assert.AreEqual(1UL, report.Delivered);
                }
                TransportOptions missingKey = pems(); missingKey.ClientKey = null;
                T.Fails<TransportException>("MEDSEAL_TRANSPORT_CONFIG", () => new Transport(hub.Url, missingKey));
                TransportOptions noReceiptKey = pems(); noReceiptKey.ReceiptKey = null;
                T.Fails<TransportException>("MEDSEAL_TRANSPORT_CONFIG", () => new Transport(hub.Url, noReceiptKey));
                TransportOptions both = pems(); both.PublicRoots = true;
                T.Fails<TransportException>("MEDSEAL_TRANSPORT_CONFIG", () => new Transport(hub.Url, both));
                TransportOptions roots = pems(); roots.HubCa = null; roots.PublicRoots = true;
                using (new Transport(hub.Url, roots)) { }
                TransportOptions proxy = pems(); proxy.Proxy = "http://proxy.invalid:3128";
                using (new Transport(hub.Url, proxy)) { }
                TransportOptions badProxy = pems(); badProxy.Proxy = "ftp://nope";
                T.Fails<TransportException>("MEDSEAL_TRANSPORT_CONFIG", () => new Transport(hub.Url, badProxy));
                TransportOptions fromEnv = pems(); fromEnv.ProxyFromEnvironment = true;
                using (new Transport(hub.Url, fromEnv)) { }
                TransportOptions badBatch = pems(); badBatch.BatchSize = 1001;
                T.Fails<TransportException>("MEDSEAL_TRANSPORT_CONFIG", () => new Transport(hub.Url, badBatch));
                TransportOptions negative = pems(); negative.Timeout = TimeSpan.FromSeconds(-1);
                Assert.Throws<ArgumentOutOfRangeException>(() => new Transport(hub.Url, negative));
            }
        }

        [Test]
        public void TransportErrors()
        {
            T.Fails<TransportException>("MEDSEAL_TRANSPORT_CONFIG", () => new Transport("http://127.0.0.1:1", new TransportOptions { FacilityDir = hub.FacilityDir }));
            T.Fails<TransportException>("MEDSEAL_TRANSPORT_CONFIG", () => new Transport(hub.Url));
            T.Fails<TransportException>("MEDSEAL_TRANSPORT_CONFIG", () => new Transport(hub.Url, new TransportOptions { FacilityDir = "/nonexistent" }));
            T.Fails<TransportException>("MEDSEAL_TRANSPORT_CONFIG", () => new Transport(hub.Url, new TransportOptions { ClientCertificate = T.Utf8("garbage") }));
            Assert.Catch<MedsealException>(() => hub.Transport(new TransportOptions { BatchSize = 0 }));
            // The hub unreachable: the delivery report says why, nothing is thrown, the record waits.
            string dir = T.TempDir("unreachable");
            using (var signer = new Signer(hub.SigningKey()))
            using (var outbox = new Outbox(Path.Combine(dir, "outbox.db"), hub.Facility, new[] { hub.Recipient() }))
            using (var transport = new Transport("https://127.0.0.1:9", new TransportOptions { FacilityDir = hub.FacilityDir, ConnectTimeout = TimeSpan.FromSeconds(2) }))
            {
                outbox.Enqueue("r-1", signer.Sign(T.Record(1)));
                DeliveryReport report = outbox.Deliver(transport);
                Assert.AreEqual(0UL, report.Delivered);
                Assert.AreEqual(1UL, report.Retried);
                Assert.IsNotNull(report.Error);
                Assert.AreEqual("MEDSEAL_TRANSPORT_CONNECT", report.Error.Name);
                Assert.IsInstanceOf<TransportException>(report.Error);
                Assert.IsTrue(report.NextAttemptAt.HasValue);
                Assert.AreEqual(1UL, outbox.Status().Queued);
            }
        }

        [Test]
        public void DeadLetterWithdrawnWithASignedTombstoneIsNoGap()
        {
            // A record the hub refused keeps its number; withdrawing it with the facility's key sends a signed
            // tombstone in its place, which the hub ledgers as withdrawn with the reason.
            Hub hub = this.hub.Enrol("dotnet-withdrawn");
            string dir = T.TempDir("withdrawn");
            using (Key signingKey = hub.SigningKey())
            using (var signer = new Signer(signingKey))
            using (var stranger = new Signer(Key.Generate())) // a key the hub does not know
            using (RecipientKey hubRecipient = hub.Recipient())
            using (var outbox = new Outbox(Path.Combine(dir, "w.db"), hub.Facility, new[] { hubRecipient }))
            using (Transport transport = hub.Transport())
            {
                outbox.Enqueue("dotnet-w-1", signer.Sign(T.Record(1)));
                LocalReceipt refused = outbox.Enqueue("dotnet-w-2", stranger.Sign(T.Record(2)));
                DeliveryReport report = outbox.Deliver(transport);
                Assert.AreEqual(1UL, report.Delivered);
                Assert.AreEqual(1UL, report.DeadLetters);
                Assert.Throws<ArgumentNullException>(() => outbox.WithdrawSigned(refused.OutboxId, "entered twice", null));
                Assert.Throws<ArgumentNullException>(() => outbox.WithdrawSigned(refused.OutboxId, null, signer));
                T.Fails<MedsealGeneralException>("MEDSEAL_INVALID_ARGUMENT", () => outbox.WithdrawSigned(refused.OutboxId, "", signer));
                T.Fails<OutboxException>("MEDSEAL_OUTBOX_NOT_FOUND", () => outbox.WithdrawSigned(refused.OutboxId + 100, "no such record", signer));
                outbox.WithdrawSigned(refused.OutboxId, "signed with a key the hub does not know", signer);
                T.Fails<OutboxException>("MEDSEAL_OUTBOX_STATE", () => outbox.WithdrawSigned(refused.OutboxId, "again", signer));
                report = outbox.Deliver(transport);
                Assert.IsNull(report.Error, report.Error == null ? "" : report.Error.Message);
                Assert.AreEqual(1UL, report.Delivered);
                Assert.AreEqual(0UL, report.DeadLetters);
                Assert.IsNotEmpty(outbox.GetReceipt("dotnet-w-2").Receipt); // the tombstone's receipt
            }
            string audit = T.Run(T.Env("MEDSEAL_CLI"), "hub audit --dir " + hub.Dir);
            StringAssert.Contains("withdrawn 2: signed with a key the hub does not know", audit);
            StringAssert.Contains("no gaps", audit);
        }
    }
}
