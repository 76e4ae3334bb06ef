// Canonical JSON, enums, and signing keys.
using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Medseal
{
    /// <summary>JWS algorithms (medseal_alg).</summary>
    public enum Algorithm : uint { FromKey = 0, EdDSA = 1, ES256 = 2, RS256 = 3, PS256 = 4 }

    /// <summary>Key encodings (medseal_key_format).</summary>
    public enum KeyFormat : uint
    {
        Pkcs8Der = 1, Pkcs8Pem = 2, Pkcs8V2Der = 3, Pkcs8V2Pem = 4, SpkiDer = 5, SpkiPem = 6, Jwk = 7, RawPrivate = 8, RawPublic = 9,
    }

    /// <summary>JWS serializations (medseal_jws_format).</summary>
    public enum JwsFormat : uint { Flattened = 1, Compact = 2, DetachedCompact = 3, DetachedFlattened = 4 }

    /// <summary>Canonicalization policy flags (medseal_canon_flag); <see cref="Strict"/> (0) is the medseal default.</summary>
    [Flags]
    public enum CanonFlags : uint
    {
        Strict = 0, Plain = 1, AllowLossyNumbers = 2, NormalizeNfc = 4, FhirData = 8, FhirStatic = 16, FhirDocument = 32,
    }

    /// <summary>Canonical JSON (RFC 8785 with the medseal policies).</summary>
    public static class CanonicalJson
    {
        /// <summary>The canonical bytes of the JSON document <paramref name="json"/> (UTF-8).</summary>
        public static byte[] Canonicalize(byte[] json, CanonFlags flags = CanonFlags.Strict)
        {
            if (json == null) throw new ArgumentNullException("json");
            Loader.Ensure();
            BufferHandle buf;
            Native.Check(NativeMethods.medseal_json_canonicalize(json, Native.Len(json), (uint)flags, out buf));
            return Native.Take(buf);
        }

        /// <summary>The canonical bytes of a JSON text.</summary>
        public static byte[] Canonicalize(string json, CanonFlags flags = CanonFlags.Strict)
        {
            return Canonicalize(Native.Bytes(json, "json"), flags);
        }

        /// <summary>Reads the whole stream and writes its canonical form to <paramref name="output"/>.</summary>
        public static void Canonicalize(Stream input, Stream output, CanonFlags flags = CanonFlags.Strict)
        {
            if (input == null) throw new ArgumentNullException("input");
            if (output == null) throw new ArgumentNullException("output");
            var ms = new MemoryStream();
            input.CopyTo(ms);
            byte[] canonical = Canonicalize(ms.ToArray(), flags);
            output.Write(canonical, 0, canonical.Length);
        }
    }

    /// <summary>Owns one native handle; <see cref="Dispose"/> frees it (once), the finalizer otherwise.</summary>
    public abstract class NativeObject<THandle> : IDisposable where THandle : MedsealHandle
    {
        private readonly THandle handle;

        internal NativeObject(THandle handle) { this.handle = handle; }

        internal THandle Handle
        {
            get
            {
                if (handle.IsClosed) throw new ObjectDisposedException(GetType().Name);
                return handle;
            }
        }

        /// <summary>True once disposed.</summary>
        public bool IsDisposed { get { return handle.IsClosed; } }

        /// <summary>Frees the native object now; later calls do nothing.</summary>
        public void Dispose() { handle.Dispose(); }
    }

    /// <summary>A signing or verification key (Ed25519, P-256, RSA), immutable and thread-safe.</summary>
    public sealed class Key : NativeObject<KeyHandle>
    {
        internal Key(KeyHandle h) : base(h) { }

        /// <summary>A new private key: <see cref="Algorithm.EdDSA"/> or <see cref="Algorithm.ES256"/>.</summary>
        public static Key Generate(Algorithm algorithm = Algorithm.EdDSA)
        {
            Loader.Ensure();
            KeyHandle h;
            Native.Check(NativeMethods.medseal_key_generate((uint)algorithm, out h));
            return new Key(h);
        }

        /// <summary>Imports PEM, DER (PKCS#8, PKCS#1, SPKI) or JWK; <paramref name="algorithm"/> PS256 for RSA-PSS.</summary>
        public static Key Load(byte[] data, Algorithm algorithm = Algorithm.FromKey)
        {
            if (data == null) throw new ArgumentNullException("data");
            Loader.Ensure();
            KeyHandle h;
            Native.Check(NativeMethods.medseal_key_import(data, Native.Len(data), (uint)algorithm, out h));
            return new Key(h);
        }

        /// <summary>Imports a PEM or JWK text.</summary>
        public static Key Load(string text, Algorithm algorithm = Algorithm.FromKey) { return Load(Native.Bytes(text, "text"), algorithm); }

        /// <summary>Reads a key file (PEM, DER or JWK).</summary>
        public static Key LoadFile(string path, Algorithm algorithm = Algorithm.FromKey) { return Load(File.ReadAllBytes(path), algorithm); }

        /// <summary>The RFC 7638 thumbprint (43 characters).</summary>
        public string Kid
        {
            get
            {
                BufferHandle buf;
                Native.Check(NativeMethods.medseal_key_kid(Handle, out buf));
                return Native.Utf8.GetString(Native.Take(buf));
            }
        }

        /// <summary>The key's JWS algorithm.</summary>
        public Algorithm Algorithm
        {
            get { uint a; Native.Check(NativeMethods.medseal_key_algorithm(Handle, out a)); return (Algorithm)a; }
        }

        /// <summary>True when the key holds its private half.</summary>
        public bool HasPrivate
        {
            get { uint p; Native.Check(NativeMethods.medseal_key_has_private(Handle, out p)); return p != 0; }
        }

        /// <summary>The key in <paramref name="format"/>; private formats of a public key fail with MEDSEAL_KEY_NOT_PRIVATE.</summary>
        public byte[] Export(KeyFormat format = KeyFormat.SpkiPem)
        {
            BufferHandle buf;
            Native.Check(NativeMethods.medseal_key_export(Handle, (uint)format, out buf));
            return Native.Take(buf);
        }

        /// <summary>A new key holding only the public half.</summary>
        public Key PublicKey()
        {
            Algorithm a = Algorithm;
            return Load(Export(KeyFormat.SpkiDer), a == Algorithm.PS256 ? a : Algorithm.FromKey);
        }
    }
}
