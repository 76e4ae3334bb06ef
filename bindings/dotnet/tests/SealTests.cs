// Recipient keys, meta, sealing and opening.
using System;
using Medseal;
using NUnit.Framework;

namespace Medseal.Tests
{
    [TestFixture]
    public class SealTests
    {
        [Test]
        public void RecipientKeys()
        {
            using (RecipientKey key = RecipientKey.Generate())
            {
                Assert.IsTrue(key.HasPrivate);
                Assert.AreEqual(43, key.Kid.Length);
                using (RecipientKey pub = key.PublicKey())
                {
                    Assert.IsFalse(pub.HasPrivate);
                    Assert.AreEqual(key.Kid, pub.Kid);
                    T.Fails<KeyException>("MEDSEAL_KEY_NOT_PRIVATE", () => pub.Export(KeyFormat.Pkcs8Pem));
                    StringAssert.Contains("\"use\":\"enc\"", T.Text(pub.Export(KeyFormat.Jwk)));
                }
                foreach (KeyFormat f in new[] { KeyFormat.Pkcs8Pem, KeyFormat.Pkcs8Der, KeyFormat.SpkiPem, KeyFormat.SpkiDer, KeyFormat.Jwk })
                    using (RecipientKey again = RecipientKey.Load(key.Export(f)))
                        Assert.AreEqual(key.Kid, again.Kid, f.ToString());
                byte[] raw = key.Export(KeyFormat.RawPrivate);
                Assert.AreEqual(32, raw.Length);
                using (RecipientKey fromRaw = RecipientKey.FromRaw(raw, true)) Assert.AreEqual(key.Kid, fromRaw.Kid);
                using (RecipientKey fromRaw = RecipientKey.FromRaw(key.Export(KeyFormat.RawPublic), false)) Assert.IsFalse(fromRaw.HasPrivate);
            }
            T.Fails<KeyException>("MEDSEAL_KEY_INVALID", () => RecipientKey.FromRaw(new byte[31], true));
            T.Fails<KeyException>("MEDSEAL_KEY_UNSUPPORTED", () => RecipientKey.LoadFile(T.Smoke("signer_ed25519.pem")));
            T.Fails<KeyException>("MEDSEAL_KEY_FORMAT", () => RecipientKey.Load("nothing"));
        }

        [Test]
        public void SealOpenEveryEncodingAndAead()
        {
            RecipientKey hub = RecipientKey.Generate(), archive = RecipientKey.Generate();
            byte[] plaintext = T.Utf8("a signed record, or anything");
            var meta = new Meta("rec-1", "hospital-a", 7) { Created = new DateTimeOffset(2025, 1, 31, 8, 0, 0, TimeSpan.Zero), ContentType = "text/plain" };
            foreach (EnvelopeEncoding enc in new[] { EnvelopeEncoding.Json, EnvelopeEncoding.Protobuf })
                foreach (Aead aead in new[] { Aead.Aes256Gcm, Aead.ChaCha20Poly1305 })
                {
                    byte[] sealedBytes = Envelope.Seal(plaintext, meta, new[] { hub.PublicKey(), archive.PublicKey() }, aead, enc);
                    CollectionAssert.AreEqual(plaintext, hub.Open(sealedBytes));
                    CollectionAssert.AreEqual(plaintext, archive.Open(sealedBytes));
                    using (var e = new Envelope(sealedBytes))
                    {
                        Meta m = e.Meta;
                        Assert.AreEqual("rec-1", m.RecordId);
                        Assert.AreEqual("hospital-a", m.Source);
                        Assert.AreEqual(7UL, m.Sequence);
                        Assert.AreEqual("text/plain", m.ContentType);
                        Assert.AreEqual(meta.Created, m.Created);
                        CollectionAssert.AreEqual(plaintext, e.Open(archive));
                        var buf = new byte[plaintext.Length + 10];
                        Assert.AreEqual(plaintext.Length, e.OpenInto(hub, buf));
                        T.Fails<SealException>("MEDSEAL_SEAL_WRONG_RECIPIENT", () => e.Open(RecipientKey.Generate()));
                        T.Fails<KeyException>("MEDSEAL_KEY_NOT_PRIVATE", () => e.Open(hub.PublicKey()));
                        T.Fails<MedsealGeneralException>("MEDSEAL_BUFFER_TOO_SMALL", () => e.OpenInto(hub, new byte[3]));
                    }
                }
        }

        [Test]
        public void CallerMemory()
        {
            RecipientKey hub = RecipientKey.Generate();
            byte[] plaintext = new byte[100000];
            new Random(5).NextBytes(plaintext);
            var meta = new Meta("rec-2", "hospital-a", 1);
            int size = Envelope.SealedSize(plaintext, meta, new[] { hub });
            var output = new byte[size];
            Assert.AreEqual(size, Envelope.SealInto(plaintext, meta, new[] { hub }, output));
            Assert.AreEqual(plaintext.Length, hub.PlaintextSize(output));
            var opened = new byte[plaintext.Length];
            Assert.AreEqual(plaintext.Length, hub.OpenInto(output, opened));
            CollectionAssert.AreEqual(plaintext, opened);
            CollectionAssert.AreEqual(plaintext, hub.Open(output));
            T.Fails<MedsealGeneralException>("MEDSEAL_BUFFER_TOO_SMALL", () => Envelope.SealInto(plaintext, meta, new[] { hub }, new byte[size - 1]));
            T.Fails<MedsealGeneralException>("MEDSEAL_BUFFER_TOO_SMALL", () => hub.OpenInto(output, new byte[10]));
        }

        [Test]
        public void Refusals()
        {
            RecipientKey hub = RecipientKey.Generate();
            byte[] sealedBytes = Envelope.Seal(T.Utf8("x"), new Meta("r", "s", 1), new[] { hub });
            byte[] truncated = new byte[sealedBytes.Length / 2];
            Array.Copy(sealedBytes, truncated, truncated.Length);
            Assert.Throws<SealException>(() => hub.Open(truncated));
            byte[] altered = (byte[])sealedBytes.Clone();
            altered[altered.Length - 1] ^= 1;
            T.Fails<SealException>("MEDSEAL_SEAL_DECRYPT_FAILED", () => hub.Open(altered));
            T.Fails<SealException>("MEDSEAL_SEAL_NOT_PROTOBUF", () => new Envelope(T.Utf8("garbage!")));
            Assert.Throws<SealException>(() => new Envelope(T.Utf8("{\"meta\":1}")));
            T.Fails<SealException>("MEDSEAL_SEAL_META_INVALID", () => Envelope.Seal(T.Utf8("x"), new Meta("", "s", 1), new[] { hub }));
            T.Fails<SealException>("MEDSEAL_SEAL_META_INVALID", () => Envelope.Seal(T.Utf8("x"), new Meta("r", "s", 0), new[] { hub }));
            T.Fails<SealException>("MEDSEAL_SEAL_META_INVALID", () => Envelope.Seal(T.Utf8("x"), new Meta("r", "s", 1) { ContentType = "a\nb" }, new[] { hub }));
            Assert.Catch<MedsealException>(() => Envelope.Seal(T.Utf8("x"), new Meta("r", "s", 1), new RecipientKey[0]));
            var seventeen = new RecipientKey[17];
            for (int i = 0; i < seventeen.Length; i++) seventeen[i] = RecipientKey.Generate();
            Assert.Throws<MedsealGeneralException>(() => Envelope.Seal(T.Utf8("x"), new Meta("r", "s", 1), seventeen));
            Assert.Throws<ArgumentNullException>(() => Envelope.Seal(T.Utf8("x"), new Meta("r", "s", 1), new RecipientKey[] { null }));
            Assert.Throws<ArgumentNullException>(() => Envelope.Seal(T.Utf8("x"), new Meta(null, "s", 1), new[] { hub }));
            RecipientKey gone = RecipientKey.Generate();
            gone.Dispose();
            Assert.Throws<ObjectDisposedException>(() => Envelope.Seal(T.Utf8("x"), new Meta("r", "s", 1), new[] { gone }));
            // A plain record (not a JWS) does not open verified.
            using (var v = new Verifier(Key.Generate()))
                Assert.Throws<SealException>(() => hub.OpenVerified(Envelope.Seal(T.Utf8("{}"), new Meta("r", "s", 1) { ContentType = "text/plain" }, new[] { hub }), v));
        }
    }
}
