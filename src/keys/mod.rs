//! Signing keys: generation, import and export (PKCS#8, PKCS#1, SPKI, JWK; DER or PEM), key
//! ids (RFC 7638 thumbprints), and the raw sign/verify primitives on ring.
//!
//! A [`Key`] is bound to exactly one JWS algorithm. The verifier takes the algorithm from the
//! key, never from a header, which is what makes algorithm confusion impossible. An RSA key is
//! RS256 unless imported as PS256 (or its JWK says `"alg":"PS256"`).

pub(crate) mod der;
pub(crate) mod jwk;

use std::fmt;

use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use zeroize::Zeroizing;

use crate::error::{err, Result};

/// The JWS algorithms medseal signs and verifies with. Never `none`, never HMAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Ed25519 (RFC 8037 `EdDSA`; RFC 9864 `Ed25519` accepted when verifying).
    EdDSA,
    /// ECDSA P-256 with SHA-256, signature as raw r‖s (64 bytes).
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, RSA 2048..=4096 bits.
    RS256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32, RSA 2048..=4096 bits.
    PS256,
}

impl Algorithm {
    /// Every algorithm.
    pub const ALL: [Algorithm; 4] = [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256, Algorithm::PS256];

    /// The `alg` value written in JWS headers.
    pub fn jws_name(self) -> &'static str {
        match self {
            Algorithm::EdDSA => "EdDSA",
            Algorithm::ES256 => "ES256",
            Algorithm::RS256 => "RS256",
            Algorithm::PS256 => "PS256",
        }
    }

    /// The algorithm a JWS header `alg` names, accepting `Ed25519` (RFC 9864) for EdDSA.
    pub fn from_jws_name(name: &str) -> Option<Algorithm> {
        match name {
            "EdDSA" | "Ed25519" => Some(Algorithm::EdDSA),
            "ES256" => Some(Algorithm::ES256),
            "RS256" => Some(Algorithm::RS256),
            "PS256" => Some(Algorithm::PS256),
            _ => None,
        }
    }

    /// Lower-case names for command lines: `ed25519`, `es256`, `rs256`, `ps256`.
    pub fn from_cli_name(name: &str) -> Option<Algorithm> {
        match name.to_ascii_lowercase().as_str() {
            "ed25519" | "eddsa" => Some(Algorithm::EdDSA),
            "es256" | "p256" | "p-256" => Some(Algorithm::ES256),
            "rs256" => Some(Algorithm::RS256),
            "ps256" => Some(Algorithm::PS256),
            _ => None,
        }
    }

    /// Whether this is an RSA scheme (RS256 or PS256), which one RSA key may use either of.
    pub fn is_rsa(self) -> bool {
        matches!(self, Algorithm::RS256 | Algorithm::PS256)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jws_name())
    }
}

/// How a key is written out by [`Key::export`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyFormat {
    /// Private key, PKCS#8 v1 (RFC 5208) DER.
    Pkcs8Der,
    /// Private key, PKCS#8 v1 PEM (`PRIVATE KEY`).
    Pkcs8Pem,
    /// Private key, PKCS#8 v2 (RFC 5958 OneAsymmetricKey, public key included) DER.
    Pkcs8V2Der,
    /// Private key, PKCS#8 v2 PEM.
    Pkcs8V2Pem,
    /// Public key, SubjectPublicKeyInfo DER.
    SpkiDer,
    /// Public key, SubjectPublicKeyInfo PEM (`PUBLIC KEY`).
    SpkiPem,
    /// Public key as a JWK with `kid` and `alg`.
    Jwk,
    /// Private key as raw bytes (Ed25519 seed, P-256 scalar, X25519 scalar; not RSA).
    RawPrivate,
    /// Public key as raw bytes (Ed25519/X25519: 32 bytes; P-256: 65-byte uncompressed point).
    RawPublic,
}

impl KeyFormat {
    /// Every format.
    pub const ALL: [KeyFormat; 9] = [
        KeyFormat::Pkcs8Der,
        KeyFormat::Pkcs8Pem,
        KeyFormat::Pkcs8V2Der,
        KeyFormat::Pkcs8V2Pem,
        KeyFormat::SpkiDer,
        KeyFormat::SpkiPem,
        KeyFormat::Jwk,
        KeyFormat::RawPrivate,
        KeyFormat::RawPublic,
    ];

    /// Whether the format holds the private key.
    pub fn is_private(self) -> bool {
        matches!(self, KeyFormat::Pkcs8Der | KeyFormat::Pkcs8Pem | KeyFormat::Pkcs8V2Der | KeyFormat::Pkcs8V2Pem | KeyFormat::RawPrivate)
    }
}

/// The public half of a key, in the form each primitive wants.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum PublicKey {
    Ed25519([u8; 32]),
    /// Uncompressed SEC1 point, 65 bytes starting with 0x04.
    P256(Vec<u8>),
    /// Big-endian modulus and exponent without leading zeros.
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
}

/// The private half. Raw secret bytes are kept (zeroized on drop) for export; ring's key
/// pairs hold their own copy, which ring does not zeroize (noted in docs/ARCHITECTURE.md).
enum Secret {
    Ed25519 {
        seed: Zeroizing<Vec<u8>>,
        pair: Ed25519KeyPair,
    },
    P256 {
        d: Zeroizing<Vec<u8>>,
        pair: EcdsaKeyPair,
    },
    /// PKCS#1 RSAPrivateKey DER.
    Rsa {
        pkcs1: Zeroizing<Vec<u8>>,
        pair: RsaKeyPair,
    },
}

/// A signing or verification key bound to one algorithm. Immutable and shareable.
pub struct Key {
    alg: Algorithm,
    public: PublicKey,
    secret: Option<Secret>,
    kid: String,
}

impl fmt::Debug for Key {
    /// Shows the algorithm and kid only: never key bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key").field("alg", &self.alg).field("kid", &self.kid).field("private", &self.secret.is_some()).finish()
    }
}

fn rng() -> SystemRandom {
    SystemRandom::new()
}

impl Key {
    /// Generates a new key: Ed25519 or ECDSA P-256. (RSA keys come from CAs and tokens;
    /// ring cannot generate them, so RSA generation is `MEDSEAL_UNSUPPORTED`.)
    pub fn generate(alg: Algorithm) -> Result<Key> {
        let rng = rng();
        let pkcs8 = match alg {
            Algorithm::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng),
            Algorithm::ES256 => EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng),
            Algorithm::RS256 | Algorithm::PS256 => {
                return Err(err!(MEDSEAL_UNSUPPORTED, "RSA key generation is not supported; import an RSA key instead"))
            }
        }
        .map_err(|_| err!(MEDSEAL_SYSTEM_ERROR, "the system random generator failed"))?;
        let doc = Zeroizing::new(pkcs8.as_ref().to_vec());
        der::from_pkcs8_der(&doc, None)
    }

    /// Imports a key from any supported encoding, detected from the bytes: PEM (`PRIVATE KEY`,
    /// `RSA PRIVATE KEY`, `PUBLIC KEY`, `RSA PUBLIC KEY`), DER (PKCS#8, SPKI, PKCS#1) or JWK.
    ///
    /// `alg` chooses between RS256 and PS256 for RSA keys; `None` takes the JWK's `alg` or
    /// the default (RS256). For other keys it must be `None` or the key's own algorithm.
    pub fn import(bytes: &[u8], alg: Option<Algorithm>) -> Result<Key> {
        let trimmed = trim_ascii(bytes);
        if trimmed.starts_with(b"{") {
            jwk::import(trimmed, alg)
        } else if trimmed.starts_with(b"-----BEGIN ") {
            der::import_pem(trimmed, alg)
        } else {
            der::import_der(bytes, alg)
        }
    }

    /// The JWS algorithm this key is bound to.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key id: the RFC 7638 JWK thumbprint (base64url SHA-256) of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Whether the private half is present.
    pub fn has_private(&self) -> bool {
        self.secret.is_some()
    }

    /// A public-only copy of this key.
    pub fn to_public(&self) -> Key {
        Key { alg: self.alg, public: self.public.clone(), secret: None, kid: self.kid.clone() }
    }

    /// Writes the key in `format`. Private formats need the private half. The result is
    /// zeroized on drop, since it may hold secret bytes.
    pub fn export(&self, format: KeyFormat) -> Result<Zeroizing<Vec<u8>>> {
        if format.is_private() && self.secret.is_none() {
            return Err(err!(MEDSEAL_KEY_NOT_PRIVATE, "this key holds only the public part; it has no PKCS#8 form"));
        }
        match format {
            KeyFormat::Pkcs8Der => der::pkcs8_der(self, false),
            KeyFormat::Pkcs8V2Der => der::pkcs8_der(self, true),
            KeyFormat::Pkcs8Pem => der::pem("PRIVATE KEY", &der::pkcs8_der(self, false)?),
            KeyFormat::Pkcs8V2Pem => der::pem("PRIVATE KEY", &der::pkcs8_der(self, true)?),
            KeyFormat::SpkiDer => der::spki_der(&self.public).map(Zeroizing::new),
            KeyFormat::SpkiPem => der::pem("PUBLIC KEY", &der::spki_der(&self.public)?),
            KeyFormat::Jwk => Ok(Zeroizing::new(jwk::public_jwk(self).to_canonical())),
            KeyFormat::RawPrivate => match self.secret.as_ref().expect("checked above") {
                Secret::Ed25519 { seed, .. } => Ok(seed.clone()),
                Secret::P256 { d, .. } => Ok(d.clone()),
                Secret::Rsa { .. } => Err(err!(MEDSEAL_UNSUPPORTED, "an RSA private key has no raw form; export PKCS#8")),
            },
            KeyFormat::RawPublic => match &self.public {
                PublicKey::Ed25519(pk) => Ok(Zeroizing::new(pk.to_vec())),
                PublicKey::P256(point) => Ok(Zeroizing::new(point.clone())),
                PublicKey::Rsa { .. } => Err(err!(MEDSEAL_UNSUPPORTED, "an RSA public key has no raw form; export SPKI or JWK")),
            },
        }
    }

    /// Signs `message` with this key's algorithm.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let secret =
            self.secret.as_ref().ok_or_else(|| err!(MEDSEAL_KEY_NOT_PRIVATE, "signing needs a private key; this key is public only"))?;
        let failed = |_| err!(MEDSEAL_SYSTEM_ERROR, "the signature operation failed (random generator)");
        match secret {
            Secret::Ed25519 { pair, .. } => Ok(pair.sign(message).as_ref().to_vec()),
            Secret::P256 { pair, .. } => Ok(pair.sign(&rng(), message).map_err(failed)?.as_ref().to_vec()),
            Secret::Rsa { pair, .. } => {
                let padding: &dyn signature::RsaEncoding = match self.alg {
                    Algorithm::PS256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0u8; pair.public().modulus_len()];
                pair.sign(padding, &rng(), message, &mut sig).map_err(failed)?;
                Ok(sig)
            }
        }
    }

    /// Verifies `sig` over `message` with this key's own algorithm. Constant-time in the
    /// secret-independent sense ring guarantees; returns only valid or not.
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match &self.public {
            PublicKey::Ed25519(pk) => signature::UnparsedPublicKey::new(&signature::ED25519, pk).verify(message, sig).is_ok(),
            PublicKey::P256(point) => {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).verify(message, sig).is_ok()
            }
            PublicKey::Rsa { n, e } => {
                let params = match self.alg {
                    Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    _ => &signature::RSA_PKCS1_2048_8192_SHA256,
                };
                signature::RsaPublicKeyComponents { n, e }.verify(params, message, sig).is_ok()
            }
        }
    }

    /// A public RSA key from its big-endian modulus and exponent, as PKCS#11 tokens give them
    /// (`CKA_MODULUS`, `CKA_PUBLIC_EXPONENT`); checked like an imported key.
    pub(crate) fn from_rsa_public_parts(n: &[u8], e: &[u8], alg: Option<Algorithm>) -> Result<Key> {
        der::rsa_public(n, e, alg)
    }

    /// A public P-256 key from its uncompressed point (the content of a token's `CKA_EC_POINT`);
    /// the point is checked to lie on the curve.
    pub(crate) fn from_p256_point(point: &[u8]) -> Result<Key> {
        Key::assemble(der::p256_public(point)?, None, None)
    }

    /// Builds a key from its parts, binding the algorithm and computing the kid.
    fn assemble(public: PublicKey, secret: Option<Secret>, alg: Option<Algorithm>) -> Result<Key> {
        let natural = match &public {
            PublicKey::Ed25519(_) => Algorithm::EdDSA,
            PublicKey::P256(_) => Algorithm::ES256,
            PublicKey::Rsa { .. } => Algorithm::RS256,
        };
        let alg = match alg {
            None => natural,
            Some(a) if a == natural || (a.is_rsa() && natural.is_rsa()) => a,
            Some(a) => return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "a {} key cannot be used with {}", natural.key_type(), a)),
        };
        if let PublicKey::Rsa { n, .. } = &public {
            let bits = bit_length(n);
            if !(2048..=4096).contains(&bits) {
                return Err(err!(MEDSEAL_KEY_SIZE, "RSA key has {bits} bits; medseal accepts 2048 to 4096"));
            }
        }
        let kid = jwk::thumbprint(&public);
        Ok(Key { alg, public, secret, kid })
    }
}

impl Algorithm {
    fn key_type(self) -> &'static str {
        match self {
            Algorithm::EdDSA => "Ed25519",
            Algorithm::ES256 => "P-256",
            Algorithm::RS256 | Algorithm::PS256 => "RSA",
        }
    }
}

/// Number of significant bits of a big-endian unsigned integer.
fn bit_length(be: &[u8]) -> usize {
    match be.iter().position(|&b| b != 0) {
        Some(i) => (be.len() - i - 1) * 8 + (8 - be[i].leading_zeros() as usize),
        None => 0,
    }
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |p| p + 1);
    &bytes[start..end]
}

/// Constructors for the private halves, shared by the DER and JWK importers.
impl Secret {
    fn ed25519(seed: &[u8], public: Option<&[u8]>) -> Result<(PublicKey, Secret)> {
        if seed.len() != 32 {
            return Err(err!(MEDSEAL_KEY_INVALID, "an Ed25519 private key has 32 bytes, not {}", seed.len()));
        }
        let pair = match public {
            Some(pk) => Ed25519KeyPair::from_seed_and_public_key(seed, pk)
                .map_err(|_| err!(MEDSEAL_KEY_INVALID, "the Ed25519 public key does not match the private key"))?,
            None => Ed25519KeyPair::from_seed_unchecked(seed).map_err(|_| err!(MEDSEAL_KEY_INVALID, "invalid Ed25519 private key"))?,
        };
        let mut pk = [0u8; 32];
        pk.copy_from_slice(pair.public_key().as_ref());
        Ok((PublicKey::Ed25519(pk), Secret::Ed25519 { seed: Zeroizing::new(seed.to_vec()), pair }))
    }

    fn p256(d: &[u8], public: Option<&[u8]>) -> Result<(PublicKey, Secret)> {
        let public = public.ok_or_else(|| {
            err!(
                MEDSEAL_KEY_INVALID,
                "the P-256 private key does not include its public key; re-export it with `openssl pkcs8 -topk8 -nocrypt`"
            )
        })?;
        if d.len() != 32 {
            return Err(err!(MEDSEAL_KEY_INVALID, "a P-256 private key has 32 bytes, not {}", d.len()));
        }
        let pair = EcdsaKeyPair::from_private_key_and_public_key(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, d, public, &rng())
            .map_err(|_| err!(MEDSEAL_KEY_INVALID, "the P-256 private and public keys are invalid or do not match"))?;
        let point = pair.public_key().as_ref().to_vec();
        Ok((PublicKey::P256(point), Secret::P256 { d: Zeroizing::new(d.to_vec()), pair }))
    }

    fn rsa(pkcs1: &[u8], n: &[u8], e: &[u8]) -> Result<(PublicKey, Secret)> {
        let bits = bit_length(n);
        if !(2048..=4096).contains(&bits) {
            return Err(err!(MEDSEAL_KEY_SIZE, "RSA key has {bits} bits; medseal accepts 2048 to 4096"));
        }
        let pair = RsaKeyPair::from_der(pkcs1).map_err(|e| err!(MEDSEAL_KEY_INVALID, "the RSA private key was rejected: {e}"))?;
        let public = PublicKey::Rsa { n: strip_zeros(n).to_vec(), e: strip_zeros(e).to_vec() };
        Ok((public, Secret::Rsa { pkcs1: Zeroizing::new(pkcs1.to_vec()), pair }))
    }
}

fn strip_zeros(be: &[u8]) -> &[u8] {
    let first = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    &be[first..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[0, 0x80]), 8);
        assert_eq!(bit_length(&[0x01, 0]), 9);
        assert_eq!(bit_length(&[]), 0);
    }

    #[test]
    fn p256_points_off_the_curve_are_refused_at_import() {
        let mut spki = hex_bytes("3059301306072a8648ce3d020106082a8648ce3d030107034200");
        spki.push(0x04);
        spki.extend([0u8; 64]); // the point (0, 0)
        assert_eq!(Key::import(&spki, None).unwrap_err().code(), crate::ResultCode::MEDSEAL_KEY_INVALID);
        let good = Key::generate(Algorithm::ES256).unwrap().export(KeyFormat::SpkiDer).unwrap();
        assert!(Key::import(&good, None).is_ok());
    }

    fn hex_bytes(hex: &str) -> Vec<u8> {
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn debug_shows_no_secret() {
        let key = Key::generate(Algorithm::EdDSA).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains(key.kid()) && shown.contains("private: true"), "{shown}");
        let der = key.export(KeyFormat::Pkcs8Der).unwrap();
        let seed_b64 = crate::b64::encode(&der[16..48]);
        assert!(!shown.contains(&seed_b64));
    }
}
