import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.Ed25519Signer;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.util.Base64URL;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyFactory;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import org.erdtman.jcs.JsonCanonicalizer;
import vn.medseal.Algorithm;
import vn.medseal.JwsFormat;
import vn.medseal.Key;
import vn.medseal.KeyFormat;
import vn.medseal.Medseal;
import vn.medseal.Signer;
import vn.medseal.Verifier;

/**
 * {@code make bench-java} (bench.sh): signing a 1 KB FHIR record from Java, in one JVM.
 *
 * <ul>
 *   <li><b>sign-1k-eddsa, sign-1k-es256</b>: medseal-java's {@code Signer.sign(record, COMPACT)} (RFC 8785
 *       canonicalization with medseal's checks, the JAdES header, the signature, all in libmedseal) against
 *       Nimbus JOSE+JWT over Anders Rundgren and Samuel Erdtman's RFC 8785 library
 *       (io.github.erdtman:java-json-canonicalization): {@code new JsonCanonicalizer(record).getEncodedUTF8()},
 *       then a compact JWS with {@code alg}, {@code typ} and {@code kid} (medseal's JAdES header also
 *       carries {@code sigT} and {@code crit}, which is more work on medseal's side). Both start from the
 *       same record bytes (JSON text as a FHIR server sends it) and sign with the same private key; before
 *       timing, both canonical forms are checked byte-equal and each side's JWS is checked by medseal's
 *       verifier and by Nimbus's. Goal: reference time / medseal time >= 1.5.</li>
 *   <li><b>binding-overhead-sign-*</b>: the same {@code Signer.sign} against {@code medseal_signer_sign} of the same
 *       bytes from C ({@code sign_c}, argument 1, linked to the same libmedseal.so), run as a child process once
 *       per round between the Java rounds: the binding's per-call cost is the difference. Reported, no goal.</li>
 * </ul>
 *
 * <p>Each operation is warmed up (JIT) for {@code MEDSEAL_BENCH_WARMUP_SECONDS} (default 1), calibrated to about
 * {@code MEDSEAL_BENCH_ROUND_SECONDS} (0.2) per round, then run in {@code MEDSEAL_BENCH_ROUNDS} (7) interleaved
 * rounds (medseal, Nimbus, C, medseal, ...); the best round's time per call is kept.
 *
 * <pre>java -cp ... SignBench SIGN_C_BINARY</pre>
 */
public final class SignBench {
    /** A FHIR Observation, about 1 KB of JSON text: the record of benches/python_bench.py. */
    static final String RECORD = "{\"resourceType\": \"Observation\", \"id\": \"bv-hue-obs-000981\", "
            + "\"meta\": {\"versionId\": \"3\", \"lastUpdated\": \"2025-03-01T08:30:00+07:00\"}, \"status\": \"final\", "
            + "\"category\": [{\"coding\": [{\"system\": \"http://terminology.hl7.org/CodeSystem/observation-category\", "
            + "\"code\": \"vital-signs\", \"display\": \"Vital Signs\"}]}], "
            + "\"code\": {\"coding\": [{\"system\": \"http://loinc.org\", \"code\": \"85354-9\", \"display\": \"Blood pressure panel\"}], "
            + "\"text\": \"Huy\u1ebft \u00e1p\"}, "
            + "\"subject\": {\"reference\": \"Patient/hue-000451\", \"display\": \"Tr\u1ea7n Th\u1ecb Mai\"}, "
            + "\"effectiveDateTime\": \"2025-03-01T08:15:00+07:00\", "
            + "\"performer\": [{\"reference\": \"Practitioner/bs-nguyen-van-binh\", \"display\": \"BS. Nguy\u1ec5n V\u0103n B\u00ecnh\"}], "
            + "\"component\": [{\"code\": {\"coding\": [{\"system\": \"http://loinc.org\", \"code\": \"8480-6\", \"display\": \"Systolic\"}]}, "
            + "\"valueQuantity\": {\"value\": 118, \"unit\": \"mmHg\", \"system\": \"http://unitsofmeasure.org\", \"code\": \"mm[Hg]\"}}, "
            + "{\"code\": {\"coding\": [{\"system\": \"http://loinc.org\", \"code\": \"8462-4\", \"display\": \"Diastolic\"}]}, "
            + "\"valueQuantity\": {\"value\": 76.5, \"unit\": \"mmHg\", \"system\": \"http://unitsofmeasure.org\", \"code\": \"mm[Hg]\"}}], "
            + "\"note\": [{\"text\": \"\u0110o l\u00fac ngh\u1ec9, tay tr\u00e1i, t\u01b0 th\u1ebf ng\u1ed3i.\"}]}";

    static final double WARMUP_SECONDS = setting("MEDSEAL_BENCH_WARMUP_SECONDS", 1.0);
    static final double ROUND_SECONDS = setting("MEDSEAL_BENCH_ROUND_SECONDS", 0.2);
    static final int ROUNDS = (int) setting("MEDSEAL_BENCH_ROUNDS", 7);
    static final double GOAL = 1.5;

    /** One timed operation; what it returns goes to {@link #sink} so that the JIT cannot drop the work. */
    interface Op {
        Object run() throws Exception;
    }

    static volatile Object sink;

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: SignBench SIGN_C_BINARY");
            System.exit(2);
        }
        String signC = args[0];
        byte[] record = RECORD.getBytes(StandardCharsets.UTF_8);
        byte[] canonical = Medseal.canonicalize(record);
        byte[] reference = new JsonCanonicalizer(record).getEncodedUTF8();
        if (!Arrays.equals(canonical, reference)) {
            throw new IllegalStateException("medseal and java-json-canonicalization disagree on the record:\n"
                    + new String(canonical, StandardCharsets.UTF_8) + "\n" + new String(reference, StandardCharsets.UTF_8));
        }
        File recordFile = File.createTempFile("medseal-bench-", ".json");
        recordFile.deleteOnExit();
        Files.write(recordFile.toPath(), record);

        System.out.printf("medseal %s (%s), Java %s (%s), nimbus-jose-jwt %s, java-json-canonicalization %s; "
                        + "%d-byte record text, %d bytes canonical; warm-up %.1f s, best of %d rounds of ~%.1f s%n",
                Medseal.libraryVersion(), Medseal.libraryPath(), System.getProperty("java.version"),
                System.getProperty("java.vm.name"), version(JWSObject.class), version(JsonCanonicalizer.class),
                record.length, canonical.length, WARMUP_SECONDS, ROUNDS, ROUND_SECONDS);

        for (Algorithm alg : new Algorithm[] {Algorithm.EDDSA, Algorithm.ES256}) {
            benchSign(alg, record, canonical, signC, recordFile);
        }
        emptyCall();
        recordFile.delete();
    }

    static void benchSign(Algorithm alg, final byte[] record, byte[] canonical, String signC, File recordFile) throws Exception {
        try (Key key = Key.generate(alg); Key pub = key.publicKey(); Verifier verifier = new Verifier(pub);
             final Signer signer = new Signer(key)) {
            // Nimbus signs with the same private key.
            final JWSSigner nimbusSigner;
            JWSVerifier nimbusVerifier;
            JWSAlgorithm nimbusAlg;
            // sigT is a critical JAdES header: Nimbus is told it is understood (medseal's verifier checks it).
            Set<String> crit = new HashSet<String>(Collections.singletonList("sigT"));
            if (alg == Algorithm.EDDSA) {
                OctetKeyPair okp = new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(key.export(KeyFormat.RAW_PUBLIC)))
                        .d(Base64URL.encode(key.export(KeyFormat.RAW_PRIVATE))).build();
                nimbusSigner = new Ed25519Signer(okp);
                nimbusVerifier = new Ed25519Verifier(okp.toPublicJWK(), crit);
                nimbusAlg = JWSAlgorithm.EdDSA;
            } else {
                KeyFactory ec = KeyFactory.getInstance("EC");
                nimbusSigner = new ECDSASigner((ECPrivateKey) ec.generatePrivate(new PKCS8EncodedKeySpec(key.export(KeyFormat.PKCS8_DER))));
                nimbusVerifier = new ECDSAVerifier((ECPublicKey) ec.generatePublic(new X509EncodedKeySpec(key.export(KeyFormat.SPKI_DER))), crit);
                nimbusAlg = JWSAlgorithm.ES256;
            }
            final JWSHeader header = new JWSHeader.Builder(nimbusAlg).type(new JOSEObjectType("medseal+jws")).keyID(key.kid()).build();
            Op medseal = new Op() {
                @Override
                public Object run() {
                    return signer.sign(record, JwsFormat.COMPACT);
                }
            };
            Op nimbus = new Op() {
                @Override
                public Object run() throws Exception {
                    JWSObject jws = new JWSObject(header, new Payload(new JsonCanonicalizer(record).getEncodedUTF8()));
                    jws.sign(nimbusSigner);
                    return jws.serialize();
                }
            };

            // Same work both ways: each JWS verifies with both libraries over the same canonical bytes.
            String ours = new String((byte[]) medseal.run(), StandardCharsets.UTF_8);
            String theirs = (String) nimbus.run();
            for (String jws : new String[] {ours, theirs}) {
                check(Arrays.equals(canonical, verifier.verify(jws).payload()), "medseal's verifier on " + jws);
                JWSObject parsed = JWSObject.parse(jws);
                check(parsed.verify(nimbusVerifier) && Arrays.equals(canonical, parsed.getPayload().toBytes()),
                        "Nimbus's verifier on " + jws);
            }

            String name = alg.jwsName();
            warmUp(medseal);
            warmUp(nimbus);
            long nMedseal = calibrate(medseal);
            long nNimbus = calibrate(nimbus);
            double bestMedseal = Double.MAX_VALUE;
            double bestNimbus = Double.MAX_VALUE;
            double bestC = Double.MAX_VALUE;
            for (int round = 0; round < ROUNDS; round++) {
                bestMedseal = Math.min(bestMedseal, time(medseal, nMedseal));
                bestNimbus = Math.min(bestNimbus, time(nimbus, nNimbus));
                bestC = Math.min(bestC, signFromC(signC, recordFile, name, nMedseal));
            }
            double ratio = bestNimbus / bestMedseal;
            System.out.printf("RATIO sign-1k-%s medseal/reference = %.2f (goal >= %s, %s)  [medseal %s, reference %s; "
                            + "Signer.sign compact (JAdES header) vs Nimbus %s compact (alg, typ, kid) over "
                            + "JsonCanonicalizer, same key, %d-byte record text in]%n",
                    name.toLowerCase(), ratio, "1.5", ratio >= GOAL ? "met" : "NOT met", us(bestMedseal), us(bestNimbus),
                    name, record.length);
            double added = bestMedseal - bestC;
            System.out.printf("RATIO binding-overhead-sign-%s C/java = %.2f (report)  [Signer.sign %s, C medseal_signer_sign %s: "
                            + "the binding adds %s per call, %.1f%%]%n",
                    name.toLowerCase(), bestC / bestMedseal, us(bestMedseal), us(bestC), us(Math.max(added, 0)),
                    100 * added / bestC);
            System.out.flush();
        }
    }

    /** An empty call through the binding (medseal_abi_version through JNA direct mapping). */
    static void emptyCall() throws Exception {
        Op call = new Op() {
            @Override
            public Object run() {
                return Medseal.libraryAbiVersion();
            }
        };
        warmUp(call);
        long n = calibrate(call);
        double best = Double.MAX_VALUE;
        for (int round = 0; round < ROUNDS; round++) {
            best = Math.min(best, time(call, n));
        }
        System.out.printf("OVERHEAD empty-call java = %.0f ns  [Medseal.libraryAbiVersion(): one JNA direct call of medseal_abi_version]%n",
                best * 1e9);
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("check failed: " + what);
        }
    }

    static void warmUp(Op op) throws Exception {
        long end = System.nanoTime() + (long) (WARMUP_SECONDS * 1e9);
        while (System.nanoTime() < end) {
            for (int i = 0; i < 100; i++) {
                sink = op.run();
            }
        }
    }

    /** How many calls take about ROUND_SECONDS. */
    static long calibrate(Op op) throws Exception {
        long n = 1;
        double elapsed;
        while (true) {
            elapsed = time(op, n) * n;
            if (elapsed >= ROUND_SECONDS / 4 || n >= 1L << 26) {
                break;
            }
            n *= 4;
        }
        return Math.max(1, (long) (n * ROUND_SECONDS / Math.max(elapsed, 1e-9)));
    }

    /** Seconds per call over n calls. */
    static double time(Op op, long n) throws Exception {
        long start = System.nanoTime();
        for (long i = 0; i < n; i++) {
            sink = op.run();
        }
        return (System.nanoTime() - start) / 1e9 / n;
    }

    /** Seconds per call of medseal_signer_sign from C: one run of sign_c (its own warm-up, then n timed calls). */
    static double signFromC(String signC, File recordFile, String alg, long n) throws Exception {
        Process p = new ProcessBuilder(signC, recordFile.getPath(), alg, Long.toString(n)).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                out.append(line).append('\n');
            }
        }
        int rc = p.waitFor();
        String prefix = "C_NS_PER_SIGN " + alg + " ";
        for (String line : out.toString().split("\n")) {
            if (rc == 0 && line.startsWith(prefix)) {
                return Double.parseDouble(line.substring(prefix.length())) / 1e9;
            }
        }
        throw new IllegalStateException(signC + " failed (exit " + rc + "): " + out);
    }

    static String us(double seconds) {
        return String.format("%.1f us", seconds * 1e6);
    }

    static String version(Class<?> c) {
        String v = c.getPackage() == null ? null : c.getPackage().getImplementationVersion();
        if (v != null) {
            return v;
        }
        // Maven's jar name: .../<artifact>-<version>.jar
        String path = c.getProtectionDomain().getCodeSource().getLocation().getPath();
        String file = path.substring(path.lastIndexOf('/') + 1);
        return file.replaceAll("^.*?-(\\d[^-]*(?:-[A-Za-z0-9.]+)?)\\.jar$", "$1");
    }

    static double setting(String name, double fallback) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? fallback : Double.parseDouble(v);
    }

    private SignBench() {}
}
