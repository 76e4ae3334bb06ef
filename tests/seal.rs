//! Sealed envelopes: behaviour and every error path, each with its exact `ResultCode`.
//!
//! Covers: the HPKE info binding (`"medseal/v1\n" || JCS(meta)`, compared to a hand-built
//! string), the informative `info` copy (the meta's or absent, else refused), truncation at every length,
//! tampering with each field, wrong recipients, unknown suites, size and recipient limits,
//! garbage input, the JSON mapping's strictness, low-order encapsulated keys, meta validation,
//! property-based round trips, a differential test against the `hpke` crate, and
//! `RecipientKey` import/export. Run with `--nocapture` to see the truncation tallies.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use medseal::record::{open_verified, seal_signed};
use medseal::seal::hpke as mhpke;
use medseal::seal::{wire, Recipient, INFO_PREFIX, MAX_ENVELOPE_BYTES, MAX_RECIPIENTS};
use medseal::{Aead, Algorithm, Envelope, Key, KeyFormat, Meta, RecipientKey, ResultCode, SignOptions, Signer, Verifier};
use proptest::prelude::*;
use prost::Message;
use serde_json::{json, Value};
use ResultCode::*;

const AEADS: [Aead; 2] = [Aead::Aes256Gcm, Aead::ChaCha20Poly1305];
const PLAINTEXT: &[u8] = br#"{"payload":"eyJyZXNvdXJjZVR5cGUiOiJQYXRpZW50In0","protected":"eyJhbGciOiJFZERTQSJ9","signature":"c2ln"}"#;

fn meta() -> Meta {
    Meta {
        record_id: "rec-42".into(),
        source: "bv-cho-ray".into(),
        sequence: 7,
        created: "2025-03-01T08:30:00Z".into(),
        content_type: "application/jose+json".into(),
    }
}

/// The code of a result; `MEDSEAL_OK` for success.
fn code<T>(result: medseal::Result<T>) -> ResultCode {
    match result {
        Ok(_) => MEDSEAL_OK,
        Err(e) => e.code(),
    }
}

fn keys(n: usize) -> Vec<RecipientKey> {
    (0..n).map(|_| RecipientKey::generate().unwrap()).collect()
}

/// An envelope of `PLAINTEXT` sealed to `n` fresh keys (given as public-only copies, as a
/// sender has them), and the private keys.
fn sealed(aead: Aead, n: usize) -> (Envelope, Vec<RecipientKey>) {
    let keys = keys(n);
    let public: Vec<RecipientKey> = keys.iter().map(RecipientKey::to_public).collect();
    let public: Vec<&RecipientKey> = public.iter().collect();
    (Envelope::seal(PLAINTEXT, meta(), &public, aead).unwrap(), keys)
}

fn opens(envelope: &Envelope, key: &RecipientKey) -> bool {
    envelope.open(key).map(|p| p.as_slice() == PLAINTEXT).unwrap_or(false)
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn json_of(envelope: &Envelope) -> Value {
    serde_json::from_slice(&envelope.to_json().unwrap()).unwrap()
}

fn from_value(value: &Value) -> medseal::Result<Envelope> {
    Envelope::decode(&serde_json::to_vec(value).unwrap())
}

fn wire_of(envelope: &Envelope) -> wire::SealedRecord {
    wire::SealedRecord::decode(envelope.to_protobuf().unwrap().as_slice()).unwrap()
}

fn from_wire(message: &wire::SealedRecord) -> medseal::Result<Envelope> {
    Envelope::decode(&message.encode_to_vec())
}

// ---------------------------------------------------------------------------------------------
// The info binding

#[test]
fn info_is_prefix_and_jcs_of_meta() {
    let meta = Meta {
        record_id: r#"rec-"42"\a"#.into(),
        source: "Bệnh viện Chợ Rẫy 🏥".into(),
        sequence: (1 << 53) - 1,
        created: "2025-03-01T01:30:00.5Z".into(),
        content_type: "application/fhir+json".into(),
    };
    let expected = "medseal/v1\n{\"content_type\":\"application/fhir+json\",\"created\":\"2025-03-01T01:30:00.5Z\",\
                    \"record_id\":\"rec-\\\"42\\\"\\\\a\",\"sequence\":9007199254740991,\"source\":\"Bệnh viện Chợ Rẫy 🏥\"}";
    assert_eq!(INFO_PREFIX, b"medseal/v1\n");
    assert_eq!(String::from_utf8(meta.info().unwrap()).unwrap(), expected);
    let key = RecipientKey::generate().unwrap();
    let envelope = Envelope::seal(b"x", meta.clone(), &[&key], Aead::Aes256Gcm).unwrap();
    assert_eq!(envelope.info().unwrap(), expected.as_bytes());
    // Both encodings carry the same informative copy.
    assert_eq!(wire_of(&envelope).info, expected.as_bytes());
    assert_eq!(json_of(&envelope)["info"], b64(expected.as_bytes()));
    // And it is exactly the HPKE info: the primitive opens the ciphertext with it.
    let opened = mhpke::open_with_key(Aead::Aes256Gcm, &key, &envelope.recipients[0].enc, expected.as_bytes(), b"", &envelope.ct).unwrap();
    assert_eq!(opened.as_slice(), b"x");
}

#[test]
fn informative_info_must_be_the_metas_or_absent() {
    for aead in AEADS {
        for n in [1, 2] {
            let (envelope, keys) = sealed(aead, n);
            let info = envelope.info().unwrap();
            // What medseal writes carries the meta's info, and decodes in both encodings.
            assert_eq!(wire_of(&envelope).info, info);
            assert_eq!(from_wire(&wire_of(&envelope)).unwrap(), envelope);
            assert_eq!(from_value(&json_of(&envelope)).unwrap(), envelope);
            // Absent (the format makes it optional): protobuf field 5 empty, JSON "".
            let mut message = wire_of(&envelope);
            message.info = Vec::new();
            let decoded = from_wire(&message).unwrap();
            assert_eq!(decoded, envelope);
            assert!(keys.iter().all(|k| opens(&decoded, k)));
            let mut value = json_of(&envelope);
            value["info"] = json!("");
            let decoded = from_value(&value).unwrap();
            assert!(keys.iter().all(|k| opens(&decoded, k)));

            // Present and not the meta's: refused by both decoders (which would otherwise
            // decode and open it), and by the one-call open that reads protobuf in place.
            let mut flipped_last = info.clone();
            *flipped_last.last_mut().unwrap() ^= 1;
            let mut other_meta = meta();
            other_meta.sequence += 1;
            let forged: [Vec<u8>; 5] =
                [b"forged".to_vec(), vec![0xff; 1000], flipped_last, [info.as_slice(), b"\n"].concat(), other_meta.info().unwrap()];
            for bad in forged {
                let mut message = wire_of(&envelope);
                message.info = bad.clone();
                let bytes = message.encode_to_vec();
                let e = Envelope::decode(&bytes).unwrap_err();
                assert_eq!(e.code(), MEDSEAL_SEAL_DECRYPT_FAILED, "{e}");
                assert!(e.message().contains("informative \"info\""), "{e}");
                assert_eq!(code(Envelope::from_protobuf(&bytes)), MEDSEAL_SEAL_DECRYPT_FAILED);
                let mut out = vec![0u8; PLAINTEXT.len()];
                assert_eq!(code(Envelope::open_encoded_into(&bytes, &keys[0], &mut out)), MEDSEAL_SEAL_DECRYPT_FAILED);
                assert_eq!(code(Envelope::encoded_plaintext_len(&bytes)), MEDSEAL_SEAL_DECRYPT_FAILED);
                assert!(out.iter().all(|&b| b == 0), "nothing opened");

                let mut value = json_of(&envelope);
                value["info"] = json!(b64(&bad));
                let e = from_value(&value).unwrap_err();
                assert_eq!(e.code(), MEDSEAL_SEAL_DECRYPT_FAILED, "{e}");
                assert!(e.message().contains("informative \"info\""), "{e}");
                let mut out = vec![0u8; PLAINTEXT.len()];
                let json = serde_json::to_vec(&value).unwrap();
                assert_eq!(code(Envelope::open_encoded_into(&json, &keys[0], &mut out)), MEDSEAL_SEAL_DECRYPT_FAILED);
            }
            // The JSON mapping requires it, as strict base64url.
            let mut value = json_of(&envelope);
            value["info"] = json!(format!("{}=", b64(&info)));
            assert_eq!(code(from_value(&value)), MEDSEAL_SEAL_MALFORMED);
            value.as_object_mut().unwrap().remove("info");
            assert_eq!(code(from_value(&value)), MEDSEAL_SEAL_MALFORMED);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Truncation

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

#[test]
fn truncated_protobuf_at_every_length() {
    let allowed = [
        MEDSEAL_SEAL_NOT_PROTOBUF,
        MEDSEAL_SEAL_TRUNCATED,
        MEDSEAL_SEAL_MALFORMED,
        MEDSEAL_SEAL_UNKNOWN_SUITE,
        MEDSEAL_SEAL_META_INVALID,
        MEDSEAL_SEAL_DECRYPT_FAILED,
    ];
    let mut all: BTreeMap<&str, usize> = BTreeMap::new();
    for aead in AEADS {
        for n in [1, 2, 3] {
            let (envelope, keys) = sealed(aead, n);
            let bytes = envelope.to_protobuf().unwrap();
            let info_len = envelope.info().unwrap().len();
            // `info` (field 5) is written last; cutting exactly before it leaves a whole record.
            let without_info = bytes.len() - (1 + varint_len(info_len) + info_len);
            let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
            for cut in 0..bytes.len() {
                let prefix = &bytes[..cut];
                let outcome = match Envelope::from_protobuf(prefix) {
                    Ok(decoded) => {
                        assert_eq!(cut, without_info, "{aead:?}/{n}: only the cut before the informative info decodes, not {cut}");
                        assert_eq!(decoded, envelope);
                        assert!(keys.iter().all(|k| opens(&decoded, k)));
                        "OK (only the informative info was cut)"
                    }
                    Err(e) => {
                        assert!(allowed.contains(&e.code()), "{aead:?}/{n}: cut at {cut}: unexpected {e:?}");
                        e.code().name()
                    }
                };
                assert_eq!(
                    code(Envelope::decode(prefix)),
                    code(Envelope::from_protobuf(prefix)),
                    "decode() routes a cut protobuf to protobuf"
                );
                *seen.entry(outcome).or_default() += 1;
                *all.entry(outcome).or_default() += 1;
            }
            println!("protobuf {aead:?}, {n} recipient(s), {} bytes, cut at 0..{}: {seen:?}", bytes.len(), bytes.len());
        }
    }
    println!("protobuf truncation, all: {all:?}");
    // A cut inside a length-delimited field is a wire error; a cut between fields leaves
    // fields missing. Every case must be one of these three (the others are never reached).
    for name in all.keys() {
        assert!(
            ["MEDSEAL_SEAL_NOT_PROTOBUF", "MEDSEAL_SEAL_TRUNCATED", "MEDSEAL_SEAL_MALFORMED", "OK (only the informative info was cut)"]
                .contains(name),
            "{name}"
        );
    }
}

#[test]
fn truncated_json_at_every_length() {
    for n in [1, 2] {
        let (envelope, _) = sealed(Aead::Aes256Gcm, n);
        let bytes = envelope.to_json().unwrap();
        for cut in 0..bytes.len() {
            let expected = if cut == 0 { MEDSEAL_SEAL_NOT_PROTOBUF } else { MEDSEAL_SEAL_MALFORMED };
            assert_eq!(code(Envelope::decode(&bytes[..cut])), expected, "cut at {cut}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tampering

#[test]
fn tampered_meta_fails_authentication() {
    type Edit = fn(&mut Meta);
    let edits: [(&str, Edit); 7] = [
        ("record_id", |m| m.record_id.push('x')),
        ("source", |m| m.source = "bv-bach-mai".into()),
        ("sequence", |m| m.sequence += 1),
        ("created", |m| m.created = "2025-03-01T08:30:01Z".into()),
        // The same instant written differently: the binding is on the text.
        ("created, same instant", |m| m.created = "2025-03-01T08:30:00.0Z".into()),
        ("content_type", |m| m.content_type = "application/fhir+json".into()),
        ("record_id, NFD text", |m| m.record_id = "Nguye\u{302}\u{303}n".into()),
    ];
    for aead in AEADS {
        for n in [1, 2] {
            let (envelope, keys) = sealed(aead, n);
            for (field, edit) in edits {
                let mut tampered = envelope.clone();
                edit(&mut tampered.meta);
                for key in &keys {
                    assert_eq!(code(tampered.open(key)), MEDSEAL_SEAL_DECRYPT_FAILED, "{aead:?}/{n}: meta.{field}");
                }
                for bytes in [tampered.to_protobuf().unwrap(), tampered.to_json().unwrap()] {
                    let decoded = Envelope::decode(&bytes).unwrap();
                    assert_eq!(code(decoded.open(&keys[0])), MEDSEAL_SEAL_DECRYPT_FAILED, "{aead:?}/{n}: meta.{field} encoded");
                }
            }
        }
    }
}

#[test]
fn tampered_enc_ct_and_wrapped_key_fail_authentication() {
    for aead in AEADS {
        for n in [1, 3] {
            let (envelope, keys) = sealed(aead, n);
            for i in 0..n {
                // enc: a low bit, and bit 255, which X25519 masks (the DH result is the same,
                // but enc is in the KEM context, so the key schedule differs).
                for (byte, bit) in [(0, 0x01), (31, 0x80), (17, 0x10)] {
                    let mut tampered = envelope.clone();
                    tampered.recipients[i].enc[byte] ^= bit;
                    assert_eq!(code(tampered.open(&keys[i])), MEDSEAL_SEAL_DECRYPT_FAILED, "{aead:?}/{n}: enc[{byte}]^{bit:#x}");
                    for (j, other) in keys.iter().enumerate().filter(|(j, _)| *j != i) {
                        assert!(opens(&tampered, other), "recipient {j} is unaffected by recipient {i}'s enc");
                    }
                }
                if n > 1 {
                    let len = envelope.recipients[i].wrapped_key.len();
                    for byte in [0, len / 2, len - 1] {
                        let mut tampered = envelope.clone();
                        tampered.recipients[i].wrapped_key[byte] ^= 0x40;
                        assert_eq!(code(tampered.open(&keys[i])), MEDSEAL_SEAL_DECRYPT_FAILED, "wrapped_key[{byte}]");
                        let decoded = Envelope::decode(&tampered.to_protobuf().unwrap()).unwrap();
                        assert_eq!(code(decoded.open(&keys[i])), MEDSEAL_SEAL_DECRYPT_FAILED, "wrapped_key[{byte}] encoded");
                    }
                }
            }
            // ct: first byte, last (tag) byte, one byte shorter, one byte longer.
            type Edit = fn(&mut Vec<u8>);
            let edits: [(&str, Edit); 5] = [
                ("first byte", |ct| ct[0] ^= 1),
                ("last byte", |ct| *ct.last_mut().unwrap() ^= 0x80),
                ("one byte shorter", |ct| {
                    ct.pop();
                }),
                ("one byte longer", |ct| ct.push(0)),
                ("tag only", |ct| {
                    ct.drain(..ct.len() - 16);
                }),
            ];
            for (what, edit) in edits {
                let mut tampered = envelope.clone();
                edit(&mut tampered.ct);
                for key in &keys {
                    assert_eq!(code(tampered.open(key)), MEDSEAL_SEAL_DECRYPT_FAILED, "{aead:?}/{n}: ct {what}");
                }
                for bytes in [tampered.to_protobuf().unwrap(), tampered.to_json().unwrap()] {
                    assert_eq!(code(Envelope::decode(&bytes).unwrap().open(&keys[0])), MEDSEAL_SEAL_DECRYPT_FAILED, "ct {what} encoded");
                }
            }
            // Shorter than the tag: TRUNCATED, on open and on decode.
            let mut short = envelope.clone();
            short.ct.truncate(15);
            assert_eq!(code(short.open(&keys[0])), MEDSEAL_SEAL_TRUNCATED);
            let mut message = wire_of(&envelope);
            message.ct.truncate(15);
            assert_eq!(code(from_wire(&message)), MEDSEAL_SEAL_TRUNCATED);
            // Another AEAD named: the suite id is in the key schedule.
            let mut other = envelope.clone();
            other.aead = if aead == Aead::Aes256Gcm { Aead::ChaCha20Poly1305 } else { Aead::Aes256Gcm };
            assert!(keys.iter().all(|k| code(other.open(k)) == MEDSEAL_SEAL_DECRYPT_FAILED), "{aead:?}/{n}: aead switched");
        }
    }
}

#[test]
fn kid_changes_wrong_recipients_and_public_keys() {
    for aead in AEADS {
        let (envelope, keys) = sealed(aead, 2);
        let outsider = RecipientKey::generate().unwrap();
        // Not addressed to the key at all.
        assert_eq!(code(envelope.open(&outsider)), MEDSEAL_SEAL_WRONG_RECIPIENT);
        // A changed kid: the entry is no longer found.
        let mut changed = envelope.clone();
        changed.recipients[0].kid.push('x');
        assert_eq!(code(changed.open(&keys[0])), MEDSEAL_SEAL_WRONG_RECIPIENT);
        assert!(opens(&changed, &keys[1]));
        // Swapped kids: each key finds the other's entry, which does not open.
        let mut swapped = envelope.clone();
        let (a, b) = (swapped.recipients[0].kid.clone(), swapped.recipients[1].kid.clone());
        (swapped.recipients[0].kid, swapped.recipients[1].kid) = (b, a);
        assert!(keys.iter().all(|k| code(swapped.open(k)) == MEDSEAL_SEAL_DECRYPT_FAILED));
        // An outsider's kid put on a real entry: the outsider cannot open it.
        let mut forged = envelope.clone();
        forged.recipients[0].kid = outsider.kid().to_owned();
        assert_eq!(code(forged.open(&outsider)), MEDSEAL_SEAL_DECRYPT_FAILED);
        // A public key cannot open, whatever the envelope.
        assert_eq!(code(envelope.open(&keys[0].to_public())), MEDSEAL_KEY_NOT_PRIVATE);
        assert_eq!(code(envelope.open(&outsider.to_public())), MEDSEAL_KEY_NOT_PRIVATE);
        // Single recipient too.
        let (single, single_keys) = sealed(aead, 1);
        assert_eq!(code(single.open(&outsider)), MEDSEAL_SEAL_WRONG_RECIPIENT);
        assert_eq!(code(single.open(&keys[0])), MEDSEAL_SEAL_WRONG_RECIPIENT);
        assert!(opens(&single, &single_keys[0]));
    }
}

/// Low-order points of Curve25519 (u-coordinates, little-endian), and non-canonical encodings
/// of them (u + p, bit 255 set): each gives an all-zero X25519 result.
fn low_order_points() -> Vec<[u8; 32]> {
    let hex = |s: &str| -> [u8; 32] {
        (0..32).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect::<Vec<_>>().try_into().unwrap()
    };
    let mut points = vec![
        [0u8; 32],
        hex("0100000000000000000000000000000000000000000000000000000000000000"),
        hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        hex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
        hex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    ];
    let with_bit_255: Vec<[u8; 32]> = points
        .iter()
        .map(|p| {
            let mut p = *p;
            p[31] |= 0x80;
            p
        })
        .collect();
    points.extend(with_bit_255);
    points
}

#[test]
fn low_order_enc_is_a_zero_shared_secret() {
    for aead in AEADS {
        for n in [1, 2] {
            let (envelope, keys) = sealed(aead, n);
            for point in low_order_points() {
                let mut tampered = envelope.clone();
                tampered.recipients[0].enc = point.to_vec();
                assert_eq!(code(tampered.open(&keys[0])), MEDSEAL_SEAL_ZERO_SHARED_SECRET, "{aead:?}/{n}: {point:02x?}");
                // Decoding does not look at the point; opening refuses it.
                let decoded = Envelope::decode(&tampered.to_json().unwrap()).unwrap();
                assert_eq!(code(decoded.open(&keys[0])), MEDSEAL_SEAL_ZERO_SHARED_SECRET);
            }
        }
    }
    // Sealing to a low-order public key is refused the same way.
    for point in low_order_points() {
        let bad = RecipientKey::from_raw_public(&point).unwrap();
        assert_eq!(code(Envelope::seal(b"x", meta(), &[&bad], Aead::Aes256Gcm)), MEDSEAL_SEAL_ZERO_SHARED_SECRET);
        let good = RecipientKey::generate().unwrap();
        assert_eq!(code(Envelope::seal(b"x", meta(), &[&good, &bad], Aead::ChaCha20Poly1305)), MEDSEAL_SEAL_ZERO_SHARED_SECRET);
    }
}

#[test]
fn wrong_length_fields() {
    let (single, keys) = sealed(Aead::Aes256Gcm, 1);
    for len in [0, 31, 33] {
        let mut message = wire_of(&single);
        message.recipients[0].enc.resize(len, 9);
        assert_eq!(code(from_wire(&message)), MEDSEAL_SEAL_TRUNCATED, "enc of {len} bytes");
        let mut envelope = single.clone();
        envelope.recipients[0].enc.resize(len, 9);
        assert_eq!(code(envelope.open(&keys[0])), MEDSEAL_SEAL_TRUNCATED, "enc of {len} bytes, open");
    }
    // One recipient carries no wrapped_key.
    let mut message = wire_of(&single);
    message.recipients[0].wrapped_key = vec![0; 48];
    assert_eq!(code(from_wire(&message)), MEDSEAL_SEAL_MALFORMED);
    // Several: each wrapped_key is exactly 32 + 16 bytes.
    let (several, keys) = sealed(Aead::ChaCha20Poly1305, 2);
    for len in [0, 47, 49] {
        let mut message = wire_of(&several);
        message.recipients[1].wrapped_key.resize(len, 0);
        assert_eq!(code(from_wire(&message)), MEDSEAL_SEAL_TRUNCATED, "wrapped_key of {len} bytes");
        let mut envelope = several.clone();
        envelope.recipients[1].wrapped_key.resize(len, 0);
        let expected = if len < 16 { MEDSEAL_SEAL_TRUNCATED } else { MEDSEAL_SEAL_DECRYPT_FAILED };
        assert_eq!(code(envelope.open(&keys[1])), expected, "wrapped_key of {len} bytes, open");
    }
    // JSON: a missing wrapped_key is an empty one, so in a multi-recipient envelope it is TRUNCATED.
    let mut value = json_of(&several);
    value["recipients"][0].as_object_mut().unwrap().remove("wrapped_key");
    assert_eq!(code(from_value(&value)), MEDSEAL_SEAL_TRUNCATED);
}

// ---------------------------------------------------------------------------------------------
// Suites, limits, garbage

#[test]
fn unknown_suites() {
    let (envelope, _) = sealed(Aead::Aes256Gcm, 1);
    let cases: [(u32, u32, u32); 12] = [
        (0x0010, 1, 2), // DHKEM(P-256)
        (0x0021, 1, 2), // DHKEM(X448)
        (0, 1, 2),
        (0x0020, 2, 2), // HKDF-SHA384
        (0x0020, 3, 2),
        (0x0020, 0, 2),
        (0x0020, 1, 1), // AES-128-GCM: opened by no envelope
        (0x0020, 1, 0),
        (0x0020, 1, 4),
        (0x0020, 1, 0xffff),   // export-only
        (0x0020, 1, 0x1_0002), // 0x0002 only in the low 16 bits
        (u32::MAX, u32::MAX, u32::MAX),
    ];
    for (kem, kdf, aead) in cases {
        let mut message = wire_of(&envelope);
        message.suite = Some(wire::Suite { kem, kdf, aead });
        assert_eq!(code(from_wire(&message)), MEDSEAL_SEAL_UNKNOWN_SUITE, "kem {kem:#x} kdf {kdf:#x} aead {aead:#x}");
        if [kem, kdf, aead].iter().all(|v| *v <= 0xffff) {
            let mut value = json_of(&envelope);
            value["suite"] = json!({"kem": kem, "kdf": kdf, "aead": aead});
            assert_eq!(code(from_value(&value)), MEDSEAL_SEAL_UNKNOWN_SUITE, "JSON kem {kem:#x} kdf {kdf:#x} aead {aead:#x}");
        }
    }
    // Out of the registry's range in JSON is a mapping error, not a suite.
    let mut value = json_of(&envelope);
    value["suite"]["aead"] = json!(65536);
    assert_eq!(code(from_value(&value)), MEDSEAL_SEAL_MALFORMED);
    value["suite"]["aead"] = json!("2");
    assert_eq!(code(from_value(&value)), MEDSEAL_SEAL_MALFORMED);
    // A SealedRecord without a suite.
    let mut message = wire_of(&envelope);
    message.suite = None;
    assert_eq!(code(from_wire(&message)), MEDSEAL_SEAL_NOT_PROTOBUF);
}

#[test]
fn aes_128_is_refused_for_sealing() {
    let key = RecipientKey::generate().unwrap();
    assert_eq!(code(Envelope::seal(b"x", meta(), &[&key], Aead::Aes128Gcm)), MEDSEAL_SEAL_UNKNOWN_SUITE);
    assert_eq!(code(Envelope::seal(b"x", meta(), &[&key, &key], Aead::Aes128Gcm)), MEDSEAL_SEAL_UNKNOWN_SUITE);
    // The primitive itself implements it (for the RFC 9180 vectors).
    assert!(mhpke::seal(Aead::Aes128Gcm, key.public_bytes(), b"info", b"", b"x").is_ok());
}

#[test]
fn oversize_is_refused_without_work() {
    // One zeroed allocation (calloc'd, its pages are never touched: a few KiB resident) for
    // both limits: plaintext over MAX_ENVELOPE_BYTES, encoded envelope over twice that.
    let big = vec![0u8; 2 * MAX_ENVELOPE_BYTES + 1];
    let key = RecipientKey::generate().unwrap();
    for aead in AEADS {
        assert_eq!(code(Envelope::seal(&big[..MAX_ENVELOPE_BYTES + 1], meta(), &[&key], aead)), MEDSEAL_SEAL_TOO_LARGE);
        assert_eq!(code(Envelope::seal(&big[..MAX_ENVELOPE_BYTES + 1], meta(), &[&key, &key], aead)), MEDSEAL_SEAL_TOO_LARGE);
    }
    assert_eq!(code(Envelope::from_protobuf(&big)), MEDSEAL_SEAL_TOO_LARGE);
    assert_eq!(code(Envelope::from_json(&big)), MEDSEAL_SEAL_TOO_LARGE);
    assert_eq!(code(Envelope::decode(&big)), MEDSEAL_SEAL_TOO_LARGE);
}

#[test]
fn recipient_count_limits() {
    let keys = keys(MAX_RECIPIENTS + 1);
    let refs: Vec<&RecipientKey> = keys.iter().collect();
    assert_eq!(MAX_RECIPIENTS, 16);
    assert_eq!(code(Envelope::seal(b"x", meta(), &refs, Aead::Aes256Gcm)), MEDSEAL_INVALID_ARGUMENT);
    assert_eq!(code(Envelope::seal(b"x", meta(), &[], Aead::Aes256Gcm)), MEDSEAL_INVALID_ARGUMENT);
    let full = Envelope::seal(PLAINTEXT, meta(), &refs[..MAX_RECIPIENTS], Aead::Aes256Gcm).unwrap();
    assert!(opens(&full, &keys[MAX_RECIPIENTS - 1]));
    assert_eq!(code(full.open(&keys[MAX_RECIPIENTS])), MEDSEAL_SEAL_WRONG_RECIPIENT);
    // Decoding: 17 or 0 recipients are refused.
    let mut message = wire_of(&full);
    message.recipients.push(message.recipients[0].clone());
    assert_eq!(code(from_wire(&message)), MEDSEAL_SEAL_MALFORMED);
    let mut value = json_of(&full);
    let first = value["recipients"][0].clone();
    value["recipients"].as_array_mut().unwrap().push(first);
    assert_eq!(code(from_value(&value)), MEDSEAL_SEAL_MALFORMED);
    message.recipients.clear();
    assert_eq!(code(from_wire(&message)), MEDSEAL_SEAL_MALFORMED);
    value["recipients"] = json!([]);
    assert_eq!(code(from_value(&value)), MEDSEAL_SEAL_MALFORMED);
}

#[test]
fn garbage_is_not_an_envelope() {
    for bytes in [
        &b""[..],
        b"hello world",
        b"\xff\xff\xff\xff",
        b"\x00",
        b"\x0a",
        b"\x0a\x05abc",
        b"[1,2,3]",
        b"\"string\"",
        b"null",
        b"-----BEGIN PRIVATE KEY-----",
    ] {
        assert_eq!(code(Envelope::decode(bytes)), MEDSEAL_SEAL_NOT_PROTOBUF, "{bytes:?}");
        assert_eq!(code(Envelope::from_protobuf(bytes)), MEDSEAL_SEAL_NOT_PROTOBUF, "{bytes:?}");
    }
    for bytes in [&b"{"[..], b"{}", b"  {\"ct\":1}", b"{\"a\":1}", b"{\"ct\":\"AA\",\"ct\":\"AA\"}", b"{\xff}"] {
        assert_eq!(code(Envelope::decode(bytes)), MEDSEAL_SEAL_MALFORMED, "{bytes:?}");
    }
    // A valid protobuf of another message (a bare Meta): fields land in the wrong places.
    let other = wire::Meta { record_id: "r".into(), source: "s".into(), sequence: 1, created: "c".into(), content_type: "t".into() };
    assert_eq!(code(Envelope::decode(&other.encode_to_vec())), MEDSEAL_SEAL_NOT_PROTOBUF);
    // Pseudo-random bytes: never a panic, never success, only envelope codes.
    let allowed =
        [MEDSEAL_SEAL_NOT_PROTOBUF, MEDSEAL_SEAL_MALFORMED, MEDSEAL_SEAL_TRUNCATED, MEDSEAL_SEAL_UNKNOWN_SUITE, MEDSEAL_SEAL_META_INVALID];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for _ in 0..5000 {
        let len = (next() % 300) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let c = code(Envelope::decode(&bytes));
        assert!(allowed.contains(&c), "{c:?} for {bytes:02x?}");
        *seen.entry(c.name()).or_default() += 1;
    }
    println!("random bytes: {seen:?}");
}

// ---------------------------------------------------------------------------------------------
// The JSON mapping

#[test]
fn json_unknown_and_missing_members() {
    for n in [1, 2] {
        let (envelope, keys) = sealed(Aead::ChaCha20Poly1305, n);
        let value = json_of(&envelope);
        assert!(opens(&from_value(&value).unwrap(), &keys[0]), "serde_json's re-serialization still decodes");
        // Unknown members at every level.
        for path in ["", "/meta", "/suite", "/recipients/0"] {
            let mut v = value.clone();
            v.pointer_mut(path).unwrap().as_object_mut().unwrap().insert("extra".into(), json!(1));
            assert_eq!(code(from_value(&v)), MEDSEAL_SEAL_MALFORMED, "unknown member in '{path}'");
            // Even a near-miss of a real name.
            let mut v = value.clone();
            v.pointer_mut(path).unwrap().as_object_mut().unwrap().insert("Ct".into(), json!("AA"));
            assert_eq!(code(from_value(&v)), MEDSEAL_SEAL_MALFORMED, "'Ct' in '{path}'");
        }
        // Missing members.
        let required: [(&str, &[&str]); 4] = [
            ("", &["ct", "info", "meta", "recipients", "suite"]),
            ("/meta", &["content_type", "created", "record_id", "sequence", "source"]),
            ("/suite", &["aead", "kdf", "kem"]),
            ("/recipients/0", &["enc", "kid"]),
        ];
        for (path, names) in required {
            for name in names {
                let mut v = value.clone();
                v.pointer_mut(path).unwrap().as_object_mut().unwrap().remove(*name);
                assert_eq!(code(from_value(&v)), MEDSEAL_SEAL_MALFORMED, "missing {path}/{name}");
            }
        }
        // Wrong types.
        for (pointer, bad) in [
            ("/meta", json!([])),
            ("/meta", json!("meta")),
            ("/suite", json!(null)),
            ("/recipients", json!({})),
            ("/recipients/0", json!("kid")),
            ("/ct", json!(12)),
            ("/meta/sequence", json!("7")),
            ("/meta/sequence", json!(1.5)),
            ("/meta/sequence", json!(-1)),
            ("/meta/source", json!(7)),
            ("/recipients/0/kid", json!(null)),
            ("/suite/kem", json!(32.5)),
        ] {
            let mut v = value.clone();
            *v.pointer_mut(pointer).unwrap() = bad.clone();
            assert_eq!(code(from_value(&v)), MEDSEAL_SEAL_MALFORMED, "{pointer} = {bad}");
        }
        // Numbers the JSON parser itself refuses (beyond 2^53 - 1) are mapping errors too.
        let text = String::from_utf8(envelope.to_json().unwrap()).unwrap().replace("\"sequence\":7", "\"sequence\":9007199254740992");
        assert_eq!(code(Envelope::decode(text.as_bytes())), MEDSEAL_SEAL_MALFORMED);
        // Sequence 0 is well-formed JSON but invalid meta.
        let mut v = value.clone();
        v["meta"]["sequence"] = json!(0);
        assert_eq!(code(from_value(&v)), MEDSEAL_SEAL_META_INVALID);
    }
}

#[test]
fn json_bad_base64() {
    let (envelope, _) = sealed(Aead::Aes256Gcm, 2);
    let value = json_of(&envelope);
    for pointer in ["/ct", "/info", "/recipients/0/enc", "/recipients/1/wrapped_key"] {
        let good = value.pointer(pointer).unwrap().as_str().unwrap().to_owned();
        let standard = if good.contains(['-', '_']) { good.replace('-', "+").replace('_', "/") } else { format!("+{}", &good[1..]) };
        let mut bads = vec![
            format!("{good}="),
            format!("{good}=="),
            format!(" {good}"),
            format!("{good} "),
            format!("{}\n{}", &good[..4], &good[4..]),
            standard,
            format!("{good}!"),
            format!("{}.{}", &good[..8], &good[9..]),
        ];
        if good.len() % 4 != 0 {
            // The last character carries unused low bits; set one: a non-canonical encoding.
            let mut non_canonical = good.clone().into_bytes();
            let last = non_canonical.last_mut().unwrap();
            *last = match *last {
                b'A'..=b'Y' => *last + 1,
                _ => b'B',
            };
            bads.push(String::from_utf8(non_canonical).unwrap());
        } else {
            // One character more can never be a whole encoding.
            bads.push(format!("{good}A"));
        }
        for bad in bads {
            let mut v = value.clone();
            *v.pointer_mut(pointer).unwrap() = json!(bad);
            assert_eq!(code(from_value(&v)), MEDSEAL_SEAL_MALFORMED, "{pointer} = {bad:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Meta validation

#[test]
fn meta_validation() {
    let key = RecipientKey::generate().unwrap();
    type Edit = fn(&mut Meta);
    let invalid: [(&str, Edit); 16] = [
        ("sequence 0", |m| m.sequence = 0),
        ("sequence 2^53", |m| m.sequence = 1 << 53),
        ("sequence u64::MAX", |m| m.sequence = u64::MAX),
        ("empty source", |m| m.source.clear()),
        ("empty record_id", |m| m.record_id.clear()),
        ("empty content_type", |m| m.content_type.clear()),
        ("control character", |m| m.source = "bv\ncho-ray".into()),
        ("NUL", |m| m.record_id = "rec\0".into()),
        ("257 bytes", |m| m.source = "a".repeat(257)),
        ("empty created", |m| m.created.clear()),
        ("created not a time", |m| m.created = "yesterday".into()),
        ("created without zone", |m| m.created = "2025-03-01T08:30:00".into()),
        ("created 30 February", |m| m.created = "2025-02-30T08:30:00Z".into()),
        ("created date only", |m| m.created = "2025-03-01".into()),
        ("created 25 o'clock", |m| m.created = "2025-03-01T25:00:00Z".into()),
        ("created with an offset, not UTC", |m| m.created = "2025-03-01T15:30:00+07:00".into()),
    ];
    let (envelope, keys) = sealed(Aead::Aes256Gcm, 1);
    for (what, edit) in invalid {
        let mut m = meta();
        edit(&mut m);
        assert_eq!(code(m.validate()), MEDSEAL_SEAL_META_INVALID, "{what}");
        assert_eq!(code(m.info()), MEDSEAL_SEAL_META_INVALID, "{what}");
        assert_eq!(code(Envelope::seal(b"x", m.clone(), &[&key], Aead::Aes256Gcm)), MEDSEAL_SEAL_META_INVALID, "{what}: seal");
        // An envelope carrying it: refused on decode (protobuf) and on open.
        let mut tampered = envelope.clone();
        tampered.meta = m.clone();
        assert_eq!(code(tampered.open(&keys[0])), MEDSEAL_SEAL_META_INVALID, "{what}: open");
        assert_eq!(code(tampered.to_protobuf()), MEDSEAL_SEAL_META_INVALID, "{what}: encoding needs the info");
        let mut message = wire_of(&envelope);
        message.meta = Some(wire::Meta {
            record_id: m.record_id,
            source: m.source,
            sequence: m.sequence,
            created: m.created,
            content_type: m.content_type,
        });
        assert_eq!(code(from_wire(&message)), MEDSEAL_SEAL_META_INVALID, "{what}: decode");
    }
    let valid: [(&str, Edit); 5] = [
        ("sequence 1", |m| m.sequence = 1),
        ("sequence 2^53 - 1", |m| m.sequence = (1 << 53) - 1),
        ("256 bytes", |m| m.source = "ệ".repeat(85) + "a"),
        ("fraction", |m| m.created = "2025-03-01T08:30:00.123456Z".into()),
        ("Vietnamese", |m| m.source = "Bệnh viện Đa khoa tỉnh Quảng Ngãi".into()),
    ];
    for (what, edit) in valid {
        let mut m = meta();
        edit(&mut m);
        assert_eq!(code(m.validate()), MEDSEAL_OK, "{what}");
        let envelope = Envelope::seal(PLAINTEXT, m, &[&key], Aead::Aes256Gcm).unwrap();
        assert!(opens(&Envelope::decode(&envelope.to_json().unwrap()).unwrap(), &key), "{what}");
    }
    // A SealedRecord without meta.
    let mut message = wire_of(&envelope);
    message.meta = None;
    assert_eq!(code(from_wire(&message)), MEDSEAL_SEAL_NOT_PROTOBUF);
}

#[test]
fn open_verified_needs_a_signed_record() {
    let signing = std::sync::Arc::new(Key::generate(Algorithm::EdDSA).unwrap());
    let signer = Signer::new(signing.clone(), SignOptions::default()).unwrap();
    let verifier = Verifier::new(vec![std::sync::Arc::new(signing.to_public())]);
    let hub = RecipientKey::generate().unwrap();
    let envelope = seal_signed(&signer, br#"{"resourceType":"Patient"}"#, meta(), &[&hub], Aead::Aes256Gcm).unwrap();
    assert!(open_verified(&envelope, &hub, &verifier).is_ok());
    let mut other = Envelope::seal(b"not a JWS", Meta { content_type: "text/plain".into(), ..meta() }, &[&hub], Aead::Aes256Gcm).unwrap();
    assert_eq!(code(open_verified(&other, &hub, &verifier)), MEDSEAL_SEAL_META_INVALID);
    other.meta.content_type = "application/jose+json".into();
    assert_eq!(code(open_verified(&other, &hub, &verifier)), MEDSEAL_SEAL_DECRYPT_FAILED, "relabelling breaks the binding");
}

// ---------------------------------------------------------------------------------------------
// Encodings

/// `Envelope::decode` picks JSON when the first non-blank byte is `{`. A protobuf
/// SealedRecord starts with 0x0a (field 1, `meta`) and the meta's length: when the meta is
/// exactly 123 bytes, that length byte is `{`, and 0x0a is also JSON whitespace.
#[test]
fn decode_routes_every_meta_length_to_protobuf() {
    let key = RecipientKey::generate().unwrap();
    let mut saw_123 = false;
    for len in 1..=256 {
        let m = Meta { source: "s".repeat(len), ..meta() };
        let envelope = Envelope::seal(PLAINTEXT, m, &[&key], Aead::Aes256Gcm).unwrap();
        let bytes = envelope.to_protobuf().unwrap();
        saw_123 |= bytes[1] == b'{';
        let decoded = Envelope::decode(&bytes).unwrap_or_else(|e| panic!("source of {len} bytes, header {:02x?}: {e}", &bytes[..3]));
        assert_eq!(decoded, envelope);
        assert_eq!(Envelope::decode(&envelope.to_json().unwrap()).unwrap(), envelope);
    }
    assert!(saw_123, "the range covers a 123-byte meta");
    // JSON with leading whitespace is still JSON, and bad JSON keeps its JSON error.
    let (envelope, _) = sealed(Aead::Aes256Gcm, 1);
    let json = [b"\n\t \r".as_slice(), &envelope.to_json().unwrap()].concat();
    assert_eq!(Envelope::decode(&json).unwrap(), envelope);
    assert_eq!(code(Envelope::decode(b"\n{\"ct\":1}")), MEDSEAL_SEAL_MALFORMED);
}

#[test]
fn encodings_are_stable() {
    for aead in AEADS {
        for n in [1, 4] {
            let (envelope, _) = sealed(aead, n);
            let (proto, json) = (envelope.to_protobuf().unwrap(), envelope.to_json().unwrap());
            // Re-encoding a decoded envelope gives the same bytes.
            assert_eq!(Envelope::from_protobuf(&proto).unwrap().to_protobuf().unwrap(), proto);
            assert_eq!(Envelope::from_json(&json).unwrap().to_json().unwrap(), json);
            // The JSON is canonical (RFC 8785) and names the suite.
            assert_eq!(medseal::canonicalize(&json, &medseal::CanonOptions::plain()).unwrap(), json);
            let value: Value = serde_json::from_slice(&json).unwrap();
            assert_eq!(value["suite"], json!({"aead": aead.id(), "kdf": 1, "kem": 32}));
            assert_eq!(value["recipients"].as_array().unwrap().len(), n);
            assert_eq!(value["recipients"][0].get("wrapped_key").is_some(), n > 1);
            let message = wire::SealedRecord::decode(proto.as_slice()).unwrap();
            assert_eq!(message.suite, Some(wire::Suite { kem: 0x20, kdf: 1, aead: u32::from(aead.id()) }));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Property-based round trips

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9._-]{1,40}",
        // Any printable text (no Unicode category C), including quotes and backslashes.
        "\\PC{1,40}",
        "[ a-zA-ZàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđĐ]{1,60}",
        prop::sample::select(vec!["Bệnh viện Chợ Rẫy", "Nguyễn Văn An", "Sở Y tế Hà Nội", "Trạm y tế xã Đông Hưng"]).prop_map(String::from),
    ]
}

fn created() -> impl Strategy<Value = String> {
    (1970u32..2100, 1u32..=12, 1u32..=28, 0u32..24, 0u32..60, 0u32..60, prop::option::of(0u32..1_000_000)).prop_map(
        |(y, mo, d, h, mi, s, frac)| {
            // The wire format says UTC: medseal writes and accepts only `Z`.
            let frac = frac.map(|f| format!(".{f:06}")).unwrap_or_default();
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}Z")
        },
    )
}

fn any_meta() -> impl Strategy<Value = Meta> {
    (text(), text(), 1u64..=(1 << 53) - 1, created(), text()).prop_map(|(record_id, source, sequence, created, content_type)| Meta {
        record_id,
        source,
        sequence,
        created,
        content_type,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn round_trips(
        plaintext in prop::collection::vec(any::<u8>(), 0..4096),
        meta in any_meta(),
        n in 1usize..=4,
        chacha in any::<bool>(),
    ) {
        let aead = if chacha { Aead::ChaCha20Poly1305 } else { Aead::Aes256Gcm };
        let keys = keys(n);
        let public: Vec<RecipientKey> = keys.iter().map(RecipientKey::to_public).collect();
        let public: Vec<&RecipientKey> = public.iter().collect();
        let envelope = Envelope::seal(&plaintext, meta.clone(), &public, aead).unwrap();
        prop_assert_eq!(&envelope.meta, &meta);
        prop_assert_eq!(envelope.ct.len(), plaintext.len() + 16);
        let proto = envelope.to_protobuf().unwrap();
        let json = envelope.to_json().unwrap();
        for (decoded, how) in [
            (Envelope::decode(&proto), "decode(protobuf)"),
            (Envelope::from_protobuf(&proto), "from_protobuf"),
            (Envelope::decode(&json), "decode(json)"),
            (Envelope::from_json(&json), "from_json"),
        ] {
            let decoded = decoded.map_err(|e| TestCaseError::fail(format!("{how}: {e}")))?;
            prop_assert_eq!(&decoded, &envelope, "{}", how);
            for key in &keys {
                let opened = decoded.open(key).map_err(|e| TestCaseError::fail(format!("{how}: open: {e}")))?;
                prop_assert_eq!(opened.as_slice(), plaintext.as_slice(), "{}", how);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Differential: the `hpke` crate (RustCrypto-based, independent of ring and of medseal)

mod differential {
    use ::hpke::aead::{Aead as CrateAead, AesGcm128, AesGcm256, ChaCha20Poly1305};
    use ::hpke::kdf::HkdfSha256;
    use ::hpke::kem::X25519HkdfSha256;
    use ::hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};

    use super::*;

    type CrateKem = X25519HkdfSha256;

    fn crate_seal<A: CrateAead>(pk: &[u8], info: &[u8], aad: &[u8], pt: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let pk = <CrateKem as ::hpke::Kem>::PublicKey::from_bytes(pk).unwrap();
        let (enc, ct) = ::hpke::single_shot_seal::<A, HkdfSha256, CrateKem>(&OpModeS::Base, &pk, info, pt, aad).unwrap();
        (enc.to_bytes().to_vec(), ct)
    }

    fn crate_open<A: CrateAead>(sk: &[u8], enc: &[u8], info: &[u8], aad: &[u8], ct: &[u8]) -> Vec<u8> {
        let sk = <CrateKem as ::hpke::Kem>::PrivateKey::from_bytes(sk).unwrap();
        let enc = <CrateKem as ::hpke::Kem>::EncappedKey::from_bytes(enc).unwrap();
        ::hpke::single_shot_open::<A, HkdfSha256, CrateKem>(&OpModeR::Base, &sk, &enc, info, ct, aad).unwrap()
    }

    fn raw_private(key: &RecipientKey) -> Vec<u8> {
        key.export(KeyFormat::RawPrivate).unwrap().to_vec()
    }

    fn both_directions<A: CrateAead>(aead: Aead) {
        let hub = RecipientKey::generate().unwrap();
        let insurer = RecipientKey::generate().unwrap();
        // The crate derives the same public key from the private bytes.
        let sk = <CrateKem as ::hpke::Kem>::PrivateKey::from_bytes(&raw_private(&hub)).unwrap();
        assert_eq!(CrateKem::sk_to_pk(&sk).to_bytes().as_slice(), hub.public_bytes());
        for plaintext in [&b""[..], b"x", PLAINTEXT, &[0xa5; 5000]] {
            let info = meta().info().unwrap();
            // Primitive level, with an AAD (envelopes use none).
            let (enc, ct) = crate_seal::<A>(hub.public_bytes(), &info, b"aad", plaintext);
            assert_eq!(mhpke::open_with_key(aead, &hub, &enc, &info, b"aad", &ct).unwrap().as_slice(), plaintext);
            let sealed = mhpke::seal(aead, hub.public_bytes(), &info, b"aad", plaintext).unwrap();
            assert_eq!(crate_open::<A>(&raw_private(&hub), &sealed.enc, &info, b"aad", &sealed.ct), plaintext);
            if aead == Aead::Aes128Gcm {
                continue; // envelopes never use it
            }
            // The crate seals a single-recipient envelope; medseal opens it.
            let (enc, ct) = crate_seal::<A>(hub.public_bytes(), &info, b"", plaintext);
            let envelope =
                Envelope { meta: meta(), aead, recipients: vec![Recipient { kid: hub.kid().into(), enc, wrapped_key: vec![] }], ct };
            let decoded = Envelope::decode(&envelope.to_protobuf().unwrap()).unwrap();
            assert_eq!(decoded.open(&hub).unwrap().as_slice(), plaintext);
            // medseal seals; the crate opens.
            let envelope = Envelope::seal(plaintext, meta(), &[&hub.to_public()], aead).unwrap();
            let r = &envelope.recipients[0];
            assert_eq!(crate_open::<A>(&raw_private(&hub), &r.enc, &info, b"", &envelope.ct), plaintext);
            // Several recipients: the crate unwraps the content key from every entry; the body
            // is then opened with medseal's AEAD (the crate exposes no bare AEAD), under the
            // documented all-zero nonce with the info as AAD.
            let envelope = Envelope::seal(plaintext, meta(), &[&hub.to_public(), &insurer.to_public()], aead).unwrap();
            let content_keys: Vec<Vec<u8>> = [&hub, &insurer]
                .iter()
                .zip(&envelope.recipients)
                .map(|(key, r)| crate_open::<A>(&raw_private(key), &r.enc, &info, b"", &r.wrapped_key))
                .collect();
            assert_eq!(content_keys[0].len(), 32);
            assert_eq!(content_keys[0], content_keys[1]);
            let mut body = envelope.ct.clone();
            let len = mhpke::aead_open(aead, &content_keys[0], &[0; 12], &info, &mut body).unwrap();
            assert_eq!(&body[..len], plaintext);
            // And the reverse: the crate wraps a content key for each; medseal opens.
            let content_key = [0x5c; 32];
            let recipients = [&hub, &insurer]
                .iter()
                .map(|key| {
                    let (enc, wrapped_key) = crate_seal::<A>(key.public_bytes(), &info, b"", &content_key);
                    Recipient { kid: key.kid().into(), enc, wrapped_key }
                })
                .collect();
            let mut ct = plaintext.to_vec();
            mhpke::aead_seal(aead, &content_key, &[0; 12], &info, &mut ct).unwrap();
            let envelope = Envelope { meta: meta(), aead, recipients, ct };
            let decoded = Envelope::decode(&envelope.to_json().unwrap()).unwrap();
            assert_eq!(decoded.open(&hub).unwrap().as_slice(), plaintext);
            assert_eq!(decoded.open(&insurer).unwrap().as_slice(), plaintext);
        }
    }

    #[test]
    fn hpke_crate_aes_256_gcm() {
        both_directions::<AesGcm256>(Aead::Aes256Gcm);
    }

    #[test]
    fn hpke_crate_chacha20_poly1305() {
        both_directions::<ChaCha20Poly1305>(Aead::ChaCha20Poly1305);
    }

    #[test]
    fn hpke_crate_aes_128_gcm_primitive() {
        both_directions::<AesGcm128>(Aead::Aes128Gcm);
    }

    #[test]
    fn hpke_crate_refuses_what_medseal_refuses() {
        // Both refuse a low-order encapsulated key.
        let hub = RecipientKey::generate().unwrap();
        let sk = <CrateKem as ::hpke::Kem>::PrivateKey::from_bytes(&raw_private(&hub)).unwrap();
        for point in low_order_points() {
            let enc = <CrateKem as ::hpke::Kem>::EncappedKey::from_bytes(&point).unwrap();
            let crate_result = ::hpke::single_shot_open::<AesGcm256, HkdfSha256, CrateKem>(&OpModeR::Base, &sk, &enc, b"i", &[0; 16], b"");
            assert!(crate_result.is_err());
            assert_eq!(code(mhpke::open_with_key(Aead::Aes256Gcm, &hub, &point, b"i", b"", &[0; 16])), MEDSEAL_SEAL_ZERO_SHARED_SECRET);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// RecipientKey

#[test]
fn recipient_key_import_export_round_trips() {
    let key = RecipientKey::generate().unwrap();
    let raw_secret = key.export(KeyFormat::RawPrivate).unwrap();
    for format in KeyFormat::ALL {
        let exported = key.export(format).unwrap();
        let restored = match format {
            KeyFormat::RawPrivate => RecipientKey::from_raw_private(&exported),
            KeyFormat::RawPublic => RecipientKey::from_raw_public(&exported),
            _ => RecipientKey::import(&exported),
        }
        .unwrap_or_else(|e| panic!("{format:?}: {e}"));
        assert_eq!(restored.public_bytes(), key.public_bytes(), "{format:?}");
        assert_eq!(restored.kid(), key.kid(), "{format:?}");
        assert_eq!(restored.has_private(), format.is_private(), "{format:?}");
        if format.is_private() {
            assert_eq!(restored.export(KeyFormat::RawPrivate).unwrap(), raw_secret, "{format:?}");
        }
        // Exporting again gives the same bytes.
        assert_eq!(restored.export(format).unwrap(), exported, "{format:?}");
        // Surrounding whitespace is fine for the text formats.
        if matches!(format, KeyFormat::Pkcs8Pem | KeyFormat::Pkcs8V2Pem | KeyFormat::SpkiPem | KeyFormat::Jwk) {
            let padded = [b"\n  ".as_slice(), &exported, b"\n"].concat();
            assert_eq!(RecipientKey::import(&padded).unwrap().kid(), key.kid(), "{format:?} padded");
        }
        // A public-only key has no private formats.
        let public = key.to_public();
        assert_eq!(code(public.export(format)), if format.is_private() { MEDSEAL_KEY_NOT_PRIVATE } else { MEDSEAL_OK }, "{format:?}");
    }
    // The JWK is the public key with its kid, for encryption.
    let jwk: Value = serde_json::from_slice(&key.export(KeyFormat::Jwk).unwrap()).unwrap();
    assert_eq!(jwk, json!({"crv": "X25519", "kty": "OKP", "x": b64(key.public_bytes()), "kid": key.kid(), "use": "enc"}));
    // The kid is the RFC 7638 thumbprint: SHA-256 of the required members in order.
    let members = format!(r#"{{"crv":"X25519","kty":"OKP","x":"{}"}}"#, b64(key.public_bytes()));
    assert_eq!(key.kid(), b64(ring::digest::digest(&ring::digest::SHA256, members.as_bytes()).as_ref()));
    // A private JWK (d and x) imports with its private half.
    let private_jwk = json!({"crv": "X25519", "kty": "OKP", "x": b64(key.public_bytes()), "d": b64(&raw_secret)});
    let restored = RecipientKey::import(&serde_json::to_vec(&private_jwk).unwrap()).unwrap();
    assert!(restored.has_private());
    assert_eq!(restored.export(KeyFormat::RawPrivate).unwrap(), raw_secret);
    // Raw bytes are not an importable format.
    assert_eq!(code(RecipientKey::import(&raw_secret)), MEDSEAL_KEY_FORMAT);
    assert_eq!(code(RecipientKey::from_raw_private(&raw_secret[..31])), MEDSEAL_KEY_INVALID);
    assert_eq!(code(RecipientKey::from_raw_public(&[0; 33])), MEDSEAL_KEY_INVALID);
}

/// Every key format but the raw ones (which carry no key type).
const ENCODED_FORMATS: [KeyFormat; 7] = [
    KeyFormat::Pkcs8Der,
    KeyFormat::Pkcs8Pem,
    KeyFormat::Pkcs8V2Der,
    KeyFormat::Pkcs8V2Pem,
    KeyFormat::SpkiDer,
    KeyFormat::SpkiPem,
    KeyFormat::Jwk,
];

#[test]
fn recipient_key_refuses_signing_keys_and_inconsistent_keys() {
    // Ed25519 keys share the OKP structures but are not X25519.
    let ed = Key::generate(Algorithm::EdDSA).unwrap();
    for format in ENCODED_FORMATS {
        let bytes = ed.export(format).unwrap();
        assert_eq!(code(RecipientKey::import(&bytes)), MEDSEAL_KEY_UNSUPPORTED, "Ed25519 {format:?}");
    }
    // X25519 JWKs with mismatched or malformed members.
    let (a, b) = (RecipientKey::generate().unwrap(), RecipientKey::generate().unwrap());
    let d = |k: &RecipientKey| b64(&k.export(KeyFormat::RawPrivate).unwrap());
    let x = |k: &RecipientKey| b64(k.public_bytes());
    for (jwk, expected) in [
        (json!({"kty": "OKP", "crv": "X25519", "x": x(&b), "d": d(&a)}), MEDSEAL_KEY_INVALID),
        (json!({"kty": "OKP", "crv": "X25519", "d": d(&a)}), MEDSEAL_KEY_INVALID),
        (json!({"kty": "OKP", "crv": "X25519", "x": x(&a)[..42]}), MEDSEAL_KEY_INVALID),
        (json!({"kty": "OKP", "crv": "X25519", "x": format!("{}=", x(&a))}), MEDSEAL_KEY_INVALID),
        (json!({"kty": "OKP", "crv": "X25519", "x": x(&a), "d": b64(&[1; 31])}), MEDSEAL_KEY_INVALID),
        (json!({"kty": "OKP", "crv": "Ed25519", "x": x(&a)}), MEDSEAL_KEY_UNSUPPORTED),
        (json!({"kty": "EC", "crv": "P-256", "x": x(&a), "y": x(&a)}), MEDSEAL_KEY_UNSUPPORTED),
        (json!({"crv": "X25519", "x": x(&a)}), MEDSEAL_KEY_UNSUPPORTED),
    ] {
        assert_eq!(code(RecipientKey::import(&serde_json::to_vec(&jwk).unwrap())), expected, "{jwk}");
    }
    assert_eq!(code(RecipientKey::import(b"{not json")), MEDSEAL_KEY_FORMAT);
    // PKCS#8 v2 whose public key is not the private key's.
    let mut v2 = a.export(KeyFormat::Pkcs8V2Der).unwrap().to_vec();
    let at = v2.len() - 32;
    assert_eq!(&v2[at..], a.public_bytes());
    v2[at..].copy_from_slice(b.public_bytes());
    assert_eq!(code(RecipientKey::import(&v2)), MEDSEAL_KEY_INVALID);
    // Other PEM labels and encrypted keys.
    assert_eq!(code(RecipientKey::import(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")), MEDSEAL_KEY_FORMAT);
    assert_eq!(code(RecipientKey::import(b"")), MEDSEAL_KEY_FORMAT);
}

#[test]
fn recipient_key_refuses_p256_keys_in_every_form() {
    // P-256 (and RSA) keys are not X25519 keys: UNSUPPORTED in every form, like Ed25519.
    // (Before the fix in recipient.rs, PKCS#8 DER gave KEY_FORMAT and PKCS#8 PEM KEY_INVALID.)
    let key = Key::generate(Algorithm::ES256).unwrap();
    for format in ENCODED_FORMATS {
        assert_eq!(code(RecipientKey::import(&key.export(format).unwrap())), MEDSEAL_KEY_UNSUPPORTED, "P-256 {format:?}");
    }
}

fn openssl(dir: &std::path::Path, args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new("openssl").args(args).current_dir(dir).output().expect("openssl (tests/jws.rs needs it too)");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn recipient_key_reads_openssl_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let read = |name: &str| std::fs::read(d.join(name)).unwrap();
    openssl(d, &["genpkey", "-algorithm", "X25519", "-out", "x.pem"]);
    openssl(d, &["pkey", "-in", "x.pem", "-outform", "DER", "-out", "x.der"]);
    openssl(d, &["pkey", "-in", "x.pem", "-pubout", "-out", "xpub.pem"]);
    openssl(d, &["pkey", "-in", "x.pem", "-pubout", "-outform", "DER", "-out", "xpub.der"]);
    openssl(d, &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem"]);
    openssl(d, &["pkcs8", "-topk8", "-nocrypt", "-in", "rsa.pem", "-outform", "DER", "-out", "rsa8.der"]);
    openssl(d, &["pkey", "-in", "rsa.pem", "-outform", "DER", "-out", "rsa1.der"]);
    openssl(d, &["rsa", "-in", "rsa.pem", "-traditional", "-out", "rsa1.pem"]);
    openssl(d, &["pkey", "-in", "rsa.pem", "-pubout", "-out", "rsapub.pem"]);
    openssl(d, &["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:x", "-in", "x.pem", "-out", "x_enc.pem"]);
    openssl(d, &["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:x", "-in", "x.pem", "-outform", "DER", "-out", "x_enc.der"]);
    let private = RecipientKey::import(&read("x.pem")).unwrap();
    assert!(private.has_private());
    assert_eq!(RecipientKey::import(&read("x.der")).unwrap().kid(), private.kid());
    for public in ["xpub.pem", "xpub.der"] {
        let public = RecipientKey::import(&read(public)).unwrap();
        assert!(!public.has_private());
        assert_eq!(public.public_bytes(), private.public_bytes(), "medseal derives OpenSSL's public key");
        // Sealed to OpenSSL's public key, opened with OpenSSL's private key.
        let envelope = Envelope::seal(PLAINTEXT, meta(), &[&public], Aead::Aes256Gcm).unwrap();
        assert!(opens(&envelope, &private));
    }
    // medseal's export is what OpenSSL reads back to the same public key.
    std::fs::write(d.join("m.der"), private.export(KeyFormat::Pkcs8Der).unwrap()).unwrap();
    let spki = openssl(d, &["pkey", "-inform", "DER", "-in", "m.der", "-pubout", "-outform", "DER"]);
    assert_eq!(spki, private.export(KeyFormat::SpkiDer).unwrap().as_slice());
    for (name, expected) in [
        ("rsa.pem", MEDSEAL_KEY_UNSUPPORTED),
        ("rsa8.der", MEDSEAL_KEY_UNSUPPORTED),
        // PKCS#1 is no form of a recipient key at all.
        ("rsa1.der", MEDSEAL_KEY_FORMAT),
        ("rsa1.pem", MEDSEAL_KEY_FORMAT),
        ("rsapub.pem", MEDSEAL_KEY_UNSUPPORTED),
        ("x_enc.pem", MEDSEAL_KEY_ENCRYPTED),
        ("x_enc.der", MEDSEAL_KEY_ENCRYPTED),
    ] {
        assert_eq!(code(RecipientKey::import(&read(name))), expected, "{name}");
    }
}

#[test]
fn recipient_key_debug_never_shows_key_bytes() {
    for _ in 0..8 {
        let key = RecipientKey::generate().unwrap();
        let secret = key.export(KeyFormat::RawPrivate).unwrap().to_vec();
        let public = key.public_bytes().to_vec();
        for shown in [format!("{key:?}"), format!("{key:#?}"), format!("{:?}", key.to_public()), format!("{:?}", vec![key.clone()])] {
            assert!(shown.contains(key.kid()), "{shown}");
            for bytes in [&secret, &public] {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                let decimal = format!("{bytes:?}");
                let inner = &decimal[1..decimal.len() - 1];
                assert!(!shown.contains(&hex) && !shown.to_lowercase().contains(&hex), "{shown}");
                assert!(!shown.contains(&b64(bytes)), "{shown}");
                assert!(!shown.contains(&B64.encode(&bytes[..8])), "{shown}");
                assert!(!shown.contains(inner), "{shown}");
                assert!(!shown.contains(&format!("{:?}", &bytes[..4])[1..10]), "{shown}");
            }
        }
    }
}

#[test]
fn only_the_canonical_protobuf_encoding_is_an_envelope() {
    // One record, one encoding, one digest: prost would read every variant below as the same
    // message (or drop the extra bytes), so without this check plain text could ride along
    // inside a ledgered envelope and one record could have many digests.
    let (envelope, keys) = sealed(Aead::Aes256Gcm, 1);
    let bytes = envelope.to_protobuf().unwrap();
    let message = wire::SealedRecord::decode(bytes.as_slice()).unwrap();
    let field = |number: u32, payload: &[u8]| {
        let mut out = Vec::new();
        prost::encoding::bytes::encode(number, &payload.to_vec(), &mut out);
        out
    };
    let meta_bytes = message.meta.clone().unwrap().encode_to_vec();
    let mut reordered = wire::SealedRecord { ct: Vec::new(), info: Vec::new(), ..message.clone() }.encode_to_vec();
    reordered.extend(field(5, &message.info));
    reordered.extend(field(4, &message.ct));
    let mut long_length = wire::SealedRecord { ct: Vec::new(), info: Vec::new(), ..message.clone() }.encode_to_vec();
    long_length.push(0x22); // field 4, length-delimited, with its length in one byte too many
    let mut length = Vec::new();
    prost::encoding::encode_varint(message.ct.len() as u64, &mut length);
    *length.last_mut().unwrap() |= 0x80;
    long_length.extend(length);
    long_length.push(0);
    long_length.extend(&message.ct);
    long_length.extend(field(5, &message.info));
    let unknown_in_meta = {
        let mut meta = meta_bytes.clone();
        meta.extend(field(15, b"patient name in clear"));
        let mut out = field(1, &meta);
        out.extend(&bytes[field(1, &meta_bytes).len()..]);
        out
    };
    let variants: Vec<(&str, Vec<u8>)> = vec![
        ("an unknown field", [bytes.clone(), field(9, b"plain text riding along")].concat()),
        ("an unknown varint field", [bytes.clone(), vec![0x48, 0x01]].concat()),
        ("info twice", [bytes.clone(), field(5, &message.info)].concat()),
        ("ct twice", [field(4, b"decoy"), bytes.clone()].concat()),
        ("meta twice (merged by protobuf)", [field(1, &meta_bytes), bytes.clone()].concat()),
        ("fields out of order", reordered),
        ("a non-minimal length", long_length),
        ("an empty info written out", [bytes.clone(), field(5, b"")].concat()),
        ("an unknown field inside meta", unknown_in_meta),
    ];
    assert_eq!(Envelope::decode(&bytes).unwrap().to_protobuf().unwrap(), bytes, "the canonical form is accepted");
    let mut out = vec![0u8; bytes.len()];
    for (what, variant) in variants {
        assert_ne!(variant, bytes, "{what}");
        assert_eq!(code(Envelope::decode(&variant)), MEDSEAL_SEAL_MALFORMED, "{what}");
        assert_eq!(code(Envelope::from_protobuf(&variant)), MEDSEAL_SEAL_MALFORMED, "{what}");
        // The in-place path (the C ABI's open_into) refuses it too, before any cryptography.
        assert_eq!(code(Envelope::open_encoded_into(&variant, &keys[0], &mut out)), MEDSEAL_SEAL_MALFORMED, "{what}");
    }
}
