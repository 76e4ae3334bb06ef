// A small runner for the NUnit 2.6 fixtures of Medseal.Tests.dll, for runtimes where NUnit 2.6's
// console cannot run (.NET Core: no AppDomains). It honours [TestFixture], [Test],
// [TestFixtureSetUp]/[TestFixtureTearDown], [SetUp]/[TearDown] and [Category]; an excluded
// category is named on the output with its test count (never skipped silently). Ends with the
// line "N passed, N failed" and exits 1 if anything failed or nothing ran.
//
//   TestRunner.exe Medseal.Tests.dll [--exclude CATEGORY]... [--min N]
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Reflection;
using NUnit.Framework;

internal static class TestRunner
{
    private static int Main(string[] args)
    {
        var excluded = new List<string>();
        int min = 1;
        string assemblyPath = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--exclude") excluded.Add(args[++i]);
            else if (args[i] == "--min") min = int.Parse(args[++i]);
            else assemblyPath = args[i];
        }
        Assembly assembly = Assembly.LoadFrom(assemblyPath);
        int passed = 0, failed = 0, notRun = 0;
        foreach (Type type in assembly.GetTypes().Where(t => t.GetCustomAttributes(typeof(TestFixtureAttribute), true).Length > 0).OrderBy(t => t.FullName))
        {
            MethodInfo[] tests = type.GetMethods().Where(m => m.GetCustomAttributes(typeof(TestAttribute), true).Length > 0).OrderBy(m => m.Name).ToArray();
            string category = Categories(type).Concat(new string[0]).FirstOrDefault(c => excluded.Contains(c));
            if (category != null)
            {
                notRun += tests.Length;
                Console.WriteLine("NOT RUN " + type.Name + " (" + tests.Length + " tests): category " + category + " excluded on this runtime");
                continue;
            }
            object fixture = Activator.CreateInstance(type);
            Exception setupFailure = null;
            try { Call(fixture, typeof(TestFixtureSetUpAttribute)); }
            catch (Exception e) { setupFailure = e; }
            foreach (MethodInfo test in tests)
            {
                string name = type.Name + "." + test.Name;
                string cat = Categories(test).FirstOrDefault(c => excluded.Contains(c));
                if (cat != null) { notRun++; Console.WriteLine("NOT RUN " + name + ": category " + cat + " excluded on this runtime"); continue; }
                var watch = Stopwatch.StartNew();
                Exception failure = setupFailure;
                if (failure == null)
                {
                    try
                    {
                        Call(fixture, typeof(SetUpAttribute));
                        try { test.Invoke(fixture, null); }
                        finally { Call(fixture, typeof(TearDownAttribute)); }
                    }
                    catch (Exception e) { failure = e; }
                }
                while (failure is TargetInvocationException && failure.InnerException != null) failure = failure.InnerException;
                if (failure == null) { passed++; Console.WriteLine("ok     " + name + " (" + watch.ElapsedMilliseconds + " ms)"); }
                else { failed++; Console.WriteLine("FAILED " + name + ": " + failure); }
            }
            try { Call(fixture, typeof(TestFixtureTearDownAttribute)); }
            catch (Exception e) { failed++; Console.WriteLine("FAILED " + type.Name + " teardown: " + e); }
        }
        if (notRun > 0) Console.WriteLine(notRun + " not run (excluded categories above)");
        Console.WriteLine(passed + " passed, " + failed + " failed");
        if (passed + failed < min) { Console.WriteLine("error: fewer than " + min + " tests ran"); return 1; }
        return failed == 0 ? 0 : 1;
    }

    private static IEnumerable<string> Categories(MemberInfo m)
    {
        return m.GetCustomAttributes(typeof(CategoryAttribute), true).Cast<CategoryAttribute>().Select(c => c.Name);
    }

    private static void Call(object fixture, Type attribute)
    {
        foreach (MethodInfo m in fixture.GetType().GetMethods().Where(x => x.GetCustomAttributes(attribute, true).Length > 0))
            m.Invoke(fixture, null);
    }
}
