// Signers (options, callbacks, PKCS#11, certificate chains), verifiers and trust lists.
using System;
using System.Threading;
using Medseal;
using NUnit.Framework;

namespace Medseal.Tests
{
    [TestFixture]
    public class SignTests
    {
        private static readonly DateTimeOffset Sigt = new DateTimeOffset(2025, 3, 1, 8, 30, 0, TimeSpan.Zero);

        [Test]
        public void FormatsAndDetached()
        {
            using (Key key = Key.Generate(Algorithm.ES256))
            using (var signer = new Signer(key, new SignerOptions { SigningTime = Sigt }))
            using (Key pub = signer.PublicKey)
            using (var verifier = new Verifier(pub))
            {
                Assert.AreEqual(key.Kid, signer.Kid);
                byte[] canonical = CanonicalJson.Canonicalize(T.Patient);
                foreach (JwsFormat f in new[] { JwsFormat.Flattened, JwsFormat.Compact })
                {
                    Verified v = verifier.Verify(signer.Sign(T.Patient, f));
                    CollectionAssert.AreEqual(canonical, v.Payload);
                    Assert.AreEqual(Algorithm.ES256, v.Algorithm);
                    StringAssert.Contains("\"typ\":\"medseal+jws\"", T.Text(v.HeaderJson));
                }
                byte[] detached = signer.Sign(T.Patient, JwsFormat.DetachedCompact);
                StringAssert.Contains("..", T.Text(detached));
                Assert.AreEqual(key.Kid, verifier.VerifyDetached(detached, T.Patient, document: true).Kid);
                Assert.AreEqual(key.Kid, verifier.VerifyDetached(detached, canonical).Kid);
                byte[] detachedJson = signer.Sign(T.Text(T.Patient), JwsFormat.DetachedFlattened);
                StringAssert.DoesNotContain("payload", T.Text(detachedJson));
                Assert.AreEqual(key.Kid, verifier.VerifyDetached(detachedJson, canonical).Kid);
                T.Fails<JwsException>("MEDSEAL_JWS_PAYLOAD_MISSING", () => verifier.Verify(detached));
                T.Fails<JwsException>("MEDSEAL_JWS_SIGNATURE_INVALID", () => verifier.VerifyDetached(detached, T.Record(2), document: true));
                T.Fails<JwsException>("MEDSEAL_JWS_MALFORMED", () => verifier.Verify("not a jws"));
                T.Fails<CanonicalJsonException>("MEDSEAL_JSON_DUPLICATE_KEY", () => signer.Sign("{\"a\":1,\"a\":1}"));
                T.Fails<MedsealGeneralException>("MEDSEAL_INVALID_ARGUMENT", () => signer.Sign(T.Patient, (JwsFormat)77));
                Assert.Throws<ArgumentNullException>(() => signer.Sign((byte[])null));
            }
        }

        [Test]
        public void WrongKeyAndNoKeys()
        {
            using (var signer = new Signer(Key.Generate()))
            using (var other = new Verifier(Key.Generate().PublicKey()))
            {
                byte[] jws = signer.Sign(T.Patient);
                T.Fails<JwsException>("MEDSEAL_JWS_SIGNATURE_INVALID", () => other.Verify(jws));
                using (var es = new Verifier(Key.Generate(Algorithm.ES256)))
                    Assert.Throws<JwsException>(() => es.Verify(jws));
            }
            T.Fails<JwsException>("MEDSEAL_JWS_NO_KEYS", () => new Verifier());
            Assert.Throws<ArgumentNullException>(() => new Verifier(new Key[] { null }));
            T.Fails<KeyException>("MEDSEAL_KEY_NOT_PRIVATE", () => new Signer(Key.Generate().PublicKey()));
        }

        /// <summary>Issue 10 point 6: VerifyRecord takes medseal records only; a trust list signed by the same key is a
        /// JWS, not a record.</summary>
        [Test]
        public void VerifyRecordTakesRecordsOnly()
        {
            using (Key key = Key.Generate())
            using (var signer = new Signer(key, new SignerOptions { SigningTime = Sigt }))
            using (Key pub = key.PublicKey())
            using (var verifier = new Verifier(pub))
            using (var wrong = new Verifier(Key.Generate().PublicKey()))
            {
                byte[] record = signer.Sign(T.Patient);
                Verified v = verifier.VerifyRecord(record);
                Assert.AreEqual(key.Kid, v.Kid);
                Assert.AreEqual(Sigt, v.SigningTime);
                CollectionAssert.AreEqual(CanonicalJson.Canonicalize(T.Patient), v.Payload);
                Assert.AreEqual(key.Kid, verifier.VerifyRecord(T.Text(signer.Sign(T.Patient, JwsFormat.Compact))).Kid);
                byte[] list = TrustList.Sign(T.Utf8("{\"type\":\"medseal-trust-list\",\"version\":1,\"issuer\":\"T\",\"sequence\":1,"
                    + "\"issued\":\"2026-01-01T00:00:00Z\",\"expires\":\"2027-01-01T00:00:00Z\",\"entries\":[]}"), key);
                Assert.AreEqual(key.Kid, verifier.Verify(list).Kid); // a valid JWS by a trusted key...
                T.Fails<JwsException>("MEDSEAL_JWS_HEADER", () => verifier.VerifyRecord(list)); // ...but not a record
                T.Fails<JwsException>("MEDSEAL_JWS_SIGNATURE_INVALID", () => wrong.VerifyRecord(record));
                T.Fails<JwsException>("MEDSEAL_JWS_MALFORMED", () => verifier.VerifyRecord("not a jws"));
                T.Fails<JwsException>("MEDSEAL_JWS_PAYLOAD_MISSING", () => verifier.VerifyRecord(signer.Sign(T.Patient, JwsFormat.DetachedCompact)));
                Assert.Throws<ArgumentNullException>(() => verifier.VerifyRecord((byte[])null));
                Assert.Throws<ArgumentNullException>(() => verifier.VerifyRecord((string)null));
            }
        }

        [Test]
        public void Options()
        {
            using (Key key = Key.Generate())
            using (var verifier = new Verifier(key))
            {
                using (var s = new Signer(key, new SignerOptions { Kid = "ward-7", Commitment = "1.2.840.10065.1.12.1.1", SigningTime = Sigt }))
                {
                    Verified v = verifier.Verify(s.Sign(T.Patient));
                    Assert.AreEqual(key.Kid, v.Kid, "Verified.Kid is the thumbprint of the key that verified");
                    StringAssert.Contains("\"kid\":\"ward-7\"", T.Text(v.HeaderJson));
                    StringAssert.Contains("1.2.840.10065.1.12.1.1", T.Text(v.HeaderJson));
                    Assert.AreEqual("2025-03-01T08:30:00Z", v.SigningTimeText);
                }
                T.Fails<MedsealGeneralException>("MEDSEAL_INVALID_ARGUMENT", () => new Signer(key, new SignerOptions { Commitment = "not an oid" }));
                T.Fails<MedsealGeneralException>("MEDSEAL_INVALID_ARGUMENT", () => new Signer(key, new SignerOptions { Kid = "" }));
                // A fixed clock: sigT comes from it; the clock guard refuses a signing time too far from it.
                var at = new DateTimeOffset(2026, 5, 4, 3, 2, 1, TimeSpan.Zero);
                using (var s = new Signer(key, new SignerOptions { Clock = () => at }))
                    Assert.AreEqual("2026-05-04T03:02:01Z", verifier.Verify(s.Sign(T.Patient)).SigningTimeText);
                using (var s = new Signer(key, new SignerOptions { Clock = () => at, SigningTime = at.AddHours(-2), MaxClockSkew = TimeSpan.FromMinutes(5) }))
                    T.Fails<SignerException>("MEDSEAL_SIGNING_TIME_SKEW", () => s.Sign(T.Patient));
                using (var s = new Signer(key, new SignerOptions { Clock = () => at, SigningTime = at.AddMinutes(-2), MaxClockSkew = TimeSpan.FromMinutes(5) }))
                    Assert.AreEqual(at.AddMinutes(-2), verifier.Verify(s.Sign(T.Patient)).SigningTime);
                // The canon policy: NFD text signed once normalized.
                using (var s = new Signer(key, new SignerOptions { Canon = CanonFlags.NormalizeNfc }))
                    CollectionAssert.AreEqual(T.SmokeBytes("patient.canonical.json"), verifier.Verify(s.Sign(T.SmokeBytes("patient_nfd.json"))).Payload);
                using (var s = new Signer(key))
                    T.Fails<CanonicalJsonException>("MEDSEAL_JSON_NOT_NFC", () => s.Sign(T.SmokeBytes("patient_nfd.json")));
                // An exception in the clock comes out of Sign.
                using (var s = new Signer(key, new SignerOptions { Clock = () => { throw new TimeZoneNotFoundException("no clock"); } }))
                    Assert.AreEqual("no clock", Assert.Throws<TimeZoneNotFoundException>(() => s.Sign(T.Patient)).Message);
            }
        }

        /// <summary>An Ed25519 host signer built from medseal itself: Ed25519 is deterministic, so the
        /// compact JWS of the same record, key, kid and sigT carries exactly the signature of the input.</summary>
        private static Func<byte[], byte[]> HostSigner(Key key, byte[] record)
        {
            var inner = new Signer(key, new SignerOptions { SigningTime = Sigt });
            return input =>
            {
                string jws = T.Text(inner.Sign(record, JwsFormat.Compact));
                int dot = jws.LastIndexOf('.');
                Assert.AreEqual(jws.Substring(0, dot), T.Text(input), "the callback gets the JWS signing input");
                return T.B64Url(jws.Substring(dot + 1));
            };
        }

        [Test]
        public void CallbackSigner()
        {
            using (Key key = Key.Generate())
            using (Key pub = key.PublicKey())
            using (var verifier = new Verifier(pub))
            {
                int calls = 0;
                Func<byte[], byte[]> host = HostSigner(key, T.Patient);
                using (Signer s = Signer.FromCallback(pub, m => { Interlocked.Increment(ref calls); return host(m); }, new SignerOptions { SigningTime = Sigt }))
                {
                    Assert.AreEqual(key.Kid, s.Kid);
                    Verified v = verifier.Verify(s.Sign(T.Patient, JwsFormat.Compact));
                    Assert.AreEqual(1, calls);
                    Assert.AreEqual(key.Kid, v.Kid);
                    // The callback stays alive after the collector ran.
                    GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
                    verifier.Verify(s.Sign(T.Patient));
                    Assert.AreEqual(2, calls);
                }
                // A wrong signature is caught before any JWS is emitted.
                using (Signer bad = Signer.FromCallback(pub, m => new byte[64], new SignerOptions { SigningTime = Sigt }))
                    T.Fails<SignerException>("MEDSEAL_SIGNER_BAD_SIGNATURE", () => bad.Sign(T.Patient));
                // An exception inside the callback comes out of Sign, as thrown, and the signer still works.
                var boom = new InvalidOperationException("smart card removed");
                bool fail = true;
                using (Signer flaky = Signer.FromCallback(pub, m => { if (fail) throw boom; return host(m); }, new SignerOptions { SigningTime = Sigt }))
                {
                    Assert.AreSame(boom, Assert.Throws<InvalidOperationException>(() => flaky.Sign(T.Patient)));
                    using (RecipientKey r = RecipientKey.Generate())
                        Assert.AreSame(boom, Assert.Throws<InvalidOperationException>(() => flaky.SignAndSeal(T.Patient, new Meta("r", "s", 1), new[] { r })));
                    fail = false;
                    Assert.AreEqual(key.Kid, verifier.Verify(flaky.Sign(T.Patient)).Kid);
                }
                // Too long a signature: the binding refuses to copy it; the failure comes out of Sign.
                using (Signer big = Signer.FromCallback(pub, m => new byte[5000]))
                    Assert.Throws<InvalidOperationException>(() => big.Sign(T.Patient));
                using (Signer nothing = Signer.FromCallback(pub, m => null))
                    Assert.Throws<InvalidOperationException>(() => nothing.Sign(T.Patient));
                Assert.Throws<ArgumentNullException>(() => Signer.FromCallback(pub, null));
                Assert.Throws<ArgumentNullException>(() => Signer.FromCallback(null, m => m));
            }
        }

        [Test]
        public void CertificateChains()
        {
            using (Key key = Key.Load(T.Pki("signer-ec.key")))
            using (var signer = new Signer(key, new SignerOptions { CertificateChain = T.Pki("signer-ec-chain.pem") }))
            {
                byte[] jws = signer.Sign(T.Patient);
                using (var verifier = new Verifier(trustAnchors: T.Pki("root.pem")))
                {
                    Verified v = verifier.Verify(jws);
                    Assert.AreEqual(TrustedBy.Certificate, v.TrustedBy);
                    StringAssert.Contains("CN=", v.Signer);
                    StringAssert.Contains("\"x5c\"", T.Text(v.HeaderJson));
                }
                using (var wrong = new Verifier(trustAnchors: T.Pki("other-root.pem")))
                    T.Fails<TrustException>("MEDSEAL_CERT_UNKNOWN_ISSUER", () => wrong.Verify(jws));
            }
            T.Fails<SignerException>("MEDSEAL_SIGNER_CERT_MISMATCH",
                () => new Signer(Key.Generate(Algorithm.ES256), new SignerOptions { CertificateChain = T.Pki("signer-ec-chain.pem") }));
            T.Fails<TrustException>("MEDSEAL_CERT_KEY_USAGE",
                () => new Signer(Key.Load(T.Pki("signer-nosig.key")), new SignerOptions { CertificateChain = T.Pki("signer-nosig-chain.pem") }));
            using (var past = new Signer(Key.Load(T.Pki("signer-past.key")), new SignerOptions { CertificateChain = T.Pki("signer-past-chain.pem") }))
                T.Fails<TrustException>("MEDSEAL_SIGNED_OUTSIDE_VALIDITY", () => past.Sign(T.Patient));
            Assert.Throws<TrustException>(() => new Verifier(trustAnchors: T.Utf8("garbage")));
        }

        [Test]
        public void Pkcs11()
        {
            string module = T.Env("MEDSEAL_TEST_PKCS11_MODULE"), token = T.Env("MEDSEAL_TEST_PKCS11_TOKEN");
            string ec = T.Env("MEDSEAL_TEST_PKCS11_EC_KEY"), rsa = T.Env("MEDSEAL_TEST_PKCS11_RSA_KEY"), pin = T.Env("MEDSEAL_TEST_PKCS11_PIN");
            using (Signer s = Signer.FromPkcs11(module, token, ec, pin))
            using (Key pub = Key.Load(T.Pki("signer-ec.pub.pem")))
            using (var v = new Verifier(pub))
            {
                Assert.AreEqual(pub.Kid, s.Kid);
                Assert.AreEqual(Algorithm.ES256, v.Verify(s.Sign(T.Patient)).Algorithm);
            }
            using (Signer s = Signer.FromPkcs11(module, token, rsa, pin, Algorithm.PS256))
            using (Key pub = Key.Load(T.Pki("signer-rsa.pub.pem"), Algorithm.PS256))
            using (var v = new Verifier(pub))
                Assert.AreEqual(Algorithm.PS256, v.Verify(s.Sign(T.Patient)).Algorithm);
            using (Signer s = Signer.FromPkcs11(module, token, ec, pin, options: new SignerOptions { CertificateChain = T.Pki("signer-ec-chain.pem"), Kid = "token-ec" }))
            using (var v = new Verifier(trustAnchors: T.Pki("root.pem")))
            {
                Verified got = v.Verify(s.Sign(T.Patient));
                StringAssert.Contains("\"kid\":\"token-ec\"", T.Text(got.HeaderJson));
                Assert.AreEqual(TrustedBy.Certificate, got.TrustedBy);
            }
            T.Fails<SignerException>("MEDSEAL_PKCS11_PIN", () => Signer.FromPkcs11(module, token, ec, "86420975"));
            T.Fails<SignerException>("MEDSEAL_PKCS11_TOKEN_NOT_FOUND", () => Signer.FromPkcs11(module, "no-such-token", ec, pin));
            T.Fails<SignerException>("MEDSEAL_PKCS11_KEY_NOT_FOUND", () => Signer.FromPkcs11(module, token, "no-such-key", pin));
            T.Fails<SignerException>("MEDSEAL_PKCS11_MODULE", () => Signer.FromPkcs11("/nonexistent/libpkcs11.so", token, ec, pin));
            Assert.Throws<ArgumentNullException>(() => Signer.FromPkcs11(module, token, ec, null));
        }

        private static byte[] TrustListJson(Key recordKey, int sequence, string expires)
        {
            string jwk = T.Text(recordKey.PublicKey().Export(KeyFormat.Jwk));
            return T.Utf8("{\"type\":\"medseal-trust-list\",\"version\":1,\"issuer\":\"S\u1edf Y t\u1ebf TP.HCM\",\"sequence\":" + sequence +
                ",\"issued\":\"2026-01-01T00:00:00Z\",\"expires\":\"" + expires + "\",\"entries\":[{\"facility\":\"79001\",\"kid\":\"" + recordKey.Kid +
                "\",\"alg\":\"" + recordKey.Algorithm + "\",\"jwk\":" + jwk + ",\"roles\":[\"record-signing\"],\"not_before\":\"2026-01-01T00:00:00Z\",\"not_after\":\"2027-12-31T00:00:00Z\"}]}");
        }

        [Test]
        public void TrustLists()
        {
            Key listKey = Key.Generate(), recordKey = Key.Generate();
            byte[] signed = TrustList.Sign(TrustListJson(recordKey, 12, "2027-06-01T00:00:00Z"), listKey);
            var now = new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
            using (TrustList trust = TrustList.Verify(signed, listKey.PublicKey(), now))
            {
                Assert.AreEqual(12UL, trust.Sequence);
                Assert.AreEqual(1, trust.EntryCount);
                Assert.AreEqual(new DateTimeOffset(2027, 6, 1, 0, 0, 0, TimeSpan.Zero), trust.Expires);
                using (var verifier = new Verifier(trustList: trust))
                {
                    Verified v = verifier.Verify(new Signer(recordKey, new SignerOptions { SigningTime = now }).Sign(T.Patient));
                    Assert.AreEqual(TrustedBy.TrustList, v.TrustedBy);
                    Assert.AreEqual("79001", v.Signer);
                    Assert.Throws<TrustException>(() => verifier.Verify(new Signer(recordKey, new SignerOptions { SigningTime = now.AddYears(-1) }).Sign(T.Patient)));
                    T.Fails<TrustException>("MEDSEAL_TRUST_UNKNOWN_SIGNER", () => verifier.Verify(new Signer(Key.Generate(), new SignerOptions { SigningTime = now }).Sign(T.Patient)));
                }
                trust.Dispose();
                Assert.Throws<ObjectDisposedException>(() => { ulong s = trust.Sequence; });
            }
            T.Fails<TrustException>("MEDSEAL_TRUST_LIST_SIGNATURE", () => TrustList.Verify(signed, Key.Generate(), now));
            T.Fails<TrustException>("MEDSEAL_TRUST_LIST_EXPIRED", () => TrustList.Verify(signed, listKey, new DateTimeOffset(2028, 1, 1, 0, 0, 0, TimeSpan.Zero)));
            T.Fails<TrustException>("MEDSEAL_TRUST_LIST_STALE", () => TrustList.Verify(signed, listKey, now, 13));
            T.Fails<TrustException>("MEDSEAL_TRUST_LIST_INVALID", () => TrustList.Sign(T.Utf8("{\"type\":\"medseal-trust-list\"}"), listKey));
        }
    }
}
