// The medseal interop driver for .NET (../shared/INTEROP.md): one command line, every language.
//
//   interop version
//   interop canon [--plain | --nfc] IN OUT
//   interop key-generate EdDSA|ES256|X25519 PRIVATE_OUT PUBLIC_OUT
//   interop sign KEY IN OUT [--compact | --detached] [--sigt RFC3339]
//   interop verify PUBLIC IN [--payload FILE]
//   interop seal --to PUBLIC [--to PUBLIC ...] --source ID --sequence N [--record-id ID] IN OUT
//   interop open KEY IN OUT [--verify PUBLIC]
//
// It uses only Medseal.dll. A medseal error exits 1 with "MEDSEAL_<NAME>: message" on stderr (the
// exception's Name and Detail); a usage error exits 2; a file that cannot be read or written exits 1.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Medseal;

internal sealed class UsageException : Exception
{
    public UsageException(string message) : base(message) { }
}

internal static class Interop
{
    private const string Usage =
        "usage: interop version | canon [--plain|--nfc] IN OUT | key-generate EdDSA|ES256|X25519 PRIVATE_OUT PUBLIC_OUT |\n" +
        "       sign KEY IN OUT [--compact|--detached] [--sigt RFC3339] | verify PUBLIC IN [--payload FILE] |\n" +
        "       seal --to PUBLIC [--to PUBLIC ...] --source ID --sequence N [--record-id ID] IN OUT | open KEY IN OUT [--verify PUBLIC]";

    private static int Main(string[] args)
    {
        try
        {
            if (args.Length == 0) throw new UsageException("a command is needed");
            var rest = new List<string>(args);
            string command = rest[0];
            rest.RemoveAt(0);
            switch (command)
            {
                case "version": Version(rest); break;
                case "canon": Canon(rest); break;
                case "key-generate": KeyGenerate(rest); break;
                case "sign": Sign(rest); break;
                case "verify": Verify(rest); break;
                case "seal": SealCommand(rest); break;
                case "open": OpenCommand(rest); break;
                default: throw new UsageException("unknown command " + command);
            }
            return 0;
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine("interop: " + e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        catch (MedsealException e)
        {
            Console.Error.WriteLine(e.Name + ": " + e.Detail);
            return 1;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine("interop: " + e.Message);
            return 1;
        }
        catch (UnauthorizedAccessException e)
        {
            Console.Error.WriteLine("interop: " + e.Message);
            return 1;
        }
    }

    // ---- the command line ----------------------------------------------------------------------

    /// <summary>Splits options (with or without a value) from positional arguments.</summary>
    private sealed class Parsed
    {
        public readonly List<string> Positional = new List<string>();
        public readonly Dictionary<string, List<string>> Options = new Dictionary<string, List<string>>();

        public Parsed(List<string> args, string[] flags, string[] valued, int positional)
        {
            for (int i = 0; i < args.Count; i++)
            {
                string a = args[i];
                if (a.StartsWith("--", StringComparison.Ordinal))
                {
                    if (Array.IndexOf(flags, a) >= 0) Add(a, "");
                    else if (Array.IndexOf(valued, a) >= 0)
                    {
                        if (i + 1 >= args.Count) throw new UsageException(a + " takes a value");
                        Add(a, args[++i]);
                    }
                    else throw new UsageException("unknown option " + a);
                }
                else Positional.Add(a);
            }
            if (Positional.Count != positional)
                throw new UsageException("takes " + positional + " arguments, got " + Positional.Count);
        }

        private void Add(string name, string value)
        {
            List<string> list;
            if (!Options.TryGetValue(name, out list)) Options[name] = list = new List<string>();
            list.Add(value);
        }

        public bool Has(string name) { return Options.ContainsKey(name); }

        public string One(string name)
        {
            List<string> list;
            if (!Options.TryGetValue(name, out list)) return null;
            if (list.Count > 1) throw new UsageException(name + " given twice");
            return list[0];
        }

        public void Exclusive(string a, string b)
        {
            if (Has(a) && Has(b)) throw new UsageException(a + " and " + b + " exclude each other");
        }
    }

    private static DateTimeOffset Rfc3339(string text)
    {
        DateTimeOffset t;
        if (!Regex.IsMatch(text, @"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$") ||
            !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out t))
            throw new UsageException("--sigt takes an RFC 3339 date-time such as 2025-03-01T08:30:00Z");
        return t.ToUniversalTime();
    }

    // ---- files -----------------------------------------------------------------------------------

    private static byte[] Read(string path) { return File.ReadAllBytes(path); }

    [DllImport("libc.so.6", EntryPoint = "chmod", SetLastError = true)]
    private static extern int chmod(string path, uint mode);

    /// <summary>Writes a file; a private one (keys, plaintexts) is made 0600 before anything is written.</summary>
    private static void Write(string path, byte[] data, bool isPrivate = false)
    {
        using (var f = new FileStream(path, FileMode.Create, FileAccess.Write))
        {
            if (isPrivate && Path.DirectorySeparatorChar == '/' && chmod(path, Convert.ToUInt32("600", 8)) != 0)
                throw new IOException(path + ": cannot restrict its permissions");
            f.Write(data, 0, data.Length);
        }
    }

    private static void PrintValid(Verified v)
    {
        Console.Out.Write("valid kid=" + v.Kid + " alg=" + v.Algorithm + " sigT=" + v.SigningTimeText + "\n");
    }

    /// <summary>A verifier trusting the one public key (SPKI PEM or JWK) in the file.</summary>
    private static Verifier VerifierFor(string path)
    {
        using (Key key = Key.Load(Read(path))) return new Verifier(key);
    }

    // ---- commands --------------------------------------------------------------------------------

    private static void Version(List<string> args)
    {
        new Parsed(args, new string[0], new string[0], 0);
        string runtime;
        Type mono = Type.GetType("Mono.Runtime");
        if (mono != null)
        {
            MethodInfo name = mono.GetMethod("GetDisplayName", BindingFlags.NonPublic | BindingFlags.Static);
            runtime = "Mono " + (name != null ? ((string)name.Invoke(null, null)).Split(' ')[0] : Environment.Version.ToString());
        }
        else runtime = ".NET-Core " + Environment.Version;
        // MedsealLibrary.Version loads the library and checks that its ABI is the binding's (1).
        Console.Out.Write("medseal " + MedsealLibrary.Version + " abi " + MedsealLibrary.LibraryAbiVersion + " csharp " + runtime + "\n");
    }

    private static void Canon(List<string> args)
    {
        var p = new Parsed(args, new[] { "--plain", "--nfc" }, new string[0], 2);
        p.Exclusive("--plain", "--nfc");
        CanonFlags flags = p.Has("--plain") ? CanonFlags.Plain : p.Has("--nfc") ? CanonFlags.NormalizeNfc : CanonFlags.Strict;
        Write(p.Positional[1], CanonicalJson.Canonicalize(Read(p.Positional[0]), flags));
    }

    private static void KeyGenerate(List<string> args)
    {
        var p = new Parsed(args, new string[0], new string[0], 3);
        string alg = p.Positional[0];
        byte[] privatePem, publicPem;
        if (alg == "X25519")
        {
            using (RecipientKey key = RecipientKey.Generate())
            {
                privatePem = key.Export(KeyFormat.Pkcs8Pem);
                publicPem = key.Export(KeyFormat.SpkiPem);
            }
        }
        else if (alg == "EdDSA" || alg == "ES256")
        {
            using (Key key = Key.Generate(alg == "EdDSA" ? Algorithm.EdDSA : Algorithm.ES256))
            {
                privatePem = key.Export(KeyFormat.Pkcs8Pem);
                publicPem = key.Export(KeyFormat.SpkiPem);
            }
        }
        else throw new UsageException("ALG is EdDSA, ES256 or X25519");
        Write(p.Positional[1], privatePem, true);
        Write(p.Positional[2], publicPem);
        Array.Clear(privatePem, 0, privatePem.Length);
    }

    private static void Sign(List<string> args)
    {
        var p = new Parsed(args, new[] { "--compact", "--detached" }, new[] { "--sigt" }, 3);
        p.Exclusive("--compact", "--detached");
        var options = new SignerOptions();
        if (p.Has("--sigt")) options.SigningTime = Rfc3339(p.One("--sigt"));
        JwsFormat format = p.Has("--compact") ? JwsFormat.Compact : p.Has("--detached") ? JwsFormat.DetachedCompact : JwsFormat.Flattened;
        byte[] jws;
        using (Key key = Key.Load(Read(p.Positional[0])))
        using (var signer = new Signer(key, options))
            jws = signer.Sign(Read(p.Positional[1]), format); // canonicalized (strict), then signed
        Write(p.Positional[2], jws);
    }

    private static void Verify(List<string> args)
    {
        var p = new Parsed(args, new string[0], new[] { "--payload" }, 2);
        using (Verifier verifier = VerifierFor(p.Positional[0]))
        {
            byte[] jws = Read(p.Positional[1]);
            string payload = p.One("--payload");
            // A medseal record (typ medseal+jws, a sigT, a canonical payload), or a detached JWS: the payload
            // file is the JSON record, canonicalized as when signing.
            PrintValid(payload == null ? verifier.VerifyRecord(jws) : verifier.VerifyDetached(jws, Read(payload), document: true));
        }
    }

    private static void SealCommand(List<string> args)
    {
        var p = new Parsed(args, new string[0], new[] { "--to", "--source", "--sequence", "--record-id" }, 2);
        if (!p.Has("--to")) throw new UsageException("--to is required");
        string source = p.One("--source"), sequenceText = p.One("--sequence");
        if (source == null || sequenceText == null) throw new UsageException("--source and --sequence are required");
        ulong sequence;
        if (!Regex.IsMatch(sequenceText, "^[0-9]+$") || !ulong.TryParse(sequenceText, NumberStyles.None, CultureInfo.InvariantCulture, out sequence))
            throw new UsageException("--sequence takes a decimal number");
        var recipients = new List<RecipientKey>();
        try
        {
            foreach (string path in p.Options["--to"]) recipients.Add(RecipientKey.Load(Read(path)));
            // Routing metadata, in clear but bound to the ciphertext; created = now.
            var meta = new Meta(p.One("--record-id") ?? Guid.NewGuid().ToString(), source, sequence);
            Write(p.Positional[1], Envelope.Seal(Read(p.Positional[0]), meta, recipients, Aead.Aes256Gcm, EnvelopeEncoding.Json));
        }
        finally
        {
            foreach (RecipientKey k in recipients) k.Dispose();
        }
    }

    private static void OpenCommand(List<string> args)
    {
        var p = new Parsed(args, new string[0], new[] { "--verify" }, 3);
        Verified verified = null;
        using (RecipientKey key = RecipientKey.Load(Read(p.Positional[0])))
        using (var envelope = new Envelope(Read(p.Positional[1])))
        {
            string verify = p.One("--verify");
            if (verify != null)
                using (Verifier verifier = VerifierFor(verify))
                    verified = envelope.OpenVerified(key, verifier); // opened and verified, as the hub does
            byte[] plaintext = envelope.Open(key);
            Write(p.Positional[2], plaintext, true);
            Array.Clear(plaintext, 0, plaintext.Length);
        }
        if (verified != null) PrintValid(verified);
    }
}
