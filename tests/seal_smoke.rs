//! The sealed-envelope happy paths, end to end: sign → seal → encode → decode → open → verify,
//! for one and several recipients, both AEADs and both encodings.

use std::sync::Arc;

use medseal::seal::{open_verified, seal_signed};
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
    for recipients in [vec![&hub], vec![&hub, &hub]] {
        let mut envelope = Envelope::seal(b"record", Meta::new("rec-1", "bv-cho-ray", 7), &recipients, Aead::Aes256Gcm).unwrap();
        envelope.meta.sequence = 8;
        assert_eq!(envelope.open(&hub).unwrap_err().code(), medseal::ResultCode::MEDSEAL_SEAL_DECRYPT_FAILED);
    }
}
