// Several threads on shared signers, verifiers and keys; 100,000 calls without memory growth;
// handles left to the finalizer.
using System;
using System.Collections.Generic;
using System.Threading;
using Medseal;
using NUnit.Framework;

namespace Medseal.Tests
{
    [TestFixture]
    public class StressTests
    {
        [Test]
        public void EightThreadsShareOneSignerVerifierAndKeys()
        {
            using (Key key = Key.Generate())
            using (var signer = new Signer(key))
            using (var verifier = new Verifier(key))
            using (RecipientKey hub = RecipientKey.Generate())
            {
                var errors = new List<Exception>();
                var threads = new Thread[8];
                for (int t = 0; t < threads.Length; t++)
                {
                    int n = t;
                    threads[t] = new Thread(() =>
                    {
                        try
                        {
                            for (int i = 0; i < 200; i++)
                            {
                                byte[] record = T.Record(n * 1000 + i);
                                Verified v = verifier.Verify(signer.Sign(record));
                                if (v.Kid != key.Kid) throw new Exception("wrong kid");
                                byte[] env = Envelope.Seal(v.Payload, new Meta("r" + i, "s" + n, (ulong)(i + 1)), new[] { hub });
                                if (T.Text(hub.Open(env)) != T.Text(CanonicalJson.Canonicalize(record))) throw new Exception("wrong plaintext");
                                // Errors are per thread: each sees its own message.
                                try { verifier.Verify("x"); throw new Exception("no error"); }
                                catch (JwsException e) { if (e.Name != "MEDSEAL_JWS_MALFORMED") throw; }
                            }
                        }
                        catch (Exception e) { lock (errors) errors.Add(e); }
                    });
                    threads[t].Start();
                }
                foreach (Thread th in threads) th.Join();
                Assert.IsEmpty(errors, errors.Count > 0 ? errors[0].ToString() : "");
            }
        }

        [Test]
        public void CallbackSignerFromSeveralThreads()
        {
            using (Key key = Key.Generate())
            using (Key pub = key.PublicKey())
            using (var verifier = new Verifier(pub))
            {
                var inner = new Signer(key);
                int calls = 0;
                // The host signs by asking medseal (any JWS signature over the input would do; here an
                // exception on odd calls must come out on the thread that signed, not another one).
                Signer s = Signer.FromCallback(pub, m =>
                {
                    int c = Interlocked.Increment(ref calls);
                    throw new ApplicationException("call " + c + " on thread " + Thread.CurrentThread.ManagedThreadId);
                });
                var errors = new List<string>();
                var threads = new Thread[4];
                for (int t = 0; t < threads.Length; t++)
                {
                    threads[t] = new Thread(() =>
                    {
                        for (int i = 0; i < 50; i++)
                        {
                            try { s.Sign(T.Patient); lock (errors) errors.Add("no exception"); }
                            catch (ApplicationException e)
                            {
                                if (!e.Message.EndsWith("thread " + Thread.CurrentThread.ManagedThreadId)) lock (errors) errors.Add(e.Message);
                            }
                        }
                    });
                    threads[t].Start();
                }
                foreach (Thread th in threads) th.Join();
                Assert.IsEmpty(errors);
                Assert.AreEqual(200, calls);
                inner.Dispose();
                s.Dispose();
            }
        }

        [Test]
        public void HundredThousandCallsDoNotGrowMemory()
        {
            using (Key key = Key.Generate())
            using (var signer = new Signer(key))
            using (var verifier = new Verifier(key))
            {
                byte[] record = T.Record(1);
                byte[] jws = signer.Sign(record);
                Action round = () =>
                {
                    CanonicalJson.Canonicalize(record);
                    try { CanonicalJson.Canonicalize("{\"a\":1,\"a\":1}"); } catch (CanonicalJsonException) { }
                };
                Action<int> rounds = count =>
                {
                    for (int i = 0; i < count; i++)
                    {
                        round();
                        if (i % 4 == 0) verifier.Verify(jws);
                        if (i % 10 == 0) { Key k = Key.Generate(); string kid = k.Kid; } // left to the finalizer
                    }
                    GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
                };
                // Warm up until the runtime's own heaps (GC segments, JIT) have settled, then measure.
                rounds(50000);
                long before = T.RssKb();
                rounds(100000);
                long after = T.RssKb();
                Console.WriteLine("RSS after 50,000 warm-up rounds {0} kB, after 100,000 more {1} kB", before, after);
                Assert.Less(after - before, 20 * 1024, "RSS grew by " + (after - before) + " kB");
            }
        }
    }
}
