// Errors: MedsealException (Code, Name from the library's medseal_result_name, Message from
// medseal_last_error_message) and one subclass per block of result codes.
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace Medseal
{
    /// <summary>A medseal result code other than MEDSEAL_OK. <see cref="Name"/> is the header's constant name.</summary>
    [Serializable]
    public class MedsealException : Exception
    {
        /// <summary>The result code (include/medseal.h), e.g. 307.</summary>
        public int Code { get; private set; }
        /// <summary>The code's name from the library, e.g. "MEDSEAL_JWS_SIGNATURE_INVALID".</summary>
        public string Name { get; private set; }
        /// <summary>The library's message for this failure (what <c>medseal_last_error_message</c> said).</summary>
        public string Detail { get; private set; }

        public MedsealException(int code, string name, string detail)
            : base(name + " (" + code + "): " + detail)
        {
            Code = code; Name = name; Detail = detail;
        }

        /// <summary>The exception class for a code's block: 300..399 gives <see cref="JwsException"/>, and so on.</summary>
        public static MedsealException Create(int code, string detail)
        {
            string name = MedsealLibrary.ResultName(code);
            switch (code / 100)
            {
                case 0: return new MedsealGeneralException(code, name, detail);
                case 1: return new CanonicalJsonException(code, name, detail);
                case 2: return new KeyException(code, name, detail);
                case 3: return new JwsException(code, name, detail);
                case 4: return new SealException(code, name, detail);
                case 5: return new TrustException(code, name, detail);
                case 6: return new SignerException(code, name, detail);
                case 7: return new OutboxException(code, name, detail);
                case 8: return new TransportException(code, name, detail);
                case 9: return new LedgerException(code, name, detail);
                default: return new MedsealException(code, name, detail);
            }
        }
    }

    /// <summary>Codes 1-99: arguments, buffers, the system.</summary>
    [Serializable] public class MedsealGeneralException : MedsealException { public MedsealGeneralException(int c, string n, string d) : base(c, n, d) { } }
    /// <summary>Codes 100-199: canonical JSON.</summary>
    [Serializable] public class CanonicalJsonException : MedsealException { public CanonicalJsonException(int c, string n, string d) : base(c, n, d) { } }
    /// <summary>Codes 200-299: keys.</summary>
    [Serializable] public class KeyException : MedsealException { public KeyException(int c, string n, string d) : base(c, n, d) { } }
    /// <summary>Codes 300-399: JWS.</summary>
    [Serializable] public class JwsException : MedsealException { public JwsException(int c, string n, string d) : base(c, n, d) { } }
    /// <summary>Codes 400-499: sealed envelopes.</summary>
    [Serializable] public class SealException : MedsealException { public SealException(int c, string n, string d) : base(c, n, d) { } }
    /// <summary>Codes 500-599: certificates and trust lists.</summary>
    [Serializable] public class TrustException : MedsealException { public TrustException(int c, string n, string d) : base(c, n, d) { } }
    /// <summary>Codes 600-699: signers (tokens, callbacks, clock).</summary>
    [Serializable] public class SignerException : MedsealException { public SignerException(int c, string n, string d) : base(c, n, d) { } }
    /// <summary>Codes 700-799: the outbox.</summary>
    [Serializable] public class OutboxException : MedsealException { public OutboxException(int c, string n, string d) : base(c, n, d) { } }
    /// <summary>Codes 800-899: transport to the hub.</summary>
    [Serializable] public class TransportException : MedsealException { public TransportException(int c, string n, string d) : base(c, n, d) { } }
    /// <summary>Codes 900-999: the ledger and receipts.</summary>
    [Serializable] public class LedgerException : MedsealException { public LedgerException(int c, string n, string d) : base(c, n, d) { } }

    /// <summary>libmedseal could not be found or loaded.</summary>
    [Serializable]
    public class MedsealLoadException : Exception
    {
        public MedsealLoadException(string message) : base(message) { }
        public MedsealLoadException(string message, Exception inner) : base(message, inner) { }
    }

    /// <summary>The loaded libmedseal has another ABI version than <see cref="MedsealLibrary.AbiVersion"/>.</summary>
    [Serializable]
    public class MedsealAbiException : MedsealLoadException
    {
        public int LibraryAbiVersion { get; private set; }
        public MedsealAbiException(string message, int libraryAbi) : base(message) { LibraryAbiVersion = libraryAbi; }
    }

    /// <summary>The library as a whole: versions and result-code names.</summary>
    public static class MedsealLibrary
    {
        /// <summary>The ABI version this binding was written for; the loaded library must report it.</summary>
        public const int AbiVersion = 1;
        /// <summary>The binding's version (the library's it was released with).</summary>
        public const string BindingVersion = "0.1.0";

        /// <summary>Loads the native library now (it is otherwise loaded on first use) and checks its ABI version.</summary>
        public static void Load() { Loader.Ensure(); }

        /// <summary>The loaded library's version, e.g. "0.1.0".</summary>
        public static string Version { get { Loader.Ensure(); return Native.StaticString(NativeMethods.medseal_library_version()); } }

        /// <summary>The loaded library's ABI version (checked to be <see cref="AbiVersion"/> at load).</summary>
        public static int LibraryAbiVersion { get { Loader.Ensure(); return (int)NativeMethods.medseal_abi_version(); } }

        /// <summary>The file the loader chose (null when the runtime's own search found the library).</summary>
        public static string LibraryPath { get { Loader.Ensure(); return Loader.ChosenPath; } }

        /// <summary>The constant name of a result code, from the library (<c>medseal_result_name</c>).</summary>
        public static string ResultName(int code) { Loader.Ensure(); return Native.StaticString(NativeMethods.medseal_result_name(code)); }

        /// <summary>The library's short description of a result code (<c>medseal_result_describe</c>).</summary>
        public static string ResultDescription(int code) { Loader.Ensure(); return Native.StaticString(NativeMethods.medseal_result_describe(code)); }

        /// <summary>Largest signature a signing callback may return (<c>MEDSEAL_MAX_SIGNATURE_BYTES</c>).</summary>
        public static int MaxSignatureBytes { get { Loader.Ensure(); return (int)NativeMethods.medseal_signer_max_signature_bytes(); } }
    }

    /// <summary>Helpers every wrapper uses: checking results, UTF-8, buffers, times.</summary>
    internal static class Native
    {
        internal static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, true);

        internal static void Check(int result)
        {
            if (result != 0) throw Error(result);
        }

        internal static MedsealException Error(int result)
        {
            return MedsealException.Create(result, LastErrorMessage());
        }

        internal static string LastErrorMessage()
        {
            UIntPtr len;
            int r = NativeMethods.medseal_last_error_message(null, UIntPtr.Zero, out len);
            if (r == 0) return "";
            var buf = new byte[(long)len.ToUInt64() + 1];
            if (NativeMethods.medseal_last_error_message(buf, (UIntPtr)buf.Length, out len) != 0) return "";
            return Utf8.GetString(buf, 0, (int)len.ToUInt64());
        }

        internal static string StaticString(IntPtr p)
        {
            if (p == IntPtr.Zero) return "";
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            var b = new byte[n];
            Marshal.Copy(p, b, 0, n);
            return Utf8.GetString(b);
        }

        internal static byte[] Bytes(string s, string what)
        {
            if (s == null) throw new ArgumentNullException(what);
            return Utf8.GetBytes(s);
        }

        internal static UIntPtr Len(byte[] b) { return (UIntPtr)(b == null ? 0 : b.Length); }

        /// <summary>Copies a buffer's bytes and frees it.</summary>
        internal static byte[] Take(BufferHandle buf)
        {
            using (buf)
            {
                IntPtr data = NativeMethods.medseal_buffer_data(buf);
                int len = checked((int)NativeMethods.medseal_buffer_len(buf).ToUInt64());
                var result = new byte[len];
                if (len > 0) Marshal.Copy(data, result, 0, len);
                return result;
            }
        }

        /// <summary>Copies a buffer's bytes and frees it: the hot paths (Sign), where the buffer lives for
        /// three calls and a SafeHandle's allocation and finalizer registration would be most of the cost.</summary>
        internal static byte[] TakeRaw(IntPtr buf)
        {
            try
            {
                int len = checked((int)NativeMethods.medseal_buffer_len(buf).ToUInt64());
                var result = new byte[len];
                if (len > 0) Marshal.Copy(NativeMethods.medseal_buffer_data(buf), result, 0, len);
                return result;
            }
            finally { NativeMethods.medseal_buffer_free(buf); }
        }

        internal static byte[] Borrowed(IntPtr data, UIntPtr len)
        {
            int n = checked((int)len.ToUInt64());
            var result = new byte[n];
            if (n > 0) Marshal.Copy(data, result, 0, n);
            return result;
        }

        internal static readonly DateTimeOffset Epoch = new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero);
        internal static DateTimeOffset FromUnix(long s) { return Epoch.AddSeconds(s); }
        internal static long ToUnix(DateTimeOffset t) { return (long)Math.Floor((t.UtcDateTime - Epoch.UtcDateTime).TotalSeconds); }

        /// <summary>Pins the handles of an array of keys for one call: their raw pointers, each AddRef'd.</summary>
        internal sealed class HandleArray : IDisposable
        {
            private readonly SafeHandle[] handles;
            private readonly bool[] added;
            internal readonly IntPtr[] Pointers;

            internal HandleArray(SafeHandle[] hs)
            {
                handles = hs;
                added = new bool[hs.Length];
                Pointers = new IntPtr[hs.Length];
                try
                {
                    for (int i = 0; i < hs.Length; i++)
                    {
                        hs[i].DangerousAddRef(ref added[i]);
                        Pointers[i] = hs[i].DangerousGetHandle();
                    }
                }
                catch { Dispose(); throw; }
            }

            public void Dispose()
            {
                for (int i = 0; i < handles.Length; i++)
                    if (added[i]) { handles[i].DangerousRelease(); added[i] = false; }
            }
        }
    }
}
