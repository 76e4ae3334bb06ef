// The .NET side of `make bench-dotnet`: the same work as bench.c through Medseal.dll, and the ratio
// to the C time given on the command line:  Bench.exe C_SIGN_US C_OPEN_US
//   sign-1k      Signer.Sign of a 1 KB record (JSON flattened), the returned byte[] included
//   open-1k      RecipientKey.OpenInto of a 1 KB protobuf envelope into a reused byte[] (what C does)
//   open-1k-new  RecipientKey.Open (size query, then a new byte[]): the convenient call, reported
using System;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Medseal;

internal static class Bench
{
    private const int N = 2000, Runs = 7;

    private static double Best(Action call)
    {
        for (int i = 0; i < N; i++) call(); // JIT and caches
        double best = double.MaxValue;
        for (int run = 0; run < Runs; run++)
        {
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < N; i++) call();
            best = Math.Min(best, watch.Elapsed.TotalMilliseconds * 1000.0 / N);
        }
        return best;
    }

    private static void Ratio(string name, double dotnet, double c, bool goal)
    {
        string runtime = Type.GetType("Mono.Runtime") != null ? "mono" : "netcore";
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "RATIO {0}-{1} dotnet/C = {2:F3} ({3})  [.NET {4:F2} us, C {5:F2} us per call]",
            name, runtime, dotnet / c, goal ? "goal <= 1.1" : "report", dotnet, c));
    }

    private static int Main(string[] args)
    {
        double cSign = double.Parse(args[0], CultureInfo.InvariantCulture), cOpen = double.Parse(args[1], CultureInfo.InvariantCulture);
        var record = new StringBuilder("{\"resourceType\":\"Basic\",\"id\":\"b\",\"text\":\"");
        record.Append('x', 1024 - record.Length - 2).Append("\"}");
        byte[] doc = Encoding.ASCII.GetBytes(record.ToString());
        using (Key key = Key.Generate())
        using (var signer = new Signer(key))
        using (RecipientKey hub = RecipientKey.Generate())
        {
            Ratio("sign-1k", Best(() => signer.Sign(doc)), cSign, true);
            byte[] envelope = Envelope.Seal(doc, new Meta("r", "s", 1), new[] { hub });
            var output = new byte[2048];
            Ratio("open-1k", Best(() => hub.OpenInto(envelope, output)), cOpen, true);
            Ratio("open-1k-new", Best(() => hub.Open(envelope)), cOpen, false);
        }
        return 0;
    }
}
