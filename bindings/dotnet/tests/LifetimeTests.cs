// Handles: freed exactly once, by Dispose on any thread or by the finalizer; callbacks kept alive
// as long as a native signer may call them.
using System;
using System.Threading;
using Medseal;
using NUnit.Framework;

namespace Medseal.Tests
{
    [TestFixture]
    public class LifetimeTests
    {
        [Test]
        public void FinalizerFreesWhatWasNotDisposed()
        {
            byte[] jws = null;
            using (Key keep = Key.Generate())
            {
                for (int i = 0; i < 2000; i++)
                {
                    // Everything here is left to the finalizer (on its own thread).
                    var key = Key.Generate(Algorithm.ES256);
                    var signer = new Signer(key);
                    var verifier = new Verifier(key);
                    var hub = RecipientKey.Generate();
                    var env = new Envelope(Envelope.Seal(T.Utf8("x"), new Meta("r", "s", 1), new[] { hub }));
                    if (i % 500 == 0) jws = signer.Sign(T.Patient);
                    GC.KeepAlive(verifier); GC.KeepAlive(env);
                }
                GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect(); GC.WaitForPendingFinalizers();
                Assert.IsNotNull(jws);
                Assert.AreEqual(43, keep.Kid.Length);
            }
        }

        [Test]
        public void CallbackSignersLeftToTheCollectorStillSignUntilFreed()
        {
            using (Key key = Key.Generate())
            using (Key pub = key.PublicKey())
            using (var verifier = new Verifier(pub))
            {
                var inner = new Signer(key, new SignerOptions { SigningTime = new DateTimeOffset(2025, 3, 1, 8, 30, 0, TimeSpan.Zero) });
                Signer s = Signer.FromCallback(pub, m =>
                {
                    string jws = T.Text(inner.Sign(T.Patient, JwsFormat.Compact));
                    return T.B64Url(jws.Substring(jws.LastIndexOf('.') + 1));
                }, new SignerOptions { SigningTime = new DateTimeOffset(2025, 3, 1, 8, 30, 0, TimeSpan.Zero) });
                // Only the native signer references the delegate now (through the handle): a full
                // collection must not free it.
                for (int i = 0; i < 3; i++)
                {
                    GC.Collect(); GC.WaitForPendingFinalizers();
                    Assert.AreEqual(key.Kid, verifier.Verify(s.Sign(T.Patient)).Kid);
                }
                for (int i = 0; i < 200; i++) Signer.FromCallback(pub, m => new byte[64]); // never disposed
                GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
                s.Dispose();
                inner.Dispose();
            }
        }

        [Test]
        public void DisposeFromOtherThreadsOnceOnly()
        {
            var keys = new Key[64];
            for (int i = 0; i < keys.Length; i++) keys[i] = Key.Generate();
            var threads = new Thread[4];
            for (int t = 0; t < threads.Length; t++)
            {
                threads[t] = new Thread(() => { foreach (Key k in keys) k.Dispose(); }); // every thread disposes every key
                threads[t].Start();
            }
            foreach (Thread th in threads) th.Join();
            foreach (Key k in keys)
            {
                Assert.IsTrue(k.IsDisposed);
                Assert.Throws<ObjectDisposedException>(() => k.Export());
            }
            var outbox = new Outbox(System.IO.Path.Combine(T.TempDir("lifetime"), "o.db"), "s");
            var t2 = new Thread(outbox.Dispose);
            t2.Start();
            t2.Join();
            Assert.Throws<ObjectDisposedException>(() => outbox.Status());
        }
    }
}
