//! Signers other than software keys, seen through the record signer: host callbacks (a host
//! keystore medseal cannot open) and the clock guard. PKCS#11 tokens are in tests/pkcs11.rs,
//! certificate chains in tests/x509.rs and tests/jws_x5c.rs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use medseal::signers::{sign_checked, CallbackKey, SigningBackend};
use medseal::{Algorithm, Clock, DetachedPayload, Key, KeyFormat, ResultCode, Serialization, SignOptions, Signer, Verifier};

const RECORD: &[u8] = br#"{"resourceType":"Patient","id":"p1","name":[{"family":"Tran"}]}"#;

/// A "host keystore": a software key medseal never sees, reached only through the callback.
fn host_signer(host_key: Arc<Key>) -> Arc<medseal::signers::callback::SignFn> {
    Arc::new(move |message: &[u8]| host_key.sign(message).map_err(|e| e.to_string()))
}

/// A fresh RSA-2048 key from the openssl CLI (ring cannot generate RSA keys).
fn rsa_pkcs8_pem() -> Vec<u8> {
    let out = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
        .output()
        .expect("the openssl CLI is needed (scripts/install-deps.sh installs it)");
    assert!(out.status.success(), "openssl genpkey failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn public(key: &Key) -> Key {
    key.to_public()
}

#[test]
fn a_host_callback_signs_records_that_verify_for_every_algorithm() {
    let rsa_pem = rsa_pkcs8_pem();
    let keys = [
        Key::generate(Algorithm::EdDSA).unwrap(),
        Key::generate(Algorithm::ES256).unwrap(),
        Key::import(&rsa_pem, Some(Algorithm::RS256)).unwrap(),
        Key::import(&rsa_pem, Some(Algorithm::PS256)).unwrap(),
    ];
    for host_key in keys {
        let host_key = Arc::new(host_key);
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = {
            let (calls, inner) = (calls.clone(), host_signer(host_key.clone()));
            Arc::new(move |m: &[u8]| {
                calls.fetch_add(1, Ordering::SeqCst);
                inner(m)
            })
        };
        let backend: Arc<dyn SigningBackend> = Arc::new(CallbackKey::new(&public(&host_key), counted));
        assert_eq!(backend.algorithm(), host_key.algorithm());
        let signer = Signer::with_backend(backend, SignOptions::default()).unwrap();
        assert!(!signer.key().has_private(), "the callback signer holds no private key");
        let jws = signer.sign(RECORD, Serialization::Compact).unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let verified = Verifier::new(vec![Arc::new(public(&host_key))]).verify(jws.as_bytes(), DetachedPayload::None).unwrap();
        assert_eq!(verified.algorithm, host_key.algorithm());
        assert_eq!(verified.key_id, host_key.kid());
    }
}

#[test]
fn a_host_signature_that_does_not_verify_is_never_emitted() {
    let host_key = Key::generate(Algorithm::ES256).unwrap();
    let other = Arc::new(Key::generate(Algorithm::ES256).unwrap());
    // The host signs with the wrong key: a plausible 64-byte signature that does not verify.
    let backend = Arc::new(CallbackKey::new(&public(&host_key), host_signer(other)));
    let signer = Signer::with_backend(backend.clone(), SignOptions::default()).unwrap();
    let e = signer.sign(RECORD, Serialization::Flattened).unwrap_err();
    assert_eq!(e.code(), ResultCode::MEDSEAL_SIGNER_BAD_SIGNATURE, "{e}");
    assert!(e.message().contains(host_key.kid()), "{e}");
    assert_eq!(sign_checked(backend.as_ref(), b"x").unwrap_err().code(), ResultCode::MEDSEAL_SIGNER_BAD_SIGNATURE);

    // Garbage, empty and oversized answers.
    for answer in [vec![], vec![0u8; 64], vec![1u8; 2000]] {
        let backend = Arc::new(CallbackKey::new(&public(&host_key), Arc::new(move |_: &[u8]| Ok(answer.clone()))));
        let e = Signer::with_backend(backend, SignOptions::default()).unwrap().sign(RECORD, Serialization::Compact).unwrap_err();
        assert_eq!(e.code(), ResultCode::MEDSEAL_SIGNER_BAD_SIGNATURE, "{e}");
    }
}

#[test]
fn a_failing_host_is_reported_with_its_reason() {
    let host_key = Key::generate(Algorithm::EdDSA).unwrap();
    let backend = Arc::new(CallbackKey::new(&public(&host_key), Arc::new(|_: &[u8]| Err("keystore locked".to_owned()))));
    let e = Signer::with_backend(backend, SignOptions::default()).unwrap().sign(RECORD, Serialization::Compact).unwrap_err();
    assert_eq!(e.code(), ResultCode::MEDSEAL_SIGNER_FAILED);
    assert!(e.message().contains("keystore locked"), "{e}");
}

#[test]
fn der_ecdsa_signatures_from_java_style_hosts_are_accepted() {
    // Java's SHA256withECDSA returns ASN.1 DER; medseal converts it to the raw r‖s JWS wants.
    let host_key = Arc::new(Key::generate(Algorithm::ES256).unwrap());
    let signing = host_key.clone();
    let to_der = |raw: &[u8]| -> Vec<u8> {
        let int = |x: &[u8]| {
            let x: Vec<u8> = x.iter().copied().skip_while(|&b| b == 0).collect();
            let mut v = if x.first().is_some_and(|&b| b & 0x80 != 0) { vec![0] } else { vec![] };
            v.extend(x);
            let mut out = vec![0x02, v.len() as u8];
            out.extend(v);
            out
        };
        let body: Vec<u8> = [int(&raw[..32]), int(&raw[32..])].concat();
        [vec![0x30, body.len() as u8], body].concat()
    };
    let backend = Arc::new(CallbackKey::new(
        &public(&host_key),
        Arc::new(move |m: &[u8]| signing.sign(m).map(|raw| to_der(&raw)).map_err(|e| e.to_string())),
    ));
    let jws = Signer::with_backend(backend, SignOptions::default()).unwrap().sign(RECORD, Serialization::Compact).unwrap();
    let v = Verifier::new(vec![Arc::new(public(&host_key))]).verify(jws.as_bytes(), DetachedPayload::None).unwrap();
    assert_eq!(v.algorithm, Algorithm::ES256);
}

#[test]
fn the_clock_guard_refuses_signing_times_far_from_the_clock() {
    let key = Arc::new(Key::generate(Algorithm::EdDSA).unwrap());
    let now = 1_790_000_000; // injected: 2026-09-21
    let options = |fixed: Option<i64>, skew: Option<u32>| SignOptions {
        signing_time: fixed,
        max_clock_skew: skew,
        clock: Clock::from_fn(move || now),
        ..SignOptions::default()
    };
    let sign = |o: SignOptions| Signer::new(key.clone(), o).unwrap().sign(RECORD, Serialization::Compact);

    // Inside the skew, on either side, and exactly at its edge.
    for fixed in [now, now - 300, now + 300, now + 10] {
        assert!(sign(options(Some(fixed), Some(300))).is_ok(), "{fixed}");
    }
    // Outside it: a backdated and a post-dated record.
    for fixed in [now - 301, now + 301, now - 86_400 * 365] {
        let e = sign(options(Some(fixed), Some(300))).unwrap_err();
        assert_eq!(e.code(), ResultCode::MEDSEAL_SIGNING_TIME_SKEW, "{fixed}");
        assert!(e.message().contains("2026-09-21T"), "the message shows the clock: {e}");
    }
    // Without a fixed time the clock is the sigT, which the injected clock decides.
    let jws = sign(options(None, Some(0))).unwrap();
    let v = Verifier::new(vec![Arc::new(key.to_public())]).verify(jws.as_bytes(), DetachedPayload::None).unwrap();
    assert_eq!(v.signing_time.as_deref(), Some("2026-09-21T14:13:20Z"));
    // The guard is off unless a skew is configured (reproducible signing with fixed times).
    assert!(sign(options(Some(now - 86_400 * 365), None)).is_ok());
}

#[test]
fn callback_signers_can_sign_from_several_threads() {
    let host_key = Arc::new(Key::generate(Algorithm::ES256).unwrap());
    let backend = Arc::new(CallbackKey::new(&public(&host_key), host_signer(host_key.clone())));
    let signer = Arc::new(Signer::with_backend(backend, SignOptions::default()).unwrap());
    let verifier = Arc::new(Verifier::new(vec![Arc::new(public(&host_key))]));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (signer, verifier) = (signer.clone(), verifier.clone());
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let jws = signer.sign(RECORD, Serialization::Compact).unwrap();
                    verifier.verify(jws.as_bytes(), DetachedPayload::None).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // The public key the callback signer exposes exports like any public key.
    assert!(signer.key().export(KeyFormat::SpkiPem).is_ok());
}

#[test]
fn default_options_compare_equal_and_injected_clocks_do_not() {
    assert_eq!(SignOptions::default(), SignOptions::default());
    let injected = SignOptions { clock: Clock::from_fn(|| 0), ..SignOptions::default() };
    assert_ne!(injected, SignOptions::default());
    assert_eq!(injected.clone(), injected);
}

/// Wycheproof's ECDSA P-256/SHA-256 vectors with ASN.1 DER signatures (all 484, from
/// ../shared/vectors/wycheproof), returned by a host callback as Java's `SHA256withECDSA` would:
/// through the DER-to-raw conversion host callbacks use and `sign_checked`, every valid
/// signature is accepted (as the 64-byte r‖s that verifies), every invalid one is refused with
/// `MEDSEAL_SIGNER_BAD_SIGNATURE` (BER leniencies, wrong integers, wrong points: nothing invalid
/// becomes a record's signature).
#[test]
fn wycheproof_ecdsa_p256_der_signatures_through_the_host_callback_conversion() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/vectors/wycheproof/ecdsa_secp256r1_sha256_test.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    let hex = |v: &serde_json::Value| -> Vec<u8> {
        let s = v.as_str().expect("hex");
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    };
    let (mut valid, mut invalid, mut acceptable) = (0usize, 0usize, 0usize);
    let mut wrong = Vec::new();
    for group in file["testGroups"].as_array().unwrap() {
        assert_eq!(group["sha"], "SHA-256");
        let key = Key::import(group["publicKeyPem"].as_str().unwrap().as_bytes(), Some(Algorithm::ES256)).unwrap();
        for test in group["tests"].as_array().unwrap() {
            let (id, msg, sig) = (test["tcId"].as_u64().unwrap(), hex(&test["msg"]), hex(&test["sig"]));
            let returned = sig.clone();
            let host = CallbackKey::new(&key, Arc::new(move |_: &[u8]| Ok(returned.clone())));
            let result = sign_checked(&host, &msg);
            match (test["result"].as_str().unwrap(), &result) {
                ("valid", Ok(raw)) => {
                    assert_eq!(raw.len(), 64, "tcId {id}");
                    assert!(key.verify(&msg, raw), "tcId {id}: the raw form does not verify");
                    valid += 1;
                }
                ("invalid", Err(e)) => {
                    assert_eq!(e.code(), ResultCode::MEDSEAL_SIGNER_BAD_SIGNATURE, "tcId {id}: {e}");
                    invalid += 1;
                }
                ("acceptable", _) => acceptable += 1,
                (expected, got) => {
                    wrong.push(format!("tcId {id} ({expected}, {:?}): {:?}", test["comment"], got.as_ref().map(|_| "accepted")))
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} of 484 vectors decided wrongly:\n{}", wrong.len(), wrong.join("\n"));
    println!("wycheproof ecdsa_secp256r1_sha256 (DER): {valid} valid accepted, {invalid} invalid refused, {acceptable} acceptable");
    assert_eq!((valid, invalid, acceptable), (174, 310, 0), "every vector of the file was decided");
}
