//! What the fuzzers exercise, shared by the libFuzzer targets (`fuzz_targets/*.rs`) and the
//! stable fallback driver (`src/bin/fuzz_driver.rs`). One function per parser; each takes
//! arbitrary bytes, checks every invariant it can, and returns a small outcome signature.
//! Any panic, any unexpected error code and any broken invariant is a finding.
//!
//! - [`envelope`]: sealed-envelope decoding (protobuf, JSON, auto-detect), opening with a
//!   fixed recipient key, re-encoding.
//! - [`canon`]: RFC 8785 canonicalization under the strict, plain and NFC-normalizing
//!   options; outputs must be fixed points, re-parse to the same value, and agree with an
//!   independent parser (serde_json).
//! - [`keys`]: signing-key and recipient-key import from any encoding; every key that
//!   imports must export in every format valid for it and re-import with the same kid.
//! - [`jws`]: JWS verification with one fixed Ed25519 key; a success is only allowed for a
//!   header and payload that key actually signed (see [`jws_seeds`]).
//! - [`x509`]: certificate and chain parsing (DER round trip, thumbprint), path validation
//!   against a fixed root at fixed times, and the certificate as `x5c` in a JWS; a validation
//!   may succeed only with certificates the fixed CAs issued (fuzz/certs/).
//! - [`trust`]: trust-list reading (JSON, signed JWS unverified) and verification with a fixed
//!   list key; every list read re-serializes to a canonical fixed point, and only lists that
//!   key signed (see [`trust_seeds`]) may verify.
//! - [`ledger`]: receipts and tree heads verified with fixed Ed25519 keys (and their payloads
//!   signed in the target), ledger entries, inclusion and consistency proofs (protobuf, JSON),
//!   and `verify_receipt` against a fixed 7-leaf tree; only what the fixed keys signed
//!   verifies, only the real proofs verify, and whatever reads re-serializes to a fixed point.
//!
//! The seed corpora come from the `*_seeds` functions, written by `fuzz_driver seed TARGET`.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use medseal::canon::{self as canon_mod, Value};
use medseal::jws::TrustedBy;
use medseal::ledger::{self, Hash, LedgerEntry, MerkleTree, Receipt, ReceiptCheck, TreeHead};
use medseal::trust::{self, Role, TrustEntry, TrustList};
use medseal::wire::{ConsistencyProof, InclusionProof};
use medseal::x509::{Certificate, TrustAnchors};
use medseal::{
    canonicalize, Aead, Algorithm, CanonOptions, DetachedPayload, Envelope, Key, KeyFormat, Meta, NfcPolicy, RecipientKey, ResultCode,
    Serialization, SignOptions, Signer, Verifier,
};
use ResultCode::*;

/// A fuzz target: its name (also the libFuzzer binary, corpus directory and dictionary), the
/// function under test and its seed inputs.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]) -> u32,
    pub seeds: fn() -> Vec<(String, Vec<u8>)>,
}

/// Every target, in the order `run.sh all` runs them.
pub const TARGETS: &[Target] = &[
    Target { name: "envelope", run: envelope, seeds: envelope_seeds },
    Target { name: "canon", run: canon, seeds: canon_seeds },
    Target { name: "keys", run: keys, seeds: keys_seeds },
    Target { name: "jws", run: jws, seeds: jws_seeds },
    Target { name: "x509", run: x509, seeds: x509_seeds },
    Target { name: "trust", run: trust, seeds: trust_seeds },
    Target { name: "ledger", run: ledger, seeds: ledger_seeds },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The fixed recipient's private key: the seeds are sealed to it, so mutated inputs reach
/// the HPKE and AEAD code when opened.
pub const FIXED_SECRET: [u8; 32] = [0x42; 32];

/// The fixed recipient key.
pub fn fixed_key() -> &'static RecipientKey {
    static KEY: OnceLock<RecipientKey> = OnceLock::new();
    KEY.get_or_init(|| RecipientKey::from_raw_private(&FIXED_SECRET).expect("32 bytes"))
}

/// Codes a decoder may return (`MEDSEAL_SEAL_DECRYPT_FAILED`: an informative `info` copy that
/// is not the meta's, an altered envelope).
const DECODE_ERRORS: &[ResultCode] = &[
    MEDSEAL_SEAL_DECRYPT_FAILED,
    MEDSEAL_SEAL_MALFORMED,
    MEDSEAL_SEAL_NOT_PROTOBUF,
    MEDSEAL_SEAL_TRUNCATED,
    MEDSEAL_SEAL_UNKNOWN_SUITE,
    MEDSEAL_SEAL_META_INVALID,
    MEDSEAL_SEAL_TOO_LARGE,
];

/// Codes opening a decoded envelope may return.
const OPEN_ERRORS: &[ResultCode] = &[
    MEDSEAL_SEAL_WRONG_RECIPIENT,
    MEDSEAL_SEAL_DECRYPT_FAILED,
    MEDSEAL_SEAL_TRUNCATED,
    MEDSEAL_SEAL_ZERO_SHARED_SECRET,
    MEDSEAL_SEAL_MALFORMED,
];

/// The fuzz target. Returns a small outcome signature (used by the fallback driver to keep
/// inputs that reach new outcomes; libFuzzer ignores it).
pub fn envelope(data: &[u8]) -> u32 {
    let decoded = Envelope::decode(data);
    let proto = Envelope::from_protobuf(data);
    let json = Envelope::from_json(data);
    for (what, result) in [("decode", &decoded), ("from_protobuf", &proto), ("from_json", &json)] {
        if let Err(e) = result {
            assert!(DECODE_ERRORS.contains(&e.code()), "{what}: unexpected {e:?}");
        }
    }
    // decode() agrees with the decoder for the encoding it detects.
    if let Ok(envelope) = &json {
        assert_eq!(decoded.as_ref().ok(), Some(envelope), "decode() differs from from_json()");
    } else if let (Ok(envelope), false) = (&proto, data.starts_with(b"{")) {
        assert_eq!(decoded.as_ref().ok(), Some(envelope), "decode() refuses a protobuf SealedRecord");
    }
    let mut signature = code_bits(&decoded) ^ (code_bits(&proto) << 4) ^ (code_bits(&json) << 8);
    for envelope in [&proto, &json].into_iter().filter_map(|r| r.as_ref().ok()) {
        signature ^= check_decoded(envelope) << 12;
    }
    signature
}

/// Invariants of an envelope that decoded: it opens or fails with an envelope code, and it
/// re-encodes in both encodings to bytes that decode to the same envelope and re-encode to
/// the same bytes.
fn check_decoded(envelope: &Envelope) -> u32 {
    let opened = envelope.open(fixed_key());
    if let Err(e) = &opened {
        assert!(OPEN_ERRORS.contains(&e.code()), "open: unexpected {e:?}");
    }
    let proto = envelope.to_protobuf().expect("a decoded envelope encodes as protobuf");
    let json = envelope.to_json().expect("a decoded envelope encodes as JSON");
    for (bytes, what) in [(&proto, "protobuf"), (&json, "JSON")] {
        let again = Envelope::decode(bytes).unwrap_or_else(|e| panic!("re-encoded {what} does not decode: {e:?}"));
        assert_eq!(&again, envelope, "re-encoded {what} decodes to another envelope");
        assert_eq!(code_bits(&again.open(fixed_key())), code_bits(&opened), "re-encoded {what} opens differently");
    }
    assert_eq!(Envelope::from_protobuf(&proto).unwrap().to_protobuf().unwrap(), proto, "protobuf encoding not stable");
    assert_eq!(Envelope::from_json(&json).unwrap().to_json().unwrap(), json, "JSON encoding not stable");
    code_bits(&opened) | u32::from(envelope.recipients.len() > 1) << 3
}

fn code_bits<T>(result: &medseal::Result<T>) -> u32 {
    match result {
        Ok(_) => 0,
        Err(e) => (e.code() as u32) % 16 + 1,
    }
}

/// Seed inputs: valid envelopes in both encodings (one and several recipients, the fixed key
/// among them, both AEADs), a 123-byte meta (its protobuf starts "\n{"), a low-order enc.
pub fn envelope_seeds() -> Vec<(String, Vec<u8>)> {
    let others = [RecipientKey::from_raw_private(&[0x17; 32]).unwrap(), RecipientKey::from_raw_private(&[0x99; 32]).unwrap()];
    let fixed = fixed_key();
    let record = br#"{"payload":"eyJyZXNvdXJjZVR5cGUiOiJQYXRpZW50In0","protected":"eyJhbGciOiJFZERTQSJ9","signature":"c2ln"}"#;
    let meta = |source: &str| Meta {
        record_id: "rec-1".into(),
        source: source.into(),
        sequence: 7,
        created: "2025-03-01T08:30:00Z".into(),
        content_type: "application/jose+json".into(),
    };
    let mut seeds = Vec::new();
    let mut push = |name: String, envelope: &Envelope| {
        seeds.push((format!("{name}.pb"), envelope.to_protobuf().unwrap()));
        seeds.push((format!("{name}.json"), envelope.to_json().unwrap()));
    };
    for aead in [Aead::Aes256Gcm, Aead::ChaCha20Poly1305] {
        let lists: [&[&RecipientKey]; 3] = [&[fixed], &[fixed, &others[0]], &[&others[0], &others[1], fixed]];
        for recipients in lists {
            for plaintext in [&b""[..], b"x", record] {
                let envelope = Envelope::seal(plaintext, meta("Bệnh viện Chợ Rẫy"), recipients, aead).unwrap();
                push(format!("{aead:?}-{}r-{}b", recipients.len(), plaintext.len()), &envelope);
            }
        }
        // Not addressed to the fixed key.
        push(format!("{aead:?}-other"), &Envelope::seal(record, meta("bv"), &[&others[1]], aead).unwrap());
    }
    // A meta of exactly 123 bytes: the protobuf begins 0x0a 0x7b ("\n{").
    let source = "s".repeat(67);
    let envelope = Envelope::seal(record, meta(&source), &[fixed], Aead::Aes256Gcm).unwrap();
    assert_eq!(&envelope.to_protobuf().unwrap()[..2], b"\n{", "the seed's meta is 123 bytes");
    push("meta-123".into(), &envelope);
    // A low-order encapsulated key.
    let mut low = Envelope::seal(record, meta("bv"), &[fixed], Aead::ChaCha20Poly1305).unwrap();
    low.recipients[0].enc = vec![0; 32];
    push("low-order-enc".into(), &low);
    seeds
}

// ---------------------------------------------------------------------------------------------
// canon: RFC 8785 canonicalization.

/// Codes canonicalization (without a FHIR variant) may return.
const CANON_ERRORS: &[ResultCode] = &[
    MEDSEAL_JSON_SYNTAX,
    MEDSEAL_JSON_INVALID_UTF8,
    MEDSEAL_JSON_DUPLICATE_KEY,
    MEDSEAL_JSON_LONE_SURROGATE,
    MEDSEAL_JSON_NUMBER_OUT_OF_RANGE,
    MEDSEAL_JSON_LOSSY_NUMBER,
    MEDSEAL_JSON_NOT_NFC,
    MEDSEAL_JSON_TOO_DEEP,
    MEDSEAL_JSON_TOO_LARGE,
];

/// The strict options with NFC normalization instead of refusal.
fn normalizing() -> CanonOptions {
    CanonOptions { nfc: NfcPolicy::Normalize, ..CanonOptions::default() }
}

/// The fuzz target: canonicalize under `CanonOptions::default()`, `::plain()` and with NFC
/// normalization. The three differ only in lossy numbers and NFC, which fixes how their
/// results relate; every output must be a fixed point and parse back to the same value.
pub fn canon(data: &[u8]) -> u32 {
    let (strict_options, plain_options, nfc_options) = (CanonOptions::default(), CanonOptions::plain(), normalizing());
    let strict = canonicalize(data, &strict_options);
    let plain = canonicalize(data, &plain_options);
    let nfc = canonicalize(data, &nfc_options);
    // (options, result, codes those options never return)
    let never: [&[ResultCode]; 3] = [&[], &[MEDSEAL_JSON_LOSSY_NUMBER, MEDSEAL_JSON_NOT_NFC], &[MEDSEAL_JSON_NOT_NFC]];
    for ((what, result), never) in [("default", &strict), ("plain", &plain), ("normalize", &nfc)].into_iter().zip(never) {
        if let Err(e) = result {
            assert!(CANON_ERRORS.contains(&e.code()) && !never.contains(&e.code()), "{what}: unexpected {e:?}");
        }
    }
    // default = plain + refusing lossy numbers + refusing non-NFC strings.
    match (&strict, &plain) {
        (Ok(s), Ok(p)) => assert_eq!(s, p, "default and plain canonicalize differently"),
        (Ok(_), Err(e)) => panic!("plain refuses what default accepts: {e:?}"),
        (Err(e), Ok(_)) => {
            // Out of range: a double RFC 8785 writes as an integer beyond 2^53-1 (plain only).
            assert!(
                matches!(e.code(), MEDSEAL_JSON_LOSSY_NUMBER | MEDSEAL_JSON_NOT_NFC | MEDSEAL_JSON_NUMBER_OUT_OF_RANGE),
                "default refuses with {e:?} what plain accepts"
            )
        }
        (Err(_), Err(_)) => {}
    }
    // normalize = default, but non-NFC strings are normalized (keys may then collide).
    match (&nfc, &strict) {
        (Ok(n), Ok(s)) => assert_eq!(n, s, "NFC input: normalizing changed the output"),
        (Err(e), Ok(_)) => panic!("normalize refuses what default accepts: {e:?}"),
        (Ok(_), Err(e)) => assert_eq!(e.code(), MEDSEAL_JSON_NOT_NFC, "default refuses with {e:?} what normalize accepts"),
        (Err(_), Err(_)) => {}
    }
    match (&nfc, &plain) {
        (Ok(_), Err(e)) => panic!("plain refuses what normalize accepts: {e:?}"),
        (Err(e), Ok(_)) => assert!(
            matches!(e.code(), MEDSEAL_JSON_LOSSY_NUMBER | MEDSEAL_JSON_DUPLICATE_KEY | MEDSEAL_JSON_NUMBER_OUT_OF_RANGE),
            "normalize refuses with {e:?} what plain accepts"
        ),
        _ => {}
    }
    let oracle = serde_json::from_slice::<serde_json::Value>(data);
    match &plain {
        Ok(out) => check_canonical(data, out, oracle),
        Err(e) => {
            // An independent parser: what it accepts, medseal refuses only for I-JSON reasons.
            if let Ok(theirs) = oracle {
                assert!(
                    matches!(e.code(), MEDSEAL_JSON_DUPLICATE_KEY | MEDSEAL_JSON_NUMBER_OUT_OF_RANGE | MEDSEAL_JSON_TOO_DEEP),
                    "serde_json accepts ({}) what medseal refuses: {e:?}",
                    short_json(&theirs)
                );
            }
        }
    }
    if let Ok(out) = &nfc {
        // Normalized output is NFC with canonical numbers: the strict options take it as is.
        let again = canonicalize(out, &strict_options).unwrap_or_else(|e| panic!("normalized output refused by default: {e:?}"));
        assert_eq!(&again, out, "normalized output is not a fixed point under default");
    }
    code_bits(&strict) ^ (code_bits(&plain) << 5) ^ (code_bits(&nfc) << 10)
}

/// `out` is the plain canonicalization of `input`.
fn check_canonical(input: &[u8], out: &[u8], oracle: serde_json::Result<serde_json::Value>) {
    let plain = CanonOptions::plain();
    let again = canonicalize(out, &plain).unwrap_or_else(|e| panic!("canonical output does not canonicalize: {e:?}"));
    assert_eq!(again, out, "canonicalization is not idempotent");
    let original = canon_mod::parse(input, &plain).expect("parsed once already");
    let reparsed = canon_mod::parse(out, &plain).unwrap_or_else(|e| panic!("canonical output does not parse: {e:?}"));
    assert_eq!(reparsed, original, "the canonical output parses to another value");
    // serde_json nests at most 127 levels; medseal's limit is 128.
    if depth(&original) < 120 {
        let theirs = oracle.unwrap_or_else(|e| panic!("medseal accepts what serde_json refuses: {e}"));
        assert!(same_value(&original, &theirs), "medseal and serde_json read different values: {}", short_json(&theirs));
        let theirs_out: serde_json::Value = serde_json::from_slice(out).unwrap_or_else(|e| panic!("serde_json refuses the output: {e}"));
        assert!(same_value(&original, &theirs_out), "serde_json reads the output as another value");
    }
}

fn depth(value: &Value<'_>) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(members) => 1 + members.iter().map(|(_, v)| depth(v)).max().unwrap_or(0),
        _ => 0,
    }
}

/// Whether medseal's and serde_json's readings agree (numbers as doubles, keys as a set).
fn same_value(ours: &Value<'_>, theirs: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (ours, theirs) {
        (Value::Null, J::Null) => true,
        (Value::Bool(a), J::Bool(b)) => a == b,
        (Value::Number(a), J::Number(b)) => b.as_f64() == Some(a.as_f64()),
        (Value::String(a), J::String(b)) => a == b,
        (Value::Array(a), J::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y)),
        (Value::Object(a), J::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k.as_ref()).is_some_and(|w| same_value(v, w)))
        }
        _ => false,
    }
}

fn short_json(value: &serde_json::Value) -> String {
    value.to_string().chars().take(200).collect()
}

/// Seed inputs: FHIR-like documents, every kind of value, escapes, surrogate pairs, NFC and
/// NFD text, numbers at the edges of the policies, and a few refusals.
pub fn canon_seeds() -> Vec<(String, Vec<u8>)> {
    let texts: &[(&str, &str)] = &[
        ("patient", r#"{"resourceType":"Patient","id":"p1","meta":{"versionId":"2"},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Nguyễn Văn A</div>"},"name":[{"family":"Nguyễn","given":["Văn","A"]}],"birthDate":"1980-02-29","active":true,"multipleBirthInteger":2,"deceasedBoolean":false,"extension":[{"url":"http://example.org/weight","valueDecimal":72.5}]}"#),
        ("bundle", r#"{"resourceType":"Bundle","type":"document","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Composition","text":{"div":"x"},"meta":{}}},{"resource":{"resourceType":"Observation","valueQuantity":{"value":1e-7,"unit":"mg"}}}]}"#),
        ("rfc8785-sample", "{\n  \"numbers\": [333333333.33333329, 1E30, 4.50,\n              2e-3, 0.000000000000000000000000001],\n  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n  \"literals\": [null, true, false]\n}"),
        ("key-order", "{\"\u{20ac}\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\",\"1\":\"One\",\"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{80}\":\"Control\",\"\u{f6}\":\"Latin Small Letter O With Diaeresis\"}"),
        ("escapes", r#"["\"\\\/\b\f\n\r\t","\u0000\u001f\u007f\u00e9","\ud83d\ude00","\uD834\uDD1E",""]"#),
        ("numbers", "[0,-0,1,-1,0.5,1.5e3,1e21,1e-7,9007199254740991,-9007199254740991,5e-324,1.7976931348623157e308,123456789.123456789,100,1E2]"),
        ("nested", r#"{"a":[[[{"b":[{}]}]],[]],"c":{"d":{"e":null}}}"#),
        ("whitespace", " \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } }\n "),
        ("nfd", "{\"name\":\"Nguye\u{302}\u{303}n\",\"Nguye\u{302}\u{303}n\":1}"),
        ("nfd-duplicate", "{\"Nguye\u{302}\u{303}n\":1,\"Nguy\u{1ec5}n\":2}"),
        ("nfc-maybe", "[\"\u{1100}\u{1161}\u{11a8}\",\"a\u{308}\u{301}\",\"\u{212b}\",\"\u{0f73}\"]"),
        ("scalars-string", "\"Bệnh viện Chợ Rẫy\""),
        ("scalar-number", "3.14"),
        ("scalar-null", "null"),
        ("duplicate", r#"{"a":1,"b":{"a":2},"a":3}"#),
        ("lone-surrogate", r#"["\ud800x"]"#),
        ("out-of-range", "[9007199254740992,1e20,1e400]"),
        ("lossy", "[1.50,1e2,-0,0.0]"),
        ("bom", "\u{feff}{}"),
    ];
    let mut seeds: Vec<(String, Vec<u8>)> = texts.iter().map(|(name, text)| (name.to_string(), text.as_bytes().to_vec())).collect();
    seeds.push(("deep-128".into(), format!("{}{}", "[".repeat(128), "]".repeat(128)).into_bytes()));
    seeds.push(("deep-objects".into(), format!("{}{}", "[{\"a\":".repeat(64), "}]".repeat(64)).into_bytes()));
    seeds.push(("invalid-utf8".into(), b"[\"\xc3\x28\",\"\xed\xa0\x80\"]".to_vec()));
    seeds
}

// ---------------------------------------------------------------------------------------------
// keys: signing-key and recipient-key import, export, re-import.

/// Codes key import may return.
const KEY_ERRORS: &[ResultCode] =
    &[MEDSEAL_KEY_FORMAT, MEDSEAL_KEY_UNSUPPORTED, MEDSEAL_KEY_ENCRYPTED, MEDSEAL_KEY_INVALID, MEDSEAL_KEY_SIZE];

/// The fuzz target: `Key::import(data, None)` and `RecipientKey::import(data)`. At most one
/// succeeds (a signing key is never a recipient key); a key that imports exports in every
/// format valid for it, and each export re-imports to the same key.
pub fn keys(data: &[u8]) -> u32 {
    let key = Key::import(data, None);
    let recipient = RecipientKey::import(data);
    if let Err(e) = &key {
        assert!(KEY_ERRORS.contains(&e.code()), "Key::import: unexpected {e:?}");
    }
    if let Err(e) = &recipient {
        assert!(KEY_ERRORS.contains(&e.code()), "RecipientKey::import: unexpected {e:?}");
    }
    assert!(!(key.is_ok() && recipient.is_ok()), "the same bytes import as a signing key and as a recipient key");
    let mut signature = code_bits(&key) ^ (code_bits(&recipient) << 5);
    if let Ok(key) = &key {
        check_key(key);
        signature ^= (key.algorithm() as u32 + 1) << 10 | u32::from(key.has_private()) << 13;
    }
    if let Ok(recipient) = &recipient {
        check_recipient(recipient);
        signature ^= 1 << 14 | u32::from(recipient.has_private()) << 15;
    }
    signature
}

fn check_key(key: &Key) {
    let alg = key.algorithm();
    let jwk = key.export(KeyFormat::Jwk).unwrap_or_else(|e| panic!("Jwk export fails: {e:?}"));
    let jwk = canon_mod::parse(&jwk, &CanonOptions::plain()).unwrap_or_else(|e| panic!("the exported JWK does not parse: {e:?}"));
    assert_eq!(jwk.get("kid").and_then(Value::as_str), Some(key.kid()), "the JWK's kid is not the key's");
    assert_eq!(jwk.get("alg").and_then(Value::as_str), Some(alg.jws_name()), "the JWK's alg is not the key's");
    for format in KeyFormat::ALL {
        let exported = key.export(format);
        let refusal = if format.is_private() && !key.has_private() {
            Some(MEDSEAL_KEY_NOT_PRIVATE)
        } else if alg.is_rsa() && matches!(format, KeyFormat::RawPrivate | KeyFormat::RawPublic) {
            Some(MEDSEAL_UNSUPPORTED)
        } else {
            None
        };
        if let Some(code) = refusal {
            assert_eq!(exported.err().map(|e| e.code()), Some(code), "{format:?} export of a {alg} key");
            continue;
        }
        let bytes = exported.unwrap_or_else(|e| panic!("{format:?} export of a {alg} key fails: {e:?}"));
        // Key::import reads no raw bytes: wrap them the way RFC 8410 / RFC 5915 do.
        let encoded = match (format, alg) {
            (KeyFormat::RawPrivate, Algorithm::EdDSA) => ed25519_pkcs8(&bytes),
            (KeyFormat::RawPublic, Algorithm::EdDSA) => ed25519_spki(&bytes),
            (KeyFormat::RawPrivate, _) => p256_pkcs8(&bytes, &key.export(KeyFormat::RawPublic).expect("checked in turn")),
            (KeyFormat::RawPublic, _) => {
                assert_eq!(bytes.len(), 65, "a raw P-256 public key is an uncompressed point");
                let coordinate = |name| jwk.get(name).and_then(Value::as_str).map(|s| URL_SAFE_NO_PAD.decode(s).expect("base64url"));
                assert_eq!(coordinate("x").as_deref(), Some(&bytes[1..33]), "raw public key and JWK x differ");
                assert_eq!(coordinate("y").as_deref(), Some(&bytes[33..]), "raw public key and JWK y differ");
                p256_spki(&bytes)
            }
            _ => bytes.to_vec(),
        };
        let again =
            Key::import(&encoded, None).unwrap_or_else(|e| panic!("the {format:?} export of a {alg} key does not re-import: {e:?}"));
        assert_eq!(again.kid(), key.kid(), "{format:?} export re-imports with another kid");
        assert_eq!(again.has_private(), format.is_private(), "{format:?} export re-imports with(out) the private key");
        // An RSA key is RS256 unless something says PS256: only the JWK carries `alg`.
        let expected = if alg.is_rsa() && format != KeyFormat::Jwk { Algorithm::RS256 } else { alg };
        assert_eq!(again.algorithm(), expected, "{format:?} export re-imports as another algorithm");
        let twice = again.export(format).unwrap_or_else(|e| panic!("re-imported key: {format:?} export fails: {e:?}"));
        assert_eq!(twice.as_slice(), bytes.as_slice(), "{format:?} export is not stable across a re-import");
        assert!(RecipientKey::import(&encoded).is_err(), "the {format:?} export of a {alg} key imports as a recipient key");
    }
    let public = key.to_public();
    assert_eq!(public.kid(), key.kid(), "to_public changes the kid");
    assert!(!public.has_private(), "to_public keeps the private key");
    assert_eq!(
        public.export(KeyFormat::SpkiDer).unwrap().as_slice(),
        key.export(KeyFormat::SpkiDer).unwrap().as_slice(),
        "to_public changes the public key"
    );
}

fn check_recipient(key: &RecipientKey) {
    for format in KeyFormat::ALL {
        let exported = key.export(format);
        if format.is_private() && !key.has_private() {
            assert_eq!(exported.err().map(|e| e.code()), Some(MEDSEAL_KEY_NOT_PRIVATE), "{format:?} export of a public recipient key");
            continue;
        }
        let bytes = exported.unwrap_or_else(|e| panic!("{format:?} export of a recipient key fails: {e:?}"));
        let again = match format {
            KeyFormat::RawPrivate => RecipientKey::from_raw_private(&bytes),
            KeyFormat::RawPublic => RecipientKey::from_raw_public(&bytes),
            _ => RecipientKey::import(&bytes),
        }
        .unwrap_or_else(|e| panic!("the {format:?} export of a recipient key does not re-import: {e:?}"));
        assert_eq!(again.kid(), key.kid(), "{format:?} export re-imports with another kid");
        assert_eq!(again.public_bytes(), key.public_bytes(), "{format:?} export re-imports with another public key");
        assert_eq!(again.has_private(), format.is_private(), "{format:?} export re-imports with(out) the private key");
        let twice = again.export(format).unwrap_or_else(|e| panic!("re-imported recipient key: {format:?} export fails: {e:?}"));
        assert_eq!(twice.as_slice(), bytes.as_slice(), "{format:?} export is not stable across a re-import");
        if !matches!(format, KeyFormat::RawPrivate | KeyFormat::RawPublic) {
            assert!(Key::import(&bytes, None).is_err(), "the {format:?} export of a recipient key imports as a signing key");
        }
    }
    let public = key.to_public();
    assert_eq!((public.kid(), public.public_bytes(), public.has_private()), (key.kid(), key.public_bytes(), false), "to_public");
}

/// RFC 8410 PKCS#8 v1 of an Ed25519 seed.
fn ed25519_pkcs8(seed: &[u8]) -> Vec<u8> {
    assert_eq!(seed.len(), 32, "an Ed25519 seed has 32 bytes");
    [&b"\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20"[..], seed].concat()
}

/// RFC 8410 SubjectPublicKeyInfo of an Ed25519 public key.
fn ed25519_spki(public: &[u8]) -> Vec<u8> {
    assert_eq!(public.len(), 32, "an Ed25519 public key has 32 bytes");
    [&b"\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00"[..], public].concat()
}

/// PKCS#8 v1 holding an RFC 5915 ECPrivateKey (named curve P-256, public key included), as
/// `openssl pkcs8 -topk8` writes it.
fn p256_pkcs8(d: &[u8], point: &[u8]) -> Vec<u8> {
    assert_eq!((d.len(), point.len()), (32, 65), "P-256 scalar and uncompressed point");
    let head = b"\x30\x81\x87\x02\x01\x00\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07\x04\x6d\x30\x6b\x02\x01\x01\x04\x20";
    [&head[..], d, b"\xa1\x44\x03\x42\x00", point].concat()
}

/// SubjectPublicKeyInfo of an uncompressed P-256 point.
fn p256_spki(point: &[u8]) -> Vec<u8> {
    let head = b"\x30\x59\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07\x03\x42\x00";
    [&head[..], point].concat()
}

/// The DER inside a PEM document.
fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).expect("fixture PEM")
}

/// A JWK with `"d"` added: the private JWK of `jwk`.
fn private_jwk(jwk: &[u8], d: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(jwk).expect("JSON");
    format!("{},\"d\":\"{}\"}}", &text[..text.len() - 1], URL_SAFE_NO_PAD.encode(d)).into_bytes()
}

/// Test-only keys (fuzz/keys/, never used for anything else): RSA cannot be generated by
/// medseal, and a P-256 key pair cannot be derived from a fixed scalar without a curve library.
const P256_PKCS8_PEM: &str = include_str!("../keys/p256_pkcs8.pem");
const RSA2048_PKCS1_PEM: &str = include_str!("../keys/rsa2048_pkcs1.pem");
const RSA2048_PKCS1_PUBLIC_PEM: &str = include_str!("../keys/rsa2048_pkcs1_public.pem");
const RSA1024_SPKI_PEM: &str = include_str!("../keys/rsa1024_spki.pem");
const ED25519_ENCRYPTED_PEM: &str = include_str!("../keys/ed25519_encrypted.pem");

/// Seed inputs: every export of an Ed25519, a P-256, an RSA (RS256 and PS256) and an X25519
/// key, private JWKs, PKCS#1 documents, and refusals (RSA-1024, encrypted PKCS#8, oct JWK,
/// wrong curve, compressed point, mismatched halves).
pub fn keys_seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    let mut export_all = |name: &str, export: &dyn Fn(KeyFormat) -> medseal::Result<zeroize::Zeroizing<Vec<u8>>>| {
        for format in KeyFormat::ALL {
            if let Ok(bytes) = export(format) {
                seeds.push((format!("{name}-{format:?}"), bytes.to_vec()));
            }
        }
    };
    let ed25519 = Key::import(&ed25519_pkcs8(&[0x3c; 32]), None).expect("Ed25519 fixture");
    let p256 = Key::import(P256_PKCS8_PEM.as_bytes(), None).expect("P-256 fixture");
    let rs256 = Key::import(RSA2048_PKCS1_PEM.as_bytes(), Some(Algorithm::RS256)).expect("RSA fixture");
    let ps256 = Key::import(RSA2048_PKCS1_PEM.as_bytes(), Some(Algorithm::PS256)).expect("RSA fixture");
    let x25519 = fixed_key();
    export_all("ed25519", &|f| ed25519.export(f));
    export_all("p256", &|f| p256.export(f));
    export_all("rs256", &|f| rs256.export(f));
    export_all("x25519", &|f| x25519.export(f));
    // Only the JWK of an RSA key says PS256; its other exports are the RS256 ones.
    seeds.push(("ps256-Jwk".into(), ps256.export(KeyFormat::Jwk).unwrap().to_vec()));
    let jwk_with_d = |key: &Key| private_jwk(&key.export(KeyFormat::Jwk).unwrap(), &key.export(KeyFormat::RawPrivate).unwrap());
    seeds.push(("ed25519-private-jwk".into(), jwk_with_d(&ed25519)));
    seeds.push(("p256-private-jwk".into(), jwk_with_d(&p256)));
    seeds.push((
        "x25519-private-jwk".into(),
        private_jwk(&x25519.export(KeyFormat::Jwk).unwrap(), &x25519.export(KeyFormat::RawPrivate).unwrap()),
    ));
    // The Ed25519 private JWK with another key's x: the halves do not match.
    let other = Key::import(&ed25519_pkcs8(&[0x3d; 32]), None).unwrap();
    seeds.push((
        "ed25519-mismatched-jwk".into(),
        private_jwk(&other.export(KeyFormat::Jwk).unwrap(), &ed25519.export(KeyFormat::RawPrivate).unwrap()),
    ));
    for (name, pem) in [
        ("rsa-pkcs1", RSA2048_PKCS1_PEM),
        ("rsa-pkcs1-public", RSA2048_PKCS1_PUBLIC_PEM),
        ("rsa1024-spki", RSA1024_SPKI_PEM),
        ("ed25519-encrypted", ED25519_ENCRYPTED_PEM),
    ] {
        seeds.push((format!("{name}.pem"), pem.as_bytes().to_vec()));
        seeds.push((format!("{name}.der"), pem_der(pem)));
    }
    let texts: &[(&str, &str)] = &[
        ("jwk-oct", r#"{"kty":"oct","k":"AAECAwQFBgcICQoLDA0ODw"}"#),
        ("jwk-p384", r#"{"kty":"EC","crv":"P-384","x":"AAAA","y":"AAAA"}"#),
        ("jwk-x448", r#"{"kty":"OKP","crv":"X448","x":"AAAA"}"#),
        ("jwk-hs256", r#"{"kty":"OKP","crv":"Ed25519","alg":"HS256","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#),
        ("jwk-rsa-private", r#"{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}"#),
        ("pem-sec1", "-----BEGIN EC PRIVATE KEY-----\nMAA=\n-----END EC PRIVATE KEY-----\n"),
        ("pem-certificate", "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"),
    ];
    seeds.extend(texts.iter().map(|(name, text)| (name.to_string(), text.as_bytes().to_vec())));
    // A compressed P-256 point (SEC1 0x02/0x03 ‖ x).
    let point = p256.export(KeyFormat::RawPublic).unwrap();
    let head = b"\x30\x39\x30\x13\x06\x07\x2a\x86\x48\xce\x3d\x02\x01\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07\x03\x22\x00";
    seeds.push(("p256-compressed.der".into(), [&head[..], &[0x02 | (point[64] & 1)], &point[1..33]].concat()));
    seeds
}

// ---------------------------------------------------------------------------------------------
// jws: verification with one fixed Ed25519 key.

/// The jws target's signing key: Ed25519 from this seed. The verifier holds its public half.
pub const JWS_SECRET: [u8; 32] = [0x5e; 32];
/// The signing time of every signed seed (2025-03-01T08:30:00Z), so the seeds are reproducible.
pub const JWS_SIGNING_TIME: i64 = 1_740_817_800;

fn jws_key() -> &'static Key {
    static KEY: OnceLock<Key> = OnceLock::new();
    KEY.get_or_init(|| Key::import(&ed25519_pkcs8(&JWS_SECRET), None).expect("Ed25519 PKCS#8"))
}

fn jws_verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| Verifier::new(vec![Arc::new(jws_key().to_public())]))
}

/// The header options the fixed key signs with.
fn jws_sign_options() -> Vec<(&'static str, SignOptions)> {
    let base = SignOptions { signing_time: Some(JWS_SIGNING_TIME), ..SignOptions::default() };
    vec![
        ("default", base.clone()),
        ("kid-notyp", SignOptions { kid: Some("hospital-key-1".into()), typ: None, ..base.clone() }),
        ("commitment", SignOptions { commitment: Some("1.2.840.10065.1.12.1.1".into()), ..base }),
    ]
}

const JWS_PATIENT: &[u8] =
    r#"{"resourceType":"Patient","id":"p1","name":[{"family":"Nguyễn","given":["Văn","A"]}],"birthDate":"1980-02-29"}"#.as_bytes();
/// Documents signed with `Signer::sign` (canonicalized first).
const JWS_DOCUMENTS: &[(&str, &[u8])] = &[("empty-object", b"{}"), ("patient", JWS_PATIENT)];
/// Payloads signed as given with `Signer::sign_payload`.
const JWS_RAW_PAYLOADS: &[(&str, &[u8])] = &[("empty", b""), ("text", b"not json")];

/// Everything the fixed key signed: (canonical protected header, payload). Derived from the
/// signer's output, not from the verifier, so a verifier bug cannot widen it.
fn jws_signed() -> &'static HashSet<(Vec<u8>, Vec<u8>)> {
    static SIGNED: OnceLock<HashSet<(Vec<u8>, Vec<u8>)>> = OnceLock::new();
    SIGNED.get_or_init(|| {
        let mut signed = HashSet::new();
        for (_, options) in jws_sign_options() {
            let signer = Signer::new(Arc::new(Key::import(&ed25519_pkcs8(&JWS_SECRET), None).unwrap()), options.clone()).unwrap();
            let documents = JWS_DOCUMENTS
                .iter()
                .map(|(_, d)| (signer.sign(d, Serialization::Compact).unwrap(), canonicalize(d, &options.canon).unwrap()));
            let raw = JWS_RAW_PAYLOADS.iter().map(|(_, p)| (signer.sign_payload(p, Serialization::Compact).unwrap(), p.to_vec()));
            for (compact, payload) in documents.chain(raw) {
                let header = URL_SAFE_NO_PAD.decode(compact.split('.').next().unwrap()).unwrap();
                signed.insert((canonicalize(&header, &CanonOptions::plain()).unwrap(), payload));
            }
        }
        signed
    })
}

/// Codes verification with one Ed25519 key may return (`MEDSEAL_UNSUPPORTED`: several
/// signatures).
const JWS_ERRORS: &[ResultCode] = &[
    MEDSEAL_JWS_MALFORMED,
    MEDSEAL_JWS_BASE64,
    MEDSEAL_JWS_HEADER,
    MEDSEAL_JWS_ALG_FORBIDDEN,
    MEDSEAL_JWS_ALG_UNKNOWN,
    MEDSEAL_JWS_ALG_MISMATCH,
    MEDSEAL_JWS_CRIT_UNKNOWN,
    MEDSEAL_JWS_SIGNATURE_INVALID,
    MEDSEAL_JWS_PAYLOAD_MISSING,
    MEDSEAL_UNSUPPORTED,
];

/// The fuzz target: verify `data` as a JWS with the payload attached, and as a detached JWS
/// over `{}`. A success must be for a header and payload the fixed key signed.
pub fn jws(data: &[u8]) -> u32 {
    let verifier = jws_verifier();
    let attached = verifier.verify(data, DetachedPayload::None);
    let detached = verifier.verify(data, DetachedPayload::Bytes(b"{}"));
    for (what, result) in [("attached", &attached), ("detached", &detached)] {
        match result {
            Err(e) => assert!(JWS_ERRORS.contains(&e.code()), "{what}: unexpected {e:?}"),
            Ok(verified) => {
                assert_eq!(verified.key_id, jws_key().kid(), "{what}: verified by another key");
                assert_eq!(verified.algorithm, Algorithm::EdDSA, "{what}: verified with another algorithm");
                assert!(
                    jws_signed().contains(&(verified.protected_header.clone(), verified.payload.clone())),
                    "{what}: FORGERY: verified a header and payload the key never signed: header {:?}, payload {:?}",
                    String::from_utf8_lossy(&verified.protected_header),
                    String::from_utf8_lossy(&verified.payload)
                );
                assert_eq!(verified.signing_time.as_deref(), Some("2025-03-01T08:30:00Z"), "{what}: signing time");
            }
        }
    }
    if let Ok(verified) = &detached {
        assert_eq!(verified.payload, b"{}", "detached: the payload is not the one supplied");
    }
    // A JWS carries its payload or does not: at most one reading succeeds, and the other
    // is refused for that reason.
    match (&attached, &detached) {
        (Ok(_), Ok(_)) => panic!("verified both with its own payload and with a detached one"),
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => assert_eq!(e.code(), MEDSEAL_JWS_PAYLOAD_MISSING, "the other reading fails with {e:?}"),
        _ => {}
    }
    code_bits(&attached) ^ (code_bits(&detached) << 5)
}

/// Seed inputs: everything the fixed key signed, in all four serializations and in the JSON
/// general serialization; a whitespace-padded copy; and refusals (a flipped signature bit,
/// `alg` none and HS256, another algorithm, an unknown `crit`, `b64` false, an unprotected
/// header, two signatures, padded base64url).
pub fn jws_seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    let mut flattened = Vec::new();
    for (options_name, options) in jws_sign_options() {
        let signer = Signer::new(Arc::new(Key::import(&ed25519_pkcs8(&JWS_SECRET), None).unwrap()), options).unwrap();
        for serialization in Serialization::ALL {
            for (name, document) in JWS_DOCUMENTS {
                let jws = signer.sign(document, serialization).unwrap();
                if matches!(serialization, Serialization::Flattened | Serialization::DetachedFlattened) {
                    flattened.push((format!("{options_name}-{name}-{serialization:?}"), jws.clone()));
                }
                seeds.push((format!("{options_name}-{name}-{serialization:?}"), jws.into_bytes()));
            }
        }
        for (name, payload) in JWS_RAW_PAYLOADS {
            for serialization in [Serialization::Compact, Serialization::Flattened] {
                seeds.push((
                    format!("{options_name}-raw-{name}-{serialization:?}"),
                    signer.sign_payload(payload, serialization).unwrap().into_bytes(),
                ));
            }
        }
    }
    // JSON general serialization: {"payload":…,"signatures":[{"protected":…,"signature":…}]}.
    let member = |json: &Value<'_>, name: &str| json.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut parts = None;
    for (name, jws) in &flattened {
        let json = canon_mod::parse(jws.as_bytes(), &CanonOptions::plain()).unwrap();
        let (protected, signature) = (member(&json, "protected").unwrap(), member(&json, "signature").unwrap());
        let payload = member(&json, "payload").map(|p| format!("\"payload\":\"{p}\","));
        let general = format!(
            "{{{}\"signatures\":[{{\"protected\":\"{protected}\",\"signature\":\"{signature}\"}}]}}",
            payload.clone().unwrap_or_default()
        );
        seeds.push((format!("{name}-general"), general.into_bytes()));
        if payload.is_some() && parts.is_none() {
            parts = Some((protected, member(&json, "payload").unwrap(), signature));
        }
    }
    let (protected, payload, signature) = parts.expect("a flattened seed");
    let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
    let compact = format!("{protected}.{payload}.{signature}");
    let mut flipped = URL_SAFE_NO_PAD.decode(&signature).unwrap();
    flipped[0] ^= 1;
    let flipped = URL_SAFE_NO_PAD.encode(flipped);
    let fake_signature = URL_SAFE_NO_PAD.encode([7u8; 64]);
    let header = |json: &str| b64(json);
    let refusals: Vec<(&str, String)> = vec![
        ("padded-whitespace", format!(" \n{compact}\t\r\n")),
        ("flipped-signature", format!("{protected}.{payload}.{flipped}")),
        ("alg-none", format!("{}.{payload}.", header(r#"{"alg":"none"}"#))),
        ("alg-hs256", format!("{}.{payload}.{fake_signature}", header(r#"{"alg":"HS256"}"#))),
        ("alg-es256", format!("{}.{payload}.{fake_signature}", header(r#"{"alg":"ES256","kid":"x"}"#))),
        (
            "alg-ed25519",
            format!("{}.{payload}.{fake_signature}", header(r#"{"alg":"Ed25519","sigT":"2025-03-01T08:30:00Z","crit":["sigT"]}"#)),
        ),
        ("crit-unknown", format!("{}.{payload}.{fake_signature}", header(r#"{"alg":"EdDSA","crit":["exp"],"exp":1}"#))),
        ("b64-false", format!("{}.{payload}.{fake_signature}", header(r#"{"alg":"EdDSA","b64":false,"crit":["b64"]}"#))),
        ("sigt-offset", format!("{}.{payload}.{fake_signature}", header(r#"{"alg":"EdDSA","sigT":"2025-03-01T08:30:00+07:00"}"#))),
        (
            "unprotected-header",
            format!(r#"{{"header":{{"kid":"x"}},"payload":"{payload}","protected":"{protected}","signature":"{signature}"}}"#),
        ),
        (
            "two-signatures",
            format!(
                r#"{{"payload":"{payload}","signatures":[{{"protected":"{protected}","signature":"{signature}"}},{{"protected":"{protected}","signature":"{signature}"}}]}}"#
            ),
        ),
        ("padded-base64", format!("{protected}=.{payload}.{signature}")),
        ("four-parts", format!("{compact}.{payload}")),
    ];
    seeds.extend(refusals.into_iter().map(|(name, text)| (name.to_string(), text.into_bytes())));
    seeds
}

// ---------------------------------------------------------------------------------------------
// x509: certificates, chains, path validation, x5c in a JWS header.

/// The fixed test PKI (fuzz/certs/, made once by fuzz/certs/make.sh; public certificates only):
/// a P-256 root → intermediate → leaf, leaves that fail for one reason each, and a look-alike
/// root → intermediate → leaf with the real certificates' names but other keys.
const CERT_FILES: &[(&str, &str)] = &[
    ("root", include_str!("../certs/root.pem")),
    ("intermediate", include_str!("../certs/intermediate.pem")),
    ("leaf", include_str!("../certs/leaf.pem")),
    ("leaf-expired", include_str!("../certs/leaf-expired.pem")),
    ("leaf-keyenc", include_str!("../certs/leaf-keyenc.pem")),
    ("leaf-ed25519", include_str!("../certs/leaf-ed25519.pem")),
    ("rogue-root", include_str!("../certs/rogue-root.pem")),
    ("rogue-intermediate", include_str!("../certs/rogue-intermediate.pem")),
    ("rogue-leaf", include_str!("../certs/rogue-leaf.pem")),
];

/// The certificates the real root and intermediate keys issued: the only ones a validation
/// may succeed with (nothing else can carry their signatures).
const CERTS_ISSUED: &[&str] = &["root", "intermediate", "leaf", "leaf-expired", "leaf-keyenc", "leaf-ed25519"];

/// A compact ES256 JWS over `{}` made by the leaf's key (discarded since), whose header is
/// [`x509_jws_header`] of the leaf: the only input the x509 target's JWS path may accept.
const LEAF_JWS: &str = include_str!("../certs/leaf.jws");

/// The times chains are validated at: 2024-08-01T00:00:00Z (only leaf-expired is in its
/// window), the `sigT` of the JWS path (the leaf's window) and 2030-01-01T00:00:00Z (every
/// leaf has expired, the CAs have not).
pub const X509_TIMES: [i64; 3] = [1_722_470_400, JWS_SIGNING_TIME, 1_893_456_000];

struct X509Fixtures {
    certs: Vec<(&'static str, Certificate)>,
    anchors: Arc<TrustAnchors>,
    /// `Verifier::new(vec![])` with the anchors: x5c chains only.
    verifier: Verifier,
    issued: HashSet<Vec<u8>>,
    /// The third part of [`LEAF_JWS`].
    leaf_signature: &'static str,
}

impl X509Fixtures {
    fn cert(&self, name: &str) -> &Certificate {
        &self.certs.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no fixture certificate {name}")).1
    }
}

fn x509_fixtures() -> &'static X509Fixtures {
    static FIXTURES: OnceLock<X509Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let certs: Vec<(&str, Certificate)> =
            CERT_FILES.iter().map(|(name, pem)| (*name, Certificate::from_der(&pem_der(pem)).expect("fixture certificate"))).collect();
        let find = |name: &str| certs.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        let anchors = Arc::new(TrustAnchors::new(vec![find("root")]).expect("one anchor"));
        let verifier = Verifier::new(vec![]).with_trust_anchors(anchors.clone());
        let issued = CERTS_ISSUED.iter().map(|name| find(name).der().to_vec()).collect();
        let leaf_signature = LEAF_JWS.trim().rsplit('.').next().expect("a compact JWS");
        let fixtures = X509Fixtures { certs, anchors, verifier, issued, leaf_signature };
        // The fixtures still fit the code: a changed fuzz/certs or header template shows here.
        let (leaf, intermediate) = (fixtures.cert("leaf"), fixtures.cert("intermediate"));
        x509_validate(&[leaf.clone(), intermediate.clone()], &fixtures.anchors, JWS_SIGNING_TIME).expect("the fixture chain validates");
        let header = x509_jws_header(leaf.der(), intermediate.der());
        assert_eq!(LEAF_JWS.trim().split('.').next(), Some(URL_SAFE_NO_PAD.encode(&header).as_str()), "leaf.jws has another header");
        let verified = fixtures.verifier.verify(LEAF_JWS.as_bytes(), DetachedPayload::None).expect("leaf.jws verifies");
        assert_eq!(verified.payload, b"{}");
        fixtures
    })
}

/// The protected header of the JWS path: `x5c` = [`entry`, the intermediate], `sigT` in the
/// leaf's window.
fn x509_jws_header(entry: &[u8], intermediate: &[u8]) -> String {
    format!(
        r#"{{"alg":"ES256","crit":["sigT"],"sigT":"2025-03-01T08:30:00Z","x5c":["{}","{}"]}}"#,
        STANDARD.encode(entry),
        STANDARD.encode(intermediate)
    )
}

/// Codes parsing a certificate may return.
const CERT_PARSE_ERRORS: &[ResultCode] = &[MEDSEAL_CERT_INVALID];

/// Codes path validation may return.
const CERT_VALIDATE_ERRORS: &[ResultCode] = &[
    MEDSEAL_CERT_INVALID,
    MEDSEAL_CERT_EXPIRED,
    MEDSEAL_CERT_NOT_YET_VALID,
    MEDSEAL_CERT_UNKNOWN_ISSUER,
    MEDSEAL_CERT_KEY_USAGE,
    MEDSEAL_CERT_CHAIN_BROKEN,
    MEDSEAL_SIGNED_OUTSIDE_VALIDITY,
];

/// The fuzz target: `data` as one DER certificate and as a chain (PEM or DER); every
/// certificate read round-trips through its DER with the same thumbprint; the chain read, and
/// the DER certificate under the fixed intermediate, are validated at [`X509_TIMES`] against the
/// fixed root; and the DER is the first `x5c` entry of an ES256 JWS verified with those anchors.
pub fn x509(data: &[u8]) -> u32 {
    let fixtures = x509_fixtures();
    let single = Certificate::from_der(data);
    let chain = Certificate::read_chain(data);
    for (what, result) in [("from_der", code_of(&single)), ("read_chain", code_of(&chain))] {
        if let Some(code) = result {
            assert!(CERT_PARSE_ERRORS.contains(&code), "{what}: unexpected {code:?}");
        }
    }
    if let Ok(cert) = &single {
        assert_eq!(cert.der(), data, "from_der does not keep the DER as received");
        check_certificate(cert);
    }
    // Without a PEM block, read_chain reads one DER certificate.
    if !data.windows(10).any(|w| w == b"-----BEGIN") {
        match (&single, &chain) {
            (Ok(cert), Ok(chain)) => assert_eq!(chain.as_slice(), std::slice::from_ref(cert), "read_chain differs from from_der"),
            (Err(a), Err(b)) => assert_eq!(a.code(), b.code(), "read_chain and from_der refuse differently"),
            _ => panic!("read_chain and from_der disagree: {:?} / {:?}", code_of(&single), code_of(&chain)),
        }
    }
    let mut signature = code_bits(&single) ^ (code_bits(&chain) << 5);
    let mut chains = Vec::new();
    if let Ok(chain) = &chain {
        assert!((1..=medseal::x509::MAX_CHAIN_LEN).contains(&chain.len()), "read_chain returned {} certificates", chain.len());
        chain.iter().for_each(check_certificate);
        signature ^= (chain.len() as u32) << 10;
        chains.push(chain.clone());
    }
    if let Ok(cert) = &single {
        chains.push(vec![cert.clone(), fixtures.cert("intermediate").clone()]);
    }
    for (i, chain) in chains.iter().enumerate() {
        for (j, at) in X509_TIMES.into_iter().enumerate() {
            signature ^= check_validation(chain, at) << (14 + 3 * j + 9 * i);
        }
    }
    signature ^ x509_jws(data).rotate_left(7)
}

/// What a parsed certificate must satisfy whatever it holds.
fn check_certificate(cert: &Certificate) {
    let again = Certificate::from_der(cert.der()).unwrap_or_else(|e| panic!("a certificate's DER does not parse again: {e:?}"));
    assert_eq!(&again, cert, "the DER round trip gives another certificate");
    let thumbprint = cert.thumbprint_s256();
    assert_eq!(thumbprint, cert.thumbprint_s256(), "thumbprint not stable");
    assert_eq!(again.thumbprint_s256(), thumbprint, "thumbprint changes across the DER round trip");
    let sha256 = ring::digest::digest(&ring::digest::SHA256, cert.der());
    assert_eq!(URL_SAFE_NO_PAD.decode(&thumbprint).ok().as_deref(), Some(sha256.as_ref()), "x5t#S256 is not the SHA-256 of the DER");
    assert_eq!((again.subject(), again.issuer()), (cert.subject(), cert.issuer()), "names change across the DER round trip");
    let (not_before, not_after) = (cert.not_before(), cert.not_after());
    assert_eq!((again.not_before(), again.not_after()), (not_before, not_after), "window changes across the DER round trip");
    assert!(!cert.valid_at(not_before.saturating_sub(1)) || not_before == i64::MIN, "valid before not_before");
    assert!(!cert.valid_at(not_after.saturating_add(1)) || not_after == i64::MAX, "valid after not_after");
    assert_eq!(cert.valid_at(not_before), not_before <= not_after, "valid_at(not_before)");
    if let Err(e) = cert.spki_der() {
        assert_eq!(e.code(), MEDSEAL_CERT_INVALID, "spki_der: unexpected {e:?}");
    }
    if let Err(e) = cert.check_signer_usage() {
        assert!(matches!(e.code(), MEDSEAL_CERT_KEY_USAGE | MEDSEAL_CERT_INVALID), "check_signer_usage: unexpected {e:?}");
    }
    for alg in Algorithm::ALL {
        match cert.public_key(alg) {
            Ok(key) => {
                assert_eq!(key.algorithm(), alg, "public_key({alg}) is bound to {}", key.algorithm());
                assert!(!key.has_private(), "a certificate gave a private key");
                assert!(cert.holds_key(&key), "the certificate does not hold its own public_key({alg})");
            }
            Err(e) => assert!(
                matches!(e.code(), MEDSEAL_CERT_INVALID | MEDSEAL_JWS_ALG_MISMATCH) || KEY_ERRORS.contains(&e.code()),
                "public_key({alg}): unexpected {e:?}"
            ),
        }
    }
}

fn x509_validate(chain: &[Certificate], anchors: &TrustAnchors, at: i64) -> medseal::Result<medseal::x509::ValidatedChain> {
    medseal::x509::validate(chain, anchors, at)
}

/// Validates `chain` at `at`; a success must name the chain's leaf and one of the anchors,
/// hold only certificates the fixed CAs issued, all of them (and the anchor) valid at `at`,
/// with a leaf that may sign.
fn check_validation(chain: &[Certificate], at: i64) -> u32 {
    let fixtures = x509_fixtures();
    let result = x509_validate(chain, &fixtures.anchors, at);
    match &result {
        Err(e) => assert!(CERT_VALIDATE_ERRORS.contains(&e.code()), "validate: unexpected {e:?}"),
        Ok(validated) => {
            assert_eq!(&validated.leaf, &chain[0], "the validated leaf is not chain[0]");
            assert!(fixtures.anchors.certificates().contains(&validated.anchor), "the validated anchor is not a trust anchor");
            for cert in chain {
                assert!(
                    fixtures.issued.contains(cert.der()),
                    "FORGERY: a chain validated with a certificate the fixed CAs never issued: {cert:?}, DER {}",
                    hex(cert.der())
                );
                assert!(cert.valid_at(at), "a chain validated at {at} with {cert:?} outside its window");
            }
            assert!(validated.anchor.valid_at(at), "a chain validated at {at} to an anchor outside its window");
            validated.leaf.check_signer_usage().unwrap_or_else(|e| panic!("a chain validated with a leaf that may not sign: {e:?}"));
        }
    }
    match &result {
        Ok(_) => 1,
        Err(e) => (e.code() as u32) % 7 + 2,
    }
}

/// Codes the JWS path may return beyond validation's.
const X509_JWS_ERRORS: &[ResultCode] = &[MEDSEAL_JWS_SIGNATURE_INVALID, MEDSEAL_JWS_ALG_MISMATCH, MEDSEAL_CERT_INVALID];

/// `data` as the first `x5c` entry (the intermediate second) of a JWS with the leaf's
/// signature. It may verify only when `data` is the leaf's DER (any other header was never
/// signed), and must fail exactly as validating [`data`, intermediate] at `sigT` does, or,
/// when that validates, for the signature or the key.
fn x509_jws(data: &[u8]) -> u32 {
    let fixtures = x509_fixtures();
    let (leaf, intermediate) = (fixtures.cert("leaf"), fixtures.cert("intermediate"));
    let header = x509_jws_header(data, intermediate.der());
    let jws = format!("{}.e30.{}", URL_SAFE_NO_PAD.encode(header), fixtures.leaf_signature);
    let result = fixtures.verifier.verify(jws.as_bytes(), DetachedPayload::None);
    let direct =
        Certificate::from_der(data).and_then(|cert| x509_validate(&[cert, intermediate.clone()], &fixtures.anchors, JWS_SIGNING_TIME));
    match (&result, &direct) {
        (Ok(verified), _) => {
            assert_eq!(data, leaf.der(), "FORGERY: a JWS the leaf never signed verifies, x5c[0] = {}", hex(data));
            assert!(direct.is_ok(), "the JWS verifies but its chain does not validate: {:?}", code_of(&direct));
            assert_eq!(verified.payload, b"{}", "payload");
            assert_eq!(verified.algorithm, Algorithm::ES256, "algorithm");
            assert_eq!(
                verified.trusted_by,
                TrustedBy::Certificate {
                    thumbprint: leaf.thumbprint_s256(),
                    subject: leaf.subject(),
                    anchor: fixtures.cert("root").subject(),
                },
                "trusted_by"
            );
        }
        (Err(e), Err(expected)) => {
            assert_eq!(e.code(), expected.code(), "the JWS fails with {e:?}, validating its chain with {expected:?}")
        }
        (Err(e), Ok(_)) => {
            assert_ne!(data, leaf.der(), "the leaf's own JWS does not verify: {e:?}");
            assert!(X509_JWS_ERRORS.contains(&e.code()), "JWS with a valid chain: unexpected {e:?}");
        }
    }
    code_bits(&result)
}

fn code_of<T>(result: &medseal::Result<T>) -> Option<ResultCode> {
    result.as_ref().err().map(|e| e.code())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// PEM text of `der` as openssl writes a certificate.
fn cert_pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// Seed inputs: every fixture certificate as DER and PEM; PEM chains that validate (at one of
/// [`X509_TIMES`]) and that fail for each reason (expired, wrong usage, wrong order, look-alike
/// CAs, over-long); an openssl bundle with `subject=` lines; truncated and padded DER.
pub fn x509_seeds() -> Vec<(String, Vec<u8>)> {
    let fixtures = x509_fixtures();
    let cert = |name: &str| fixtures.cert(name);
    let mut seeds = Vec::new();
    for (name, c) in &fixtures.certs {
        seeds.push((format!("{name}.der"), c.der().to_vec()));
        seeds.push((format!("{name}.pem"), cert_pem(c.der()).into_bytes()));
    }
    let chains: &[(&str, &[&str])] = &[
        ("leaf-intermediate", &["leaf", "intermediate"]),
        ("leaf-intermediate-root", &["leaf", "intermediate", "root"]),
        ("expired-intermediate", &["leaf-expired", "intermediate"]),
        ("keyenc-intermediate", &["leaf-keyenc", "intermediate"]),
        ("ed25519-intermediate-root", &["leaf-ed25519", "intermediate", "root"]),
        ("intermediate-root", &["intermediate", "root"]),
        ("wrong-order", &["intermediate", "leaf"]),
        ("leaf-rogue-intermediate", &["leaf", "rogue-intermediate"]),
        ("rogue-intermediate-root", &["rogue-intermediate", "rogue-root"]),
        ("rogue-leaf-intermediate", &["rogue-leaf", "rogue-intermediate"]),
        ("rogue-leaf-intermediate-root", &["rogue-leaf", "rogue-intermediate", "root"]),
        ("leaf-intermediate-rogue-root", &["leaf", "intermediate", "rogue-root"]),
        ("leaf-twice", &["leaf", "leaf", "intermediate"]),
        ("nine", &["leaf", "intermediate", "root", "root", "root", "root", "root", "root", "root"]),
    ];
    for (name, names) in chains {
        let pem: String = names.iter().map(|n| cert_pem(cert(n).der())).collect();
        seeds.push((format!("chain-{name}.pem"), pem.into_bytes()));
    }
    let bundle: String = ["leaf", "intermediate"]
        .iter()
        .map(|n| format!("subject={}\nissuer={}\n{}", cert(n).subject(), cert(n).issuer(), cert_pem(cert(n).der())))
        .collect();
    seeds.push(("openssl-bundle.pem".into(), bundle.into_bytes()));
    let leaf = cert("leaf").der();
    seeds.push(("leaf-truncated.der".into(), leaf[..leaf.len() / 2].to_vec()));
    seeds.push(("leaf-trailing-byte.der".into(), [leaf, &[0]].concat()));
    seeds.push(("empty-pem".into(), b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n".to_vec()));
    seeds.push(("other-pem-label".into(), cert_pem(leaf).replace("CERTIFICATE", "X509 CRL").into_bytes()));
    seeds
}

// ---------------------------------------------------------------------------------------------
// trust: trust lists, unsigned and signed.

/// The list key: Ed25519 from this seed. Only the seeds are ever signed with it.
pub const TRUST_LIST_SECRET: [u8; 32] = [0x7a; 32];
/// Another Ed25519 key: signs the round trips of parsed lists, and the wrong-key seed.
pub const TRUST_OTHER_SECRET: [u8; 32] = [0x7b; 32];
/// `now` for verification: 2025-06-01T00:00:00Z.
pub const TRUST_NOW: i64 = 1_748_736_000;
/// `min_sequence` for verification.
pub const TRUST_MIN_SEQUENCE: u64 = 5;
/// 2025-05-01T00:00:00Z and 2025-08-01T00:00:00Z: the seed lists' issued and expires.
const TRUST_ISSUED: i64 = 1_746_057_600;
const TRUST_EXPIRES: i64 = 1_754_006_400;
/// 2025-01-01T00:00:00Z and 2026-12-31T00:00:00Z: the entries' window (inside the leaf certificates').
const TRUST_WINDOW: (i64, i64) = (1_735_689_600, 1_798_675_200);

/// Codes reading a list (JSON, or a JWS unverified) may return (docs/TRUST_LISTS.md).
const TRUST_READ_ERRORS: &[ResultCode] = &[MEDSEAL_TRUST_LIST_INVALID];
/// Codes `TrustList::verify` may return with a list key configured.
const TRUST_VERIFY_ERRORS: &[ResultCode] =
    &[MEDSEAL_TRUST_LIST_INVALID, MEDSEAL_TRUST_LIST_SIGNATURE, MEDSEAL_TRUST_LIST_EXPIRED, MEDSEAL_TRUST_LIST_STALE];

struct TrustFixtures {
    list_verifier: Verifier,
    other_signer: Signer,
    other_verifier: Verifier,
    /// `to_json` of every list read from a payload the list key signed.
    signed: HashSet<Vec<u8>>,
    seeds: Vec<(String, Vec<u8>)>,
}

fn ed25519_key(seed: u8) -> Key {
    Key::import(&ed25519_pkcs8(&[seed; 32]), None).expect("Ed25519 PKCS#8")
}

fn trust_signer(secret: &[u8; 32], typ: Option<&str>) -> Signer {
    let options = SignOptions { signing_time: Some(JWS_SIGNING_TIME), typ: typ.map(str::to_owned), ..trust::sign_options() };
    Signer::new(Arc::new(Key::import(&ed25519_pkcs8(secret), None).unwrap()), options).unwrap()
}

fn trust_entry(facility: &str, kid: &str, key: &Key, role: Role, window: (i64, i64)) -> TrustEntry {
    TrustEntry {
        facility: facility.into(),
        kid: kid.into(),
        alg: key.algorithm(),
        key: Arc::new(key.to_public()),
        chain: None,
        role,
        not_before: window.0,
        not_after: window.1,
    }
}

fn cert_entry(facility: &str, chain: Vec<Certificate>, alg: Algorithm, role: Role) -> TrustEntry {
    let key = chain[0].public_key(alg).expect("fixture certificate key");
    TrustEntry { chain: Some(chain.clone()), ..trust_entry(facility, &chain[0].thumbprint_s256(), &key, role, TRUST_WINDOW) }
}

fn trust_fixtures() -> &'static TrustFixtures {
    static FIXTURES: OnceLock<TrustFixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let list_key = ed25519_key(TRUST_LIST_SECRET[0]);
        let other_key = ed25519_key(TRUST_OTHER_SECRET[0]);
        let mut fixtures = TrustFixtures {
            list_verifier: Verifier::new(vec![Arc::new(list_key.to_public())]),
            other_signer: trust_signer(&TRUST_OTHER_SECRET, Some(trust::TYP)),
            other_verifier: Verifier::new(vec![Arc::new(other_key.to_public())]),
            signed: HashSet::new(),
            seeds: Vec::new(),
        };
        trust_build_seeds(&mut fixtures);
        fixtures
    })
}

/// Seed inputs (see [`trust_build_seeds`]).
pub fn trust_seeds() -> Vec<(String, Vec<u8>)> {
    trust_fixtures().seeds.clone()
}

/// Builds the seeds: lists with every kind of entry (Ed25519, P-256 and RSA JWKs, RS256 and
/// PS256 on one key, x5c chains from fuzz/certs, rollover under one kid, a re-admitted key), an
/// empty list, stale, expired, future and maximal-sequence lists, each as JSON and signed by the
/// list key (flattened; some also compact and general); a list whose JWKs carry `alg`, `kid`
/// and `use`, with whitespace; and refusals: signed by another key, as a record (`typ`), over a
/// non-canonical payload, and JSON with two roles, a private JWK member, a duplicate entry, an
/// offset time, `1.0`, an unknown member.
fn trust_build_seeds(fixtures: &mut TrustFixtures) {
    let list_signer = trust_signer(&TRUST_LIST_SECRET, Some(trust::TYP));
    let record_signer = trust_signer(&TRUST_LIST_SECRET, None);
    let certs = x509_fixtures();
    let cert = |name: &str| certs.cert(name).clone();
    let hospital = "Bệnh viện Chợ Rẫy";
    let (k1, k2, k3) = (ed25519_key(0x11), ed25519_key(0x12), ed25519_key(0x13));
    let p256 = Key::import(P256_PKCS8_PEM.as_bytes(), None).unwrap();
    let rs256 = Key::import(RSA2048_PKCS1_PUBLIC_PEM.as_bytes(), Some(Algorithm::RS256)).unwrap();
    let ps256 = Key::import(RSA2048_PKCS1_PUBLIC_PEM.as_bytes(), Some(Algorithm::PS256)).unwrap();
    let full_entries = vec![
        trust_entry(hospital, k1.kid(), &k1, Role::RecordSigning, TRUST_WINDOW),
        trust_entry(hospital, "bvcr-tls", &p256, Role::TlsClient, TRUST_WINDOW),
        trust_entry("HCMC Health Hub", "hub-receipt", &rs256, Role::Receipt, TRUST_WINDOW),
        trust_entry("HCMC Health Hub", "hub-receipt", &ps256, Role::Receipt, TRUST_WINDOW),
        trust_entry("HCMC Health Hub", "hub-tree", &k2, Role::TreeHead, TRUST_WINDOW),
        cert_entry("Fuzz Hospital", vec![cert("leaf"), cert("intermediate")], Algorithm::ES256, Role::RecordSigning),
        cert_entry("Fuzz Hospital", vec![cert("leaf-ed25519")], Algorithm::EdDSA, Role::RecordSigning),
    ];
    let rollover = vec![
        trust_entry(hospital, "bvcr-2025", &k1, Role::RecordSigning, (TRUST_WINDOW.0, TRUST_NOW)),
        trust_entry(hospital, "bvcr-2025", &k3, Role::RecordSigning, (TRUST_NOW - 86_400, TRUST_WINDOW.1)),
        trust_entry(hospital, "bvcr-2025", &k1, Role::RecordSigning, (TRUST_NOW + 86_400, TRUST_WINDOW.1)),
    ];
    let issuer = "HCMC Department of Health";
    let lists: Vec<(&str, TrustList)> = vec![
        ("full", TrustList::new(issuer, 7, TRUST_ISSUED, TRUST_EXPIRES, full_entries.clone()).unwrap()),
        ("rollover", TrustList::new(issuer, 8, TRUST_ISSUED, TRUST_EXPIRES, rollover).unwrap()),
        ("empty", TrustList::new(issuer, 5, TRUST_ISSUED, TRUST_EXPIRES, vec![]).unwrap()),
        ("stale", TrustList::new(issuer, 3, TRUST_ISSUED, TRUST_EXPIRES, full_entries[..2].to_vec()).unwrap()),
        ("expired", TrustList::new(issuer, 9, TRUST_WINDOW.0, TRUST_ISSUED, full_entries[..1].to_vec()).unwrap()),
        ("future", TrustList::new(issuer, 10, TRUST_EXPIRES, TRUST_EXPIRES + 86_400, full_entries[..1].to_vec()).unwrap()),
        ("max-sequence", TrustList::new(issuer, trust::MAX_SEQUENCE, TRUST_ISSUED, TRUST_EXPIRES, vec![]).unwrap()),
    ];
    let mut seeds = Vec::new();
    let mut signed = Vec::new();
    for (name, list) in &lists {
        let json = list.to_json();
        seeds.push((format!("{name}.json"), json.clone()));
        let jws = list.sign(&list_signer).unwrap();
        signed.push(json);
        if *name == "full" {
            let (compact, general) = other_serializations(&jws);
            seeds.push((format!("{name}.compact.jws"), compact.into_bytes()));
            seeds.push((format!("{name}.general.jws"), general.into_bytes()));
        }
        seeds.push((format!("{name}.jws"), jws.into_bytes()));
    }
    let full = lists[0].1.to_json();
    let full_text = String::from_utf8(full.clone()).unwrap();
    // JWKs as `medseal key public --format jwk` writes them (alg, kid), plus "use", with
    // whitespace and another member order.
    let jwk = |key: &Key| {
        let exported = String::from_utf8(key.export(KeyFormat::Jwk).unwrap().to_vec()).unwrap();
        assert!(exported.contains(r#""alg":"#) && exported.contains(r#""kid":"#), "the JWK export names alg and kid: {exported}");
        if exported.contains(r#""use":"#) {
            exported
        } else {
            format!("{},\"use\":\"sig\"}}", &exported[..exported.len() - 1])
        }
    };
    let extras = format!(
        "{{ \"version\": 1, \"type\": \"medseal-trust-list\", \"issuer\": \"{issuer}\", \"sequence\": 6,\n  \"issued\": \"2025-05-01T00:00:00Z\", \"expires\": \"2025-08-01T00:00:00Z\",\n  \"entries\": [\n    {{ \"roles\": [\"record-signing\"], \"jwk\": {}, \"kid\": \"{}\", \"alg\": \"EdDSA\", \"facility\": \"{hospital}\", \"not_before\": \"2025-01-01T00:00:00Z\", \"not_after\": \"2026-12-31T00:00:00Z\" }},\n    {{ \"roles\": [\"tls-client\"], \"jwk\": {}, \"kid\": \"{}\", \"alg\": \"ES256\", \"facility\": \"{hospital}\", \"not_before\": \"2025-01-01T00:00:00Z\", \"not_after\": \"2026-12-31T00:00:00Z\" }}\n  ]\n}}\n",
        jwk(&k1),
        k1.kid(),
        jwk(&p256),
        p256.kid()
    );
    let extras_canonical = canonicalize(extras.as_bytes(), &CanonOptions::default()).unwrap();
    seeds.push(("jwk-extras.json".into(), extras.clone().into_bytes()));
    seeds.push(("jwk-extras.jws".into(), list_signer.sign_payload(&extras_canonical, Serialization::Flattened).unwrap().into_bytes()));
    signed.push(extras_canonical);
    // Refusals of the signature.
    let other = lists[0].1.sign(&fixtures.other_signer).unwrap();
    seeds.push(("signed-by-other-key.jws".into(), other.into_bytes()));
    seeds.push(("typ-record.jws".into(), record_signer.sign_payload(&full, Serialization::Flattened).unwrap().into_bytes()));
    let padded = [b" ", full.as_slice()].concat();
    seeds.push(("not-canonical.jws".into(), list_signer.sign_payload(&padded, Serialization::Flattened).unwrap().into_bytes()));
    signed.push(padded);
    // Refusals of the document.
    let two_roles = full_text.replacen(r#"["record-signing"]"#, r#"["record-signing","receipt"]"#, 1);
    let private = full_text.replacen(r#""kty":"OKP""#, &format!(r#""d":"{}","kty":"OKP""#, URL_SAFE_NO_PAD.encode([0x11; 32])), 1);
    let refusals = [
        ("two-roles", two_roles),
        ("private-jwk", private),
        ("offset-time", full_text.replacen("2025-05-01T00:00:00Z", "2025-05-01T07:00:00+07:00", 1)),
        ("lossy-version", full_text.replacen(r#""version":1"#, r#""version":1.0"#, 1)),
        ("unknown-member", full_text.replacen(r#""type":"#, r#""extra":1,"type":"#, 1)),
        ("duplicate-entry", duplicate_first_entry(&full_text)),
    ];
    for (name, text) in refusals {
        assert_ne!(text, full_text, "the {name} seed changed nothing");
        seeds.push((format!("{name}.json"), text.into_bytes()));
    }
    // What the list key signed, read as the verifier would.
    fixtures.signed = signed.iter().filter_map(|p| TrustList::from_json(p).ok()).map(|l| l.to_json()).collect();
    fixtures.seeds = seeds;
}

/// The compact and the general JSON serialization of a flattened JWS.
fn other_serializations(flattened: &str) -> (String, String) {
    let json = canon_mod::parse(flattened.as_bytes(), &CanonOptions::plain()).unwrap();
    let member = |name: &str| json.get(name).and_then(Value::as_str).unwrap().to_owned();
    let (protected, payload, signature) = (member("protected"), member("payload"), member("signature"));
    (
        format!("{protected}.{payload}.{signature}"),
        format!(r#"{{"payload":"{payload}","signatures":[{{"protected":"{protected}","signature":"{signature}"}}]}}"#),
    )
}

/// The list JSON with its first entry listed twice.
fn duplicate_first_entry(text: &str) -> String {
    let start = text.find(r#""entries":["#).unwrap() + r#""entries":["#.len();
    let mut depth = 0;
    let end = start
        + text[start..]
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .unwrap()
            .0
        + 1;
    format!("{}{},{}", &text[..end], &text[start..end], &text[end..])
}

/// The fuzz target: `data` as list JSON, as a signed list read without verification, and
/// verified with the list key at [`TRUST_NOW`] and [`TRUST_MIN_SEQUENCE`]. Every list read must
/// re-serialize canonically to a fixed point that reads back as the same list, sign and verify
/// (with another key), and answer `candidates` exactly; a verified list must be one the list
/// key signed, fresh, and the same list `from_jws_unverified` reads.
pub fn trust(data: &[u8]) -> u32 {
    let fixtures = trust_fixtures();
    let json = TrustList::from_json(data);
    let unverified = TrustList::from_jws_unverified(data);
    let verified = TrustList::verify(data, &fixtures.list_verifier, TRUST_NOW, TRUST_MIN_SEQUENCE);
    for (what, code) in [("from_json", code_of(&json)), ("from_jws_unverified", code_of(&unverified))] {
        if let Some(code) = code {
            assert!(TRUST_READ_ERRORS.contains(&code), "{what}: unexpected {code:?}");
        }
    }
    if let Some(code) = code_of(&verified) {
        assert!(TRUST_VERIFY_ERRORS.contains(&code), "verify: unexpected {code:?}");
    }
    assert!(!(json.is_ok() && unverified.is_ok()), "the same bytes read as list JSON and as a signed list");
    for (what, list) in [("from_json", &json), ("from_jws_unverified", &unverified), ("verify", &verified)] {
        if let Ok(list) = list {
            check_trust_list(list, what);
        }
    }
    match &verified {
        Ok(list) => {
            assert!(
                fixtures.signed.contains(&list.to_json()),
                "FORGERY: a list the list key never signed verifies: {}",
                String::from_utf8_lossy(&list.to_json())
            );
            list.check_fresh(TRUST_NOW, TRUST_MIN_SEQUENCE).unwrap_or_else(|e| panic!("a verified list is not fresh: {e:?}"));
            let read = unverified.as_ref().unwrap_or_else(|e| panic!("verifies, but from_jws_unverified refuses it: {e:?}"));
            assert_same_list(list, read, "verify and from_jws_unverified");
        }
        Err(e) if matches!(e.code(), MEDSEAL_TRUST_LIST_EXPIRED | MEDSEAL_TRUST_LIST_STALE) => {
            let read = unverified.as_ref().unwrap_or_else(|u| panic!("verify says {e:?}, but from_jws_unverified refuses it: {u:?}"));
            let fresh = read.check_fresh(TRUST_NOW, TRUST_MIN_SEQUENCE);
            assert_eq!(code_of(&fresh), Some(e.code()), "verify says {e:?}, check_fresh of the same list {fresh:?}");
        }
        Err(_) => {}
    }
    code_bits(&json) ^ (code_bits(&unverified) << 5) ^ (code_bits(&verified) << 10)
}

/// What every list that was read must satisfy.
fn check_trust_list(list: &TrustList, what: &str) {
    let fixtures = trust_fixtures();
    let out = list.to_json();
    let canonical = canonicalize(&out, &CanonOptions::default())
        .unwrap_or_else(|e| panic!("{what}: to_json output is not strict JSON: {e:?}: {}", String::from_utf8_lossy(&out)));
    assert!(canonical == out, "{what}: to_json is not canonical, so its signed form would not verify: {}", String::from_utf8_lossy(&out));
    let again = TrustList::from_json(&out)
        .unwrap_or_else(|e| panic!("{what}: to_json output does not read back: {e:?}: {}", String::from_utf8_lossy(&out)));
    assert_same_list(list, &again, what);
    assert!(again.to_json() == out, "{what}: to_json is not a fixed point");
    check_candidates(list);
    // Signed (by another key than the list key), it verifies as the same list when fresh.
    let jws = list.sign(&fixtures.other_signer).unwrap_or_else(|e| panic!("{what}: a list that was read does not sign: {e:?}"));
    let back = TrustList::verify(jws.as_bytes(), &fixtures.other_verifier, list.issued, list.sequence)
        .unwrap_or_else(|e| panic!("{what}: a list signed and verified at its issue time is refused: {e:?}"));
    assert_same_list(list, &back, what);
    let shown = TrustList::from_jws_unverified(jws.as_bytes()).unwrap_or_else(|e| panic!("{what}: signed, unreadable: {e:?}"));
    assert_same_list(list, &shown, what);
}

/// `candidates(role, kid)` returns exactly the entries of that role (and kid), in list order.
fn check_candidates(list: &TrustList) {
    let mut kids: Vec<Option<&str>> = vec![None, Some("no-such-kid")];
    for entry in list.entries() {
        if !kids.contains(&Some(entry.kid.as_str())) {
            kids.push(Some(entry.kid.as_str()));
        }
    }
    for role in Role::ALL {
        for kid in &kids {
            let got: Vec<*const TrustEntry> = list.candidates(role, *kid).into_iter().map(|e| e as *const TrustEntry).collect();
            let expected: Vec<*const TrustEntry> = list
                .entries()
                .iter()
                .filter(|e| e.role == role && kid.is_none_or(|k| e.kid == k))
                .map(|e| e as *const TrustEntry)
                .collect();
            assert_eq!(got, expected, "candidates({role}, {kid:?}) are not the entries of that role and kid");
        }
    }
}

/// Two lists say the same thing: header fields and, entry by entry, every field (keys by
/// RFC 7638 thumbprint and algorithm, chains by DER).
fn assert_same_list(a: &TrustList, b: &TrustList, what: &str) {
    assert_eq!((&a.issuer, a.sequence, a.issued, a.expires), (&b.issuer, b.sequence, b.issued, b.expires), "{what}: list header");
    assert_eq!(a.entries().len(), b.entries().len(), "{what}: number of entries");
    for (i, (x, y)) in a.entries().iter().zip(b.entries()).enumerate() {
        let fields = |e: &TrustEntry| {
            (
                e.facility.clone(),
                e.kid.clone(),
                e.alg,
                e.key.kid().to_owned(),
                e.key.algorithm(),
                e.key.has_private(),
                e.chain.as_ref().map(|c| c.iter().map(|c| c.der().to_vec()).collect::<Vec<_>>()),
                e.role,
                e.not_before,
                e.not_after,
            )
        };
        assert_eq!(fields(x), fields(y), "{what}: entry {}", i + 1);
    }
}

// ---------------------------------------------------------------------------------------------
// ledger: receipts, tree heads, ledger entries and proofs, against a fixed tree.

/// The hub's receipt key: Ed25519 from this seed. Only the seeds are ever signed with it.
pub const LEDGER_RECEIPT_SECRET: [u8; 32] = [0x31; 32];
/// The hub's tree-head key: Ed25519 from this seed. Only the seeds are ever signed with it.
pub const LEDGER_TREE_HEAD_SECRET: [u8; 32] = [0x32; 32];
/// A third key, used inside the target only: it signs the input itself, so that the strict
/// payload readers (behind the signature check) see arbitrary payloads, and it re-signs what
/// was read for the round trips. Nothing it signs counts as signed by the hub.
pub const LEDGER_PAYLOAD_SECRET: [u8; 32] = [0x33; 32];
/// Leaves of the fixed tree: not a power of two, so audit paths skip levels.
pub const LEDGER_SIZE: u64 = 7;
/// 2025-06-01T08:00:00Z: when the hub received the first record; tree heads are signed a
/// minute apart from 2025-06-01T09:00:00Z on.
const LEDGER_RECEIVED: i64 = 1_748_764_800;
const LEDGER_HEAD_TIME: i64 = 1_748_768_400;
/// 9999-12-31T23:59:59Z: the last time the payloads can carry.
const LEDGER_LAST_TIME: i64 = 253_402_300_799;

/// Codes of `Receipt::verify`, `TreeHead::verify`, `LedgerEntry::from_json` and the proof
/// decoders, with keys configured (docs/SUBMISSION.md "Codes").
const LEDGER_RECEIPT_ERRORS: &[ResultCode] = &[MEDSEAL_LEDGER_RECEIPT_INVALID];
const LEDGER_TREE_HEAD_ERRORS: &[ResultCode] = &[MEDSEAL_LEDGER_TREE_HEAD_INVALID];
const LEDGER_PROOF_ERRORS: &[ResultCode] = &[MEDSEAL_LEDGER_PROOF_INVALID];
/// Codes of `verify_receipt` and `verify_receipts` (never `MEDSEAL_LEDGER_RANGE`: a receipt's
/// index is below its tree size, which proof and tree head must share).
const LEDGER_VERIFY_ERRORS: &[ResultCode] =
    &[MEDSEAL_LEDGER_RECEIPT_INVALID, MEDSEAL_LEDGER_TREE_HEAD_INVALID, MEDSEAL_LEDGER_PROOF_INVALID];

/// Which fixed key signed something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum LedgerKey {
    Receipt,
    TreeHead,
}

/// What a JWS was signed as, by its `typ` (compared as RFC 7515 says).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum LedgerKind {
    Receipt,
    TreeHead,
    Other,
}

fn ledger_kind(typ: Option<&str>) -> LedgerKind {
    let typ = typ.unwrap_or("").to_ascii_lowercase();
    let bare = typ.strip_prefix("application/").unwrap_or(&typ);
    if bare == ledger::RECEIPT_TYP {
        LedgerKind::Receipt
    } else if bare == ledger::TREE_HEAD_TYP {
        LedgerKind::TreeHead
    } else {
        LedgerKind::Other
    }
}

struct LedgerFixtures {
    entries: Vec<LedgerEntry>,
    tree: MerkleTree,
    receipt_verifier: Verifier,
    tree_head_verifier: Verifier,
    /// Both fixed keys, for both roles: only the one-key-one-role check keeps a receipt signed
    /// by the tree-head key out.
    both_verifier: Verifier,
    payload_receipt_signer: Signer,
    payload_tree_head_signer: Signer,
    payload_verifier: Verifier,
    /// (key, typ, payload) of everything the fixed keys signed.
    signed: HashSet<(LedgerKey, LedgerKind, Vec<u8>)>,
    /// The real receipt JWS for (leaf index, tree size), every leaf of every size.
    receipts: std::collections::HashMap<(u64, u64), String>,
    /// The signed tree head of every size 0 to [`LEDGER_SIZE`].
    tree_heads: Vec<String>,
    seeds: Vec<(String, Vec<u8>)>,
}

fn ledger_signer(secret: &[u8; 32], typ: &str) -> Signer {
    let options = SignOptions { signing_time: Some(JWS_SIGNING_TIME), typ: Some(typ.to_owned()), ..SignOptions::default() };
    Signer::new(Arc::new(Key::import(&ed25519_pkcs8(secret), None).unwrap()), options).unwrap()
}

fn ledger_verifier(secrets: &[&[u8; 32]]) -> Verifier {
    Verifier::new(secrets.iter().map(|s| Arc::new(Key::import(&ed25519_pkcs8(&s[..]), None).unwrap().to_public())).collect())
}

/// The leaves: distinct entries from three facilities, one at every limit (a 256-byte record
/// id, the largest sequence number, the last writable time).
fn ledger_entries() -> Vec<LedgerEntry> {
    let sources = ["Bệnh viện Chợ Rẫy", "bv-115", "Bệnh viện Nhân dân Gia Định"];
    (0..LEDGER_SIZE)
        .map(|i| {
            let mut entry = LedgerEntry {
                record_id: format!("rec-{:04}", i + 1),
                source: sources[i as usize % 3].to_owned(),
                sequence: i / 3 + 1,
                digest: ledger::leaf_hash(format!("envelope {i}").as_bytes()),
                received: LEDGER_RECEIVED + 7 * i as i64,
                withdrawn: None,
            };
            if i == LEDGER_SIZE - 1 {
                entry.record_id = format!("{}x", "ệ".repeat(85));
                entry.sequence = (1 << 53) - 1;
                entry.received = LEDGER_LAST_TIME;
            }
            entry.validate().expect("a valid fixture entry");
            entry
        })
        .collect()
}

fn ledger_fixtures() -> &'static LedgerFixtures {
    static FIXTURES: OnceLock<LedgerFixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let entries = ledger_entries();
        let tree = MerkleTree::from_leaves(entries.iter().map(LedgerEntry::leaf_hash).collect());
        let mut fixtures = LedgerFixtures {
            entries,
            tree,
            receipt_verifier: ledger_verifier(&[&LEDGER_RECEIPT_SECRET]),
            tree_head_verifier: ledger_verifier(&[&LEDGER_TREE_HEAD_SECRET]),
            both_verifier: ledger_verifier(&[&LEDGER_RECEIPT_SECRET, &LEDGER_TREE_HEAD_SECRET]),
            payload_receipt_signer: ledger_signer(&LEDGER_PAYLOAD_SECRET, ledger::RECEIPT_TYP),
            payload_tree_head_signer: ledger_signer(&LEDGER_PAYLOAD_SECRET, ledger::TREE_HEAD_TYP),
            payload_verifier: ledger_verifier(&[&LEDGER_PAYLOAD_SECRET]),
            signed: HashSet::new(),
            receipts: Default::default(),
            tree_heads: Vec::new(),
            seeds: Vec::new(),
        };
        ledger_build_seeds(&mut fixtures);
        fixtures
    })
}

/// Seed inputs (see [`ledger_build_seeds`]).
pub fn ledger_seeds() -> Vec<(String, Vec<u8>)> {
    ledger_fixtures().seeds.clone()
}

/// The real inclusion proof of leaf `index` in the tree of `size`, with that size's signed head.
fn ledger_real_inclusion(fixtures: &LedgerFixtures, index: u64, size: u64) -> InclusionProof {
    InclusionProof {
        leaf_index: index,
        tree_size: size,
        audit_path: fixtures.tree.inclusion_proof(index, size).unwrap().iter().map(|h| h.to_vec()).collect(),
        tree_head: fixtures.tree_heads[size as usize].clone(),
    }
}

/// Builds the seeds and records what the fixed keys signed: the ledger entries; a signed tree
/// head of every size 0 to 7; a receipt for every leaf of every size, alone and followed by
/// `\n` and its inclusion proof (JSON, some protobuf); every inclusion proof and every
/// consistency proof (JSON, some protobuf); the raw receipt and tree-head payloads (the
/// target signs those itself). Variants that verify: a `typ` in another spelling, whitespace
/// around a compact JWS, proofs with numbers as decimal strings and defaults left out. Refusals:
/// a receipt signed by the tree-head key (alone, with its proof, and with a tree head signed
/// by the receipt key: swapped roles), a tree head signed by the receipt key, each payload
/// signed as the other kind or as a record, non-canonical payloads, a receipt that names
/// another leaf's entry, a tree head with another size's root, an empty tree head with a root,
/// a receipt whose index is its tree size, a flattened JWS, proofs with a hash too many or too
/// few, a 31-byte hash, an unknown member, and numbers past 2^53.
fn ledger_build_seeds(fixtures: &mut LedgerFixtures) {
    let receipt_signer = ledger_signer(&LEDGER_RECEIPT_SECRET, ledger::RECEIPT_TYP);
    let tree_head_signer = ledger_signer(&LEDGER_TREE_HEAD_SECRET, ledger::TREE_HEAD_TYP);
    let mut signed = HashSet::new();
    // Signs as a compact JWS, and records it.
    fn sign_with(signed: &mut HashSet<(LedgerKey, LedgerKind, Vec<u8>)>, key: LedgerKey, typ: &str, payload: &[u8]) -> String {
        let secret = if key == LedgerKey::Receipt { &LEDGER_RECEIPT_SECRET } else { &LEDGER_TREE_HEAD_SECRET };
        signed.insert((key, ledger_kind(Some(typ)), payload.to_vec()));
        ledger_signer(secret, typ).sign_payload(payload, Serialization::Compact).unwrap()
    }
    macro_rules! sign {
        ($key:expr, $typ:expr, $payload:expr) => {
            sign_with(&mut signed, $key, $typ, $payload)
        };
    }
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    let n = LEDGER_SIZE;
    for (i, entry) in fixtures.entries.iter().enumerate() {
        seeds.push((format!("entry-{i}.json"), entry.to_json()));
    }
    // Tree heads of every size, through TreeHead::sign (recorded by payload).
    let heads: Vec<TreeHead> = (0..=n)
        .map(|size| TreeHead {
            tree_size: size,
            root_hash: fixtures.tree.root(size).unwrap(),
            timestamp: LEDGER_HEAD_TIME + 60 * size as i64,
        })
        .collect();
    for head in &heads {
        let jws = head.sign(&tree_head_signer).unwrap();
        assert_eq!(jws, sign!(LedgerKey::TreeHead, ledger::TREE_HEAD_TYP, &head.to_json()), "TreeHead::sign signs to_json");
        seeds.push((format!("tree-head-{}.jws", head.tree_size), jws.clone().into_bytes()));
        seeds.push((format!("tree-head-{}.payload", head.tree_size), head.to_json()));
        fixtures.tree_heads.push(jws);
    }
    let entries = fixtures.entries.clone();
    let receipt_of = |index: u64, size: u64| {
        let e = &entries[index as usize];
        Receipt {
            record_id: e.record_id.clone(),
            source: e.source.clone(),
            sequence: e.sequence,
            digest: e.digest,
            received: e.received,
            ledger_index: index,
            tree_size: size,
            withdrawn: None,
        }
    };
    for size in 1..=n {
        for index in 0..size {
            let receipt = receipt_of(index, size);
            let jws = receipt.sign(&receipt_signer).unwrap();
            assert_eq!(jws, sign!(LedgerKey::Receipt, ledger::RECEIPT_TYP, &receipt.to_json()), "Receipt::sign signs to_json");
            let proof = ledger_real_inclusion(fixtures, index, size);
            let name = format!("{index}-of-{size}");
            seeds.push((format!("receipt-{name}.jws"), jws.clone().into_bytes()));
            seeds.push((format!("receipt-{name}+proof.json"), [jws.as_bytes(), b"\n", &ledger::inclusion_proof_to_json(&proof)].concat()));
            if size == n || index == 0 {
                seeds.push((
                    format!("receipt-{name}+proof.pb"),
                    [jws.as_bytes(), b"\n", &ledger::inclusion_proof_to_protobuf(&proof)].concat(),
                ));
                seeds.push((format!("inclusion-{name}.pb"), ledger::inclusion_proof_to_protobuf(&proof)));
            }
            seeds.push((format!("inclusion-{name}.json"), ledger::inclusion_proof_to_json(&proof)));
            if size == n {
                seeds.push((format!("receipt-{name}.payload"), receipt.to_json()));
            }
            fixtures.receipts.insert((index, size), jws);
        }
    }
    for second in 0..=n {
        for first in 0..=second {
            let proof = ConsistencyProof {
                first,
                second,
                path: fixtures.tree.consistency_proof(first, second).unwrap().iter().map(|h| h.to_vec()).collect(),
            };
            seeds.push((format!("consistency-{first}-{second}.json"), ledger::consistency_proof_to_json(&proof)));
            if second == n {
                seeds.push((format!("consistency-{first}-{second}.pb"), ledger::consistency_proof_to_protobuf(&proof)));
            }
        }
    }

    // Variants that verify.
    let r0 = receipt_of(0, n);
    let spelled = sign!(LedgerKey::Receipt, "application/MEDSEAL-Receipt+JWS", &r0.to_json());
    seeds.push(("receipt-typ-spelling.jws".into(), spelled.into_bytes()));
    seeds.push(("receipt-whitespace.jws".into(), format!(" \n{}\r\n", fixtures.receipts[&(2, n)]).into_bytes()));
    let proof_3 = ledger_real_inclusion(fixtures, 3, n);
    let json_3 = String::from_utf8(ledger::inclusion_proof_to_json(&proof_3)).unwrap();
    let strings_3 = json_3
        .replace("\"leaf_index\":3", "\"leaf_index\":\"3\"")
        .replace(&format!("\"tree_size\":{n}"), &format!("\"tree_size\":\"{n}\""));
    assert_ne!(strings_3, json_3);
    seeds.push(("inclusion-decimal-strings.json".into(), strings_3.clone().into_bytes()));
    let receipt_3 = fixtures.receipts[&(3, n)].clone();
    seeds.push(("receipt-3+proof-decimal-strings.json".into(), format!("{receipt_3}\n{strings_3}").into_bytes()));
    let proof_0 = ledger_real_inclusion(fixtures, 0, 1);
    let sparse = format!("{{ \"tree_head\" : \"{}\" , \"tree_size\" : 1 }}", proof_0.tree_head);
    seeds.push(("receipt-0-of-1+proof-sparse.json".into(), format!("{}\n{sparse}", fixtures.receipts[&(0, 1)]).into_bytes()));
    seeds.push(("consistency-sparse.json".into(), br#"{"second":"5"}"#.to_vec()));

    // Refusals of the signature, the typ and the key roles.
    let by_head_key = sign!(LedgerKey::TreeHead, ledger::RECEIPT_TYP, &r0.to_json());
    let head_by_receipt_key = sign!(LedgerKey::Receipt, ledger::TREE_HEAD_TYP, &heads[n as usize].to_json());
    seeds.push(("receipt-by-tree-head-key.jws".into(), by_head_key.clone().into_bytes()));
    seeds.push(("tree-head-by-receipt-key.jws".into(), head_by_receipt_key.clone().into_bytes()));
    let proof_0n = ledger_real_inclusion(fixtures, 0, n);
    seeds.push((
        "receipt-by-tree-head-key+proof.json".into(),
        [by_head_key.as_bytes(), b"\n", &ledger::inclusion_proof_to_json(&proof_0n)].concat(),
    ));
    let swapped = InclusionProof { tree_head: head_by_receipt_key, ..proof_0n.clone() };
    seeds.push(("swapped-roles+proof.json".into(), [by_head_key.as_bytes(), b"\n", &ledger::inclusion_proof_to_json(&swapped)].concat()));
    seeds.push(("receipt-as-tree-head.jws".into(), sign!(LedgerKey::TreeHead, ledger::TREE_HEAD_TYP, &r0.to_json()).into_bytes()));
    seeds.push(("tree-head-as-receipt.jws".into(), sign!(LedgerKey::Receipt, ledger::RECEIPT_TYP, &heads[3].to_json()).into_bytes()));
    seeds.push(("receipt-typ-record.jws".into(), sign!(LedgerKey::Receipt, "medseal+jws", &r0.to_json()).into_bytes()));
    let padded = [&r0.to_json()[..], b" "].concat();
    seeds.push(("receipt-not-canonical.jws".into(), sign!(LedgerKey::Receipt, ledger::RECEIPT_TYP, &padded).into_bytes()));
    let reordered =
        String::from_utf8(heads[2].to_json()).unwrap().replacen("{\"root_hash\"", "{\"type\":\"medseal-tree-head\",\"root_hash\"", 1);
    let reordered = reordered.replacen(",\"type\":\"medseal-tree-head\"}", "}", 1);
    seeds
        .push(("tree-head-not-canonical.jws".into(), sign!(LedgerKey::TreeHead, ledger::TREE_HEAD_TYP, reordered.as_bytes()).into_bytes()));
    let flattened = receipt_signer.sign_payload(&r0.to_json(), Serialization::Flattened).unwrap();
    signed.insert((LedgerKey::Receipt, LedgerKind::Receipt, r0.to_json()));
    seeds.push(("receipt-flattened.jws".into(), flattened.into_bytes()));

    // Signed, but false: verify_receipt must refuse them.
    let lying = Receipt { ledger_index: 3, ..receipt_of(2, n) };
    let lying_jws = lying.sign(&receipt_signer).unwrap();
    signed.insert((LedgerKey::Receipt, LedgerKind::Receipt, lying.to_json()));
    seeds.push((
        "receipt-other-entry+proof.json".into(),
        [lying_jws.as_bytes(), b"\n", &ledger::inclusion_proof_to_json(&proof_3)].concat(),
    ));
    let false_head = TreeHead { root_hash: fixtures.tree.root(n - 1).unwrap(), ..heads[n as usize] };
    let false_head_jws = false_head.sign(&tree_head_signer).unwrap();
    signed.insert((LedgerKey::TreeHead, LedgerKind::TreeHead, false_head.to_json()));
    let with_false_head = InclusionProof { tree_head: false_head_jws, ..proof_0n.clone() };
    seeds.push((
        "receipt+proof-false-tree-head.json".into(),
        [fixtures.receipts[&(0, n)].as_bytes(), b"\n", &ledger::inclusion_proof_to_json(&with_false_head)].concat(),
    ));
    let empty_with_root = String::from_utf8(heads[0].to_json()).unwrap().replacen(
        &URL_SAFE_NO_PAD.encode(ledger::empty_root()),
        &URL_SAFE_NO_PAD.encode(fixtures.tree.root(1).unwrap()),
        1,
    );
    seeds.push((
        "tree-head-empty-with-root.jws".into(),
        sign!(LedgerKey::TreeHead, ledger::TREE_HEAD_TYP, empty_with_root.as_bytes()).into_bytes(),
    ));
    let r0_text = String::from_utf8(r0.to_json()).unwrap();
    let index_is_size = r0_text.replacen("\"ledger_index\":0", &format!("\"ledger_index\":{n}"), 1);
    assert_ne!(index_is_size, r0_text);
    seeds.push(("receipt-index-is-size.jws".into(), sign!(LedgerKey::Receipt, ledger::RECEIPT_TYP, index_is_size.as_bytes()).into_bytes()));

    // Malformed proofs and entries.
    let mut long = proof_3.clone();
    long.audit_path.push(vec![0; 32]);
    let mut short = proof_3.clone();
    short.audit_path.pop();
    let mut hash_31 = proof_3.clone();
    hash_31.audit_path[0].pop();
    for (name, proof) in [("long", &long), ("short", &short), ("hash-31", &hash_31)] {
        seeds.push((
            format!("receipt-3+proof-{name}.json"),
            [receipt_3.as_bytes(), b"\n", &ledger::inclusion_proof_to_json(proof)].concat(),
        ));
        seeds.push((format!("inclusion-{name}.pb"), ledger::inclusion_proof_to_protobuf(proof)));
    }
    seeds.push(("inclusion-unknown-member.json".into(), json_3.replacen("{", "{\"extra\":1,", 1).into_bytes()));
    seeds.push(("inclusion-huge-index.json".into(), br#"{"leaf_index":"18446744073709551615","tree_size":9007199254740991}"#.to_vec()));
    seeds.push(("consistency-huge.json".into(), br#"{"first":9007199254740991,"second":"18446744073709551615","path":[]}"#.to_vec()));
    let entry_text = String::from_utf8(fixtures.entries[0].to_json()).unwrap();
    seeds.push(("entry-offset-time.json".into(), entry_text.replacen("08:00:00Z", "15:00:00+07:00", 1).into_bytes()));
    seeds.push(("entry-sequence-0.json".into(), entry_text.replacen("\"sequence\":1", "\"sequence\":0", 1).into_bytes()));

    fixtures.signed = signed;
    fixtures.seeds = seeds;
}

/// The payload of a compact JWS, base64url-decoded (after trimming, as the verifier does).
fn compact_payload(jws: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(jws.trim_ascii()).ok()?;
    let mut parts = text.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    URL_SAFE_NO_PAD.decode(payload).ok()
}

/// The fuzz target. `data` is read as: a receipt (verified with the receipt key, and with the
/// tree-head key), a tree head (with the tree-head key, and with the receipt key), a ledger
/// entry, an inclusion proof and a consistency proof (protobuf or JSON); if it starts with `{`,
/// as a receipt payload and a tree-head payload the target signs itself; an inclusion proof
/// checked with `verify_receipt` against the real receipt for its leaf; and, if it holds a
/// `\n`, as a receipt JWS, `\n`, its inclusion proof, checked with `verify_receipt` and
/// `verify_receipts`. Checked: only the documented codes; whatever reads re-serializes to a
/// fixed point (`to_json`, exactly the signed payload); only what the fixed keys signed
/// verifies; a proof that verifies against the fixed tree is the real one
/// (`MerkleTree::inclusion_proof`, `consistency_proof`); a verified receipt names the real
/// entry of its leaf, under a tree head with the real root.
pub fn ledger(data: &[u8]) -> u32 {
    let f = ledger_fixtures();
    let mut signature = 0;
    // Receipts and tree heads, each with both fixed keys.
    for (shift, verifier, key) in [(0, &f.receipt_verifier, LedgerKey::Receipt), (10, &f.tree_head_verifier, LedgerKey::TreeHead)] {
        let receipt = Receipt::verify(data, verifier);
        let head = TreeHead::verify(data, verifier);
        if let Some(code) = code_of(&receipt) {
            assert!(LEDGER_RECEIPT_ERRORS.contains(&code), "Receipt::verify ({key:?} key): unexpected {code:?}");
        }
        if let Some(code) = code_of(&head) {
            assert!(LEDGER_TREE_HEAD_ERRORS.contains(&code), "TreeHead::verify ({key:?} key): unexpected {code:?}");
        }
        assert!(!(receipt.is_ok() && head.is_ok()), "the same JWS verifies as a receipt and as a tree head");
        if let Ok(receipt) = &receipt {
            let out = receipt.to_json();
            assert!(
                f.signed.contains(&(key, LedgerKind::Receipt, out.clone())),
                "FORGERY: a receipt the {key:?} key never signed verifies: {}",
                String::from_utf8_lossy(&out)
            );
            assert_eq!(compact_payload(data).as_deref(), Some(&out[..]), "a receipt verifies whose payload is not its to_json");
            check_ledger_receipt(receipt);
        }
        if let Ok(head) = &head {
            let out = head.to_json();
            assert!(
                f.signed.contains(&(key, LedgerKind::TreeHead, out.clone())),
                "FORGERY: a tree head the {key:?} key never signed verifies: {}",
                String::from_utf8_lossy(&out)
            );
            assert_eq!(compact_payload(data).as_deref(), Some(&out[..]), "a tree head verifies whose payload is not its to_json");
            check_ledger_tree_head(head);
        }
        signature ^= (code_bits(&receipt) ^ (code_bits(&head) << 5)) << shift;
        // A real receipt verifies, with its real proof.
        if let (Ok(receipt), LedgerKey::Receipt) = (&receipt, key) {
            if receipt.tree_size <= LEDGER_SIZE && f.entries[receipt.ledger_index as usize] == receipt.entry() {
                let proof = ledger_real_inclusion(f, receipt.ledger_index, receipt.tree_size);
                let full = ledger::verify_receipt(data, &proof, &f.receipt_verifier, &f.tree_head_verifier, None, None);
                assert_eq!(full.as_ref().ok(), Some(receipt), "a true receipt with its real proof: {full:?}");
            }
        }
    }
    // Ledger entries.
    let entry = LedgerEntry::from_json(data);
    if let Some(code) = code_of(&entry) {
        assert!(LEDGER_PROOF_ERRORS.contains(&code), "LedgerEntry::from_json: unexpected {code:?}");
    }
    if let Ok(entry) = &entry {
        assert_eq!(entry.to_json(), data, "a ledger entry reads that is not exactly its to_json");
        entry.validate().unwrap_or_else(|e| panic!("a ledger entry reads that does not validate: {e:?}"));
        assert_eq!(entry.leaf_hash(), ledger::leaf_hash(data), "leaf_hash is not over the entry's JSON");
    }
    signature ^= code_bits(&entry) << 20;
    // Payloads signed here, so that the strict payload readers see arbitrary bytes.
    if data.trim_ascii_start().starts_with(b"{") {
        signature ^= ledger_payload(data, entry.is_ok()) << 25;
    }
    // Proofs.
    let inclusion = ledger::decode_inclusion_proof(data);
    let consistency = ledger::decode_consistency_proof(data);
    for (what, code) in [("decode_inclusion_proof", code_of(&inclusion)), ("decode_consistency_proof", code_of(&consistency))] {
        if let Some(code) = code {
            assert!(LEDGER_PROOF_ERRORS.contains(&code), "{what}: unexpected {code:?}");
        }
    }
    if let Ok(proof) = &inclusion {
        check_inclusion_proof(proof);
        // With the real receipt of its leaf (or of leaf 0).
        let key = (proof.leaf_index, proof.tree_size);
        let receipt = f.receipts.get(&key).unwrap_or(&f.receipts[&(0, LEDGER_SIZE)]);
        signature ^= check_verify_receipt(receipt.as_bytes(), proof) << 27;
    }
    if let Ok(proof) = &consistency {
        check_consistency_proof(proof);
    }
    signature ^= (code_bits(&inclusion) << 4) ^ (code_bits(&consistency) << 8);
    // A receipt, a newline, its proof.
    if let Some(newline) = data.iter().position(|&b| b == b'\n') {
        let (receipt, proof) = (&data[..newline], &data[newline + 1..]);
        if let Ok(proof) = ledger::decode_inclusion_proof(proof) {
            signature ^= check_verify_receipt(receipt, &proof) << 14;
        }
    }
    signature
}

/// A receipt that verified: its fields are in range, and signed by another key it verifies as
/// the same receipt.
fn check_ledger_receipt(receipt: &Receipt) {
    let f = ledger_fixtures();
    assert!(receipt.ledger_index < receipt.tree_size, "a receipt reads whose index is not below its tree size: {receipt:?}");
    receipt.entry().validate().unwrap_or_else(|e| panic!("a receipt reads whose entry does not validate: {e:?}"));
    let jws = receipt.sign(&f.payload_receipt_signer).unwrap_or_else(|e| panic!("a receipt that was read does not sign: {e:?}"));
    let back = Receipt::verify(jws.as_bytes(), &f.payload_verifier).unwrap_or_else(|e| panic!("a receipt signed again is refused: {e:?}"));
    assert_eq!(&back, receipt, "a receipt signed again reads differently");
}

/// A tree head that verified: its fields are in range, and signed by another key it verifies
/// as the same tree head.
fn check_ledger_tree_head(head: &TreeHead) {
    let f = ledger_fixtures();
    assert!(head.tree_size > 0 || head.root_hash == ledger::empty_root(), "an empty tree head reads with a root other than SHA-256(\"\")");
    let jws = head.sign(&f.payload_tree_head_signer).unwrap_or_else(|e| panic!("a tree head that was read does not sign: {e:?}"));
    let back =
        TreeHead::verify(jws.as_bytes(), &f.payload_verifier).unwrap_or_else(|e| panic!("a tree head signed again is refused: {e:?}"));
    assert_eq!(&back, head, "a tree head signed again reads differently");
}

/// `data` as the payload of a receipt and of a tree head, signed by the payload key: what
/// verifies must be exactly its canonical `to_json`, and one payload is at most one of a
/// receipt, a tree head and a ledger entry.
fn ledger_payload(data: &[u8], is_entry: bool) -> u32 {
    let f = ledger_fixtures();
    let receipt_jws = f.payload_receipt_signer.sign_payload(data, Serialization::Compact).expect("sign_payload");
    let head_jws = f.payload_tree_head_signer.sign_payload(data, Serialization::Compact).expect("sign_payload");
    let receipt = Receipt::verify(receipt_jws.as_bytes(), &f.payload_verifier);
    let head = TreeHead::verify(head_jws.as_bytes(), &f.payload_verifier);
    if let Some(code) = code_of(&receipt) {
        assert!(LEDGER_RECEIPT_ERRORS.contains(&code), "receipt payload: unexpected {code:?}");
    }
    if let Some(code) = code_of(&head) {
        assert!(LEDGER_TREE_HEAD_ERRORS.contains(&code), "tree-head payload: unexpected {code:?}");
    }
    if let Ok(receipt) = &receipt {
        assert_eq!(receipt.to_json(), data, "a receipt payload verifies that is not exactly its to_json");
        check_ledger_receipt(receipt);
        let entry = receipt.entry().to_json();
        assert_eq!(LedgerEntry::from_json(&entry).as_ref().ok(), Some(&receipt.entry()), "a receipt's entry does not read back");
    }
    if let Ok(head) = &head {
        assert_eq!(head.to_json(), data, "a tree-head payload verifies that is not exactly its to_json");
        check_ledger_tree_head(head);
    }
    let kinds = u8::from(receipt.is_ok()) + u8::from(head.is_ok()) + u8::from(is_entry);
    assert!(kinds <= 1, "one payload reads as {kinds} of receipt, tree head and ledger entry");
    code_bits(&receipt) ^ (code_bits(&head) << 2)
}

/// An inclusion proof that decoded: its JSON mapping and protobuf read back as the same proof
/// and re-encode to the same bytes; verified against the fixed tree, only the real audit path
/// of the real leaf passes.
fn check_inclusion_proof(proof: &InclusionProof) {
    let f = ledger_fixtures();
    let json = ledger::inclusion_proof_to_json(proof);
    {
        let again = ledger::decode_inclusion_proof(&json)
            .unwrap_or_else(|e| panic!("inclusion_proof_to_json does not read back: {e:?}: {}", String::from_utf8_lossy(&json)));
        assert_eq!(&again, proof, "inclusion_proof_to_json reads back as another proof");
        assert_eq!(ledger::inclusion_proof_to_json(&again), json, "inclusion_proof_to_json is not a fixed point");
        assert!(canonicalize(&json, &CanonOptions::default()).is_ok_and(|c| c == json), "inclusion_proof_to_json is not canonical");
    }
    let protobuf = ledger::inclusion_proof_to_protobuf(proof);
    let again =
        ledger::decode_inclusion_proof(&protobuf).unwrap_or_else(|e| panic!("inclusion_proof_to_protobuf does not read back: {e:?}"));
    assert_eq!(&again, proof, "inclusion_proof_to_protobuf reads back as another proof");
    let path = match ledger::hashes(&proof.audit_path, "the audit path") {
        Ok(path) => path,
        Err(e) => {
            assert!(LEDGER_PROOF_ERRORS.contains(&e.code()), "hashes: unexpected {e:?}");
            return;
        }
    };
    let (index, size) = (proof.leaf_index, proof.tree_size);
    if size <= LEDGER_SIZE && index < size {
        let root = f.tree.root(size).unwrap();
        let real = f.tree.inclusion_proof(index, size).unwrap();
        for leaf in 0..size {
            match ledger::verify_inclusion(&f.tree.leaf(leaf).unwrap(), index, size, &path, &root) {
                Ok(()) => {
                    assert_eq!(leaf, index, "the audit path proves leaf {leaf} at index {index} of {size}");
                    assert_eq!(path, real, "an audit path other than the real one verifies for leaf {index} of {size}");
                }
                Err(e) => assert_eq!(e.code(), MEDSEAL_LEDGER_PROOF_INVALID, "verify_inclusion: unexpected {e:?}"),
            }
        }
    } else {
        // Outside the tree (only the codes: an audit path for a larger size can lead to a
        // smaller tree's root, which verify_inclusion cannot know is not that size's).
        let result = ledger::verify_inclusion(&f.tree.leaf(0).unwrap(), index, size, &path, &f.tree.root(LEDGER_SIZE).unwrap());
        let expected = if index >= size { MEDSEAL_LEDGER_RANGE } else { MEDSEAL_LEDGER_PROOF_INVALID };
        match &result {
            Ok(()) => assert!(index < size, "verify_inclusion of leaf {index} of {size} succeeds"),
            Err(e) => assert_eq!(e.code(), expected, "verify_inclusion of leaf {index} of {size}: {e:?}"),
        }
    }
}

/// A consistency proof that decoded: round trips as for inclusion proofs; between sizes of the
/// fixed tree only the real proof passes, and only with the real roots.
fn check_consistency_proof(proof: &ConsistencyProof) {
    let f = ledger_fixtures();
    let json = ledger::consistency_proof_to_json(proof);
    {
        let again = ledger::decode_consistency_proof(&json)
            .unwrap_or_else(|e| panic!("consistency_proof_to_json does not read back: {e:?}: {}", String::from_utf8_lossy(&json)));
        assert_eq!(&again, proof, "consistency_proof_to_json reads back as another proof");
        assert_eq!(ledger::consistency_proof_to_json(&again), json, "consistency_proof_to_json is not a fixed point");
        assert!(canonicalize(&json, &CanonOptions::default()).is_ok_and(|c| c == json), "consistency_proof_to_json is not canonical");
    }
    let protobuf = ledger::consistency_proof_to_protobuf(proof);
    let again =
        ledger::decode_consistency_proof(&protobuf).unwrap_or_else(|e| panic!("consistency_proof_to_protobuf does not read back: {e:?}"));
    assert_eq!(&again, proof, "consistency_proof_to_protobuf reads back as another proof");
    let path = match ledger::hashes(&proof.path, "the consistency proof") {
        Ok(path) => path,
        Err(e) => {
            assert!(LEDGER_PROOF_ERRORS.contains(&e.code()), "hashes: unexpected {e:?}");
            return;
        }
    };
    let (first, second) = (proof.first, proof.second);
    let code = |result: &medseal::Result<()>| {
        if let Some(code) = code_of(result) {
            let expected = if first > second { MEDSEAL_LEDGER_RANGE } else { MEDSEAL_LEDGER_PROOF_INVALID };
            assert_eq!(code, expected, "verify_consistency from {first} to {second}: {result:?}");
        }
    };
    if first <= second && second <= LEDGER_SIZE {
        let (first_root, second_root) = (f.tree.root(first).unwrap(), f.tree.root(second).unwrap());
        let result = ledger::verify_consistency(first, second, &first_root, &second_root, &path);
        code(&result);
        if result.is_ok() {
            assert_eq!(path, f.tree.consistency_proof(first, second).unwrap(), "a consistency proof other than the real one verifies");
        }
        // Not with another root for either size (from size 0 the second root is not bound:
        // RFC 9162 proves nothing about it).
        let fake = ledger::node_hash(&first_root, &second_root);
        let fakes: &[(&Hash, &Hash)] = if first == 0 { &[(&fake, &second_root)] } else { &[(&fake, &second_root), (&first_root, &fake)] };
        for &(a, b) in fakes {
            let result = ledger::verify_consistency(first, second, a, b, &path);
            code(&result);
            assert!(result.is_err(), "a consistency proof from {first} to {second} verifies with a made-up root");
        }
    } else {
        let root = f.tree.root(LEDGER_SIZE).unwrap();
        let result = ledger::verify_consistency(first, second, &root, &root, &path);
        code(&result);
        if result.is_ok() {
            assert!(first == second && path.is_empty(), "a consistency proof from {first} to {second} verifies against made-up roots");
        }
    }
}

/// `verify_receipt` of `receipt` with `proof` (fixed keys; and both keys in both roles), and
/// `verify_receipts` of it alone, with the expected record id and digest, and again: the same
/// answers, documented codes, and a success only for a receipt and a tree head the fixed keys
/// signed (each in its role, or at least by two different keys), naming the real entry of its
/// leaf, with the real root, and the real audit path.
fn check_verify_receipt(receipt: &[u8], proof: &InclusionProof) -> u32 {
    let f = ledger_fixtures();
    let single = ledger::verify_receipt_and_tree_head(receipt, proof, &f.receipt_verifier, &f.tree_head_verifier, None, None);
    let plain = ledger::verify_receipt(receipt, proof, &f.receipt_verifier, &f.tree_head_verifier, None, None);
    assert_eq!(plain, single.clone().map(|(r, _)| r), "verify_receipt and verify_receipt_and_tree_head differ");
    let both = ledger::verify_receipt_and_tree_head(receipt, proof, &f.both_verifier, &f.both_verifier, None, None);
    for (what, result) in [("verify_receipt", &single), ("verify_receipt (both keys)", &both)] {
        match result {
            Err(e) => assert!(LEDGER_VERIFY_ERRORS.contains(&e.code()), "{what}: unexpected {e:?}"),
            Ok((r, head)) => {
                let pairs: &[(LedgerKey, LedgerKey)] = if what == "verify_receipt" {
                    &[(LedgerKey::Receipt, LedgerKey::TreeHead)]
                } else {
                    &[(LedgerKey::Receipt, LedgerKey::TreeHead), (LedgerKey::TreeHead, LedgerKey::Receipt)]
                };
                assert!(
                    pairs.iter().any(|&(a, b)| f.signed.contains(&(a, LedgerKind::Receipt, r.to_json()))
                        && f.signed.contains(&(b, LedgerKind::TreeHead, head.to_json()))),
                    "{what}: FORGERY: a receipt and tree head the fixed keys did not sign (in distinct roles) verify: {} / {}",
                    String::from_utf8_lossy(&r.to_json()),
                    String::from_utf8_lossy(&head.to_json())
                );
                assert_eq!((r.ledger_index, r.tree_size), (proof.leaf_index, proof.tree_size), "{what}: receipt and proof disagree");
                assert_eq!(head.tree_size, r.tree_size, "{what}: receipt and tree head disagree");
                assert!(head.tree_size <= LEDGER_SIZE, "{what}: a tree head beyond the tree");
                assert_eq!(head.root_hash, f.tree.root(head.tree_size).unwrap(), "{what}: a tree head with a false root");
                assert_eq!(r.entry(), f.entries[r.ledger_index as usize], "{what}: a receipt that names another entry than its leaf's");
                let real = f.tree.inclusion_proof(r.ledger_index, r.tree_size).unwrap();
                assert!(proof.audit_path.iter().map(Vec::as_slice).eq(real.iter().map(|h| &h[..])), "{what}: not the real audit path");
            }
        }
    }
    // With the fixed keys, what verifies in one role verifies with both keys in both roles.
    if let Ok(ok) = &single {
        assert_eq!(both.as_ref().ok(), Some(ok), "verifies with the fixed keys, but not with both keys in both roles");
    }
    // The batch: alone, with the leaf's real record id and digest, and again.
    let real = f.entries.get(proof.leaf_index as usize).unwrap_or(&f.entries[0]);
    let checks = [
        ReceiptCheck { receipt_jws: receipt, inclusion: proof, record_id: None, digest: None },
        ReceiptCheck { receipt_jws: receipt, inclusion: proof, record_id: Some(&real.record_id), digest: Some(&real.digest) },
        ReceiptCheck { receipt_jws: receipt, inclusion: proof, record_id: None, digest: None },
    ];
    let batch = ledger::verify_receipts(&checks, &f.receipt_verifier, &f.tree_head_verifier);
    assert_eq!(batch.len(), 3, "verify_receipts gives one result per check");
    assert_eq!(batch[0], single, "verify_receipts differs from verify_receipt_and_tree_head");
    assert_eq!(batch[2], single, "verify_receipts differs for the same check repeated");
    match (&single, &batch[1]) {
        (Ok(ok), named) => {
            let expected = (ok.0.record_id == real.record_id && ok.0.digest == real.digest).then_some(ok);
            assert_eq!(named.as_ref().ok(), expected, "verify_receipts with the expected record id and digest: {named:?}");
        }
        (Err(_), Ok(_)) => panic!("verifies with an expected record id and digest, but not without"),
        (Err(_), Err(e)) => assert!(LEDGER_VERIFY_ERRORS.contains(&e.code()), "verify_receipts: unexpected {e:?}"),
    }
    if let Err(e) = &batch[1] {
        assert!(LEDGER_VERIFY_ERRORS.contains(&e.code()), "verify_receipts: unexpected {e:?}");
    }
    code_bits(&single) ^ (code_bits(&both) << 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(name: &str) -> Vec<u8> {
        ledger_seeds().into_iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no seed {name}")).1
    }

    /// `verify_receipt` of a `receipt\nproof` seed (a JSON proof).
    fn verify_pair(name: &str, verifier: fn(&LedgerFixtures) -> (&Verifier, &Verifier)) -> medseal::Result<Receipt> {
        let f = ledger_fixtures();
        let data = seed(name);
        let newline = data.iter().position(|&b| b == b'\n').unwrap();
        let proof = ledger::decode_inclusion_proof(&data[newline + 1..]).unwrap();
        let (receipt_keys, tree_head_keys) = verifier(f);
        ledger::verify_receipt(&data[..newline], &proof, receipt_keys, tree_head_keys, None, None)
    }

    fn fixed(f: &LedgerFixtures) -> (&Verifier, &Verifier) {
        (&f.receipt_verifier, &f.tree_head_verifier)
    }

    fn both(f: &LedgerFixtures) -> (&Verifier, &Verifier) {
        (&f.both_verifier, &f.both_verifier)
    }

    /// The ledger seeds reach what they are for: the real ones verify, each refusal is refused
    /// for its reason, and the target accepts them all.
    #[test]
    fn ledger_seeds_do_what_they_say() {
        let f = ledger_fixtures();
        for size in 1..=LEDGER_SIZE {
            for index in 0..size {
                let receipt = verify_pair(&format!("receipt-{index}-of-{size}+proof.json"), fixed).unwrap();
                assert_eq!((receipt.ledger_index, receipt.tree_size), (index, size));
            }
        }
        for name in ["receipt-3+proof-decimal-strings.json", "receipt-0-of-1+proof-sparse.json", "swapped-roles+proof.json"] {
            let keys = if name.starts_with("swapped") { both } else { fixed };
            verify_pair(name, keys).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        }
        let code = |r: medseal::Result<Receipt>| r.err().map(|e| e.code());
        assert_eq!(code(verify_pair("swapped-roles+proof.json", fixed)), Some(MEDSEAL_LEDGER_RECEIPT_INVALID));
        assert_eq!(code(verify_pair("receipt-by-tree-head-key+proof.json", both)), Some(MEDSEAL_LEDGER_RECEIPT_INVALID));
        assert_eq!(code(verify_pair("receipt-other-entry+proof.json", fixed)), Some(MEDSEAL_LEDGER_PROOF_INVALID));
        assert_eq!(code(verify_pair("receipt+proof-false-tree-head.json", fixed)), Some(MEDSEAL_LEDGER_PROOF_INVALID));
        for name in ["long", "short", "hash-31"] {
            assert_eq!(code(verify_pair(&format!("receipt-3+proof-{name}.json"), fixed)), Some(MEDSEAL_LEDGER_PROOF_INVALID), "{name}");
        }
        for name in ["receipt-typ-spelling.jws", "receipt-whitespace.jws"] {
            Receipt::verify(&seed(name), &f.receipt_verifier).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        }
        Receipt::verify(&seed("receipt-by-tree-head-key.jws"), &f.tree_head_verifier).unwrap();
        TreeHead::verify(&seed("tree-head-by-receipt-key.jws"), &f.receipt_verifier).unwrap();
        for name in [
            "receipt-typ-record.jws",
            "receipt-not-canonical.jws",
            "receipt-flattened.jws",
            "receipt-index-is-size.jws",
            "tree-head-as-receipt.jws",
        ] {
            assert_eq!(code(Receipt::verify(&seed(name), &f.receipt_verifier)), Some(MEDSEAL_LEDGER_RECEIPT_INVALID), "{name}");
        }
        for name in ["tree-head-not-canonical.jws", "tree-head-empty-with-root.jws", "receipt-as-tree-head.jws"] {
            let result = TreeHead::verify(&seed(name), &f.tree_head_verifier);
            assert_eq!(result.err().map(|e| e.code()), Some(MEDSEAL_LEDGER_TREE_HEAD_INVALID), "{name}");
        }
        for size in 0..=LEDGER_SIZE {
            assert_eq!(TreeHead::verify(&seed(&format!("tree-head-{size}.jws")), &f.tree_head_verifier).unwrap().tree_size, size);
        }
        for name in ["entry-offset-time.json", "entry-sequence-0.json"] {
            assert!(LedgerEntry::from_json(&seed(name)).is_err(), "{name}");
        }
        assert!(ledger::decode_inclusion_proof(&seed("inclusion-unknown-member.json")).is_err());
        for (name, data) in ledger_seeds() {
            let outcome = std::panic::catch_unwind(|| ledger(&data));
            assert!(outcome.is_ok(), "the target fails on seed {name}");
        }
    }
}
