// A program built against Medseal.dll as unpacked from the .nupkg (bindings/dotnet/run-tests.sh
// runs it on Mono and on .NET Core from the layouts NuGet and MSBuild make). Prints where the
// native library was found, then signs, verifies, seals and opens.
using System;
using System.Text;
using Medseal;

internal static class Consumer
{
    private static int Main()
    {
        MedsealLibrary.Load();
        Console.WriteLine("library {0} abi {1} from {2}", MedsealLibrary.Version, MedsealLibrary.LibraryAbiVersion, MedsealLibrary.LibraryPath ?? "(the runtime's search)");
        byte[] record = Encoding.UTF8.GetBytes("{\"resourceType\":\"Patient\",\"id\":\"p1\"}");
        using (Key key = Key.Generate())
        using (var signer = new Signer(key))
        using (var verifier = new Verifier(key))
        using (RecipientKey hub = RecipientKey.Generate())
        {
            Verified v = verifier.Verify(signer.Sign(record));
            byte[] opened = hub.Open(signer.SignAndSeal(record, new Meta("p1", "consumer", 1), new[] { hub }));
            if (v.Kid != key.Kid || verifier.Verify(opened).Kid != key.Kid) return 1;
        }
        Console.WriteLine("consumer ok");
        return 0;
    }
}
