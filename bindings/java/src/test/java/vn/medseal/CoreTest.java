package vn.medseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static vn.medseal.TestSupport.assertMedseal;
import static vn.medseal.TestSupport.str;
import static vn.medseal.TestSupport.utf8;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CoreTest {
    @Test
    void versionsAndLibraryPath() {
        assertEquals(1, Medseal.ABI_VERSION);
        assertEquals(Medseal.ABI_VERSION, Medseal.libraryAbiVersion());
        assertTrue(Medseal.libraryVersion().matches("[0-9]+\\.[0-9]+\\.[0-9]+.*"), Medseal.libraryVersion());
        // Loaded by absolute path from the jar's copy (or the override property), never by name.
        String path = Medseal.libraryPath();
        assertTrue(path.startsWith("/"), path);
        assertTrue(path.contains("libmedseal.so"), path);
        assertEquals(64, Signer.maxSignatureBytes() / 16);
    }

    @Test
    void resultCodesComeFromTheLibrary() {
        assertEquals("MEDSEAL_OK", ResultCodes.name(0));
        assertEquals("MEDSEAL_JSON_LOSSY_NUMBER", ResultCodes.name(105));
        assertEquals("MEDSEAL_JWS_SIGNATURE_INVALID", ResultCodes.name(307));
        assertEquals("MEDSEAL_LEDGER_RANGE", ResultCodes.name(903));
        assertFalse(ResultCodes.describe(307).isEmpty());
        assertNotEquals(ResultCodes.describe(307), ResultCodes.describe(308));
        // One subclass per block, whatever the code.
        Object[][] blocks = {
            {1, GeneralException.class}, {102, JsonException.class}, {203, KeyException.class}, {307, JwsException.class},
            {405, SealException.class}, {503, TrustException.class}, {600, SignerException.class},
            {705, OutboxException.class}, {802, TransportException.class}, {902, LedgerException.class},
        };
        for (Object[] b : blocks) {
            MedsealException e = MedsealException.of((Integer) b[0], "msg");
            assertEquals(b[1], e.getClass());
            assertEquals((Integer) b[0], e.getCode());
            assertEquals(ResultCodes.name((Integer) b[0]), e.getName());
            assertEquals(e.getName() + " (" + b[0] + "): msg", e.getMessage());
            assertEquals("msg", e.getDetail());
        }
    }

    @Test
    void canonicalizeStrictByDefault() {
        assertEquals("{\"a\":\"x\",\"b\":[1,true,null]}", str(Medseal.canonicalize("{ \"b\": [1, true, null], \"a\": \"x\" }")));
        assertArrayEquals(Medseal.canonicalize("{\"a\":1}"), Medseal.canonicalize(utf8("{\"a\":1}")));
        JsonException lossy = assertMedseal(JsonException.class, "MEDSEAL_JSON_LOSSY_NUMBER", () -> Medseal.canonicalize("[1.50]"));
        assertEquals(105, lossy.getCode());
        assertFalse(lossy.getDetail().isEmpty());
        assertEquals("[1.5]", str(Medseal.canonicalize("[1.50]", CanonOption.ALLOW_LOSSY_NUMBERS)));
        assertEquals("[100]", str(Medseal.canonicalize("[1e2]", CanonOption.PLAIN)));
        String nfd = "[\"Hoa\u0300\"]";
        assertMedseal(JsonException.class, "MEDSEAL_JSON_NOT_NFC", () -> Medseal.canonicalize(nfd));
        assertEquals("[\"Ho\u00e0\"]", str(Medseal.canonicalize(nfd, CanonOption.NORMALIZE_NFC)));
        String fhir = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"1\"},\"text\":{\"div\":\"x\"},\"active\":true}";
        assertEquals("{\"active\":true,\"id\":\"p1\",\"meta\":{\"versionId\":\"1\"},\"resourceType\":\"Patient\"}",
                str(Medseal.canonicalize(fhir, CanonOption.FHIR_DATA)));
        assertEquals("{\"active\":true,\"id\":\"p1\",\"resourceType\":\"Patient\"}", str(Medseal.canonicalize(fhir, CanonOption.FHIR_STATIC)));
        assertEquals("{\"active\":true,\"resourceType\":\"Patient\",\"text\":{\"div\":\"x\"}}",
                str(Medseal.canonicalize(fhir, CanonOption.FHIR_DOCUMENT)));
    }

    @Test
    void canonicalizeErrors() {
        assertMedseal(JsonException.class, "MEDSEAL_JSON_SYNTAX", () -> Medseal.canonicalize("{"));
        assertMedseal(JsonException.class, "MEDSEAL_JSON_DUPLICATE_KEY", () -> Medseal.canonicalize("{\"a\":1,\"a\":2}"));
        assertMedseal(JsonException.class, "MEDSEAL_JSON_INVALID_UTF8", () -> Medseal.canonicalize(new byte[] {'"', (byte) 0xff, '"'}));
        assertMedseal(JsonException.class, "MEDSEAL_JSON_LONE_SURROGATE", () -> Medseal.canonicalize("[\"\\ud800\"]"));
        assertMedseal(JsonException.class, "MEDSEAL_JSON_NUMBER_OUT_OF_RANGE", () -> Medseal.canonicalize("[9007199254740993]"));
        assertMedseal(JsonException.class, "MEDSEAL_JSON_NOT_FHIR", () -> Medseal.canonicalize("[1]", CanonOption.FHIR_DATA));
        StringBuilder deep = new StringBuilder();
        for (int i = 0; i < 10000; i++) {
            deep.append('[');
        }
        assertMedseal(JsonException.class, "MEDSEAL_JSON_TOO_DEEP", () -> Medseal.canonicalize(deep.toString()));
        assertThrows(NullPointerException.class, () -> Medseal.canonicalize((byte[]) null));
        assertThrows(NullPointerException.class, () -> Medseal.canonicalize("{}", (CanonOption) null));
        // The library's last error message does not leak into the next successful call's exception.
        assertEquals("{}", str(Medseal.canonicalize("{}")));
    }

    /** A second JVM that loads the library under other system properties; returns its output. */
    private static String child(String... props) throws Exception {
        List<String> cmd = TestSupport.javaCommand(LoaderProbe.class.getName(), props);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Process p = pb.start();
        String out = str(TestSupport.readAll(p));
        p.waitFor();
        return "exit=" + p.exitValue() + "\n" + out;
    }

    @Test
    void loaderExtractsPrivatelyAndCleansUp(@TempDir Path tmp) throws Exception {
        String out = child("-Dmedseal.tmpdir=" + tmp);
        assertTrue(out.startsWith("exit=0"), out);
        assertTrue(out.contains("extracted from /linux-x86-64/libmedseal.so"), out);
        assertTrue(out.contains(tmp.toString() + "/medseal-"), out);
        // The private directory was 0700 and the file 0500 while loading (the probe printed them), then removed.
        assertTrue(out.contains("dir=rwx------ file=r-x------"), out);
        String[] left = tmp.toFile().list();
        assertEquals(0, left.length, Arrays.toString(left));
    }

    @Test
    void libraryPathPropertyOverrides(@TempDir Path tmp) throws Exception {
        Path copy = tmp.resolve("libmedseal-copy.so");
        Files.copy(Paths.get(System.getProperty("medseal.native.dir", TestSupport.repo().resolve("target/release").toString()), "libmedseal.so"), copy);
        String out = child("-Dmedseal.library.path=" + copy);
        assertTrue(out.startsWith("exit=0"), out);
        assertTrue(out.contains("path=" + copy + "\n"), out);
        String missing = child("-Dmedseal.library.path=" + tmp.resolve("nope.so"));
        assertTrue(missing.startsWith("exit=3"), missing);
        assertTrue(missing.contains("medseal.library.path"), missing);
        Path notElf = tmp.resolve("garbage.so");
        Files.write(notElf, utf8("not a library"));
        String garbage = child("-Dmedseal.library.path=" + notElf);
        assertTrue(garbage.startsWith("exit=3"), garbage);
        assertTrue(garbage.contains("cannot load " + notElf), garbage);
    }

    @Test
    void unusableTempDirectoryNamesTheProperty(@TempDir Path tmp) throws Exception {
        File file = tmp.resolve("a-file").toFile();
        Files.write(file.toPath(), utf8("x"));
        // A temp "directory" that cannot hold the extracted library: the message says what to set.
        String out = child("-Dmedseal.tmpdir=" + file);
        assertTrue(out.startsWith("exit=3"), out);
        assertTrue(out.contains("-Dmedseal.library.path="), out);
        assertTrue(out.contains("-Dmedseal.tmpdir="), out);
    }

    @Test
    void nullAndClosedHandles() {
        Key key = Key.generate(Algorithm.EDDSA);
        key.close();
        key.close(); // idempotent
        assertTrue(key.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, key::kid);
        assertTrue(e.getMessage().contains("Key is closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> new Signer(key));
        assertEquals("Key(closed)", key.toString());
    }
}
