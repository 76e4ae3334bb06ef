//! A hub that verifies records with a trust list (DESIGN 3.6) instead of enrolled keys.

mod common;

use std::sync::Arc;

use common::{assert_rejected, status, Pilot, PROTOBUF};
use medseal::wire::{RecordStatus, SubmitBatch};
use medseal::{Algorithm, Key, Signer};
use prost::Message;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Writes a trust list with A's and B's record-signing keys (expiring at `expires`) and the
/// department key into the hub directory, and points hub.json at them.
fn configure(pilot: &Pilot, expires: i64) -> medseal_hub::HubConfig {
    let window = (now() - 3600, now() + 3600);
    let entries = vec![common::record_signing_entry(&pilot.a, window), common::record_signing_entry(&pilot.b, window)];
    common::configure_trust_list(pilot, entries, 7, expires)
}

#[test]
fn records_are_verified_with_the_trust_list() {
    let mut pilot = Pilot::new();
    configure(&pilot, now() + 86_400);
    pilot.restart();
    let url = pilot.url("/v1/records");
    let good = pilot.a.record("t-1", 1);
    let b_signed = pilot.a.record_with("t-2", 2, "hospital-a", &pilot.b.signer, &pilot.a.hub_recipient, "final");
    let stranger = Signer::new(Arc::new(Key::generate(Algorithm::EdDSA).unwrap()), medseal::SignOptions::default()).unwrap();
    let unlisted = pilot.a.record_with("t-3", 3, "hospital-a", &stranger, &pilot.a.hub_recipient, "final");
    let results = pilot.a.submit(&url, &[good.clone(), b_signed, unlisted]);
    assert_eq!(status(&results[0]), RecordStatus::Accepted, "{:?}", results[0]);
    pilot.verify_receipt(&results[0], &good);
    assert_rejected(&results[1], "SIGNER_MISMATCH");
    assert!(results[1].reason.contains("hospital-b"), "{}", results[1].reason);
    assert_rejected(&results[2], "SIGNATURE_INVALID");
}

#[test]
fn a_list_that_expires_makes_submissions_wait() {
    let mut pilot = Pilot::new();
    configure(&pilot, now() + 2);
    pilot.restart();
    std::thread::sleep(std::time::Duration::from_millis(3100));
    let batch = SubmitBatch { records: vec![pilot.a.record("e-1", 1)] };
    let (code, retry, body) = pilot.a.post_raw(&pilot.url("/v1/records"), PROTOBUF, &batch.encode_to_vec());
    assert_eq!(code, 503, "{}", String::from_utf8_lossy(&body));
    assert!(retry.is_some());
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(value["code"], "UNAVAILABLE");
    assert!(value["reason"].as_str().unwrap().contains("expired"), "{value}");
    // And a hub does not start with it.
    pilot.hub.take().unwrap().shutdown().unwrap();
    let error = medseal_hub::start(&pilot.hub_dir, "127.0.0.1:0".parse().unwrap()).unwrap_err();
    assert!(error.to_string().contains("expired"), "{error}");
}
