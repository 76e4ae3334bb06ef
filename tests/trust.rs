//! Trust lists (DESIGN 3.6, docs/TRUST_LISTS.md): the format, every refusal with its code,
//! roles, rollover, candidates, and signed-list verification (stale, expired, future, tampered,
//! wrong key, typ confusion).
//!
//! Needs the `openssl` command for one RSA key (neither ring nor medseal generates RSA keys).

use std::process::Command;
use std::sync::{Arc, OnceLock};

use medseal::jws::{DetachedPayload, SignOptions, Signer, Verifier};
use medseal::keys::KeyFormat;
use medseal::trust::{self, Role, TrustEntry, TrustList};
use medseal::x509::Certificate;
use medseal::{Algorithm, Key, ResultCode, Serialization};
use serde_json::{json, Value as Json};

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;
const DAY: i64 = 86_400;

fn ed25519() -> Arc<Key> {
    Arc::new(Key::generate(Algorithm::EdDSA).unwrap())
}

fn p256() -> Arc<Key> {
    Arc::new(Key::generate(Algorithm::ES256).unwrap())
}

/// One RSA-2048 private key (PEM) per test run, made by openssl.
fn rsa_pem() -> &'static [u8] {
    static PEM: OnceLock<Vec<u8>> = OnceLock::new();
    PEM.get_or_init(|| {
        let out = Command::new("openssl")
            .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
            .output()
            .expect("the openssl command is installed");
        assert!(out.status.success(), "openssl genpkey: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    })
}

fn entry(facility: &str, role: Role, key: &Arc<Key>) -> TrustEntry {
    TrustEntry {
        facility: facility.to_owned(),
        kid: key.kid().to_owned(),
        alg: key.algorithm(),
        key: Arc::new(key.to_public()),
        chain: None,
        role,
        not_before: T0,
        not_after: T0 + 365 * DAY,
    }
}

fn list(sequence: u64, entries: Vec<TrustEntry>) -> TrustList {
    TrustList::new("HCMC Department of Health", sequence, T0, T0 + 90 * DAY, entries).unwrap()
}

fn list_signer(key: &Arc<Key>) -> Signer {
    Signer::new(key.clone(), SignOptions { signing_time: Some(T0), ..trust::sign_options() }).unwrap()
}

fn verifier(key: &Arc<Key>) -> Verifier {
    Verifier::new(vec![Arc::new(key.to_public())])
}

fn code<T: std::fmt::Debug>(result: medseal::Result<T>) -> (ResultCode, String) {
    let e = result.unwrap_err();
    (e.code(), e.message().to_owned())
}

/// Asserts `result` fails with `expected` and a message containing `needle`.
#[track_caller]
fn refused<T: std::fmt::Debug>(result: medseal::Result<T>, expected: ResultCode, needle: &str) {
    let (got, message) = code(result);
    assert_eq!(got, expected, "{message}");
    assert!(message.contains(needle), "message lacks {needle:?}: {message}");
}

/// A valid list document with one Ed25519 record-signing key, as serde_json for mutating.
fn document() -> (Json, Arc<Key>) {
    let key = ed25519();
    let doc = serde_json::from_slice(&list(3, vec![entry("79001", Role::RecordSigning, &key)]).to_json()).unwrap();
    (doc, key)
}

fn read(doc: &Json) -> medseal::Result<TrustList> {
    TrustList::from_json(doc.to_string().as_bytes())
}

#[test]
fn round_trip_json_and_signature() {
    let (a, b, hub) = (ed25519(), p256(), ed25519());
    let original =
        list(7, vec![entry("79001", Role::RecordSigning, &a), entry("79002", Role::TlsClient, &b), entry("hub", Role::Receipt, &hub)]);
    let json = original.to_json();
    assert_eq!(medseal::canonicalize(&json, &Default::default()).unwrap(), json, "to_json is canonical");
    let text = String::from_utf8(json.clone()).unwrap();
    assert!(text.starts_with(r#"{"entries":[{"alg":"EdDSA","facility":"79001","jwk":{"crv":"Ed25519","kty":"OKP","x":"#), "{text}");
    assert!(text.ends_with(r#""expires":"2026-04-01T00:00:00Z","issued":"2026-01-01T00:00:00Z","issuer":"HCMC Department of Health","sequence":7,"type":"medseal-trust-list","version":1}"#), "{text}");
    assert!(
        text.contains(r#""not_after":"2027-01-01T00:00:00Z","not_before":"2026-01-01T00:00:00Z","roles":["record-signing"]"#),
        "{text}"
    );

    let read = TrustList::from_json(&json).unwrap();
    assert_eq!(read.to_json(), json);
    assert_eq!((read.issuer.as_str(), read.sequence, read.issued, read.expires), ("HCMC Department of Health", 7, T0, T0 + 90 * DAY));
    let e = &read.entries()[1];
    assert_eq!((e.facility.as_str(), e.kid.as_str(), e.alg, e.role), ("79002", b.kid(), Algorithm::ES256, Role::TlsClient));
    assert!(!e.key.has_private() && e.key.kid() == b.kid() && e.chain.is_none());

    let doh = ed25519();
    let jws = original.sign(&list_signer(&doh)).unwrap();
    assert!(jws.starts_with('{') && jws.contains("\"payload\""), "flattened: {jws}");
    let verified = TrustList::verify(jws.as_bytes(), &verifier(&doh), T0 + DAY, 7).unwrap();
    assert_eq!(verified.to_json(), json);
    // The header says what it is.
    let plain = verifier(&doh).verify(jws.as_bytes(), DetachedPayload::None).unwrap();
    assert_eq!(plain.typ.as_deref(), Some(trust::TYP));
    assert_eq!(plain.payload, json, "the signed bytes are the canonical list");
    // Display-only reading gives the same list without any key.
    assert_eq!(TrustList::from_jws_unverified(jws.as_bytes()).unwrap().to_json(), json);
}

#[test]
fn hand_written_list_is_read_and_normalized() {
    // RFC 8037 appendix A's Ed25519 public key; whitespace, member order and the JWK's own
    // alg/kid/use (as `medseal key public --format jwk` writes them) are all accepted.
    let text = r#"{
      "version": 1, "type": "medseal-trust-list", "issuer": "Sở Y tế TP.HCM", "sequence": 12,
      "issued": "2026-01-01T00:00:00Z", "expires": "2026-02-01T00:00:00Z",
      "entries": [
        {"facility": "79001", "kid": "chợ-rẫy-2026", "alg": "EdDSA", "roles": ["record-signing"],
         "jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                 "alg": "EdDSA", "kid": "chợ-rẫy-2026", "use": "sig"},
         "not_before": "2026-01-01T00:00:00Z", "not_after": "2027-01-01T00:00:00Z"}
      ]
    }"#;
    let list = TrustList::from_json(text.as_bytes()).unwrap();
    assert_eq!(list.issuer, "Sở Y tế TP.HCM");
    assert_eq!(list.entries()[0].kid, "chợ-rẫy-2026");
    assert_eq!(list.entries()[0].key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "RFC 8037 A.3 thumbprint");
    let expected = concat!(
        r#"{"entries":[{"alg":"EdDSA","facility":"79001","jwk":{"crv":"Ed25519","kty":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},"#,
        r#""kid":"chợ-rẫy-2026","not_after":"2027-01-01T00:00:00Z","not_before":"2026-01-01T00:00:00Z","roles":["record-signing"]}],"#,
        r#""expires":"2026-02-01T00:00:00Z","issued":"2026-01-01T00:00:00Z","issuer":"Sở Y tế TP.HCM","sequence":12,"#,
        r#""type":"medseal-trust-list","version":1}"#
    );
    assert_eq!(String::from_utf8(list.to_json()).unwrap(), expected);
}

/// Applies `change` to a valid document and expects TRUST_LIST_INVALID with `needle`.
#[track_caller]
fn refuses(change: impl FnOnce(&mut Json), needle: &str) {
    let (mut doc, _) = document();
    change(&mut doc);
    refused(read(&doc), ResultCode::MEDSEAL_TRUST_LIST_INVALID, needle);
}

#[test]
fn every_malformed_list_is_invalid() {
    refuses(|d| d["extra"] = json!(1), "unknown member \"extra\"");
    refuses(|d| d["entries"][0]["comment"] = json!("x"), "entry 1 has an unknown member \"comment\"");
    refuses(|d| d["type"] = json!("trust-list"), "\"type\"");
    refuses(|d| d["version"] = json!(2), "version 2 is not supported");
    refuses(|d| _ = d.as_object_mut().unwrap().remove("issuer"), "lacks \"issuer\"");
    refuses(|d| d["issuer"] = json!(""), "the issuer must have 1 to 256 bytes");
    refuses(|d| d["issuer"] = json!("x".repeat(257)), "the issuer must have 1 to 256 bytes");
    refuses(|d| d["issuer"] = json!("HCMC\u{7}"), "control character");
    refuses(|d| d["sequence"] = json!(0), "sequence number must be 1");
    refuses(|d| d["sequence"] = json!(-1), "\"sequence\" must be an integer");
    refuses(|d| d["sequence"] = json!(2.5), "\"sequence\" must be an integer");
    refuses(|d| d["sequence"] = json!("3"), "\"sequence\" must be an integer");
    refuses(|d| d["expires"] = d["issued"].clone(), "expires");
    refuses(|d| d["issued"] = json!("2026-01-01T07:00:00+07:00"), "not an RFC 3339 UTC time");
    refuses(|d| d["issued"] = json!("2026-01-01T00:00:00.5Z"), "not an RFC 3339 UTC time");
    refuses(|d| d["issued"] = json!("2026-01-01t00:00:00z"), "not an RFC 3339 UTC time");
    refuses(|d| d["issued"] = json!("2026-01-01"), "not an RFC 3339 UTC time");
    refuses(|d| d["issued"] = json!(T0), "\"issued\" must be a string");
    refuses(|d| d["entries"] = json!({}), "\"entries\" must be an array");
    refuses(|d| d["entries"][0] = json!("k"), "entry 1 is not a JSON object");
    refuses(|d| _ = d["entries"][0].as_object_mut().unwrap().remove("kid"), "entry 1 lacks \"kid\"");
    refuses(|d| d["entries"][0]["kid"] = json!(""), "the kid must have 1 to 256 bytes");
    refuses(|d| d["entries"][0]["facility"] = json!("79\n001"), "control character");
    refuses(|d| d["entries"][0]["alg"] = json!("none"), "alg \"none\" is not one of");
    refuses(|d| d["entries"][0]["alg"] = json!("HS256"), "alg \"HS256\" is not one of");
    refuses(|d| d["entries"][0]["alg"] = json!("Ed25519"), "alg \"Ed25519\" is not one of");
    refuses(|d| d["entries"][0]["alg"] = json!("ES256"), "is not a ES256 public key");
    refuses(|d| d["entries"][0]["roles"] = json!([]), "\"roles\" is empty");
    refuses(|d| d["entries"][0]["roles"] = json!("record-signing"), "\"roles\" must be an array");
    refuses(|d| d["entries"][0]["roles"] = json!(["signing"]), "unknown role \"signing\"");
    refuses(|d| d["entries"][0]["roles"] = json!(["record-signing", "receipt"]), "one key in two roles");
    refuses(|d| d["entries"][0]["roles"] = json!(["receipt", "receipt"]), "one key in two roles");
    refuses(|d| d["entries"][0]["not_after"] = d["entries"][0]["not_before"].clone(), "not_after");
    refuses(|d| d["entries"][0]["x5c"] = json!([]), "exactly one of \"jwk\" and \"x5c\"");
    refuses(|d| _ = d["entries"][0].as_object_mut().unwrap().remove("jwk"), "exactly one of \"jwk\" and \"x5c\"");
    refuses(|d| d["entries"][0]["jwk"]["d"] = json!("AAAA"), "private key material (\"d\")");
    refuses(|d| d["entries"][0]["jwk"]["k"] = json!("AAAA"), "private key material (\"k\")");
    refuses(|d| d["entries"][0]["jwk"]["x5u"] = json!("https://example.org"), "unknown member \"x5u\"");
    refuses(|d| d["entries"][0]["jwk"]["alg"] = json!("ES256"), "\"alg\" disagrees");
    refuses(|d| d["entries"][0]["jwk"]["kid"] = json!("other"), "\"kid\" disagrees");
    refuses(|d| d["entries"][0]["jwk"]["use"] = json!("enc"), "\"use\" disagrees");
    refuses(|d| d["entries"][0]["jwk"]["kty"] = json!("oct"), "kty \"oct\"");
    refuses(|d| d["entries"][0]["jwk"]["x"] = json!("AAAA"), "is not a EdDSA public key");
    refuses(|d| d["entries"][0]["jwk"] = json!([]), "\"jwk\" is not a JSON object");
    refuses(|d| *d = json!([1]), "the trust list is not a JSON object");

    // JSON-level problems are TRUST_LIST_INVALID too, with the JSON code in the message.
    for (text, inner) in [
        (&b"{\"type\":1,\"type\":2}"[..], "MEDSEAL_JSON_DUPLICATE_KEY"),
        (b"{", "MEDSEAL_JSON_SYNTAX"),
        (b"\xff", "MEDSEAL_JSON_INVALID_UTF8"),
        (b"{\"sequence\":1.50}", "MEDSEAL_JSON_LOSSY_NUMBER"),
        ("{\"issuer\":\"Nguye\u{0302}\u{0303}n\"}".as_bytes(), "MEDSEAL_JSON_NOT_NFC"),
    ] {
        refused(TrustList::from_json(text), ResultCode::MEDSEAL_TRUST_LIST_INVALID, inner);
    }
}

#[test]
fn keys_must_fit_their_algorithm() {
    let rsa = Key::import(rsa_pem(), None).unwrap();
    let rsa_public = Arc::new(rsa.to_public());
    // RSA: RS256 or PS256, bound as the entry says.
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let mut e = entry("79001", Role::RecordSigning, &rsa_public);
        e.key = Arc::new(Key::import(&rsa.export(KeyFormat::SpkiDer).unwrap(), Some(alg)).unwrap());
        e.alg = alg;
        let read = TrustList::from_json(&list(1, vec![e]).to_json()).unwrap();
        assert_eq!((read.entries()[0].alg, read.entries()[0].key.algorithm()), (alg, alg));
    }
    let (mut doc, _) = document();
    let jwk: Json = serde_json::from_slice(&rsa.export(KeyFormat::Jwk).unwrap()).unwrap();
    doc["entries"][0]["jwk"] = json!({"kty": "RSA", "n": jwk["n"], "e": jwk["e"]});
    for alg in ["EdDSA", "ES256"] {
        doc["entries"][0]["alg"] = json!(alg);
        refused(read(&doc), ResultCode::MEDSEAL_TRUST_LIST_INVALID, &format!("is not a {alg} public key"));
    }
    doc["entries"][0]["alg"] = json!("PS256");
    assert_eq!(read(&doc).unwrap().entries()[0].key.algorithm(), Algorithm::PS256);
    // RSA private members are refused like any other.
    doc["entries"][0]["jwk"]["p"] = json!("AAAA");
    refused(read(&doc), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "private key material (\"p\")");

    // Built in code: the entry's alg must be the key's.
    let mut e = entry("79001", Role::RecordSigning, &ed25519());
    e.alg = Algorithm::ES256;
    refused(
        TrustList::new("DoH", 1, T0, T0 + DAY, vec![e]),
        ResultCode::MEDSEAL_TRUST_LIST_INVALID,
        "bound to EdDSA, but the entry says ES256",
    );
}

#[test]
fn one_key_in_two_roles_is_refused() {
    let key = ed25519();
    let mut second = entry("79001", Role::TlsClient, &key);
    second.kid = "tls-2026".to_owned();
    let (code, message) = code(TrustList::new("DoH", 1, T0, T0 + DAY, vec![entry("79001", Role::RecordSigning, &key), second]));
    assert_eq!(code, ResultCode::MEDSEAL_TRUST_LIST_INVALID);
    assert!(message.contains("one key in two roles") && message.contains("tls-2026") && message.contains(key.kid()), "{message}");

    // The same key under a certificate and as a bare JWK is still the same key.
    let (cert, cert_key) = certificate(&rcgen::PKCS_ECDSA_P256_SHA256, "79002", (2025, 2030));
    let cert_entry = x5c_entry("79002", Role::RecordSigning, &cert, &cert_key);
    let jwk_entry = entry("79002", Role::Receipt, &cert_key);
    refused(
        TrustList::new("DoH", 1, T0, T0 + DAY, vec![cert_entry, jwk_entry]),
        ResultCode::MEDSEAL_TRUST_LIST_INVALID,
        "one key in two roles",
    );

    // The same key in the same role twice, identical: refused as a duplicate.
    let e = entry("79001", Role::RecordSigning, &key);
    refused(TrustList::new("DoH", 1, T0, T0 + DAY, vec![e.clone(), e.clone()]), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "listed twice");
    // ...but the same role with another window (a key re-admitted) is fine.
    let mut later = e.clone();
    later.not_before = T0 + 400 * DAY;
    later.not_after = T0 + 800 * DAY;
    TrustList::new("DoH", 1, T0, T0 + DAY, vec![e, later]).unwrap();
}

#[test]
fn rollover_gives_several_keys_per_facility() {
    let (old, new, tls) = (ed25519(), p256(), ed25519());
    let mut old_entry = entry("79001", Role::RecordSigning, &old);
    old_entry.not_after = T0 + 30 * DAY;
    let mut new_entry = entry("79001", Role::RecordSigning, &new);
    new_entry.not_before = T0 + 20 * DAY;
    let list = list(2, vec![old_entry, new_entry, entry("79001", Role::TlsClient, &tls)]);
    let list = TrustList::from_json(&list.to_json()).unwrap();

    let signing = list.candidates(Role::RecordSigning, None);
    assert_eq!(signing.len(), 2);
    assert_eq!(list.candidates(Role::RecordSigning, Some(new.kid())).len(), 1);
    assert_eq!(list.candidates(Role::RecordSigning, Some(tls.kid())).len(), 0, "the TLS key does not sign records");
    assert_eq!(list.candidates(Role::TlsClient, None)[0].kid, tls.kid());
    assert!(list.candidates(Role::Receipt, None).is_empty());
    // Windows: both keys valid during the overlap, inclusive at both ends.
    let valid_at = |t: i64| signing.iter().filter(|e| e.valid_at(t)).count();
    assert_eq!((valid_at(T0), valid_at(T0 + 25 * DAY), valid_at(T0 + 31 * DAY)), (1, 2, 1));
    assert!(signing[0].valid_at(T0 + 30 * DAY) && !signing[0].valid_at(T0 + 30 * DAY + 1) && !signing[0].valid_at(T0 - 1));
}

#[test]
fn a_kid_matching_several_keys_gives_all_of_them() {
    let (a, b, c) = (ed25519(), p256(), ed25519());
    let shared = |key: &Arc<Key>, role| TrustEntry { kid: "2026-01".to_owned(), ..entry("79001", role, key) };
    let list = list(1, vec![shared(&a, Role::RecordSigning), shared(&b, Role::RecordSigning), shared(&c, Role::Receipt)]);
    let list = TrustList::from_json(&list.to_json()).unwrap();
    let found: Vec<&str> = list.candidates(Role::RecordSigning, Some("2026-01")).iter().map(|e| e.key.kid()).collect();
    assert_eq!(found, [a.kid(), b.kid()]);
    assert_eq!(list.candidates(Role::Receipt, Some("2026-01")).len(), 1);
    assert!(list.candidates(Role::RecordSigning, Some("2026-02")).is_empty());
}

#[test]
fn freshness_expired_stale_and_future() {
    let doh = ed25519();
    let jws = list(5, vec![entry("79001", Role::RecordSigning, &ed25519())]).sign(&list_signer(&doh)).unwrap();
    let check = |now, min| TrustList::verify(jws.as_bytes(), &verifier(&doh), now, min);
    let expires = T0 + 90 * DAY;
    check(expires, 5).unwrap();
    refused(check(expires + 1, 0), ResultCode::MEDSEAL_TRUST_LIST_EXPIRED, "expired at 2026-04-01T00:00:00Z");
    refused(check(T0, 6), ResultCode::MEDSEAL_TRUST_LIST_STALE, "#5 is older than #6");
    check(T0 - trust::MAX_CLOCK_SKEW, 0).unwrap();
    refused(check(T0 - trust::MAX_CLOCK_SKEW - 1, 0), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "in the future");

    // check_fresh is the same test without the signature.
    let list = TrustList::from_jws_unverified(jws.as_bytes()).unwrap();
    refused(list.check_fresh(expires + 1, 9), ResultCode::MEDSEAL_TRUST_LIST_EXPIRED, "expired");
    list.check_fresh(T0, 5).unwrap();
}

#[test]
fn signature_wrong_key_and_tampering() {
    let (doh, other) = (ed25519(), ed25519());
    let original = list(1, vec![entry("79001", Role::RecordSigning, &ed25519())]);
    let jws = original.sign(&list_signer(&doh)).unwrap();
    refused(
        TrustList::verify(jws.as_bytes(), &verifier(&other), T0, 0),
        ResultCode::MEDSEAL_TRUST_LIST_SIGNATURE,
        "not signed by a trust-list key",
    );
    // A list key of another algorithm: still "not signed by a list key".
    refused(TrustList::verify(jws.as_bytes(), &verifier(&p256()), T0, 0), ResultCode::MEDSEAL_TRUST_LIST_SIGNATURE, "");
    // List-key rollover: any configured key will do.
    TrustList::verify(jws.as_bytes(), &Verifier::new(vec![Arc::new(other.to_public()), Arc::new(doh.to_public())]), T0, 0).unwrap();
    // Compact serialization verifies too.
    let compact = list_signer(&doh).sign_payload(&original.to_json(), Serialization::Compact).unwrap();
    TrustList::verify(compact.as_bytes(), &verifier(&doh), T0, 0).unwrap();

    // Swap the payload for a list with a higher sequence: the signature no longer covers it.
    let forged = list(99, vec![entry("79001", Role::RecordSigning, &ed25519())]).sign(&list_signer(&other)).unwrap();
    let payload = |j: &str| serde_json::from_str::<Json>(j).unwrap()["payload"].as_str().unwrap().to_owned();
    let mut tampered: Json = serde_json::from_str(&jws).unwrap();
    tampered["payload"] = json!(payload(&forged));
    refused(TrustList::verify(tampered.to_string().as_bytes(), &verifier(&doh), T0, 0), ResultCode::MEDSEAL_TRUST_LIST_SIGNATURE, "");
    // Flip one signature character.
    let mut flipped: Json = serde_json::from_str(&jws).unwrap();
    let sig = flipped["signature"].as_str().unwrap().to_owned();
    let c = if sig.starts_with('A') { "B" } else { "A" };
    flipped["signature"] = json!(format!("{c}{}", &sig[1..]));
    refused(TrustList::verify(flipped.to_string().as_bytes(), &verifier(&doh), T0, 0), ResultCode::MEDSEAL_TRUST_LIST_SIGNATURE, "");
    // Not a JWS at all, or an unprotected header: invalid rather than a signature failure.
    refused(TrustList::verify(b"not a jws", &verifier(&doh), T0, 0), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "not a valid JWS");
    let mut unprotected: Json = serde_json::from_str(&jws).unwrap();
    unprotected["header"] = json!({"kid": "x"});
    refused(TrustList::verify(unprotected.to_string().as_bytes(), &verifier(&doh), T0, 0), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "");
    // No list key at all is the caller's mistake, reported as such.
    refused(TrustList::verify(jws.as_bytes(), &Verifier::new(vec![]), T0, 0), ResultCode::MEDSEAL_JWS_NO_KEYS, "");
}

#[test]
fn typ_confusion_is_refused() {
    let doh = ed25519();
    let the_list = list(1, vec![entry("79001", Role::RecordSigning, &ed25519())]);
    // A record signer (typ medseal+jws) cannot sign a list...
    let record_signer = Signer::new(doh.clone(), SignOptions::default()).unwrap();
    refused(the_list.sign(&record_signer), ResultCode::MEDSEAL_INVALID_ARGUMENT, trust::TYP);
    let no_typ = Signer::new(doh.clone(), SignOptions { typ: None, ..SignOptions::default() }).unwrap();
    refused(the_list.sign(&no_typ), ResultCode::MEDSEAL_INVALID_ARGUMENT, "not none");
    // ...and a record JWS over exactly the list's bytes, by the list key, is not a list.
    let record = record_signer.sign(&the_list.to_json(), Serialization::Flattened).unwrap();
    refused(TrustList::verify(record.as_bytes(), &verifier(&doh), T0, 0), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "typ \"medseal+jws\"");
    refused(TrustList::from_jws_unverified(record.as_bytes()), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "not a trust list");
    // An ordinary FHIR record signed by the list key, likewise.
    let fhir = record_signer.sign(br#"{"resourceType":"Observation","status":"final"}"#, Serialization::Compact).unwrap();
    refused(TrustList::verify(fhir.as_bytes(), &verifier(&doh), T0, 0), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "not a trust list");
    // The typ compares as RFC 7515 says: case-insensitive, "application/" optional.
    let spelled =
        Signer::new(doh.clone(), SignOptions { typ: Some("application/Medseal-Trust-List+JWS".into()), ..SignOptions::default() }).unwrap();
    let jws = spelled.sign_payload(&the_list.to_json(), Serialization::Flattened).unwrap();
    TrustList::verify(jws.as_bytes(), &verifier(&doh), T0, 0).unwrap();
}

#[test]
fn signed_payload_must_be_a_canonical_list() {
    let doh = ed25519();
    let signer = list_signer(&doh);
    let the_list = list(1, vec![entry("79001", Role::RecordSigning, &ed25519())]);
    let pretty = serde_json::to_vec_pretty(&serde_json::from_slice::<Json>(&the_list.to_json()).unwrap()).unwrap();
    let jws = signer.sign_payload(&pretty, Serialization::Flattened).unwrap();
    refused(TrustList::verify(jws.as_bytes(), &verifier(&doh), T0, 0), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "not canonical");
    for payload in [&b"{}"[..], b"[]", b"not json"] {
        let jws = signer.sign_payload(payload, Serialization::Flattened).unwrap();
        refused(TrustList::verify(jws.as_bytes(), &verifier(&doh), T0, 0), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "");
    }
}

#[test]
fn new_checks_what_from_json_checks() {
    let key = ed25519();
    // A private key handed in is kept as its public half only.
    let private = TrustEntry { key: key.clone(), ..entry("79001", Role::RecordSigning, &key) };
    let built = TrustList::new("DoH", 1, T0, T0 + DAY, vec![private]).unwrap();
    assert!(!built.entries()[0].key.has_private());
    assert!(!String::from_utf8(built.to_json()).unwrap().contains("\"d\""));

    let new = |issuer: &str, sequence, issued, expires| TrustList::new(issuer, sequence, issued, expires, vec![]);
    new("DoH", 1, T0, T0 + 1).unwrap();
    refused(new("DoH", 0, T0, T0 + DAY), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "sequence");
    refused(new("DoH", trust::MAX_SEQUENCE + 1, T0, T0 + DAY), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "sequence");
    refused(new("DoH", 1, T0, T0), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "before it is issued");
    refused(new("DoH", 1, T0, i64::MAX), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "expires");
    refused(new("DoH", 1, -100_000_000_000, T0), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "issued");
    refused(new("Nguye\u{0302}\u{0303}n", 1, T0, T0 + DAY), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "NFC");
    let mut e = entry("79001", Role::RecordSigning, &key);
    e.not_before = e.not_after;
    refused(TrustList::new("DoH", 1, T0, T0 + DAY, vec![e]), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "not_after");
    // The largest sequence still reads back exactly.
    let top = new("DoH", trust::MAX_SEQUENCE, T0, T0 + DAY).unwrap();
    assert_eq!(TrustList::from_json(&top.to_json()).unwrap().sequence, trust::MAX_SEQUENCE);

    // Header fields are public; sign() re-checks them, to_json() never panics.
    let mut changed = list(1, vec![]);
    changed.sequence = 0;
    refused(changed.sign(&list_signer(&key)), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "sequence");
    changed.sequence = 1;
    changed.expires = i64::MAX;
    refused(TrustList::from_json(&changed.to_json()), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "expires");
}

/// A self-signed certificate for `cn`, valid from January 1st of `years.0` to that of `years.1`.
fn certificate(alg: &'static rcgen::SignatureAlgorithm, cn: &str, years: (i32, i32)) -> (Certificate, Arc<Key>) {
    let pair = rcgen::KeyPair::generate_for(alg).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    params.not_before = rcgen::date_time_ymd(years.0, 1, 1);
    params.not_after = rcgen::date_time_ymd(years.1, 1, 1);
    let cert = params.self_signed(&pair).unwrap();
    let key = Key::import(&pair.serialize_der(), None).unwrap();
    (Certificate::from_der(cert.der()).unwrap(), Arc::new(key.to_public()))
}

fn x5c_entry(facility: &str, role: Role, cert: &Certificate, key: &Arc<Key>) -> TrustEntry {
    TrustEntry { kid: cert.thumbprint_s256(), chain: Some(vec![cert.clone()]), ..entry(facility, role, key) }
}

#[test]
fn certificate_entries() {
    let (cert, key) = certificate(&rcgen::PKCS_ED25519, "Cho Ray Hospital", (2025, 2030));
    let e = x5c_entry("79001", Role::RecordSigning, &cert, &key);
    let json = list(1, vec![e]).to_json();
    let text = String::from_utf8(json.clone()).unwrap();
    let doc: Json = serde_json::from_str(&text).unwrap();
    let x5c = doc["entries"][0]["x5c"][0].as_str().unwrap();
    assert!(x5c.starts_with("MI") && doc["entries"][0].get("jwk").is_none(), "standard base64 DER: {text}");

    let read = TrustList::from_json(&json).unwrap();
    let e = &read.entries()[0];
    assert_eq!(e.chain.as_deref(), Some(&[cert.clone()][..]));
    assert_eq!((e.kid.as_str(), e.key.kid(), e.alg), (cert.thumbprint_s256().as_str(), key.kid(), Algorithm::EdDSA));
    assert_eq!(read.to_json(), json);

    // x5c problems, each named.
    let (mut doc, _) = document();
    let entry0 = |d: &mut Json| d["entries"][0].as_object_mut().unwrap().remove("jwk");
    entry0(&mut doc);
    doc["entries"][0]["x5c"] = json!([x5c]);
    read_ok_or(&doc, None);
    doc["entries"][0]["alg"] = json!("ES256");
    read_ok_or(&doc, Some("holds a key for EdDSA, not ES256"));
    doc["entries"][0]["alg"] = json!("EdDSA");
    doc["entries"][0]["x5c"] = json!([format!("{x5c}====")]);
    read_ok_or(&doc, Some("x5c[0] is not standard base64"));
    doc["entries"][0]["x5c"] = json!([x5c.trim_end_matches('=')]);
    if x5c.ends_with('=') {
        read_ok_or(&doc, Some("x5c[0] is not standard base64"));
    }
    doc["entries"][0]["x5c"] = json!([x5c.replace('+', "-").replace('/', "_")]);
    if x5c.contains(['+', '/']) {
        read_ok_or(&doc, Some("x5c[0] is not standard base64"));
    }
    doc["entries"][0]["x5c"] = json!(["AAAA"]);
    read_ok_or(&doc, Some("x5c[0]"));
    doc["entries"][0]["x5c"] = json!(vec![x5c; 9]);
    read_ok_or(&doc, Some("1 to 8 certificates"));
    doc["entries"][0]["x5c"] = json!([]);
    read_ok_or(&doc, Some("1 to 8 certificates"));

    // A list narrows a certificate's window, never extends it.
    let mut wide = x5c_entry("79001", Role::RecordSigning, &cert, &key);
    wide.not_after = cert.not_after() + 1;
    refused(
        TrustList::new("DoH", 1, T0, T0 + DAY, vec![wide]),
        ResultCode::MEDSEAL_TRUST_LIST_INVALID,
        "outside the certificate's validity",
    );
    let mut early = x5c_entry("79001", Role::RecordSigning, &cert, &key);
    early.not_before = cert.not_before() - 1;
    refused(
        TrustList::new("DoH", 1, T0, T0 + DAY, vec![early]),
        ResultCode::MEDSEAL_TRUST_LIST_INVALID,
        "outside the certificate's validity",
    );
    let mut exact = x5c_entry("79001", Role::RecordSigning, &cert, &key);
    (exact.not_before, exact.not_after) = (cert.not_before(), cert.not_after());
    TrustList::new("DoH", 1, T0, T0 + DAY, vec![exact]).unwrap();
    // The chain's leaf must hold the entry's key.
    let (other_cert, _) = certificate(&rcgen::PKCS_ED25519, "Other", (2025, 2030));
    let mut mismatched = x5c_entry("79001", Role::RecordSigning, &cert, &key);
    mismatched.chain = Some(vec![other_cert]);
    refused(
        TrustList::new("DoH", 1, T0, T0 + DAY, vec![mismatched]),
        ResultCode::MEDSEAL_TRUST_LIST_INVALID,
        "does not hold the entry's key",
    );
    let mut empty = x5c_entry("79001", Role::RecordSigning, &cert, &key);
    empty.chain = Some(vec![]);
    refused(TrustList::new("DoH", 1, T0, T0 + DAY, vec![empty]), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "x5c is empty");
}

#[track_caller]
fn read_ok_or(doc: &Json, needle: Option<&str>) {
    match needle {
        None => {
            read(doc).unwrap();
        }
        Some(needle) => refused(read(doc), ResultCode::MEDSEAL_TRUST_LIST_INVALID, needle),
    }
}

#[test]
fn roles_and_times_by_name() {
    for role in Role::ALL {
        assert_eq!(Role::from_str(role.as_str()), Some(role));
        assert_eq!(role.to_string(), role.as_str());
    }
    assert_eq!(Role::from_str("Record-Signing"), None);
    assert_eq!(trust::parse_time("2026-01-01T00:00:00Z").unwrap(), T0);
    for bad in ["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:60Z", "2026-02-30T00:00:00Z", " 2026-01-01T00:00:00Z", ""] {
        refused(trust::parse_time(bad), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "RFC 3339");
    }
}

/// Every single-byte change of a signed list and of its JSON gives an error or a list, never
/// a panic, and no change of the signed bytes is accepted.
#[test]
fn mutations_never_panic_or_pass() {
    let doh = ed25519();
    let the_list = list(1, vec![entry("79001", Role::RecordSigning, &ed25519())]);
    let json = the_list.to_json();
    let jws = the_list.sign(&list_signer(&doh)).unwrap().into_bytes();
    let keys = verifier(&doh);
    for i in 0..jws.len() {
        for replacement in [b'A', b'"', b'{', 0x80] {
            let mut bytes = jws.clone();
            if bytes[i] == replacement {
                continue;
            }
            bytes[i] = replacement;
            assert!(TrustList::verify(&bytes, &keys, T0, 0).is_err(), "byte {i} changed to {replacement:#x} still verifies");
            let _ = TrustList::from_jws_unverified(&bytes);
        }
    }
    for i in 0..json.len() {
        for replacement in [b'0', b'"', b'}', b'\\'] {
            let mut bytes = json.clone();
            bytes[i] = replacement;
            let _ = TrustList::from_json(&bytes);
        }
        let _ = TrustList::from_json(&json[..i]);
    }
}

#[test]
fn a_list_never_lists_its_own_signing_key() {
    // Issue 10, point 6: the department key that signs the list, listed in it, would sign
    // records, receipts or tree heads too. Refused in every role.
    let doh = ed25519();
    for role in [Role::RecordSigning, Role::TlsClient, Role::Receipt, Role::TreeHead] {
        let own = list(1, vec![entry("79001", Role::RecordSigning, &ed25519()), entry("department", role, &doh)]);
        let jws = own.sign(&list_signer(&doh)).unwrap();
        refused(TrustList::verify(jws.as_bytes(), &verifier(&doh), T0, 0), ResultCode::MEDSEAL_TRUST_LIST_INVALID, "own signing key");
    }
    // Another key of the department, listed, is fine: only the signing key is barred.
    let listed = list(1, vec![entry("department", Role::Receipt, &ed25519())]);
    TrustList::verify(listed.sign(&list_signer(&doh)).unwrap().as_bytes(), &verifier(&doh), T0, 0).unwrap();
}
