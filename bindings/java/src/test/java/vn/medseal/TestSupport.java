package vn.medseal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.function.Executable;

/** Paths and helpers shared by the tests. Missing fixtures fail the tests: nothing is skipped. */
final class TestSupport {
    private TestSupport() {}

    static Path repo() {
        String repo = System.getProperty("medseal.repo");
        if (repo == null) {
            repo = "../..";
        }
        return Paths.get(repo).toAbsolutePath().normalize();
    }

    static Path smoke(String name) {
        return repo().resolve("tests/smoke").resolve(name);
    }

    static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new AssertionError("cannot read " + p, e);
        }
    }

    static String text(Path p) {
        return new String(read(p), StandardCharsets.UTF_8).trim();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** The generated PKI and SoftHSM2 token of tests/c/fixtures.sh (run-tests.sh makes them and exports MEDSEAL_TEST_FIXTURES). */
    static Path fixtures() {
        String dir = System.getenv("MEDSEAL_TEST_FIXTURES");
        if (dir == null || !new File(dir, "pki/root.pem").isFile()) {
            fail("MEDSEAL_TEST_FIXTURES is not set to a fixtures directory: run bindings/java/run-tests.sh "
                    + "(it runs tests/c/fixtures.sh; openssl and SoftHSM2 come from scripts/install-deps.sh)");
        }
        return Paths.get(dir);
    }

    static Path pki(String name) {
        return fixtures().resolve("pki").resolve(name);
    }

    static String env(String name) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) {
            fail(name + " is not set: run bindings/java/run-tests.sh");
        }
        return value;
    }

    /** The medseal CLI (the reference hub). */
    static Path cli() {
        String cli = System.getenv("MEDSEAL_CLI");
        Path p = cli != null ? Paths.get(cli) : repo().resolve("target/debug/medseal");
        if (!Files.isExecutable(p)) {
            fail("the medseal CLI is missing at " + p + ": cargo build -j2 -p medseal-cli");
        }
        return p;
    }

    /** Asserts that {@code body} throws a medseal exception of {@code type} named {@code name}; returns it. */
    static <T extends MedsealException> T assertMedseal(Class<T> type, String name, Executable body) {
        T e = assertThrows(type, body);
        assertEquals(name, e.getName(), e.getMessage());
        assertEquals(name, ResultCodes.name(e.getCode()));
        return e;
    }

    /** Runs a command, failing on a nonzero exit; returns its output. */
    static String run(List<String> command) throws IOException, InterruptedException {
        return run(command, java.util.Collections.<String, String>emptyMap());
    }

    /** Runs {@code command} with {@code extraEnv} added to this process's environment; fails on a non-zero exit. */
    static String run(List<String> command, java.util.Map<String, String> extraEnv) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(extraEnv);
        Process p = pb.start();
        byte[] out = readAll(p);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + command);
        }
        String text = str(out);
        if (p.exitValue() != 0) {
            fail(command + " exited " + p.exitValue() + ":\n" + text);
        }
        return text;
    }

    static byte[] readAll(Process p) throws IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        int n;
        while ((n = p.getInputStream().read(chunk)) > 0) {
            b.write(chunk, 0, n);
        }
        return b.toByteArray();
    }

    /** A java command line running {@code mainClass} on this JVM with the test classpath and {@code props}. */
    static List<String> javaCommand(String mainClass, String... props) {
        List<String> cmd = new ArrayList<String>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        for (String p : props) {
            cmd.add(p);
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        return cmd;
    }

    /** Resident memory of this process in kB (Linux /proc). */
    static long rssKb() {
        for (String line : str(read(Paths.get("/proc/self/status"))).split("\n")) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no VmRSS in /proc/self/status");
    }
}
