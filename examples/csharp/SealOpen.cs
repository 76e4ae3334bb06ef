// Seal a signed record to the hub's X25519 key and open it as the hub does (examples/csharp/SealOpen.cs).
using System;
using System.Text;
using Medseal;

internal static class SealOpen
{
    private static int Main()
    {
        byte[] record = Encoding.UTF8.GetBytes("{\"resourceType\":\"Observation\",\"id\":\"obs-1\",\"status\":\"final\"}");
        using (Key key = Key.Generate())
        using (var signer = new Signer(key))
        using (RecipientKey hub = RecipientKey.Generate())        // the hub's private key; hospitals hold hub.PublicKey()
        using (RecipientKey hubPublic = hub.PublicKey())
        using (var verifier = new Verifier(key))
        {
            var meta = new Meta("obs-1", "hospital-a", 1);          // routing metadata, in clear, bound to the ciphertext
            byte[] envelope = signer.SignAndSeal(record, meta, new[] { hubPublic });
            Console.WriteLine("sealed {0} bytes for {1}", envelope.Length, hubPublic.Kid);
            using (var decoded = new Envelope(envelope))
            {
                Console.WriteLine("meta: {0}", Encoding.UTF8.GetString(decoded.MetaJson));
                Verified verified = decoded.OpenVerified(hub, verifier);
                Console.WriteLine("opened and verified: {0}", Encoding.UTF8.GetString(verified.Payload));
            }
            try { RecipientKey.Generate().Open(envelope); return 1; }
            catch (SealException e) { Console.WriteLine("another key: {0}", e.Name); }
        }
        return 0;
    }
}
