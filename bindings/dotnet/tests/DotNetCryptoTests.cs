// The .NET crypto bridge (X509Certificate2 with its private key, from a PFX made by openssl) and
// .NET's own RSA verifying medseal's JWS. Category "DotNetCrypto": these need a working
// System.Security.Cryptography, which Mono has here (RSA PKCS#1 v1.5; no ECDsa, no PSS) and the
// .NET Core 3.1 runtime of this machine has not (it needs OpenSSL 1.x; Debian 12 has 3).
using System;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Medseal;
using NUnit.Framework;

namespace Medseal.Tests
{
    [TestFixture, Category("DotNetCrypto")]
    public class DotNetCryptoTests
    {
        private const string Password = "pfx-test-only";
        private string pfx;

        [TestFixtureSetUp]
        public void MakePfx()
        {
            // The test PKI's RSA signer, its key and its chain (certificate, intermediate) in a PKCS#12
            // file, with the 3DES/SHA-1 PBEs that .NET Framework, Mono and Windows all read.
            pfx = Path.Combine(T.TempDir("pfx"), "signer-rsa.pfx");
            T.Run("openssl", "pkcs12 -export -inkey " + T.PkiPath("signer-rsa.key") + " -in " + T.PkiPath("signer-rsa.pem") +
                " -certfile " + T.PkiPath("intermediate.pem") + " -name medseal-test -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1" +
                " -passout pass:" + Password + " -out " + pfx);
        }

        [Test]
        public void SignerFromX509Certificate2()
        {
            var collection = new X509Certificate2Collection();
            collection.Import(pfx, Password, X509KeyStorageFlags.Exportable);
            X509Certificate2 leaf = null, intermediate = null;
            foreach (X509Certificate2 c in collection)
                if (c.HasPrivateKey) leaf = c; else intermediate = c;
            Assert.IsNotNull(leaf, "the PFX holds the signer with its key");
            if (intermediate == null)
            {
                // Mono's PKCS#12 import returns only the certificate with the key (openssl shows both
                // in the file); .NET Framework and .NET Core return the intermediate too.
                Console.WriteLine("this runtime's PFX import gave no intermediate: it is read from intermediate.pem");
                intermediate = new X509Certificate2(T.Pki("intermediate.pem"));
            }

            using (Key expected = Key.Load(T.Pki("signer-rsa.pub.pem")))
            using (Key spki = Key.Load(DotNetSigners.SubjectPublicKeyInfo(leaf)))
                Assert.AreEqual(expected.Kid, spki.Kid, "the SPKI built from the certificate is the key's");

            using (Signer signer = DotNetSigners.FromCertificate(leaf, new[] { intermediate }))
            using (var verifier = new Verifier(trustAnchors: T.Pki("root.pem")))
            {
                Verified v = verifier.Verify(signer.Sign(T.Patient));
                Assert.AreEqual(Algorithm.RS256, v.Algorithm);
                Assert.AreEqual(TrustedBy.Certificate, v.TrustedBy);
                StringAssert.Contains("CN=", v.Signer);
                string header = T.Text(v.HeaderJson);
                StringAssert.Contains("\"x5c\":[\"" + Convert.ToBase64String(leaf.RawData) + "\",\"" + Convert.ToBase64String(intermediate.RawData) + "\"]", header);
                StringAssert.Contains("\"x5t#S256\"", header);
                CollectionAssert.AreEqual(CanonicalJson.Canonicalize(T.Patient), v.Payload);
            }
            // Without the intermediate the chain does not reach the root.
            using (Signer alone = DotNetSigners.FromCertificate(leaf))
            using (var verifier = new Verifier(trustAnchors: T.Pki("root.pem")))
                Assert.Throws<TrustException>(() => verifier.Verify(alone.Sign(T.Patient)));
            // A certificate without its private key, and ES256 asked of an RSA key, are refused.
            Assert.Throws<ArgumentException>(() => DotNetSigners.FromCertificate(new X509Certificate2(leaf.RawData)));
            Assert.Throws<ArgumentException>(() => DotNetSigners.FromCertificate(leaf, null, Algorithm.ES256));
            Assert.Throws<ArgumentNullException>(() => DotNetSigners.FromCertificate(null));
        }

        [Test]
        public void RsaSignerFromAnotherKeyFailsBeforeEmitting()
        {
            var collection = new X509Certificate2Collection();
            collection.Import(pfx, Password, X509KeyStorageFlags.Exportable);
            X509Certificate2 leaf = null;
            foreach (X509Certificate2 c in collection) if (c.HasPrivateKey) leaf = c;
            using (var other = new RSACryptoServiceProvider(2048))
            using (Key pub = Key.Load(DotNetSigners.SubjectPublicKeyInfo(leaf), Algorithm.RS256))
            using (Signer wrong = DotNetSigners.FromRsa(other, pub))
                T.Fails<SignerException>("MEDSEAL_SIGNER_BAD_SIGNATURE", () => wrong.Sign(T.Patient));
        }

        [Test]
        public void ECDsaBridgeAndEcCertificateKey()
        {
            // An EC certificate's SubjectPublicKeyInfo, as the bridge builds it, is the key's.
            var cert = new X509Certificate2(T.Pki("signer-ec.pem"));
            using (Key expected = Key.Load(T.Pki("signer-ec.pub.pem")))
            using (Key spki = Key.Load(DotNetSigners.SubjectPublicKeyInfo(cert)))
            {
                Assert.AreEqual(expected.Kid, spki.Kid);
                Assert.AreEqual(Algorithm.ES256, spki.Algorithm);
            }
            // The ECDsa path: .NET's SignData gives r||s, which medseal checks and emits as ES256.
            using (Key key = Key.Load(T.Pki("signer-ec.key")))
            using (Key pub = key.PublicKey())
            {
                var ecdsa = new SoftwareP256(key.Export(KeyFormat.RawPrivate));
                using (Signer signer = DotNetSigners.FromECDsa(ecdsa, pub, new SignerOptions { CertificateChain = T.Pki("signer-ec-chain.pem") }))
                using (var verifier = new Verifier(trustAnchors: T.Pki("root.pem")))
                {
                    Verified v = verifier.Verify(signer.Sign(T.Patient));
                    Assert.AreEqual(Algorithm.ES256, v.Algorithm);
                    Assert.AreEqual(TrustedBy.Certificate, v.TrustedBy);
                    Assert.AreEqual(1, ecdsa.Calls);
                }
                // Another EC key behind the same public key: refused before anything is emitted.
                using (Key other = Key.Generate(Algorithm.ES256))
                using (Signer wrong = DotNetSigners.FromECDsa(new SoftwareP256(other.Export(KeyFormat.RawPrivate)), pub))
                    T.Fails<SignerException>("MEDSEAL_SIGNER_BAD_SIGNATURE", () => wrong.Sign(T.Patient));
            }
        }

        [Test]
        public void DotNetRsaVerifiesMedsealJws()
        {
            var cert = new X509Certificate2(T.Pki("signer-rsa.pem"));
            RSA rsa = cert.GetRSAPublicKey();
            using (Key key = Key.Load(T.Pki("signer-rsa.key")))
            using (var signer = new Signer(key))
            {
                Assert.AreEqual(Algorithm.RS256, key.Algorithm);
                string jws = T.Text(signer.Sign(T.Patient, JwsFormat.Compact));
                int dot = jws.LastIndexOf('.');
                byte[] input = Encoding.ASCII.GetBytes(jws.Substring(0, dot));
                byte[] signature = T.B64Url(jws.Substring(dot + 1));
                Assert.IsTrue(rsa.VerifyData(input, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
                signature[10] ^= 1;
                Assert.IsFalse(rsa.VerifyData(input, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
                // And medseal verifies what .NET's RSA signed for the same input.
                var collection = new X509Certificate2Collection();
                collection.Import(pfx, Password, X509KeyStorageFlags.Exportable);
                foreach (X509Certificate2 c in collection)
                    if (c.HasPrivateKey)
                    {
                        byte[] dotnetSig = c.GetRSAPrivateKey().SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                        string rebuilt = jws.Substring(0, dot + 1) + Convert.ToBase64String(dotnetSig).TrimEnd('=').Replace('+', '-').Replace('/', '_');
                        using (var verifier = new Verifier(key.PublicKey()))
                            Assert.AreEqual(key.Kid, verifier.Verify(rebuilt).Kid);
                    }
            }
        }
    }
}
