//! Signature vectors through medseal's own API: Project Wycheproof (Ed25519, ECDSA P-256 P1363,
//! RSASSA-PKCS1-v1_5 and RSASSA-PSS 2048/SHA-256), the Ed25519 reference `sign.input`, and the
//! JOSE examples of RFC 7515 A.3, RFC 8037 Appendix A and the JOSE cookbook.
//!
//! The vectors are read in place from the `shared/` checkout beside this repository. A missing
//! vector file is a test failure, never a silent skip.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use medseal::keys::KeyFormat;
use medseal::{canonicalize, Algorithm, CanonOptions, DetachedPayload, Key, ResultCode, Verifier};
use serde_json::Value;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/vectors");

fn vector_path(rel: &str) -> PathBuf {
    let path = Path::new(VECTORS).join(rel);
    assert!(path.is_file(), "vector file {} is missing: clone the shared/ repository beside this one", path.display());
    path
}

fn read(rel: &str) -> Vec<u8> {
    let path = vector_path(rel);
    fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn read_json(rel: &str) -> Value {
    serde_json::from_slice(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"))
}

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "odd hex length");
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
}

fn b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64u(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

fn s<'a>(v: &'a Value, name: &str) -> &'a str {
    v[name].as_str().unwrap_or_else(|| panic!("missing string member {name}"))
}

// ---------------------------------------------------------------------------------------------
// Wycheproof
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Tally {
    tests: usize,
    valid: usize,
    invalid: usize,
    acceptable_accepted: usize,
    acceptable_refused: usize,
    /// Groups whose key medseal refused, and how many (all invalid) tests they held.
    groups_key_refused: usize,
    tests_in_refused_groups: usize,
    key_forms_imported: usize,
}

/// Imports every encoding of the group's public key the file offers; they must all agree.
/// Returns the keys, or the error when every form is refused.
fn import_group_keys(
    file: &str,
    index: usize,
    group: &Value,
    alg: Option<Algorithm>,
    tally: &mut Tally,
) -> Result<Vec<Key>, medseal::Error> {
    let mut forms: Vec<(&str, Vec<u8>)> = Vec::new();
    if let Some(der) = group["publicKeyDer"].as_str() {
        forms.push(("publicKeyDer", hex(der)));
    }
    if let Some(pem) = group["publicKeyPem"].as_str() {
        forms.push(("publicKeyPem", pem.as_bytes().to_vec()));
    }
    if let Some(asn) = group["publicKeyAsn"].as_str() {
        forms.push(("publicKeyAsn", hex(asn)));
    }
    for name in ["publicKeyJwk", "keyJwk"] {
        if group[name].is_object() {
            forms.push((name, serde_json::to_vec(&group[name]).unwrap()));
        }
    }
    assert!(!forms.is_empty(), "{file} group {index}: no public key encoding");
    let results: Vec<(&str, Result<Key, medseal::Error>)> = forms.iter().map(|(n, b)| (*n, Key::import(b, alg))).collect();
    let ok: Vec<&Key> = results.iter().filter_map(|(_, r)| r.as_ref().ok()).collect();
    if ok.is_empty() {
        return Err(results.into_iter().next().unwrap().1.unwrap_err());
    }
    assert_eq!(
        ok.len(),
        results.len(),
        "{file} group {index}: some key encodings import and some do not: {:?}",
        results.iter().map(|(n, r)| (n, r.as_ref().map(|k| k.kid().to_owned()).map_err(|e| e.code()))).collect::<Vec<_>>()
    );
    for key in &ok {
        assert_eq!(key.kid(), ok[0].kid(), "{file} group {index}: encodings give different keys");
        assert!(!key.has_private());
        if let Some(alg) = alg {
            assert_eq!(key.algorithm(), alg);
        }
    }
    tally.key_forms_imported += ok.len();
    Ok(results.into_iter().map(|(_, r)| r.unwrap()).collect())
}

fn run_wycheproof(file: &str, alg: Option<Algorithm>, expected_alg: Algorithm) -> Tally {
    let doc = read_json(&format!("wycheproof/{file}"));
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for (index, group) in doc["testGroups"].as_array().expect("testGroups").iter().enumerate() {
        let tests = group["tests"].as_array().expect("tests");
        let keys = match import_group_keys(file, index, group, alg, &mut tally) {
            Ok(keys) => keys,
            Err(e) => {
                // A key medseal refuses is acceptable only if nothing in the group is valid.
                eprintln!("{file} group {index}: key refused ({e}); {} test(s), all must be invalid", tests.len());
                for t in tests {
                    assert_eq!(t["result"], "invalid", "{file} tcId {}: key refused ({e}) but the test is not invalid", t["tcId"]);
                }
                tally.groups_key_refused += 1;
                tally.tests_in_refused_groups += tests.len();
                tally.tests += tests.len();
                tally.invalid += tests.len();
                continue;
            }
        };
        for key in &keys {
            assert_eq!(key.algorithm(), expected_alg, "{file} group {index}");
        }
        for t in tests {
            let id = &t["tcId"];
            let msg = hex(s(t, "msg"));
            let sig = hex(s(t, "sig"));
            let verdicts: Vec<bool> = keys.iter().map(|k| k.verify(&msg, &sig)).collect();
            assert!(verdicts.iter().all(|v| *v == verdicts[0]), "{file} tcId {id}: key encodings disagree");
            let accepted = verdicts[0];
            tally.tests += 1;
            match (s(t, "result"), accepted) {
                ("valid", true) => tally.valid += 1,
                ("invalid", false) => tally.invalid += 1,
                ("acceptable", true) => tally.acceptable_accepted += 1,
                ("acceptable", false) => tally.acceptable_refused += 1,
                (result, accepted) => failures.push(format!(
                    "tcId {id} ({}; flags {}): expected {result}, medseal {}",
                    s(t, "comment"),
                    t["flags"],
                    if accepted { "accepted" } else { "refused" }
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{file}: {} failure(s):\n{}", failures.len(), failures.join("\n"));
    let expected = doc["numberOfTests"].as_u64().expect("numberOfTests") as usize;
    assert_eq!(tally.tests, expected, "{file}: tests processed vs numberOfTests");
    eprintln!("{file}: {tally:?}");
    tally
}

#[test]
fn wycheproof_ed25519() {
    let t = run_wycheproof("ed25519_test.json", None, Algorithm::EdDSA);
    assert_eq!((t.tests, t.valid, t.invalid), (151, 88, 63));
    assert_eq!(t.groups_key_refused, 0);
}

#[test]
fn wycheproof_ecdsa_p256_p1363() {
    let t = run_wycheproof("ecdsa_secp256r1_sha256_p1363_test.json", None, Algorithm::ES256);
    assert_eq!((t.tests, t.valid, t.invalid), (262, 173, 89));
    assert_eq!(t.groups_key_refused, 0);
}

#[test]
fn wycheproof_rsa_pkcs1_2048_sha256() {
    let t = run_wycheproof("rsa_signature_2048_sha256_test.json", None, Algorithm::RS256);
    assert_eq!(t.tests, 259);
    assert_eq!(t.valid, 9);
    assert_eq!(t.acceptable_accepted + t.acceptable_refused, 1, "tcId 8 (MissingNull)");
    assert_eq!(t.groups_key_refused, 0);
    // Also with the algorithm asked for explicitly.
    let t = run_wycheproof("rsa_signature_2048_sha256_test.json", Some(Algorithm::RS256), Algorithm::RS256);
    assert_eq!(t.tests, 259);
}

#[test]
fn wycheproof_rsa_pss_2048_sha256_mgf1_32() {
    let t = run_wycheproof("rsa_pss_2048_sha256_mgf1_32_test.json", Some(Algorithm::PS256), Algorithm::PS256);
    assert_eq!((t.tests, t.valid, t.invalid), (108, 63, 45));
    assert_eq!(t.groups_key_refused, 0);
}

#[test]
fn wycheproof_pss_key_is_not_rs256() {
    // The same RSA key bound to RS256 refuses every PSS signature (no algorithm confusion).
    // The one test flagged WrongPrimitive is a PKCS#1 v1.5 signature: invalid for the PS256 key
    // (checked above), and exactly the one the RS256 key accepts.
    let doc = read_json("wycheproof/rsa_pss_2048_sha256_mgf1_32_test.json");
    let group = &doc["testGroups"][0];
    let key = Key::import(&hex(s(group, "publicKeyDer")), Some(Algorithm::RS256)).unwrap();
    assert_eq!(key.algorithm(), Algorithm::RS256);
    let (mut checked, mut pkcs1) = (0, 0);
    for t in group["tests"].as_array().unwrap() {
        let wrong_primitive = t["flags"].as_array().unwrap().iter().any(|f| f == "WrongPrimitive");
        assert_eq!(key.verify(&hex(s(t, "msg")), &hex(s(t, "sig"))), wrong_primitive, "tcId {}", t["tcId"]);
        pkcs1 += usize::from(wrong_primitive);
        checked += 1;
    }
    assert_eq!((checked, pkcs1), (108, 1));
    // The PSS JWK says "alg":"PS256", which contradicts an RS256 request.
    let jwk = serde_json::to_vec(&group["publicKeyJwk"]).unwrap();
    assert_eq!(Key::import(&jwk, Some(Algorithm::RS256)).unwrap_err().code(), ResultCode::MEDSEAL_KEY_UNSUPPORTED);
    assert_eq!(Key::import(&jwk, None).unwrap().algorithm(), Algorithm::PS256);
}

// ---------------------------------------------------------------------------------------------
// Ed25519 sign.input
// ---------------------------------------------------------------------------------------------

#[test]
fn ed25519_sign_input_all_lines() {
    let text = String::from_utf8(read("ed25519/sign.input")).unwrap();
    let mut checked = 0;
    for (n, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split(':').collect();
        assert_eq!(fields.len(), 5, "line {}: expected 4 fields and a trailing ':'", n + 1);
        assert_eq!(fields[4], "", "line {}", n + 1);
        let sk_pk = hex(fields[0]);
        let pk = hex(fields[1]);
        let msg = hex(fields[2]);
        let sig_msg = hex(fields[3]);
        assert_eq!(sk_pk.len(), 64);
        assert_eq!(&sk_pk[32..], &pk[..], "line {}", n + 1);
        assert_eq!(&sig_msg[64..], &msg[..], "line {}", n + 1);
        let expected_sig = &sig_msg[..64];

        let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","d":"{}","x":"{}"}}"#, b64u(&sk_pk[..32]), b64u(&pk));
        let key = Key::import(jwk.as_bytes(), None).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        assert_eq!(key.algorithm(), Algorithm::EdDSA);
        assert!(key.has_private());
        let sig = key.sign(&msg).unwrap();
        assert_eq!(sig, expected_sig, "line {}: signature differs", n + 1);
        assert!(key.verify(&msg, &sig), "line {}", n + 1);

        // The public key alone verifies, and refuses a flipped bit.
        let public = Key::import(format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, b64u(&pk)).as_bytes(), None).unwrap();
        assert_eq!(public.kid(), key.kid());
        assert!(public.verify(&msg, expected_sig), "line {}", n + 1);
        let mut bad = expected_sig.to_vec();
        bad[n % 64] ^= 1 << (n % 8);
        assert!(!public.verify(&msg, &bad), "line {}: flipped bit accepted", n + 1);

        // A seed with the wrong public key is refused.
        if n < 16 {
            let mut wrong_pk = pk.clone();
            wrong_pk[0] ^= 1;
            let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","d":"{}","x":"{}"}}"#, b64u(&sk_pk[..32]), b64u(&wrong_pk));
            assert_eq!(Key::import(jwk.as_bytes(), None).unwrap_err().code(), ResultCode::MEDSEAL_KEY_INVALID);
        }
        checked += 1;
    }
    assert_eq!(checked, 1024);
}

// ---------------------------------------------------------------------------------------------
// JOSE: RFC 7515 A.3, RFC 8037 Appendix A, JOSE cookbook
// ---------------------------------------------------------------------------------------------

fn verifier(key: Key) -> Verifier {
    Verifier::new(vec![Arc::new(key)])
}

#[test]
fn rfc7515_a3_es256() {
    let v = read_json("jose-rfc/rfc7515-a3-es256.json");
    let jwk = serde_json::to_vec(&v["jwk"]).unwrap();
    let key = Key::import(&jwk, None).unwrap();
    assert_eq!(key.algorithm(), Algorithm::ES256);
    assert!(key.has_private());

    let payload = s(&v, "payload").as_bytes();
    assert!(payload.windows(2).any(|w| w == b"\r\n"), "the payload keeps its CRLF");
    assert_eq!(unb64u(s(&v, "payload_b64u")), payload);
    assert_eq!(unb64u(s(&v, "protected_b64u")), s(&v, "protected").as_bytes());
    assert_eq!(format!("{}.{}", s(&v, "protected_b64u"), s(&v, "payload_b64u")), s(&v, "signing_input"));

    // Raw primitive: P1363 r||s over the signing input (high S, which ring accepts).
    let sig = unb64u(s(&v, "signature_b64u"));
    assert_eq!(sig.len(), 64);
    assert!(key.verify(s(&v, "signing_input").as_bytes(), &sig));

    // Compact, flattened and general JSON, with the private key and with the public half.
    let flat = serde_json::json!({"protected": v["protected_b64u"], "payload": v["payload_b64u"], "signature": v["signature_b64u"]});
    let general = serde_json::json!({"payload": v["payload_b64u"], "signatures": [{"protected": v["protected_b64u"], "signature": v["signature_b64u"]}]});
    let mut public_jwk = v["jwk"].clone();
    public_jwk.as_object_mut().unwrap().remove("d");
    let public = Key::import(&serde_json::to_vec(&public_jwk).unwrap(), None).unwrap();
    assert!(!public.has_private());
    assert_eq!(public.kid(), key.kid());
    let kid = key.kid().to_owned();
    for verifier in [verifier(key), verifier(public)] {
        for jws in [s(&v, "compact").to_owned(), flat.to_string(), general.to_string()] {
            let verified = verifier.verify(jws.as_bytes(), DetachedPayload::None).unwrap_or_else(|e| panic!("{jws}: {e}"));
            assert_eq!(verified.payload, payload);
            assert_eq!(verified.algorithm, Algorithm::ES256);
            assert_eq!(verified.key_id, kid);
            assert_eq!(verified.header_kid, None);
            assert_eq!(verified.typ, None);
            assert_eq!(verified.protected_header, br#"{"alg":"ES256"}"#);
        }
        // A flipped signature bit is refused.
        let mut bad = sig.clone();
        bad[10] ^= 0x40;
        let jws = format!("{}.{}", s(&v, "signing_input"), b64u(&bad));
        assert_eq!(verifier.verify(jws.as_bytes(), DetachedPayload::None).unwrap_err().code(), ResultCode::MEDSEAL_JWS_SIGNATURE_INVALID);
    }
}

#[test]
fn rfc8037_appendix_a() {
    let v = read_json("jose-rfc/rfc8037-appendix-a.json");
    let a1 = &v["A.1_private_key"];
    let a3 = &v["A.3_thumbprint"];
    let a4 = &v["A.4_sign"];
    let a5 = &v["A.5_verify"];

    // A.1 / A.2: the private and public JWKs give the same key.
    let private = Key::import(&serde_json::to_vec(&a1["jwk"]).unwrap(), None).unwrap();
    let public = Key::import(&serde_json::to_vec(&v["A.2_public_key"]["jwk"]).unwrap(), None).unwrap();
    assert_eq!(private.algorithm(), Algorithm::EdDSA);
    assert!(private.has_private() && !public.has_private());
    assert_eq!(unb64u(s(&a1["jwk"], "d")), hex(s(a1, "secret_hex")));
    assert_eq!(unb64u(s(&a1["jwk"], "x")), hex(s(a1, "public_hex")));

    // A.3: the thumbprint is the kid; the canonical JWK is RFC 8785 output.
    let thumbprint = s(a3, "thumbprint_b64u");
    assert_eq!(private.kid(), thumbprint);
    assert_eq!(public.kid(), thumbprint);
    assert_eq!(unb64u(thumbprint), hex(s(a3, "sha256_hex")));
    let canonical_jwk = s(a3, "canonical_jwk").as_bytes();
    assert_eq!(canonicalize(&serde_json::to_vec(&v["A.2_public_key"]["jwk"]).unwrap(), &CanonOptions::default()).unwrap(), canonical_jwk);
    assert_eq!(ring::digest::digest(&ring::digest::SHA256, canonical_jwk).as_ref(), &hex(s(a3, "sha256_hex"))[..]);
    // The exported JWK carries the same members plus alg, kid and use.
    let exported: Value = serde_json::from_slice(&public.export(KeyFormat::Jwk).unwrap()).unwrap();
    assert_eq!(exported, serde_json::json!({"alg":"EdDSA","crv":"Ed25519","kid":thumbprint,"kty":"OKP","use":"sig","x":a1["jwk"]["x"]}));

    // A.4: deterministic signing reproduces the RFC signature.
    assert_eq!(unb64u(s(a4, "protected_b64u")), s(a4, "protected").as_bytes());
    assert_eq!(unb64u(s(a4, "payload_b64u")), s(a4, "payload").as_bytes());
    let signing_input = s(a4, "signing_input");
    let sig = private.sign(signing_input.as_bytes()).unwrap();
    assert_eq!(sig, hex(s(a4, "signature_hex")));
    assert_eq!(b64u(&sig), s(a4, "signature_b64u"));
    assert_eq!(format!("{signing_input}.{}", b64u(&sig)), s(a4, "compact"));

    // A.5: verification with the public key.
    let public_a5 = Key::import(&serde_json::to_vec(&a5["public_key_jwk"]).unwrap(), None).unwrap();
    assert_eq!(s(a5, "expected"), "valid");
    let verified = verifier(public_a5).verify(s(a5, "compact").as_bytes(), DetachedPayload::None).unwrap();
    assert_eq!(verified.payload, s(a5, "payload").as_bytes());
    assert_eq!(verified.protected_header, s(a5, "protected").as_bytes());
    assert_eq!(verified.algorithm, Algorithm::EdDSA);
    assert_eq!(verified.key_id, thumbprint);
    // The same compact JWS with the private key as the trusted key.
    assert!(verifier(private).verify(s(a4, "compact").as_bytes(), DetachedPayload::None).is_ok());
}

#[test]
fn jose_cookbook_curve25519_jws() {
    let v = read_json("jose-cookbook/curve25519/jws.json");
    assert_eq!(v["reproducible"], true);
    assert_eq!(s(&v["input"], "alg"), "EdDSA");
    let key = Key::import(&serde_json::to_vec(&v["input"]["key"]).unwrap(), None).unwrap();
    assert_eq!(key.algorithm(), Algorithm::EdDSA);
    let payload = s(&v["input"], "payload").as_bytes();
    let signing = &v["signing"];
    assert_eq!(serde_json::from_slice::<Value>(&unb64u(s(signing, "protected_b64u"))).unwrap(), signing["protected"]);

    let sig = key.sign(s(signing, "sig-input").as_bytes()).unwrap();
    assert_eq!(b64u(&sig), s(signing, "sig"));

    let output = &v["output"];
    let forms = [s(output, "compact").to_owned(), output["json"].to_string(), output["json_flat"].to_string()];
    let public = key.to_public();
    for verifier in [verifier(key), verifier(public)] {
        for jws in &forms {
            let verified = verifier.verify(jws.as_bytes(), DetachedPayload::None).unwrap_or_else(|e| panic!("{jws}: {e}"));
            assert_eq!(verified.payload, payload);
            assert_eq!(verified.algorithm, Algorithm::EdDSA);
        }
        // The JSON forms pretty-printed (whitespace is allowed around JSON JWS members).
        let pretty = serde_json::to_string_pretty(&output["json_flat"]).unwrap();
        assert!(verifier.verify(pretty.as_bytes(), DetachedPayload::None).is_ok());
    }
}
