//! Issue 11 point 6, the CLI as scripts use it: `--json` with one vocabulary and errors as
//! `{"code", "message"}` with the text mode's exit codes, `medseal verify` over many files and
//! `--at`, and read-only commands that never create or change a file. The real binary, a real
//! hub over mutual TLS for the receipts.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use serde_json::Value;

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("medseal-cli-scripting-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).unwrap();
        TempDir(path)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medseal"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "expected success, got {:?}\nstdout: {}\nstderr: {stderr}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The JSON lines of a run's stdout, with its exit code.
fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// The one JSON error object a failing `--json` run writes, after checking the exit code.
fn json_error(out: Output, exit: i32, code: &str) -> String {
    assert_eq!(out.status.code(), Some(exit), "stdout: {}", String::from_utf8_lossy(&out.stdout));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "one error object: {lines:?}");
    let object = lines[0].as_object().unwrap();
    assert_eq!(object.keys().collect::<Vec<_>>(), ["code", "message"], "{object:?}");
    assert_eq!(object["code"], code, "{object:?}");
    object["message"].as_str().unwrap().to_owned()
}

fn keypair(dir: &TempDir, alg: &str, name: &str) -> (String, String, String) {
    let private = dir.path(&format!("{name}.pem"));
    let kid = ok(run(&["key", "generate", "--alg", alg, "--out", &private])).trim().strip_prefix("kid: ").unwrap().to_owned();
    let public = dir.path(&format!("{name}.pub"));
    fs::write(&public, ok(run(&["key", "public", &private]))).unwrap();
    (private, public, kid)
}

/// Bytes and modification time: what a read-only command must leave as it found.
fn snapshot(path: &str) -> (Vec<u8>, SystemTime) {
    (fs::read(path).unwrap(), fs::metadata(path).unwrap().modified().unwrap())
}

#[test]
fn verify_takes_many_files_and_answers_for_each() {
    let dir = TempDir::new();
    let (signer, public, kid) = keypair(&dir, "ed25519", "signer");
    let (stranger, _, _) = keypair(&dir, "ed25519", "stranger");
    let doc = dir.path("doc.json");
    fs::write(&doc, r#"{"resourceType":"Patient","id":"p1"}"#).unwrap();
    let sign = |key: &str, name: &str| {
        let path = dir.path(name);
        fs::write(&path, ok(run(&["sign", "--key", key, "--signing-time", "1767225600", &doc]))).unwrap();
        path
    };
    let (a, b, forged) = (sign(&signer, "a.jws"), sign(&signer, "b.jws"), sign(&stranger, "forged.jws"));
    let missing = dir.path("missing.jws");

    // All verify: exit 0, one line per file, named.
    let out = ok(run(&["verify", "--key", &public, &a, &b]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with(&format!("{a}: valid: EdDSA signature by kid {kid}, sigT 2026-01-01T00:00:00Z")), "{out}");
    assert!(lines[1].starts_with(&format!("{b}: valid: ")), "{out}");
    // One file: the summary exactly as before, without the name.
    assert!(ok(run(&["verify", "--key", &public, &a])).starts_with("valid: EdDSA"));

    // Any failure: exit 1, the good ones still reported, each bad one named with its code.
    let out = run(&["verify", "--key", &public, &a, &forged, &missing, &b]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains(&format!("medseal: invalid: {forged}: ")) && stderr.contains("MEDSEAL_JWS_SIGNATURE_INVALID"), "{stderr}");
    assert!(stderr.contains(&format!("medseal: invalid: {missing}: cannot read")) && stderr.contains("MEDSEAL_SYSTEM_ERROR"), "{stderr}");

    // --json: one object per file, in order, the same members for the same facts.
    let out = run(&["verify", "--json", "--key", &public, &a, &forged, &missing]);
    assert_eq!(out.status.code(), Some(1));
    let results = json_lines(&out);
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["file"], a.as_str());
    assert_eq!(results[0]["valid"], true);
    assert_eq!(results[0]["kid"], kid.as_str());
    assert_eq!(results[0]["algorithm"], "EdDSA");
    assert_eq!(results[0]["signed_at"], "2026-01-01T00:00:00Z");
    assert_eq!(results[0]["typ"], "medseal+jws");
    assert_eq!(results[0]["trusted_by"]["kind"], "key");
    assert_eq!(results[0]["payload_bytes"], 36);
    assert_eq!((&results[1]["valid"], &results[1]["code"]), (&Value::Bool(false), &Value::from("MEDSEAL_JWS_SIGNATURE_INVALID")));
    assert_eq!((&results[2]["file"], &results[2]["code"]), (&Value::from(missing.as_str()), &Value::from("MEDSEAL_SYSTEM_ERROR")));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));

    // Usage: exit 2 (two files read from standard input, --print-payload of two files, a bad --at).
    assert_eq!(run(&["verify", "--key", &public, "-", "-"]).status.code(), Some(2));
    assert_eq!(run(&["verify", "--key", &public, "--print-payload", &a, &b]).status.code(), Some(2));
    assert_eq!(run(&["verify", "--key", &public, "--at", "2026-01-01", &a]).status.code(), Some(2));
    // A tool error (a key that is not there) with --json: the error object, exit 1.
    json_error(run(&["verify", "--json", "--key", &dir.path("nope.pem"), &a]), 1, "MEDSEAL_SYSTEM_ERROR");
}

#[test]
fn verify_at_judges_an_expired_trust_list_on_the_day_given() {
    // The trust list of January 2026 expired in April: today it is refused, but an auditor
    // can show that on 2026-02-01 the record verified, and `--at` after April refuses it too.
    let dir = TempDir::new();
    let (doh, doh_pub, _) = keypair(&dir, "ed25519", "doh");
    let (signer, public, _) = keypair(&dir, "ed25519", "facility");
    let entry = format!("facility=79001,role=record-signing,key={public},not-after=2027-01-01T00:00:00Z");
    let list = dir.path("list.json");
    ok(run(&[
        "trust",
        "create",
        "--issuer",
        "DoH",
        "--sequence",
        "1",
        "--issued",
        "2026-01-01T00:00:00Z",
        "--expires",
        "2026-04-01T00:00:00Z",
        "--entry",
        &entry,
        "-o",
        &list,
    ]));
    let list_jws = dir.path("list.jws");
    ok(run(&["trust", "sign", "--key", &doh, "--signing-time", "1767225600", &list, "-o", &list_jws]));
    let doc = dir.path("doc.json");
    fs::write(&doc, r#"{"resourceType":"Patient","id":"p1"}"#).unwrap();
    let record = dir.path("record.jws");
    fs::write(&record, ok(run(&["sign", "--key", &signer, "--signing-time", "1768000000", &doc]))).unwrap();
    let base = ["verify", "--trust-list", &list_jws, "--trust-list-key", &doh_pub];

    let today = run(&[&base[..], &[&record]].concat());
    assert_eq!(today.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&today.stderr).contains("MEDSEAL_TRUST_LIST_EXPIRED"));
    let then = ok(run(&[&base[..], &["--at", "2026-02-01T00:00:00Z", &record]].concat()));
    assert!(then.starts_with("valid: ") && then.contains("trust-list facility 79001"), "{then}");
    let json = json_lines(&run(&[&base[..], &["--json", "--at", "2026-02-01T00:00:00Z", &record]].concat()));
    assert_eq!(json[0]["trusted_by"], serde_json::json!({ "kind": "trust_list", "facility": "79001" }));
    let message =
        json_error(run(&[&base[..], &["--json", "--at", "2026-05-01T00:00:00Z", &record]].concat()), 1, "MEDSEAL_TRUST_LIST_EXPIRED");
    assert!(message.contains("list.jws"), "{message}");
}

#[test]
fn read_only_commands_create_and_change_no_file() {
    let dir = TempDir::new();
    let (_, hub_public, _) = keypair(&dir, "x25519", "hub");
    let (signer, signing_public, _) = keypair(&dir, "ed25519", "signer");
    let (_, receipt_key, _) = keypair(&dir, "ed25519", "receipt");
    let (_, tree_head_key, _) = keypair(&dir, "ed25519", "tree-head");
    let doc = dir.path("doc.json");
    fs::write(&doc, r#"{"resourceType":"Patient","id":"p1"}"#).unwrap();
    let record = dir.path("record.jws");
    fs::write(&record, ok(run(&["sign", "--key", &signer, &doc]))).unwrap();
    let outbox = dir.path("outbox.sqlite");
    let enqueue = ["outbox", "enqueue", "--outbox", &outbox, "--source", "bv-cho-ray", "--to", &hub_public];
    ok(run(&[&enqueue[..], &["--signing-key", &signing_public, "--record-id", "rec-1", &record]].concat()));

    let read_only = |file: &str, n: usize| -> Vec<Vec<String>> {
        let backup = dir.path(&format!("backup-{n}.sqlite"));
        let keys = ["--receipt-key", receipt_key.as_str(), "--tree-head-key", tree_head_key.as_str()];
        [
            vec!["outbox", "status", "--outbox", file],
            vec!["outbox", "status", "--json", "--outbox", file],
            vec!["outbox", "list", "--outbox", file],
            vec!["outbox", "list", "--json", "--outbox", file],
            vec!["outbox", "inspect", "--outbox", file, "1"],
            vec!["outbox", "dead-letters", "--outbox", file],
            vec!["outbox", "sealed", "--outbox", file],
            [&["outbox", "receipts", "--outbox", file][..], &keys[..]].concat(),
            [&["outbox", "receipts", "--json", "--outbox", file][..], &keys[..]].concat(),
            vec!["outbox", "tree-heads", "--outbox", file],
            vec!["outbox", "tree-heads", "--json", "--outbox", file],
            vec!["outbox", "export", "--outbox", file, "--to", &backup],
        ]
        .into_iter()
        .map(|args| args.into_iter().map(str::to_owned).collect())
        .collect()
    };
    let run_owned = |args: &[String]| run(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // A current outbox: every read-only command works and leaves the file as it was.
    let before = snapshot(&outbox);
    std::thread::sleep(std::time::Duration::from_millis(20)); // a write would show in the mtime
    for args in read_only(&outbox, 0) {
        ok(run_owned(&args));
        assert_eq!(snapshot(&outbox), before, "{args:?} changed the outbox");
    }
    let status = json_lines(&run(&["outbox", "status", "--json", "--outbox", &outbox])).remove(0);
    assert_eq!(
        (&status["queued"], &status["dead_letter"], &status["source"]),
        (&Value::from(1), &Value::from(0), &Value::from("bv-cho-ray"))
    );

    // An outbox of schema version 2 is refused, with how to upgrade it, and left as it was.
    let old = dir.path("old.sqlite");
    fs::copy(&outbox, &old).unwrap();
    let raw = rusqlite::Connection::open(&old).unwrap();
    raw.execute_batch(
        "DROP TRIGGER records_withdrawal_unchanged; ALTER TABLE records DROP COLUMN withdrawal_envelope;
         ALTER TABLE records DROP COLUMN withdrawal_digest; PRAGMA user_version = 2;",
    )
    .unwrap();
    drop(raw);
    let before = snapshot(&old);
    std::thread::sleep(std::time::Duration::from_millis(20));
    for args in read_only(&old, 1) {
        let out = run_owned(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        if args.iter().any(|a| a == "--json") {
            assert!(json_error(out, 1, "MEDSEAL_OUTBOX_SCHEMA").contains("older"));
        } else {
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert!(stderr.contains("schema version 2, older") && stderr.contains("MEDSEAL_OUTBOX_SCHEMA"), "{stderr}");
        }
        assert_eq!(snapshot(&old), before, "{args:?} changed the old outbox");
    }
    // A writing command upgrades it in place (requeue opens for writing, then finds the record
    // is not a dead letter); then it reads.
    assert_eq!(run(&["outbox", "requeue", "--outbox", &old, "1"]).status.code(), Some(1));
    assert!(ok(run(&["outbox", "status", "--outbox", &old])).contains("queued:        1"));

    // An empty file stays empty and a missing one is not created.
    let empty = dir.path("empty.sqlite");
    fs::write(&empty, b"").unwrap();
    let missing = dir.path("missing.sqlite");
    for (file, code) in [(&empty, "MEDSEAL_OUTBOX_SCHEMA"), (&missing, "MEDSEAL_OUTBOX_IO")] {
        for args in read_only(file, 2) {
            let out = run_owned(&args);
            if args.iter().any(|a| a == "--json") {
                json_error(out, 1, code);
            } else {
                assert_eq!(out.status.code(), Some(1), "{args:?}");
            }
        }
        assert!(!Path::new(&dir.path("backup-2.sqlite")).exists());
    }
    assert_eq!(fs::metadata(&empty).unwrap().len(), 0, "the empty file became an outbox");
    assert!(!Path::new(&missing).exists(), "a read-only command created the outbox");
}

#[test]
fn json_reports_of_a_real_pilot_share_one_vocabulary() {
    // A hub, a facility, two delivered records: outbox receipts, hub audit, key info and
    // deliver in JSON; the hub's database unchanged by the audit.
    let dir = TempDir::new();
    let hub_dir = dir.0.join("hub");
    let mut init = medseal_hub::InitOptions::new(&hub_dir);
    init.listen = "127.0.0.1:0".parse().unwrap();
    medseal_hub::init(&init).unwrap();
    let facility = dir.0.join("facility");
    medseal_hub::pki::enroll_local(&hub_dir, "bv-cho-ray", &facility).unwrap();
    let hub = medseal_hub::start(&hub_dir, "127.0.0.1:0".parse().unwrap()).unwrap();
    let file = |name: &str| facility.join(name).to_str().unwrap().to_owned();
    let outbox = dir.path("outbox.sqlite");
    for id in ["rec-1", "rec-2"] {
        let doc = dir.path(&format!("{id}.json"));
        fs::write(&doc, format!(r#"{{"resourceType":"Observation","id":"{id}","status":"final"}}"#)).unwrap();
        let jws = dir.path(&format!("{id}.jws"));
        fs::write(&jws, ok(run(&["sign", "--key", &file("signing.key"), &doc]))).unwrap();
        let (to, key) = (file("hub-recipient.pub"), file("signing.pub"));
        ok(run(&[
            "outbox",
            "enqueue",
            "--outbox",
            &outbox,
            "--source",
            "bv-cho-ray",
            "--to",
            &to,
            "--signing-key",
            &key,
            "--record-id",
            id,
            &jws,
        ]));
    }
    let facility_dir = file("");
    let delivered = ok(run(&["outbox", "deliver", "--json", "--outbox", &outbox, "--facility-dir", &facility_dir, "--hub", hub.url()]));
    let report: Value = serde_json::from_str(&delivered).unwrap();
    assert_eq!((&report["delivered"], &report["dead_letter"], &report["last_error"]), (&Value::from(2), &Value::from(0), &Value::Null));
    assert!(report.get("dead_letters").is_none(), "the count is named by the state: {report}");

    let receipts = json_lines(&run(&["outbox", "receipts", "--json", "--outbox", &outbox, "--facility-dir", &facility_dir])).remove(0);
    assert_eq!(
        (&receipts["verified"], &receipts["invalid"], &receipts["source"]),
        (&Value::from(2), &Value::from(0), &Value::from("bv-cho-ray"))
    );
    let first = &receipts["receipts"][0];
    assert_eq!(
        (&first["record_id"], &first["sequence"], &first["valid"], &first["ledger_index"]),
        (&Value::from("rec-1"), &Value::from(1), &Value::Bool(true), &Value::from(0))
    );
    let received = first["received_at"].as_str().unwrap();
    assert!(received.len() == 20 && received.ends_with('Z') && medseal::utc::parse_exact(received).is_some(), "{received}");
    // The same record in `outbox list --json`: the same names for the same facts.
    let listed = json_lines(&run(&["outbox", "list", "--json", "--outbox", &outbox])).remove(0);
    assert_eq!(
        (&listed["record_id"], &listed["sequence"], &listed["digest"], &listed["state"]),
        (&first["record_id"], &first["sequence"], &first["digest"], &Value::from("delivered"))
    );
    // A listing cut by --limit says so on stderr; stdout stays JSON lines.
    let cut = run(&["outbox", "list", "--json", "--limit", "1", "--outbox", &outbox]);
    assert_eq!(json_lines(&cut).len(), 1);
    assert!(String::from_utf8_lossy(&cut.stderr).contains("more records than --limit 1"));
    assert!(run(&["outbox", "list", "--json", "--limit", "2", "--outbox", &outbox]).stderr.is_empty());
    hub.shutdown().unwrap();

    let database = hub_dir.join("hub.sqlite").to_str().unwrap().to_owned();
    let before = snapshot(&database);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let hub_dir_text = hub_dir.to_str().unwrap();
    let audit = json_lines(&run(&["hub", "audit", "--json", "--entries", "--dir", hub_dir_text])).remove(0);
    assert_eq!((&audit["valid"], &audit["tree_size"]), (&Value::Bool(true), &Value::from(2)));
    assert!(medseal::utc::parse_exact(audit["signed_at"].as_str().unwrap()).is_some(), "{audit}");
    let source = &audit["sources"][0];
    assert_eq!(
        (&source["source"], &source["records"], &source["highest_sequence"], &source["gaps"]),
        (&Value::from("bv-cho-ray"), &Value::from(2), &Value::from(2), &serde_json::json!([]))
    );
    assert_eq!(audit["entries"][1]["record_id"], "rec-2");
    assert_eq!(snapshot(&database), before, "hub audit changed the hub's database");
    // A database of an older schema is refused, not upgraded (the hub upgrades it when it starts).
    rusqlite::Connection::open(&database).unwrap().execute_batch("PRAGMA user_version = 1").unwrap();
    let before = snapshot(&database);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let message = json_error(run(&["hub", "audit", "--json", "--dir", hub_dir_text]), 1, "MEDSEAL_LEDGER_PROOF_INVALID");
    assert!(message.contains("schema version 1, older"), "{message}");
    assert_eq!(snapshot(&database), before, "hub audit upgraded the hub's database");
    // Not a hub directory: the error object, exit 1, nothing created.
    let nowhere = dir.path("nowhere");
    json_error(run(&["hub", "audit", "--json", "--dir", &nowhere]), 1, "MEDSEAL_LEDGER_PROOF_INVALID");
    assert!(!Path::new(&nowhere).exists());

    let info = json_lines(&run(&["key", "info", "--json", &file("signing.pub")])).remove(0);
    assert_eq!((&info["algorithm"], &info["private"]), (&Value::from("EdDSA"), &Value::Bool(false)));
    assert_eq!(info["kid"].as_str().unwrap().len(), 43);
    json_error(run(&["key", "info", "--json", &dir.path("doc-that-is-not-there.pem")]), 1, "MEDSEAL_SYSTEM_ERROR");
}
