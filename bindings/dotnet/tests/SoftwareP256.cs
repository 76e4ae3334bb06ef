// A test-only ECDsa P-256 in managed code (System.Numerics.BigInteger, SHA256Managed), for the
// ECDsa path of the .NET bridge on Mono, whose System.Security.Cryptography has no ECDsa. Slow and
// not constant-time: never use it for real keys.
using System;
using System.Numerics;
using System.Security.Cryptography;

namespace Medseal.Tests
{
    internal sealed class SoftwareP256 : ECDsa
    {
        private static readonly BigInteger P = Hex("FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF");
        private static readonly BigInteger N = Hex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
        private static readonly BigInteger Gx = Hex("6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296");
        private static readonly BigInteger Gy = Hex("4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5");
        private readonly BigInteger d;
        internal int Calls;

        /// <summary>From the 32-byte private scalar (big-endian), as medseal's raw-private export gives it.</summary>
        internal SoftwareP256(byte[] scalar) { d = Unsigned(scalar); KeySizeValue = 256; }

        private static BigInteger Hex(string h) { return BigInteger.Parse("0" + h, System.Globalization.NumberStyles.HexNumber); }

        private static BigInteger Unsigned(byte[] bigEndian)
        {
            var little = new byte[bigEndian.Length + 1];
            for (int i = 0; i < bigEndian.Length; i++) little[i] = bigEndian[bigEndian.Length - 1 - i];
            return new BigInteger(little);
        }

        private static byte[] Fixed32(BigInteger v)
        {
            byte[] little = v.ToByteArray();
            var r = new byte[32];
            for (int i = 0; i < 32 && i < little.Length; i++) r[31 - i] = little[i];
            return r;
        }

        private static BigInteger Mod(BigInteger a, BigInteger m) { BigInteger r = a % m; return r.Sign < 0 ? r + m : r; }
        private static BigInteger Inv(BigInteger a, BigInteger m) { return BigInteger.ModPow(Mod(a, m), m - 2, m); }

        // Affine points; null is the point at infinity.
        private static BigInteger[] Add(BigInteger[] a, BigInteger[] b)
        {
            if (a == null) return b;
            if (b == null) return a;
            BigInteger l;
            if (a[0] == b[0])
            {
                if (Mod(a[1] + b[1], P).IsZero) return null;
                l = Mod((3 * a[0] * a[0] - 3) * Inv(2 * a[1], P), P);
            }
            else l = Mod((b[1] - a[1]) * Inv(b[0] - a[0], P), P);
            BigInteger x = Mod(l * l - a[0] - b[0], P);
            return new[] { x, Mod(l * (a[0] - x) - a[1], P) };
        }

        private static BigInteger[] Multiply(BigInteger k, BigInteger[] point)
        {
            BigInteger[] result = null;
            for (int i = 255; i >= 0; i--)
            {
                result = Add(result, result);
                if (!(k >> i & 1).IsZero) result = Add(result, point);
            }
            return result;
        }

        public override byte[] SignHash(byte[] hash)
        {
            Calls++;
            BigInteger e = Unsigned(hash);
            using (var rng = RandomNumberGenerator.Create())
                while (true)
                {
                    var kb = new byte[32];
                    rng.GetBytes(kb);
                    BigInteger k = Mod(Unsigned(kb), N);
                    if (k.IsZero) continue;
                    BigInteger r = Mod(Multiply(k, new[] { Gx, Gy })[0], N);
                    if (r.IsZero) continue;
                    BigInteger s = Mod(Inv(k, N) * (e + r * d), N);
                    if (s.IsZero) continue;
                    var sig = new byte[64];
                    Buffer.BlockCopy(Fixed32(r), 0, sig, 0, 32);
                    Buffer.BlockCopy(Fixed32(s), 0, sig, 32, 32);
                    return sig; // IEEE P1363 r||s, as ECDsa.SignData returns
                }
        }

        public override bool VerifyHash(byte[] hash, byte[] signature) { throw new NotSupportedException("medseal verifies"); }

        protected override byte[] HashData(byte[] data, int offset, int count, HashAlgorithmName hashAlgorithm)
        {
            if (hashAlgorithm != HashAlgorithmName.SHA256) throw new NotSupportedException(hashAlgorithm.Name);
            using (var sha = new SHA256Managed()) return sha.ComputeHash(data, offset, count);
        }

        protected override byte[] HashData(System.IO.Stream data, HashAlgorithmName hashAlgorithm) { throw new NotSupportedException(); }
    }
}
