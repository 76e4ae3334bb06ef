//! `medseal hub export` as an operator and an auditor run it (issue 11, point 1), with the real
//! binary: a hub made with an auditor's escrow key, a hospital enrolled (and handed that key),
//! records enqueued to the hub and the escrow key and delivered over mutual TLS, then the
//! export, its refusals, and the auditor opening the exported envelopes with the escrow key.

use std::fs;
use std::process::{Command, Output, Stdio};

mod support;
use support::TempDir;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medseal")).args(args).stdin(Stdio::null()).output().unwrap()
}

#[track_caller]
fn ok(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "expected success, got {:?}\nstderr: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    String::from_utf8(out.stdout).unwrap()
}

#[track_caller]
fn fails(out: Output, exit: i32, needle: &str) -> String {
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(exit), "stdout: {}\nstderr: {err}", String::from_utf8_lossy(&out.stdout));
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    assert!(out.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&out.stdout));
    err
}

const FACILITY: &str = "bv-cho-ray";

#[test]
fn an_operator_exports_and_the_auditor_opens_escrowed_records() {
    let dir = TempDir::new("hub-export");
    let (hub_dir, facility_dir, outbox) = (dir.path("hub"), dir.path("facility"), dir.path("outbox.sqlite"));
    let facility = |name: &str| format!("{facility_dir}/{name}");

    // The auditor's escrow key pair; the hub is given the public half only.
    let escrow = dir.path("escrow.pem");
    ok(run(&["key", "generate", "--alg", "x25519", "--out", &escrow]));
    let escrow_pub = dir.path("escrow.pub");
    fs::write(&escrow_pub, ok(run(&["key", "public", &escrow]))).unwrap();
    fails(run(&["hub", "init", "--dir", &dir.path("refused"), "--escrow-key", &escrow]), 1, "private key");
    ok(run(&["hub", "init", "--dir", &hub_dir, "--listen", "127.0.0.1:0", "--escrow-key", &escrow_pub]));
    assert_eq!(fs::read(format!("{hub_dir}/escrow-1.pub")).unwrap(), fs::read(&escrow_pub).unwrap());

    // Enrolment hands the escrow key to the hospital, which seals every record to it as well.
    ok(run(&["facility", "init", "--facility", FACILITY, "--dir", &facility_dir]));
    let enrolled = ok(run(&[
        "hub",
        "enroll",
        "--dir",
        &hub_dir,
        "--facility",
        FACILITY,
        "--signing-key",
        &facility("signing.pub"),
        "--csr",
        &facility("client.csr"),
        "--out",
        &facility_dir,
    ]));
    assert!(enrolled.contains("escrow-1.pub"), "{enrolled}");
    assert_eq!(fs::read(facility("escrow-1.pub")).unwrap(), fs::read(&escrow_pub).unwrap());
    assert!(fs::read_to_string(facility("facility.json")).unwrap().contains("\"escrow_keys\""));
    for (id, document) in [("rec-1", "p1"), ("rec-2", "p2")] {
        let doc = dir.path(&format!("{id}.json"));
        fs::write(&doc, format!(r#"{{"resourceType":"Patient","id":"{document}","active":true}}"#)).unwrap();
        let jws = dir.path(&format!("{id}.jws"));
        fs::write(&jws, ok(run(&["sign", "--key", &facility("signing.key"), &doc]))).unwrap();
        ok(run(&[
            "outbox",
            "enqueue",
            "--outbox",
            &outbox,
            "--source",
            FACILITY,
            "--to",
            &facility("hub-recipient.pub"),
            "--to",
            &facility("escrow-1.pub"),
            "--signing-key",
            &facility("signing.pub"),
            "--record-id",
            id,
            &jws,
        ]));
    }
    let hub = medseal_hub::start(std::path::Path::new(&hub_dir), "127.0.0.1:0".parse().unwrap()).unwrap();
    let delivered = ok(run(&["outbox", "deliver", "--outbox", &outbox, "--facility-dir", &facility_dir, "--hub", hub.url()]));
    assert!(delivered.starts_with("delivered: 2 "), "{delivered}");
    hub.shutdown().unwrap();

    // The export: a summary on stdout, nothing on stderr (not a terminal: no progress).
    let bundle = dir.path("bundle");
    let out = run(&["hub", "export", "--dir", &hub_dir, "--out", &bundle, "--json"]);
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_str(&ok(out)).unwrap();
    assert_eq!(summary["bundle"], bundle.as_str());
    assert_eq!((summary["size"].as_u64(), summary["envelopes"].as_u64(), summary["opened"].as_u64()), (Some(2), Some(2), Some(0)));
    let manifest: serde_json::Value = serde_json::from_slice(&fs::read(format!("{bundle}/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "medseal-audit-bundle");
    assert_eq!(manifest["ledger"]["entries"], 2);
    for file in ["ledger/entries.jsonl", "ledger/tree-heads.jsonl", "facilities.json", "hub/tree-head.pub", "hub/receipt.pub", "hub/ca.pem"]
    {
        assert!(manifest["files"][file].is_string(), "{file} is not in the manifest");
    }

    // The auditor opens each exported envelope with the escrow key and verifies the record.
    for (index, id) in [(0, "rec-1"), (1, "rec-2")] {
        let envelope = format!("{bundle}/envelopes/00000/{index:012}.pb");
        let record = ok(run(&["open", "--key", &escrow, "--verify-key", &facility("signing.pub"), &envelope]));
        assert_eq!(record.as_bytes(), fs::read(dir.path(&format!("{id}.jws"))).unwrap(), "the record the hospital signed");
    }

    // Refusals: the output exists (1), a bad time (2, usage), an unknown facility (1), not a hub (1).
    fails(run(&["hub", "export", "--dir", &hub_dir, "--out", &bundle]), 1, "BUNDLE_EXISTS");
    fails(run(&["hub", "export", "--dir", &hub_dir, "--out", &dir.path("b2"), "--from", "yesterday"]), 2, "RFC 3339");
    fails(
        run(&[
            "hub",
            "export",
            "--dir",
            &hub_dir,
            "--out",
            &dir.path("b2"),
            "--from",
            "2026-12-05T10:00:00Z",
            "--to",
            "2026-12-04T10:00:00Z",
        ]),
        2,
        "after",
    );
    fails(run(&["hub", "export", "--dir", &hub_dir, "--out", &dir.path("b2"), "--facility", "nobody"]), 1, "UNKNOWN_FACILITY");
    fails(run(&["hub", "export", "--dir", &facility_dir, "--out", &dir.path("b2")]), 1, "NOT_A_HUB");
    assert!(!std::path::Path::new(&dir.path("b2")).exists());

    // --opened: a warning on stderr, the records in clear in opened/, the manifest says so.
    let opened = dir.path("opened");
    let out = run(&["hub", "export", "--dir", &hub_dir, "--out", &opened, "--opened", "--facility", FACILITY]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stderr.contains("warning") && stderr.contains("patient data"), "{stderr}");
    let text = ok(out);
    assert!(text.starts_with(&format!("exported {opened}: ledger of 2 entries")) && text.contains("2 opened records"), "{text}");
    let jws = format!("{opened}/opened/00000/000000000001.jws");
    assert!(ok(run(&["verify", "--key", &facility("signing.pub"), &jws])).starts_with("valid: "));
    assert_eq!(fs::read(&jws).unwrap(), fs::read(dir.path("rec-2.jws")).unwrap());
    let manifest: serde_json::Value = serde_json::from_slice(&fs::read(format!("{opened}/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["selection"]["opened"], true);
    assert_eq!(manifest["selection"]["facilities"], serde_json::json!([FACILITY]));
}
