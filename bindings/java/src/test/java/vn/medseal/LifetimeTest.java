package vn.medseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Handles freed exactly once from any thread, the safety net, threads, and 100,000 calls without growth. */
class LifetimeTest {
    @Test
    void safetyNetFreesUnclosedHandles() throws Exception {
        int before = Medseal.liveHandles();
        long netBefore = NativeRef.freedBySafetyNet();
        for (int i = 0; i < 200; i++) {
            Key.generate(Algorithm.EDDSA).kid(); // never closed
        }
        assertTrue(Medseal.liveHandles() >= before + 200 - 5 || NativeRef.freedBySafetyNet() > netBefore);
        long end = System.currentTimeMillis() + 20000;
        while (Medseal.liveHandles() > before && System.currentTimeMillis() < end) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(before, Medseal.liveHandles());
        assertTrue(NativeRef.freedBySafetyNet() >= netBefore + 200, "freed by the safety net: " + NativeRef.freedBySafetyNet());
    }

    @Test
    void closeFromManyThreadsFreesOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            for (int round = 0; round < 50; round++) {
                int before = Medseal.liveHandles();
                Key key = Key.generate(Algorithm.ES256);
                List<Future<?>> futures = new ArrayList<Future<?>>();
                for (int t = 0; t < 8; t++) {
                    futures.add(pool.submit(() -> {
                        try {
                            key.kid();
                        } catch (IllegalStateException closed) {
                            // another thread closed it first: fine, never a crash
                        }
                        key.close();
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
                assertTrue(key.isClosed());
                assertEquals(before, Medseal.liveHandles());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void threadsSignAndSealWithSharedHandles() throws Exception {
        try (Key key = Key.generate(Algorithm.EDDSA); Signer signer = new Signer(key); Verifier verifier = new Verifier(key);
                RecipientKey hub = RecipientKey.generate()) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Callable<Integer>> jobs = new ArrayList<Callable<Integer>>();
                for (int t = 0; t < 8; t++) {
                    final int thread = t;
                    jobs.add(() -> {
                        for (int i = 0; i < 200; i++) {
                            byte[] record = TestSupport.utf8("{\"thread\":" + thread + ",\"i\":" + i + "}");
                            Verified v = verifier.verify(signer.sign(record));
                            byte[] canonical = Medseal.canonicalize(record);
                            assertArrayEquals(canonical, v.payload());
                            byte[] envelope = signer.signAndSeal(record, new Meta("r-" + thread + "-" + i, "79001", i + 1),
                                    Collections.singletonList(hub));
                            assertArrayEquals(canonical, hub.openVerified(envelope, verifier).payload());
                        }
                        return thread;
                    });
                }
                int sum = 0;
                for (Future<Integer> f : pool.invokeAll(jobs)) {
                    sum += f.get();
                }
                assertEquals(28, sum);
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void callbacksFromManyThreads() throws Exception {
        try (Key key = Key.generate(Algorithm.ES256); Key pub = key.publicKey(); Verifier verifier = new Verifier(pub)) {
            java.security.PrivateKey jca = java.security.KeyFactory.getInstance("EC")
                    .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(key.export(KeyFormat.PKCS8_DER)));
            java.security.PublicKey jcaPub = java.security.KeyFactory.getInstance("EC")
                    .generatePublic(new java.security.spec.X509EncodedKeySpec(pub.export(KeyFormat.SPKI_DER)));
            try (Signer signer = JcaSigner.builder(jca, jcaPub, null, null).build()) {
                ExecutorService pool = Executors.newFixedThreadPool(6);
                try {
                    List<Callable<Boolean>> jobs = new ArrayList<Callable<Boolean>>();
                    for (int t = 0; t < 6; t++) {
                        jobs.add(() -> {
                            for (int i = 0; i < 100; i++) {
                                verifier.verify(signer.sign("{\"i\":" + i + "}"));
                            }
                            return true;
                        });
                    }
                    for (Future<Boolean> f : pool.invokeAll(jobs)) {
                        assertTrue(f.get());
                    }
                } finally {
                    pool.shutdown();
                }
            }
        }
    }

    @Test
    void hundredThousandCallsWithoutGrowingMemory() throws Exception {
        byte[] record = TestSupport.read(TestSupport.smoke("patient.json"));
        try (Key key = Key.generate(Algorithm.EDDSA); Signer signer = new Signer(key); Verifier verifier = new Verifier(key);
                RecipientKey hub = RecipientKey.generate()) {
            List<RecipientKey> to = Collections.singletonList(hub);
            Meta meta = new Meta("mem", "79001", 1);
            Runnable round = () -> {
                byte[] jws = signer.sign(record);
                verifier.verify(jws);
                Medseal.canonicalize(record);
                hub.open(Medseal.seal(jws, meta, to));
                try {
                    verifier.verify(new byte[] {'x'});
                } catch (JwsException expected) {
                    // error paths must not leak either
                }
            };
            for (int i = 0; i < 5000; i++) { // warm up: JIT, allocator arenas, JNA caches
                round.run();
            }
            System.gc();
            long start = TestSupport.rssKb();
            int handles = Medseal.liveHandles();
            // 20,000 rounds of 5 calls each = 100,000 calls into the library.
            for (int i = 0; i < 20000; i++) {
                round.run();
            }
            System.gc();
            Thread.sleep(200);
            long grown = TestSupport.rssKb() - start;
            assertEquals(handles, Medseal.liveHandles());
            assertTrue(grown < 16 * 1024, "resident memory grew by " + grown + " kB over 100,000 calls");
        }
    }
}
