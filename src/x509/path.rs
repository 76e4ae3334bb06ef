//! Certification path validation at a given time (the signature's `sigT`).
//!
//! A chain arrives leaf first, as in a JWS `x5c` (RFC 7515 4.1.6): each certificate is issued by
//! the next one, and the last is either a trust anchor itself or issued by one. Everything is
//! checked at `at`, never at "now": a record signed in 2024 by a certificate that expired in
//! 2027 still verifies in 2030.
//!
//! The checks run in an order that keeps the error code specific: first what makes a single
//! certificate unusable (malformed, unsupported algorithm, unknown critical extension), then
//! the signer's key usage and window, then each issuer's own properties (CA, keyCertSign, path
//! length, window), and only then the links (names and signatures) and the anchor. So an
//! expired intermediate is reported as `MEDSEAL_CERT_EXPIRED`, not as a broken chain.
//!
//! The signer's extended key usage, when present, must name a document-signing purpose
//! ([`super::SIGNING_PURPOSES`]): a TLS-only certificate does not sign records. Not checked:
//! revocation (no CRL or OCSP at `sigT` is available here), certificate policies. Name
//! constraints are refused rather than ignored.

use ring::signature;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::oid::db::{rfc5280, rfc5912, rfc8410, DB};
use x509_cert::ext::pkix::KeyUsages;
use x509_cert::name::Name;
use x509_cert::Version;

use super::{Certificate, MAX_CHAIN_LEN};
use crate::error::{err, Error, Result, ResultCode};

/// The CA certificates a verifier trusts. Immutable and shareable.
#[derive(Clone, Debug)]
pub struct TrustAnchors {
    anchors: Vec<Certificate>,
}

impl TrustAnchors {
    /// Anchors from parsed certificates (at least one).
    pub fn new(anchors: Vec<Certificate>) -> Result<TrustAnchors> {
        if anchors.is_empty() {
            return Err(err!(MEDSEAL_INVALID_ARGUMENT, "no trust anchor given"));
        }
        Ok(TrustAnchors { anchors })
    }

    /// Anchors from PEM (one or more certificates) or one DER certificate.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<TrustAnchors> {
        TrustAnchors::new(Certificate::read_chain(bytes)?)
    }

    /// The anchor certificates.
    pub fn certificates(&self) -> &[Certificate] {
        &self.anchors
    }
}

/// What a successful validation found.
#[derive(Clone, Debug)]
pub struct ValidatedChain {
    /// The signer (leaf) certificate.
    pub leaf: Certificate,
    /// The anchor the chain ends at.
    pub anchor: Certificate,
}

/// Validates `chain` (leaf first, as in `x5c`) against `anchors` at `at` (Unix seconds).
///
/// The chain may end with the anchor itself or with a certificate an anchor issued. A chain of
/// one certificate that is itself an anchor is accepted (a directly trusted signer); it still
/// needs a signing key usage and a window containing `at`.
pub fn validate(chain: &[Certificate], anchors: &TrustAnchors, at: i64) -> Result<ValidatedChain> {
    let (Some(leaf), Some(last)) = (chain.first(), chain.last()) else {
        return Err(err!(MEDSEAL_CERT_INVALID, "the certificate chain is empty"));
    };
    if chain.len() > MAX_CHAIN_LEN {
        return Err(err!(MEDSEAL_CERT_INVALID, "a chain of {} certificates is over the limit of {MAX_CHAIN_LEN}", chain.len()));
    }
    for cert in chain {
        check_well_formed(cert)?;
    }
    leaf.check_signer_usage()?;
    leaf.check_signing_time(at, &crate::utc::show(at))?;
    for (position, issuer) in chain.iter().enumerate().skip(1) {
        check_issuer(issuer, intermediates_below(chain, position), at)?;
    }
    for pair in chain.windows(2) {
        if let [child, issuer] = pair {
            check_link(child, issuer)?;
        }
    }
    let anchor = terminate(chain, last, anchors, at)?;
    Ok(ValidatedChain { leaf: leaf.clone(), anchor })
}

/// Extensions that may be critical: the ones this validator acts on, and those that only
/// describe the certificate. Any other critical extension must be refused (RFC 5280 4.2).
const CRITICAL_ALLOWED: &[ObjectIdentifier] = &[
    rfc5280::ID_CE_KEY_USAGE,
    rfc5280::ID_CE_BASIC_CONSTRAINTS,
    rfc5280::ID_CE_EXT_KEY_USAGE,
    rfc5280::ID_CE_SUBJECT_ALT_NAME,
    rfc5280::ID_CE_CERTIFICATE_POLICIES,
    rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
    rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER,
];

/// What makes one certificate unusable whatever its place in the chain: duplicate or unknown
/// critical extensions, name constraints, undecodable key usage or basic constraints, and a
/// signature algorithm that is unsupported or differs between the TBS and the outer structure.
fn check_well_formed(cert: &Certificate) -> Result<()> {
    let inner = cert.inner();
    let extensions = inner.tbs_certificate.extensions.as_deref().unwrap_or(&[]);
    for (i, ext) in extensions.iter().enumerate() {
        if extensions[..i].iter().any(|earlier| earlier.extn_id == ext.extn_id) {
            return Err(err!(
                MEDSEAL_CERT_INVALID,
                "the certificate {} has the extension {} twice",
                cert.subject(),
                oid_name(&ext.extn_id)
            ));
        }
        // Ignoring name constraints would accept names the CA was not allowed to certify.
        if ext.extn_id == rfc5280::ID_CE_NAME_CONSTRAINTS {
            return Err(err!(
                MEDSEAL_CERT_INVALID,
                "the certificate {} has name constraints, which medseal does not support",
                cert.subject()
            ));
        }
        if ext.critical && !CRITICAL_ALLOWED.contains(&ext.extn_id) {
            return Err(err!(
                MEDSEAL_CERT_INVALID,
                "the certificate {} has a critical extension medseal does not process: {}",
                cert.subject(),
                oid_name(&ext.extn_id)
            ));
        }
    }
    cert.key_usage()?;
    cert.basic_constraints()?;
    if inner.signature_algorithm != inner.tbs_certificate.signature {
        return Err(err!(
            MEDSEAL_CERT_INVALID,
            "the certificate {} names two signature algorithms ({} outside, {} signed)",
            cert.subject(),
            oid_name(&inner.signature_algorithm.oid),
            oid_name(&inner.tbs_certificate.signature.oid)
        ));
    }
    signature_scheme(cert)?;
    if inner.signature.as_bytes().is_none() {
        return Err(err!(MEDSEAL_CERT_INVALID, "the signature of the certificate {} is not a whole number of bytes", cert.subject()));
    }
    Ok(())
}

/// An issuer's own properties: v3, a CA (basicConstraints cA), allowed to sign certificates
/// (keyCertSign when key usage is present), its path length, and its window at `at`.
/// `below` counts the intermediates between it and the leaf (RFC 5280 6.1.4 (l), (m)).
fn check_issuer(cert: &Certificate, below: usize, at: i64) -> Result<()> {
    let subject = cert.subject();
    if cert.inner().tbs_certificate.version != Version::V3 {
        return Err(err!(MEDSEAL_CERT_INVALID, "the issuer certificate {subject} is not an X.509 v3 certificate, so it cannot be a CA"));
    }
    let Some(constraints) = cert.basic_constraints()?.filter(|bc| bc.ca) else {
        return Err(err!(
            MEDSEAL_CERT_KEY_USAGE,
            "the certificate {subject} issued another certificate but is not a CA (basicConstraints cA is not set)"
        ));
    };
    if let Some(ku) = cert.key_usage()? {
        if !ku.0.contains(KeyUsages::KeyCertSign) {
            return Err(err!(MEDSEAL_CERT_KEY_USAGE, "the CA certificate {subject} does not allow keyCertSign"));
        }
    }
    if let Some(limit) = constraints.path_len_constraint {
        if below > usize::from(limit) {
            return Err(err!(
                MEDSEAL_CERT_KEY_USAGE,
                "the CA certificate {subject} allows {limit} intermediate certificate(s) below it (pathLenConstraint), the chain has {below}"
            ));
        }
    }
    let window = || format!("valid from {} to {}", crate::utc::show(cert.not_before()), crate::utc::show(cert.not_after()));
    if at < cert.not_before() {
        return Err(err!(
            MEDSEAL_CERT_NOT_YET_VALID,
            "the CA certificate {subject} was not yet valid at {} ({})",
            crate::utc::show(at),
            window()
        ));
    }
    if at > cert.not_after() {
        return Err(err!(MEDSEAL_CERT_EXPIRED, "the CA certificate {subject} had expired at {} ({})", crate::utc::show(at), window()));
    }
    Ok(())
}

/// How many intermediates lie between `chain[position]` and the leaf; self-issued ones (key
/// rollover) do not count, as in RFC 5280 6.1.4 (l).
fn intermediates_below(chain: &[Certificate], position: usize) -> usize {
    chain.get(1..position).unwrap_or(&[]).iter().filter(|c| !self_issued(c)).count()
}

fn self_issued(cert: &Certificate) -> bool {
    same_name(&cert.inner().tbs_certificate.issuer, &cert.inner().tbs_certificate.subject)
}

/// Binary name comparison. x509-cert keeps each attribute's tag and value bytes, so equal
/// parsed names are names with equal DER. (No RFC 5280 7.1 case folding: CAs copy the issuer
/// name byte for byte, and a looser match only widens what an impostor name can pass for.)
fn same_name(a: &Name, b: &Name) -> bool {
    a == b
}

/// `child` names `issuer` as its issuer and carries its signature.
fn check_link(child: &Certificate, issuer: &Certificate) -> Result<()> {
    if !same_name(&child.inner().tbs_certificate.issuer, &issuer.inner().tbs_certificate.subject) {
        return Err(err!(
            MEDSEAL_CERT_CHAIN_BROKEN,
            "the certificate {} is issued by {}, but the next certificate in the chain is {}",
            child.subject(),
            child.issuer(),
            issuer.subject()
        ));
    }
    signed_by(child, issuer)
}

/// Finds the anchor: the last certificate itself, or an anchor of its issuer's name whose key
/// verifies its signature and that passes the issuer checks. Several anchors may share a name
/// (a renewed root); each is tried. When none fits, an anchor that verifies but is unusable
/// (expired, not a CA, unsupported key) is the error reported, else an unknown issuer.
fn terminate(chain: &[Certificate], last: &Certificate, anchors: &TrustAnchors, at: i64) -> Result<Certificate> {
    if let Some(anchor) = anchors.anchors.iter().find(|a| *a == last) {
        return Ok(anchor.clone());
    }
    let issuer_name = &last.inner().tbs_certificate.issuer;
    let below = intermediates_below(chain, chain.len());
    let mut unusable: Option<Error> = None;
    let mut not_verifying: Option<Error> = None;
    for anchor in anchors.anchors.iter().filter(|a| same_name(&a.inner().tbs_certificate.subject, issuer_name)) {
        match signed_by(last, anchor) {
            Ok(()) => match check_well_formed(anchor).and_then(|()| check_issuer(anchor, below, at)) {
                Ok(()) => return Ok(anchor.clone()),
                Err(e) => {
                    unusable.get_or_insert(e);
                }
            },
            // The anchor's own key is unsupported or malformed: a configuration problem to
            // name as such, not an unknown issuer.
            Err(e) if e.code() == ResultCode::MEDSEAL_CERT_INVALID => {
                unusable.get_or_insert(e);
            }
            Err(e) => {
                not_verifying.get_or_insert(e);
            }
        }
    }
    if let Some(e) = unusable {
        return Err(e);
    }
    match not_verifying {
        Some(e) => Err(err!(
            MEDSEAL_CERT_UNKNOWN_ISSUER,
            "the certificate {} is issued by {}: a trust anchor has that name, but none verifies it ({})",
            last.subject(),
            last.issuer(),
            e.message()
        )),
        None => Err(err!(
            MEDSEAL_CERT_UNKNOWN_ISSUER,
            "the certificate {} is issued by {}, which is not a trust anchor",
            last.subject(),
            last.issuer()
        )),
    }
}

/// Signature schemes certificates may be signed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scheme {
    RsaSha256,
    RsaSha384,
    RsaSha512,
    EcdsaSha256,
    EcdsaSha384,
    Ed25519,
}

/// The kinds of issuer key those schemes verify with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl KeyKind {
    fn describe(self) -> &'static str {
        match self {
            KeyKind::Rsa => "an RSA key",
            KeyKind::P256 => "a P-256 key",
            KeyKind::P384 => "a P-384 key",
            KeyKind::Ed25519 => "an Ed25519 key",
        }
    }
}

/// The certificate's signature scheme. RFC 4055 writes NULL parameters for the RSA schemes
/// (absent is tolerated); RFC 5758 and RFC 8410 require them absent for ECDSA and Ed25519.
fn signature_scheme(cert: &Certificate) -> Result<Scheme> {
    let alg = &cert.inner().signature_algorithm;
    let (scheme, rsa) = match alg.oid {
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION => (Scheme::RsaSha256, true),
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION => (Scheme::RsaSha384, true),
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION => (Scheme::RsaSha512, true),
        rfc5912::ECDSA_WITH_SHA_256 => (Scheme::EcdsaSha256, false),
        rfc5912::ECDSA_WITH_SHA_384 => (Scheme::EcdsaSha384, false),
        rfc8410::ID_ED_25519 => (Scheme::Ed25519, false),
        _ => {
            return Err(err!(
                MEDSEAL_CERT_INVALID,
                "the certificate {} is signed with {}, which medseal does not support",
                cert.subject(),
                oid_name(&alg.oid)
            ))
        }
    };
    let parameters_ok = match &alg.parameters {
        None => true,
        Some(any) => rsa && any.is_null(),
    };
    if !parameters_ok {
        return Err(err!(MEDSEAL_CERT_INVALID, "the certificate {} has unexpected parameters for {}", cert.subject(), oid_name(&alg.oid)));
    }
    Ok(scheme)
}

/// The kind of the certificate's subject key and its raw bytes as ring takes them (PKCS#1
/// RSAPublicKey, uncompressed EC point, or the 32 Ed25519 bytes).
fn subject_key(cert: &Certificate) -> Result<(KeyKind, &[u8])> {
    let spki = &cert.inner().tbs_certificate.subject_public_key_info;
    let unsupported =
        |what: String| err!(MEDSEAL_CERT_INVALID, "the certificate {} holds {what}, which medseal does not support", cert.subject());
    let kind = match spki.algorithm.oid {
        rfc5912::RSA_ENCRYPTION => KeyKind::Rsa,
        rfc8410::ID_ED_25519 => KeyKind::Ed25519,
        rfc5912::ID_EC_PUBLIC_KEY => {
            let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match curve {
                Some(rfc5912::SECP_256_R_1) => KeyKind::P256,
                Some(rfc5912::SECP_384_R_1) => KeyKind::P384,
                Some(other) => return Err(unsupported(format!("an EC key on {}", oid_name(&other)))),
                None => return Err(unsupported("an EC key without a named curve".to_string())),
            }
        }
        other => return Err(unsupported(format!("a {} key", oid_name(&other)))),
    };
    let bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| err!(MEDSEAL_CERT_INVALID, "the public key of the certificate {} is not a whole number of bytes", cert.subject()))?;
    if kind == KeyKind::Rsa {
        check_rsa_size(cert, bytes)?;
    }
    Ok((kind, bytes))
}

/// ring verifies RSA signatures from 2048 to 8192 bits; say so instead of reporting a
/// signature that "does not verify".
fn check_rsa_size(cert: &Certificate, pkcs1: &[u8]) -> Result<()> {
    use pkcs1::der::Decode;
    let key = pkcs1::RsaPublicKey::from_der(pkcs1)
        .map_err(|e| err!(MEDSEAL_CERT_INVALID, "the RSA key of the certificate {} is malformed: {e}", cert.subject()))?;
    let modulus = key.modulus.as_bytes();
    let bits = match modulus.first() {
        Some(first) => modulus.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    };
    if !(2048..=8192).contains(&bits) {
        return Err(err!(
            MEDSEAL_CERT_INVALID,
            "the certificate {} holds a {bits}-bit RSA key; medseal accepts 2048 to 8192 bits",
            cert.subject()
        ));
    }
    Ok(())
}

/// Verifies `child`'s signature with `issuer`'s key, over the TBSCertificate bytes exactly as
/// received.
fn signed_by(child: &Certificate, issuer: &Certificate) -> Result<()> {
    let scheme = signature_scheme(child)?;
    let (kind, key) = subject_key(issuer)?;
    let algorithm: &'static dyn signature::VerificationAlgorithm = match (scheme, kind) {
        (Scheme::RsaSha256, KeyKind::Rsa) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (Scheme::RsaSha384, KeyKind::Rsa) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (Scheme::RsaSha512, KeyKind::Rsa) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (Scheme::EcdsaSha256, KeyKind::P256) => &signature::ECDSA_P256_SHA256_ASN1,
        (Scheme::EcdsaSha384, KeyKind::P256) => &signature::ECDSA_P256_SHA384_ASN1,
        (Scheme::EcdsaSha256, KeyKind::P384) => &signature::ECDSA_P384_SHA256_ASN1,
        (Scheme::EcdsaSha384, KeyKind::P384) => &signature::ECDSA_P384_SHA384_ASN1,
        (Scheme::Ed25519, KeyKind::Ed25519) => &signature::ED25519,
        _ => {
            return Err(err!(
                MEDSEAL_CERT_CHAIN_BROKEN,
                "the certificate {} is signed with {}, which {} of {} cannot have made",
                child.subject(),
                oid_name(&child.inner().signature_algorithm.oid),
                kind.describe(),
                issuer.subject()
            ))
        }
    };
    let tbs = child.tbs_der()?;
    let sig = child.inner().signature.as_bytes().unwrap_or(&[]);
    signature::UnparsedPublicKey::new(algorithm, key).verify(tbs, sig).map_err(|_| {
        err!(
            MEDSEAL_CERT_CHAIN_BROKEN,
            "the signature on the certificate {} does not verify with the key of {}",
            child.subject(),
            issuer.subject()
        )
    })
}

/// An OID with its registered name when const-oid knows it: "sha1WithRSAEncryption (1.2.840.113549.1.1.5)".
fn oid_name(oid: &ObjectIdentifier) -> String {
    match DB.by_oid(oid) {
        Some(name) => format!("{name} ({oid})"),
        None => oid.to_string(),
    }
}
