package vn.medseal;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The reference hub (target/debug/medseal hub serve) on 127.0.0.1 with one enrolled facility. A test that
 * delivers a new outbox enrols its own facility ({@link #enrol}): every outbox numbers its records from 1,
 * and the hub refuses a facility's sequence number it already holds (SEQUENCE_REUSED).
 */
final class Hub implements AutoCloseable {
    final String url;
    final Path dir;
    final String facility;
    final Path facilityDir;
    private final Process process; // null in a view made by enrol(): only start()'s Hub stops the hub

    private Hub(String url, Path dir, String facility, Path facilityDir, Process process) {
        this.url = url;
        this.dir = dir;
        this.facility = facility;
        this.facilityDir = facilityDir;
        this.process = process;
    }

    /**
     * Enrols a facility on the hub as a hospital and the hub's operator do: the hospital makes its keys
     * ({@code medseal facility init}), the hub enrols only the public parts ({@code medseal hub enroll
     * --signing-key signing.pub --csr client.csr}) into the same directory.
     */
    private static void enrol(String cli, Path hubDir, String facility, Path facilityDir)
            throws IOException, InterruptedException {
        TestSupport.run(Arrays.asList(cli, "facility", "init", "--facility", facility, "--dir", facilityDir.toString()));
        TestSupport.run(Arrays.asList(cli, "hub", "enroll", "--dir", hubDir.toString(), "--facility", facility,
                "--signing-key", facilityDir.resolve("signing.pub").toString(), "--csr",
                facilityDir.resolve("client.csr").toString(), "--out", facilityDir.toString()));
    }

    /** This running hub with a newly enrolled facility (the hub sees it at its next batch). */
    Hub enrol(String newFacility) throws IOException, InterruptedException {
        Path newDir = dir.resolveSibling(newFacility);
        enrol(TestSupport.cli().toString(), dir, newFacility, newDir);
        return new Hub(url, dir, newFacility, newDir, null);
    }

    static Hub start(Path base) throws IOException, InterruptedException {
        String cli = TestSupport.cli().toString();
        Path hubDir = base.resolve("hub");
        Path facilityDir = base.resolve("facility");
        String facility = "java-test-facility";
        TestSupport.run(Arrays.asList(cli, "hub", "init", "--dir", hubDir.toString(), "--listen", "127.0.0.1:0"));
        enrol(cli, hubDir, facility, facilityDir);
        File out = base.resolve("hub.out").toFile();
        File log = base.resolve("hub.log").toFile();
        Process p = new ProcessBuilder(cli, "hub", "serve", "--dir", hubDir.toString(), "--listen", "127.0.0.1:0")
                .redirectOutput(out).redirectError(log).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline && p.isAlive()) {
            for (String line : Files.readAllLines(out.toPath())) {
                if (line.startsWith("listening on https://")) {
                    return new Hub(line.substring("listening on ".length()).trim(), hubDir, facility, facilityDir, p);
                }
            }
            Thread.sleep(50);
        }
        p.destroy();
        fail("the reference hub did not start:\n" + new String(Files.readAllBytes(log.toPath()), "UTF-8"));
        return null;
    }

    Transport transport() {
        return Transport.builder(url).facilityDir(facilityDir).build();
    }

    Key signingKey() {
        return Key.load(TestSupport.read(facilityDir.resolve("signing.key")));
    }

    RecipientKey recipient() {
        return RecipientKey.load(TestSupport.read(facilityDir.resolve("hub-recipient.pub")));
    }

    Key key(String name) {
        return Key.load(TestSupport.read(facilityDir.resolve(name)));
    }

    @Override
    public void close() throws InterruptedException {
        if (process == null) {
            return;
        }
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
