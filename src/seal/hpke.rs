//! HPKE (RFC 9180) single-shot base mode with DHKEM(X25519, HKDF-SHA256) and HKDF-SHA256.
//!
//! HKDF, HMAC and the AEADs are ring's; the X25519 scalar multiplication is x25519-dalek's,
//! because ring cannot hold a static X25519 private key (ring issue 331). Only what medseal
//! needs is here: `SealBase`/`OpenBase` with sequence number 0.

use std::sync::OnceLock;

use ring::{aead, hkdf, hmac};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::error::{err, Result};

/// DHKEM(X25519, HKDF-SHA256), the only KEM medseal uses.
pub const KEM_X25519_HKDF_SHA256: u16 = 0x0020;
/// HKDF-SHA256, the only KDF medseal uses.
pub const KDF_HKDF_SHA256: u16 = 0x0001;

/// Length of an X25519 encapsulated key, public key and private key.
pub const X25519_LEN: usize = 32;

/// The AEADs of the RFC 9180 registry that medseal implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Aead {
    /// 0x0001. Implemented for the published test vectors; envelopes use AES-256-GCM.
    Aes128Gcm,
    /// 0x0002, medseal's default.
    Aes256Gcm,
    /// 0x0003.
    ChaCha20Poly1305,
}

impl Aead {
    /// The RFC 9180 registry value.
    pub fn id(self) -> u16 {
        match self {
            Aead::Aes128Gcm => 0x0001,
            Aead::Aes256Gcm => 0x0002,
            Aead::ChaCha20Poly1305 => 0x0003,
        }
    }

    /// The AEAD for a registry value.
    pub fn from_id(id: u16) -> Option<Aead> {
        [Aead::Aes128Gcm, Aead::Aes256Gcm, Aead::ChaCha20Poly1305].into_iter().find(|a| a.id() == id)
    }

    fn algorithm(self) -> &'static aead::Algorithm {
        match self {
            Aead::Aes128Gcm => &aead::AES_128_GCM,
            Aead::Aes256Gcm => &aead::AES_256_GCM,
            Aead::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }

    /// Key length Nk in bytes.
    pub fn key_len(self) -> usize {
        self.algorithm().key_len()
    }

    /// Tag length in bytes (16 for all three).
    pub fn tag_len(self) -> usize {
        self.algorithm().tag_len()
    }
}

/// The result of a single-shot seal: the encapsulated key and the ciphertext (with tag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    pub enc: [u8; X25519_LEN],
    pub ct: Vec<u8>,
}

/// `SealBase(pkR, info, aad, pt)` with a fresh random ephemeral key.
pub fn seal(suite: Aead, recipient: &[u8; X25519_LEN], info: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Sealed> {
    let sender = Sender::new(suite, recipient, info)?;
    let mut ct = Vec::with_capacity(plaintext.len() + suite.tag_len());
    ct.extend_from_slice(plaintext);
    let tag = aead_seal_in_place(suite, &sender.key, &sender.nonce, aad, &mut ct)?;
    ct.extend_from_slice(&tag);
    Ok(Sealed { enc: sender.enc, ct })
}

/// `SealBase` with a caller-chosen ephemeral private key: for known-answer tests only.
/// Reusing an ephemeral key for two messages destroys their confidentiality.
#[doc(hidden)]
pub fn seal_with_ephemeral(
    suite: Aead,
    ephemeral_secret: &[u8; X25519_LEN],
    recipient: &[u8; X25519_LEN],
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Sealed> {
    let sender = Sender::with_ephemeral(suite, ephemeral_secret, recipient, info)?;
    // Room for the tag up front: appending it must not copy a megabyte record again.
    let mut ct = Vec::with_capacity(plaintext.len() + suite.tag_len());
    ct.extend_from_slice(plaintext);
    let tag = aead_seal_in_place(suite, &sender.key, &sender.nonce, aad, &mut ct)?;
    ct.extend_from_slice(&tag);
    Ok(Sealed { enc: sender.enc, ct })
}

/// The sender's side of `SetupBaseS`: the encapsulated key and the single-shot AEAD key and
/// nonce, so that the caller can encrypt wherever the ciphertext belongs (straight into an
/// encoded envelope, without an intermediate copy).
pub(crate) struct Sender {
    pub enc: [u8; X25519_LEN],
    pub key: Zeroizing<Vec<u8>>,
    pub nonce: [u8; 12],
}

impl Sender {
    /// `SetupBaseS(pkR, info)` with a fresh ephemeral key.
    pub fn new(suite: Aead, recipient: &[u8; X25519_LEN], info: &[u8]) -> Result<Sender> {
        let mut ephemeral = Zeroizing::new([0u8; X25519_LEN]);
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), ephemeral.as_mut())
            .map_err(|_| err!(MEDSEAL_SYSTEM_ERROR, "the system random generator failed"))?;
        Sender::with_ephemeral(suite, &ephemeral, recipient, info)
    }

    fn with_ephemeral(suite: Aead, ephemeral_secret: &[u8; X25519_LEN], recipient: &[u8; X25519_LEN], info: &[u8]) -> Result<Sender> {
        let sk_e = StaticSecret::from(*ephemeral_secret);
        let enc = PublicKey::from(&sk_e).to_bytes();
        let dh = x25519(&sk_e, recipient)?;
        let shared = extract_and_expand(&dh, &enc, recipient);
        let (key, nonce) = key_schedule(suite, &shared, info);
        Ok(Sender { enc, key, nonce })
    }
}

/// `OpenBase(enc, skR, info, aad, ct)` with a recipient key holding its private half. The
/// key's public half is reused for the KEM context rather than recomputed.
pub fn open_with_key(suite: Aead, key: &super::RecipientKey, enc: &[u8], info: &[u8], aad: &[u8], ct: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let mut plaintext = Zeroizing::new(vec![0u8; ct.len().saturating_sub(suite.tag_len())]);
    open_into(suite, key, enc, info, aad, ct, &mut plaintext)?;
    Ok(plaintext)
}

/// `OpenBase` writing the plaintext (`ct.len() - 16` bytes) into the start of `out`, which
/// must be at least that long. On any failure nothing readable is left in `out`.
pub fn open_into(suite: Aead, key: &super::RecipientKey, enc: &[u8], info: &[u8], aad: &[u8], ct: &[u8], out: &mut [u8]) -> Result<usize> {
    let enc: [u8; X25519_LEN] =
        enc.try_into().map_err(|_| err!(MEDSEAL_SEAL_TRUNCATED, "the encapsulated key has {} bytes; X25519 needs 32", enc.len()))?;
    if ct.len() < suite.tag_len() {
        return Err(err!(MEDSEAL_SEAL_TRUNCATED, "the ciphertext has {} bytes, shorter than its {}-byte tag", ct.len(), suite.tag_len()));
    }
    let dh = x25519(key.secret()?, &enc)?;
    let shared = extract_and_expand(&dh, &enc, key.public_bytes());
    let (aead_key, nonce) = key_schedule(suite, &shared, info);
    aead_open_into(suite, &aead_key, &nonce, aad, ct, out)
}

/// X25519 (RFC 7748) as DHKEM uses it, refusing an all-zero result (RFC 9180 §7.1.4).
pub fn x25519(secret: &StaticSecret, public: &[u8; X25519_LEN]) -> Result<Zeroizing<[u8; X25519_LEN]>> {
    let dh = secret.diffie_hellman(&PublicKey::from(*public));
    if !dh.was_contributory() {
        return Err(err!(MEDSEAL_SEAL_ZERO_SHARED_SECRET, "the X25519 shared secret is all zeros (a low-order public key); refused"));
    }
    Ok(Zeroizing::new(dh.to_bytes()))
}

/// AEAD seal in place with an explicit key and nonce (also used for multi-recipient bodies).
pub fn aead_seal(suite: Aead, key: &[u8], nonce: &[u8; 12], aad: &[u8], in_out: &mut Vec<u8>) -> Result<()> {
    let tag = aead_seal_in_place(suite, key, nonce, aad, in_out)?;
    in_out.extend_from_slice(&tag);
    Ok(())
}

/// AEAD seal of `in_out` in place; returns the tag, for the caller to append.
pub fn aead_seal_in_place(suite: Aead, key: &[u8], nonce: &[u8; 12], aad: &[u8], in_out: &mut [u8]) -> Result<[u8; 16]> {
    let key =
        aead::LessSafeKey::new(aead::UnboundKey::new(suite.algorithm(), key).expect("the key schedule makes keys of the suite's length"));
    let tag = key
        .seal_in_place_separate_tag(aead::Nonce::assume_unique_for_key(*nonce), aead::Aad::from(aad), in_out)
        .map_err(|_| err!(MEDSEAL_SEAL_TOO_LARGE, "the plaintext is too large for one AEAD message"))?;
    let mut out = [0u8; 16];
    out.copy_from_slice(tag.as_ref());
    Ok(out)
}

/// AEAD open of `ct` (ciphertext and tag) into the start of `out`; returns the plaintext
/// length. The ciphertext is copied once, into `out`, and decrypted there; if authentication
/// fails, the copied bytes are zeroed so no unauthenticated data is left behind.
pub fn aead_open_into(suite: Aead, key: &[u8], nonce: &[u8; 12], aad: &[u8], ct: &[u8], out: &mut [u8]) -> Result<usize> {
    let Some(body_len) = ct.len().checked_sub(suite.tag_len()) else {
        return Err(err!(MEDSEAL_SEAL_TRUNCATED, "the ciphertext has {} bytes, shorter than its {}-byte tag", ct.len(), suite.tag_len()));
    };
    if out.len() < body_len {
        return Err(err!(MEDSEAL_BUFFER_TOO_SMALL, "the plaintext needs {body_len} bytes; the buffer has {}", out.len()));
    }
    let (body, tag) = ct.split_at(body_len);
    let target = &mut out[..body_len];
    target.copy_from_slice(body);
    let key =
        aead::LessSafeKey::new(aead::UnboundKey::new(suite.algorithm(), key).expect("the key schedule makes keys of the suite's length"));
    let tag = aead::Tag::try_from(tag).expect("a 16-byte tag");
    if key.open_in_place_separate_tag(aead::Nonce::assume_unique_for_key(*nonce), aead::Aad::from(aad), tag, target, 0..).is_err() {
        target.fill(0);
        return Err(err!(
            MEDSEAL_SEAL_DECRYPT_FAILED,
            "authentication failed: the envelope was altered (meta, enc or ct) or was not sealed to this key"
        ));
    }
    Ok(body_len)
}

/// AEAD open in place; returns the plaintext length.
pub fn aead_open(suite: Aead, key: &[u8], nonce: &[u8; 12], aad: &[u8], in_out: &mut [u8]) -> Result<usize> {
    let key =
        aead::LessSafeKey::new(aead::UnboundKey::new(suite.algorithm(), key).expect("the key schedule makes keys of the suite's length"));
    let plain = key.open_in_place(aead::Nonce::assume_unique_for_key(*nonce), aead::Aad::from(aad), in_out).map_err(|_| {
        err!(MEDSEAL_SEAL_DECRYPT_FAILED, "authentication failed: the envelope was altered (meta, enc or ct) or was not sealed to this key")
    })?;
    Ok(plain.len())
}

const KEM_SUITE_ID: [u8; 5] = [b'K', b'E', b'M', 0x00, 0x20];

fn hpke_suite_id(suite: Aead) -> [u8; 10] {
    let [a0, a1] = suite.id().to_be_bytes();
    [b'H', b'P', b'K', b'E', 0x00, 0x20, 0x00, 0x01, a0, a1]
}

/// HKDF-SHA256-Extract over the concatenation of `ikm` parts. HMAC directly, since ring's
/// HKDF does not expose the PRK bytes that the key schedule context needs.
pub fn hkdf_extract(salt: &[u8], ikm: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    // Three of the four extracts of every seal and open use the empty salt (HashLen zeros,
    // public): its HMAC key (two SHA-256 blocks of pads) is made once per process.
    static ZERO_SALT: OnceLock<hmac::Key> = OnceLock::new();
    let salted;
    let key = if salt.is_empty() {
        ZERO_SALT.get_or_init(|| hmac::Key::new(hmac::HMAC_SHA256, &[0u8; 32]))
    } else {
        salted = hmac::Key::new(hmac::HMAC_SHA256, salt);
        &salted
    };
    let mut context = hmac::Context::with_key(key);
    ikm.iter().for_each(|part| context.update(part));
    let mut prk = Zeroizing::new([0u8; 32]);
    prk.copy_from_slice(context.sign().as_ref());
    prk
}

/// HKDF-SHA256-Expand of `prk` over the concatenation of `info` parts into `out`
/// (at most 255 × 32 bytes, else `MEDSEAL_INVALID_ARGUMENT`).
pub fn hkdf_expand(prk: &[u8], info: &[&[u8]], out: &mut [u8]) -> Result<()> {
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, prk)
        .expand(info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| err!(MEDSEAL_INVALID_ARGUMENT, "HKDF-SHA256 can expand to at most 8160 bytes, not {}", out.len()))
}

/// LabeledExtract(salt, label, ikm) = HKDF-Extract(salt, "HPKE-v1" || suite_id || label || ikm).
fn labeled_extract(suite_id: &[u8], salt: &[u8], label: &[u8], ikm: &[u8]) -> Zeroizing<[u8; 32]> {
    hkdf_extract(salt, &[b"HPKE-v1", suite_id, label, ikm])
}

/// LabeledExpand = HKDF-Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L).
fn labeled_expand(suite_id: &[u8], prk: &[u8; 32], label: &[u8], info: &[u8], out: &mut [u8]) {
    let length = (out.len() as u16).to_be_bytes();
    hkdf_expand(prk, &[length.as_slice(), b"HPKE-v1", suite_id, label, info], out).expect("HPKE expands to at most 32 bytes");
}

/// DHKEM ExtractAndExpand: the KEM shared secret from the DH output and `enc || pkR`.
fn extract_and_expand(dh: &[u8; 32], enc: &[u8; 32], pk_r: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let eae_prk = labeled_extract(&KEM_SUITE_ID, b"", b"eae_prk", dh);
    let kem_context = [enc.as_slice(), pk_r.as_slice()].concat();
    let mut shared = Zeroizing::new([0u8; 32]);
    labeled_expand(&KEM_SUITE_ID, &eae_prk, b"shared_secret", &kem_context, shared.as_mut());
    shared
}

/// `LabeledExtract("", "psk_id_hash", "")` of mode_base: a constant of the suite (no PSK),
/// computed once per process and AEAD.
fn psk_id_hash(suite: Aead) -> [u8; 32] {
    static HASHES: [OnceLock<[u8; 32]>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match suite {
        Aead::Aes128Gcm => &HASHES[0],
        Aead::Aes256Gcm => &HASHES[1],
        Aead::ChaCha20Poly1305 => &HASHES[2],
    };
    *slot.get_or_init(|| *labeled_extract(&hpke_suite_id(suite), b"", b"psk_id_hash", b""))
}

/// The first half of KeySchedule for mode_base: `key_schedule_context` and `secret`.
fn schedule_secret(suite: Aead, shared: &[u8; 32], info: &[u8]) -> (Vec<u8>, Zeroizing<[u8; 32]>) {
    let suite_id = hpke_suite_id(suite);
    let psk_id_hash = psk_id_hash(suite);
    let info_hash = labeled_extract(&suite_id, b"", b"info_hash", info);
    let context = [[0u8].as_slice(), psk_id_hash.as_slice(), info_hash.as_slice()].concat();
    let secret = labeled_extract(&suite_id, shared, b"secret", b"");
    (context, secret)
}

/// KeySchedule for mode_base: the AEAD key and base nonce.
fn key_schedule(suite: Aead, shared: &[u8; 32], info: &[u8]) -> (Zeroizing<Vec<u8>>, [u8; 12]) {
    let (context, secret) = schedule_secret(suite, shared, info);
    schedule_key_and_nonce(suite, &context, &secret)
}

fn schedule_key_and_nonce(suite: Aead, context: &[u8], secret: &[u8; 32]) -> (Zeroizing<Vec<u8>>, [u8; 12]) {
    let suite_id = hpke_suite_id(suite);
    let mut key = Zeroizing::new(vec![0u8; suite.key_len()]);
    labeled_expand(&suite_id, secret, b"key", context, &mut key);
    let mut nonce = [0u8; 12];
    labeled_expand(&suite_id, secret, b"base_nonce", context, &mut nonce);
    (key, nonce)
}

/// The intermediate values of `SetupBaseS` as RFC 9180's test vectors list them: for
/// known-answer tests only (the secrets are returned in the clear).
#[doc(hidden)]
#[derive(Debug)]
pub struct ScheduleValues {
    pub enc: [u8; X25519_LEN],
    pub shared_secret: [u8; 32],
    pub key_schedule_context: Vec<u8>,
    pub secret: [u8; 32],
    pub key: Vec<u8>,
    pub base_nonce: [u8; 12],
    pub exporter_secret: [u8; 32],
}

/// `SetupBaseS(pkR, info)` with a caller-chosen ephemeral key, through the same KEM and key
/// schedule functions that `seal` and `open` use, exposing every intermediate value (and the
/// exporter secret, which medseal itself never needs): for known-answer tests only.
#[doc(hidden)]
pub fn setup_base_values(
    suite: Aead,
    ephemeral_secret: &[u8; X25519_LEN],
    recipient: &[u8; X25519_LEN],
    info: &[u8],
) -> Result<ScheduleValues> {
    let sk_e = StaticSecret::from(*ephemeral_secret);
    let enc = PublicKey::from(&sk_e).to_bytes();
    let dh = x25519(&sk_e, recipient)?;
    let shared = extract_and_expand(&dh, &enc, recipient);
    let (context, secret) = schedule_secret(suite, &shared, info);
    let (key, base_nonce) = schedule_key_and_nonce(suite, &context, &secret);
    let mut exporter_secret = [0u8; 32];
    labeled_expand(&hpke_suite_id(suite), &secret, b"exp", &context, &mut exporter_secret);
    Ok(ScheduleValues {
        enc,
        shared_secret: *shared,
        key_schedule_context: context,
        secret: *secret,
        key: key.to_vec(),
        base_nonce,
        exporter_secret,
    })
}

/// `Context.Export(exporter_context, L)` = LabeledExpand(exporter_secret, "sec",
/// exporter_context, L): for known-answer tests of [`setup_base_values`] only.
#[doc(hidden)]
pub fn export(suite: Aead, exporter_secret: &[u8; 32], exporter_context: &[u8], len: usize) -> Result<Vec<u8>> {
    let mut out = vec![0u8; len];
    let length = u16::try_from(len).map_err(|_| err!(MEDSEAL_INVALID_ARGUMENT, "an HPKE export is at most 65535 bytes"))?.to_be_bytes();
    hkdf_expand(exporter_secret, &[length.as_slice(), b"HPKE-v1", &hpke_suite_id(suite), b"sec", exporter_context], &mut out)?;
    Ok(out)
}
