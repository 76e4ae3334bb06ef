// Recipient keys, routing metadata and sealed envelopes (HPKE).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace Medseal
{
    /// <summary>AEADs of sealed envelopes (RFC 9180 ids).</summary>
    public enum Aead : uint { Aes256Gcm = 2, ChaCha20Poly1305 = 3 }

    /// <summary>Envelope encodings.</summary>
    public enum EnvelopeEncoding : uint { Json = 1, Protobuf = 2 }

    /// <summary>An X25519 recipient key: private (opens envelopes) or public (envelopes are sealed to it).</summary>
    public sealed class RecipientKey : NativeObject<RecipientKeyHandle>
    {
        private RecipientKey(RecipientKeyHandle h) : base(h) { }

        public static RecipientKey Generate()
        {
            Loader.Ensure();
            RecipientKeyHandle h;
            Native.Check(NativeMethods.medseal_recipient_key_generate(out h));
            return new RecipientKey(h);
        }

        /// <summary>Imports PEM, DER (PKCS#8, SPKI) or JWK.</summary>
        public static RecipientKey Load(byte[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            Loader.Ensure();
            RecipientKeyHandle h;
            Native.Check(NativeMethods.medseal_recipient_key_import(data, Native.Len(data), out h));
            return new RecipientKey(h);
        }

        public static RecipientKey Load(string text) { return Load(Native.Bytes(text, "text")); }
        public static RecipientKey LoadFile(string path) { return Load(File.ReadAllBytes(path)); }

        /// <summary>From 32 raw bytes: the private scalar or the public u-coordinate.</summary>
        public static RecipientKey FromRaw(byte[] raw, bool isPrivate)
        {
            if (raw == null) throw new ArgumentNullException("raw");
            Loader.Ensure();
            RecipientKeyHandle h;
            Native.Check(NativeMethods.medseal_recipient_key_from_raw(raw, Native.Len(raw),
                (uint)(isPrivate ? KeyFormat.RawPrivate : KeyFormat.RawPublic), out h));
            return new RecipientKey(h);
        }

        public string Kid
        {
            get { BufferHandle b; Native.Check(NativeMethods.medseal_recipient_key_kid(Handle, out b)); return Native.Utf8.GetString(Native.Take(b)); }
        }

        public bool HasPrivate
        {
            get { uint p; Native.Check(NativeMethods.medseal_recipient_key_has_private(Handle, out p)); return p != 0; }
        }

        public byte[] Export(KeyFormat format = KeyFormat.SpkiPem)
        {
            BufferHandle b;
            Native.Check(NativeMethods.medseal_recipient_key_export(Handle, (uint)format, out b));
            return Native.Take(b);
        }

        /// <summary>A new key holding only the public half.</summary>
        public RecipientKey PublicKey() { return FromRaw(Export(KeyFormat.RawPublic), false); }

        /// <summary>Opens an encoded envelope (JSON or protobuf) addressed to this key.</summary>
        public byte[] Open(byte[] envelope)
        {
            if (envelope == null) throw new ArgumentNullException("envelope");
            byte[] output = new byte[PlaintextSize(envelope)];
            int n = OpenInto(envelope, output);
            if (n != output.Length) Array.Resize(ref output, n);
            return output;
        }

        /// <summary>The plaintext length of an encoded envelope (no cryptography).</summary>
        public int PlaintextSize(byte[] envelope)
        {
            if (envelope == null) throw new ArgumentNullException("envelope");
            UIntPtr written;
            int r = NativeMethods.medseal_recipient_key_open_into(Handle, envelope, Native.Len(envelope), null, UIntPtr.Zero, out written);
            if (r == 3) return checked((int)written.ToUInt64());
            if (r == 0) return 0;
            throw Native.Error(r);
        }

        /// <summary>Opens into caller memory; returns the plaintext length.</summary>
        public int OpenInto(byte[] envelope, byte[] output)
        {
            if (envelope == null) throw new ArgumentNullException("envelope");
            if (output == null) throw new ArgumentNullException("output");
            UIntPtr written;
            Native.Check(NativeMethods.medseal_recipient_key_open_into(Handle, envelope, Native.Len(envelope), output, Native.Len(output), out written));
            return checked((int)written.ToUInt64());
        }

        /// <summary>Opens a sealed signed record and verifies it, as the hub does.</summary>
        public Verified OpenVerified(byte[] envelope, Verifier verifier)
        {
            using (var e = new Envelope(envelope)) return e.OpenVerified(this, verifier);
        }

        internal static Native.HandleArray Pin(IList<RecipientKey> recipients)
        {
            if (recipients == null) throw new ArgumentNullException("recipients");
            var hs = new SafeHandle[recipients.Count];
            for (int i = 0; i < hs.Length; i++)
            {
                if (recipients[i] == null) throw new ArgumentNullException("recipients", "recipient " + i + " is null");
                hs[i] = recipients[i].Handle;
            }
            return new Native.HandleArray(hs);
        }
    }

    /// <summary>Routing metadata of an envelope: in clear, bound to the ciphertext.</summary>
    public sealed class Meta
    {
        public string RecordId { get; set; }
        public string Source { get; set; }
        public ulong Sequence { get; set; }
        /// <summary>Creation time (UTC, whole seconds); null: now.</summary>
        public DateTimeOffset? Created { get; set; }
        /// <summary>Media type of the plaintext; null: application/jose+json.</summary>
        public string ContentType { get; set; }

        public Meta() { }
        public Meta(string recordId, string source, ulong sequence) { RecordId = recordId; Source = source; Sequence = sequence; }

        internal MetaHandle ToNative()
        {
            Loader.Ensure();
            byte[] id = Native.Bytes(RecordId, "RecordId"), src = Native.Bytes(Source, "Source");
            MetaHandle h;
            Native.Check(NativeMethods.medseal_meta_new(id, Native.Len(id), src, Native.Len(src), Sequence, out h));
            try
            {
                if (Created.HasValue)
                {
                    byte[] t = Native.Utf8.GetBytes(Created.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
                    Native.Check(NativeMethods.medseal_meta_set_created(h, t, Native.Len(t)));
                }
                if (ContentType != null)
                {
                    byte[] ct = Native.Bytes(ContentType, "ContentType");
                    Native.Check(NativeMethods.medseal_meta_set_content_type(h, ct, Native.Len(ct)));
                }
            }
            catch { h.Dispose(); throw; }
            return h;
        }

        // The envelope's meta is canonical JSON of five members (strings and one integer), parsed here.
        internal static Meta FromJson(byte[] json)
        {
            var m = new Meta();
            var fields = FlatJson.Parse(Native.Utf8.GetString(json));
            string v;
            if (fields.TryGetValue("record_id", out v)) m.RecordId = v;
            if (fields.TryGetValue("source", out v)) m.Source = v;
            if (fields.TryGetValue("sequence", out v)) m.Sequence = ulong.Parse(v, CultureInfo.InvariantCulture);
            if (fields.TryGetValue("content_type", out v)) m.ContentType = v;
            if (fields.TryGetValue("created", out v))
                m.Created = DateTimeOffset.Parse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUniversalTime();
            return m;
        }
    }

    /// <summary>A reader for a flat JSON object whose values are strings or numbers (the envelope meta).</summary>
    internal static class FlatJson
    {
        internal static Dictionary<string, string> Parse(string s)
        {
            var d = new Dictionary<string, string>();
            int i = 0;
            Skip(s, ref i); Expect(s, ref i, '{'); Skip(s, ref i);
            if (s[i] == '}') return d;
            while (true)
            {
                Skip(s, ref i);
                string key = Str(s, ref i);
                Skip(s, ref i); Expect(s, ref i, ':'); Skip(s, ref i);
                string value;
                if (s[i] == '"') value = Str(s, ref i);
                else
                {
                    int start = i;
                    while (i < s.Length && (char.IsDigit(s[i]) || s[i] == '-' || s[i] == '.' || s[i] == 'e' || s[i] == 'E' || s[i] == '+')) i++;
                    if (start == i) throw new FormatException("unexpected JSON value at " + i);
                    value = s.Substring(start, i - start);
                }
                d[key] = value;
                Skip(s, ref i);
                if (s[i] == ',') { i++; continue; }
                Expect(s, ref i, '}');
                return d;
            }
        }

        private static void Skip(string s, ref int i) { while (i < s.Length && char.IsWhiteSpace(s[i])) i++; }

        private static void Expect(string s, ref int i, char c)
        {
            if (i >= s.Length || s[i] != c) throw new FormatException("expected '" + c + "' at " + i);
            i++;
        }

        private static string Str(string s, ref int i)
        {
            Expect(s, ref i, '"');
            var sb = new StringBuilder();
            while (s[i] != '"')
            {
                char c = s[i++];
                if (c != '\\') { sb.Append(c); continue; }
                char e = s[i++];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 't': sb.Append('\t'); break;
                    case 'r': sb.Append('\r'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'u': sb.Append((char)Convert.ToInt32(s.Substring(i, 4), 16)); i += 4; break;
                    default: sb.Append(e); break;
                }
            }
            i++;
            return sb.ToString();
        }
    }

    /// <summary>A decoded sealed envelope (structure, suite and meta checked; ciphertext not yet). Also the sealing functions.</summary>
    public sealed class Envelope : NativeObject<EnvelopeHandle>
    {
        /// <summary>Decodes an envelope, JSON or protobuf.</summary>
        public Envelope(byte[] data) : base(Decode(data)) { }

        private static EnvelopeHandle Decode(byte[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            Loader.Ensure();
            EnvelopeHandle h;
            Native.Check(NativeMethods.medseal_envelope_decode(data, Native.Len(data), out h));
            return h;
        }

        /// <summary>The routing metadata as canonical JSON (readable without a key; authenticated only by opening).</summary>
        public byte[] MetaJson
        {
            get { BufferHandle b; Native.Check(NativeMethods.medseal_envelope_meta(Handle, out b)); return Native.Take(b); }
        }

        /// <summary>The routing metadata.</summary>
        public Meta Meta { get { return Meta.FromJson(MetaJson); } }

        public byte[] Open(RecipientKey key)
        {
            if (key == null) throw new ArgumentNullException("key");
            BufferHandle b;
            Native.Check(NativeMethods.medseal_envelope_open(Handle, key.Handle, out b));
            return Native.Take(b);
        }

        public int OpenInto(RecipientKey key, byte[] output)
        {
            if (key == null) throw new ArgumentNullException("key");
            if (output == null) throw new ArgumentNullException("output");
            UIntPtr written;
            Native.Check(NativeMethods.medseal_envelope_open_into(Handle, key.Handle, output, Native.Len(output), out written));
            return checked((int)written.ToUInt64());
        }

        public Verified OpenVerified(RecipientKey key, Verifier verifier)
        {
            if (key == null) throw new ArgumentNullException("key");
            if (verifier == null) throw new ArgumentNullException("verifier");
            VerifiedHandle h;
            Native.Check(NativeMethods.medseal_envelope_open_verified(Handle, key.Handle, verifier.Handle, out h));
            return Verified.Read(h);
        }

        /// <summary>Seals <paramref name="plaintext"/> to 1..16 recipients (public keys suffice).</summary>
        public static byte[] Seal(byte[] plaintext, Meta meta, IList<RecipientKey> recipients, Aead aead = Aead.Aes256Gcm,
            EnvelopeEncoding encoding = EnvelopeEncoding.Protobuf)
        {
            if (plaintext == null) throw new ArgumentNullException("plaintext");
            if (meta == null) throw new ArgumentNullException("meta");
            using (MetaHandle m = meta.ToNative())
            using (var keys = RecipientKey.Pin(recipients))
            {
                BufferHandle b;
                Native.Check(NativeMethods.medseal_envelope_seal(plaintext, Native.Len(plaintext), m, keys.Pointers, (UIntPtr)keys.Pointers.Length,
                    (uint)aead, (uint)encoding, out b));
                return Native.Take(b);
            }
        }

        /// <summary>The exact length of the protobuf envelope <see cref="SealInto"/> writes.</summary>
        public static int SealedSize(byte[] plaintext, Meta meta, IList<RecipientKey> recipients)
        {
            if (plaintext == null) throw new ArgumentNullException("plaintext");
            if (meta == null) throw new ArgumentNullException("meta");
            using (MetaHandle m = meta.ToNative())
            using (var keys = RecipientKey.Pin(recipients))
            {
                UIntPtr written;
                int r = NativeMethods.medseal_envelope_seal_into(plaintext, Native.Len(plaintext), m, keys.Pointers, (UIntPtr)keys.Pointers.Length,
                    (uint)Aead.Aes256Gcm, null, UIntPtr.Zero, out written);
                if (r != 3) throw Native.Error(r);
                return checked((int)written.ToUInt64());
            }
        }

        /// <summary>Seals (protobuf) into caller memory; returns the envelope length.</summary>
        public static int SealInto(byte[] plaintext, Meta meta, IList<RecipientKey> recipients, byte[] output, Aead aead = Aead.Aes256Gcm)
        {
            if (plaintext == null) throw new ArgumentNullException("plaintext");
            if (meta == null) throw new ArgumentNullException("meta");
            if (output == null) throw new ArgumentNullException("output");
            using (MetaHandle m = meta.ToNative())
            using (var keys = RecipientKey.Pin(recipients))
            {
                UIntPtr written;
                Native.Check(NativeMethods.medseal_envelope_seal_into(plaintext, Native.Len(plaintext), m, keys.Pointers, (UIntPtr)keys.Pointers.Length,
                    (uint)aead, output, Native.Len(output), out written));
                return checked((int)written.ToUInt64());
            }
        }
    }
}
