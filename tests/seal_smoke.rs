//! The sealed-envelope happy paths, end to end: sign → seal → encode → decode → open → verify,
//! for one and several recipients, both AEADs and both encodings.

use std::sync::Arc;

use medseal::record::{open_verified, seal_signed};
use medseal::{Aead, Algorithm, Envelope, Key, Meta, RecipientKey, SignOptions, Signer, Verifier};

const RECORD: &str = r#"{"resourceType":"Patient","id":"p1","name":[{"family":"Nguyễn","given":["Văn","An"]}]}"#;

#[test]
fn sign_seal_open_verify_round_trips() {
    let key = Arc::new(Key::generate(Algorithm::EdDSA).unwrap());
    let signer = Signer::new(key.clone(), SignOptions::default()).unwrap();
    let verifier = Verifier::new(vec![Arc::new(key.to_public())]);
    let hub = RecipientKey::generate().unwrap();
    let insurer = RecipientKey::generate().unwrap();
    let outsider = RecipientKey::generate().unwrap();
    for aead in [Aead::Aes256Gcm, Aead::ChaCha20Poly1305] {
        for recipients in [vec![&hub], vec![&hub, &insurer]] {
            let public: Vec<RecipientKey> = recipients.iter().map(|k| k.to_public()).collect();
            let public: Vec<&RecipientKey> = public.iter().collect();
            let meta = Meta::new("rec-1", "bv-cho-ray", 1);
            let envelope = seal_signed(&signer, RECORD.as_bytes(), meta, &public, aead).unwrap();
            for encoded in [envelope.to_json().unwrap(), envelope.to_protobuf().unwrap()] {
                let decoded = Envelope::decode(&encoded).unwrap();
                assert_eq!(decoded, envelope);
                for recipient in &recipients {
                    let verified = open_verified(&decoded, recipient, &verifier).unwrap();
                    assert_eq!(verified.payload, medseal::canonicalize(RECORD.as_bytes(), &Default::default()).unwrap());
                }
                let refused = decoded.open(&outsider).unwrap_err();
                assert_eq!(refused.code(), medseal::ResultCode::MEDSEAL_SEAL_WRONG_RECIPIENT);
            }
        }
    }
}

#[test]
fn changed_meta_fails_authentication() {
    let hub = RecipientKey::generate().unwrap();
    let insurer = RecipientKey::generate().unwrap();
    for recipients in [vec![&hub], vec![&hub, &insurer]] {
        let mut envelope = Envelope::seal(b"record", Meta::new("rec-1", "bv-cho-ray", 7), &recipients, Aead::Aes256Gcm).unwrap();
        envelope.meta.sequence = 8;
        assert_eq!(envelope.open(&hub).unwrap_err().code(), medseal::ResultCode::MEDSEAL_SEAL_DECRYPT_FAILED);
    }
}

#[test]
fn strictness_of_the_mapping() {
    use medseal::ResultCode::*;
    let hub = RecipientKey::generate().unwrap();
    let insurer = RecipientKey::generate().unwrap();
    // A recipient listed twice is a mistake: refused when sealing and when decoding.
    let twice = Envelope::seal(b"record", Meta::new("rec-1", "bv-cho-ray", 1), &[&hub, &hub], Aead::Aes256Gcm);
    assert_eq!(twice.unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT);
    let envelope = Envelope::seal(b"record", Meta::new("rec-1", "bv-cho-ray", 1), &[&hub, &insurer], Aead::Aes256Gcm).unwrap();
    let json = String::from_utf8(envelope.to_json().unwrap()).unwrap();
    let duplicated = json.replace(insurer.kid(), hub.kid());
    assert_eq!(Envelope::from_json(duplicated.as_bytes()).unwrap_err().code(), MEDSEAL_SEAL_MALFORMED);
    // Numbers must be written canonically: the info is recomputed from them.
    assert!(json.contains("\"sequence\":1,"));
    let lossy = json.replace("\"sequence\":1,", "\"sequence\":1.0,");
    assert_eq!(Envelope::from_json(lossy.as_bytes()).unwrap_err().code(), MEDSEAL_SEAL_MALFORMED);
    // created must be UTC.
    let mut meta = Meta::new("rec-1", "bv-cho-ray", 1);
    meta.created = "2026-11-26T15:00:00+07:00".into();
    assert_eq!(meta.validate().unwrap_err().code(), MEDSEAL_SEAL_META_INVALID);
}

#[test]
fn sealing_straight_into_protobuf_gives_the_same_envelope() {
    let hub = RecipientKey::generate().unwrap();
    let insurer = RecipientKey::generate().unwrap();
    for recipients in [vec![&hub], vec![&hub, &insurer]] {
        for aead in [Aead::Aes256Gcm, Aead::ChaCha20Poly1305] {
            let meta = Meta::new("rec-9", "bv-cho-ray", 9);
            let encoded = Envelope::seal_to_protobuf(b"record bytes", meta.clone(), &recipients, aead).unwrap();
            let decoded = Envelope::from_protobuf(&encoded).unwrap();
            assert_eq!((&decoded.meta, decoded.aead, decoded.recipients.len()), (&meta, aead, recipients.len()));
            // Field for field the same bytes as the two-step path (which re-encodes the decoded one).
            assert_eq!(decoded.to_protobuf().unwrap(), encoded);
            for key in &recipients {
                assert_eq!(decoded.open(key).unwrap().as_slice(), b"record bytes");
            }
        }
    }
}

#[test]
fn one_shot_open_agrees_with_decode_then_open() {
    let hub = RecipientKey::generate().unwrap();
    let insurer = RecipientKey::generate().unwrap();
    let plaintext = vec![0x5au8; 3000];
    for recipients in [vec![&hub], vec![&hub, &insurer]] {
        let envelope = Envelope::seal(&plaintext, Meta::new("rec-3", "bv-cho-ray", 3), &recipients, Aead::Aes256Gcm).unwrap();
        for encoded in [envelope.to_json().unwrap(), envelope.to_protobuf().unwrap()] {
            assert_eq!(Envelope::encoded_plaintext_len(&encoded).unwrap(), plaintext.len());
            let mut out = vec![0u8; plaintext.len()];
            assert_eq!(
                Envelope::open_encoded_into(&encoded, &insurer, &mut out[..10]).map_err(|e| e.code()),
                Err(if recipients.len() == 1 {
                    medseal::ResultCode::MEDSEAL_SEAL_WRONG_RECIPIENT
                } else {
                    medseal::ResultCode::MEDSEAL_BUFFER_TOO_SMALL
                })
            );
            for key in &recipients {
                assert_eq!(Envelope::open_encoded_into(&encoded, key, &mut out).unwrap(), plaintext.len());
                assert_eq!(out, plaintext);
            }
            // Every truncation, and a flipped byte at every 7th position: the one-shot path gives
            // exactly what decode-then-open gives.
            let two_step = |bytes: &[u8]| Envelope::decode(bytes).and_then(|e| e.open(&hub).map(|p| p.to_vec())).map_err(|e| e.code());
            let one_shot = |bytes: &[u8]| {
                let mut out = vec![0u8; plaintext.len() + 64];
                Envelope::open_encoded_into(bytes, &hub, &mut out).map(|n| out[..n].to_vec()).map_err(|e| e.code())
            };
            for cut in 0..encoded.len() {
                assert_eq!(one_shot(&encoded[..cut]), two_step(&encoded[..cut]), "cut at {cut}");
            }
            for at in (0..encoded.len()).step_by(7) {
                let mut changed = encoded.clone();
                changed[at] ^= 0x21;
                assert_eq!(one_shot(&changed), two_step(&changed), "byte {at} changed");
            }
        }
    }
}

#[test]
fn a_flood_of_recipient_fields_is_refused_before_decoding() {
    use medseal::ResultCode::*;
    // 8 MiB of empty field-3 entries: millions of recipients if they were decoded first.
    let flood: Vec<u8> = [0x1a, 0x00].repeat(4 << 20);
    assert_eq!(Envelope::decode(&flood).unwrap_err().code(), MEDSEAL_SEAL_MALFORMED);
    let key = RecipientKey::generate().unwrap();
    let mut out = [0u8; 16];
    assert_eq!(Envelope::open_encoded_into(&flood, &key, &mut out).unwrap_err().code(), MEDSEAL_SEAL_MALFORMED);
    // JSON: a valid envelope holds a few dozen values; a huge array is refused by count.
    let json = format!(r#"{{"ct":"","info":"","meta":{{}},"recipients":[{}0],"suite":{{}}}}"#, "0,".repeat(100_000));
    assert_eq!(Envelope::decode(json.as_bytes()).unwrap_err().code(), MEDSEAL_SEAL_MALFORMED);
}

#[test]
fn open_verified_accepts_only_medseal_records() {
    let key = Arc::new(Key::generate(Algorithm::EdDSA).unwrap());
    let verifier = Verifier::new(vec![Arc::new(key.to_public())]);
    let hub = RecipientKey::generate().unwrap();
    // A valid JWS from the trusted key, but not a record (no typ): refused after opening.
    let not_a_record = Signer::new(key.clone(), SignOptions { typ: None, ..SignOptions::default() }).unwrap();
    let envelope = seal_signed(&not_a_record, RECORD.as_bytes(), Meta::new("r", "s", 1), &[&hub], Aead::Aes256Gcm).unwrap();
    assert_eq!(open_verified(&envelope, &hub, &verifier).unwrap_err().code(), medseal::ResultCode::MEDSEAL_JWS_HEADER);
}
