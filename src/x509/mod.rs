//! X.509 certificates: the chains hospitals' CAs issue, carried in a JWS `x5c` header and
//! checked against configured trust anchors at the signature's `sigT`.
//!
//! Parsing is RustCrypto's `x509-cert` (on the same `der` as our PKCS#8/SPKI code); signature
//! checks are ring's. Path validation ([`path`]) is ours, because it has to run at a past time
//! (`sigT`, not now) and tell expired, not yet valid, unknown issuer, wrong key usage and broken
//! chain apart with stable codes, which general-purpose (TLS-oriented) validators do not.

mod path;

use ring::digest;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::oid::db::DB;
use x509_cert::der::{Decode, Encode, Header, Reader, SliceReader};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};

use crate::b64;
use crate::error::{err, Result};
use crate::keys::{Algorithm, Key};

pub use path::{validate, TrustAnchors, ValidatedChain};

/// Most certificates one chain may hold (leaf, intermediates, perhaps the root).
pub const MAX_CHAIN_LEN: usize = 8;

/// Largest DER certificate accepted.
pub const MAX_CERT_BYTES: usize = 64 * 1024;

/// The extended key usages that let a certificate sign records, when it has that extension:
/// documentSigning (RFC 9336), emailProtection (S/MIME signing), Microsoft document signing,
/// Adobe authentic documents, and anyExtendedKeyUsage. TLS-only certificates (clientAuth,
/// serverAuth) are refused.
pub const SIGNING_PURPOSES: [ObjectIdentifier; 5] = [
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.36"),
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4"),
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.10.3.12"),
    ObjectIdentifier::new_unwrap("1.2.840.113583.1.1.5"),
    ObjectIdentifier::new_unwrap("2.5.29.37.0"),
];

/// One parsed certificate, with its DER kept exactly as received (it is what `x5c` carries and
/// what `x5t#S256` hashes).
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    cert: x509_cert::Certificate,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate").field("subject", &self.subject()).field("x5t#S256", &self.thumbprint_s256()).finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Parses one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Certificate> {
        if der.len() > MAX_CERT_BYTES {
            return Err(err!(MEDSEAL_CERT_INVALID, "a certificate of {} bytes is over the {MAX_CERT_BYTES}-byte limit", der.len()));
        }
        let cert =
            x509_cert::Certificate::from_der(der).map_err(|e| err!(MEDSEAL_CERT_INVALID, "the certificate is not valid DER X.509: {e}"))?;
        Ok(Certificate { der: der.to_vec(), cert })
    }

    /// Reads a chain: PEM with one or more `CERTIFICATE` blocks (leaf first), or one DER
    /// certificate.
    pub fn read_chain(bytes: &[u8]) -> Result<Vec<Certificate>> {
        // PEM bundles written by openssl carry `subject=`/`issuer=` lines before each block:
        // text outside the blocks is ignored, as RFC 7468 allows.
        let pem_start = bytes.windows(10).position(|w| w == b"-----BEGIN");
        let chain = if let Some(start) = pem_start {
            let parsed = x509_cert::Certificate::load_pem_chain(&bytes[start..])
                .map_err(|e| err!(MEDSEAL_CERT_INVALID, "the PEM holds no valid certificate chain: {e}"))?;
            parsed
                .into_iter()
                .map(|cert| {
                    let der = cert.to_der().map_err(|e| err!(MEDSEAL_CERT_INVALID, "a certificate cannot be re-encoded: {e}"))?;
                    Certificate::from_der(&der)
                })
                .collect::<Result<Vec<_>>>()?
        } else {
            vec![Certificate::from_der(bytes)?]
        };
        if chain.is_empty() {
            return Err(err!(MEDSEAL_CERT_INVALID, "no certificate found"));
        }
        if chain.len() > MAX_CHAIN_LEN {
            return Err(err!(MEDSEAL_CERT_INVALID, "a chain of {} certificates is over the limit of {MAX_CHAIN_LEN}", chain.len()));
        }
        Ok(chain)
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The parsed certificate (for the path validator).
    pub(crate) fn inner(&self) -> &x509_cert::Certificate {
        &self.cert
    }

    /// The TBSCertificate exactly as received: the bytes the issuer signed. Sliced from the DER
    /// rather than re-encoded, so a verifier checks what was signed, not our re-encoding of it.
    pub(crate) fn tbs_der(&self) -> Result<&[u8]> {
        let malformed = |e: x509_cert::der::Error| err!(MEDSEAL_CERT_INVALID, "the certificate's TBSCertificate cannot be located: {e}");
        let mut reader = SliceReader::new(&self.der).map_err(malformed)?;
        Header::decode(&mut reader).map_err(malformed)?;
        reader.tlv_bytes().map_err(malformed)
    }

    /// `x5t#S256`: base64url SHA-256 of the DER, which is also the key id medseal uses for
    /// certificates (DESIGN 3.2).
    pub fn thumbprint_s256(&self) -> String {
        b64::encode(digest::digest(&digest::SHA256, &self.der).as_ref())
    }

    /// The subject as an RFC 4514 string.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    /// The issuer as an RFC 4514 string.
    pub fn issuer(&self) -> String {
        self.cert.tbs_certificate.issuer.to_string()
    }

    /// Start of the validity window, Unix seconds.
    pub fn not_before(&self) -> i64 {
        self.cert.tbs_certificate.validity.not_before.to_unix_duration().as_secs() as i64
    }

    /// End of the validity window (inclusive), Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.cert.tbs_certificate.validity.not_after.to_unix_duration().as_secs() as i64
    }

    /// Whether `time` (Unix seconds) lies inside the validity window.
    pub fn valid_at(&self, time: i64) -> bool {
        self.not_before() <= time && time <= self.not_after()
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Result<Vec<u8>> {
        self.cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| err!(MEDSEAL_CERT_INVALID, "the certificate's public key cannot be encoded: {e}"))
    }

    /// The subject's public key, bound to `alg`. For RSA keys `alg` chooses RS256 or PS256
    /// (a certificate does not say); any other mismatch is `MEDSEAL_JWS_ALG_MISMATCH`.
    pub fn public_key(&self, alg: Algorithm) -> Result<Key> {
        let spki = self.spki_der()?;
        let natural = Key::import(&spki, None).map_err(|e| err!(MEDSEAL_CERT_INVALID, "the certificate's public key: {}", e.message()))?;
        if natural.algorithm() == alg {
            return Ok(natural);
        }
        if natural.algorithm().is_rsa() && alg.is_rsa() {
            return Key::import(&spki, Some(alg));
        }
        Err(err!(MEDSEAL_JWS_ALG_MISMATCH, "the certificate holds a key for {}, not {alg}", natural.algorithm()))
    }

    /// Whether the certificate's subject key is `key`'s public key (any RSA scheme).
    pub fn holds_key(&self, key: &Key) -> bool {
        self.public_key(key.algorithm()).is_ok_and(|k| k.kid() == key.kid())
    }

    /// The key usage extension, if present.
    pub(crate) fn key_usage(&self) -> Result<Option<KeyUsage>> {
        let found = self.cert.tbs_certificate.get::<KeyUsage>().map_err(|e| err!(MEDSEAL_CERT_INVALID, "bad key usage extension: {e}"))?;
        Ok(found.map(|(_, ku)| ku))
    }

    /// The basic constraints extension, if present.
    pub(crate) fn basic_constraints(&self) -> Result<Option<BasicConstraints>> {
        let found =
            self.cert.tbs_certificate.get::<BasicConstraints>().map_err(|e| err!(MEDSEAL_CERT_INVALID, "bad basic constraints: {e}"))?;
        Ok(found.map(|(_, bc)| bc))
    }

    /// Checks that this certificate may sign records: key usage present with
    /// digitalSignature or nonRepudiation (contentCommitment), and an extended key usage that
    /// is absent or names a document-signing purpose ([`SIGNING_PURPOSES`]): a TLS client or
    /// server certificate (clientAuth/serverAuth only) signs sessions, not health records.
    pub fn check_signer_usage(&self) -> Result<()> {
        let allowed = match self.key_usage()? {
            Some(ku) => ku.0.contains(KeyUsages::DigitalSignature) || ku.0.contains(KeyUsages::NonRepudiation),
            None => false,
        };
        if !allowed {
            return Err(err!(
                MEDSEAL_CERT_KEY_USAGE,
                "the signer certificate ({}) does not allow digitalSignature or nonRepudiation",
                self.subject()
            ));
        }
        let eku = self
            .cert
            .tbs_certificate
            .get::<ExtendedKeyUsage>()
            .map_err(|e| err!(MEDSEAL_CERT_INVALID, "bad extended key usage extension: {e}"))?;
        if let Some((_, eku)) = eku {
            if !eku.0.iter().any(|purpose| SIGNING_PURPOSES.contains(purpose)) {
                let names: Vec<String> = eku.0.iter().map(|p| DB.by_oid(p).map_or_else(|| p.to_string(), str::to_owned)).collect();
                return Err(err!(
                    MEDSEAL_CERT_KEY_USAGE,
                    "the signer certificate ({}) is for {} only (extended key usage), not for signing documents",
                    self.subject(),
                    names.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// Checks that `time` lies in the signer certificate's window.
    pub fn check_signing_time(&self, time: i64, shown: &str) -> Result<()> {
        if !self.valid_at(time) {
            return Err(err!(
                MEDSEAL_SIGNED_OUTSIDE_VALIDITY,
                "sigT {shown} is outside the signer certificate's validity ({} to {})",
                crate::utc::show(self.not_before()),
                crate::utc::show(self.not_after())
            ));
        }
        Ok(())
    }
}
