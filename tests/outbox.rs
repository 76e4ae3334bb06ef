//! The durable outbox: sealing inside the transaction, idempotency, gapless sequence numbers,
//! the state machine and its refusals, the file checks, busy handling, backup, and real
//! separate processes: concurrent enqueues and claims into one file, and SIGKILL right after
//! an enqueue returned.
//!
//! Child processes are this test binary run again on `child_process_entry` with
//! `MEDSEAL_OUTBOX_CHILD` set (the test does nothing without it).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use medseal::outbox::{Delivery, Mark, Outbox, OutboxConfig, State};
use medseal::record::{COMPACT_CONTENT_TYPE, FLATTENED_CONTENT_TYPE};
use medseal::{Aead, Algorithm, Envelope, Key, Meta, RecipientKey, ResultCode, Serialization, SignOptions, Signer};
use ResultCode::*;

const SOURCE: &str = "bv-cho-ray";

fn code<T: std::fmt::Debug>(result: medseal::Result<T>) -> ResultCode {
    match result {
        Ok(_) => MEDSEAL_OK,
        Err(e) => e.code(),
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().try_into().unwrap()
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A signed record (flattened JWS) for `n`, by a fixed test signer.
fn signed(n: u64) -> Vec<u8> {
    signed_as(n, Serialization::Flattened)
}

/// The fixed test signer's key (the facility's record-signing key in these tests).
fn test_key() -> Arc<Key> {
    static KEY: std::sync::OnceLock<Arc<Key>> = std::sync::OnceLock::new();
    KEY.get_or_init(|| Arc::new(Key::generate(Algorithm::EdDSA).unwrap())).clone()
}

fn signed_as(n: u64, serialization: Serialization) -> Vec<u8> {
    static SIGNER: std::sync::OnceLock<Signer> = std::sync::OnceLock::new();
    let signer = SIGNER
        .get_or_init(|| Signer::new(test_key(), SignOptions { signing_time: Some(1_767_225_600), ..SignOptions::default() }).unwrap());
    let doc = format!(r#"{{"resourceType":"Observation","id":"obs-{n}","status":"final"}}"#);
    signer.sign(doc.as_bytes(), serialization).unwrap().into_bytes()
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    hub: RecipientKey,
    archive: RecipientKey,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite");
        Fixture { _dir: dir, path, hub: RecipientKey::generate().unwrap(), archive: RecipientKey::generate().unwrap() }
    }

    fn config(&self) -> OutboxConfig {
        OutboxConfig::new(&self.path, SOURCE, vec![self.hub.to_public(), self.archive.to_public()])
    }

    fn open(&self) -> Outbox {
        Outbox::open(self.config()).unwrap()
    }

    fn dir(&self) -> &Path {
        self._dir.path()
    }
}

/// Issue 10 point 10: a numbered record is abandoned with a signed tombstone. Only a queued
/// record or a dead letter, not withdrawn before; the tombstone is a withdrawal JWS (never a
/// record) sealed with the record's own meta, claimed in the record's place; the sealed
/// ledger, the original envelope and the withdrawal itself never change.
#[test]
fn a_signed_withdrawal_is_queued_in_place_of_the_record() {
    let f = Fixture::new();
    let outbox = f.open();
    let ids: Vec<i64> = (1..=5).map(|n| outbox.enqueue_signed(&format!("rec-{n}"), &signed(n)).unwrap().outbox_id).collect();
    let t = now();
    assert_eq!(outbox.claim(4, t).unwrap().len(), 4);
    outbox.mark_delivered(ids[0], &delivery("receipt-1")).unwrap();
    outbox.mark_dead(ids[1], "SIGNATURE_INVALID", "not a key of this facility").unwrap();
    outbox.mark_dead(ids[2], "MALFORMED", "x").unwrap();
    outbox.discard(ids[2], "a paper record instead").unwrap();
    // ids[3] stays in flight; ids[4] is queued.
    let signer = Signer::new(test_key(), medseal::record::withdrawal_sign_options()).unwrap();
    let reason = "signed with the wrong key; re-sent as rec-6";
    for (id, what) in [(ids[0], "delivered"), (ids[2], "discarded"), (ids[3], "in flight")] {
        let e = outbox.withdraw_signed(id, reason, &signer).unwrap_err();
        assert_eq!(e.code(), MEDSEAL_OUTBOX_STATE, "{what}: {e}");
    }
    assert_eq!(code(outbox.withdraw_signed(999, reason, &signer)), MEDSEAL_OUTBOX_NOT_FOUND);
    let record_signer = Signer::new(test_key(), SignOptions::default()).unwrap();
    assert_eq!(code(outbox.withdraw_signed(ids[1], reason, &record_signer)), MEDSEAL_INVALID_ARGUMENT, "a record typ");
    for bad in ["", "two\nlines", &"x".repeat(1025)] {
        assert_eq!(code(outbox.withdraw_signed(ids[1], bad, &signer)), MEDSEAL_INVALID_ARGUMENT, "{bad:?}");
    }
    assert_eq!(outbox.withdrawal_envelope(ids[1]).unwrap(), None, "refusals store nothing");
    assert_eq!(outbox.get(ids[1]).unwrap().state, State::DeadLetter);

    let sealed = outbox.sealed_ledger(1, 10).unwrap();
    let original = outbox.envelope(ids[1]).unwrap();
    outbox.withdraw_signed_as(ids[1], "operator-w", reason, &signer).unwrap();
    let info = outbox.get(ids[1]).unwrap();
    assert_eq!((info.state, info.dead_code.as_deref()), (State::Queued, None));
    let tombstone = outbox.withdrawal_envelope(ids[1]).unwrap().unwrap();
    assert_eq!(info.withdrawal_digest, Some(sha256(&tombstone)));
    assert_eq!((outbox.sealed_ledger(1, 10).unwrap(), outbox.envelope(ids[1]).unwrap()), (sealed.clone(), original));
    let last = outbox.history(ids[1]).unwrap().pop().unwrap();
    assert_eq!((last.action.as_str(), last.who.as_deref(), last.detail.as_deref()), ("withdrawn", Some("operator-w"), Some(reason)));
    assert_eq!(code(outbox.withdraw_signed(ids[1], reason, &signer)), MEDSEAL_OUTBOX_STATE, "withdrawn already");

    // The tombstone: the record's meta, a withdrawal JWS by the facility's key, never a record.
    let envelope = Envelope::from_protobuf(&tombstone).unwrap();
    let meta = &envelope.meta;
    assert_eq!((meta.record_id.as_str(), meta.source.as_str(), meta.sequence), ("rec-2", SOURCE, 2));
    assert_eq!(meta.content_type, FLATTENED_CONTENT_TYPE);
    let jws = envelope.open(&f.hub).unwrap();
    let verifier = medseal::Verifier::new(vec![Arc::new(test_key().to_public())]);
    let withdrawal = medseal::record::verify_withdrawal(&verifier, &jws).unwrap();
    assert_eq!(
        withdrawal,
        medseal::record::Withdrawal { source: SOURCE.into(), record_id: "rec-2".into(), sequence: 2, reason: reason.into() }
    );
    assert_eq!(code(medseal::record::verify(&verifier, &jws)), MEDSEAL_JWS_HEADER, "a withdrawal is not a record");

    // The deliverer gets the tombstone, never the record; its receipt is the record's.
    let claimed = outbox.claim(10, t).unwrap();
    let sent = claimed.iter().find(|c| c.outbox_id == ids[1]).unwrap();
    assert_eq!((sent.envelope.as_slice(), sent.digest, sent.sequence), (tombstone.as_slice(), sha256(&tombstone), 2));
    outbox.mark_delivered(ids[1], &delivery("receipt-of-the-tombstone")).unwrap();
    assert_eq!(outbox.delivery("rec-2").unwrap().receipt, "receipt-of-the-tombstone");
    // A queued record can be withdrawn too.
    outbox.mark_retry(ids[4], t, "HTTP 503").unwrap();
    outbox.withdraw_signed(ids[4], "enqueued twice by the lab system", &signer).unwrap();

    // Neither the sealed ledger nor a withdrawal can be changed in the file.
    let raw = rusqlite::Connection::open(&f.path).unwrap();
    for sql in [
        "UPDATE records SET withdrawal_envelope = x'00' WHERE sequence = 2",
        "UPDATE records SET withdrawal_digest = zeroblob(32) WHERE sequence = 2",
        "UPDATE records SET envelope = x'00' WHERE sequence = 2",
    ] {
        let refused = raw.execute(sql, []).unwrap_err().to_string();
        assert!(refused.contains("never change"), "{sql}: {refused}");
    }
    outbox.check_sequence().unwrap();
}

/// With the facility's own keys configured, a withdrawal signed by any other key is refused
/// before anything is stored (the hub would only make it a dead letter).
#[test]
fn a_withdrawal_by_a_key_not_of_the_facility_is_refused() {
    let f = Fixture::new();
    let outbox = Outbox::open(OutboxConfig { signing_keys: vec![Arc::new(test_key().to_public())], ..f.config() }).unwrap();
    let id = outbox.enqueue_signed("rec-1", &signed(1)).unwrap().outbox_id;
    let stranger = Arc::new(Key::generate(Algorithm::EdDSA).unwrap());
    let foreign = Signer::new(stranger, medseal::record::withdrawal_sign_options()).unwrap();
    let e = outbox.withdraw_signed(id, "abandoned", &foreign).unwrap_err();
    assert_eq!(e.code(), MEDSEAL_INVALID_ARGUMENT, "{e}");
    assert!(e.message().contains(SOURCE), "{e}");
    assert_eq!(outbox.withdrawal_envelope(id).unwrap(), None);
    let own = Signer::new(test_key(), medseal::record::withdrawal_sign_options()).unwrap();
    outbox.withdraw_signed(id, "abandoned", &own).unwrap();
    assert!(outbox.withdrawal_envelope(id).unwrap().is_some());
}

fn delivery(receipt: &str) -> Delivery {
    Delivery { receipt: receipt.to_owned(), inclusion: vec![8, 1, 16, 2], duplicate: false, delivered_at: 1_800_000_000 }
}

#[test]
fn enqueue_signed_seals_to_every_recipient_with_the_next_sequence() {
    let f = Fixture::new();
    let outbox = f.open();
    assert_eq!(outbox.source(), SOURCE);
    let before = now();
    let first = outbox.enqueue_signed("rec-1", &signed(1)).unwrap();
    let second = outbox.enqueue_signed("rec-2", &signed_as(2, Serialization::Compact)).unwrap();
    assert_eq!((first.sequence, second.sequence), (1, 2));
    assert_eq!((first.record_id.as_str(), first.source.as_str()), ("rec-1", SOURCE));
    assert!(!first.already_queued && !second.already_queued);
    assert!(first.enqueued_at >= before && first.enqueued_at <= now());
    assert_ne!(first.outbox_id, second.outbox_id);

    for (receipt, plaintext, content_type) in
        [(&first, signed(1), FLATTENED_CONTENT_TYPE), (&second, signed_as(2, Serialization::Compact), COMPACT_CONTENT_TYPE)]
    {
        let stored = outbox.envelope(receipt.outbox_id).unwrap();
        assert_eq!(sha256(&stored), receipt.digest, "digest = SHA-256 of the protobuf envelope");
        let envelope = Envelope::from_protobuf(&stored).unwrap();
        assert_eq!(envelope.aead, Aead::Aes256Gcm);
        assert_eq!(envelope.meta.record_id, receipt.record_id);
        assert_eq!(envelope.meta.source, SOURCE);
        assert_eq!(envelope.meta.sequence, receipt.sequence);
        assert_eq!(envelope.meta.content_type, content_type);
        assert_eq!(medseal::trust::parse_time(&envelope.meta.created).unwrap(), receipt.enqueued_at);
        assert_eq!(envelope.recipients.len(), 2);
        // The hub and the second recipient each open it alone.
        assert_eq!(&envelope.open(&f.hub).unwrap()[..], &plaintext[..]);
        assert_eq!(&envelope.open(&f.archive).unwrap()[..], &plaintext[..]);
    }
    let info = outbox.get(first.outbox_id).unwrap();
    assert_eq!(info.state, State::Queued);
    assert_eq!((info.attempts, info.next_attempt_at), (0, Some(first.enqueued_at)));
    assert_eq!(outbox.find("rec-2").unwrap().outbox_id, second.outbox_id);
}

#[test]
fn the_signed_record_is_never_stored_in_clear() {
    let f = Fixture::new();
    let outbox = f.open();
    let record = signed(7);
    outbox.enqueue_signed("rec-7", &record).unwrap();
    drop(outbox);
    let mut file = std::fs::read(&f.path).unwrap();
    file.extend(std::fs::read(f.path.with_extension("sqlite-wal")).unwrap_or_default());
    let needle = &record[record.len() - 40..]; // part of the signature
    assert!(!file.windows(needle.len()).any(|w| w == needle), "signed record bytes found in the outbox file");
    assert!(!file.windows(5).any(|w| w == b"obs-7".as_slice()), "record content found in the outbox file");
}

#[test]
fn idempotency_by_record_id_and_no_number_burnt_by_failures() {
    let f = Fixture::new();
    let outbox = f.open();
    let first = outbox.enqueue_signed("rec-1", &signed(1)).unwrap();
    let again = outbox.enqueue_signed("rec-1", &signed(1)).unwrap();
    assert!(again.already_queued);
    assert_eq!(again, medseal::outbox::LocalReceipt { already_queued: true, ..first.clone() });
    let e = outbox.enqueue_signed("rec-1", &signed(2)).unwrap_err();
    assert_eq!(e.code(), MEDSEAL_OUTBOX_DUPLICATE, "{e}");
    assert!(e.message().contains("outbox id 1"), "{e}");

    // Failures before and inside the transaction use no sequence number.
    assert_eq!(code(outbox.enqueue_signed("", &signed(3))), MEDSEAL_INVALID_ARGUMENT);
    assert_eq!(code(outbox.enqueue_signed("bad\nid", &signed(3))), MEDSEAL_INVALID_ARGUMENT);
    assert_eq!(code(outbox.enqueue_signed("rec-3", b"")), MEDSEAL_INVALID_ARGUMENT);
    let too_large = vec![b'x'; medseal::seal::MAX_ENVELOPE_BYTES + 1];
    assert_eq!(code(outbox.enqueue_signed("rec-big", &too_large)), MEDSEAL_SEAL_TOO_LARGE);
    drop(too_large);
    assert_eq!(code(outbox.find("rec-big")), MEDSEAL_OUTBOX_NOT_FOUND);
    let sealed_elsewhere = Envelope::seal(&signed(9), Meta::new("rec-9", SOURCE, 5), &[&f.hub.to_public()], Aead::Aes256Gcm).unwrap();
    assert_eq!(code(outbox.enqueue_sealed(&sealed_elsewhere.to_protobuf().unwrap())), MEDSEAL_OUTBOX_SEQUENCE);

    let next = outbox.enqueue_signed("rec-3", &signed(3)).unwrap();
    assert_eq!(next.sequence, 2);
    outbox.check_sequence().unwrap();
}

/// A JWS with this protected header and payload text, and a made-up signature: the outbox
/// does not verify signatures, so this is all it can look at.
fn jws_with_header(header: &str, payload_b64: &str) -> Vec<u8> {
    let b64 = |bytes: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes);
    format!("{}.{payload_b64}.{}", b64(header.as_bytes()), b64(b"not really a signature")).into_bytes()
}

#[test]
fn only_signed_records_are_sealed_and_refusals_use_no_number() {
    let f = Fixture::new();
    let outbox = f.open();
    outbox.enqueue_signed("rec-1", &signed(1)).unwrap();
    let payload = "eyJyZXNvdXJjZVR5cGUiOiJQYXRpZW50In0"; // {"resourceType":"Patient"}
    let record_header = r#"{"alg":"EdDSA","crit":["sigT"],"sigT":"2026-01-01T00:00:00Z","typ":"medseal+jws"}"#;
    let other_typ = {
        let key = Arc::new(Key::generate(Algorithm::EdDSA).unwrap());
        let signer = Signer::new(key, SignOptions { typ: Some("JWT".into()), ..SignOptions::default() }).unwrap();
        signer.sign(br#"{"a":1}"#, Serialization::Flattened).unwrap().into_bytes()
    };
    let no_typ = {
        let key = Arc::new(Key::generate(Algorithm::EdDSA).unwrap());
        let signer = Signer::new(key, SignOptions { typ: None, ..SignOptions::default() }).unwrap();
        signer.sign(br#"{"a":1}"#, Serialization::Compact).unwrap().into_bytes()
    };
    let detached = signed_as(3, Serialization::DetachedCompact);
    let cases: Vec<(&str, Vec<u8>, ResultCode, &str)> = vec![
        ("not a JWS", b"not a jws".to_vec(), MEDSEAL_JWS_MALFORMED, "three dot-separated parts"),
        ("an empty JSON object", b"{}".to_vec(), MEDSEAL_JWS_MALFORMED, "no \"protected\""),
        ("JSON that is not a JWS", br#"{"resourceType":"Patient","id":"p1"}"#.to_vec(), MEDSEAL_JWS_MALFORMED, "protected"),
        ("a JWS of another typ", other_typ, MEDSEAL_JWS_HEADER, "not a medseal record"),
        ("a JWS without typ", no_typ, MEDSEAL_JWS_HEADER, "typ none"),
        ("no sigT", jws_with_header(r#"{"alg":"EdDSA","typ":"medseal+jws"}"#, payload), MEDSEAL_JWS_HEADER, "no sigT"),
        (
            "alg none",
            jws_with_header(r#"{"alg":"none","sigT":"2026-01-01T00:00:00Z","typ":"medseal+jws"}"#, payload),
            MEDSEAL_JWS_ALG_FORBIDDEN,
            "none",
        ),
        ("a payload that is not base64url", jws_with_header(record_header, "eyJh+"), MEDSEAL_JWS_BASE64, "payload"),
        ("a detached JWS", detached, MEDSEAL_JWS_PAYLOAD_MISSING, "detached"),
    ];
    for (what, bytes, want, needle) in &cases {
        let e = outbox.enqueue_signed("rec-bad", bytes).unwrap_err();
        assert_eq!(e.code(), *want, "{what}: {e}");
        assert!(e.message().contains(needle), "{what}: {e}");
        let batch: [(&str, &[u8]); 2] = [("rec-ok", &signed(9)), ("rec-bad", bytes)];
        assert_eq!(code(outbox.enqueue_signed_batch(&batch)), *want, "{what}: batch");
    }
    for id in ["rec-bad", "rec-ok"] {
        assert_eq!(code(outbox.find(id)), MEDSEAL_OUTBOX_NOT_FOUND, "nothing of a refused enqueue is stored");
    }
    assert_eq!(outbox.status().unwrap().next_sequence, 2, "no number used by a refusal");

    // The signature is not verified (the outbox has no key): a record-shaped JWS with a
    // made-up signature is sealed, in both forms, and the hub will refuse it.
    let made_up = jws_with_header(record_header, payload);
    assert_eq!(outbox.enqueue_signed("rec-2", &made_up).unwrap().sequence, 2);
    let s = String::from_utf8(made_up).unwrap();
    let parts: Vec<&str> = s.split('.').collect();
    let flattened = format!(r#"{{"payload":"{}","protected":"{}","signature":"{}"}}"#, parts[1], parts[0], parts[2]);
    let receipt = outbox.enqueue_signed("rec-3", flattened.as_bytes()).unwrap();
    assert_eq!(receipt.sequence, 3);
    assert_eq!(Envelope::from_protobuf(&outbox.envelope(receipt.outbox_id).unwrap()).unwrap().meta.content_type, FLATTENED_CONTENT_TYPE);
    outbox.check_sequence().unwrap();
}

#[test]
fn the_hubs_receipt_of_a_delivered_record_is_read_back() {
    let f = Fixture::new();
    let outbox = f.open();
    let ids: Vec<i64> = (1..=4).map(|n| outbox.enqueue_signed(&format!("rec-{n}"), &signed(n)).unwrap().outbox_id).collect();
    // Queued, in flight, a dead letter: not delivered, no receipt.
    assert_eq!(code(outbox.delivery("rec-1")), MEDSEAL_OUTBOX_STATE);
    let e = outbox.delivery("rec-1").unwrap_err();
    assert!(e.message().contains("is queued") && e.message().contains("only a delivered record"), "{e}");
    outbox.claim(3, now()).unwrap();
    assert_eq!(code(outbox.delivery("rec-2")), MEDSEAL_OUTBOX_STATE);
    outbox.mark_dead(ids[2], "ID_REUSED", "refused").unwrap();
    assert_eq!(code(outbox.delivery("rec-3")), MEDSEAL_OUTBOX_STATE);
    assert_eq!(code(outbox.delivery("rec-nope")), MEDSEAL_OUTBOX_NOT_FOUND);
    assert_eq!(code(outbox.delivery("")), MEDSEAL_INVALID_ARGUMENT);
    assert_eq!(code(outbox.delivery("bad\nid")), MEDSEAL_INVALID_ARGUMENT);

    let first = Delivery { receipt: "eyJ.receipt.one".into(), inclusion: vec![8, 0, 16, 1], duplicate: false, delivered_at: 1_800_000_000 };
    let second = Delivery {
        receipt: "eyJ.receipt.two".into(),
        inclusion: vec![8, 1, 16, 2, 26, 1, 7],
        duplicate: true,
        delivered_at: 1_800_000_009,
    };
    outbox.mark_delivered(ids[0], &first).unwrap();
    outbox.mark_delivered(ids[1], &second).unwrap();
    assert_eq!(outbox.delivery("rec-1").unwrap(), first);
    assert_eq!(outbox.delivery("rec-2").unwrap(), second);
    // The same through a second handle on the file (another process would see the same).
    let admin = Outbox::open_existing(&f.path).unwrap();
    assert_eq!(admin.delivery("rec-2").unwrap(), second);
    assert_eq!(code(admin.delivery("rec-4")), MEDSEAL_OUTBOX_STATE);
}

#[test]
fn enqueue_sealed_takes_the_next_number_of_this_source_only() {
    let f = Fixture::new();
    let outbox = f.open();
    outbox.enqueue_signed("rec-1", &signed(1)).unwrap();
    let hub = f.hub.to_public();
    let seal = |id: &str, source: &str, seq: u64, to: &RecipientKey| {
        Envelope::seal(&signed(seq), Meta::new(id, source, seq), &[to], Aead::ChaCha20Poly1305).unwrap()
    };
    let good = seal("rec-2", SOURCE, 2, &hub).to_protobuf().unwrap();
    let receipt = outbox.enqueue_sealed(&good).unwrap();
    assert_eq!((receipt.sequence, receipt.digest), (2, sha256(&good)));
    assert_eq!(outbox.envelope(receipt.outbox_id).unwrap(), good, "protobuf input is stored as given");
    let again = outbox.enqueue_sealed(&good).unwrap();
    assert!(again.already_queued && again.outbox_id == receipt.outbox_id);

    let other = seal("rec-2", SOURCE, 3, &hub).to_protobuf().unwrap();
    assert_eq!(code(outbox.enqueue_sealed(&other)), MEDSEAL_OUTBOX_DUPLICATE);
    assert_eq!(code(outbox.enqueue_sealed(&seal("rec-3", SOURCE, 4, &hub).to_protobuf().unwrap())), MEDSEAL_OUTBOX_SEQUENCE);
    assert_eq!(code(outbox.enqueue_sealed(&seal("rec-3", SOURCE, 2, &hub).to_protobuf().unwrap())), MEDSEAL_OUTBOX_SEQUENCE);
    assert_eq!(code(outbox.enqueue_sealed(&seal("rec-3", "other-facility", 3, &hub).to_protobuf().unwrap())), MEDSEAL_OUTBOX_SEQUENCE);
    let not_for_hub = seal("rec-3", SOURCE, 3, &f.archive.to_public()).to_protobuf().unwrap();
    assert_eq!(code(outbox.enqueue_sealed(&not_for_hub)), MEDSEAL_SEAL_WRONG_RECIPIENT);
    assert_eq!(code(outbox.enqueue_sealed(b"not an envelope")), MEDSEAL_SEAL_NOT_PROTOBUF);
    // A signed record with an id first used by a pre-sealed envelope is a duplicate.
    assert_eq!(code(outbox.enqueue_signed("rec-2", &signed(2))), MEDSEAL_OUTBOX_DUPLICATE);

    // The JSON mapping is accepted and stored as protobuf.
    let json_envelope = seal("rec-3", SOURCE, 3, &hub);
    let receipt = outbox.enqueue_sealed(&json_envelope.to_json().unwrap()).unwrap();
    assert_eq!(receipt.sequence, 3);
    let stored = outbox.envelope(receipt.outbox_id).unwrap();
    assert_eq!(stored, json_envelope.to_protobuf().unwrap());
    assert_eq!(receipt.digest, sha256(&stored));
    assert!(outbox.enqueue_sealed(&json_envelope.to_json().unwrap()).unwrap().already_queued);
    outbox.check_sequence().unwrap();
}

#[test]
fn claim_lease_retry_delivered_and_the_refusals() {
    let f = Fixture::new();
    let outbox = Outbox::open(OutboxConfig { lease: Duration::from_secs(60), ..f.config() }).unwrap();
    let ids: Vec<i64> = (1..=5).map(|n| outbox.enqueue_signed(&format!("rec-{n}"), &signed(n)).unwrap().outbox_id).collect();
    let t = now();
    assert!(outbox.claim(0, t).unwrap().is_empty());
    assert!(outbox.claim(10, t - 3600).unwrap().is_empty(), "not due before enqueue time");

    let batch = outbox.claim(2, t).unwrap();
    assert_eq!(batch.iter().map(|c| c.sequence).collect::<Vec<_>>(), [1, 2], "oldest first");
    assert!(batch.iter().all(|c| c.attempts == 1));
    assert_eq!(batch[0].digest, sha256(&batch[0].envelope));
    assert_eq!(batch[0].envelope, outbox.envelope(ids[0]).unwrap());
    let info = outbox.get(ids[0]).unwrap();
    assert_eq!((info.state, info.lease_until), (State::InFlight, Some(t + 60)));

    // Claimed records are not claimed again while their lease runs...
    let rest = outbox.claim(10, t).unwrap();
    assert_eq!(rest.iter().map(|c| c.sequence).collect::<Vec<_>>(), [3, 4, 5]);
    assert!(outbox.claim(10, t + 59).unwrap().is_empty());
    // ...but are once it ran out (a crashed deliverer), oldest first, one more attempt.
    let again = outbox.claim(2, t + 60).unwrap();
    assert_eq!(again.iter().map(|c| (c.sequence, c.attempts)).collect::<Vec<_>>(), [(1, 2), (2, 2)]);

    // Retry: back to queued, due later.
    outbox.mark_retry(ids[0], t + 100, "HTTP 503 from the hub").unwrap();
    let info = outbox.get(ids[0]).unwrap();
    assert_eq!((info.state, info.next_attempt_at, info.lease_until), (State::Queued, Some(t + 100), None));
    assert_eq!(info.last_error.as_deref(), Some("HTTP 503 from the hub"));
    assert_eq!(code(outbox.mark_retry(ids[0], t, "again")), MEDSEAL_OUTBOX_STATE, "only in flight");
    assert!(outbox.claim(10, t + 99).unwrap().iter().all(|c| c.outbox_id != ids[0]));

    // Delivered: receipt kept; the same receipt again is a no-op, another is refused.
    outbox.mark_delivered(ids[1], &delivery("receipt-2")).unwrap();
    outbox.mark_delivered(ids[1], &delivery("receipt-2")).unwrap();
    assert_eq!(code(outbox.mark_delivered(ids[1], &delivery("receipt-x"))), MEDSEAL_OUTBOX_STATE);
    assert_eq!(code(outbox.mark_delivered(ids[1], &delivery(""))), MEDSEAL_INVALID_ARGUMENT);
    let info = outbox.get(ids[1]).unwrap();
    assert_eq!(info.state, State::Delivered);
    assert_eq!((info.receipt.as_deref(), info.inclusion.as_deref()), (Some("receipt-2"), Some(&[8u8, 1, 16, 2][..])));
    assert_eq!((info.duplicate, info.delivered_at, info.lease_until), (Some(false), Some(1_800_000_000), None));
    for result in [outbox.mark_retry(ids[1], t, "x"), outbox.mark_dead(ids[1], "MALFORMED", "x"), outbox.requeue(ids[1])] {
        assert_eq!(code(result), MEDSEAL_OUTBOX_STATE);
    }
    // A late answer for a record whose claim ran out (now queued again) is still recorded.
    outbox.mark_delivered(ids[0], &Delivery { duplicate: true, ..delivery("receipt-1") }).unwrap();
    assert_eq!(outbox.get(ids[0]).unwrap().duplicate, Some(true));

    // Dead letter: code and reason kept, in the history too; requeue; withdraw; discard.
    outbox.mark_dead(ids[2], "ID_REUSED", "record id reused with another digest").unwrap();
    let info = outbox.get(ids[2]).unwrap();
    assert_eq!((info.state, info.dead_code.as_deref()), (State::DeadLetter, Some("ID_REUSED")));
    assert_eq!(code(outbox.mark_dead(ids[2], "", "x")), MEDSEAL_INVALID_ARGUMENT);
    assert_eq!(code(outbox.discard(ids[3], "not a dead letter")), MEDSEAL_OUTBOX_STATE);
    assert_eq!(code(outbox.withdraw(ids[3], "in flight")), MEDSEAL_OUTBOX_STATE, "in flight may be at the hub");
    assert_eq!(outbox.dead_letter_count().unwrap(), 1);
    outbox.requeue_as(ids[2], "operator-a").unwrap();
    let info = outbox.get(ids[2]).unwrap();
    assert_eq!((info.state, info.dead_code, info.attempts), (State::Queued, None, 2), "attempts are kept");
    assert_eq!(code(outbox.requeue(ids[2])), MEDSEAL_OUTBOX_STATE);
    outbox.withdraw_as(ids[2], "operator-b", "sent to the wrong hub by mistake").unwrap();
    assert_eq!(outbox.get(ids[2]).unwrap().dead_code.as_deref(), Some("WITHDRAWN"));
    assert_eq!(code(outbox.discard(ids[2], "  ")), MEDSEAL_INVALID_ARGUMENT, "a discard needs a reason");
    outbox.discard_as(ids[2], "operator-c", "duplicate of a paper record").unwrap();
    assert_eq!(outbox.get(ids[2]).unwrap().state, State::Discarded);
    assert_eq!(outbox.envelope(ids[2]).unwrap().len(), outbox.envelope(ids[3]).unwrap().len(), "the envelope is kept");
    for result in [outbox.requeue(ids[2]), outbox.discard(ids[2], "again"), outbox.mark_dead(ids[2], "X", "y")] {
        assert_eq!(code(result), MEDSEAL_OUTBOX_STATE);
    }
    let history = outbox.history(ids[2]).unwrap();
    type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);
    let summary: Vec<Row> = history.iter().map(|e| (e.action.as_str(), e.who.as_deref(), e.code.as_deref(), e.detail.as_deref())).collect();
    assert_eq!(
        summary,
        [
            ("dead_letter", Some("transport"), Some("ID_REUSED"), Some("record id reused with another digest")),
            ("requeued", Some("operator-a"), None, None),
            ("withdrawn", Some("operator-b"), Some("WITHDRAWN"), Some("sent to the wrong hub by mistake")),
            ("discarded", Some("operator-c"), None, Some("duplicate of a paper record")),
        ]
    );
    assert!(history.iter().all(|e| e.at >= t - 5));

    for result in [
        outbox.get(999).map(|_| ()),
        outbox.mark_delivered(999, &delivery("r")),
        outbox.mark_retry(999, t, "x"),
        outbox.mark_dead(999, "X", "y"),
        outbox.requeue(999),
        outbox.discard(999, "why"),
        outbox.withdraw(999, "why"),
        outbox.envelope(999).map(|_| ()),
        outbox.history(999).map(|_| ()),
        outbox.find("no-such-record").map(|_| ()),
    ] {
        assert_eq!(code(result), MEDSEAL_OUTBOX_NOT_FOUND);
    }
}

#[test]
fn batches_are_one_transaction_all_or_nothing_for_enqueue() {
    let f = Fixture::new();
    let outbox = f.open();
    outbox.enqueue_signed("rec-0", &signed(0)).unwrap();
    let records: Vec<(String, Vec<u8>)> = (1..=50).map(|n| (format!("rec-{n}"), signed(n))).collect();
    let mut batch: Vec<(&str, &[u8])> = records.iter().map(|(id, r)| (id.as_str(), r.as_slice())).collect();
    let zero = signed(0);
    batch.insert(10, ("rec-0", &zero)); // already in the outbox, same record
    batch.push(("rec-3", &records[2].1)); // earlier in this batch, same record
    let receipts = outbox.enqueue_signed_batch(&batch).unwrap();
    assert_eq!(receipts.len(), 52);
    assert!(receipts[10].already_queued && receipts[10].sequence == 1);
    assert!(receipts[51].already_queued && receipts[51].outbox_id == receipts[2].outbox_id);
    let fresh: Vec<u64> = receipts.iter().filter(|r| !r.already_queued).map(|r| r.sequence).collect();
    assert_eq!(fresh, (2..=51).collect::<Vec<_>>());

    // One bad record: nothing of the batch is stored, no number used.
    let (a, b, c) = (signed(60), signed(61), signed(62));
    let bad: Vec<(&str, &[u8])> = vec![("rec-60", &a), ("rec-1", &b), ("rec-62", &c)];
    assert_eq!(code(outbox.enqueue_signed_batch(&bad)), MEDSEAL_OUTBOX_DUPLICATE);
    assert_eq!(code(outbox.enqueue_signed_batch(&[("rec-60", &a), ("", &c)])), MEDSEAL_INVALID_ARGUMENT);
    assert_eq!(code(outbox.find("rec-60")), MEDSEAL_OUTBOX_NOT_FOUND);
    assert_eq!(outbox.status().unwrap().next_sequence, 52);
    assert!(outbox.enqueue_signed_batch(&[]).unwrap().is_empty());

    // Receipts for a whole batch from the hub, each with its own result.
    let claimed = outbox.claim(5, now()).unwrap();
    let mut deliveries: Vec<(i64, Delivery)> = claimed.iter().map(|c| (c.outbox_id, delivery(&format!("r{}", c.sequence)))).collect();
    deliveries.push((999, delivery("r999")));
    deliveries.push((claimed[0].outbox_id, delivery("another receipt")));
    deliveries.push((claimed[1].outbox_id, delivery("")));
    let results = outbox.mark_delivered_batch(&deliveries).unwrap();
    assert!(results[..5].iter().all(Result::is_ok));
    let codes: Vec<ResultCode> = results[5..].iter().map(|r| r.as_ref().map_or_else(|e| e.code(), |()| MEDSEAL_OK)).collect();
    assert_eq!(codes, [MEDSEAL_OUTBOX_NOT_FOUND, MEDSEAL_OUTBOX_STATE, MEDSEAL_INVALID_ARGUMENT]);
    assert_eq!(outbox.status().unwrap().delivered, 5);
    assert_eq!(outbox.get(claimed[0].outbox_id).unwrap().receipt.as_deref(), Some("r1"));
}

#[test]
fn mark_batch_records_every_kind_of_result_in_one_call() {
    let f = Fixture::new();
    let outbox = f.open();
    for n in 1..=6 {
        outbox.enqueue_signed(&format!("rec-{n}"), &signed(n)).unwrap();
    }
    let t = now();
    let claimed = outbox.claim(6, t).unwrap();
    let id = |i: usize| claimed[i].outbox_id;
    let retry = |at: i64| Mark::Retry { next_attempt_at: at, error: "HTTP 503".to_owned() };
    let dead = |code: &str| Mark::Dead { code: code.to_owned(), reason: "the hub said no".to_owned() };
    let marks = vec![
        (id(0), Mark::Delivered(delivery("r1"))),
        (id(1), retry(t + 30)),
        (id(2), dead("ID_REUSED")),
        (id(3), Mark::Delivered(delivery("r4"))),
        // Refusals, each on its own: unknown record, a second receipt, a retry of a record no
        // longer in flight, a dead letter without a code, an empty receipt.
        (999, Mark::Delivered(delivery("r999"))),
        (id(0), Mark::Delivered(delivery("another receipt"))),
        (id(0), retry(t + 30)),
        (id(4), dead("")),
        (id(5), Mark::Delivered(delivery(""))),
        // The same receipt again is accepted (idempotent), as by mark_delivered.
        (id(3), Mark::Delivered(delivery("r4"))),
    ];
    let results = outbox.mark_batch(&marks).unwrap();
    let codes: Vec<ResultCode> = results.into_iter().map(code).collect();
    assert_eq!(
        codes,
        [
            MEDSEAL_OK,
            MEDSEAL_OK,
            MEDSEAL_OK,
            MEDSEAL_OK,
            MEDSEAL_OUTBOX_NOT_FOUND,
            MEDSEAL_OUTBOX_STATE,
            MEDSEAL_OUTBOX_STATE,
            MEDSEAL_INVALID_ARGUMENT,
            MEDSEAL_INVALID_ARGUMENT,
            MEDSEAL_OK
        ]
    );
    let status = outbox.status().unwrap();
    assert_eq!((status.queued, status.in_flight, status.delivered, status.dead_letter), (1, 2, 2, 1));
    let delivered = outbox.get(id(0)).unwrap();
    assert_eq!((delivered.state, delivered.receipt.as_deref()), (State::Delivered, Some("r1")));
    let retried = outbox.get(id(1)).unwrap();
    assert_eq!((retried.state, retried.next_attempt_at, retried.last_error.as_deref()), (State::Queued, Some(t + 30), Some("HTTP 503")));
    let dead_letter = outbox.get(id(2)).unwrap();
    assert_eq!((dead_letter.state, dead_letter.dead_code.as_deref()), (State::DeadLetter, Some("ID_REUSED")));
    let history = outbox.history(id(2)).unwrap();
    assert_eq!((history.len(), history[0].action.as_str(), history[0].who.as_deref()), (1, "dead_letter", Some("transport")));
    assert_eq!(outbox.get(id(4)).unwrap().state, State::InFlight);
    assert!(outbox.mark_batch(&[]).unwrap().is_empty());
}

#[test]
fn status_list_ledger_and_sequence_check() {
    let f = Fixture::new();
    let outbox = f.open();
    let empty = outbox.status().unwrap();
    assert_eq!((empty.queued, empty.next_sequence, empty.oldest_queued_at, empty.next_attempt_at), (0, 1, None, None));
    let receipts: Vec<_> = (1..=6).map(|n| outbox.enqueue_signed(&format!("rec-{n}"), &signed(n)).unwrap()).collect();
    let t = now();
    let claimed = outbox.claim(3, t).unwrap();
    outbox.mark_delivered(claimed[0].outbox_id, &delivery("r1")).unwrap();
    outbox.mark_dead(claimed[1].outbox_id, "MALFORMED", "bad").unwrap();
    outbox.mark_retry(claimed[2].outbox_id, t + 30, "timeout").unwrap();
    let in_flight = outbox.claim(1, t).unwrap();
    assert_eq!(in_flight[0].sequence, 4);

    let status = outbox.status().unwrap();
    assert_eq!((status.queued, status.in_flight, status.delivered, status.dead_letter, status.discarded), (3, 1, 1, 1, 0));
    assert_eq!(status.next_sequence, 7);
    assert_eq!(status.oldest_queued_at, Some(receipts[2].enqueued_at));
    assert_eq!(status.next_attempt_at, Some(receipts[4].enqueued_at.min(t + 30)));

    let queued = outbox.list(Some(State::Queued), 100).unwrap();
    assert_eq!(queued.iter().map(|r| r.sequence).collect::<Vec<_>>(), [3, 5, 6]);
    assert_eq!(outbox.list(None, 100).unwrap().len(), 6);
    assert_eq!(outbox.list(None, 2).unwrap().iter().map(|r| r.sequence).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(outbox.list(Some(State::DeadLetter), 10).unwrap()[0].dead_reason.as_deref(), Some("bad"));

    let ledger = outbox.sealed_ledger(3, 2).unwrap();
    assert_eq!(ledger, receipts[2..4].to_vec());
    assert_eq!(outbox.sealed_ledger(1, usize::MAX).unwrap(), receipts);
    assert!(outbox.sealed_ledger(7, 10).unwrap().is_empty());
    outbox.check_sequence().unwrap();

    for state in State::all() {
        assert_eq!(State::from_str(state.as_str()), Some(state));
        assert_eq!(state.to_string(), state.as_str());
    }
    assert_eq!(State::from_str("Queued"), None);
}

#[test]
fn the_file_refuses_deletes_and_ledger_changes_and_gaps_are_reported() {
    let f = Fixture::new();
    let outbox = f.open();
    for n in 1..=4 {
        outbox.enqueue_signed(&format!("rec-{n}"), &signed(n)).unwrap();
    }
    let raw = rusqlite::Connection::open(&f.path).unwrap();
    let refused = raw.execute("DELETE FROM records WHERE sequence = 2", []).unwrap_err().to_string();
    assert!(refused.contains("never deleted"), "{refused}");
    let refused = raw.execute("UPDATE records SET digest = zeroblob(32) WHERE sequence = 2", []).unwrap_err().to_string();
    assert!(refused.contains("never changes"), "{refused}");
    outbox.check_sequence().unwrap();

    // Tampering around the triggers is what the gap check is for.
    raw.execute_batch("DROP TRIGGER records_never_deleted; DELETE FROM records WHERE sequence IN (2, 3);").unwrap();
    let e = outbox.check_sequence().unwrap_err();
    assert_eq!(e.code(), MEDSEAL_OUTBOX_SEQUENCE);
    assert!(e.message().contains("2 is missing") && e.message().contains("2 records, highest 4"), "{e}");
    raw.execute("DELETE FROM records WHERE sequence = 1", []).unwrap();
    assert!(outbox.check_sequence().unwrap_err().message().contains(" 1 is missing"));
}

#[test]
fn file_checks_wal_and_source_binding() {
    let f = Fixture::new();
    drop(f.open());
    let raw = rusqlite::Connection::open(&f.path).unwrap();
    let mode: String = raw.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = raw.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 3);
    // A version 2 file (no withdrawals) with a record in it is upgraded in place when opened,
    // and its record can then be withdrawn with a signed tombstone.
    let v3_removed = "DROP TRIGGER records_withdrawal_unchanged; ALTER TABLE records DROP COLUMN withdrawal_envelope;
                      ALTER TABLE records DROP COLUMN withdrawal_digest;";
    raw.execute_batch(&format!("{v3_removed} PRAGMA user_version = 2;")).unwrap();
    drop(raw);
    let upgraded = f.open();
    let id = upgraded.enqueue_signed("rec-v2", &signed(1)).unwrap().outbox_id;
    drop(upgraded);
    let raw = rusqlite::Connection::open(&f.path).unwrap();
    raw.execute_batch(&format!("{v3_removed} PRAGMA user_version = 2;")).unwrap();
    drop(raw);
    let upgraded = f.open();
    assert_eq!(upgraded.withdrawal_envelope(id).unwrap(), None);
    let signer = Signer::new(test_key(), medseal::record::withdrawal_sign_options()).unwrap();
    upgraded.withdraw_signed(id, "written by version 2", &signer).unwrap();
    assert!(upgraded.get(id).unwrap().withdrawal_digest.is_some());
    drop(upgraded);
    let raw = rusqlite::Connection::open(&f.path).unwrap();
    assert_eq!(raw.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap(), 3);
    // A version 1 file (no tree heads, no forks, no withdrawals) is upgraded in place too.
    raw.execute_batch(&format!(
        "{v3_removed} DROP TRIGGER tree_heads_never_deleted; DROP TRIGGER tree_heads_unchanged; DROP TRIGGER forks_never_deleted;
         DROP TRIGGER forks_unchanged; DROP TABLE tree_heads; DROP TABLE forks; PRAGMA user_version = 1;"
    ))
    .unwrap();
    drop(raw);
    let upgraded = f.open();
    assert_eq!(upgraded.tree_heads().unwrap(), vec![]);
    assert!(upgraded.forks().unwrap().is_empty());
    assert_eq!(upgraded.withdrawal_envelope(id).unwrap(), None);
    drop(upgraded);
    let raw = rusqlite::Connection::open(&f.path).unwrap();
    assert_eq!(raw.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap(), 3);
    drop(raw);

    // One outbox per facility.
    let other = Outbox::open(OutboxConfig::new(&f.path, "another-facility", vec![f.hub.to_public()])).unwrap_err();
    assert_eq!(other.code(), MEDSEAL_INVALID_ARGUMENT);
    assert!(other.message().contains(SOURCE), "{other}");
    assert_eq!(code(Outbox::open(OutboxConfig::new(&f.path, "", vec![]))), MEDSEAL_INVALID_ARGUMENT);

    // Administration: the source comes from the file; nothing can be sealed.
    let admin = Outbox::open_existing(&f.path).unwrap();
    assert_eq!(admin.source(), SOURCE);
    assert_eq!(code(admin.enqueue_signed("rec-1", &signed(1))), MEDSEAL_INVALID_ARGUMENT);
    assert_eq!(code(Outbox::open_existing(&f.dir().join("missing.sqlite"))), MEDSEAL_OUTBOX_IO);
    assert!(!f.dir().join("missing.sqlite").exists(), "open_existing never creates");
    assert_eq!(code(Outbox::open(OutboxConfig::new(f.dir().join("no/such/dir/o.sqlite"), SOURCE, vec![]))), MEDSEAL_OUTBOX_IO);

    // Not an outbox: a text file, another SQLite database (left untouched), a newer version.
    let text = f.dir().join("notes.txt");
    std::fs::write(&text, "this is not a database, it is a text file of some length ".repeat(20)).unwrap();
    assert_eq!(code(Outbox::open(OutboxConfig::new(&text, SOURCE, vec![]))), MEDSEAL_OUTBOX_SCHEMA);
    let foreign = f.dir().join("foreign.sqlite");
    rusqlite::Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE patients (name TEXT)").unwrap();
    assert_eq!(code(Outbox::open(OutboxConfig::new(&foreign, SOURCE, vec![]))), MEDSEAL_OUTBOX_SCHEMA);
    let mode: String = rusqlite::Connection::open(&foreign).unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "delete", "a foreign database is not switched to WAL");
    rusqlite::Connection::open(&f.path).unwrap().execute_batch("PRAGMA user_version = 4").unwrap();
    let newer = Outbox::open(f.config()).unwrap_err();
    assert_eq!(newer.code(), MEDSEAL_OUTBOX_SCHEMA);
    assert!(newer.message().contains("newer"), "{newer}");

    // An empty file (touched by an installer) becomes an outbox.
    let empty = f.dir().join("empty.sqlite");
    std::fs::write(&empty, b"").unwrap();
    Outbox::open(OutboxConfig::new(&empty, SOURCE, vec![f.hub.to_public()])).unwrap().enqueue_signed("r", &signed(1)).unwrap();
}

#[test]
fn a_long_lock_is_busy_and_uses_no_number() {
    let f = Fixture::new();
    let outbox = Outbox::open(OutboxConfig { busy_timeout: Duration::from_millis(200), ..f.config() }).unwrap();
    outbox.enqueue_signed("rec-1", &signed(1)).unwrap();
    let mut blocker = rusqlite::Connection::open(&f.path).unwrap();
    let tx = blocker.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).unwrap();
    let started = std::time::Instant::now();
    let e = outbox.enqueue_signed("rec-2", &signed(2)).unwrap_err();
    assert_eq!(e.code(), MEDSEAL_OUTBOX_BUSY, "{e}");
    assert!(started.elapsed() >= Duration::from_millis(150), "waited for the busy timeout");
    assert_eq!(code(outbox.claim(1, now())), MEDSEAL_OUTBOX_BUSY);
    // Reads go on during another process's write (WAL).
    assert_eq!(outbox.status().unwrap().queued, 1);
    tx.rollback().unwrap();
    assert_eq!(outbox.enqueue_signed("rec-2", &signed(2)).unwrap().sequence, 2);
}

#[test]
fn backup_is_a_complete_outbox_and_never_replaces_a_file() {
    let f = Fixture::new();
    let outbox = f.open();
    for n in 1..=3 {
        outbox.enqueue_signed(&format!("rec-{n}"), &signed(n)).unwrap();
    }
    let claimed = outbox.claim(1, now()).unwrap();
    outbox.mark_dead(claimed[0].outbox_id, "MALFORMED", "bad").unwrap();
    let dest = f.dir().join("backup.sqlite");
    outbox.backup(&dest).unwrap();
    let copy = Outbox::open_existing(&dest).unwrap();
    assert_eq!(copy.status().unwrap(), outbox.status().unwrap());
    assert_eq!(copy.sealed_ledger(1, 10).unwrap(), outbox.sealed_ledger(1, 10).unwrap());
    assert_eq!(copy.envelope(claimed[0].outbox_id).unwrap(), claimed[0].envelope);
    assert_eq!(copy.history(claimed[0].outbox_id).unwrap().len(), 1);
    copy.check_sequence().unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(f.dir()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!leftovers.iter().any(|n| n.to_string_lossy().contains("backup-tmp")), "{leftovers:?}");

    let e = outbox.backup(&dest).unwrap_err();
    assert_eq!(e.code(), MEDSEAL_OUTBOX_IO);
    assert!(e.message().contains("already exists"), "{e}");
    assert_eq!(code(outbox.backup(&f.path)), MEDSEAL_OUTBOX_IO, "never over the outbox itself");
    assert_eq!(code(outbox.backup(&f.dir().join("no/such/dir/b.sqlite"))), MEDSEAL_OUTBOX_IO);
}

#[test]
fn threads_share_one_outbox() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Outbox>();
    let f = Fixture::new();
    let outbox = Arc::new(f.open());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let outbox = Arc::clone(&outbox);
            std::thread::spawn(move || {
                for n in 0..10 {
                    outbox.enqueue_signed(&format!("t{t}-{n}"), &signed(t * 100 + n)).unwrap();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let ledger = outbox.sealed_ledger(1, 100).unwrap();
    assert_eq!(ledger.iter().map(|r| r.sequence).collect::<Vec<_>>(), (1..=40).collect::<Vec<_>>());
    outbox.check_sequence().unwrap();
}

// ---- real processes -------------------------------------------------------------------------

/// Runs this test binary again as a child doing `mode` on the outbox at `path`.
fn spawn_child(mode: &str, path: &Path, hub: &RecipientKey, args: &str) -> Child {
    spawn_child_after(mode, path, hub, args, None)
}

/// As `spawn_child`, the child waiting until the file `go` exists before it starts, so that
/// several children start at once.
fn spawn_child_after(mode: &str, path: &Path, hub: &RecipientKey, args: &str, go: Option<&Path>) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .env("MEDSEAL_OUTBOX_CHILD_GO", go.map(Path::as_os_str).unwrap_or_default())
        .args(["--exact", "child_process_entry", "--nocapture", "--test-threads=1"])
        .env("MEDSEAL_OUTBOX_CHILD", mode)
        .env("MEDSEAL_OUTBOX_CHILD_PATH", path)
        .env("MEDSEAL_OUTBOX_CHILD_HUB", hex(hub.public_bytes()))
        .env("MEDSEAL_OUTBOX_CHILD_ARGS", args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// The text after `prefix` in a line of a child's output. libtest writes "test
/// child_process_entry ... " before the test's own output, on the same line.
fn after<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.find(prefix).map(|at| &line[at + prefix.len()..])
}

/// The child's `RECEIPT`/`CLAIMED` lines, after it exits successfully.
fn child_lines(child: Child, prefix: &str) -> Vec<Vec<String>> {
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "child failed: {:?}", output.status);
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| after(l, prefix))
        .map(|l| l.split(' ').map(str::to_owned).collect())
        .collect()
}

/// The child side. Modes: `enqueue` (ARGS = "tag count": enqueue count records
/// tag-0..tag-count, print `RECEIPT id seq outbox_id`, pause 0.2 ms between records),
/// `claim` (ARGS = "batch": claim until nothing is due, print `CLAIMED outbox_id`, pause 1 ms
/// between batches), `enqueue-forever` (print each receipt, never stop, no pause: the parent
/// kills it).
#[test]
fn child_process_entry() {
    let Ok(mode) = std::env::var("MEDSEAL_OUTBOX_CHILD") else { return };
    let path = PathBuf::from(std::env::var("MEDSEAL_OUTBOX_CHILD_PATH").unwrap());
    let hub = RecipientKey::from_raw_public(&unhex(&std::env::var("MEDSEAL_OUTBOX_CHILD_HUB").unwrap())).unwrap();
    let args = std::env::var("MEDSEAL_OUTBOX_CHILD_ARGS").unwrap();
    let go = std::env::var("MEDSEAL_OUTBOX_CHILD_GO").unwrap_or_default();
    let started = std::time::Instant::now();
    while !go.is_empty() && !Path::new(&go).exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "no go from the parent");
        std::thread::sleep(Duration::from_millis(1));
    }
    let outbox = Outbox::open(OutboxConfig::new(path, SOURCE, vec![hub])).unwrap();
    let print_receipt = |r: &medseal::outbox::LocalReceipt| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "RECEIPT {} {} {}", r.record_id, r.sequence, r.outbox_id).unwrap();
        out.flush().unwrap();
    };
    match mode.as_str() {
        "enqueue" => {
            let (tag, count) = args.split_once(' ').unwrap();
            for n in 0..count.parse::<u64>().unwrap() {
                print_receipt(&outbox.enqueue_signed(&format!("{tag}-{n}"), &signed(n)).unwrap());
                // Like a web worker between two requests: lets the other processes in.
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        "enqueue-forever" => {
            for n in 0.. {
                print_receipt(&outbox.enqueue_signed(&format!("{args}-{n}"), &signed(n)).unwrap());
            }
        }
        "claim" => {
            let batch: usize = args.parse().unwrap();
            let now = now();
            loop {
                let claimed = outbox.claim(batch, now).unwrap();
                if claimed.is_empty() {
                    break;
                }
                for c in claimed {
                    println!("CLAIMED {}", c.outbox_id);
                }
                // Like a deliverer sending the batch before it claims the next.
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        other => panic!("unknown child mode {other}"),
    }
}

#[test]
fn concurrent_processes_enqueue_gapless_sequences() {
    let f = Fixture::new();
    drop(f.open()); // created once, so the children race on enqueue (creation races are tested below)
    let (processes, per_process) = (6, 25);
    let go = f.dir().join("go");
    let children: Vec<Child> =
        (0..processes).map(|p| spawn_child_after("enqueue", &f.path, &f.hub, &format!("p{p} {per_process}"), Some(&go))).collect();
    std::fs::write(&go, b"").unwrap();
    let mut printed = BTreeMap::new();
    for child in children {
        for line in child_lines(child, "RECEIPT ") {
            assert!(printed.insert(line[0].clone(), line[1].parse::<u64>().unwrap()).is_none());
        }
    }
    let total = processes * per_process;
    assert_eq!(printed.len(), total);
    let outbox = f.open();
    let ledger = outbox.sealed_ledger(1, usize::MAX).unwrap();
    assert_eq!(ledger.iter().map(|r| r.sequence).collect::<Vec<_>>(), (1..=total as u64).collect::<Vec<_>>(), "gapless, no duplicates");
    for r in &ledger {
        assert_eq!(printed.get(&r.record_id), Some(&r.sequence), "the receipt a process printed is the stored one");
        let envelope = Envelope::from_protobuf(&outbox.envelope(r.outbox_id).unwrap()).unwrap();
        assert_eq!((envelope.meta.sequence, envelope.meta.record_id.as_str()), (r.sequence, r.record_id.as_str()));
    }
    outbox.check_sequence().unwrap();
    assert_eq!(outbox.status().unwrap().queued, total as u64);
    // How interleaved the processes were (one process after the other would be 5 switches).
    let switches = ledger.windows(2).filter(|w| w[0].record_id.split('-').next() != w[1].record_id.split('-').next()).count();
    eprintln!("{processes} processes x {per_process} records: {switches} switches between processes along the sequence");
}

#[test]
fn concurrent_processes_create_one_file_and_enqueue() {
    let f = Fixture::new();
    let go = f.dir().join("go");
    let children: Vec<Child> = (0..6).map(|p| spawn_child_after("enqueue", &f.path, &f.hub, &format!("c{p} 5"), Some(&go))).collect();
    std::fs::write(&go, b"").unwrap();
    let lines: usize = children.into_iter().map(|c| child_lines(c, "RECEIPT ").len()).sum();
    assert_eq!(lines, 30);
    let outbox = f.open();
    assert_eq!(outbox.status().unwrap().next_sequence, 31);
    outbox.check_sequence().unwrap();
}

#[test]
fn concurrent_processes_never_claim_the_same_record() {
    let f = Fixture::new();
    let outbox = f.open();
    let total = 240;
    let ids: BTreeSet<i64> = (0..total).map(|n| outbox.enqueue_signed(&format!("rec-{n}"), &signed(n)).unwrap().outbox_id).collect();
    let go = f.dir().join("go");
    let children: Vec<Child> = (0..4).map(|_| spawn_child_after("claim", &f.path, &f.hub, "7", Some(&go))).collect();
    std::fs::write(&go, b"").unwrap();
    let mut claimed = Vec::new();
    let mut per_child = Vec::new();
    for child in children {
        let lines = child_lines(child, "CLAIMED ");
        per_child.push(lines.len());
        claimed.extend(lines.into_iter().map(|l| l[0].parse::<i64>().unwrap()));
    }
    let unique: BTreeSet<i64> = claimed.iter().copied().collect();
    assert_eq!(unique.len(), claimed.len(), "a record was claimed twice: {per_child:?}");
    assert_eq!(unique, ids, "every record claimed once");
    let status = outbox.status().unwrap();
    assert_eq!((status.queued, status.in_flight), (0, total));
    assert!(outbox.list(Some(State::InFlight), usize::MAX).unwrap().iter().all(|r| r.attempts == 1));
    eprintln!("records claimed per process: {per_child:?}");
}

#[test]
fn sigkill_right_after_enqueue_returned_loses_nothing() {
    let f = Fixture::new();
    drop(f.open());
    let mut acknowledged: Vec<(String, u64)> = Vec::new();
    // 20 runs, each killed after a pseudo-random number (1 to 12) of acknowledged enqueues,
    // at whatever point of the next enqueue the child has reached.
    let mut seed: u64 = 0x5eed_0f0d_dba1;
    for round in 0..20 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let wanted = 1 + (seed >> 33) as usize % 12;
        let mut child = spawn_child("enqueue-forever", &f.path, &f.hub, &format!("k{round}"));
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let mut seen = 0;
        while seen < wanted {
            line.clear();
            assert!(reader.read_line(&mut line).unwrap() > 0, "the child ended early");
            if let Some(rest) = after(line.trim_end(), "RECEIPT ") {
                let parts: Vec<&str> = rest.split(' ').collect();
                acknowledged.push((parts[0].to_owned(), parts[1].parse().unwrap()));
                seen += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL: no destructor, no checkpoint, no clean close
        child.wait().unwrap();
        // Every receipt the child printed is on disk, with its number, after the kill.
        let outbox = Outbox::open_existing(&f.path).unwrap();
        for (record_id, sequence) in &acknowledged {
            let info = outbox.find(record_id).unwrap();
            assert_eq!(info.sequence, *sequence);
            assert_eq!(info.state, State::Queued);
        }
        outbox.check_sequence().unwrap();
    }
    let outbox = f.open();
    let ledger = outbox.sealed_ledger(1, usize::MAX).unwrap();
    assert!(ledger.len() >= acknowledged.len());
    assert_eq!(ledger.last().unwrap().sequence, ledger.len() as u64);
}

/// Issue 11 point 6: a read-only open creates, initialises, upgrades and writes nothing. A
/// missing file stays missing, an empty file empty, an older schema is refused (with how to
/// upgrade) and left as it was, byte for byte and with its modification time; a current file
/// is read, and every write through the read-only handle is refused.
#[test]
fn open_read_only_changes_no_file() {
    let f = Fixture::new();
    let snapshot = |path: &Path| (std::fs::read(path).unwrap(), std::fs::metadata(path).unwrap().modified().unwrap());

    let missing = f.dir().join("missing.sqlite");
    assert_eq!(code(Outbox::open_read_only(&missing)), MEDSEAL_OUTBOX_IO);
    assert!(!missing.exists(), "a read-only open created the file");

    let empty = f.dir().join("empty.sqlite");
    std::fs::write(&empty, b"").unwrap();
    let e = Outbox::open_read_only(&empty).unwrap_err();
    assert_eq!(e.code(), MEDSEAL_OUTBOX_SCHEMA);
    assert!(e.message().contains("empty"), "{e}");
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0, "the empty file became an outbox");

    let foreign = f.dir().join("foreign.sqlite");
    rusqlite::Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE patients (name TEXT)").unwrap();
    let before = snapshot(&foreign);
    assert_eq!(code(Outbox::open_read_only(&foreign)), MEDSEAL_OUTBOX_SCHEMA);
    assert_eq!(snapshot(&foreign), before);

    // A current outbox with a record: read, and writes refused.
    let outbox = f.open();
    outbox.enqueue_signed("rec-1", &signed(1)).unwrap();
    drop(outbox);
    let before = snapshot(&f.path);
    std::thread::sleep(std::time::Duration::from_millis(20)); // a write would show in the mtime
    let reader = Outbox::open_read_only(&f.path).unwrap();
    assert_eq!(reader.source(), SOURCE);
    assert_eq!(reader.status().unwrap().queued, 1);
    assert_eq!(reader.list(None, 10).unwrap().len(), 1);
    reader.check_sequence().unwrap();
    assert!(reader.tree_heads().unwrap().is_empty());
    let outbox_id = reader.list(None, 1).unwrap()[0].outbox_id;
    assert!(reader.withdraw(outbox_id, "a write through a read-only handle").is_err(), "a read-only outbox took a write");
    drop(reader);
    assert_eq!(snapshot(&f.path), before, "a read-only open changed the outbox");

    // An older schema (version 2) is refused and left as it is; a writing open upgrades it.
    let raw = rusqlite::Connection::open(&f.path).unwrap();
    raw.execute_batch(
        "DROP TRIGGER records_withdrawal_unchanged; ALTER TABLE records DROP COLUMN withdrawal_envelope;
         ALTER TABLE records DROP COLUMN withdrawal_digest; PRAGMA user_version = 2;",
    )
    .unwrap();
    drop(raw);
    let before = snapshot(&f.path);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let e = Outbox::open_read_only(&f.path).unwrap_err();
    assert_eq!(e.code(), MEDSEAL_OUTBOX_SCHEMA);
    assert!(e.message().contains("older") && e.message().contains("upgrades it in place"), "{e}");
    assert_eq!(snapshot(&f.path), before, "a read-only open upgraded the outbox");
    drop(Outbox::open_existing(&f.path).unwrap());
    assert_eq!(Outbox::open_read_only(&f.path).unwrap().status().unwrap().queued, 1);
}
