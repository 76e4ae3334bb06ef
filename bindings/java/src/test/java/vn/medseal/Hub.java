package vn.medseal;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/** The reference hub (target/debug/medseal hub serve) on 127.0.0.1 with one enrolled facility. */
final class Hub implements AutoCloseable {
    final String url;
    final Path dir;
    final String facility;
    final Path facilityDir;
    private final Process process;

    private Hub(String url, Path dir, String facility, Path facilityDir, Process process) {
        this.url = url;
        this.dir = dir;
        this.facility = facility;
        this.facilityDir = facilityDir;
        this.process = process;
    }

    static Hub start(Path base) throws IOException, InterruptedException {
        String cli = TestSupport.cli().toString();
        Path hubDir = base.resolve("hub");
        Path facilityDir = base.resolve("facility");
        String facility = "java-test-facility";
        TestSupport.run(Arrays.asList(cli, "hub", "init", "--dir", hubDir.toString(), "--listen", "127.0.0.1:0"));
        TestSupport.run(Arrays.asList(cli, "hub", "enroll", "--dir", hubDir.toString(), "--facility", facility, "--out",
                facilityDir.toString()));
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
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
