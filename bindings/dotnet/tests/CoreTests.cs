// The loader, result names, canonical JSON, keys and the shared smoke scenario.
using System;
using System.IO;
using System.Text;
using Medseal;
using NUnit.Framework;

namespace Medseal.Tests
{
    [TestFixture]
    public class LoaderTests
    {
        [Test]
        public void VersionsAndAbi()
        {
            MedsealLibrary.Load();
            Assert.AreEqual(1, MedsealLibrary.AbiVersion);
            Assert.AreEqual(1, MedsealLibrary.LibraryAbiVersion);
            StringAssert.IsMatch(@"^\d+\.\d+\.\d+", MedsealLibrary.Version);
            Assert.AreEqual(MedsealLibrary.BindingVersion, MedsealLibrary.Version);
            Assert.AreEqual(1024, MedsealLibrary.MaxSignatureBytes);
        }

        [Test]
        public void LibraryPathIsTheOneChosen()
        {
            string path = MedsealLibrary.LibraryPath;
            Assert.IsNotNull(path, "the loader found the library itself");
            Assert.IsTrue(File.Exists(path), path);
            StringAssert.EndsWith("libmedseal.so", path);
        }

        [Test]
        public void ResultNamesComeFromTheLibrary()
        {
            Assert.AreEqual("MEDSEAL_OK", MedsealLibrary.ResultName(0));
            Assert.AreEqual("MEDSEAL_JWS_SIGNATURE_INVALID", MedsealLibrary.ResultName(307));
            Assert.AreEqual("MEDSEAL_LEDGER_RANGE", MedsealLibrary.ResultName(903));
            StringAssert.Contains("UNKNOWN", MedsealLibrary.ResultName(4242).ToUpperInvariant());
            Assert.IsNotEmpty(MedsealLibrary.ResultDescription(307));
            Assert.AreNotEqual(MedsealLibrary.ResultDescription(307), MedsealLibrary.ResultDescription(306));
        }

        [Test]
        public void ExceptionClassPerBlock()
        {
            Assert.IsInstanceOf<MedsealGeneralException>(MedsealException.Create(2, "x"));
            Assert.IsInstanceOf<CanonicalJsonException>(MedsealException.Create(106, "x"));
            Assert.IsInstanceOf<KeyException>(MedsealException.Create(205, "x"));
            Assert.IsInstanceOf<JwsException>(MedsealException.Create(307, "x"));
            Assert.IsInstanceOf<SealException>(MedsealException.Create(405, "x"));
            Assert.IsInstanceOf<TrustException>(MedsealException.Create(503, "x"));
            Assert.IsInstanceOf<SignerException>(MedsealException.Create(600, "x"));
            Assert.IsInstanceOf<OutboxException>(MedsealException.Create(703, "x"));
            Assert.IsInstanceOf<TransportException>(MedsealException.Create(806, "x"));
            Assert.IsInstanceOf<LedgerException>(MedsealException.Create(900, "x"));
            MedsealException e = MedsealException.Create(405, "altered");
            Assert.AreEqual(405, e.Code);
            Assert.AreEqual("MEDSEAL_SEAL_DECRYPT_FAILED", e.Name);
            Assert.AreEqual("altered", e.Detail);
            Assert.AreEqual("MEDSEAL_SEAL_DECRYPT_FAILED (405): altered", e.Message);
        }
    }

    [TestFixture]
    public class CanonTests
    {
        [Test]
        public void SortsAndWritesNumbersCanonically()
        {
            Assert.AreEqual("{\"a\":[1,\"x\"],\"b\":true}", T.Text(CanonicalJson.Canonicalize("{ \"b\" : true, \"a\" : [ 1 , \"x\" ] }")));
            Assert.AreEqual("{\"n\":100}", T.Text(CanonicalJson.Canonicalize(T.Utf8("{\"n\":1e2}"), CanonFlags.AllowLossyNumbers)));
            Assert.AreEqual("{\"n\":1.5}", T.Text(CanonicalJson.Canonicalize("{\"n\":1.50}", CanonFlags.Plain)));
        }

        [Test]
        public void StreamOverload()
        {
            var output = new MemoryStream();
            CanonicalJson.Canonicalize(new MemoryStream(T.SmokeBytes("patient.json")), output);
            CollectionAssert.AreEqual(T.SmokeBytes("patient.canonical.json"), output.ToArray());
        }

        [Test]
        public void Refusals()
        {
            T.Fails<CanonicalJsonException>("MEDSEAL_JSON_LOSSY_NUMBER", () => CanonicalJson.Canonicalize("{\"n\":1.50}"));
            T.Fails<CanonicalJsonException>("MEDSEAL_JSON_DUPLICATE_KEY", () => CanonicalJson.Canonicalize("{\"a\":1,\"a\":2}"));
            T.Fails<CanonicalJsonException>("MEDSEAL_JSON_SYNTAX", () => CanonicalJson.Canonicalize("{\"a\":"));
            T.Fails<CanonicalJsonException>("MEDSEAL_JSON_INVALID_UTF8", () => CanonicalJson.Canonicalize(new byte[] { 0x22, 0xff, 0x22 }));
            T.Fails<CanonicalJsonException>("MEDSEAL_JSON_NOT_NFC", () => CanonicalJson.Canonicalize(T.SmokeBytes("patient_nfd.json")));
            T.Fails<CanonicalJsonException>("MEDSEAL_JSON_LONE_SURROGATE", () => CanonicalJson.Canonicalize("[\"\\ud800\"]"));
            T.Fails<CanonicalJsonException>("MEDSEAL_JSON_NUMBER_OUT_OF_RANGE", () => CanonicalJson.Canonicalize("[9007199254740993]"));
            T.Fails<CanonicalJsonException>("MEDSEAL_JSON_NOT_FHIR", () => CanonicalJson.Canonicalize("[1]", CanonFlags.FhirData));
            T.Fails<MedsealGeneralException>("MEDSEAL_INVALID_ARGUMENT", () => CanonicalJson.Canonicalize("{}", (CanonFlags)0x4000));
            Assert.Throws<ArgumentNullException>(() => CanonicalJson.Canonicalize((byte[])null));
            Assert.Throws<ArgumentNullException>(() => CanonicalJson.Canonicalize((string)null));
        }

        [Test]
        public void NfcAndFhirVariants()
        {
            CollectionAssert.AreEqual(T.SmokeBytes("patient.canonical.json"),
                CanonicalJson.Canonicalize(T.SmokeBytes("patient_nfd.json"), CanonFlags.NormalizeNfc));
            string doc = "{\"resourceType\":\"Patient\",\"id\":\"p\",\"meta\":{\"v\":1},\"text\":{\"div\":\"x\"},\"active\":true}";
            Assert.AreEqual("{\"active\":true,\"id\":\"p\",\"meta\":{\"v\":1},\"resourceType\":\"Patient\"}", T.Text(CanonicalJson.Canonicalize(doc, CanonFlags.FhirData)));
            Assert.AreEqual("{\"active\":true,\"id\":\"p\",\"resourceType\":\"Patient\"}", T.Text(CanonicalJson.Canonicalize(doc, CanonFlags.FhirStatic)));
            Assert.AreEqual("{\"active\":true,\"resourceType\":\"Patient\",\"text\":{\"div\":\"x\"}}", T.Text(CanonicalJson.Canonicalize(doc, CanonFlags.FhirDocument)));
        }
    }

    [TestFixture]
    public class KeyTests
    {
        [Test]
        public void GenerateExportLoad()
        {
            foreach (Algorithm alg in new[] { Algorithm.EdDSA, Algorithm.ES256 })
                using (Key key = Key.Generate(alg))
                {
                    Assert.AreEqual(alg, key.Algorithm);
                    Assert.IsTrue(key.HasPrivate);
                    Assert.AreEqual(43, key.Kid.Length);
                    StringAssert.StartsWith("-----BEGIN PRIVATE KEY-----\n", T.Text(key.Export(KeyFormat.Pkcs8Pem)));
                    StringAssert.StartsWith("-----BEGIN PUBLIC KEY-----\n", T.Text(key.Export()));
                    foreach (KeyFormat f in new[] { KeyFormat.Pkcs8Der, KeyFormat.Pkcs8Pem, KeyFormat.Pkcs8V2Der, KeyFormat.Pkcs8V2Pem, KeyFormat.SpkiDer, KeyFormat.Jwk })
                        using (Key again = Key.Load(key.Export(f)))
                            Assert.AreEqual(key.Kid, again.Kid, f.ToString());
                    using (Key pub = key.PublicKey())
                    {
                        Assert.IsFalse(pub.HasPrivate);
                        Assert.AreEqual(key.Kid, pub.Kid);
                        Assert.AreEqual(alg, pub.Algorithm);
                        T.Fails<KeyException>("MEDSEAL_KEY_NOT_PRIVATE", () => pub.Export(KeyFormat.Pkcs8Pem));
                        StringAssert.Contains("\"kty\"", T.Text(pub.Export(KeyFormat.Jwk)));
                    }
                }
            Assert.AreEqual(32, Key.Generate().Export(KeyFormat.RawPublic).Length);
            Assert.AreEqual(65, Key.Generate(Algorithm.ES256).Export(KeyFormat.RawPublic).Length);
            using (Key smoke = Key.LoadFile(T.Smoke("signer_ed25519.pem")))
                Assert.AreEqual(T.SmokeLine("kid.txt"), smoke.Kid);
            using (Key fromText = Key.Load(File.ReadAllText(T.Smoke("signer_ed25519.pub.pem"))))
                Assert.AreEqual(T.SmokeLine("kid.txt"), fromText.Kid);
        }

        [Test]
        public void Refusals()
        {
            T.Fails<KeyException>("MEDSEAL_KEY_FORMAT", () => Key.Load(T.Utf8("not a key")));
            T.Fails<KeyException>("MEDSEAL_KEY_UNSUPPORTED", () => Key.Load(File.ReadAllBytes(T.Smoke("recipient_x25519.pem"))));
            Assert.Throws<MedsealGeneralException>(() => Key.Generate(Algorithm.RS256));
            Assert.Throws<ArgumentNullException>(() => Key.Load((byte[])null));
            Assert.Catch<IOException>(() => Key.LoadFile("/nonexistent/key.pem"));
        }

        [Test]
        public void DisposedKeyThrowsAndDisposeTwiceIsHarmless()
        {
            Key key = Key.Generate();
            Assert.IsFalse(key.IsDisposed);
            key.Dispose();
            key.Dispose();
            Assert.IsTrue(key.IsDisposed);
            Assert.Throws<ObjectDisposedException>(() => { string k = key.Kid; });
            Assert.Throws<ObjectDisposedException>(() => new Signer(key));
        }
    }

    [TestFixture]
    public class SmokeTests
    {
        private static Signer SmokeSigner()
        {
            using (Key key = Key.LoadFile(T.Smoke("signer_ed25519.pem")))
                return new Signer(key, new SignerOptions { SigningTime = DateTimeOffset.FromUnixTimeSeconds(long.Parse(T.SmokeLine("sigt.unix"))) });
        }

        private static Verifier SmokeVerifier()
        {
            using (Key key = Key.LoadFile(T.Smoke("signer_ed25519.pub.pem"))) return new Verifier(key);
        }

        private static void Check(Verified v)
        {
            CollectionAssert.AreEqual(T.SmokeBytes("patient.canonical.json"), v.Payload);
            Assert.AreEqual(T.SmokeLine("kid.txt"), v.Kid);
            Assert.AreEqual(Algorithm.EdDSA, v.Algorithm);
            Assert.AreEqual(T.SmokeLine("sigt.txt"), v.SigningTimeText);
            Assert.AreEqual(new DateTimeOffset(2025, 3, 1, 8, 30, 0, TimeSpan.Zero), v.SigningTime);
            Assert.AreEqual(TrustedBy.Key, v.TrustedBy);
            Assert.AreEqual("", v.Signer);
        }

        [Test]
        public void CanonicalizeSignVerify()
        {
            CollectionAssert.AreEqual(T.SmokeBytes("patient.canonical.json"), CanonicalJson.Canonicalize(T.SmokeBytes("patient.json")));
            using (Signer s = SmokeSigner())
            {
                CollectionAssert.AreEqual(T.SmokeBytes("patient.flattened.jws"), s.Sign(T.SmokeBytes("patient.json")));
                CollectionAssert.AreEqual(T.SmokeBytes("patient.compact.jws"), s.Sign(T.SmokeBytes("patient.json"), JwsFormat.Compact));
            }
            // The same instant with an offset signs the same bytes.
            using (Key key = Key.LoadFile(T.Smoke("signer_ed25519.pem")))
            using (var s = new Signer(key, new SignerOptions { SigningTime = new DateTimeOffset(2025, 3, 1, 15, 30, 0, TimeSpan.FromHours(7)) }))
                CollectionAssert.AreEqual(T.SmokeBytes("patient.flattened.jws"), s.Sign(T.SmokeBytes("patient.json")));
            using (Verifier v = SmokeVerifier())
            {
                Check(v.Verify(T.SmokeBytes("patient.flattened.jws")));
                Check(v.Verify(T.SmokeLine("patient.compact.jws")));
                string text = T.SmokeLine("patient.compact.jws");
                string tampered = text.Substring(0, text.Length - 2) + (text[text.Length - 2] == 'A' ? "B" : "A") + text[text.Length - 1];
                T.Fails<JwsException>("MEDSEAL_JWS_SIGNATURE_INVALID", () => v.Verify(tampered));
            }
        }

        [Test]
        public void SignAndSealOpenVerify()
        {
            string[] lines = T.SmokeLine("seal.txt").Split('\n');
            var fields = new System.Collections.Generic.Dictionary<string, string>();
            foreach (string l in lines) { string[] kv = l.Trim().Split(new[] { '=' }, 2); fields[kv[0]] = kv[1]; }
            var meta = new Meta(fields["record_id"], fields["source"], ulong.Parse(fields["sequence"]));
            using (RecipientKey hubPublic = RecipientKey.LoadFile(T.Smoke("recipient_x25519.pub.pem")))
            using (RecipientKey hub = RecipientKey.LoadFile(T.Smoke("recipient_x25519.pem")))
            using (Signer s = SmokeSigner())
            using (Verifier v = SmokeVerifier())
            {
                Assert.AreEqual(T.SmokeLine("recipient_kid.txt"), hubPublic.Kid);
                byte[] sealedJson = s.SignAndSeal(T.SmokeBytes("patient.json"), meta, new[] { hubPublic }, Aead.Aes256Gcm, EnvelopeEncoding.Json);
                StringAssert.Contains("\"kid\":\"" + T.SmokeLine("recipient_kid.txt") + "\"", T.Text(sealedJson));
                using (var e = new Envelope(sealedJson))
                {
                    Meta got = e.Meta;
                    Assert.AreEqual(fields["record_id"], got.RecordId);
                    Assert.AreEqual(fields["source"], got.Source);
                    Assert.AreEqual(ulong.Parse(fields["sequence"]), got.Sequence);
                    Assert.AreEqual("application/jose+json", got.ContentType);
                    Assert.IsTrue(got.Created.HasValue && Math.Abs((got.Created.Value - DateTimeOffset.UtcNow).TotalMinutes) < 10);
                    CollectionAssert.AreEqual(T.SmokeBytes("patient.flattened.jws"), e.Open(hub));
                    Check(e.OpenVerified(hub, v));
                }
                // The sequence number changed in the clear meta: the envelope no longer opens.
                string seq = "\"sequence\":" + fields["sequence"];
                StringAssert.Contains(seq, T.Text(sealedJson));
                byte[] changed = T.Utf8(T.Text(sealedJson).Replace(seq, "\"sequence\":" + (ulong.Parse(fields["sequence"]) + 1)));
                T.Fails<SealException>("MEDSEAL_SEAL_DECRYPT_FAILED", () => hub.Open(changed));
                byte[] sealedPb = s.SignAndSeal(T.SmokeBytes("patient.json"), meta, new[] { hubPublic });
                CollectionAssert.AreEqual(T.SmokeBytes("patient.flattened.jws"), hub.Open(sealedPb));
                Check(hub.OpenVerified(sealedPb, v));
            }
        }
    }
}
