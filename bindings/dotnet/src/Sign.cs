// Signers, verifiers, verified results and trust lists.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Medseal
{
    /// <summary>Options of a signer; every one is optional.</summary>
    public sealed class SignerOptions
    {
        /// <summary>The <c>kid</c> header instead of the key's thumbprint (or the certificate's x5t#S256).</summary>
        public string Kid { get; set; }
        /// <summary>A fixed <c>sigT</c> (reproducible output); by default the clock is read at each signature.</summary>
        public DateTimeOffset? SigningTime { get; set; }
        /// <summary>The certificate chain (PEM, the signer's first; or one DER certificate): adds x5c and x5t#S256.</summary>
        public byte[] CertificateChain { get; set; }
        /// <summary>JAdES srCms commitment OID, e.g. "1.2.840.10065.1.12.1.1".</summary>
        public string Commitment { get; set; }
        /// <summary>Turns the clock guard on: a fixed signing time further than this from the clock is refused.</summary>
        public TimeSpan? MaxClockSkew { get; set; }
        /// <summary>Replaces the system clock (for sigT and the clock guard).</summary>
        public Func<DateTimeOffset> Clock { get; set; }
        /// <summary>Canonicalization policy for documents before signing.</summary>
        public CanonFlags Canon { get; set; }
    }

    /// <summary>Signs records (canonical JSON, then JWS). Immutable and thread-safe.</summary>
    public sealed class Signer : NativeObject<SignerHandle>
    {
        private Signer(SignerHandle h) : base(h) { }

        // The exception a host callback threw on this thread, to rethrow from Sign.
        [ThreadStatic] private static ExceptionDispatchInfo pending;

        /// <summary>A signer for a private <paramref name="key"/>.</summary>
        public Signer(Key key, SignerOptions options = null) : base(Build(NewBuilder(key), options)) { }

        private static SignerBuilderHandle NewBuilder(Key key)
        {
            if (key == null) throw new ArgumentNullException("key");
            SignerBuilderHandle b;
            Native.Check(NativeMethods.medseal_signer_builder_new(key.Handle, out b));
            return b;
        }

        /// <summary>
        /// A signer whose private key stays in the host: <paramref name="sign"/> gets the JWS signing input
        /// and returns the signature (RS256: SHA256withRSA PKCS#1 v1.5; PS256: PSS, MGF1-SHA256, salt 32;
        /// ES256: SHA256withECDSA, r||s or DER; EdDSA: Ed25519). An exception it throws comes out of
        /// <see cref="Sign(byte[], JwsFormat)"/> as thrown.
        /// </summary>
        public static Signer FromCallback(Key publicKey, Func<byte[], byte[]> sign, SignerOptions options = null)
        {
            if (publicKey == null) throw new ArgumentNullException("publicKey");
            if (sign == null) throw new ArgumentNullException("sign");
            NativeSignCallback callback = (ctx, message, messageLen, signature, cap, signatureLen) =>
            {
                try
                {
                    var input = new byte[checked((int)messageLen.ToUInt64())];
                    Marshal.Copy(message, input, 0, input.Length);
                    byte[] sig = sign(input);
                    if (sig == null) throw new InvalidOperationException("the signing callback returned null");
                    if ((ulong)sig.Length > cap.ToUInt64())
                        throw new InvalidOperationException("the signing callback returned " + sig.Length + " bytes, more than " + cap.ToUInt64());
                    Marshal.Copy(sig, 0, signature, sig.Length);
                    Marshal.WriteIntPtr(signatureLen, new IntPtr(sig.Length));
                    return 0;
                }
                catch (Exception e)
                {
                    pending = ExceptionDispatchInfo.Capture(e);
                    return 1;
                }
            };
            SignerBuilderHandle b;
            Native.Check(NativeMethods.medseal_signer_builder_from_callback(publicKey.Handle, callback, IntPtr.Zero, out b));
            b.Callbacks = callback;
            return new Signer(Build(b, options));
        }

        /// <summary>A signer for a key on a PKCS#11 token (module path, token label, key label, user PIN).</summary>
        public static Signer FromPkcs11(string module, string tokenLabel, string keyLabel, string pin,
            Algorithm algorithm = Algorithm.FromKey, SignerOptions options = null)
        {
            Loader.Ensure();
            byte[] m = Native.Bytes(module, "module"), t = Native.Bytes(tokenLabel, "tokenLabel"),
                k = Native.Bytes(keyLabel, "keyLabel"), p = Native.Bytes(pin, "pin");
            SignerBuilderHandle b;
            try
            {
                Native.Check(NativeMethods.medseal_signer_builder_from_pkcs11(m, Native.Len(m), t, Native.Len(t), k, Native.Len(k),
                    p, Native.Len(p), (uint)algorithm, out b));
            }
            finally { Array.Clear(p, 0, p.Length); }
            return new Signer(Build(b, options));
        }

        private sealed class ClockBox
        {
            internal Func<DateTimeOffset> Clock;
            internal NativeClockCallback Native;
            internal object Sign;
        }

        private static SignerHandle Build(SignerBuilderHandle b, SignerOptions o)
        {
            using (b)
            {
                if (o != null)
                {
                    if (o.CertificateChain != null)
                        Native.Check(NativeMethods.medseal_signer_builder_set_certificate_chain(b, o.CertificateChain, Native.Len(o.CertificateChain)));
                    if (o.Kid != null)
                    {
                        byte[] kid = Native.Bytes(o.Kid, "Kid");
                        Native.Check(NativeMethods.medseal_signer_builder_set_kid(b, kid, Native.Len(kid)));
                    }
                    if (o.Commitment != null)
                    {
                        byte[] oid = Native.Bytes(o.Commitment, "Commitment");
                        Native.Check(NativeMethods.medseal_signer_builder_set_commitment(b, oid, Native.Len(oid)));
                    }
                    if (o.SigningTime.HasValue)
                        Native.Check(NativeMethods.medseal_signer_builder_set_signing_time(b, Native.ToUnix(o.SigningTime.Value)));
                    if (o.MaxClockSkew.HasValue)
                    {
                        double s = o.MaxClockSkew.Value.TotalSeconds;
                        if (s < 0 || s > uint.MaxValue) throw new ArgumentOutOfRangeException("MaxClockSkew");
                        Native.Check(NativeMethods.medseal_signer_builder_set_max_clock_skew(b, (uint)s));
                    }
                    if (o.Clock != null)
                    {
                        var box = new ClockBox { Clock = o.Clock, Sign = b.Callbacks };
                        box.Native = ctx =>
                        {
                            try { return Native.ToUnix(box.Clock()); }
                            catch (Exception e) { pending = ExceptionDispatchInfo.Capture(e); return long.MinValue; }
                        };
                        Native.Check(NativeMethods.medseal_signer_builder_set_clock(b, box.Native, IntPtr.Zero));
                        b.Callbacks = box;
                    }
                    if (o.Canon != CanonFlags.Strict)
                        Native.Check(NativeMethods.medseal_signer_builder_set_canon_flags(b, (uint)o.Canon));
                }
                SignerHandle s2;
                Native.Check(NativeMethods.medseal_signer_builder_build(b, out s2));
                s2.Callbacks = b.Callbacks; // the native signer keeps calling them after the builder is gone
                return s2;
            }
        }

        /// <summary>Canonicalizes the JSON <paramref name="document"/> and signs it.</summary>
        public byte[] Sign(byte[] document, JwsFormat format = JwsFormat.Flattened)
        {
            if (document == null) throw new ArgumentNullException("document");
            IntPtr buf;
            int r = NativeMethods.medseal_signer_sign(Handle, document, Native.Len(document), (uint)format, out buf);
            if (r != 0) { RethrowCallback(); throw Native.Error(r); }
            return Native.TakeRaw(buf);
        }

        /// <summary>Signs a JSON text.</summary>
        public byte[] Sign(string document, JwsFormat format = JwsFormat.Flattened) { return Sign(Native.Bytes(document, "document"), format); }

        /// <summary>Signs then seals to <paramref name="recipients"/> (the hub opens it with <see cref="Envelope.OpenVerified"/>).</summary>
        public byte[] SignAndSeal(byte[] document, Meta meta, IList<RecipientKey> recipients, Aead aead = Aead.Aes256Gcm,
            EnvelopeEncoding encoding = EnvelopeEncoding.Protobuf)
        {
            if (document == null) throw new ArgumentNullException("document");
            using (MetaHandle m = meta.ToNative())
            using (var keys = RecipientKey.Pin(recipients))
            {
                BufferHandle buf;
                int r = NativeMethods.medseal_signer_sign_and_seal(Handle, document, Native.Len(document), m, keys.Pointers,
                    (UIntPtr)keys.Pointers.Length, (uint)aead, (uint)encoding, out buf);
                if (r != 0) { RethrowCallback(); throw Native.Error(r); }
                return Native.Take(buf);
            }
        }

        // The exception a callback stored on this thread is consumed by the failure it caused
        // (a failing callback always fails the call), so nothing stale is left for a later call.
        private static void RethrowCallback()
        {
            ExceptionDispatchInfo e = pending;
            pending = null;
            if (e != null) e.Throw();
        }

        /// <summary>The public key the signatures verify with (a new handle).</summary>
        public Key PublicKey
        {
            get { KeyHandle k; Native.Check(NativeMethods.medseal_signer_public_key(Handle, out k)); return new Key(k); }
        }

        /// <summary>The public key's thumbprint.</summary>
        public string Kid { get { using (Key k = PublicKey) return k.Kid; } }
    }

    /// <summary>What made a signer trusted.</summary>
    public enum TrustedBy : uint { Key = 1, Certificate = 2, TrustList = 3 }

    /// <summary>A verified JWS.</summary>
    public sealed class Verified
    {
        /// <summary>The signed payload (for records: the canonical JSON).</summary>
        public byte[] Payload { get; private set; }
        public string Kid { get; private set; }
        public Algorithm Algorithm { get; private set; }
        /// <summary>sigT as a time, null when the JWS has none.</summary>
        public DateTimeOffset? SigningTime { get; private set; }
        /// <summary>sigT as written (RFC 3339), "" when none.</summary>
        public string SigningTimeText { get; private set; }
        public TrustedBy TrustedBy { get; private set; }
        /// <summary>Certificate subject (RFC 4514), trust-list facility, or "" for a configured key.</summary>
        public string Signer { get; private set; }
        /// <summary>The protected header as canonical JSON.</summary>
        public byte[] HeaderJson { get; private set; }

        internal static Verified Read(VerifiedHandle h)
        {
            using (h)
            {
                IntPtr p; UIntPtr n; uint v;
                var r = new Verified();
                Native.Check(NativeMethods.medseal_verified_payload(h, out p, out n)); r.Payload = Native.Borrowed(p, n);
                Native.Check(NativeMethods.medseal_verified_key_id(h, out p, out n)); r.Kid = Native.Utf8.GetString(Native.Borrowed(p, n));
                Native.Check(NativeMethods.medseal_verified_signing_time(h, out p, out n)); r.SigningTimeText = Native.Utf8.GetString(Native.Borrowed(p, n));
                Native.Check(NativeMethods.medseal_verified_header(h, out p, out n)); r.HeaderJson = Native.Borrowed(p, n);
                Native.Check(NativeMethods.medseal_verified_signer(h, out p, out n)); r.Signer = Native.Utf8.GetString(Native.Borrowed(p, n));
                Native.Check(NativeMethods.medseal_verified_algorithm(h, out v)); r.Algorithm = (Algorithm)v;
                Native.Check(NativeMethods.medseal_verified_trusted_by(h, out v)); r.TrustedBy = (TrustedBy)v;
                if (r.SigningTimeText.Length > 0)
                    r.SigningTime = DateTimeOffset.Parse(r.SigningTimeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime();
                return r;
            }
        }
    }

    /// <summary>Verifies JWS with trusted keys, certificate anchors and/or a trust list. Immutable and thread-safe.</summary>
    public sealed class Verifier : NativeObject<VerifierHandle>
    {
        /// <summary>Trusts <paramref name="keys"/>, the CA certificates in <paramref name="trustAnchors"/> (PEM or one DER) and <paramref name="trustList"/>.</summary>
        public Verifier(IEnumerable<Key> keys = null, byte[] trustAnchors = null, TrustList trustList = null, CanonFlags canon = CanonFlags.Strict)
            : base(Build(keys, trustAnchors, trustList, canon)) { }

        /// <summary>Trusts these keys.</summary>
        public Verifier(params Key[] keys) : this((IEnumerable<Key>)keys) { }

        private static VerifierHandle Build(IEnumerable<Key> keys, byte[] anchors, TrustList list, CanonFlags canon)
        {
            Loader.Ensure();
            VerifierBuilderHandle b;
            Native.Check(NativeMethods.medseal_verifier_builder_new(out b));
            using (b)
            {
                if (keys != null)
                    foreach (Key k in keys)
                    {
                        if (k == null) throw new ArgumentNullException("keys", "a key is null");
                        Native.Check(NativeMethods.medseal_verifier_builder_add_key(b, k.Handle));
                    }
                if (anchors != null) Native.Check(NativeMethods.medseal_verifier_builder_add_trust_anchors(b, anchors, Native.Len(anchors)));
                if (list != null) Native.Check(NativeMethods.medseal_verifier_builder_set_trust_list(b, list.Handle));
                if (canon != CanonFlags.Strict) Native.Check(NativeMethods.medseal_verifier_builder_set_canon_flags(b, (uint)canon));
                VerifierHandle v;
                Native.Check(NativeMethods.medseal_verifier_builder_build(b, out v));
                return v;
            }
        }

        /// <summary>Verifies a compact or JSON JWS carrying its payload, whatever it signs (a record, a receipt, a
        /// trust list...). For medseal records use <see cref="VerifyRecord(byte[])"/>.</summary>
        public Verified Verify(byte[] jws)
        {
            if (jws == null) throw new ArgumentNullException("jws");
            VerifiedHandle h;
            Native.Check(NativeMethods.medseal_verifier_verify(Handle, jws, Native.Len(jws), out h));
            return Verified.Read(h);
        }

        public Verified Verify(string jws) { return Verify(Native.Bytes(jws, "jws")); }

        /// <summary>Verifies a medseal record: as <see cref="Verify(byte[])"/>, and the JWS must also be a record
        /// (<c>typ</c> <c>medseal+jws</c>, a <c>sigT</c>, a canonical JSON payload), else a <see cref="JwsException"/>
        /// <c>MEDSEAL_JWS_HEADER</c> or <c>MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL</c>. A receipt or a trust list signed by a
        /// trusted key verifies with <c>Verify</c> but is not a record: use this wherever a record is expected.</summary>
        public Verified VerifyRecord(byte[] jws)
        {
            if (jws == null) throw new ArgumentNullException("jws");
            VerifiedHandle h;
            Native.Check(NativeMethods.medseal_verifier_verify_record(Handle, jws, Native.Len(jws), out h));
            return Verified.Read(h);
        }

        public Verified VerifyRecord(string jws) { return VerifyRecord(Native.Bytes(jws, "jws")); }

        /// <summary>Verifies a detached JWS against <paramref name="payload"/>: the exact signed bytes, or with
        /// <paramref name="document"/> a JSON document canonicalized with the verifier's flags.</summary>
        public Verified VerifyDetached(byte[] jws, byte[] payload, bool document = false)
        {
            if (jws == null) throw new ArgumentNullException("jws");
            if (payload == null) throw new ArgumentNullException("payload");
            VerifiedHandle h;
            Native.Check(NativeMethods.medseal_verifier_verify_detached(Handle, jws, Native.Len(jws), payload, Native.Len(payload),
                document ? 2u : 1u, out h));
            return Verified.Read(h);
        }
    }

    /// <summary>A verified, fresh trust list (docs/TRUST_LISTS.md).</summary>
    public sealed class TrustList : NativeObject<TrustListHandle>
    {
        private TrustList(TrustListHandle h) : base(h) { }

        /// <summary>Verifies a signed trust list with the trust-list key at <paramref name="now"/> (default: the clock).</summary>
        public static TrustList Verify(byte[] jws, Key listKey, DateTimeOffset? now = null, ulong minSequence = 0)
        {
            if (jws == null) throw new ArgumentNullException("jws");
            if (listKey == null) throw new ArgumentNullException("listKey");
            TrustListHandle h;
            long t = Native.ToUnix(now ?? DateTimeOffset.UtcNow);
            Native.Check(NativeMethods.medseal_trust_list_verify(jws, Native.Len(jws), listKey.Handle, t, minSequence, out h));
            return new TrustList(h);
        }

        /// <summary>Checks an unsigned trust list (JSON) and signs it with the private trust-list key.</summary>
        public static byte[] Sign(byte[] listJson, Key key)
        {
            if (listJson == null) throw new ArgumentNullException("listJson");
            if (key == null) throw new ArgumentNullException("key");
            BufferHandle buf;
            Native.Check(NativeMethods.medseal_trust_list_sign(listJson, Native.Len(listJson), key.Handle, out buf));
            return Native.Take(buf);
        }

        public ulong Sequence { get { ulong s; Native.Check(NativeMethods.medseal_trust_list_sequence(Handle, out s)); return s; } }
        public DateTimeOffset Expires { get { long e; Native.Check(NativeMethods.medseal_trust_list_expires(Handle, out e)); return Native.FromUnix(e); } }
        public int EntryCount { get { UIntPtr c; Native.Check(NativeMethods.medseal_trust_list_entry_count(Handle, out c)); return (int)c.ToUInt64(); } }
    }
}
