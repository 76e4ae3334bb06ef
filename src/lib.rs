//! medseal: seal health records so that any system can check them, years later.
//!
//! Capabilities, one module each: [`canon`] (RFC 8785 canonical JSON, strict and FHIR-aware),
//! [`keys`] (generation, import, export, key ids), [`jws`] (JWS/JAdES signing and verification),
//! [`seal`] (HPKE envelopes to the hub and other recipients), [`record`] (what a signed record
//! is: content types, `typ`/`sigT`, id rules, sign-then-seal and open-then-verify),
//! [`signers`] (software keys, PKCS#11 tokens, host callbacks), [`x509`] (certificate chains
//! checked at `sigT`), [`trust`] (signed trust lists), [`outbox`], [`transport`], [`ledger`] and
//! [`ffi`] (the stable C ABI). Shared by all: [`error`] (result codes), [`utc`] (the clock and
//! RFC 3339 times) and [`untrusted`] (foreign text made safe for messages).
//! See docs/ARCHITECTURE.md for the map.

mod b64;
pub mod canon;
pub mod error;
pub mod ffi;
pub mod jws;
pub mod keys;
pub mod ledger;
pub mod limits;
pub mod outbox;
pub mod record;
pub mod seal;
pub mod signers;
pub mod transport;
pub mod trust;
pub mod untrusted;
pub mod utc;
pub mod x509;

/// Wire types generated from `proto/medseal/v1/*.proto` (sealed envelopes, submission).
#[allow(missing_docs, clippy::all)]
pub mod wire {
    include!(concat!(env!("OUT_DIR"), "/medseal.v1.rs"));
}

pub use canon::{canonicalize, CanonOptions, FhirVariant, NfcPolicy};
pub use error::{Error, Result, ResultCode};
pub use jws::{Clock, DetachedPayload, Serialization, SignOptions, Signer, Verified, Verifier};
pub use keys::{Algorithm, Key, KeyFormat};
pub use seal::{Aead, Envelope, Meta, RecipientKey};
