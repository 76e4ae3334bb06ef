//! RFC 9180 test vectors (../shared/vectors/hpke) through medseal's HPKE, used whole: every
//! base-mode entry for DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 with an AEAD medseal implements
//! (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305), and in each:
//! - the key schedule's intermediate values (`enc`, `shared_secret`, `key_schedule_context`,
//!   `secret`, `key`, `base_nonce`, `exporter_secret`) from medseal's own KEM and key schedule
//!   (`hpke::setup_base_values`, the functions `seal` and `open` use), and every `exports` value;
//! - every encryption (sequence numbers 0 to 256): its nonce (`base_nonce` XOR the sequence
//!   number, RFC 9180 §5.2), its ciphertext sealed with medseal's AEAD and that key, and opened
//!   again; a flipped bit is refused;
//! - sequence number 0 through the single-shot `seal_with_ephemeral` and `open_with_key` that
//!   envelopes use (medseal seals each message under a fresh key, so only sequence 0 occurs in
//!   envelopes).
//!
//! Not covered, because medseal does not implement them: PSK mode (mode 1), DHKEM(P-256) and the
//! export-only AEAD (0xFFFF); the test counts what it skipped, so an entry medseal could check
//! cannot be skipped silently.

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

/// RFC 9180 §5.2 ComputeNonce: the base nonce XOR the big-endian sequence number.
fn compute_nonce(base: &[u8; 12], seq: u64) -> [u8; 12] {
    let mut nonce = *base;
    for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
        *n ^= s;
    }
    nonce
}

fn entries() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/vectors/hpke/test-vectors-filtered.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_str(&text).expect("vectors are JSON")
}

#[test]
fn rfc9180_base_mode_x25519_vectors_whole() {
    let entries = entries();
    assert_eq!(entries.len(), 16, "the filtered file of ../shared/vectors/README.md");
    let (mut checked, mut skipped) = (Vec::new(), Vec::new());
    let (mut encryptions, mut exports) = (0usize, 0usize);
    for entry in &entries {
        let id = |name: &str| entry[name].as_u64().unwrap_or_else(|| panic!("{name}"));
        let (mode, kem, kdf, aead) = (id("mode"), id("kem_id"), id("kdf_id"), id("aead_id"));
        let suite = Aead::from_id(aead as u16);
        let Some(suite) = suite.filter(|_| mode == 0 && kem == 0x20 && kdf == 1) else {
            skipped.push((mode, kem, aead));
            continue;
        };
        let info = hex(&entry["info"]);
        let pk_r = array32(&hex(&entry["pkRm"]));
        let values = hpke::setup_base_values(suite, &array32(&hex(&entry["skEm"])), &pk_r, &info).expect("SetupBaseS");
        assert_eq!(values.enc.to_vec(), hex(&entry["enc"]), "{suite:?}: enc");
        assert_eq!(hex(&entry["pkEm"]), hex(&entry["enc"]), "{suite:?}: pkEm is enc");
        assert_eq!(values.shared_secret.to_vec(), hex(&entry["shared_secret"]), "{suite:?}: shared_secret");
        assert_eq!(values.key_schedule_context, hex(&entry["key_schedule_context"]), "{suite:?}: key_schedule_context");
        assert_eq!(values.secret.to_vec(), hex(&entry["secret"]), "{suite:?}: secret");
        assert_eq!(values.key, hex(&entry["key"]), "{suite:?}: key");
        assert_eq!(values.base_nonce.to_vec(), hex(&entry["base_nonce"]), "{suite:?}: base_nonce");
        assert_eq!(values.exporter_secret.to_vec(), hex(&entry["exporter_secret"]), "{suite:?}: exporter_secret");

        let recipient = RecipientKey::from_raw_private(&hex(&entry["skRm"])).expect("skRm");
        assert_eq!(recipient.public_bytes().to_vec(), pk_r.to_vec(), "pkRm from skRm");

        let list = entry["encryptions"].as_array().expect("encryptions");
        assert_eq!(list.len(), 257, "{suite:?}: sequence numbers 0..=256");
        for (seq, e) in list.iter().enumerate() {
            let (aad, pt, ct) = (hex(&e["aad"]), hex(&e["pt"]), hex(&e["ct"]));
            let nonce = compute_nonce(&values.base_nonce, seq as u64);
            assert_eq!(nonce.to_vec(), hex(&e["nonce"]), "{suite:?} seq {seq}: nonce");
            let mut sealed = pt.clone();
            hpke::aead_seal(suite, &values.key, &nonce, &aad, &mut sealed).expect("aead seal");
            assert_eq!(sealed, ct, "{suite:?} seq {seq}: ct");
            let mut opened = ct.clone();
            let n = hpke::aead_open(suite, &values.key, &nonce, &aad, &mut opened).expect("aead open");
            assert_eq!(&opened[..n], pt.as_slice(), "{suite:?} seq {seq}: pt");
            let mut bad = ct.clone();
            bad[seq % ct.len()] ^= 0x01;
            assert!(hpke::aead_open(suite, &values.key, &nonce, &aad, &mut bad).is_err(), "{suite:?} seq {seq}: flipped bit opened");
            // Another sequence number's nonce does not open it.
            let mut other = ct.clone();
            let wrong = compute_nonce(&values.base_nonce, seq as u64 + 1);
            assert!(hpke::aead_open(suite, &values.key, &wrong, &aad, &mut other).is_err(), "{suite:?} seq {seq}: wrong nonce opened");
            encryptions += 1;
        }

        // Sequence number 0 through the single-shot functions envelopes use.
        let first = &list[0];
        let (aad, pt, ct) = (hex(&first["aad"]), hex(&first["pt"]), hex(&first["ct"]));
        let sealed = hpke::seal_with_ephemeral(suite, &array32(&hex(&entry["skEm"])), &pk_r, &info, &aad, &pt).expect("seal");
        assert_eq!(sealed.enc.to_vec(), hex(&entry["enc"]), "enc for {suite:?}");
        assert_eq!(sealed.ct, ct, "ct for {suite:?}");
        assert_eq!(hpke_open(suite, &recipient, &sealed.enc, &info, &aad, &ct), pt);
        // A flipped ciphertext bit, another info or another AAD: authentication fails.
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert!(try_open(suite, &recipient, &sealed.enc, &info, &aad, &bad).is_err());
        assert!(try_open(suite, &recipient, &sealed.enc, b"other info", &aad, &ct).is_err());
        assert!(try_open(suite, &recipient, &sealed.enc, &info, b"other aad", &ct).is_err());

        for x in entry["exports"].as_array().expect("exports") {
            let len = x["L"].as_u64().expect("L") as usize;
            let value = hpke::export(suite, &values.exporter_secret, &hex(&x["exporter_context"]), len).expect("export");
            assert_eq!(value, hex(&x["exported_value"]), "{suite:?}: export of {} bytes", len);
            exports += 1;
        }
        checked.push(suite);
    }
    println!("RFC 9180: {} base-mode X25519 entries, {encryptions} encryptions, {exports} exports checked; skipped (mode, kem, aead): {skipped:?}", checked.len());
    assert_eq!(checked, [Aead::Aes128Gcm, Aead::Aes256Gcm, Aead::ChaCha20Poly1305], "every base-mode X25519 suite was checked");
    assert_eq!(encryptions, 3 * 257);
    assert_eq!(exports, 3 * 3, "three exports per entry");
    // What was skipped is only what medseal does not implement: PSK mode, the P-256 KEM, export-only.
    for (mode, kem, aead) in &skipped {
        assert!(
            *mode == 1 || *kem == 0x10 || *aead == 0xFFFF,
            "skipped an entry medseal implements: mode {mode} kem {kem:#x} aead {aead:#x}"
        );
    }
    assert_eq!(skipped.len(), 13);
}

fn try_open(suite: Aead, key: &RecipientKey, enc: &[u8], info: &[u8], aad: &[u8], ct: &[u8]) -> medseal::Result<Vec<u8>> {
    medseal::seal::hpke::open_with_key(suite, key, enc, info, aad, ct).map(|p| p.to_vec())
}

fn hpke_open(suite: Aead, key: &RecipientKey, enc: &[u8], info: &[u8], aad: &[u8], ct: &[u8]) -> Vec<u8> {
    try_open(suite, key, enc, info, aad, ct).expect("open")
}
