// The .NET crypto bridge: a signer whose private key is an X509Certificate2's (Windows
// certificate store, smart card, PFX), through the host-callback ABI, with the chain attached.
using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Medseal
{
    /// <summary>Signers from .NET's own keys.</summary>
    public static class DotNetSigners
    {
        /// <summary>
        /// A signer for <paramref name="certificate"/>'s private key (RSA: RS256, or PS256 if asked;
        /// ECDsa P-256: ES256). The JWS carries x5c: the certificate, then <paramref name="chain"/>
        /// (intermediates, not the root). The key never leaves the provider: medseal hands it the
        /// signing input and verifies every signature it returns.
        /// </summary>
        public static Signer FromCertificate(X509Certificate2 certificate, IEnumerable<X509Certificate2> chain = null,
            Algorithm algorithm = Algorithm.FromKey, SignerOptions options = null)
        {
            if (certificate == null) throw new ArgumentNullException("certificate");
            if (!certificate.HasPrivateKey) throw new ArgumentException("the certificate has no private key", "certificate");
            var pem = new StringBuilder();
            AppendPem(pem, certificate);
            if (chain != null)
                foreach (X509Certificate2 c in chain)
                {
                    if (c == null) throw new ArgumentNullException("chain", "a certificate is null");
                    AppendPem(pem, c);
                }
            var o = Copy(options);
            o.CertificateChain = Encoding.ASCII.GetBytes(pem.ToString());
            byte[] spki = SubjectPublicKeyInfo(certificate);
            string oid = certificate.PublicKey.Oid.Value;
            if (oid == "1.2.840.113549.1.1.1")
            {
                RSA rsa = certificate.GetRSAPrivateKey();
                if (algorithm == Algorithm.FromKey) algorithm = Algorithm.RS256;
                if (algorithm != Algorithm.RS256 && algorithm != Algorithm.PS256)
                    throw new ArgumentException("an RSA key signs RS256 or PS256", "algorithm");
                using (Key pub = Key.Load(spki, algorithm))
                    return FromRsa(rsa, pub, algorithm, o);
            }
            if (oid == "1.2.840.10045.2.1")
            {
                ECDsa ec = certificate.GetECDsaPrivateKey();
                if (algorithm != Algorithm.FromKey && algorithm != Algorithm.ES256)
                    throw new ArgumentException("an EC key signs ES256", "algorithm");
                using (Key pub = Key.Load(spki))
                    return FromECDsa(ec, pub, o);
            }
            throw new ArgumentException("the certificate's key (" + oid + ") is neither RSA nor EC", "certificate");
        }

        /// <summary>A signer for a .NET RSA key whose public half is <paramref name="publicKey"/> (RS256 or PS256).</summary>
        public static Signer FromRsa(RSA rsa, Key publicKey, Algorithm algorithm = Algorithm.RS256, SignerOptions options = null)
        {
            if (rsa == null) throw new ArgumentNullException("rsa");
            RSASignaturePadding padding = algorithm == Algorithm.PS256 ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;
            return Signer.FromCallback(publicKey, input => rsa.SignData(input, HashAlgorithmName.SHA256, padding), options);
        }

        /// <summary>A signer for a .NET ECDsa P-256 key (SignData gives IEEE P1363 r||s, which ES256 is).</summary>
        public static Signer FromECDsa(ECDsa ecdsa, Key publicKey, SignerOptions options = null)
        {
            if (ecdsa == null) throw new ArgumentNullException("ecdsa");
            return Signer.FromCallback(publicKey, input => ecdsa.SignData(input, HashAlgorithmName.SHA256), options);
        }

        /// <summary>The certificate's SubjectPublicKeyInfo (DER), which <see cref="Key.Load(byte[], Algorithm)"/> reads.</summary>
        public static byte[] SubjectPublicKeyInfo(X509Certificate2 certificate)
        {
            if (certificate == null) throw new ArgumentNullException("certificate");
            PublicKey pk = certificate.PublicKey;
            byte[] oid = Der(0x06, EncodeOid(pk.Oid.Value));
            byte[] parameters = pk.EncodedParameters != null && pk.EncodedParameters.RawData != null && pk.EncodedParameters.RawData.Length > 0
                ? pk.EncodedParameters.RawData : new byte[] { 0x05, 0x00 };
            byte[] algorithm = Der(0x30, Concat(oid, parameters));
            byte[] key = pk.EncodedKeyValue.RawData;
            byte[] bits = Der(0x03, Concat(new byte[] { 0 }, key));
            return Der(0x30, Concat(algorithm, bits));
        }

        private static SignerOptions Copy(SignerOptions o)
        {
            if (o == null) return new SignerOptions();
            return new SignerOptions
            {
                Kid = o.Kid, SigningTime = o.SigningTime, CertificateChain = o.CertificateChain, Commitment = o.Commitment,
                MaxClockSkew = o.MaxClockSkew, Clock = o.Clock, Canon = o.Canon,
            };
        }

        private static void AppendPem(StringBuilder sb, X509Certificate2 c)
        {
            sb.Append("-----BEGIN CERTIFICATE-----\n");
            string b64 = Convert.ToBase64String(c.RawData);
            for (int i = 0; i < b64.Length; i += 64) sb.Append(b64, i, Math.Min(64, b64.Length - i)).Append('\n');
            sb.Append("-----END CERTIFICATE-----\n");
        }

        private static byte[] Concat(byte[] a, byte[] b)
        {
            var r = new byte[a.Length + b.Length];
            Buffer.BlockCopy(a, 0, r, 0, a.Length);
            Buffer.BlockCopy(b, 0, r, a.Length, b.Length);
            return r;
        }

        private static byte[] Der(byte tag, byte[] content)
        {
            var ms = new MemoryStream();
            ms.WriteByte(tag);
            int n = content.Length;
            if (n < 0x80) ms.WriteByte((byte)n);
            else
            {
                var len = new List<byte>();
                while (n > 0) { len.Insert(0, (byte)(n & 0xff)); n >>= 8; }
                ms.WriteByte((byte)(0x80 | len.Count));
                foreach (byte b in len) ms.WriteByte(b);
            }
            ms.Write(content, 0, content.Length);
            return ms.ToArray();
        }

        private static byte[] EncodeOid(string dotted)
        {
            string[] parts = dotted.Split('.');
            var ms = new MemoryStream();
            ms.WriteByte((byte)(int.Parse(parts[0]) * 40 + int.Parse(parts[1])));
            for (int i = 2; i < parts.Length; i++)
            {
                ulong v = ulong.Parse(parts[i]);
                var stack = new List<byte> { (byte)(v & 0x7f) };
                v >>= 7;
                while (v > 0) { stack.Insert(0, (byte)(0x80 | (v & 0x7f))); v >>= 7; }
                foreach (byte b in stack) ms.WriteByte(b);
            }
            return ms.ToArray();
        }
    }
}
