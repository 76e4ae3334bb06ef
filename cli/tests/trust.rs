//! `medseal trust create|sign|verify|show`, run as the real binary: stdout, stderr (file
//! names and result codes) and exit codes are the interface under test.
//!
//! Needs the `openssl` command for a certificate and an RSA key.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A scratch directory removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("medseal-trust-test-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).unwrap();
        TempDir(path)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let path = self.path(name);
        fs::write(&path, bytes).unwrap();
        path
    }

    fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medseal")).args(args).stdin(Stdio::null()).output().expect("the medseal binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[track_caller]
fn ok(out: Output) -> String {
    assert!(out.status.success(), "expected success, got {:?}\nstderr: {}", out.status, stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Asserts exit code `code` with every needle on stderr, and returns stderr.
#[track_caller]
fn fails_with(out: Output, code: i32, needles: &[&str]) -> String {
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "expected exit {code}\nstdout: {}\nstderr: {err}", String::from_utf8_lossy(&out.stdout));
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[track_caller]
fn fails(out: Output, needles: &[&str]) -> String {
    fails_with(out, 1, needles)
}

/// Generates a key pair in `dir`: (private key path, public key path, kid).
fn keypair(dir: &TempDir, alg: &str, name: &str) -> (String, String, String) {
    let private = dir.path(&format!("{name}.pem"));
    let out = ok(run(&["key", "generate", "--alg", alg, "--out", &private]));
    let kid = out.trim().strip_prefix("kid: ").unwrap().to_owned();
    let public = dir.write(&format!("{name}.pub"), ok(run(&["key", "public", &private])));
    (private, public, kid)
}

fn openssl(dir: &TempDir, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(&dir.0).output().expect("the openssl command is installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

const ISSUED: &str = "2026-01-01T00:00:00Z";
const EXPIRES: &str = "2026-04-01T00:00:00Z";
/// 2026-02-01T00:00:00Z, inside the list's life.
const NOW: &str = "1769904000";
/// 2026-01-01T00:00:00Z as Unix seconds: lists are signed at their issue time, whatever the clock says.
const SIGNED: &str = "1767225600";

/// `trust create` with fixed times and `entries`.
fn create(sequence: &str, entries: &[String], extra: &[&str]) -> Output {
    let mut args = vec!["trust", "create", "--issuer", "HCMC Department of Health", "--sequence", sequence, "--issued", ISSUED];
    args.extend(["--expires", EXPIRES]);
    for entry in entries {
        args.extend(["--entry", entry]);
    }
    args.extend(extra);
    run(&args)
}

fn key_entry(facility: &str, role: &str, public: &str) -> String {
    format!("facility={facility},role={role},key={public},not-after=2027-01-01T00:00:00Z")
}

#[test]
fn create_sign_verify_show() {
    let dir = TempDir::new();
    let (doh, doh_pub, _) = keypair(&dir, "ed25519", "doh");
    let (_, f1, f1_kid) = keypair(&dir, "ed25519", "f1");
    let (_, f2, f2_kid) = keypair(&dir, "es256", "f2");
    let f2_jwk = dir.write("f2.jwk", ok(run(&["key", "public", "--format", "jwk", &f2])));
    let entries = [key_entry("79001", "record-signing", &f1), key_entry("79002", "tls-client", &f2_jwk)];

    let json = ok(create("1", &entries, &[]));
    assert!(json.ends_with("}\n") && json.lines().count() == 1, "{json}");
    assert!(json.starts_with(r#"{"entries":[{"alg":"EdDSA","facility":"79001","jwk":{"crv":"Ed25519","kty":"OKP","x":"#), "{json}");
    assert!(json.contains(&format!(
        r#""kid":"{f1_kid}","not_after":"2027-01-01T00:00:00Z","not_before":"2026-01-01T00:00:00Z","roles":["record-signing"]"#
    )));
    assert!(json.contains(&format!(r#""kid":"{f2_kid}""#)) && json.contains(r#""alg":"ES256""#), "{json}");
    let tail = format!(
        r#""expires":"{EXPIRES}","issued":"{ISSUED}","issuer":"HCMC Department of Health","sequence":1,"type":"medseal-trust-list","version":1}}"#
    );
    assert!(json.ends_with(&format!("{tail}\n")), "{json}");
    // -o writes the same bytes, atomically, and never replaces a file without --force.
    let list = dir.path("list.json");
    assert_eq!(ok(create("1", &entries, &["-o", &list])), "");
    assert_eq!(dir.read("list.json"), json);
    fails(create("1", &entries, &["-o", &list]), &["already exists", "--force"]);
    ok(create("1", &entries, &["-o", &list, "--force"]));

    let jws_path = dir.path("list.jws");
    ok(run(&["trust", "sign", "--key", &doh, "--signing-time", SIGNED, &list, "-o", &jws_path]));
    let jws = dir.read("list.jws");
    assert!(jws.starts_with("{\"payload\":") && jws.ends_with("}\n"), "{jws}");
    assert_eq!(
        ok(run(&["trust", "sign", "--key", &doh, &list, "--signing-time", SIGNED])),
        ok(run(&["trust", "sign", "--key", &doh, &list, "--signing-time", SIGNED])),
        "Ed25519 is deterministic"
    );

    let valid = ok(run(&["trust", "verify", "--key", &doh_pub, "--now", NOW, &jws_path]));
    assert_eq!(valid, format!("valid: trust list HCMC Department of Health #1, 2 entries, expires {EXPIRES}\n"));
    ok(run(&["trust", "verify", "--key", &doh_pub, "--now", NOW, "--min-sequence", "1", &jws_path]));

    let table = ok(run(&["trust", "show", &jws_path]));
    assert!(table.starts_with("trust list (signature NOT verified: use `medseal trust verify`)\n"), "{table}");
    assert!(table.contains("issuer:   HCMC Department of Health\nsequence: 1\n") && table.contains("entries:  2\n"), "{table}");
    assert!(table.contains("FACILITY  ROLE            ALG    NOT BEFORE            NOT AFTER             KEY  KID\n"), "{table}");
    assert!(table.contains(&format!("79001     record-signing  EdDSA  {ISSUED}  2027-01-01T00:00:00Z  jwk  {f1_kid}\n")), "{table}");
    assert!(table.contains(&format!("79002     tls-client      ES256  {ISSUED}  2027-01-01T00:00:00Z  jwk  {f2_kid}\n")), "{table}");
    let unsigned = ok(run(&["trust", "show", &list]));
    assert!(unsigned.starts_with("trust list (unsigned JSON: nothing verified)\n"), "{unsigned}");
    let shown = run(&["trust", "show", "--json", &jws_path]);
    assert!(stderr(&shown).contains("not verified"), "{}", stderr(&shown));
    assert_eq!(ok(shown), json);
}

#[test]
fn certificates_rsa_and_defaults() {
    let dir = TempDir::new();
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ed25519",
            "-nodes",
            "-keyout",
            "cert.key",
            "-out",
            "cert.pem",
            "-subj",
            "/CN=Cho Ray Hospital",
            "-days",
            "3650",
        ],
    );
    openssl(&dir, &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem"]);
    openssl(&dir, &["pkey", "-in", "rsa.pem", "-pubout", "-out", "rsa.pub"]);
    let (cert, rsa) = (dir.path("cert.pem"), dir.path("rsa.pub"));
    let x5t = {
        let der = dir.path("cert.der");
        openssl(&dir, &["x509", "-in", "cert.pem", "-outform", "DER", "-out", &der]);
        // The x5t#S256 from the library's own view, via `trust show`.
        let json = ok(create("1", &[format!("facility=79001,role=record-signing,cert={der}")], &[]));
        let at = json.find("\"kid\":\"").unwrap() + 7;
        json[at..at + 43].to_owned()
    };
    let entries = [
        format!("facility=79001,role=record-signing,cert={cert}"),
        format!("facility=79001,role=receipt,key={rsa},alg=PS256,not-after=2027-01-01T00:00:00Z"),
    ];
    let json = ok(create("4", &entries, &[]));
    assert!(json.contains(r#""x5c":["MI"#) && json.contains(&format!(r#""kid":"{x5t}""#)), "kid defaults to x5t#S256: {json}");
    assert!(json.contains(r#""alg":"PS256""#) && json.contains(r#""kty":"RSA""#), "{json}");
    let list = dir.write("list.json", &json);
    let table = ok(run(&["trust", "show", &list]));
    assert!(table.contains("x5c: CN=Cho Ray Hospital") && table.contains("receipt         PS256"), "{table}");

    // kid= for a certificate must be its x5t#S256; alg= must fit the key.
    let named = format!("facility=79001,role=record-signing,cert={cert},kid={x5t}");
    ok(create("1", &[named], &[]));
    fails(
        create("1", &[format!("facility=79001,role=record-signing,cert={cert},kid=mine")], &[]),
        &["cert.pem", "x5t#S256", "MEDSEAL_INVALID_ARGUMENT"],
    );
    fails(
        create("1", &[format!("facility=79001,role=record-signing,cert={cert},alg=ES256")], &[]),
        &["cert.pem", "MEDSEAL_JWS_ALG_MISMATCH"],
    );
    let (_, ed, _) = keypair(&dir, "ed25519", "ed");
    fails(create("1", &[format!("{},alg=PS256", key_entry("79001", "receipt", &ed))], &[]), &["ed.pub", "MEDSEAL_KEY_UNSUPPORTED"]);
    // The window may narrow the certificate's, not extend it.
    let wide = format!("facility=79001,role=record-signing,cert={cert},not-after=2099-01-01T00:00:00Z");
    fails(create("1", &[wide], &[]), &["outside the certificate's validity", "MEDSEAL_TRUST_LIST_INVALID"]);
}

#[test]
fn add_to_bumps_the_sequence_and_removes_kids() {
    let dir = TempDir::new();
    let (doh, doh_pub, _) = keypair(&dir, "ed25519", "doh");
    let (_, old, old_kid) = keypair(&dir, "ed25519", "old");
    let (_, new, new_kid) = keypair(&dir, "es256", "new");
    let first = dir.path("1.json");
    ok(create("1", &[key_entry("79001", "record-signing", &old)], &["-o", &first]));

    // Rollover: the new key joins the old one; sequence and issuer carry over.
    let second = ok(run(&[
        "trust",
        "create",
        "--add-to",
        &first,
        "--issued",
        ISSUED,
        "--valid-days",
        "30",
        "--entry",
        &key_entry("79001", "record-signing", &new),
    ]));
    assert!(second.contains(&old_kid) && second.contains(&new_kid), "{second}");
    assert!(second.contains(r#""sequence":2"#) && second.contains(r#""issuer":"HCMC Department of Health""#), "{second}");
    assert!(second.contains(r#""expires":"2026-01-31T00:00:00Z""#), "{second}");
    let second_path = dir.write("2.json", &second);
    // A signed list works as a base too.
    let signed = dir.write("2.jws", ok(run(&["trust", "sign", "--key", &doh, &second_path, "--signing-time", SIGNED])));
    // Revocation: a newer list without the old key.
    let third = ok(run(&["trust", "create", "--add-to", &signed, "--issued", ISSUED, "--expires", EXPIRES, "--remove", &old_kid]));
    assert!(!third.contains(&old_kid) && third.contains(&new_kid) && third.contains(r#""sequence":3"#), "{third}");
    let third_path = dir.write("3.json", &third);
    let third_jws = dir.write("3.jws", ok(run(&["trust", "sign", "--key", &doh, "--signing-time", SIGNED, &third_path])));
    let valid = ok(run(&["trust", "verify", "--key", &doh_pub, "--now", NOW, "--min-sequence", "3", &third_jws]));
    assert!(valid.contains("#3, 1 entries"), "{valid}");
    // ...and the older list is now refused by anyone who saw #3.
    fails(
        run(&["trust", "verify", "--key", &doh_pub, "--now", "1767312000", "--min-sequence", "3", &signed]),
        &["2.jws", "MEDSEAL_TRUST_LIST_STALE"],
    );

    fails(run(&["trust", "create", "--add-to", &first, "--sequence", "1", "--valid-days", "9"]), &["--sequence 1 must be higher", "#1"]);
    fails(run(&["trust", "create", "--add-to", &first, "--valid-days", "9", "--remove", "nope"]), &["--remove nope", "1.json"]);
}

#[test]
fn verify_refusals() {
    let dir = TempDir::new();
    let (doh, doh_pub, _) = keypair(&dir, "ed25519", "doh");
    let (other, other_pub, _) = keypair(&dir, "ed25519", "other");
    let (_, f1, _) = keypair(&dir, "ed25519", "f1");
    let list = dir.write("list.json", ok(create("5", &[key_entry("79001", "record-signing", &f1)], &[])));
    let jws = dir.write("list.jws", ok(run(&["trust", "sign", "--key", &doh, "--signing-time", SIGNED, &list])));
    let verify = |key: &str, extra: &[&str], file: &str| {
        let mut args = vec!["trust", "verify", "--key", key];
        args.extend(extra);
        args.push(file);
        run(&args)
    };

    let err = fails(verify(&other_pub, &["--now", NOW], &jws), &["list.jws", "MEDSEAL_TRUST_LIST_SIGNATURE"]);
    assert!(err.starts_with("medseal: invalid: "), "{err}");
    // Two list keys (rollover of the department's key): either will do.
    ok(run(&["trust", "verify", "--key", &other_pub, "--key", &doh_pub, "--now", NOW, &jws]));
    fails(verify(&doh_pub, &["--now", NOW, "--min-sequence", "6"], &jws), &["#5 is older than #6", "MEDSEAL_TRUST_LIST_STALE"]);
    fails(verify(&doh_pub, &["--now", "1775001601"], &jws), &["expired at 2026-04-01T00:00:00Z", "MEDSEAL_TRUST_LIST_EXPIRED"]);
    ok(verify(&doh_pub, &["--now", "1775001600"], &jws));
    fails(verify(&doh_pub, &["--now", "1767225000"], &jws), &["in the future", "MEDSEAL_TRUST_LIST_INVALID"]);
    // Without --now the clock decides; this list is from 2026.
    let _ = verify(&doh_pub, &[], &jws);

    // A tampered payload.
    let text = fs::read_to_string(&jws).unwrap();
    let at = text.find("\"payload\":\"").unwrap() + 20;
    let flipped = if &text[at..at + 1] == "A" { "B" } else { "A" };
    let tampered = dir.write("tampered.jws", format!("{}{flipped}{}", &text[..at], &text[at + 1..]));
    fails(verify(&doh_pub, &["--now", NOW], &tampered), &["tampered.jws", "MEDSEAL_TRUST_LIST_"]);
    // A record signed by the list key is not a list.
    let record = dir.write("record.jws", ok(run(&["sign", "--key", &doh, &list])));
    fails(verify(&doh_pub, &["--now", NOW], &record), &["record.jws", "typ \"medseal+jws\"", "MEDSEAL_TRUST_LIST_INVALID"]);
    fails(run(&["trust", "show", &record]), &["not a trust list", "MEDSEAL_TRUST_LIST_INVALID"]);
    // The unsigned JSON is not a signed list.
    fails(verify(&doh_pub, &["--now", NOW], &list), &["list.json", "MEDSEAL_TRUST_LIST_INVALID"]);
    let _ = other;
}

#[test]
fn create_and_sign_refusals() {
    let dir = TempDir::new();
    let (doh, doh_pub, _) = keypair(&dir, "ed25519", "doh");
    let (f1_private, f1, f1_kid) = keypair(&dir, "ed25519", "f1");

    // One key in two roles, named by kid.
    let two_roles = [key_entry("79001", "record-signing", &f1), key_entry("79001", "tls-client", &f1)];
    fails(create("1", &two_roles, &[]), &["one key in two roles", &f1_kid, "MEDSEAL_TRUST_LIST_INVALID"]);
    // A facility's private key never goes into a list.
    fails(create("1", &[key_entry("79001", "record-signing", &f1_private)], &[]), &["f1.pem", "private key", "MEDSEAL_INVALID_ARGUMENT"]);
    fails(create("1", &[key_entry("79001", "record-signing", &dir.path("missing.pub"))], &[]), &["missing.pub"]);
    fails(
        run(&[
            "trust",
            "create",
            "--issuer",
            "x",
            "--sequence",
            "1",
            "--issued",
            EXPIRES,
            "--expires",
            ISSUED,
            "--entry",
            &key_entry("1", "receipt", &f1),
        ]),
        &["before it is issued", "MEDSEAL_TRUST_LIST_INVALID"],
    );

    // Sign: a public key, an expired list, an already signed list, bad JSON.
    let list = dir.write("list.json", ok(create("1", &[key_entry("79001", "record-signing", &f1)], &[])));
    fails(run(&["trust", "sign", "--key", &doh_pub, &list]), &["doh.pub", "MEDSEAL_KEY_NOT_PRIVATE"]);
    fails(
        run(&["trust", "sign", "--key", &doh, "--signing-time", "1775001601", &list]),
        &["list.json", "expired", "MEDSEAL_TRUST_LIST_EXPIRED"],
    );
    let jws = dir.write("list.jws", ok(run(&["trust", "sign", "--key", &doh, "--signing-time", SIGNED, &list])));
    fails(run(&["trust", "sign", "--key", &doh, "--signing-time", SIGNED, &jws]), &["list.jws", "already signed"]);
    let bad = dir.write("bad.json", "{\"type\":\"medseal-trust-list\",\"extra\":1}");
    fails(
        run(&["trust", "sign", "--key", &doh, "--signing-time", SIGNED, &bad]),
        &["bad.json", "unknown member \"extra\"", "MEDSEAL_TRUST_LIST_INVALID"],
    );
    fails(run(&["trust", "show", &bad]), &["bad.json", "MEDSEAL_TRUST_LIST_INVALID"]);
    fails(run(&["trust", "show", &dir.path("none.jws")]), &["none.jws"]);
}

#[test]
fn usage_errors_exit_2() {
    let dir = TempDir::new();
    let (_, f1, _) = keypair(&dir, "ed25519", "f1");
    for (spec, needle) in [
        (format!("facility=1,role=record-signing,key={f1}"), "not-after=TIME is required"),
        (format!("facility=1,role=signing,key={f1},not-after={EXPIRES}"), "unknown role"),
        (format!("role=receipt,key={f1},not-after={EXPIRES}"), "facility=ID is required"),
        (format!("facility=1,role=receipt,key={f1},cert={f1}"), "exactly one of key=FILE and cert=FILE"),
        (format!("facility=1,role=receipt,key={f1},not-after=tomorrow"), "RFC 3339"),
        (format!("facility=1,role=receipt,key={f1},color=red"), "unknown field \"color\""),
        (format!("facility=1,facility=2,role=receipt,key={f1}"), "given twice"),
        ("facility".to_owned(), "not name=value"),
    ] {
        fails_with(create("1", &[spec], &[]), 2, &[needle]);
    }
    fails_with(run(&["trust", "create", "--sequence", "1", "--valid-days", "1", "--entry", "x=y"]), 2, &[]);
    fails_with(
        run(&["trust", "create", "--issuer", "x", "--sequence", "0", "--valid-days", "1", "--entry", &key_entry("1", "receipt", &f1)]),
        2,
        &["--sequence"],
    );
    fails_with(
        run(&["trust", "create", "--issuer", "x", "--sequence", "1", "--entry", &key_entry("1", "receipt", &f1)]),
        2,
        &["--expires"],
    );
    fails_with(
        run(&[
            "trust",
            "create",
            "--issuer",
            "x",
            "--sequence",
            "1",
            "--expires",
            "2026-01-01T07:00:00+07:00",
            "--entry",
            &key_entry("1", "receipt", &f1),
        ]),
        2,
        &["RFC 3339"],
    );
    fails_with(run(&["trust", "verify", "list.jws"]), 2, &["--key"]);
    fails_with(run(&["trust", "sign", "--key", "-"]), 2, &["standard input"]);
    for sub in ["create", "sign", "verify", "show"] {
        let help = ok(run(&["trust", sub, "--help"]));
        assert!(help.contains(&format!("Usage: medseal trust {sub}")), "{help}");
    }
}
