//! Runs the real `medseal` binary, as auditors and scripts do: exit codes, stdout bytes and the
//! stderr messages are the interface under test.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A scratch directory removed at the end of the test (std only, to keep the CLI lean).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("medseal-cli-test-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).unwrap();
        TempDir(path)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let path = self.path(name);
        fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Runs `medseal args...` with `stdin` (empty when `None`).
fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_medseal"))
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the medseal binary runs");
    if let Some(bytes) = stdin {
        // A command that fails before reading its input (usage error, missing key file) may
        // have exited already: a broken pipe here is not the test's concern.
        if let Err(e) = child.stdin.take().unwrap().write_all(bytes) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "writing to medseal's stdin: {e}");
        }
    }
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Asserts success and returns stdout.
fn ok(out: Output) -> String {
    assert!(out.status.success(), "expected success, got {:?}\nstderr: {}", out.status, stderr(&out));
    stdout(&out)
}

/// Asserts exit code 1 with `needle` on stderr, and returns stderr.
fn fails(out: Output, needle: &str) -> String {
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "expected exit 1\nstdout: {}\nstderr: {err}", stdout(&out));
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// Generates a key in `dir` and returns (path, kid).
fn generate(dir: &TempDir, alg: &str, name: &str) -> (String, String) {
    let path = dir.path(name).to_str().unwrap().to_owned();
    let out = ok(run(&["key", "generate", "--alg", alg, "--out", &path], None));
    let kid = out.trim().strip_prefix("kid: ").expect("prints the kid").to_owned();
    (path, kid)
}

const RECORD: &str = r#"{"resourceType":"Observation","status":"final","valueQuantity":{"value":7.25,"unit":"mmol/L"},"id":"x1"}"#;
const RECORD_CANONICAL: &str =
    r#"{"id":"x1","resourceType":"Observation","status":"final","valueQuantity":{"unit":"mmol/L","value":7.25}}"#;

#[test]
fn canon_reads_stdin_and_files_and_writes_no_newline() {
    let dir = TempDir::new();
    assert_eq!(ok(run(&["canon"], Some(RECORD.as_bytes()))), RECORD_CANONICAL);
    assert_eq!(ok(run(&["canon", "-"], Some(RECORD.as_bytes()))), RECORD_CANONICAL);
    let file = dir.write("record.json", RECORD);
    assert_eq!(ok(run(&["canon", &file], None)), RECORD_CANONICAL);
}

#[test]
fn canon_default_refuses_lossy_numbers_and_plain_accepts_them() {
    let err = fails(run(&["canon"], Some(br#"{"a":1.50}"#)), "MEDSEAL_JSON_LOSSY_NUMBER");
    assert!(err.starts_with("medseal: error: "), "{err}");
    assert_eq!(ok(run(&["canon", "--plain"], Some(br#"{"a":1.50}"#))), r#"{"a":1.5}"#);
    assert_eq!(ok(run(&["canon", "--allow-lossy-numbers"], Some(br#"{"a":1.50}"#))), r#"{"a":1.5}"#);
}

/// `--plain` is RFC 8785 exactly for numbers too: a double between 2^53 and 1e21 is written
/// as ECMAScript writes it (a bare integer), and that output reads back under `--plain`. The
/// strict default refuses it and says why; an integer literal a double would change is
/// refused in both modes.
#[test]
fn canon_plain_writes_big_doubles_as_rfc8785_does() {
    let doc = br#"{"b":9007199254740993.0,"a":1e20,"c":[-1.5e16,1e21]}"#;
    let canonical = r#"{"a":100000000000000000000,"b":9007199254740992,"c":[-15000000000000000,1e+21]}"#;
    assert_eq!(ok(run(&["canon", "--plain"], Some(doc))), canonical);
    assert_eq!(ok(run(&["canon", "--plain"], Some(canonical.as_bytes()))), canonical, "plain output reads back in plain mode");
    let err = fails(run(&["canon"], Some(doc)), "MEDSEAL_JSON_NUMBER_OUT_OF_RANGE");
    assert!(err.contains("±(2^53−1)") && err.contains("line 1"), "{err}");
    fails(run(&["canon"], Some(canonical.as_bytes())), "MEDSEAL_JSON_NUMBER_OUT_OF_RANGE");
    fails(run(&["canon", "--plain"], Some(b"[9007199254740993]")), "MEDSEAL_JSON_NUMBER_OUT_OF_RANGE");
}

#[test]
fn canon_duplicate_key_names_line_and_column() {
    let dir = TempDir::new();
    let file = dir.write("dup.json", "{\n  \"a\": 1,\n  \"a\": 2\n}");
    let err = fails(run(&["canon", &file], None), "MEDSEAL_JSON_DUPLICATE_KEY");
    assert!(err.contains("line 3") && err.contains("column 3"), "{err}");
    assert!(err.contains("dup.json"), "names the file: {err}");
    fails(run(&["canon", "--plain"], Some(b"{\"a\":1,\"a\":2}")), "MEDSEAL_JSON_DUPLICATE_KEY");
    fails(run(&["canon"], Some(b"{\"a\":")), "MEDSEAL_JSON_SYNTAX");
}

#[test]
fn canon_refuses_nfd_unless_nfc_is_asked_for() {
    // "Nguyễn" decomposed: e + combining circumflex + combining tilde.
    let nfd = "{\"family\":\"Nguye\u{0302}\u{0303}n\"}";
    fails(run(&["canon"], Some(nfd.as_bytes())), "MEDSEAL_JSON_NOT_NFC");
    assert_eq!(ok(run(&["canon", "--nfc"], Some(nfd.as_bytes()))), "{\"family\":\"Nguy\u{1EC5}n\"}");
    // Plain RFC 8785 leaves the text as it is.
    assert_eq!(ok(run(&["canon", "--plain"], Some(nfd.as_bytes()))), nfd);
}

#[test]
fn canon_fhir_variants() {
    let doc = r#"{"resourceType":"Patient","id":"p1","meta":{"versionId":"2"},"text":{"status":"generated"},"active":true}"#;
    assert_eq!(
        ok(run(&["canon", "--fhir", "data"], Some(doc.as_bytes()))),
        r#"{"active":true,"id":"p1","meta":{"versionId":"2"},"resourceType":"Patient"}"#
    );
    assert_eq!(ok(run(&["canon", "--fhir", "static"], Some(doc.as_bytes()))), r#"{"active":true,"id":"p1","resourceType":"Patient"}"#);
    assert_eq!(
        ok(run(&["canon", "--fhir", "document"], Some(doc.as_bytes()))),
        r#"{"active":true,"resourceType":"Patient","text":{"status":"generated"}}"#
    );
    fails(run(&["canon", "--fhir", "data"], Some(b"[1]")), "MEDSEAL_JSON_NOT_FHIR");
}

#[cfg(unix)]
#[test]
fn key_generate_is_owner_only_and_never_overwrites() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new();
    for alg in ["ed25519", "es256"] {
        let name = format!("{alg}.pem");
        let (path, kid) = generate(&dir, alg, &name);
        assert_eq!(kid.len(), 43, "a base64url SHA-256 thumbprint: {kid}");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{alg} key mode {mode:o}");
        let pem = fs::read_to_string(&path).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");

        let err = fails(run(&["key", "generate", "--alg", alg, "--out", &path], None), "already exists");
        assert!(err.contains("--force"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), pem, "the existing key is untouched");

        let out = ok(run(&["key", "generate", "--alg", alg, "--out", &path, "--force"], None));
        assert_ne!(out.trim(), format!("kid: {kid}"), "a new key replaced the old one");
        assert_ne!(fs::read_to_string(&path).unwrap(), pem);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // No temporary files are left behind.
    let mut names: Vec<String> = fs::read_dir(&dir.0).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["ed25519.pem", "es256.pem"]);

    let missing_dir = dir.path("no/such/dir/k.pem");
    fails(run(&["key", "generate", "--alg", "ed25519", "--out", missing_dir.to_str().unwrap()], None), "cannot write");
    assert_eq!(run(&["key", "generate", "--alg", "rs256", "--out", "x.pem"], None).status.code(), Some(2));
}

#[test]
fn key_public_and_info() {
    let dir = TempDir::new();
    for (alg, jws_alg) in [("ed25519", "EdDSA"), ("es256", "ES256")] {
        let (private, kid) = generate(&dir, alg, &format!("{alg}.pem"));
        let pem = ok(run(&["key", "public", &private], None));
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----") && pem.ends_with("-----END PUBLIC KEY-----\n"), "{pem}");
        assert_eq!(ok(run(&["key", "public", "--format", "pem", &private], None)), pem);
        let public = dir.write(&format!("{alg}.pub.pem"), &pem);

        let jwk = ok(run(&["key", "public", "--format", "jwk", &private], None));
        assert!(jwk.starts_with('{') && jwk.ends_with("}\n"), "{jwk}");
        assert!(jwk.contains(&format!("\"kid\":\"{kid}\"")) && jwk.contains(&format!("\"alg\":\"{jws_alg}\"")), "{jwk}");
        assert!(!jwk.contains("\"d\""), "no private member: {jwk}");
        // The public key of a public key (PEM or JWK) is itself.
        assert_eq!(ok(run(&["key", "public", &public], None)), pem);
        let public_jwk = dir.write(&format!("{alg}.jwk"), &jwk);
        assert_eq!(ok(run(&["key", "public", &public_jwk], None)), pem);

        let info = ok(run(&["key", "info", &private], None));
        assert_eq!(info, format!("algorithm: {jws_alg}\nkid: {kid}\ntype: private\n"));
        let info = ok(run(&["key", "info", &public], None));
        assert_eq!(info, format!("algorithm: {jws_alg}\nkid: {kid}\ntype: public\n"));
    }
    let junk = dir.write("junk.pem", "not a key");
    fails(run(&["key", "info", &junk], None), "MEDSEAL_KEY_FORMAT");
}

#[test]
fn sign_and_verify_round_trip_in_every_form() {
    let dir = TempDir::new();
    let record = dir.write("record.json", RECORD);
    for (alg, jws_alg) in [("ed25519", "EdDSA"), ("es256", "ES256")] {
        let (private, kid) = generate(&dir, alg, &format!("{alg}.pem"));
        let public = dir.write(&format!("{alg}.pub"), ok(run(&["key", "public", &private], None)));
        let public_jwk = dir.write(&format!("{alg}.jwk"), ok(run(&["key", "public", "--format", "jwk", &private], None)));
        let summary_start = format!("valid: {jws_alg} signature by kid {kid}, sigT ");
        let summary_end = format!(", typ medseal+jws, {} payload bytes\n", RECORD_CANONICAL.len());

        // Flattened (default), from a file and from stdin.
        let flattened = ok(run(&["sign", "--key", &private, &record], None));
        assert!(flattened.starts_with("{\"payload\":") && flattened.ends_with("}\n"), "{flattened}");
        assert_eq!(ok(run(&["sign", "--key", &private], Some(RECORD.as_bytes()))).len(), flattened.len());
        let file = dir.write("flattened.jws", &flattened);
        let summary = ok(run(&["verify", "--key", &public, &file], None));
        assert!(summary.starts_with(&summary_start) && summary.ends_with(&summary_end), "{summary}");
        ok(run(&["verify", "--key", &public_jwk], Some(flattened.as_bytes())));
        assert_eq!(ok(run(&["verify", "--key", &public, "--print-payload", &file], None)), RECORD_CANONICAL);

        // Compact.
        let compact = ok(run(&["sign", "--key", &private, "--compact", &record], None));
        assert_eq!(compact.trim_end().split('.').count(), 3);
        assert!(compact.split('.').all(|part| !part.is_empty()), "{compact}");
        let summary = ok(run(&["verify", "--key", &public], Some(compact.as_bytes())));
        assert!(summary.starts_with(&summary_start), "{summary}");

        // Detached: the payload travels separately, as canonical bytes or as the document.
        let detached = ok(run(&["sign", "--key", &private, "--detached", &record], None));
        assert!(detached.contains(".."), "{detached}");
        let jws = dir.write("detached.jws", &detached);
        let canonical = dir.write("record.canon", RECORD_CANONICAL);
        let summary = ok(run(&["verify", "--key", &public, "--payload", &canonical, &jws], None));
        assert!(summary.starts_with(&summary_start) && summary.ends_with(&summary_end), "{summary}");
        ok(run(&["verify", "--key", &public, "--payload", &record, "--payload-document", &jws], None));
        // The uncanonicalized document is not the signed bytes.
        fails(run(&["verify", "--key", &public, "--payload", &record, &jws], None), "MEDSEAL_JWS_SIGNATURE_INVALID");
        fails(run(&["verify", "--key", &public, &jws], None), "MEDSEAL_JWS_PAYLOAD_MISSING");
    }
}

#[test]
fn sign_options_reach_the_header() {
    let dir = TempDir::new();
    let (private, _) = generate(&dir, "ed25519", "k.pem");
    let args = [
        "sign",
        "--key",
        &private,
        "--signing-time",
        "1700000000",
        "--kid",
        "dr-house",
        "--commitment",
        "1.2.840.10065.1.12.1.1",
        "--compact",
    ];
    let first = ok(run(&args, Some(RECORD.as_bytes())));
    // Ed25519 is deterministic: a fixed signing time gives reproducible output.
    assert_eq!(ok(run(&args, Some(RECORD.as_bytes()))), first);
    let summary = ok(run(&["verify", "--key", &private], Some(first.as_bytes())));
    assert!(summary.contains("(header kid dr-house)") && summary.contains("sigT 2023-11-14T22:13:20Z"), "{summary}");

    fails(run(&["sign", "--key", &private, "--commitment", "author"], Some(RECORD.as_bytes())), "MEDSEAL_INVALID_ARGUMENT");
    fails(run(&["sign", "--key", &private], Some(br#"{"a":1.50}"#)), "MEDSEAL_JSON_LOSSY_NUMBER");
    let lossy = ok(run(&["sign", "--key", &private, "--allow-lossy-numbers"], Some(br#"{"a":1.50}"#)));
    assert_eq!(ok(run(&["verify", "--key", &private, "--print-payload"], Some(lossy.as_bytes()))), r#"{"a":1.5}"#);
}

#[test]
fn verify_with_the_wrong_key_fails() {
    let dir = TempDir::new();
    let (signer, _) = generate(&dir, "ed25519", "signer.pem");
    let (other, _) = generate(&dir, "ed25519", "other.pem");
    let (p256, _) = generate(&dir, "es256", "p256.pem");
    let jws = ok(run(&["sign", "--key", &signer], Some(RECORD.as_bytes())));
    let err = fails(run(&["verify", "--key", &other], Some(jws.as_bytes())), "MEDSEAL_JWS_SIGNATURE_INVALID");
    assert!(err.starts_with("medseal: invalid: "), "{err}");
    fails(run(&["verify", "--key", &p256], Some(jws.as_bytes())), "MEDSEAL_JWS_ALG_MISMATCH");
    // With several keys, the right one among them verifies.
    ok(run(&["verify", "--key", &other, "--key", &p256, "--key", &signer], Some(jws.as_bytes())));
    // A public-only key cannot sign.
    let public = dir.write("signer.pub", ok(run(&["key", "public", &signer], None)));
    fails(run(&["sign", "--key", &public], Some(RECORD.as_bytes())), "MEDSEAL_KEY_NOT_PRIVATE");
}

#[test]
fn tampered_jws_fails() {
    let dir = TempDir::new();
    let (key, _) = generate(&dir, "es256", "k.pem");
    let compact = ok(run(&["sign", "--key", &key, "--compact"], Some(RECORD.as_bytes())));
    let parts: Vec<&str> = compact.trim_end().split('.').collect();

    // Another payload under the original header and signature.
    let forged_payload = ok(run(&["sign", "--key", &key, "--compact"], Some(br#"{"resourceType":"Observation","status":"cancelled"}"#)));
    let forged_payload = forged_payload.split('.').nth(1).unwrap().to_owned();
    let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    fails(run(&["verify", "--key", &key], Some(forged.as_bytes())), "MEDSEAL_JWS_SIGNATURE_INVALID");

    // A flipped signature character.
    let mut signature = parts[2].to_owned().into_bytes();
    signature[10] = if signature[10] == b'A' { b'B' } else { b'A' };
    let flipped = format!("{}.{}.{}", parts[0], parts[1], String::from_utf8(signature).unwrap());
    fails(run(&["verify", "--key", &key], Some(flipped.as_bytes())), "MEDSEAL_JWS_SIGNATURE_INVALID");

    // Not a JWS at all.
    fails(run(&["verify", "--key", &key], Some(b"hello")), "MEDSEAL_JWS_MALFORMED");
    fails(run(&["verify", "--key", &key], Some(b"{\"payload\":1}")), "MEDSEAL_JWS_MALFORMED");
}

#[test]
fn missing_files_are_named() {
    let dir = TempDir::new();
    let missing = dir.path("missing.json");
    let missing = missing.to_str().unwrap();
    let (key, _) = generate(&dir, "ed25519", "k.pem");
    let expected = format!("medseal: error: cannot read {missing}: No such file");
    assert!(fails(run(&["canon", missing], None), &expected).ends_with("\n"));
    fails(run(&["sign", "--key", missing], Some(RECORD.as_bytes())), &expected);
    fails(run(&["sign", "--key", &key, missing], None), &expected);
    fails(run(&["verify", "--key", missing], Some(b"x")), &expected);
    fails(run(&["verify", "--key", &key, missing], None), &expected);
    fails(run(&["verify", "--key", &key, "--payload", missing], Some(b"a..b")), &expected);
    fails(run(&["key", "public", missing], None), &expected);
    fails(run(&["key", "info", missing], None), &expected);
}

#[test]
fn usage_errors_exit_2() {
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["canon", "--fhir", "nope"],
        &["key", "generate", "--out", "x.pem"],
        &["sign", "--key", "k.pem", "--compact", "--detached"],
        &["verify"],
        &["verify", "--key", "k.pem", "--payload-document"],
        &["verify", "--key", "k.pem", "--nfc"],
        &["verify", "--key", "-"],
        &["seal", "--meta", "source=a", "--meta", "sequence=1"],
        &["seal", "--to", "k.pub", "--meta", "source=a", "--meta", "sequence=1", "--aead", "aes128gcm"],
        &["seal", "--to", "k.pub", "--meta", "source=a", "--meta", "sequence=1", "--format", "xml"],
        &["seal", "--to", "-", "--meta", "source=a", "--meta", "sequence=1"],
        &["open"],
        &["open", "--meta-only", "--key", "k.pem"],
        &["open", "--key", "-"],
        &["open", "--key", "k.pem", "--verify-key", "-", "-"],
    ];
    for args in cases {
        let out = run(args, None);
        assert_eq!(out.status.code(), Some(2), "medseal {args:?}: {}", stderr(&out));
    }
}

/// The subcommands a `--help` text lists under "Commands:" (without clap's own `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| line.trim_end() != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_command_has_help() {
    // Walks the command tree from the top: every group and every command it lists answers
    // `--help` with its own usage line, so a command added later is covered without editing
    // this list.
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    let mut seen: Vec<String> = Vec::new();
    while let Some(command) = pending.pop() {
        let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
        args.push("--help");
        let help = ok(run(&args, None));
        let usage = if command.is_empty() { "Usage: medseal ".to_owned() } else { format!("Usage: medseal {} ", command.join(" ")) };
        assert!(help.contains(&usage), "medseal {args:?} lacks {usage:?}: {help}");
        for sub in subcommands(&help) {
            let mut next = command.clone();
            next.push(sub);
            pending.push(next);
        }
        seen.push(command.join(" "));
    }
    seen.sort();
    // Every group the CLI has, and a command of each, was reached by the walk.
    for expected in [
        "canon",
        "key",
        "key generate",
        "key public",
        "key info",
        "sign",
        "verify",
        "seal",
        "open",
        "trust",
        "trust create",
        "trust sign",
        "trust verify",
        "trust show",
        "outbox",
        "outbox enqueue",
        "outbox deliver",
        "outbox status",
        "outbox list",
        "outbox inspect",
        "outbox dead-letters",
        "outbox requeue",
        "outbox discard",
        "outbox withdraw",
        "outbox export",
        "outbox sealed",
        "outbox receipts",
        "outbox tree-heads",
        "receipt",
        "receipt verify",
        "ledger",
        "ledger verify-consistency",
        "facility",
        "facility init",
        "hub",
        "hub init",
        "hub enroll",
        "hub revoke",
        "hub serve",
        "hub audit",
    ] {
        assert!(seen.iter().any(|s| s == expected), "`medseal {expected} --help` was not reached; the walk saw {seen:?}");
    }
    // The top-level command and the groups list their commands.
    assert!(seen.len() >= 40, "{} commands: {seen:?}", seen.len());
    assert!(ok(run(&["--version"], None)).starts_with("medseal "));
    // An unknown command is a usage error, not help.
    assert_eq!(run(&["outbox", "no-such-command", "--help"], None).status.code(), Some(2));
}

#[test]
fn stdin_dash_works_for_key_files_too() {
    let dir = TempDir::new();
    let (key, kid) = generate(&dir, "ed25519", "k.pem");
    let pem = fs::read(Path::new(&key)).unwrap();
    assert!(ok(run(&["key", "info", "-"], Some(&pem))).contains(&kid));
}

// ---- X25519 recipient keys and sealed envelopes ----

/// Generates an X25519 recipient key in `dir`; returns (private PEM path, public PEM path, kid).
fn generate_recipient(dir: &TempDir, name: &str) -> (String, String, String) {
    let (private, kid) = generate(dir, "x25519", &format!("{name}.pem"));
    let public = dir.write(&format!("{name}.pub"), ok(run(&["key", "public", &private], None)));
    (private, public, kid)
}

/// Asserts a usage error: exit 2 with `needle` on stderr.
fn usage(out: Output, needle: &str) {
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "expected exit 2\nstderr: {err}");
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
}

/// The `"name":value` text of a member in canonical one-line JSON (strings keep their quotes).
fn member<'a>(json: &'a str, name: &str) -> &'a str {
    let start = json.find(&format!("\"{name}\":")).unwrap_or_else(|| panic!("no {name} in {json}")) + name.len() + 3;
    let rest = &json[start..];
    let end = match rest.strip_prefix('"') {
        Some(text) => text.find('"').unwrap() + 2,
        None => rest.find([',', '}']).unwrap(),
    };
    &rest[..end]
}

#[cfg(unix)]
#[test]
fn key_x25519_generate_public_and_info() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new();
    let (private, kid) = generate(&dir, "x25519", "hub.pem");
    assert_eq!(kid.len(), 43, "{kid}");
    assert_eq!(fs::metadata(&private).unwrap().permissions().mode() & 0o777, 0o600);
    let pem = fs::read_to_string(&private).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
    fails(run(&["key", "generate", "--alg", "x25519", "--out", &private], None), "already exists");
    assert_eq!(fs::read_to_string(&private).unwrap(), pem, "the existing key is untouched");

    let public_pem = ok(run(&["key", "public", &private], None));
    assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----") && public_pem.ends_with("-----END PUBLIC KEY-----\n"));
    let public = dir.write("hub.pub", &public_pem);
    let jwk = ok(run(&["key", "public", "--format", "jwk", &private], None));
    assert!(jwk.starts_with("{\"crv\":\"X25519\",") && jwk.ends_with("}\n"), "{jwk}");
    assert!(jwk.contains(&format!("\"kid\":\"{kid}\"")) && jwk.contains("\"use\":\"enc\"") && !jwk.contains("\"d\""), "{jwk}");
    let public_jwk = dir.write("hub.jwk", &jwk);
    assert_eq!(ok(run(&["key", "public", &public], None)), public_pem);
    assert_eq!(ok(run(&["key", "public", &public_jwk], None)), public_pem);
    assert_eq!(ok(run(&["key", "public", "--format", "jwk", &public], None)), jwk);

    assert_eq!(ok(run(&["key", "info", &private], None)), format!("algorithm: X25519\nkid: {kid}\ntype: private\n"));
    assert_eq!(ok(run(&["key", "info", &public], None)), format!("algorithm: X25519\nkid: {kid}\ntype: public\n"));
    assert_eq!(ok(run(&["key", "info", &public_jwk], None)), format!("algorithm: X25519\nkid: {kid}\ntype: public\n"));
    assert!(ok(run(&["key", "info", "-"], Some(pem.as_bytes()))).contains(&kid));

    // Neither kind of key: one message naming both.
    let junk = dir.write("junk.pem", "not a key");
    let err = fails(run(&["key", "public", &junk], None), "MEDSEAL_KEY_FORMAT");
    assert!(err.contains("junk.pem") && err.contains("signing key") && err.contains("X25519"), "{err}");
    // An X25519 key whose PKCS#8 public half does not match is the recipient importer's error.
    let bad_jwk = jwk.replacen("\"kty\"", "\"d\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"kty\"", 1);
    fails(run(&["key", "info", &dir.write("bad.jwk", bad_jwk)], None), "MEDSEAL_KEY_INVALID");
    fails(run(&["key", "public", "--alg", "rs256", &private], None), "MEDSEAL_KEY_UNSUPPORTED");
    // A recipient key cannot sign or verify, and says so.
    let err = fails(run(&["sign", "--key", &private], Some(RECORD.as_bytes())), "MEDSEAL_KEY_UNSUPPORTED");
    assert!(err.contains("X25519 recipient key"), "{err}");
    fails(run(&["verify", "--key", &public], Some(b"a.b.c")), "X25519 recipient key");
}

#[test]
fn seal_and_open_round_trip_every_suite_encoding_and_recipient_count() {
    let dir = TempDir::new();
    let (hub, hub_pub, hub_kid) = generate_recipient(&dir, "hub");
    let (insurer, _, insurer_kid) = generate_recipient(&dir, "insurer");
    let insurer_jwk = dir.write("insurer.jwk", ok(run(&["key", "public", "--format", "jwk", &insurer], None)));
    let plaintext = "Nguyễn Văn An: any bytes, not only JSON \u{0}\n";
    let file = dir.write("record.bin", plaintext);
    let meta =
        ["--meta", "source=bv-cho-ray", "--meta", "sequence=42", "--meta", "record_id=rec-1", "--meta", "created=2024-05-01T08:00:00Z"];
    for aead in ["aes256gcm", "chacha20poly1305"] {
        for recipients in [vec![hub_pub.as_str()], vec![hub_pub.as_str(), insurer_jwk.as_str()]] {
            let mut args = vec!["seal", "--aead", aead];
            for r in &recipients {
                args.extend(["--to", r]);
            }
            args.extend(meta);
            let json = ok(run(&[&args[..], &[file.as_str()]].concat(), None));
            assert!(json.starts_with("{\"ct\":\"") && json.ends_with("}\n") && json.matches('\n').count() == 1, "{json}");
            assert_eq!(member(&json, "aead"), if aead == "aes256gcm" { "2" } else { "3" });
            assert_eq!(member(&json, "kem"), "32");
            assert_eq!(member(&json, "kdf"), "1");
            assert_eq!(json.contains("wrapped_key"), recipients.len() > 1, "{json}");
            assert!(json.contains(&hub_kid) && json.contains(&insurer_kid) == (recipients.len() > 1));
            let proto = run(&[&args[..], &["--format", "proto"]].concat(), Some(plaintext.as_bytes()));
            assert!(proto.status.success(), "{}", stderr(&proto));
            assert!(proto.stdout[0] != b'{' && !proto.stdout.ends_with(b"\n"), "raw protobuf bytes");

            let json_file = dir.write("env.json", &json);
            let proto_file = dir.write("env.pb", &proto.stdout);
            for envelope in [&json_file, &proto_file] {
                assert_eq!(ok(run(&["open", "--key", &hub, envelope], None)), plaintext);
                assert_eq!(ok(run(&["open", "--key", &hub], Some(&fs::read(envelope).unwrap()))), plaintext);
                if recipients.len() > 1 {
                    assert_eq!(ok(run(&["open", "--key", &insurer, envelope], None)), plaintext);
                } else {
                    fails(run(&["open", "--key", &insurer, envelope], None), "MEDSEAL_SEAL_WRONG_RECIPIENT");
                }
                assert_eq!(
                    ok(run(&["open", "--meta-only", envelope], None)),
                    "{\"content_type\":\"application/jose+json\",\"created\":\"2024-05-01T08:00:00Z\",\"record_id\":\"rec-1\",\
                     \"sequence\":42,\"source\":\"bv-cho-ray\"}\n"
                );
            }
        }
    }
}

#[test]
fn seal_meta_defaults() {
    let dir = TempDir::new();
    let (hub, hub_pub, _) = generate_recipient(&dir, "hub");
    let seal = |extra: &[&str]| {
        let args = [&["seal", "--to", &hub_pub, "--meta", "source=bv-cho-ray", "--meta", "sequence=1"][..], extra].concat();
        let env = ok(run(&args, Some(b"x")));
        ok(run(&["open", "--meta-only"], Some(env.as_bytes())))
    };
    let first = seal(&[]);
    let second = seal(&[]);
    // A random version-4 UUID as record id, different each time.
    let id = member(&first, "record_id").trim_matches('"');
    let groups: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "{id}");
    assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{id}");
    assert_eq!(&id[14..15], "4", "{id}");
    assert!("89ab".contains(&id[19..20]), "{id}");
    assert_ne!(member(&second, "record_id"), member(&first, "record_id"));
    // Created now, as an RFC 3339 UTC time.
    let created = member(&first, "created").trim_matches('"');
    assert!(created.len() == 20 && created.ends_with('Z') && created.as_bytes()[10] == b'T', "{created}");
    // Bytes that are not a compact medseal JWS keep the documented default.
    assert_eq!(member(&first, "content_type"), "\"application/jose+json\"");
    // A signed record is labelled by its form (as the outbox labels it) and opens verified.
    let (signing, _) = generate(&dir, "ed25519", "signer");
    let verifying = dir.write("signer.pub", ok(run(&["key", "public", &signing], None)));
    for (form, content_type) in [(&[][..], "application/jose+json"), (&["--compact"][..], "application/jose")] {
        let jws = ok(run(&[&["sign", "--key", &signing][..], form].concat(), Some(RECORD.as_bytes())));
        let args = ["seal", "--to", &hub_pub, "--meta", "source=bv-cho-ray", "--meta", "sequence=2"];
        let env = ok(run(&args, Some(jws.as_bytes())));
        let label = ok(run(&["open", "--meta-only"], Some(env.as_bytes())));
        assert_eq!(member(&label, "content_type"), format!("\"{content_type}\""), "{form:?}");
        let opened = ok(run(&["open", "--key", &hub, "--verify-key", &verifying], Some(env.as_bytes())));
        assert_eq!(opened, jws, "{form:?}: the signed record comes out as sealed");
    }
    assert_eq!(member(&seal(&["--meta", "content_type=text/plain"]), "content_type"), "\"text/plain\"");
    // A value containing '=' keeps everything after the first one.
    assert_eq!(member(&seal(&["--meta", "record_id=a=b"]), "record_id"), "\"a=b\"");
    let env = ok(run(&["seal", "--to", &hub, "--meta", "source=s", "--meta", "sequence=9007199254740991"], Some(b"x")));
    assert_eq!(ok(run(&["open", "--key", &hub], Some(env.as_bytes()))), "x");
}

#[test]
fn seal_meta_errors() {
    let dir = TempDir::new();
    let (_, hub_pub, _) = generate_recipient(&dir, "hub");
    let seal = |meta: &[&str]| {
        let mut args = vec!["seal", "--to", hub_pub.as_str()];
        for m in meta {
            args.extend(["--meta", m]);
        }
        run(&args, Some(b"x"))
    };
    usage(seal(&["sequence=1"]), "'source' is required");
    usage(seal(&["source=a"]), "'sequence' is required");
    usage(seal(&["source=a", "sequence=1", "colour=blue"]), "unknown meta key 'colour'");
    usage(seal(&["source=a", "sequence=1", "source=b"]), "'source' is given twice");
    usage(seal(&["source=a", "sequence=one"]), "whole number");
    usage(seal(&["source=a", "sequence=-1"]), "whole number");
    usage(seal(&["source", "sequence=1"]), "KEY=VALUE");
    // Values are the library's to judge.
    fails(seal(&["source=a", "sequence=0"]), "MEDSEAL_SEAL_META_INVALID");
    fails(seal(&["source=a", "sequence=9007199254740992"]), "MEDSEAL_SEAL_META_INVALID");
    fails(seal(&["source=", "sequence=1"]), "MEDSEAL_SEAL_META_INVALID");
    fails(seal(&["source=a", "sequence=1", "created=yesterday"]), "MEDSEAL_SEAL_META_INVALID");
}

#[test]
fn seal_and_open_key_errors() {
    let dir = TempDir::new();
    let (hub, hub_pub, _) = generate_recipient(&dir, "hub");
    let (other, _, other_kid) = generate_recipient(&dir, "other");
    let (signer, _) = generate(&dir, "ed25519", "signer.pem");
    let meta = ["--meta", "source=a", "--meta", "sequence=1"];
    let err = fails(run(&[&["seal", "--to", &signer][..], &meta].concat(), Some(b"x")), "MEDSEAL_KEY_UNSUPPORTED");
    assert!(err.contains("signer.pem") && err.contains("X25519"), "{err}");
    fails(run(&[&["seal", "--to", &dir.write("junk", "junk")][..], &meta].concat(), Some(b"x")), "MEDSEAL_KEY_FORMAT");

    let env = ok(run(&[&["seal", "--to", &hub_pub][..], &meta].concat(), Some(b"x")));
    let err = fails(run(&["open", "--key", &other], Some(env.as_bytes())), "MEDSEAL_SEAL_WRONG_RECIPIENT");
    assert!(err.contains(&other_kid), "names the key tried: {err}");
    let err = fails(run(&["open", "--key", &hub_pub], Some(env.as_bytes())), "MEDSEAL_KEY_NOT_PRIVATE");
    assert!(err.contains("hub.pub"), "{err}");
    fails(run(&["open", "--key", &signer], Some(env.as_bytes())), "MEDSEAL_KEY_UNSUPPORTED");
    // The same key is fine as a private file, or its own recipient.
    assert_eq!(ok(run(&["open", "--key", &hub], Some(env.as_bytes()))), "x");
}

#[test]
fn tampered_and_garbage_envelopes_fail() {
    let dir = TempDir::new();
    let (hub, hub_pub, _) = generate_recipient(&dir, "hub");
    let (insurer, insurer_pub, _) = generate_recipient(&dir, "insurer");
    for recipients in [vec!["--to", &hub_pub], vec!["--to", &hub_pub, "--to", &insurer_pub]] {
        let several = recipients.len() > 2;
        let args = [&["seal"][..], &recipients, &["--meta", "source=bv-cho-ray", "--meta", "sequence=7"]].concat();
        let env = ok(run(&args, Some(RECORD.as_bytes())));
        assert_eq!(ok(run(&["open", "--key", &hub], Some(env.as_bytes()))), RECORD);
        // Meta and body are shared: every recipient refuses them altered.
        let tampered = [
            env.replace("\"sequence\":7", "\"sequence\":8"),
            env.replace("\"source\":\"bv-cho-ray\"", "\"source\":\"bv-cho-rey\""),
            flip_inside(&env, "ct"),
        ];
        let keys = if several { vec![&hub, &insurer] } else { vec![&hub] };
        for bad in &tampered {
            assert_ne!(bad, &env);
            for key in &keys {
                fails(run(&["open", "--key", key], Some(bad.as_bytes())), "MEDSEAL_SEAL_DECRYPT_FAILED");
            }
        }
        // A recipient entry (the hub's comes first) is the hub's alone: the insurer still opens.
        let entry_fields: &[&str] = if several { &["enc", "wrapped_key"] } else { &["enc"] };
        for field in entry_fields {
            let bad = flip_inside(&env, field);
            fails(run(&["open", "--key", &hub], Some(bad.as_bytes())), "MEDSEAL_SEAL_DECRYPT_FAILED");
            if several {
                assert_eq!(ok(run(&["open", "--key", &insurer], Some(bad.as_bytes()))), RECORD);
            }
        }
    }
    fails(run(&["open", "--key", &hub], Some(b"hello, not an envelope")), "MEDSEAL_SEAL_NOT_PROTOBUF");
    fails(run(&["open", "--key", &hub], Some(b"")), "MEDSEAL_SEAL_NOT_PROTOBUF");
    fails(run(&["open", "--meta-only"], Some(&[0xff, 0xff, 0xff, 0xff])), "MEDSEAL_SEAL_NOT_PROTOBUF");
    fails(run(&["open", "--key", &hub], Some(b"{\"ct\":1}")), "MEDSEAL_SEAL_MALFORMED");
    let garbage = dir.write("garbage.bin", b"\x08\x96\x01");
    let err = fails(run(&["open", "--key", &hub, &garbage], None), "MEDSEAL_SEAL_NOT_PROTOBUF");
    assert!(err.contains("garbage.bin"), "names the file: {err}");
}

/// Changes one base64url character in the middle of string member `name` (kept canonical).
fn flip_inside(json: &str, name: &str) -> String {
    let start = json.find(&format!("\"{name}\":\"")).unwrap() + name.len() + 4;
    let at = start + 5;
    let mut bytes = json.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[test]
fn open_verifies_the_signed_record_inside() {
    let dir = TempDir::new();
    let (hub, hub_pub, _) = generate_recipient(&dir, "hub");
    let (signer, signer_kid) = generate(&dir, "ed25519", "signer.pem");
    let (other, _) = generate(&dir, "es256", "other.pem");
    let signer_pub = dir.write("signer.pub", ok(run(&["key", "public", &signer], None)));
    let jws = ok(run(&["sign", "--key", &signer], Some(RECORD.as_bytes())));
    let meta = ["--meta", "source=a", "--meta", "sequence=1"];
    let env =
        dir.write("env.pb", run(&[&["seal", "--format", "proto", "--to", &hub_pub][..], &meta].concat(), Some(jws.as_bytes())).stdout);

    let out = run(&["open", "--key", &hub, "--verify-key", &signer_pub, &env], None);
    let summary = stderr(&out);
    assert_eq!(ok(out), jws, "the plaintext (the JWS) goes to stdout");
    assert!(summary.starts_with(&format!("valid: EdDSA signature by kid {signer_kid}, sigT ")), "{summary}");
    assert!(summary.ends_with(&format!(", typ medseal+jws, {} payload bytes\n", RECORD_CANONICAL.len())), "{summary}");
    assert_eq!(summary.lines().count(), 1);
    ok(run(&["open", "--key", &hub, "--verify-key", &other, "--verify-key", &signer, &env], None));

    // Not signed by a trusted key: reported as invalid, and nothing is written.
    let out = run(&["open", "--key", &hub, "--verify-key", &other, &env], None);
    assert!(out.stdout.is_empty());
    let err = fails(out, "MEDSEAL_JWS_ALG_MISMATCH");
    assert!(err.starts_with("medseal: invalid: "), "{err}");
    let (other_ed, _) = generate(&dir, "ed25519", "other-ed.pem");
    fails(run(&["open", "--key", &hub, "--verify-key", &other_ed, &env], None), "MEDSEAL_JWS_SIGNATURE_INVALID");
    // A sealed record that is not a JWS at all.
    let env = ok(run(&[&["seal", "--to", &hub_pub][..], &meta].concat(), Some(RECORD.as_bytes())));
    let out = run(&["open", "--key", &hub, "--verify-key", &signer], Some(env.as_bytes()));
    assert!(out.stdout.is_empty());
    fails(out, "MEDSEAL_JWS_MALFORMED");
    // The content type says the record is not a signed record.
    let env = ok(run(&[&["seal", "--to", &hub_pub, "--meta", "content_type=text/plain"][..], &meta].concat(), Some(jws.as_bytes())));
    fails(run(&["open", "--key", &hub, "--verify-key", &signer], Some(env.as_bytes())), "MEDSEAL_SEAL_META_INVALID");
    // Opening still comes first: the wrong recipient is that error, not a signature one.
    let (other_hub, _, _) = generate_recipient(&dir, "other-hub");
    fails(run(&["open", "--key", &other_hub, "--verify-key", &signer], Some(env.as_bytes())), "MEDSEAL_SEAL_");
}

#[test]
fn seal_and_open_name_missing_files() {
    let dir = TempDir::new();
    let (hub, hub_pub, _) = generate_recipient(&dir, "hub");
    let missing = dir.path("missing.bin");
    let missing = missing.to_str().unwrap();
    let expected = format!("medseal: error: cannot read {missing}: No such file");
    let meta = ["--meta", "source=a", "--meta", "sequence=1"];
    fails(run(&[&["seal", "--to", missing][..], &meta].concat(), Some(b"x")), &expected);
    fails(run(&[&["seal", "--to", &hub_pub][..], &meta, &[missing]].concat(), None), &expected);
    fails(run(&["open", "--key", missing], Some(b"x")), &expected);
    fails(run(&["open", "--key", &hub, missing], None), &expected);
    fails(run(&["open", "--meta-only", missing], None), &expected);
    fails(run(&["open", "--key", &hub, "--verify-key", missing], Some(b"x")), &expected);
}
