//! Sealed envelopes: HPKE (RFC 9180) encryption of signed records to the hub and other
//! recipients, with routing metadata in clear but bound to the ciphertext.
//!
//! `hpke` the RFC 9180 primitive, `recipient` X25519 recipient keys, `envelope` the envelope
//! and its protobuf/JSON encodings (`wire` is generated from proto/medseal/v1). Sealing a
//! signed record (sign then seal) and opening one (open then verify) are the rules of a signed
//! record: [`crate::record`].

mod envelope;
pub mod hpke;
mod recipient;

/// The wire types (generated from `proto/medseal/v1/`), also reachable as `medseal::wire`.
pub use crate::wire;

pub use envelope::{EncodedEnvelope, Envelope, Meta, Recipient, INFO_PREFIX, MAX_ENVELOPE_BYTES, MAX_RECIPIENTS};
pub use hpke::Aead;
pub use recipient::RecipientKey;
