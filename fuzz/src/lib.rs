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
//!
//! The seed corpora come from the `*_seeds` functions, written by `fuzz_driver seed TARGET`.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use medseal::canon::{self as canon_mod, Value};
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

/// Codes a decoder may return.
const DECODE_ERRORS: &[ResultCode] = &[
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
            assert!(matches!(e.code(), MEDSEAL_JSON_LOSSY_NUMBER | MEDSEAL_JSON_NOT_NFC), "default refuses with {e:?} what plain accepts")
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
            matches!(e.code(), MEDSEAL_JSON_LOSSY_NUMBER | MEDSEAL_JSON_DUPLICATE_KEY),
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
