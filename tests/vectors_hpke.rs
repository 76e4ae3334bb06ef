//! RFC 9180 test vectors (../shared/vectors/hpke) through medseal's HPKE: every base-mode entry
//! for DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 with an AEAD medseal implements. Single-shot
//! is sequence number 0, so the first encryption of each entry is reproduced exactly and
//! opened; the later ones (other nonces) belong to multi-message contexts medseal does not use.

use medseal::seal::hpke::{self, Aead};
use medseal::seal::RecipientKey;
use serde_json::Value;

fn hex(v: &Value) -> Vec<u8> {
    let s = v.as_str().expect("hex string");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn array32(bytes: &[u8]) -> [u8; 32] {
    bytes.try_into().expect("32 bytes")
}

#[test]
fn rfc9180_base_mode_x25519_vectors() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/vectors/hpke/test-vectors-filtered.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let entries: Vec<Value> = serde_json::from_str(&text).expect("vectors are JSON");
    let mut checked = Vec::new();
    for entry in &entries {
        let (mode, kem, kdf, aead) =
            (entry["mode"].as_u64(), entry["kem_id"].as_u64(), entry["kdf_id"].as_u64(), entry["aead_id"].as_u64());
        if mode != Some(0) || kem != Some(0x20) || kdf != Some(1) {
            continue;
        }
        let Some(suite) = Aead::from_id(aead.unwrap() as u16) else { continue };
        let first = &entry["encryptions"][0];
        let (info, aad, pt, ct) = (hex(&entry["info"]), hex(&first["aad"]), hex(&first["pt"]), hex(&first["ct"]));
        let sealed = hpke::seal_with_ephemeral(suite, &array32(&hex(&entry["skEm"])), &array32(&hex(&entry["pkRm"])), &info, &aad, &pt)
            .expect("seal");
        assert_eq!(sealed.enc.to_vec(), hex(&entry["enc"]), "enc for {suite:?}");
        assert_eq!(sealed.ct, ct, "ct for {suite:?}");
        let recipient = RecipientKey::from_raw_private(&hex(&entry["skRm"])).expect("skRm");
        assert_eq!(recipient.public_bytes().to_vec(), hex(&entry["pkRm"]), "pkRm from skRm");
        let opened = hpke_open(suite, &recipient, &sealed.enc, &info, &aad, &ct);
        assert_eq!(opened, pt);
        // A flipped ciphertext bit, another info or another AAD: authentication fails.
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert!(try_open(suite, &recipient, &sealed.enc, &info, &aad, &bad).is_err());
        assert!(try_open(suite, &recipient, &sealed.enc, b"other info", &aad, &ct).is_err());
        assert!(try_open(suite, &recipient, &sealed.enc, &info, b"other aad", &ct).is_err());
        checked.push(suite);
    }
    assert_eq!(checked, [Aead::Aes128Gcm, Aead::Aes256Gcm, Aead::ChaCha20Poly1305], "every base-mode X25519 suite was checked");
}

fn try_open(suite: Aead, key: &RecipientKey, enc: &[u8], info: &[u8], aad: &[u8], ct: &[u8]) -> medseal::Result<Vec<u8>> {
    medseal::seal::hpke::open_with_key(suite, key, enc, info, aad, ct).map(|p| p.to_vec())
}

fn hpke_open(suite: Aead, key: &RecipientKey, enc: &[u8], info: &[u8], aad: &[u8], ct: &[u8]) -> Vec<u8> {
    try_open(suite, key, enc, info, aad, ct).expect("open")
}
