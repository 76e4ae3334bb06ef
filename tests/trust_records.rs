//! Records verified against a trust list at their `sigT`: key rollover at a hospital, a key
//! retired before a record claims to have been signed, one kid on several keys.

use std::sync::Arc;

use medseal::jws::TrustedBy;
use medseal::trust::{self, Role, TrustEntry, TrustList};
use medseal::{Algorithm, DetachedPayload, Key, ResultCode, Serialization, SignOptions, Signer, Verifier};

const RECORD: &[u8] = br#"{"id":"enc-9","resourceType":"Encounter","status":"finished"}"#;

const JAN_2025: i64 = 1_735_689_600;
const JUL_2025: i64 = 1_751_328_000;
const JAN_2026: i64 = 1_767_225_600;
const JAN_2030: i64 = 1_893_456_000;

fn entry(facility: &str, key: &Key, kid: Option<&str>, role: Role, window: (i64, i64)) -> TrustEntry {
    TrustEntry {
        facility: facility.to_owned(),
        kid: kid.unwrap_or(key.kid()).to_owned(),
        alg: key.algorithm(),
        key: Arc::new(key.to_public()),
        chain: None,
        role,
        not_before: window.0,
        not_after: window.1,
    }
}

fn sign_at(key: &Key, time: i64, kid: Option<&str>) -> String {
    let key = Key::import(&key.export(medseal::KeyFormat::Pkcs8Der).unwrap(), Some(key.algorithm())).unwrap();
    let options = SignOptions { signing_time: Some(time), kid: kid.map(str::to_owned), ..SignOptions::default() };
    Signer::new(Arc::new(key), options).unwrap().sign(RECORD, Serialization::Compact).unwrap()
}

fn verifier(list: TrustList) -> Verifier {
    Verifier::new(Vec::new()).with_trust_list(Arc::new(list))
}

/// Cho Ray hospital rolled its key over on 1 July 2025: the old key signed until then.
struct Rollover {
    old: Key,
    new: Key,
    list: TrustList,
}

fn rollover() -> Rollover {
    let old = Key::generate(Algorithm::ES256).unwrap();
    let new = Key::generate(Algorithm::ES256).unwrap();
    let entries = vec![
        entry("79-001 Cho Ray", &old, None, Role::RecordSigning, (JAN_2025, JUL_2025)),
        entry("79-001 Cho Ray", &new, None, Role::RecordSigning, (JUL_2025, JAN_2030)),
    ];
    let list = TrustList::new("HCMC Department of Health", 7, JAN_2026, JAN_2030, entries).unwrap();
    Rollover { old, new, list }
}

#[test]
fn a_record_signed_before_its_key_was_retired_still_verifies() {
    let r = rollover();
    let jws = sign_at(&r.old, JUL_2025 - 86_400, None);
    let v = verifier(r.list.clone()).verify(jws.as_bytes(), DetachedPayload::None).unwrap();
    assert_eq!(v.trusted_by, TrustedBy::TrustList { facility: "79-001 Cho Ray".to_owned() });
    assert_eq!(v.key_id, r.old.kid());
    // And the new key signs from the rollover on.
    let jws = sign_at(&r.new, JUL_2025 + 60, None);
    let v = verifier(r.list).verify(jws.as_bytes(), DetachedPayload::None).unwrap();
    assert_eq!(v.trusted_by, TrustedBy::TrustList { facility: "79-001 Cho Ray".to_owned() });
    assert_eq!(v.key_id, r.new.kid(), "the new key's entry, not the retired one's");
    assert_eq!(v.signing_time.as_deref(), Some("2025-07-01T00:01:00Z"));
}

#[test]
fn a_record_whose_sig_time_is_after_the_keys_retirement_does_not() {
    let r = rollover();
    let jws = sign_at(&r.old, JUL_2025 + 1, None);
    let e = verifier(r.list.clone()).verify(jws.as_bytes(), DetachedPayload::None).unwrap_err();
    assert_eq!(e.code(), ResultCode::MEDSEAL_SIGNED_OUTSIDE_VALIDITY, "{e}");
    assert!(e.message().contains("79-001 Cho Ray") && e.message().contains("2025-07-01T00:00:00Z"), "{e}");
    // Before the new key's window opened, likewise.
    let early = sign_at(&r.new, JAN_2025, None);
    assert_eq!(
        verifier(r.list).verify(early.as_bytes(), DetachedPayload::None).unwrap_err().code(),
        ResultCode::MEDSEAL_SIGNED_OUTSIDE_VALIDITY
    );
}

#[test]
fn a_kid_that_matches_several_keys_tries_each() {
    // Two hospitals' systems that both write kid "his-signing-key".
    let a = Key::generate(Algorithm::EdDSA).unwrap();
    let b = Key::generate(Algorithm::EdDSA).unwrap();
    let kid = "his-signing-key";
    let entries = vec![
        entry("79-002", &a, Some(kid), Role::RecordSigning, (JAN_2025, JAN_2030)),
        entry("79-003", &b, Some(kid), Role::RecordSigning, (JAN_2025, JAN_2030)),
    ];
    let list = TrustList::new("HCMC DOH", 1, JAN_2026, JAN_2030, entries).unwrap();
    assert_eq!(list.candidates(Role::RecordSigning, Some(kid)).len(), 2);
    for (key, facility) in [(&a, "79-002"), (&b, "79-003")] {
        let jws = sign_at(key, JUL_2025, Some(kid));
        let v = verifier(list.clone()).verify(jws.as_bytes(), DetachedPayload::None).unwrap();
        assert_eq!(v.trusted_by, TrustedBy::TrustList { facility: facility.to_owned() });
    }
    // A third key with the same kid is not trusted.
    let c = Key::generate(Algorithm::EdDSA).unwrap();
    let jws = sign_at(&c, JUL_2025, Some(kid));
    assert_eq!(verifier(list).verify(jws.as_bytes(), DetachedPayload::None).unwrap_err().code(), ResultCode::MEDSEAL_JWS_SIGNATURE_INVALID);
}

#[test]
fn only_record_signing_keys_sign_records() {
    let receipt_key = Key::generate(Algorithm::ES256).unwrap();
    let list =
        TrustList::new("HCMC DOH", 1, JAN_2026, JAN_2030, vec![entry("hub", &receipt_key, None, Role::Receipt, (JAN_2025, JAN_2030))])
            .unwrap();
    let jws = sign_at(&receipt_key, JUL_2025, None);
    let e = verifier(list).verify(jws.as_bytes(), DetachedPayload::None).unwrap_err();
    assert_eq!(e.code(), ResultCode::MEDSEAL_TRUST_UNKNOWN_SIGNER, "{e}");
}

#[test]
fn unknown_kids_and_algorithm_confusion_are_refused() {
    let r = rollover();
    let stranger = Key::generate(Algorithm::ES256).unwrap();
    let jws = sign_at(&stranger, JUL_2025, None);
    let e = verifier(r.list.clone()).verify(jws.as_bytes(), DetachedPayload::None).unwrap_err();
    assert_eq!(e.code(), ResultCode::MEDSEAL_TRUST_UNKNOWN_SIGNER, "{e}");
    assert!(e.message().contains(stranger.kid()), "{e}");

    // An Ed25519 key claiming the kid of a listed ES256 key: refused on the algorithm.
    let ed = Key::generate(Algorithm::EdDSA).unwrap();
    let jws = sign_at(&ed, JUL_2025, Some(r.new.kid()));
    let e = verifier(r.list).verify(jws.as_bytes(), DetachedPayload::None).unwrap_err();
    assert_eq!(e.code(), ResultCode::MEDSEAL_JWS_ALG_MISMATCH, "{e}");
}

#[test]
fn a_signed_list_from_the_health_department_drives_verification() {
    let r = rollover();
    let doh = Arc::new(Key::generate(Algorithm::ES256).unwrap());
    let signed = r.list.sign(&Signer::new(doh.clone(), trust::sign_options()).unwrap()).unwrap();
    let list_verifier = Verifier::new(vec![Arc::new(doh.to_public())]);
    let now = JAN_2026 + 3600;
    let list = TrustList::verify(signed.as_bytes(), &list_verifier, now, 7).unwrap();
    assert_eq!(
        (list.sequence, list.issuer.as_str(), list.entries().len()),
        (7, "HCMC Department of Health", 2),
        "the list that was signed"
    );
    let jws = sign_at(&r.old, JAN_2025 + 10, None);
    let v = verifier(list).verify(jws.as_bytes(), DetachedPayload::None).unwrap();
    assert_eq!(v.trusted_by, TrustedBy::TrustList { facility: "79-001 Cho Ray".to_owned() }, "trusted by the signed list's entry");
    assert_eq!(v.key_id, r.old.kid());
    assert_eq!(v.payload, RECORD);
    // A list older than one already seen is refused before any record is looked at.
    assert_eq!(TrustList::verify(signed.as_bytes(), &list_verifier, now, 8).unwrap_err().code(), ResultCode::MEDSEAL_TRUST_LIST_STALE);
    assert_eq!(
        TrustList::verify(signed.as_bytes(), &list_verifier, JAN_2030 + 1, 0).unwrap_err().code(),
        ResultCode::MEDSEAL_TRUST_LIST_EXPIRED
    );
    // Configured keys still work beside a list.
    let extra = Key::generate(Algorithm::EdDSA).unwrap();
    let both = Verifier::new(vec![Arc::new(extra.to_public())]).with_trust_list(Arc::new(r.list));
    let v = both.verify(sign_at(&extra, JUL_2025, None).as_bytes(), DetachedPayload::None).unwrap();
    assert_eq!(v.trusted_by, TrustedBy::Key);
}

#[test]
fn a_list_restricted_to_one_facility_judges_only_its_records() {
    // What a hub gives each source: its own entries only (issue 10, point 12).
    let a = Key::generate(Algorithm::EdDSA).unwrap();
    let b = Key::generate(Algorithm::EdDSA).unwrap();
    let window = (JAN_2025, JAN_2030);
    let list = TrustList::new(
        "Department of Health",
        1,
        JAN_2025,
        JAN_2030,
        vec![entry("cho-ray", &a, None, Role::RecordSigning, window), entry("binh-dan", &b, None, Role::RecordSigning, window)],
    )
    .unwrap();
    let cho_ray = list.restricted_to("cho-ray");
    assert_eq!((cho_ray.sequence, cho_ray.expires, cho_ray.entries().len()), (1, JAN_2030, 1));
    let verifier = verifier(cho_ray);
    assert!(verifier.verify(sign_at(&a, JUL_2025, None).as_bytes(), DetachedPayload::None).is_ok());
    let error = verifier.verify(sign_at(&b, JUL_2025, None).as_bytes(), DetachedPayload::None).unwrap_err();
    assert_eq!(error.code(), ResultCode::MEDSEAL_TRUST_UNKNOWN_SIGNER);
    assert!(list.restricted_to("nobody").entries().is_empty());
}
