// Sign with an X509Certificate2's private key (Windows store, smart card or PFX), the chain in x5c
// (examples/csharp/SignWithCertificate.cs).
//   mono build/dotnet/SignWithCertificate.exe SIGNER.pfx PASSWORD ROOT.pem [INTERMEDIATE.pem]
// On Windows, take the certificate from the store instead:
//   var store = new X509Store(StoreName.My, StoreLocation.CurrentUser); store.Open(OpenFlags.ReadOnly);
//   X509Certificate2 cert = store.Certificates.Find(X509FindType.FindByThumbprint, "...", true)[0];
using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Medseal;

internal static class SignWithCertificate
{
    private static int Main(string[] args)
    {
        if (args.Length < 3) { Console.Error.WriteLine("usage: SignWithCertificate SIGNER.pfx PASSWORD ROOT.pem [INTERMEDIATE.pem]"); return 2; }
        var certificate = new X509Certificate2(args[0], args[1]);
        var chain = new List<X509Certificate2>();
        if (args.Length > 3) chain.Add(new X509Certificate2(File.ReadAllBytes(args[3])));
        byte[] record = Encoding.UTF8.GetBytes("{\"resourceType\":\"Patient\",\"id\":\"pat-002\",\"active\":true}");
        using (Signer signer = DotNetSigners.FromCertificate(certificate, chain))   // RS256 for RSA, ES256 for P-256
        using (var verifier = new Verifier(trustAnchors: File.ReadAllBytes(args[2])))
        {
            byte[] jws = signer.Sign(record);
            Verified verified = verifier.Verify(jws);
            Console.WriteLine("signed by {0} ({1}, trusted by {2})", verified.Signer, verified.Algorithm, verified.TrustedBy);
        }
        return 0;
    }
}
