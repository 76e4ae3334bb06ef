//! X25519 recipient keys for sealed envelopes: generation, import and export (raw, PKCS#8
//! DER/PEM, SPKI DER/PEM, JWK), and their RFC 7638 key ids.
//!
//! A separate type from the signing [`crate::Key`]: one key, one purpose. The private scalar
//! lives in x25519-dalek's `StaticSecret`, which zeroizes itself on drop.

use std::fmt;

use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use super::hpke::X25519_LEN;
use crate::b64;
use crate::canon::{self, CanonOptions, Value};
use crate::error::{err, Result};
use crate::keys::der::{self, OID_X25519};
use crate::keys::jwk::thumbprint_of;
use crate::keys::KeyFormat;

/// An HPKE recipient key: X25519, private (can open) or public only (can be sealed to).
#[derive(Clone)]
pub struct RecipientKey {
    secret: Option<StaticSecret>,
    public: [u8; X25519_LEN],
    kid: String,
}

impl fmt::Debug for RecipientKey {
    /// Shows the kid only: never key bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecipientKey").field("kid", &self.kid).field("private", &self.secret.is_some()).finish()
    }
}

impl RecipientKey {
    /// Generates a new X25519 private key.
    pub fn generate() -> Result<RecipientKey> {
        let mut bytes = Zeroizing::new([0u8; X25519_LEN]);
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), bytes.as_mut())
            .map_err(|_| err!(MEDSEAL_SYSTEM_ERROR, "the system random generator failed"))?;
        Ok(Self::from_secret(StaticSecret::from(*bytes)))
    }

    /// A private key from its 32 raw bytes (RFC 7748 scalar, clamped when used).
    pub fn from_raw_private(bytes: &[u8]) -> Result<RecipientKey> {
        let raw: [u8; X25519_LEN] =
            bytes.try_into().map_err(|_| err!(MEDSEAL_KEY_INVALID, "an X25519 private key has 32 bytes, not {}", bytes.len()))?;
        Ok(Self::from_secret(StaticSecret::from(raw)))
    }

    /// A public key from its 32 raw bytes.
    pub fn from_raw_public(bytes: &[u8]) -> Result<RecipientKey> {
        let public: [u8; X25519_LEN] =
            bytes.try_into().map_err(|_| err!(MEDSEAL_KEY_INVALID, "an X25519 public key has 32 bytes, not {}", bytes.len()))?;
        Ok(RecipientKey { secret: None, public, kid: kid_of(&public) })
    }

    fn from_secret(secret: StaticSecret) -> RecipientKey {
        let public = PublicKey::from(&secret).to_bytes();
        RecipientKey { secret: Some(secret), public, kid: kid_of(&public) }
    }

    /// Imports a key from PEM (`PRIVATE KEY`, `PUBLIC KEY`), DER (PKCS#8 v1/v2, SPKI) or JWK
    /// (`"kty":"OKP","crv":"X25519"`). Raw bytes go through the `from_raw_*` constructors.
    pub fn import(bytes: &[u8]) -> Result<RecipientKey> {
        let trimmed = bytes.trim_ascii();
        if trimmed.starts_with(b"{") {
            return Self::from_jwk(trimmed);
        }
        if trimmed.starts_with(b"-----BEGIN ") {
            let (label, der) = der::decode_pem(trimmed)?;
            return match label {
                "PRIVATE KEY" => Self::from_pkcs8(&der),
                "PUBLIC KEY" => Self::from_spki(&der),
                "ENCRYPTED PRIVATE KEY" => Err(der::encrypted()),
                other => Err(err!(MEDSEAL_KEY_FORMAT, "PEM label '{}' is not an X25519 key", crate::untrusted::shown(other))),
            };
        }
        // Any PKCS#8 document, not only an OKP one, so that a P-256 or RSA key is refused as
        // UNSUPPORTED by `from_pkcs8` rather than as KEY_FORMAT (fix, found by tests/seal.rs).
        if der::okp_from_pkcs8(bytes).is_ok() || pkcs8::PrivateKeyInfo::try_from(bytes).is_ok() {
            return Self::from_pkcs8(bytes);
        }
        if der::okp_from_spki(bytes).is_ok() {
            return Self::from_spki(bytes);
        }
        if der::is_encrypted_pkcs8(bytes) {
            return Err(der::encrypted());
        }
        Err(err!(MEDSEAL_KEY_FORMAT, "the key is not an X25519 PKCS#8, SPKI (DER or PEM) or JWK"))
    }

    fn from_pkcs8(der: &[u8]) -> Result<RecipientKey> {
        // The algorithm first (fix, found by tests/seal.rs): the private key of a P-256 or RSA
        // PKCS#8 is not an OCTET STRING, and okp_from_pkcs8 called it KEY_INVALID, where the
        // SPKI and JWK forms of the same key are KEY_UNSUPPORTED (as the C ABI documents).
        if let Ok(info) = pkcs8::PrivateKeyInfo::try_from(der) {
            check_oid(info.algorithm.oid)?;
        }
        let okp = der::okp_from_pkcs8(der)?;
        check_oid(okp.oid)?;
        let key = Self::from_raw_private(&okp.secret)?;
        if okp.public.is_some_and(|p| p != key.public) {
            return Err(err!(MEDSEAL_KEY_INVALID, "the X25519 public key in the PKCS#8 document does not match its private key"));
        }
        Ok(key)
    }

    fn from_spki(der: &[u8]) -> Result<RecipientKey> {
        let (oid, public) = der::okp_from_spki(der)?;
        check_oid(oid)?;
        Self::from_raw_public(&public)
    }

    fn from_jwk(text: &[u8]) -> Result<RecipientKey> {
        let jwk = canon::parse(text, &CanonOptions::plain())
            .map_err(|e| err!(MEDSEAL_KEY_FORMAT, "the JWK is not valid JSON: {}", e.message()))?;
        let member = |name: &str| jwk.get(name).and_then(Value::as_str);
        if member("kty") != Some("OKP") || member("crv") != Some("X25519") {
            return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "an HPKE recipient JWK has \"kty\":\"OKP\" and \"crv\":\"X25519\""));
        }
        let decode = |name: &str| -> Result<Option<Zeroizing<Vec<u8>>>> {
            member(name)
                .map(|s| {
                    b64::decode(s.as_bytes())
                        .map(Zeroizing::new)
                        .ok_or_else(|| err!(MEDSEAL_KEY_INVALID, "JWK member \"{name}\" is not base64url"))
                })
                .transpose()
        };
        let x = decode("x")?.ok_or_else(|| err!(MEDSEAL_KEY_INVALID, "the JWK lacks member \"x\""))?;
        match decode("d")? {
            Some(d) => {
                let key = Self::from_raw_private(&d)?;
                if key.public.as_slice() != x.as_slice() {
                    return Err(err!(MEDSEAL_KEY_INVALID, "the JWK's \"x\" does not match its \"d\""));
                }
                Ok(key)
            }
            None => Self::from_raw_public(&x),
        }
    }

    /// The key id: the RFC 7638 thumbprint of the public JWK.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The raw public key.
    pub fn public_bytes(&self) -> &[u8; X25519_LEN] {
        &self.public
    }

    /// Whether the private half is present.
    pub fn has_private(&self) -> bool {
        self.secret.is_some()
    }

    /// A public-only copy.
    pub fn to_public(&self) -> RecipientKey {
        RecipientKey { secret: None, public: self.public, kid: self.kid.clone() }
    }

    pub(crate) fn secret(&self) -> Result<&StaticSecret> {
        self.secret
            .as_ref()
            .ok_or_else(|| err!(MEDSEAL_KEY_NOT_PRIVATE, "opening needs the recipient's private key; this key is public only"))
    }

    /// Writes the key in `format`. PKCS#8 v1 and v2 are the same RFC 8410 structure, v2 with
    /// the public key. The result is zeroized on drop.
    pub fn export(&self, format: KeyFormat) -> Result<Zeroizing<Vec<u8>>> {
        let secret = match (&self.secret, format.is_private()) {
            (Some(secret), true) => Some(Zeroizing::new(secret.to_bytes())),
            (None, true) => return Err(err!(MEDSEAL_KEY_NOT_PRIVATE, "this key holds only the public part; it has no private form")),
            (_, false) => None,
        };
        let secret = || secret.as_ref().expect("private formats fetched the secret above");
        match format {
            KeyFormat::Pkcs8Der => der::okp_pkcs8(OID_X25519, secret().as_slice(), None),
            KeyFormat::Pkcs8V2Der => der::okp_pkcs8(OID_X25519, secret().as_slice(), Some(&self.public)),
            KeyFormat::Pkcs8Pem => der::pem("PRIVATE KEY", &der::okp_pkcs8(OID_X25519, secret().as_slice(), None)?),
            KeyFormat::Pkcs8V2Pem => der::pem("PRIVATE KEY", &der::okp_pkcs8(OID_X25519, secret().as_slice(), Some(&self.public))?),
            KeyFormat::SpkiDer => der::okp_spki(OID_X25519, &self.public).map(Zeroizing::new),
            KeyFormat::SpkiPem => der::pem("PUBLIC KEY", &der::okp_spki(OID_X25519, &self.public)?),
            KeyFormat::Jwk => {
                let Value::Object(mut members) = required_members(&self.public) else { unreachable!("an object") };
                members.push(("kid".into(), Value::string(self.kid.clone())));
                members.push(("use".into(), Value::string("enc")));
                Ok(Zeroizing::new(Value::object(members).to_canonical()))
            }
            KeyFormat::RawPrivate => Ok(Zeroizing::new(secret().to_vec())),
            KeyFormat::RawPublic => Ok(Zeroizing::new(self.public.to_vec())),
        }
    }
}

fn check_oid(oid: pkcs8::ObjectIdentifier) -> Result<()> {
    if oid != OID_X25519 {
        return Err(err!(
            MEDSEAL_KEY_UNSUPPORTED,
            "the key's algorithm is {oid}, not X25519 (1.3.101.110); signing keys cannot receive envelopes"
        ));
    }
    Ok(())
}

fn required_members(public: &[u8; X25519_LEN]) -> Value<'static> {
    Value::object([("crv", Value::string("X25519")), ("kty", Value::string("OKP")), ("x", Value::string(b64::encode(public)))])
}

fn kid_of(public: &[u8; X25519_LEN]) -> String {
    thumbprint_of(&required_members(public))
}
