// Shared helpers of the tests: paths, fixtures (tests/c/fixtures.sh, the reference hub), assertions.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using Medseal;
using NUnit.Framework;

namespace Medseal.Tests
{
    internal static class T
    {
        internal static readonly string Repo = FindRepo();

        private static string FindRepo()
        {
            string env = Environment.GetEnvironmentVariable("MEDSEAL_REPO");
            if (!string.IsNullOrEmpty(env)) return env;
            string dir = Path.GetDirectoryName(typeof(T).Assembly.Location);
            while (dir != null && !File.Exists(Path.Combine(dir, "include", "medseal.h"))) dir = Path.GetDirectoryName(dir);
            if (dir == null) throw new InvalidOperationException("cannot find the repository (set MEDSEAL_REPO)");
            return dir;
        }

        internal static string Smoke(string name) { return Path.Combine(Repo, "tests", "smoke", name); }
        internal static byte[] SmokeBytes(string name) { return File.ReadAllBytes(Smoke(name)); }
        internal static string SmokeLine(string name) { return File.ReadAllText(Smoke(name), Encoding.UTF8).Trim(); }

        internal static readonly byte[] Patient = Encoding.UTF8.GetBytes(
            "{\"resourceType\":\"Patient\",\"id\":\"pat-001\",\"name\":[{\"family\":\"Nguy\u1ec5n\",\"given\":[\"V\u0103n\",\"An\"]}],\"birthDate\":\"1980-02-29\",\"active\":true}");

        internal static byte[] Record(int n)
        {
            return Encoding.UTF8.GetBytes("{\"resourceType\":\"Patient\",\"id\":\"pat-" + n.ToString("D4") + "\",\"active\":true}");
        }

        internal static byte[] Utf8(string s) { return Encoding.UTF8.GetBytes(s); }
        internal static string Text(byte[] b) { return Encoding.UTF8.GetString(b); }

        /// <summary>Runs <paramref name="action"/>, which must throw <typeparamref name="TE"/> named <paramref name="name"/>.</summary>
        internal static TE Fails<TE>(string name, TestDelegate action) where TE : MedsealException
        {
            TE e = Assert.Throws<TE>(action);
            Assert.AreEqual(name, e.Name, e.Message);
            Assert.AreEqual(name, MedsealLibrary.ResultName(e.Code));
            StringAssert.StartsWith(name + " (" + e.Code + "): ", e.Message);
            return e;
        }

        internal static byte[] B64Url(string s)
        {
            s = s.Replace('-', '+').Replace('_', '/');
            return Convert.FromBase64String(s + new string('=', (4 - s.Length % 4) % 4));
        }

        internal static string Run(string file, string args, string cwd = null, IDictionary<string, string> env = null)
        {
            var psi = new ProcessStartInfo(file, args)
            {
                UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
                WorkingDirectory = cwd ?? Repo,
            };
            if (env != null) foreach (KeyValuePair<string, string> e in env) psi.EnvironmentVariables[e.Key] = e.Value;
            using (Process p = Process.Start(psi))
            {
                string err = null;
                var t = new Thread(() => err = p.StandardError.ReadToEnd());
                t.Start();
                string output = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                t.Join();
                if (p.ExitCode != 0) Assert.Fail(file + " " + args + " failed (" + p.ExitCode + "):\n" + output + err);
                return output;
            }
        }

        internal static string TempDir(string name)
        {
            string d = Path.Combine(Path.GetTempPath(), "medseal-dotnet-" + name + "-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(d);
            return d;
        }

        /// <summary>The PKI and SoftHSM2 token of tests/c/fixtures.sh, made once (bindings/dotnet/run-tests.sh makes them and sets MEDSEAL_TEST_FIXTURES).</summary>
        internal static string Fixtures
        {
            get
            {
                string dir = Environment.GetEnvironmentVariable("MEDSEAL_TEST_FIXTURES");
                if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir))
                    Assert.Fail("MEDSEAL_TEST_FIXTURES is not set: run the tests with bindings/dotnet/run-tests.sh (it runs tests/c/fixtures.sh)");
                return dir;
            }
        }

        internal static byte[] Pki(string name) { return File.ReadAllBytes(Path.Combine(Fixtures, "pki", name)); }
        internal static string PkiPath(string name) { return Path.Combine(Fixtures, "pki", name); }

        internal static string Env(string name)
        {
            string v = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(v)) Assert.Fail(name + " is not set: run the tests with bindings/dotnet/run-tests.sh");
            return v;
        }

        internal static long RssKb()
        {
            foreach (string line in File.ReadAllLines("/proc/self/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Substring(6).Trim().Split(' ')[0]);
            throw new InvalidOperationException("no VmRSS");
        }
    }

    /// <summary>
    /// The reference hub (medseal hub init, facility init + hub enroll, hub serve on 127.0.0.1, a free port), as the
    /// Python tests start it. A test that delivers a new outbox enrols its own facility (<see cref="Enrol"/>): every
    /// outbox numbers its records from 1, and the hub refuses a facility's sequence number it already holds
    /// (SEQUENCE_REUSED).
    /// </summary>
    internal sealed class Hub : IDisposable
    {
        internal readonly string Url, Dir, FacilityDir, Facility = "dotnet-test-facility";
        private readonly Process process; // null in a view made by Enrol: only the hub that started it stops it

        private Hub(string url, string dir, string facility, string facilityDir)
        {
            Url = url;
            Dir = dir;
            Facility = facility;
            FacilityDir = facilityDir;
        }

        /// <summary>
        /// Enrols a facility as a hospital and the hub's operator do: the hospital makes its keys (medseal facility
        /// init), the hub enrols only the public parts (medseal hub enroll --signing-key signing.pub --csr client.csr).
        /// </summary>
        private static void Enrol(string cli, string hubDir, string facility, string facilityDir)
        {
            T.Run(cli, "facility init --facility " + facility + " --dir " + facilityDir);
            T.Run(cli, "hub enroll --dir " + hubDir + " --facility " + facility + " --signing-key " + Path.Combine(facilityDir, "signing.pub")
                + " --csr " + Path.Combine(facilityDir, "client.csr") + " --out " + facilityDir);
        }

        /// <summary>This running hub with a newly enrolled facility (the hub sees it at its next batch).</summary>
        internal Hub Enrol(string facility)
        {
            string dir = Path.Combine(Path.GetDirectoryName(Dir), facility);
            Enrol(T.Env("MEDSEAL_CLI"), Dir, facility, dir);
            return new Hub(Url, Dir, facility, dir);
        }

        internal Hub()
        {
            string cli = T.Env("MEDSEAL_CLI");
            string b = T.TempDir("hub");
            Dir = Path.Combine(b, "hub");
            FacilityDir = Path.Combine(b, "facility");
            T.Run(cli, "hub init --dir " + Dir + " --listen 127.0.0.1:0");
            Enrol(cli, Dir, Facility, FacilityDir);
            var psi = new ProcessStartInfo(cli, "hub serve --dir " + Dir + " --listen 127.0.0.1:0")
            {
                UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            process = Process.Start(psi);
            var log = new StringBuilder();
            process.ErrorDataReceived += (s, e) => { lock (log) log.AppendLine(e.Data); };
            process.BeginErrorReadLine();
            var found = new ManualResetEvent(false);
            string url = null;
            process.OutputDataReceived += (s, e) =>
            {
                if (e.Data != null && e.Data.StartsWith("listening on https://", StringComparison.Ordinal))
                {
                    url = e.Data.Substring("listening on ".Length).Trim();
                    found.Set();
                }
            };
            process.BeginOutputReadLine();
            if (!found.WaitOne(20000)) { Dispose(); Assert.Fail("the reference hub did not start:\n" + log); }
            Url = url;
        }

        internal Transport Transport(TransportOptions o = null)
        {
            o = o ?? new TransportOptions();
            o.FacilityDir = FacilityDir;
            return new Transport(Url, o);
        }

        internal byte[] File(string name) { return System.IO.File.ReadAllBytes(Path.Combine(FacilityDir, name)); }
        internal Key SigningKey() { return Key.Load(File("signing.key")); }
        internal RecipientKey Recipient() { return RecipientKey.Load(File("hub-recipient.pub")); }
        internal Key HubKey(string name) { return Key.Load(File(name)); }

        public void Dispose()
        {
            if (process == null) return;
            try { if (!process.HasExited) { process.Kill(); process.WaitForExit(10000); } }
            catch (InvalidOperationException) { }
            process.Dispose();
        }
    }
}
