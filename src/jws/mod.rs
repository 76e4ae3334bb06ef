//! JWS (RFC 7515) with a JAdES-B-B protected header: signing canonical records and verifying
//! them with the algorithm bound to the key.
//!
//! Serializations: JSON flattened (default), compact, and detached (RFC 7515 appendix F; the
//! compact detached form is what FHIR `Signature.data` carries, base64-encoded).

mod header;
mod sign;
mod verify;

pub use header::CRIT_UNDERSTOOD;
pub use sign::{check_commitment, Clock, SignOptions, Signer, DEFAULT_TYP};
pub(crate) use verify::inspect;
pub use verify::{DetachedPayload, TrustedBy, Verified, Verifier};

/// How a signed record is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serialization {
    /// `{"payload":…,"protected":…,"signature":…}` (RFC 7515 §7.2.2).
    Flattened,
    /// `header.payload.signature` (RFC 7515 §7.1).
    Compact,
    /// `header..signature`: the payload travels separately (FHIR `Signature.data`).
    DetachedCompact,
    /// `{"protected":…,"signature":…}` without `payload`.
    DetachedFlattened,
}

impl Serialization {
    /// Every serialization.
    pub const ALL: [Serialization; 4] =
        [Serialization::Flattened, Serialization::Compact, Serialization::DetachedCompact, Serialization::DetachedFlattened];

    /// Whether the payload is left out.
    pub fn is_detached(self) -> bool {
        matches!(self, Serialization::DetachedCompact | Serialization::DetachedFlattened)
    }
}
