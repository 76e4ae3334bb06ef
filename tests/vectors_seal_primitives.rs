//! Project Wycheproof vectors (../shared/vectors/wycheproof, never copied) through the
//! primitives the sealed envelopes are built from, exactly as medseal calls them:
//! `seal::hpke::x25519` (DHKEM's DH, with its all-zero refusal), `seal::hpke::aead_seal` /
//! `aead_open` (AES-128/256-GCM and ChaCha20-Poly1305 on ring), and `seal::hpke::hkdf_extract`
//! / `hkdf_expand` (HKDF-SHA256 as the HPKE key schedule uses it).
//!
//! Every test case of each file is counted as run or skipped (with the reason), and the totals
//! must equal the file's `numberOfTests`, so a changed file cannot silently shrink the run.
//! Run with `--nocapture` to see the per-file counts.

use medseal::seal::hpke::{self, Aead};
use medseal::ResultCode;
use serde_json::Value;
use x25519_dalek::StaticSecret;

fn load(name: &str) -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/vectors/wycheproof/");
    let path = format!("{dir}{name}");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read Wycheproof vectors {path}: {e} (they live in ../shared/vectors, see its README)"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

fn hex(v: &Value) -> Vec<u8> {
    let s = v.as_str().expect("hex string");
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn number_of_tests(file: &Value) -> usize {
    file["numberOfTests"].as_u64().expect("numberOfTests") as usize
}

fn groups(file: &Value) -> &Vec<Value> {
    file["testGroups"].as_array().expect("testGroups")
}

fn tests(group: &Value) -> &Vec<Value> {
    group["tests"].as_array().expect("tests")
}

fn flags(test: &Value) -> Vec<&str> {
    test["flags"].as_array().map(|f| f.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

fn result(test: &Value) -> &str {
    test["result"].as_str().expect("result")
}

fn id(test: &Value) -> u64 {
    test["tcId"].as_u64().expect("tcId")
}

#[test]
fn wycheproof_x25519() {
    let file = load("x25519_test.json");
    let (mut valid, mut zero_refused, mut acceptable_accepted, mut acceptable_refused, mut total) = (0, 0, 0, 0, 0);
    for group in groups(&file) {
        assert_eq!(group["curve"], "curve25519");
        for test in tests(group) {
            total += 1;
            let private: [u8; 32] = hex(&test["private"]).try_into().expect("32-byte private key");
            let public: [u8; 32] = hex(&test["public"]).try_into().expect("32-byte public key");
            let shared = hex(&test["shared"]);
            let got = hpke::x25519(&StaticSecret::from(private), &public);
            let zero = flags(test).contains(&"ZeroSharedSecret");
            match (result(test), zero) {
                ("valid", false) => {
                    let got = got.unwrap_or_else(|e| panic!("tcId {}: valid case refused: {e}", id(test)));
                    assert_eq!(got.as_slice(), shared, "tcId {}", id(test));
                    valid += 1;
                }
                (_, true) => {
                    // RFC 9180 §7.1.4: DHKEM must refuse an all-zero DH output.
                    assert!(shared.iter().all(|b| *b == 0), "tcId {}: ZeroSharedSecret with a non-zero result", id(test));
                    let e = got.expect_err("an all-zero shared secret must be refused");
                    assert_eq!(e.code(), ResultCode::MEDSEAL_SEAL_ZERO_SHARED_SECRET, "tcId {}", id(test));
                    zero_refused += 1;
                }
                ("acceptable", false) => match got {
                    // Either outcome is allowed; a result that is given must still be right.
                    Ok(got) => {
                        assert_eq!(got.as_slice(), shared, "tcId {}", id(test));
                        acceptable_accepted += 1;
                    }
                    Err(_) => acceptable_refused += 1,
                },
                (other, _) => panic!("tcId {}: unexpected result {other:?} in x25519_test.json", id(test)),
            }
        }
    }
    println!(
        "x25519_test.json: {total} of {} run: {valid} valid equal, {zero_refused} ZeroSharedSecret refused, \
         acceptable {acceptable_accepted} accepted (equal) / {acceptable_refused} refused",
        number_of_tests(&file)
    );
    assert_eq!(total, number_of_tests(&file));
    assert_eq!(zero_refused, 31, "the README announces 31 ZeroSharedSecret cases");
    assert_eq!(valid + zero_refused + acceptable_accepted + acceptable_refused, total);
}

/// Runs one AEAD test case through `aead_seal` and `aead_open`. Valid: sealing gives
/// `ct || tag` and opening gives back `msg`. Invalid: opening fails with DECRYPT_FAILED.
fn aead_case(suite: Aead, test: &Value, file: &str) {
    let (key, iv, aad, msg, ct, tag) =
        (hex(&test["key"]), hex(&test["iv"]), hex(&test["aad"]), hex(&test["msg"]), hex(&test["ct"]), hex(&test["tag"]));
    let nonce: [u8; 12] = iv.as_slice().try_into().expect("a 96-bit IV group holds 12-byte IVs");
    assert_eq!(key.len(), suite.key_len(), "{file} tcId {}", id(test));
    let sealed_expected = [ct.as_slice(), tag.as_slice()].concat();
    match result(test) {
        "valid" => {
            let mut buffer = msg.clone();
            hpke::aead_seal(suite, &key, &nonce, &aad, &mut buffer).unwrap_or_else(|e| panic!("{file} tcId {}: {e}", id(test)));
            assert_eq!(buffer, sealed_expected, "{file} tcId {}: seal", id(test));
            let mut buffer = sealed_expected.clone();
            let len = hpke::aead_open(suite, &key, &nonce, &aad, &mut buffer).unwrap_or_else(|e| panic!("{file} tcId {}: {e}", id(test)));
            assert_eq!(&buffer[..len], msg.as_slice(), "{file} tcId {}: open", id(test));
        }
        "invalid" => {
            let mut buffer = sealed_expected.clone();
            let e = hpke::aead_open(suite, &key, &nonce, &aad, &mut buffer).expect_err("an invalid case must not open");
            assert_eq!(e.code(), ResultCode::MEDSEAL_SEAL_DECRYPT_FAILED, "{file} tcId {}", id(test));
        }
        other => panic!("{file} tcId {}: unexpected result {other:?}", id(test)),
    }
}

#[test]
fn wycheproof_aes_gcm() {
    let file = load("aes_gcm_test.json");
    let (mut run, mut run_groups, mut skipped_192, mut skipped_192_iv96, mut skipped_iv, mut total) = (0, 0, 0, 0, 0, 0);
    let mut runnable_groups = 0;
    for group in groups(&file) {
        let (key_size, iv_size, tag_size) = (group["keySize"].as_u64(), group["ivSize"].as_u64(), group["tagSize"].as_u64());
        assert_eq!(tag_size, Some(128), "every AES-GCM group has 128-bit tags");
        let n = tests(group).len();
        total += n;
        let suite = match (key_size, iv_size) {
            (Some(128), Some(96)) => Aead::Aes128Gcm,
            (Some(256), Some(96)) => Aead::Aes256Gcm,
            (Some(192), _) => {
                // ring has no AES-192; medseal never uses it.
                skipped_192 += n;
                if iv_size == Some(96) {
                    skipped_192_iv96 += n;
                }
                continue;
            }
            _ => {
                // Other IV lengths cannot be expressed: the API takes a [u8; 12] nonce.
                skipped_iv += n;
                continue;
            }
        };
        runnable_groups += 1;
        for test in tests(group) {
            aead_case(suite, test, "aes_gcm_test.json");
            run += 1;
        }
        run_groups += 1;
    }
    println!(
        "aes_gcm_test.json: {total} of {}: {run} run in {run_groups} groups (96-bit IV, 128/256-bit keys), \
         {skipped_192} skipped (192-bit keys, {skipped_192_iv96} of them with 96-bit IVs: not in ring), {skipped_iv} skipped (IV not 96 bits: not expressible)",
        number_of_tests(&file)
    );
    assert_eq!(total, number_of_tests(&file));
    assert_eq!(run + skipped_192 + skipped_iv, total);
    assert_eq!(run_groups, runnable_groups, "every 96-bit-IV group with a 128- or 256-bit key was run");
    assert!(run_groups >= 2 && run > 100, "too few AES-GCM cases run: {run} in {run_groups} groups");
}

#[test]
fn wycheproof_chacha20_poly1305() {
    let file = load("chacha20_poly1305_test.json");
    let (mut run, mut skipped_iv, mut total) = (0, 0, 0);
    for group in groups(&file) {
        assert_eq!((group["keySize"].as_u64(), group["tagSize"].as_u64()), (Some(256), Some(128)));
        let n = tests(group).len();
        total += n;
        if group["ivSize"].as_u64() != Some(96) {
            // Wrong-length nonces (0 to 256 bits): the [u8; 12] nonce type makes them
            // impossible to pass, which is the refusal these cases ask for.
            for test in tests(group) {
                assert_eq!(result(test), "invalid", "tcId {}", id(test));
            }
            skipped_iv += n;
            continue;
        }
        for test in tests(group) {
            aead_case(Aead::ChaCha20Poly1305, test, "chacha20_poly1305_test.json");
            run += 1;
        }
    }
    println!(
        "chacha20_poly1305_test.json: {total} of {}: {run} run (96-bit IV), {skipped_iv} not expressible (other IV sizes, all invalid)",
        number_of_tests(&file)
    );
    assert_eq!(total, number_of_tests(&file));
    assert_eq!(run + skipped_iv, total);
    assert!(run > 300, "too few ChaCha20-Poly1305 cases run: {run}");
}

#[test]
fn wycheproof_hkdf_sha256() {
    let file = load("hkdf_sha256_test.json");
    let (mut valid, mut invalid, mut total) = (0, 0, 0);
    for group in groups(&file) {
        for test in tests(group) {
            total += 1;
            let (ikm, salt, info, okm) = (hex(&test["ikm"]), hex(&test["salt"]), hex(&test["info"]), hex(&test["okm"]));
            let size = test["size"].as_u64().expect("size") as usize;
            let prk = hpke::hkdf_extract(&salt, &[ikm.as_slice()]);
            let mut out = vec![0u8; size];
            let got = hpke::hkdf_expand(prk.as_slice(), &[info.as_slice()], &mut out);
            match result(test) {
                "valid" => {
                    got.unwrap_or_else(|e| panic!("tcId {}: {e}", id(test)));
                    assert_eq!(out, okm, "tcId {}", id(test));
                    // The parts of `ikm` and `info` are concatenated: a split gives the same.
                    let (i1, i2) = ikm.split_at(ikm.len() / 2);
                    let (n1, n2) = info.split_at(info.len() / 3);
                    let prk2 = hpke::hkdf_extract(&salt, &[i1, &[], i2]);
                    assert_eq!(prk2.as_slice(), prk.as_slice(), "tcId {}: split ikm", id(test));
                    let mut out2 = vec![0u8; size];
                    hpke::hkdf_expand(prk2.as_slice(), &[n1, n2], &mut out2).unwrap();
                    assert_eq!(out2, okm, "tcId {}: split info", id(test));
                    valid += 1;
                }
                "invalid" => {
                    assert!(size > 255 * 32, "tcId {}: the only invalid cases are sizes over 8160", id(test));
                    let e = got.expect_err("over 255 * 32 bytes must be refused");
                    assert_eq!(e.code(), ResultCode::MEDSEAL_INVALID_ARGUMENT, "tcId {}", id(test));
                    invalid += 1;
                }
                other => panic!("tcId {}: unexpected result {other:?}", id(test)),
            }
        }
    }
    println!("hkdf_sha256_test.json: {total} of {}: {valid} valid equal, {invalid} invalid (size > 8160) refused", number_of_tests(&file));
    assert_eq!(total, number_of_tests(&file));
    assert_eq!(valid + invalid, total);
}
