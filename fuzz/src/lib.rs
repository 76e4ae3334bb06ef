//! What the fuzzers exercise, shared by the libFuzzer target (`fuzz_targets/envelope.rs`) and
//! the stable fallback driver (`src/bin/envelope_driver.rs`): sealed-envelope decoding
//! (protobuf, JSON and the auto-detecting `decode`), opening with a fixed recipient key, and
//! re-encoding. Any panic, any unexpected error code and any broken invariant is a finding.

use std::sync::OnceLock;

use medseal::{Aead, Envelope, Meta, RecipientKey, ResultCode};
use ResultCode::*;

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
pub fn seeds() -> Vec<(String, Vec<u8>)> {
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
