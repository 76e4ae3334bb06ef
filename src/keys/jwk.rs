//! JWK (RFC 7517/7518/8037) import and export, and RFC 7638 thumbprints.

use ring::digest;
use zeroize::Zeroizing;

use super::{der, Algorithm, Key, PublicKey, Secret};
use crate::b64;
use crate::canon::{self, CanonOptions, Value};
use crate::error::{err, Result};

/// RFC 7638 thumbprint: base64url SHA-256 of the canonical required members.
pub(super) fn thumbprint(public: &PublicKey) -> String {
    thumbprint_of(&required_members(public))
}

/// The RFC 7638 thumbprint of a JWK given by its required members only.
pub(crate) fn thumbprint_of(required: &Value<'_>) -> String {
    b64::encode(digest::digest(&digest::SHA256, &required.to_canonical()).as_ref())
}

/// The members RFC 7638 hashes, which are also the core of every exported JWK.
fn required_members(public: &PublicKey) -> Value<'static> {
    let s = |b: &[u8]| Value::string(b64::encode(b));
    match public {
        PublicKey::Ed25519(pk) => Value::object([("crv", Value::string("Ed25519")), ("kty", Value::string("OKP")), ("x", s(pk))]),
        PublicKey::P256(point) => Value::object([
            ("crv", Value::string("P-256")),
            ("kty", Value::string("EC")),
            ("x", s(&point[1..33])),
            ("y", s(&point[33..65])),
        ]),
        PublicKey::Rsa { n, e } => Value::object([("e", s(e)), ("kty", Value::string("RSA")), ("n", s(n))]),
    }
}

/// The public JWK of `key`, with `alg`, `kid` and `use`.
pub(super) fn public_jwk(key: &Key) -> Value<'static> {
    let Value::Object(mut members) = required_members(&key.public) else { unreachable!("always an object") };
    members.push(("alg".into(), Value::string(key.alg.jws_name())));
    members.push(("kid".into(), Value::string(key.kid.clone())));
    members.push(("use".into(), Value::string("sig")));
    Value::object(members)
}

/// Imports a public or private JWK (OKP Ed25519, EC P-256, RSA public).
pub(super) fn import(text: &[u8], alg: Option<Algorithm>) -> Result<Key> {
    let jwk =
        canon::parse(text, &CanonOptions::plain()).map_err(|e| err!(MEDSEAL_KEY_FORMAT, "the JWK is not valid JSON: {}", e.message()))?;
    if !matches!(jwk, Value::Object(_)) {
        return Err(err!(MEDSEAL_KEY_FORMAT, "a JWK is a JSON object"));
    }
    let text_member = |name: &str| -> Result<Option<&str>> {
        match jwk.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(err!(MEDSEAL_KEY_INVALID, "JWK member \"{name}\" must be a string")),
        }
    };
    let bytes_member = |name: &str| -> Result<Option<Zeroizing<Vec<u8>>>> {
        text_member(name)?
            .map(|s| {
                b64::decode(s.as_bytes())
                    .map(Zeroizing::new)
                    .ok_or_else(|| err!(MEDSEAL_KEY_INVALID, "JWK member \"{name}\" is not base64url"))
            })
            .transpose()
    };
    let required = |name: &str| -> Result<Zeroizing<Vec<u8>>> {
        bytes_member(name)?.ok_or_else(|| err!(MEDSEAL_KEY_INVALID, "the JWK lacks member \"{name}\""))
    };
    // The JWK's own `alg`, if any, must agree with the caller's choice.
    let jwk_alg = match text_member("alg")? {
        None => None,
        Some(name) => Some(
            Algorithm::from_jws_name(name)
                .ok_or_else(|| err!(MEDSEAL_KEY_UNSUPPORTED, "JWK alg \"{}\" is not supported", crate::untrusted::shown(name)))?,
        ),
    };
    let alg = match (alg, jwk_alg) {
        (Some(a), Some(b)) if a != b => return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "the JWK says alg {b} but {a} was asked for")),
        (a, b) => a.or(b),
    };
    let kty = text_member("kty")?.ok_or_else(|| err!(MEDSEAL_KEY_INVALID, "the JWK lacks \"kty\""))?;
    let crv = text_member("crv")?;
    let private = bytes_member("d")?;
    let (public, secret) = match (kty, crv) {
        ("OKP", Some("Ed25519")) => {
            let x = required("x")?;
            match private {
                Some(d) => {
                    let (public, secret) = Secret::ed25519(&d, Some(&x))?;
                    (public, Some(secret))
                }
                None => (der::ed25519_public(&x)?, None),
            }
        }
        ("EC", Some("P-256")) => {
            let (x, y) = (required("x")?, required("y")?);
            if x.len() != 32 || y.len() != 32 {
                return Err(err!(MEDSEAL_KEY_INVALID, "P-256 JWK coordinates have 32 bytes each"));
            }
            let point = [&[0x04u8][..], &x, &y].concat();
            match private {
                Some(d) => {
                    let (public, secret) = Secret::p256(&d, Some(&point))?;
                    (public, Some(secret))
                }
                None => (der::p256_public(&point)?, None),
            }
        }
        ("RSA", _) => {
            if private.is_some() {
                return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "RSA private keys are read from PKCS#8 or PKCS#1, not JWK"));
            }
            return der::rsa_public(&required("n")?, &required("e")?, alg);
        }
        ("oct", _) => return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "symmetric (oct) keys are never used for records")),
        (kty, crv) => {
            return Err(err!(
                MEDSEAL_KEY_UNSUPPORTED,
                "JWK kty \"{}\" crv \"{}\" is not supported",
                crate::untrusted::shown(kty),
                crate::untrusted::shown(crv.unwrap_or(""))
            ))
        }
    };
    Key::assemble(public, secret, alg)
}
