//! Issue 10, the pilot as a hostile participant or a careless integrator would try it: each
//! test is an attack the hub must refuse, over real mutual TLS to a running hub.
//! (Repeated sequences are in submit.rs, enrolment in pki.rs.)

mod common;

use std::sync::Arc;

use common::{assert_rejected, status, Pilot, PROTOBUF};
use medseal::wire::{RecordStatus, SubmitBatch};
use medseal::{Clock, Key, Signer};
use prost::Message;

fn now() -> i64 {
    medseal::utc::now()
}

/// A's signing key, signing with `sigT` = `at` (a hospital whose clock, or whose intent, is off).
fn signer_at(pilot: &Pilot, at: i64) -> Signer {
    let key = Key::import(&std::fs::read(pilot.a.dir.join("signing.key")).unwrap(), None).unwrap();
    Signer::new(Arc::new(key), medseal::SignOptions { clock: Clock::from_fn(move || at), ..Default::default() }).unwrap()
}

#[test]
fn record_ids_live_in_each_facility_namespace() {
    // Point 1: B taking an id first neither blocks A's record of that id nor tells B that A has it.
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let b_first = pilot.b.record("79001-2025-000042", 1);
    assert_eq!(status(&pilot.b.submit(&url, std::slice::from_ref(&b_first))[0]), RecordStatus::Accepted);
    let a_own = pilot.a.record("79001-2025-000042", 1);
    let results = pilot.a.submit(&url, std::slice::from_ref(&a_own));
    assert_eq!(status(&results[0]), RecordStatus::Accepted, "{:?}", results[0]);
    let (a_receipt, _) = pilot.verify_receipt(&results[0], &a_own);
    assert_eq!((a_receipt.source.as_str(), a_receipt.ledger_index), ("hospital-a", 1));

    // Idempotency is per facility: each gets its own receipt back.
    let again = pilot.a.submit(&url, std::slice::from_ref(&a_own));
    assert_eq!(status(&again[0]), RecordStatus::Duplicate);
    assert_eq!(again[0].receipt, results[0].receipt);
    let b_again = pilot.b.submit(&url, std::slice::from_ref(&b_first));
    assert_eq!(status(&b_again[0]), RecordStatus::Duplicate);
    assert_eq!(pilot.verify_receipt(&b_again[0], &b_first).0.source, "hospital-b");
    // Reuse inside one's own namespace is still refused.
    let altered = pilot.a.record_with("79001-2025-000042", 2, "hospital-a", &pilot.a.signer, &pilot.a.hub_recipient, "amended");
    assert_rejected(&pilot.a.submit(&url, &[altered])[0], "ID_REUSED");

    // Both are in the ledger; each facility lists only its own, the auditor both.
    let (_, body) = pilot.get_as_auditor("/v1/ledger/entries?start=0");
    let all: Vec<medseal::ledger::LedgerEntry> =
        body.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| medseal::ledger::LedgerEntry::from_json(l).unwrap()).collect();
    assert_eq!(
        all.iter().map(|e| (e.source.as_str(), e.record_id.as_str())).collect::<Vec<_>>(),
        [("hospital-b", "79001-2025-000042"), ("hospital-a", "79001-2025-000042")]
    );
    let (_, mine) = pilot.get("/v1/ledger/entries?start=0");
    assert_eq!(String::from_utf8(mine).unwrap().lines().count(), 1);
    // The offline audit agrees: two records, one per facility, nothing twice.
    let audit = medseal_hub::audit(&pilot.hub_dir).unwrap();
    assert_eq!((audit.entries.len(), audit.sources["hospital-a"].records, audit.sources["hospital-b"].records), (2, 1, 1));
}

#[test]
fn an_auditor_reads_everything_and_submits_nothing() {
    let pilot = Pilot::new();
    let record = pilot.a.record("aud-1", 1);
    let body = SubmitBatch { records: vec![record] }.encode_to_vec();
    let mut response = pilot.auditor.post(pilot.url("/v1/records")).header("content-type", PROTOBUF).send(&body[..]).unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let answer: serde_json::Value = serde_json::from_slice(&response.body_mut().read_to_vec().unwrap()).unwrap();
    assert!(answer["reason"].as_str().unwrap().contains("auditor"), "{answer}");
    assert_eq!(pilot.tree_head().0.tree_size, 0);
}

#[test]
fn backdated_and_future_signing_times_are_refused() {
    // Point 3: sigT is judged against the time the hub receives the record.
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let day = 86_400;
    let at =
        |t: i64, id: &str, seq: u64| pilot.a.record_with(id, seq, "hospital-a", &signer_at(&pilot, t), &pilot.a.hub_recipient, "final");
    let y2000 = 946_684_800;
    let y2100 = 4_102_444_800;
    let records =
        [at(y2000, "t-2000", 1), at(y2100, "t-2100", 2), at(now() + 3600, "t-hour-ahead", 3), at(now() - 91 * day, "t-91-days", 4)];
    let results = pilot.a.submit(&url, &records);
    for result in &results {
        assert_rejected(result, "SIGNING_TIME_REFUSED");
    }
    assert!(results[1].reason.contains("future"), "{}", results[1].reason);
    assert!(results[3].reason.contains("90 days"), "{}", results[3].reason);
    // Inside the window: a queue held through a 60-day outage, and a clock 2 minutes ahead.
    let results = pilot.a.submit(&url, &[at(now() - 60 * day, "t-60-days", 5), at(now() + 120, "t-skew", 6)]);
    assert_eq!(status(&results[0]), RecordStatus::Accepted, "{:?}", results[0]);
    assert_eq!(status(&results[1]), RecordStatus::Accepted, "{:?}", results[1]);
}

#[test]
fn the_acceptance_window_is_configurable() {
    let pilot = Pilot::with_config(|config| config.acceptance.max_record_age_days = 400);
    let url = pilot.url("/v1/records");
    let old = pilot.a.record_with("t-300-days", 1, "hospital-a", &signer_at(&pilot, now() - 300 * 86_400), &pilot.a.hub_recipient, "final");
    assert_eq!(status(&pilot.a.submit(&url, &[old])[0]), RecordStatus::Accepted);
}

#[test]
fn a_revoked_signing_key_gets_nothing_in_after_its_revocation() {
    // Point 9: revocation by time of receipt; the ledger keeps what came before.
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let before = pilot.a.record("rk-1", 1);
    assert_eq!(status(&pilot.a.submit(&url, std::slice::from_ref(&before))[0]), RecordStatus::Accepted);
    let kid = pilot.a.signer.key().kid().to_owned();
    // A revocation set for tomorrow changes nothing today (queued records still arrive).
    medseal_hub::revoke(&pilot.hub_dir, &medseal_hub::Revocable::SigningKey(kid.clone()), now() + 86_400, "rollover").unwrap();
    assert_eq!(status(&pilot.a.submit(&url, &[pilot.a.record("rk-2", 2)])[0]), RecordStatus::Accepted);
    // Revoked from a second ago: the running hub sees it at the next batch.
    medseal_hub::revoke(&pilot.hub_dir, &medseal_hub::Revocable::SigningKey(kid.clone()), now() - 1, "stolen laptop").unwrap();
    let results = pilot.a.submit(&url, &[pilot.a.record("rk-3", 3), before.clone()]);
    assert_rejected(&results[0], "KEY_REVOKED");
    assert!(results[0].reason.contains(&kid), "{}", results[0].reason);
    // Already in the ledger: still a duplicate with its receipt (the ledger is append-only).
    assert_eq!(status(&results[1]), RecordStatus::Duplicate);
    // B is untouched; an unknown kid is an error, not a silent no-op.
    assert_eq!(status(&pilot.b.submit(&url, &[pilot.b.record("rk-b", 1)])[0]), RecordStatus::Accepted);
    let error = medseal_hub::revoke(&pilot.hub_dir, &medseal_hub::Revocable::SigningKey("no-such-kid".into()), now(), "").unwrap_err();
    assert!(error.to_string().contains("no enrolled signing key"), "{error}");
}

#[test]
fn a_revoked_client_certificate_fails_the_handshake() {
    let pilot = Pilot::new();
    let fingerprint = medseal_hub::pki::fingerprint_pem(&std::fs::read_to_string(pilot.a.dir.join("client.pem")).unwrap()).unwrap();
    // Effective tomorrow: still served.
    medseal_hub::revoke(&pilot.hub_dir, &medseal_hub::Revocable::Certificate(fingerprint.to_uppercase()), now() + 86_400, "").unwrap();
    assert_eq!(pilot.get("/v1/tree-head").0, 200);
    // Effective now. A connection opened before is refused at its next request (403)...
    medseal_hub::revoke(&pilot.hub_dir, &medseal_hub::Revocable::Certificate(fingerprint), now() - 1, "key compromise").unwrap();
    let (code, body) = pilot.get("/v1/tree-head");
    assert_eq!(code, 403, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("CERTIFICATE_REVOKED"));
    // ...and a new connection fails the handshake (no HTTP status at all); B is still served.
    let fresh = common::agent(&pilot.a.dir.join("hub-ca.pem"), Some((&pilot.a.dir.join("client.pem"), &pilot.a.dir.join("client.key"))));
    let error = fresh.get(pilot.url("/v1/tree-head")).call().unwrap_err();
    assert!(!matches!(error, ureq::Error::StatusCode(_)), "{error}");
    assert!(format!("{error:?}").contains("Revoked") || format!("{error:?}").contains("revoked"), "{error:?}");
    let mut response = pilot.b.agent.get(pilot.url("/v1/tree-head")).call().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let _ = response.body_mut().read_to_vec();
    // Malformed and unknown fingerprints are refused with a reason.
    let revoke = |f: &str| medseal_hub::revoke(&pilot.hub_dir, &medseal_hub::Revocable::Certificate(f.into()), now(), "").unwrap_err();
    assert!(revoke("abc").to_string().contains("64 hex digits"));
    assert!(revoke(&"0".repeat(64)).to_string().contains("no client certificate"));
}

/// Trust list number `sequence` holding A's key with the window `not_before..=not_after` (a
/// changed list has a new number: the hub keeps one list per number for the audit).
fn trust_list_with_a(pilot: &Pilot, sequence: u64, not_before: i64, not_after: i64) {
    common::configure_trust_list(pilot, vec![common::record_signing_entry(&pilot.a, (not_before, not_after))], sequence, now() + 86_400);
}

#[test]
fn a_retired_trust_list_key_cannot_backdate_records_in() {
    // Point 3: the key's window ended 100 h ago; a record signed today with a sigT inside the old
    // window verifies as a signature, but the hub received it after the end plus the 72 h grace.
    let mut pilot = Pilot::new();
    let hour = 3600;
    let end = now() - 100 * hour;
    trust_list_with_a(&pilot, 1, end - 30 * 86_400, end);
    pilot.restart();
    let url = pilot.url("/v1/records");
    let backdated = pilot.a.record_with("ret-1", 1, "hospital-a", &signer_at(&pilot, end - hour), &pilot.a.hub_recipient, "final");
    let results = pilot.a.submit(&url, &[backdated]);
    assert_rejected(&results[0], "KEY_RETIRED");
    assert!(results[0].reason.contains("grace"), "{}", results[0].reason);
    // Signed now, it is outside the key's window: refused by the signature check itself.
    assert_rejected(&pilot.a.submit(&url, &[pilot.a.record("ret-2", 2)])[0], "SIGNATURE_INVALID");

    // Retired 10 h ago: a record signed before the end and queued still gets in (grace).
    let end = now() - 10 * hour;
    trust_list_with_a(&pilot, 2, end - 30 * 86_400, end);
    pilot.restart();
    let url = pilot.url("/v1/records");
    let queued = pilot.a.record_with("ret-3", 3, "hospital-a", &signer_at(&pilot, end - hour), &pilot.a.hub_recipient, "final");
    assert_eq!(status(&pilot.a.submit(&url, &[queued])[0]), RecordStatus::Accepted);
}

#[test]
fn a_version_1_database_is_upgraded_in_place() {
    // A hub database written before ids were per facility: record ids global, no roles, no
    // revocations. The hub opens it, upgrades it in one transaction, and nothing is lost.
    let mut pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let record = pilot.a.record("v1-1", 1);
    assert_eq!(status(&pilot.a.submit(&url, std::slice::from_ref(&record))[0]), RecordStatus::Accepted);
    let head_before = pilot.tree_head().0;
    pilot.hub.take().unwrap().shutdown().unwrap();
    let db = rusqlite::Connection::open(pilot.hub_dir.join("hub.sqlite")).unwrap();
    db.execute_batch(
        "ALTER TABLE records RENAME TO records_v2;
         CREATE TABLE records (record_id TEXT PRIMARY KEY, source TEXT NOT NULL, sequence INTEGER NOT NULL, created TEXT NOT NULL,
             content_type TEXT NOT NULL, digest BLOB NOT NULL, envelope BLOB NOT NULL, received INTEGER NOT NULL,
             ledger_index INTEGER NOT NULL UNIQUE REFERENCES ledger(idx), receipt TEXT NOT NULL, receipt_tree_size INTEGER NOT NULL);
         INSERT INTO records SELECT record_id, source, sequence, created, content_type, digest, envelope, received, ledger_index, receipt, receipt_tree_size FROM records_v2;
         DROP TABLE records_v2;
         CREATE INDEX records_by_source ON records(source, sequence);
         DROP TRIGGER registry_facilities_insert; DROP TRIGGER registry_facilities_update; DROP TRIGGER registry_facilities_delete;
         DROP TRIGGER registry_keys_insert; DROP TRIGGER registry_keys_update; DROP TRIGGER registry_keys_delete;
         DROP TABLE client_certificates; DROP TABLE registry;
         ALTER TABLE facilities DROP COLUMN role;
         ALTER TABLE facility_keys DROP COLUMN revoked; ALTER TABLE facility_keys DROP COLUMN revoked_reason;
         DELETE FROM facilities WHERE facility = 'city-auditor';
         DROP TABLE trust_lists; DROP TABLE trust_list_keys;
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(db);
    pilot.hub = Some(medseal_hub::start(&pilot.hub_dir, "127.0.0.1:0".parse().unwrap()).unwrap());
    let url = pilot.url("/v1/records");
    assert_eq!(pilot.tree_head().0, head_before);
    let db = rusqlite::Connection::open(pilot.hub_dir.join("hub.sqlite")).unwrap();
    assert_eq!(db.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).unwrap(), 3);
    // The record is still a duplicate with its receipt; B may now use the same id.
    let again = pilot.a.submit(&url, std::slice::from_ref(&record));
    assert_eq!(status(&again[0]), RecordStatus::Duplicate);
    pilot.verify_receipt(&again[0], &record);
    assert_eq!(status(&pilot.b.submit(&url, &[pilot.b.record("v1-1", 1)])[0]), RecordStatus::Accepted);
    // The facility's certificate was recorded by the upgrade, so it can be revoked.
    let fingerprint = medseal_hub::pki::fingerprint_pem(&std::fs::read_to_string(pilot.a.dir.join("client.pem")).unwrap()).unwrap();
    assert_eq!(
        medseal_hub::revoke(&pilot.hub_dir, &medseal_hub::Revocable::Certificate(fingerprint), now() + 60, "").unwrap(),
        "hospital-a"
    );
}
