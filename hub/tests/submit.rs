//! `POST /v1/records` over real mutual TLS: every outcome of docs/SUBMISSION.md.

mod common;

use std::sync::Arc;

use common::{assert_rejected, status, submitted, Facility, Pilot, PROTOBUF};
use medseal::record::{withdrawal_sign_options, Withdrawal};
use medseal::wire::{RecordStatus, SubmitBatch, SubmittedRecord};
use medseal::{Aead, Algorithm, Envelope, Key, Meta, RecipientKey, SignOptions, Signer};
use prost::Message;

#[test]
fn accepted_records_get_receipts_that_verify() {
    let pilot = Pilot::new();
    let records: Vec<SubmittedRecord> = (1..=3).map(|i| pilot.a.record(&format!("a-{i}"), i)).collect();
    let results = pilot.a.submit(&pilot.url("/v1/records"), &records);
    for (i, (result, record)) in results.iter().zip(&records).enumerate() {
        assert_eq!(status(result), RecordStatus::Accepted, "{result:?}");
        let (receipt, head) = pilot.verify_receipt(result, record);
        assert_eq!(receipt.source, "hospital-a");
        assert_eq!(receipt.sequence, i as u64 + 1);
        assert_eq!(receipt.ledger_index, i as u64);
        assert_eq!(receipt.tree_size, 3);
        assert_eq!(head.tree_size, 3);
    }
    // The latest tree head is the batch's.
    let (head, _) = pilot.tree_head();
    assert_eq!(head.tree_size, 3);

    // The next batch continues the ledger.
    let more = vec![pilot.b.record("b-1", 1)];
    let results = pilot.b.submit(&pilot.url("/v1/records"), &more);
    let (receipt, _) = pilot.verify_receipt(&results[0], &more[0]);
    assert_eq!((receipt.ledger_index, receipt.tree_size, receipt.source.as_str()), (3, 4, "hospital-b"));
}

#[test]
fn a_duplicate_gets_the_original_receipt() {
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let record = pilot.a.record("dup-1", 1);
    let first = pilot.a.submit(&url, std::slice::from_ref(&record));
    assert_eq!(status(&first[0]), RecordStatus::Accepted);
    // The ledger grows in between.
    pilot.a.submit(&url, &[pilot.a.record("other-2", 2), pilot.a.record("other-3", 3)]);

    let again = pilot.a.submit(&url, std::slice::from_ref(&record));
    assert_eq!(status(&again[0]), RecordStatus::Duplicate, "{:?}", again[0]);
    assert_eq!(again[0].receipt, first[0].receipt, "the original receipt");
    let (receipt, head) = pilot.verify_receipt(&again[0], &record);
    assert_eq!((receipt.ledger_index, receipt.tree_size, head.tree_size), (0, 1, 1));
    assert_eq!(pilot.tree_head().0.tree_size, 3, "a duplicate adds nothing");

    // Twice in one batch: the second is a duplicate of the first, with its receipt.
    let record = pilot.a.record("dup-4", 4);
    let results = pilot.a.submit(&url, &[record.clone(), record.clone()]);
    assert_eq!(status(&results[0]), RecordStatus::Accepted);
    assert_eq!(status(&results[1]), RecordStatus::Duplicate);
    assert_eq!(results[0].receipt, results[1].receipt);
    pilot.verify_receipt(&results[1], &record);
    assert_eq!(pilot.tree_head().0.tree_size, 4);
}

#[test]
fn an_id_reused_with_another_digest_is_rejected() {
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    pilot.a.submit(&url, &[pilot.a.record("reuse-1", 1)]);
    let other = pilot.a.record_with("reuse-1", 1, "hospital-a", &pilot.a.signer, &pilot.a.hub_recipient, "amended");
    assert_rejected(&pilot.a.submit(&url, &[other])[0], "ID_REUSED");
    // In one batch too.
    let first = pilot.a.record("reuse-2", 2);
    let second = pilot.a.record_with("reuse-2", 2, "hospital-a", &pilot.a.signer, &pilot.a.hub_recipient, "amended");
    let results = pilot.a.submit(&url, &[first, second]);
    assert_eq!(status(&results[0]), RecordStatus::Accepted);
    assert_rejected(&results[1], "ID_REUSED");
}

#[test]
fn a_sequence_already_held_is_refused() {
    // Two outboxes of one facility both numbering from 1 (issue 10, point 2): the second record
    // with a sequence the facility already used is refused, and the ledger stays auditable.
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let first = pilot.a.record("seq-first", 1);
    assert_eq!(status(&pilot.a.submit(&url, std::slice::from_ref(&first))[0]), RecordStatus::Accepted);
    let results = pilot.a.submit(&url, &[pilot.a.record("seq-second-outbox", 1)]);
    assert_rejected(&results[0], "SEQUENCE_REUSED");
    assert!(results[0].reason.contains("sequence 1"), "{}", results[0].reason);
    // Sent again, the accepted record is still a duplicate (same id and digest), not a repeat.
    let again = pilot.a.submit(&url, std::slice::from_ref(&first));
    assert_eq!(status(&again[0]), RecordStatus::Duplicate);
    pilot.verify_receipt(&again[0], &first);
    // Within one batch too; the record after the refused one is accepted.
    let results = pilot.a.submit(&url, &[pilot.a.record("seq-2a", 2), pilot.a.record("seq-2b", 2), pilot.a.record("seq-3", 3)]);
    assert_eq!(status(&results[0]), RecordStatus::Accepted);
    assert_rejected(&results[1], "SEQUENCE_REUSED");
    assert_eq!(status(&results[2]), RecordStatus::Accepted);
    // Sequences are per facility: B's 1 is its own.
    assert_eq!(status(&pilot.b.submit(&url, &[pilot.b.record("seq-b-1", 1)])[0]), RecordStatus::Accepted);
    assert_eq!(pilot.tree_head().0.tree_size, 4);
    let audit = medseal_hub::audit(&pilot.hub_dir).unwrap();
    assert_eq!(audit.entries.len(), 4);
    assert_eq!((audit.sources["hospital-a"].records, audit.sources["hospital-a"].highest), (3, 3));
    assert!(audit.sources["hospital-a"].gaps.is_empty());
    // SQLite refuses a repeat as well, should the hub's own check ever be bypassed.
    let db = rusqlite::Connection::open(pilot.hub_dir.join("hub.sqlite")).unwrap();
    let repeat = db.execute("UPDATE records SET sequence = 1 WHERE record_id = 'seq-2a'", []);
    assert!(repeat.unwrap_err().to_string().contains("UNIQUE"), "the (source, sequence) index is missing");
}

#[test]
fn a_database_that_already_holds_a_repeat_still_opens() {
    // Written before repeats were refused: the unique index cannot be built, the hub still
    // starts (its own check keeps new repeats out) and warns.
    let mut pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    pilot.a.submit(&url, &[pilot.a.record("old-1", 1), pilot.a.record("old-2", 2)]);
    let db = rusqlite::Connection::open(pilot.hub_dir.join("hub.sqlite")).unwrap();
    db.execute_batch("DROP INDEX records_unique_sequence; UPDATE records SET sequence = 1 WHERE record_id = 'old-2';").unwrap();
    drop(db);
    pilot.restart();
    let url = pilot.url("/v1/records");
    assert_rejected(&pilot.a.submit(&url, &[pilot.a.record("new-1", 1)])[0], "SEQUENCE_REUSED");
    assert_eq!(status(&pilot.a.submit(&url, &[pilot.a.record("new-3", 3)])[0]), RecordStatus::Accepted);
}

#[test]
fn every_rejection_code() {
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let a = &pilot.a;

    // Facility A sends a record whose source is B (sealed and signed properly).
    let source_b = a.record_with("r-source", 1, "hospital-b", &pilot.b.signer, &a.hub_recipient, "final");
    // A digest that is not the envelope's.
    let mut bad_digest = a.record("r-digest", 2);
    bad_digest.digest[0] ^= 1;
    let mut short_digest = a.record("r-digest-short", 3);
    short_digest.digest.truncate(5);
    // Signed by a key nobody enrolled.
    let stranger = Signer::new(Arc::new(Key::generate(Algorithm::EdDSA).unwrap()), SignOptions::default()).unwrap();
    let unsigned = a.record_with("r-signature", 4, "hospital-a", &stranger, &a.hub_recipient, "final");
    // Signed by B's key, sent by A with source A.
    let b_signed = a.record_with("r-signer", 5, "hospital-a", &pilot.b.signer, &a.hub_recipient, "final");
    // Sealed to someone else.
    let elsewhere = RecipientKey::generate().unwrap();
    let not_for_hub = a.record_with("r-recipient", 6, "hospital-a", &a.signer, &elsewhere, "final");
    // Sealed to the hub, then altered (and the digest made to match).
    let altered = {
        let record = a.record("r-altered", 7);
        let mut envelope = medseal::Envelope::from_protobuf(&record.envelope).unwrap();
        envelope.ct[3] ^= 0x40;
        submitted("r-altered", envelope.to_protobuf().unwrap())
    };
    // The batch's record id is not the envelope's.
    let mut wrong_id = a.record("r-id", 8);
    wrong_id.record_id = "r-id-other".to_owned();
    // Not an envelope at all (digest right).
    let garbage = submitted("r-garbage", b"\x0a\x03abc not an envelope".to_vec());
    // A JWS from a trusted key that is not a medseal record (no typ medseal+jws).
    let not_a_record = {
        let options = SignOptions { typ: Some("something-else+jws".to_owned()), ..SignOptions::default() };
        let signer =
            Signer::new(Arc::new(Key::import(&std::fs::read(a.dir.join("signing.key")).unwrap(), None).unwrap()), options).unwrap();
        a.record_with("r-typ", 9, "hospital-a", &signer, &a.hub_recipient, "final")
    };
    let ok = a.record("r-ok", 10);

    let batch = [source_b, bad_digest, short_digest, unsigned, b_signed, not_for_hub, altered, wrong_id, garbage, not_a_record, ok.clone()];
    let results = a.submit(&url, &batch);
    let expected = [
        "SOURCE_MISMATCH",
        "DIGEST_MISMATCH",
        "DIGEST_MISMATCH",
        "SIGNATURE_INVALID",
        "SIGNER_MISMATCH",
        "NOT_FOR_HUB",
        "DECRYPT_FAILED",
        "MALFORMED",
        "MALFORMED",
        "MALFORMED",
    ];
    for (result, code) in results.iter().zip(expected) {
        assert_rejected(result, code);
        assert!(!result.reason.contains("37.2"), "no patient data in reasons: {}", result.reason);
    }
    // The good record in the same batch is accepted, and is the only ledger entry.
    assert_eq!(status(&results[10]), RecordStatus::Accepted);
    let (receipt, _) = pilot.verify_receipt(&results[10], &ok);
    assert_eq!((receipt.ledger_index, receipt.tree_size), (0, 1));
    assert_eq!(pilot.tree_head().0.tree_size, 1);

    // Rejected records were not stored: the same ids can be sent correctly afterwards.
    let fixed = a.record("r-signature", 4);
    assert_eq!(status(&a.submit(&url, &[fixed])[0]), RecordStatus::Accepted);
}

#[test]
fn a_late_rejection_does_not_hide_a_duplicate() {
    // A record accepted before is a duplicate even if it would fail a later check now: here
    // facility A's signing key is withdrawn from the hub's registry after the record was
    // accepted (the running hub reloads its registry when it changes).
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let record = pilot.a.record("late-1", 1);
    pilot.a.submit(&url, std::slice::from_ref(&record));
    let db = rusqlite::Connection::open(pilot.hub_dir.join("hub.sqlite")).unwrap();
    db.execute("DELETE FROM facility_keys WHERE facility = 'hospital-a'", []).unwrap();
    drop(db);
    let results = pilot.a.submit(&url, &[record.clone(), pilot.a.record("late-2", 2)]);
    assert_eq!(status(&results[0]), RecordStatus::Duplicate, "{:?}", results[0]);
    pilot.verify_receipt(&results[0], &record);
    assert_rejected(&results[1], "SIGNATURE_INVALID");
    // B cannot probe A's records: A's envelope sent by B is a source mismatch first.
    assert_rejected(&pilot.b.submit(&url, &[record])[0], "SOURCE_MISMATCH");
}

#[test]
fn the_json_mapping_is_accepted_and_answered_in_json() {
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let records = vec![pilot.a.record("json-1", 1), pilot.a.record("json-2", 2)];
    let body = medseal_hub::json::batch_to_json(&SubmitBatch { records: records.clone() });
    let (status_code, _, answer) = pilot.a.post_raw(&url, "application/json; charset=utf-8", &body);
    assert_eq!(status_code, 200, "{}", String::from_utf8_lossy(&answer));
    let value: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(value["results"][0]["status"], "ACCEPTED");
    assert_eq!(value["results"][0]["inclusion"]["tree_size"], 2);
    assert!(value["results"][0].get("code").is_none(), "default fields are left out");
    let response = medseal_hub::json::response_from_json(&answer).unwrap();
    for (result, record) in response.results.iter().zip(&records) {
        pilot.verify_receipt(result, record);
    }
    // A rejection in JSON.
    let mut bad = pilot.a.record("json-3", 3);
    bad.digest[0] ^= 1;
    let body = medseal_hub::json::batch_to_json(&SubmitBatch { records: vec![bad] });
    let (_, _, answer) = pilot.a.post_raw(&url, "application/json", &body);
    let value: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(value["results"][0]["status"], "REJECTED");
    assert_eq!(value["results"][0]["code"], "DIGEST_MISMATCH");
    // Bad JSON, unknown members: 400 (bad base64 is one record's MALFORMED: tests/api_errors.rs).
    for body in [&b"{"[..], br#"{"records":[],"extra":1}"#] {
        let (status_code, _, answer) = pilot.a.post_raw(&url, "application/json", body);
        assert_eq!(status_code, 400, "{}", String::from_utf8_lossy(&answer));
    }
}

fn error_body(body: &[u8]) -> (String, String) {
    let value: serde_json::Value =
        serde_json::from_slice(body).unwrap_or_else(|_| panic!("JSON error body: {}", String::from_utf8_lossy(body)));
    (value["code"].as_str().unwrap().to_owned(), value["reason"].as_str().unwrap().to_owned())
}

#[test]
fn undecodable_oversized_and_unsupported_batches() {
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let a = &pilot.a;

    let (status_code, _, body) = a.post_raw(&url, PROTOBUF, b"\xff\xff\xff garbage");
    assert_eq!(status_code, 400);
    assert_eq!(error_body(&body).0, "MALFORMED_BATCH");

    let (status_code, _, body) = a.post_raw(&url, "text/plain", b"hello");
    assert_eq!(status_code, 415);
    assert_eq!(error_body(&body).0, "UNSUPPORTED_MEDIA_TYPE");

    // More than 1000 records (tiny ones: the count is checked before any record).
    let tiny = SubmittedRecord { record_id: "x".into(), envelope: vec![1], digest: vec![0; 32] };
    let batch = SubmitBatch { records: vec![tiny; 1001] };
    let (status_code, _, body) = a.post_raw(&url, PROTOBUF, &batch.encode_to_vec());
    assert_eq!(status_code, 413);
    assert_eq!(error_body(&body).0, "TOO_MANY_RECORDS");

    // More than 64 MiB.
    let big = SubmittedRecord { record_id: "big".into(), envelope: vec![0; (64 << 20) + 1], digest: vec![0; 32] };
    let (status_code, _, body) = a.post_raw(&url, PROTOBUF, &SubmitBatch { records: vec![big] }.encode_to_vec());
    assert_eq!(status_code, 413);
    assert_eq!(error_body(&body).0, "TOO_LARGE");

    // An empty batch is answered with no results; nothing changes.
    assert!(a.submit(&url, &[]).is_empty());
    assert_eq!(pilot.tree_head().0.tree_size, 0);

    // Unknown paths and methods: JSON errors too.
    let (status_code, body) = pilot.get("/v1/nothing");
    assert_eq!((status_code, error_body(&body).0.as_str()), (404, "NOT_FOUND"));
    let (status_code, body) = pilot.get("/v1/records");
    assert_eq!((status_code, error_body(&body).0.as_str()), (405, "METHOD_NOT_ALLOWED"));
}

#[test]
fn overload_is_503_with_retry_after() {
    let pilot = Pilot::with_config(|c| c.max_concurrent_batches = 0);
    let batch = SubmitBatch { records: vec![pilot.a.record("o-1", 1)] };
    let (status_code, retry, body) = pilot.a.post_raw(&pilot.url("/v1/records"), PROTOBUF, &batch.encode_to_vec());
    assert_eq!(status_code, 503);
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(error_body(&body).0, "OVERLOADED");
    // Reads are not batches.
    assert_eq!(pilot.get("/v1/tree-head").0, 200);
}

#[test]
fn a_certificate_from_the_hub_ca_for_a_facility_not_enrolled_is_403() {
    let pilot = Pilot::new();
    // A client certificate from the hub's CA, issued by hand without enrolling.
    let dir = pilot.temp.path().join("x");
    common::issue_client_cert(&pilot.hub_dir, "hospital-x", &dir, |_| {});
    let agent = common::agent(&pilot.a.dir.join("hub-ca.pem"), Some((&dir.join("client.pem"), &dir.join("client.key"))));

    let record = pilot.a.record_with("x-1", 1, "hospital-x", &pilot.a.signer, &pilot.a.hub_recipient, "final");
    let mut response = agent
        .post(pilot.url("/v1/records"))
        .header("content-type", PROTOBUF)
        .send(&SubmitBatch { records: vec![record] }.encode_to_vec()[..])
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(error_body(&response.body_mut().read_to_vec().unwrap()).0, "NOT_ENROLLED");

    // Enrolled while the hub runs: picked up at the next batch.
    let x = Facility::enroll(&pilot.hub_dir, "hospital-x", &pilot.temp.path().join("x-enrolled"));
    let record = x.record("x-2", 1);
    assert_eq!(status(&x.submit(&pilot.url("/v1/records"), &[record])[0]), RecordStatus::Accepted);
}

#[test]
fn meta_is_checked_against_the_batch() {
    // The envelope's meta must carry the batch's record id; an envelope is bound to its meta.
    let pilot = Pilot::new();
    let record = pilot.a.record("m-1", 1);
    let mut envelope = medseal::Envelope::from_protobuf(&record.envelope).unwrap();
    envelope.meta = Meta { record_id: "m-2".to_owned(), ..envelope.meta.clone() };
    let changed = submitted("m-2", envelope.to_protobuf().unwrap());
    // The meta is bound by HPKE: changing it makes the envelope fail to open.
    assert_rejected(&pilot.a.submit(&pilot.url("/v1/records"), &[changed])[0], "DECRYPT_FAILED");
    assert_eq!(pilot.tree_head().0.tree_size, 0);
}

#[test]
fn a_large_batch_keeps_its_order() {
    // Large batches are checked on several threads; results stay in submission order.
    let pilot = Pilot::new();
    let records: Vec<SubmittedRecord> = (0..100u64)
        .map(|i| {
            let mut record = pilot.a.record(&format!("big-{i}"), i + 1);
            if i % 7 == 3 {
                record.digest[0] ^= 1;
            }
            record
        })
        .collect();
    let results = pilot.a.submit(&pilot.url("/v1/records"), &records);
    let mut index = 0;
    for (i, (result, record)) in results.iter().zip(&records).enumerate() {
        if i % 7 == 3 {
            assert_rejected(result, "DIGEST_MISMATCH");
        } else {
            assert_eq!(status(result), RecordStatus::Accepted, "{result:?}");
            let (receipt, _) = pilot.verify_receipt(result, record);
            assert_eq!(receipt.ledger_index, index);
            index += 1;
        }
    }
    assert_eq!(pilot.tree_head().0.tree_size, index);
}

#[test]
fn an_envelope_not_in_canonical_protobuf_is_malformed() {
    // Issue 10, point 7: a record has exactly one encoding, so one digest. The same envelope
    // with plain text riding along in an unknown field (digest recomputed to match) is refused.
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let record = pilot.a.record("canonical-1", 1);
    let mut padded = record.envelope.clone();
    prost::encoding::bytes::encode(9, &b"Tran Thi B, HIV positive".to_vec(), &mut padded);
    let results = pilot.a.submit(&url, &[submitted("canonical-1", padded)]);
    assert_rejected(&results[0], "MALFORMED");
    assert!(results[0].reason.contains("canonical protobuf"), "{}", results[0].reason);
    assert!(!results[0].reason.contains("Tran Thi"), "{}", results[0].reason);
    // The canonical envelope itself is accepted, and is the only ledger entry.
    assert_eq!(status(&pilot.a.submit(&url, &[record])[0]), RecordStatus::Accepted);
    assert_eq!(pilot.tree_head().0.tree_size, 1);
}

#[test]
fn a_record_whose_payload_is_not_canonical_json_is_malformed() {
    // Issue 10, point 4: a valid signature over a payload that parsers read differently
    // (`valueQuantity` twice: 5.5 for one parser, 55 for another) is not a medseal record.
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let payloads: [&[u8]; 5] = [
        br#"{"resourceType":"Observation","valueQuantity":{"value":5.5},"valueQuantity":{"value":55}}"#,
        b"{\"resourceType\":\"Observation\",\"note\":\"\xff\"}",
        br#"{"status":"final","resourceType":"Observation"}"#,
        br#"{"resourceType": "Observation"}"#,
        br#"{"resourceType":"Observation","value":1.50}"#,
    ];
    let mut batch = Vec::new();
    for (i, payload) in payloads.iter().enumerate() {
        let id = format!("not-canonical-{i}");
        let jws = pilot.a.signer.sign_payload(payload, medseal::Serialization::Flattened).unwrap();
        let meta = Meta::new(id.as_str(), "hospital-a", i as u64 + 1);
        let envelope = medseal::Envelope::seal(jws.as_bytes(), meta, &[&pilot.a.hub_recipient], medseal::Aead::Aes256Gcm).unwrap();
        batch.push(submitted(&id, envelope.to_protobuf().unwrap()));
    }
    batch.push(pilot.a.record("canonical-ok", 10));
    let results = pilot.a.submit(&url, &batch);
    for result in &results[..payloads.len()] {
        assert_rejected(result, "MALFORMED");
        assert!(result.reason.contains("not canonical JSON") || result.reason.contains("canonical form"), "{}", result.reason);
    }
    assert_eq!(status(&results[payloads.len()]), RecordStatus::Accepted);
    assert_eq!(pilot.tree_head().0.tree_size, 1);
}

/// A withdrawal of `sequence` (record id `record_id`) with `payload` as its content, signed by
/// `signer`'s key with the withdrawal typ, sealed by `facility` to the hub with that meta.
fn tombstone(facility: &Facility, record_id: &str, sequence: u64, payload: &Withdrawal, signer: &Signer) -> SubmittedRecord {
    let jws = payload.sign(signer).unwrap();
    let meta = Meta::new(record_id, facility.id.as_str(), sequence);
    let envelope = Envelope::seal(jws.as_bytes(), meta, &[&facility.hub_recipient], Aead::Aes256Gcm).unwrap().to_protobuf().unwrap();
    submitted(record_id, envelope)
}

fn withdrawal_signer(facility: &Facility, options: SignOptions) -> Signer {
    let key = Key::import(&std::fs::read(facility.dir.join("signing.key")).unwrap(), None).unwrap();
    Signer::new(Arc::new(key), options).unwrap()
}

/// Issue 10 point 10: a withdrawal (the facility's signed tombstone for a sequence) is judged
/// like a record, with its source facility's own keys and the same signing-time checks, must
/// name exactly its envelope's source, record id and sequence, follows the sequence and id
/// rules, and is accepted into the ledger as withdrawn, with its reason: the audit shows it,
/// not a gap.
#[test]
fn a_withdrawal_is_judged_like_a_record_and_ledgered_as_withdrawn() {
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    let (a, b) = (&pilot.a, &pilot.b);
    let own = withdrawal_signer(a, withdrawal_sign_options());
    let reason = "sealed with the wrong recipient; re-sent as a-3";
    let w =
        |record_id: &str, sequence: u64| Withdrawal { source: a.id.clone(), record_id: record_id.into(), sequence, reason: reason.into() };
    let first = a.record("a-1", 1);
    assert_eq!(status(&a.submit(&url, std::slice::from_ref(&first))[0]), RecordStatus::Accepted);

    let by_b = withdrawal_signer(b, withdrawal_sign_options());
    let backdated = withdrawal_signer(a, SignOptions { signing_time: Some(946_684_800), ..withdrawal_sign_options() });
    let refused = [
        (tombstone(a, "a-2", 2, &w("a-2", 2), &by_b), "SIGNER_MISMATCH"),
        (tombstone(a, "a-2", 2, &w("a-2", 3), &own), "MALFORMED"),
        (tombstone(a, "a-2", 2, &w("a-9", 2), &own), "MALFORMED"),
        (tombstone(a, "a-2", 2, &Withdrawal { source: b.id.clone(), ..w("a-2", 2) }, &own), "MALFORMED"),
        (tombstone(a, "a-2", 2, &w("a-2", 2), &backdated), "SIGNING_TIME_REFUSED"),
        (tombstone(a, "a-1-withdrawn", 1, &w("a-1-withdrawn", 1), &own), "SEQUENCE_REUSED"),
        (tombstone(a, "a-1", 7, &w("a-1", 7), &own), "ID_REUSED"),
    ];
    let records: Vec<SubmittedRecord> = refused.iter().map(|(r, _)| r.clone()).collect();
    for (result, (_, code)) in a.submit(&url, &records).iter().zip(&refused) {
        assert_rejected(result, code);
    }
    let names = a.submit(&url, &[tombstone(a, "a-2", 2, &w("a-2", 3), &own)]);
    assert!(names[0].reason.contains("sequence 3") && names[0].reason.contains("sequence 2"), "{}", names[0].reason);

    // The facility's own withdrawal of sequence 2: accepted, its receipt names the reason.
    let good = tombstone(a, "a-2", 2, &w("a-2", 2), &own);
    let results = a.submit(&url, std::slice::from_ref(&good));
    assert_eq!(status(&results[0]), RecordStatus::Accepted, "{:?}", results[0]);
    let (receipt, _) = pilot.verify_receipt(&results[0], &good);
    assert_eq!((receipt.sequence, receipt.withdrawn.as_deref()), (2, Some(reason)));
    assert_eq!(status(&a.submit(&url, std::slice::from_ref(&good))[0]), RecordStatus::Duplicate);
    assert_eq!(status(&a.submit(&url, &[a.record("a-3", 3)])[0]), RecordStatus::Accepted);

    let (_, body) = pilot.get("/v1/ledger/entries?start=0&end=3");
    let lines: Vec<&str> = std::str::from_utf8(&body).unwrap().lines().collect();
    assert!(!lines[0].contains("withdrawn") && !lines[2].contains("withdrawn"), "records' entries are unchanged");
    assert!(lines[1].ends_with(&format!(r#","withdrawn":"{reason}"}}"#)), "{}", lines[1]);
    let audit = medseal_hub::audit(&pilot.hub_dir).unwrap();
    let summary = &audit.sources["hospital-a"];
    assert_eq!(summary.withdrawn, vec![(2, reason.to_owned())]);
    assert!(summary.gaps.is_empty());
    assert_eq!((summary.records, summary.highest), (2, 3));
}
