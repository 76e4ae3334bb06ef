//! Certification path validation at a given time (the signature's `sigT`).
//! INTERIM STUB: being written (issue 4); every validation fails with MEDSEAL_UNSUPPORTED.

use super::Certificate;
use crate::error::{err, Result};

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
pub fn validate(chain: &[Certificate], anchors: &TrustAnchors, at: i64) -> Result<ValidatedChain> {
    let _ = (chain, anchors, at);
    Err(err!(MEDSEAL_UNSUPPORTED, "certificate path validation is not written yet"))
}
