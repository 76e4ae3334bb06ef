//! DER and PEM key encodings: PKCS#8 v1/v2 (RFC 5208/5958), PKCS#1 (RFC 8017), SEC1
//! ECPrivateKey (RFC 5915) inside PKCS#8, and SubjectPublicKeyInfo (RFC 5280).
//! Parsing and encoding are delegated to the RustCrypto `der`/`pkcs8`/`spki`/`pkcs1`/`sec1`
//! crates; the key material goes to ring.

use pkcs8::der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, OctetStringRef};
use pkcs8::der::pem::LineEnding;
use pkcs8::der::{Decode, Encode, Reader, SliceReader};
use pkcs8::{AlgorithmIdentifierRef, PrivateKeyInfo};
use spki::SubjectPublicKeyInfoRef;
use zeroize::Zeroizing;

use super::{Algorithm, Key, PublicKey, Secret};
use crate::error::{err, Error, Result};

const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-X25519 (RFC 8410), for HPKE recipient keys.
pub(crate) const OID_X25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");

/// Decodes a PEM document into its label and (zeroized) DER bytes.
pub(crate) fn decode_pem(text: &[u8]) -> Result<(&str, Zeroizing<Vec<u8>>)> {
    let (label, der) =
        pkcs8::der::pem::decode_vec(text).map_err(|e| err!(MEDSEAL_KEY_FORMAT, "the PEM document cannot be decoded: {e}"))?;
    Ok((label, Zeroizing::new(der)))
}

/// Imports a PEM document, dispatching on its label.
pub(super) fn import_pem(text: &[u8], alg: Option<Algorithm>) -> Result<Key> {
    let (label, der) = decode_pem(text)?;
    match label {
        "PRIVATE KEY" => from_pkcs8_der(&der, alg),
        "ENCRYPTED PRIVATE KEY" => Err(encrypted()),
        "RSA PRIVATE KEY" => from_pkcs1_der(&der, alg),
        "PUBLIC KEY" => from_spki_der(&der, alg),
        "RSA PUBLIC KEY" => from_pkcs1_public_der(&der, alg),
        "EC PRIVATE KEY" => {
            Err(err!(MEDSEAL_KEY_FORMAT, "SEC1 'EC PRIVATE KEY' PEM is not read directly; convert it with `openssl pkcs8 -topk8 -nocrypt`"))
        }
        other => Err(err!(MEDSEAL_KEY_FORMAT, "PEM label '{}' is not a key medseal reads", crate::untrusted::shown(other))),
    }
}

/// Imports DER bytes of unknown kind: PKCS#8, SPKI, PKCS#1 private or public.
pub(super) fn import_der(der: &[u8], alg: Option<Algorithm>) -> Result<Key> {
    if PrivateKeyInfo::try_from(der).is_ok() {
        return from_pkcs8_der(der, alg);
    }
    if SubjectPublicKeyInfoRef::try_from(der).is_ok() {
        return from_spki_der(der, alg);
    }
    if pkcs1::RsaPrivateKey::try_from(der).is_ok() {
        return from_pkcs1_der(der, alg);
    }
    if pkcs1::RsaPublicKey::try_from(der).is_ok() {
        return from_pkcs1_public_der(der, alg);
    }
    if is_encrypted_pkcs8(der) {
        return Err(encrypted());
    }
    Err(err!(MEDSEAL_KEY_FORMAT, "the key is not PKCS#8, SPKI, PKCS#1 (DER or PEM) or a JWK"))
}

pub(crate) fn encrypted() -> Error {
    err!(MEDSEAL_KEY_ENCRYPTED, "the key is encrypted PKCS#8, which medseal does not read yet; decrypt it with `openssl pkcs8 -nocrypt`")
}

/// EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }.
pub(crate) fn is_encrypted_pkcs8(der: &[u8]) -> bool {
    let Ok(mut reader) = SliceReader::new(der) else { return false };
    let parsed = reader.sequence(|r| {
        AlgorithmIdentifierRef::decode(r)?;
        OctetStringRef::decode(r)?;
        Ok(())
    });
    parsed.is_ok() && reader.is_finished()
}

/// Imports a PKCS#8 PrivateKeyInfo (v1) or OneAsymmetricKey (v2).
pub(super) fn from_pkcs8_der(der: &[u8], alg: Option<Algorithm>) -> Result<Key> {
    let info = PrivateKeyInfo::try_from(der).map_err(|e| err!(MEDSEAL_KEY_FORMAT, "invalid PKCS#8 private key: {e}"))?;
    let oid = info.algorithm.oid;
    let (public, secret) = if oid == OID_ED25519 {
        let seed = OctetStringRef::from_der(info.private_key)
            .map_err(|e| err!(MEDSEAL_KEY_INVALID, "invalid Ed25519 private key in PKCS#8: {e}"))?;
        Secret::ed25519(seed.as_bytes(), info.public_key)?
    } else if oid == OID_EC_PUBLIC_KEY {
        check_curve(info.algorithm.parameters)?;
        let ec = sec1::EcPrivateKey::try_from(info.private_key)
            .map_err(|e| err!(MEDSEAL_KEY_INVALID, "invalid EC private key in PKCS#8: {e}"))?;
        if let Some(sec1::EcParameters::NamedCurve(curve)) = ec.parameters {
            if curve != OID_P256 {
                return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "EC curve {curve} is not supported; medseal uses P-256"));
            }
        }
        Secret::p256(ec.private_key, ec.public_key.or(info.public_key))?
    } else if oid == OID_RSA {
        return from_pkcs1_der(info.private_key, alg);
    } else {
        return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "key algorithm {oid} is not supported (Ed25519, P-256 or RSA)"));
    };
    Key::assemble(public, Some(secret), alg)
}

fn check_curve(parameters: Option<AnyRef<'_>>) -> Result<()> {
    let curve = parameters
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        .ok_or_else(|| err!(MEDSEAL_KEY_INVALID, "the EC key does not name its curve"))?;
    if curve != OID_P256 {
        return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "EC curve {curve} is not supported; medseal uses P-256"));
    }
    Ok(())
}

/// Imports a PKCS#1 RSAPrivateKey.
pub(super) fn from_pkcs1_der(der: &[u8], alg: Option<Algorithm>) -> Result<Key> {
    let rsa = pkcs1::RsaPrivateKey::try_from(der).map_err(|e| err!(MEDSEAL_KEY_FORMAT, "invalid PKCS#1 RSA private key: {e}"))?;
    let (public, secret) = Secret::rsa(der, rsa.modulus.as_bytes(), rsa.public_exponent.as_bytes())?;
    Key::assemble(public, Some(secret), alg)
}

fn from_pkcs1_public_der(der: &[u8], alg: Option<Algorithm>) -> Result<Key> {
    let rsa = pkcs1::RsaPublicKey::try_from(der).map_err(|e| err!(MEDSEAL_KEY_FORMAT, "invalid PKCS#1 RSA public key: {e}"))?;
    rsa_public(rsa.modulus.as_bytes(), rsa.public_exponent.as_bytes(), alg)
}

pub(super) fn rsa_public(n: &[u8], e: &[u8], alg: Option<Algorithm>) -> Result<Key> {
    let public = PublicKey::Rsa { n: super::strip_zeros(n).to_vec(), e: super::strip_zeros(e).to_vec() };
    Key::assemble(public, None, alg)
}

/// Imports a SubjectPublicKeyInfo.
pub(super) fn from_spki_der(der: &[u8], alg: Option<Algorithm>) -> Result<Key> {
    let spki = SubjectPublicKeyInfoRef::try_from(der).map_err(|e| err!(MEDSEAL_KEY_FORMAT, "invalid SubjectPublicKeyInfo: {e}"))?;
    let oid = spki.algorithm.oid;
    let bits = spki.subject_public_key.as_bytes().ok_or_else(|| err!(MEDSEAL_KEY_INVALID, "the public key bit string has unused bits"))?;
    let public = if oid == OID_ED25519 {
        ed25519_public(bits)?
    } else if oid == OID_EC_PUBLIC_KEY {
        check_curve(spki.algorithm.parameters)?;
        p256_public(bits)?
    } else if oid == OID_RSA {
        let rsa = pkcs1::RsaPublicKey::try_from(bits).map_err(|e| err!(MEDSEAL_KEY_INVALID, "invalid RSA public key: {e}"))?;
        return rsa_public(rsa.modulus.as_bytes(), rsa.public_exponent.as_bytes(), alg);
    } else {
        return Err(err!(MEDSEAL_KEY_UNSUPPORTED, "public key algorithm {oid} is not supported (Ed25519, P-256 or RSA)"));
    };
    Key::assemble(public, None, alg)
}

pub(super) fn ed25519_public(bytes: &[u8]) -> Result<PublicKey> {
    let pk: [u8; 32] =
        bytes.try_into().map_err(|_| err!(MEDSEAL_KEY_INVALID, "an Ed25519 public key has 32 bytes, not {}", bytes.len()))?;
    Ok(PublicKey::Ed25519(pk))
}

pub(super) fn p256_public(point: &[u8]) -> Result<PublicKey> {
    match point.first() {
        Some(0x04) if point.len() == 65 => {
            // ring checks the point only when it verifies, and then a point off the curve looks
            // like a bad signature. An ECDH agreement with a throwaway key validates it now, so a
            // broken key is named as such at import (found by the fuzzer).
            let rng = ring::rand::SystemRandom::new();
            let ephemeral = ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::ECDH_P256, &rng)
                .map_err(|_| err!(MEDSEAL_SYSTEM_ERROR, "the system random generator failed"))?;
            let peer = ring::agreement::UnparsedPublicKey::new(&ring::agreement::ECDH_P256, point);
            ring::agreement::agree_ephemeral(ephemeral, &peer, |_| ())
                .map_err(|_| err!(MEDSEAL_KEY_INVALID, "the P-256 public key is not a point on the curve"))?;
            Ok(PublicKey::P256(point.to_vec()))
        }
        Some(0x02 | 0x03) => Err(err!(MEDSEAL_KEY_UNSUPPORTED, "compressed P-256 points are not supported")),
        _ => Err(err!(MEDSEAL_KEY_INVALID, "a P-256 public key is a 65-byte uncompressed point")),
    }
}

/// PKCS#8 DER of a private key; `v2` adds the public key (RFC 5958 OneAsymmetricKey).
pub(super) fn pkcs8_der(key: &Key, v2: bool) -> Result<Zeroizing<Vec<u8>>> {
    let secret = key.secret.as_ref().expect("checked by Key::export");
    let encode_failed = |e: pkcs8::der::Error| err!(MEDSEAL_KEY_INVALID, "cannot encode the key: {e}");
    let (algorithm, inner, public): (AlgorithmIdentifierRef<'_>, Zeroizing<Vec<u8>>, Vec<u8>) = match (secret, &key.public) {
        (Secret::Ed25519 { seed, .. }, PublicKey::Ed25519(pk)) => return okp_pkcs8(OID_ED25519, seed, v2.then_some(pk.as_slice())),
        (Secret::P256 { d, .. }, PublicKey::P256(point)) => {
            let ec =
                sec1::EcPrivateKey { private_key: d, parameters: Some(sec1::EcParameters::NamedCurve(OID_P256)), public_key: Some(point) };
            (
                AlgorithmIdentifierRef { oid: OID_EC_PUBLIC_KEY, parameters: Some(AnyRef::from(&OID_P256)) },
                Zeroizing::new(ec.to_der().map_err(encode_failed)?),
                point.clone(),
            )
        }
        (Secret::Rsa { pkcs1, .. }, public @ PublicKey::Rsa { .. }) => {
            (AlgorithmIdentifierRef { oid: OID_RSA, parameters: Some(AnyRef::NULL) }, pkcs1.clone(), rsa_public_der(public)?)
        }
        _ => unreachable!("secret and public halves always agree"),
    };
    let mut info = PrivateKeyInfo::new(algorithm, &inner);
    if v2 {
        info.public_key = Some(&public);
    }
    Ok(Zeroizing::new(info.to_der().map_err(encode_failed)?))
}

fn rsa_public_der(public: &PublicKey) -> Result<Vec<u8>> {
    let PublicKey::Rsa { n, e } = public else { unreachable!("RSA only") };
    let rsa = pkcs1::RsaPublicKey { modulus: to_uint(n)?, public_exponent: to_uint(e)? };
    rsa.to_der().map_err(|e| err!(MEDSEAL_KEY_INVALID, "cannot encode the RSA key: {e}"))
}

fn to_uint(b: &[u8]) -> Result<pkcs1::UintRef<'_>> {
    pkcs1::UintRef::new(b).map_err(|e| err!(MEDSEAL_KEY_INVALID, "cannot encode the RSA key: {e}"))
}

/// SubjectPublicKeyInfo DER of a public key.
pub(super) fn spki_der(public: &PublicKey) -> Result<Vec<u8>> {
    let rsa_der;
    let (algorithm, bits): (AlgorithmIdentifierRef<'_>, &[u8]) = match public {
        PublicKey::Ed25519(pk) => return okp_spki(OID_ED25519, pk),
        PublicKey::P256(point) => (AlgorithmIdentifierRef { oid: OID_EC_PUBLIC_KEY, parameters: Some(AnyRef::from(&OID_P256)) }, point),
        PublicKey::Rsa { .. } => {
            rsa_der = rsa_public_der(public)?;
            (AlgorithmIdentifierRef { oid: OID_RSA, parameters: Some(AnyRef::NULL) }, &rsa_der)
        }
    };
    let encode_failed = |e: pkcs8::der::Error| err!(MEDSEAL_KEY_INVALID, "cannot encode the public key: {e}");
    let spki = SubjectPublicKeyInfoRef { algorithm, subject_public_key: BitStringRef::from_bytes(bits).map_err(encode_failed)? };
    spki.to_der().map_err(encode_failed)
}

/// PEM text for DER bytes, zeroized on drop since it may hold a private key.
pub(crate) fn pem(label: &'static str, der: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let text =
        pkcs8::der::pem::encode_string(label, LineEnding::LF, der).map_err(|e| err!(MEDSEAL_KEY_INVALID, "cannot encode PEM: {e}"))?;
    Ok(Zeroizing::new(text.into_bytes()))
}

/// An RFC 8410 (Ed25519, X25519) private key as read from PKCS#8.
pub(crate) struct OkpPrivate {
    pub oid: ObjectIdentifier,
    pub secret: Zeroizing<Vec<u8>>,
    /// Present in PKCS#8 v2.
    pub public: Option<Vec<u8>>,
}

/// Reads an RFC 8410 PKCS#8 document.
pub(crate) fn okp_from_pkcs8(der: &[u8]) -> Result<OkpPrivate> {
    let info = PrivateKeyInfo::try_from(der).map_err(|e| err!(MEDSEAL_KEY_FORMAT, "invalid PKCS#8 private key: {e}"))?;
    let secret = OctetStringRef::from_der(info.private_key).map_err(|e| err!(MEDSEAL_KEY_INVALID, "invalid private key in PKCS#8: {e}"))?;
    Ok(OkpPrivate {
        oid: info.algorithm.oid,
        secret: Zeroizing::new(secret.as_bytes().to_vec()),
        public: info.public_key.map(<[u8]>::to_vec),
    })
}

/// The algorithm OID and raw public key of a SubjectPublicKeyInfo.
pub(crate) fn okp_from_spki(der: &[u8]) -> Result<(ObjectIdentifier, Vec<u8>)> {
    let spki = SubjectPublicKeyInfoRef::try_from(der).map_err(|e| err!(MEDSEAL_KEY_FORMAT, "invalid SubjectPublicKeyInfo: {e}"))?;
    let bits = spki.subject_public_key.as_bytes().ok_or_else(|| err!(MEDSEAL_KEY_INVALID, "the public key bit string has unused bits"))?;
    Ok((spki.algorithm.oid, bits.to_vec()))
}

/// RFC 8410 PKCS#8 (v1, or v2 with the public key) for an Ed25519 or X25519 secret.
pub(crate) fn okp_pkcs8(oid: ObjectIdentifier, secret: &[u8], public: Option<&[u8]>) -> Result<Zeroizing<Vec<u8>>> {
    let encode_failed = |e: pkcs8::der::Error| err!(MEDSEAL_KEY_INVALID, "cannot encode the key: {e}");
    let inner = Zeroizing::new(OctetStringRef::new(secret).and_then(|o| o.to_der()).map_err(encode_failed)?);
    let mut info = PrivateKeyInfo::new(AlgorithmIdentifierRef { oid, parameters: None }, &inner);
    info.public_key = public;
    Ok(Zeroizing::new(info.to_der().map_err(encode_failed)?))
}

/// SubjectPublicKeyInfo for an Ed25519 or X25519 public key.
pub(crate) fn okp_spki(oid: ObjectIdentifier, public: &[u8]) -> Result<Vec<u8>> {
    let encode_failed = |e: pkcs8::der::Error| err!(MEDSEAL_KEY_INVALID, "cannot encode the public key: {e}");
    let spki = SubjectPublicKeyInfoRef {
        algorithm: AlgorithmIdentifierRef { oid, parameters: None },
        subject_public_key: BitStringRef::from_bytes(public).map_err(encode_failed)?,
    };
    spki.to_der().map_err(encode_failed)
}
