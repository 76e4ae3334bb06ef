// Sign a FHIR record and verify it (examples/csharp/SignVerify.cs).
//   mono build/dotnet/SignVerify.exe            (or build/dotnet/dotnet build/dotnet/SignVerify.exe)
using System;
using System.Text;
using Medseal;

internal static class SignVerify
{
    private static int Main()
    {
        byte[] record = Encoding.UTF8.GetBytes(
            "{\"resourceType\":\"Patient\",\"id\":\"pat-001\",\"name\":[{\"family\":\"Nguyễn\",\"given\":[\"Văn\",\"An\"]}],\"birthDate\":\"1980-02-29\"}");
        using (Key key = Key.Generate(Algorithm.EdDSA))          // in production: Key.LoadFile("signing.key")
        using (var signer = new Signer(key))
        using (Key publicKey = signer.PublicKey)                   // publish this (SPKI PEM: publicKey.Export())
        using (var verifier = new Verifier(publicKey))
        {
            byte[] jws = signer.Sign(record);                       // canonical JSON, then JWS (JSON flattened)
            Verified verified = verifier.Verify(jws);
            Console.WriteLine("signed and verified: kid={0} alg={1} sigT={2}", verified.Kid, verified.Algorithm, verified.SigningTimeText);
            Console.WriteLine("payload: {0}", Encoding.UTF8.GetString(verified.Payload));
            try
            {
                byte[] tampered = (byte[])jws.Clone();
                tampered[tampered.Length - 5] ^= 1;
                verifier.Verify(tampered);
                return 1;
            }
            catch (MedsealException e)
            {
                Console.WriteLine("tampered copy refused: {0}", e.Name);
            }
        }
        return 0;
    }
}
