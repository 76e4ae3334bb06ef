//! Hostile input never panics: arbitrary and mutated bytes into every parser (canonicalizer,
//! key import, JWS verification). A cheap stand-in for fuzzing that runs on stable in CI.

use std::sync::Arc;

use medseal::jws::Serialization;
use medseal::{canonicalize, Algorithm, CanonOptions, DetachedPayload, Key, SignOptions, Signer, Verifier};
use proptest::prelude::*;

const RECORD: &[u8] = r#"{"resourceType":"Patient","id":"p1","name":[{"family":"Nguyễn","given":["Văn","An"]}],"birthDate":"1990-04-30","multipleBirthInteger":2}"#.as_bytes();

fn mutate(base: &[u8], edits: &[(usize, u8)]) -> Vec<u8> {
    let mut bytes = base.to_vec();
    for &(at, value) in edits {
        if !bytes.is_empty() {
            let i = at % bytes.len();
            bytes[i] = value;
        }
    }
    bytes
}

fn fixtures() -> (String, Verifier, Vec<u8>) {
    let key = Arc::new(Key::generate(Algorithm::EdDSA).unwrap());
    let signer = Signer::new(key.clone(), SignOptions::default()).unwrap();
    let jws = signer.sign(RECORD, Serialization::Flattened).unwrap();
    let pem = key.export(medseal::keys::KeyFormat::Pkcs8Pem).unwrap().to_vec();
    (jws, Verifier::new(vec![Arc::new(key.to_public())]), pem)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn canonicalize_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = canonicalize(&bytes, &CanonOptions::default());
        let _ = canonicalize(&bytes, &CanonOptions::plain());
    }

    #[test]
    fn mutated_records_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let bytes = mutate(RECORD, &edits);
        let _ = canonicalize(&bytes, &CanonOptions::default());
    }

    #[test]
    fn key_import_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Key::import(&bytes, None);
    }

    #[test]
    fn mutated_jws_never_panics_nor_verifies(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let (jws, verifier, _) = fixtures();
        let bytes = mutate(jws.as_bytes(), &edits);
        if let Ok(verified) = verifier.verify(&bytes, DetachedPayload::None) {
            // Only edits that leave the JWS semantically unchanged may verify (e.g. whitespace
            // outside strings); then the payload must be the canonical record.
            prop_assert_eq!(verified.payload, canonicalize(RECORD, &CanonOptions::default()).unwrap());
        }
    }

    #[test]
    fn mutated_keys_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let (_, _, pem) = fixtures();
        let _ = Key::import(&mutate(&pem, &edits), None);
    }
}
