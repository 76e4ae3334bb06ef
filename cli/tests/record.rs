//! One set of rules for a signed record (`medseal::record`): a record signed in either JWS form
//! (JSON flattened or compact) and enqueued through the outbox opens with
//! `medseal open --verify-key`, with the library's open-then-verify (what
//! `medseal_envelope_open_verified` calls), and at the hub, which opens records with the same
//! function. Run as the real binary on a real hub directory (`medseal hub init`, `facility init`,
//! `hub enroll`).

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use medseal::outbox::Outbox;
use medseal::record::{self, OpenStep, COMPACT_CONTENT_TYPE, FLATTENED_CONTENT_TYPE};
use medseal::wire::SubmittedRecord;
use medseal::{Envelope, Key, RecipientKey, ResultCode, Verifier};
use medseal_hub::hub::Outcome;
use medseal_hub::Hub;

mod support;
use support::TempDir;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medseal")).args(args).stdin(Stdio::null()).output().unwrap()
}

#[track_caller]
fn ok(out: Output) -> Vec<u8> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "expected success, got {:?}\nstderr: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out.stdout
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
const DOCUMENT: &str = r#"{"resourceType":"Patient","id":"p1","active":true,"name":[{"family":"Nguyễn"}]}"#;

/// A hub directory, one enrolled facility, its record signed flattened and compact, both
/// enqueued through `medseal outbox enqueue`.
struct Pilot {
    dir: TempDir,
    hub_dir: String,
    facility_dir: String,
    outbox: String,
}

impl Pilot {
    fn new() -> Pilot {
        let dir = TempDir::new("record");
        let (hub_dir, facility_dir) = (dir.path("hub"), dir.path("facility"));
        ok(run(&["hub", "init", "--dir", &hub_dir]));
        // The hospital makes its keys; the hub enrols only the public parts.
        ok(run(&["facility", "init", "--facility", FACILITY, "--dir", &facility_dir]));
        let (key, csr, out) = (format!("{facility_dir}/signing.pub"), format!("{facility_dir}/client.csr"), &facility_dir);
        ok(run(&["hub", "enroll", "--dir", &hub_dir, "--facility", FACILITY, "--signing-key", &key, "--csr", &csr, "--out", out]));
        let outbox = dir.path("outbox.sqlite");
        Pilot { dir, hub_dir, facility_dir, outbox }
    }

    fn facility_file(&self, name: &str) -> String {
        Path::new(&self.facility_dir).join(name).to_str().unwrap().to_owned()
    }

    /// Signs the document with the facility's key (`--compact` or not) and enqueues it.
    fn sign_and_enqueue(&self, record_id: &str, compact: bool) -> Vec<u8> {
        let document = self.dir.path("patient.json");
        fs::write(&document, DOCUMENT).unwrap();
        let key = self.facility_file("signing.key");
        let mut args = vec!["sign", "--key", &key];
        if compact {
            args.push("--compact");
        }
        args.push(&document);
        let jws = ok(run(&args));
        let file = self.dir.path(&format!("{record_id}.jws"));
        fs::write(&file, &jws).unwrap();
        let to = self.facility_file("hub-recipient.pub");
        let public = self.facility_file("signing.pub");
        ok(run(&[
            "outbox",
            "enqueue",
            "--outbox",
            &self.outbox,
            "--source",
            FACILITY,
            "--to",
            &to,
            "--signing-key",
            &public,
            "--record-id",
            record_id,
            &file,
        ]));
        jws
    }
}

#[test]
fn flattened_and_compact_records_from_the_outbox_open_everywhere_alike() {
    let p = Pilot::new();
    let flattened = p.sign_and_enqueue("rec-flat", false);
    let compact = p.sign_and_enqueue("rec-compact", true);
    assert!(flattened.starts_with(b"{") && !compact.starts_with(b"{"), "two forms");

    let claimed = Outbox::open_existing(Path::new(&p.outbox)).unwrap().claim(10, medseal::utc::now()).unwrap();
    assert_eq!(claimed.iter().map(|c| c.record_id.as_str()).collect::<Vec<_>>(), ["rec-flat", "rec-compact"]);

    let hub_key_path = Path::new(&p.hub_dir).join("recipient.key");
    let hub_key = RecipientKey::import(&fs::read(&hub_key_path).unwrap()).unwrap();
    let signing_pub = p.facility_file("signing.pub");
    let verifier = Verifier::new(vec![Arc::new(Key::import(&fs::read(&signing_pub).unwrap(), None).unwrap())]);
    let canonical = medseal::canonicalize(DOCUMENT.as_bytes(), &Default::default()).unwrap();
    let stranger = p.dir.path("stranger.pem");
    ok(run(&["key", "generate", "--alg", "ed25519", "--out", &stranger]));
    let stranger_pub = p.dir.path("stranger.pub");
    fs::write(&stranger_pub, ok(run(&["key", "public", &stranger]))).unwrap();

    for (c, jws, content_type) in [(&claimed[0], &flattened, FLATTENED_CONTENT_TYPE), (&claimed[1], &compact, COMPACT_CONTENT_TYPE)] {
        let envelope = Envelope::from_protobuf(&c.envelope).unwrap();
        assert_eq!(envelope.meta.content_type, content_type, "{}: the outbox labels the form", c.record_id);

        // The library's open-then-verify: what medseal_envelope_open_verified calls.
        let verified = record::open_verified(&envelope, &hub_key, &verifier).unwrap_or_else(|e| panic!("{}: {e}", c.record_id));
        assert_eq!(verified.payload, canonical, "{}", c.record_id);
        assert_eq!(verified.typ.as_deref(), Some(record::RECORD_TYP));

        // The CLI: the plaintext is the JWS as signed, the summary on stderr.
        let file = p.dir.path(&format!("{}.sealed", c.record_id));
        fs::write(&file, &c.envelope).unwrap();
        let out = run(&["open", "--key", hub_key_path.to_str().unwrap(), "--verify-key", &signing_pub, &file]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(&ok(out), jws, "{}", c.record_id);
        assert!(stderr.starts_with("valid: EdDSA signature by kid "), "{stderr}");
        assert!(stderr.contains("typ medseal+jws"), "{stderr}");

        // Another facility's key: `invalid`, exit 1, nothing written; at the hub's step `Verify`.
        fails(run(&["open", "--key", hub_key_path.to_str().unwrap(), "--verify-key", &stranger_pub, &file]), 1, "medseal: invalid:");
        let other = Verifier::new(vec![Arc::new(Key::import(&fs::read(&stranger_pub).unwrap(), None).unwrap())]);
        let (step, e) = record::open_verified_steps(&envelope, &hub_key, &other).unwrap_err();
        assert_eq!((step, e.code()), (OpenStep::Verify, ResultCode::MEDSEAL_JWS_SIGNATURE_INVALID));
    }

    // The hub accepts both, opening them with the same function.
    let hub = Hub::open(Path::new(&p.hub_dir)).unwrap();
    let submitted: Vec<SubmittedRecord> = claimed
        .iter()
        .map(|c| SubmittedRecord { record_id: c.record_id.clone(), envelope: c.envelope.clone(), digest: c.digest.to_vec() })
        .collect();
    let outcomes = hub.submit(FACILITY, &submitted).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(outcomes.len(), 2);
    for outcome in &outcomes {
        assert!(matches!(outcome.outcome, Outcome::Accepted { .. }), "{}: {:?}", outcome.record_id, outcome.outcome);
    }
}

#[test]
fn what_is_not_a_signed_record_is_refused_alike() {
    let p = Pilot::new();
    let hub_key_path = Path::new(&p.hub_dir).join("recipient.key");
    let hub_key = RecipientKey::import(&fs::read(&hub_key_path).unwrap()).unwrap();
    let hub_pub = RecipientKey::import(&fs::read(Path::new(&p.hub_dir).join("recipient.pub")).unwrap()).unwrap();
    let signing = Arc::new(Key::import(&fs::read(p.facility_file("signing.key")).unwrap(), None).unwrap());
    let verifier = Verifier::new(vec![Arc::new(signing.to_public())]);
    let hub = Hub::open(Path::new(&p.hub_dir)).unwrap();

    // A JWS by the facility's key that is not a medseal record (another typ): the library, the
    // CLI and the hub all refuse it as such.
    let options = medseal::SignOptions { typ: Some("example+jws".to_owned()), ..Default::default() };
    let not_a_record = medseal::Signer::new(signing.clone(), options).unwrap();
    let meta = medseal::Meta::new("rec-other", FACILITY, 1);
    let envelope = record::seal_signed(&not_a_record, DOCUMENT.as_bytes(), meta, &[&hub_pub], medseal::Aead::Aes256Gcm).unwrap();
    let (step, e) = record::open_verified_steps(&envelope, &hub_key, &verifier).unwrap_err();
    assert_eq!((step, e.code()), (OpenStep::NotARecord, ResultCode::MEDSEAL_JWS_HEADER));
    assert!(e.message().contains("\"typ\":\"medseal+jws\"") && e.message().contains("\"example+jws\""), "{}", e.message());
    let file = p.dir.path("other.sealed");
    let protobuf = envelope.to_protobuf().unwrap();
    fs::write(&file, &protobuf).unwrap();
    fails(
        run(&["open", "--key", hub_key_path.to_str().unwrap(), "--verify-key", &p.facility_file("signing.pub"), &file]),
        1,
        "is not a medseal record",
    );
    let digest = ring_digest(&protobuf);
    let outcomes = hub.submit(FACILITY, &[SubmittedRecord { record_id: "rec-other".into(), envelope: protobuf, digest }]).unwrap();
    match &outcomes[0].outcome {
        Outcome::Rejected { code, reason } => {
            assert_eq!(code.as_str(), "MALFORMED");
            assert!(reason.contains("is not a medseal record"), "{reason}");
        }
        other => panic!("accepted a JWS that is not a record: {other:?}"),
    }

    // A content type that is not a signed record's: refused before opening, everywhere.
    let meta = medseal::Meta { content_type: "text/plain".into(), ..medseal::Meta::new("rec-text", FACILITY, 2) };
    let envelope = Envelope::seal(b"hello", meta, &[&hub_pub], medseal::Aead::Aes256Gcm).unwrap();
    let (step, e) = record::open_verified_steps(&envelope, &hub_key, &verifier).unwrap_err();
    assert_eq!((step, e.code()), (OpenStep::ContentType, ResultCode::MEDSEAL_SEAL_META_INVALID));
    let protobuf = envelope.to_protobuf().unwrap();
    fs::write(&file, &protobuf).unwrap();
    fails(
        run(&["open", "--key", hub_key_path.to_str().unwrap(), "--verify-key", &p.facility_file("signing.pub"), &file]),
        1,
        "not a signed record (application/jose+json or application/jose)",
    );
    let digest = ring_digest(&protobuf);
    let outcomes = hub.submit(FACILITY, &[SubmittedRecord { record_id: "rec-text".into(), envelope: protobuf, digest }]).unwrap();
    assert!(matches!(&outcomes[0].outcome, Outcome::Rejected { code, .. } if code.as_str() == "MALFORMED"), "{:?}", outcomes[0].outcome);
}

fn ring_digest(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().to_vec()
}
