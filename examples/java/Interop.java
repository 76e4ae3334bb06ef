import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import vn.medseal.CanonOption;
import vn.medseal.Envelope;
import vn.medseal.EnvelopeEncoding;
import vn.medseal.Aead;
import vn.medseal.JwsFormat;
import vn.medseal.Key;
import vn.medseal.KeyFormat;
import vn.medseal.Medseal;
import vn.medseal.MedsealException;
import vn.medseal.Meta;
import vn.medseal.RecipientKey;
import vn.medseal.Signer;
import vn.medseal.Verified;
import vn.medseal.Verifier;

/**
 * The medseal interop driver for Java (../shared/INTEROP.md): one command line, every language.
 *
 * <pre>
 *   interop version
 *   interop canon [--plain | --nfc] IN OUT
 *   interop key-generate EdDSA|ES256|X25519 PRIVATE_OUT PUBLIC_OUT
 *   interop sign KEY IN OUT [--compact | --detached] [--sigt RFC3339]
 *   interop verify PUBLIC IN [--payload FILE]
 *   interop seal --to PUBLIC [--to PUBLIC ...] --source ID --sequence N [--record-id ID] IN OUT
 *   interop open KEY IN OUT [--verify PUBLIC]
 * </pre>
 *
 * It uses only the medseal jar. A medseal error exits 1 with "MEDSEAL_NAME: message" on stderr
 * (from the exception's getName() and getDetail()); a usage error exits 2; a file that cannot be
 * read or written exits 1.
 */
public final class Interop {
    private static final String USAGE = "usage: interop version | canon [--plain|--nfc] IN OUT | key-generate ALG PRIVATE_OUT PUBLIC_OUT"
            + " | sign KEY IN OUT [--compact|--detached] [--sigt RFC3339] | verify PUBLIC IN [--payload FILE]"
            + " | seal --to PUBLIC [--to PUBLIC ...] --source ID --sequence N [--record-id ID] IN OUT | open KEY IN OUT [--verify PUBLIC]";

    /** A bad command line: exit 2. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        PrintStream err = System.err;
        try {
            run(args);
            System.out.flush();
            System.exit(0);
        } catch (UsageException e) {
            err.println(USAGE);
            err.println("interop: " + e.getMessage());
            System.exit(2);
        } catch (MedsealException e) {
            err.println(e.getName() + ": " + e.getDetail());
            System.exit(1);
        } catch (IOException e) {
            err.println("interop: " + e);
            System.exit(1);
        }
    }

    // ---- files ------------------------------------------------------------------------------

    static byte[] read(String path) throws IOException {
        return Files.readAllBytes(Paths.get(path));
    }

    /** Writes {@code data}; private keys and plaintexts are created 0600. */
    static void write(String path, byte[] data, boolean secret) throws IOException {
        Path p = Paths.get(path);
        if (secret) {
            Files.deleteIfExists(p);
            Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        Files.write(p, data, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
    }

    static Verifier verifierFor(String publicKeyPath) throws IOException {
        try (Key key = Key.load(read(publicKeyPath))) { // SPKI PEM or JWK
            return new Verifier(key);
        }
    }

    // ---- commands ---------------------------------------------------------------------------

    static void run(String[] args) throws UsageException, IOException {
        if (args.length == 0) {
            throw new UsageException("a command is required");
        }
        List<String> rest = new ArrayList<String>();
        for (int i = 1; i < args.length; i++) {
            rest.add(args[i]);
        }
        switch (args[0]) {
            case "version": version(rest); break;
            case "canon": canon(rest); break;
            case "key-generate": keyGenerate(rest); break;
            case "sign": sign(rest); break;
            case "verify": verify(rest); break;
            case "seal": seal(rest); break;
            case "open": open(rest); break;
            default: throw new UsageException("unknown command " + args[0]);
        }
    }

    static void version(List<String> args) throws UsageException {
        positional(args, 0);
        System.out.println("medseal " + Medseal.libraryVersion() + " abi " + Medseal.libraryAbiVersion() + " java "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    }

    static void canon(List<String> args) throws UsageException, IOException {
        boolean plain = flag(args, "--plain");
        boolean nfc = flag(args, "--nfc");
        if (plain && nfc) {
            throw new UsageException("--plain and --nfc exclude each other");
        }
        List<String> files = positional(args, 2);
        // The strict medseal default: strings in NFC, numbers written canonically (no "1.50").
        CanonOption[] options = plain ? new CanonOption[] {CanonOption.PLAIN}
                : nfc ? new CanonOption[] {CanonOption.NORMALIZE_NFC} : new CanonOption[0];
        write(files.get(1), Medseal.canonicalize(read(files.get(0)), options), false);
    }

    static void keyGenerate(List<String> args) throws UsageException, IOException {
        List<String> a = positional(args, 3);
        String alg = a.get(0);
        if (alg.equals("X25519")) { // a recipient key, to receive sealed envelopes
            try (RecipientKey key = RecipientKey.generate()) {
                write(a.get(1), key.export(KeyFormat.PKCS8_PEM), true);
                write(a.get(2), key.export(KeyFormat.SPKI_PEM), false);
            }
        } else if (alg.equals("EdDSA") || alg.equals("ES256")) { // a signing key
            try (Key key = Key.generate(vn.medseal.Algorithm.fromName(alg))) {
                write(a.get(1), key.export(KeyFormat.PKCS8_PEM), true);
                write(a.get(2), key.export(KeyFormat.SPKI_PEM), false);
            }
        } else {
            throw new UsageException("ALG is EdDSA, ES256 or X25519, not " + alg);
        }
    }

    static void sign(List<String> args) throws UsageException, IOException {
        boolean compact = flag(args, "--compact");
        boolean detached = flag(args, "--detached");
        if (compact && detached) {
            throw new UsageException("--compact and --detached exclude each other");
        }
        String sigt = option(args, "--sigt");
        List<String> a = positional(args, 3);
        JwsFormat format = compact ? JwsFormat.COMPACT : detached ? JwsFormat.DETACHED_COMPACT : JwsFormat.FLATTENED;
        // PKCS#8 PEM: Ed25519 (EdDSA), P-256 (ES256) or RSA (RS256). No --sigt: the clock's time.
        try (Key key = Key.load(read(a.get(0)));
                Signer signer = Signer.builder(key).signingTime(sigt == null ? null : rfc3339(sigt)).build()) {
            // The record is canonicalized (strict policy), then the canonical bytes are signed.
            write(a.get(2), signer.sign(read(a.get(1)), format), false);
        }
    }

    static void verify(List<String> args) throws UsageException, IOException {
        String payload = option(args, "--payload");
        List<String> a = positional(args, 2);
        Verified verified;
        try (Verifier verifier = verifierFor(a.get(0))) {
            if (payload == null) { // a medseal record: typ medseal+jws, a sigT, a canonical payload
                verified = verifier.verifyRecord(read(a.get(1)));
            } else { // a detached JWS: the payload file is the JSON record, canonicalized as when signing
                verified = verifier.verifyDetached(read(a.get(1)), read(payload), true);
            }
        }
        System.out.println(verified); // valid kid=... alg=... sigT=...
    }

    static void seal(List<String> args) throws UsageException, IOException {
        List<String> to = new ArrayList<String>();
        for (String t = option(args, "--to"); t != null; t = option(args, "--to")) {
            to.add(t);
        }
        String source = option(args, "--source");
        String sequence = option(args, "--sequence");
        String recordId = option(args, "--record-id");
        List<String> a = positional(args, 2);
        if (to.isEmpty() || source == null || sequence == null) {
            throw new UsageException("--to, --source and --sequence are required");
        }
        if (!sequence.matches("[0-9]{1,20}")) {
            throw new UsageException("--sequence takes a decimal number");
        }
        long number;
        try {
            number = Long.parseUnsignedLong(sequence);
        } catch (NumberFormatException e) {
            throw new UsageException("--sequence takes a decimal number below 2^64");
        }
        List<RecipientKey> recipients = new ArrayList<RecipientKey>();
        try {
            for (String path : to) {
                recipients.add(RecipientKey.load(read(path))); // SPKI PEM, DER or JWK
            }
            // Routing metadata, in clear but bound to the ciphertext; created = now.
            Meta meta = new Meta(recordId != null ? recordId : UUID.randomUUID().toString(), source, number);
            byte[] envelope = Medseal.seal(read(a.get(0)), meta, recipients, Aead.AES_256_GCM, EnvelopeEncoding.JSON);
            write(a.get(1), envelope, false);
        } finally {
            for (RecipientKey k : recipients) {
                k.close();
            }
        }
    }

    static void open(List<String> args) throws UsageException, IOException {
        String verifyWith = option(args, "--verify");
        List<String> a = positional(args, 3);
        Verified verified = null;
        try (RecipientKey key = RecipientKey.load(read(a.get(0)));
                Envelope envelope = Envelope.decode(read(a.get(1)))) {
            if (verifyWith != null) {
                // Open and verify the signed record inside, exactly as the hub does.
                try (Verifier verifier = verifierFor(verifyWith)) {
                    verified = envelope.openVerified(key, verifier);
                }
            }
            // OUT is the plaintext itself (the signed record).
            write(a.get(2), envelope.open(key), true);
        }
        if (verified != null) {
            System.out.println(verified);
        }
    }

    // ---- the command line -------------------------------------------------------------------

    static boolean flag(List<String> args, String name) {
        return args.remove(name);
    }

    /** Removes {@code name VALUE} (or {@code name=VALUE}) from args; null if absent. */
    static String option(List<String> args, String name) throws UsageException {
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals(name)) {
                if (i + 1 >= args.size()) {
                    throw new UsageException(name + " needs a value");
                }
                args.remove(i);
                return args.remove(i);
            }
            if (arg.startsWith(name + "=")) {
                args.remove(i);
                return arg.substring(name.length() + 1);
            }
        }
        return null;
    }

    static List<String> positional(List<String> args, int count) throws UsageException {
        for (String arg : args) {
            if (arg.startsWith("--")) {
                throw new UsageException("unknown option " + arg);
            }
        }
        if (args.size() != count) {
            throw new UsageException("expected " + count + " arguments, got " + args.size());
        }
        return args;
    }

    /** RFC 3339 with whole seconds: 2025-03-01T08:30:00Z or 2025-03-01T15:30:00+07:00. */
    static Instant rfc3339(String text) throws UsageException {
        if (!text.matches("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})")) {
            throw new UsageException("--sigt takes an RFC 3339 date-time such as 2025-03-01T08:30:00Z");
        }
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (java.time.DateTimeException e) {
            throw new UsageException("--sigt: " + e.getMessage());
        }
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
