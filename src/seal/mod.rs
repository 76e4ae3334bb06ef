//! Sealed envelopes: HPKE (RFC 9180) encryption of signed records to the hub and other
//! recipients, with routing metadata in clear but bound to the ciphertext.
//!
//! `hpke` the RFC 9180 primitive, `recipient` X25519 recipient keys, `envelope` the envelope
//! and its protobuf/JSON encodings (`wire` is generated from proto/medseal/v1). The one-call
//! helpers below are what a hospital system uses: sign then seal, open then verify.

mod envelope;
pub mod hpke;
mod recipient;

/// The wire types (generated from `proto/medseal/v1/`), also reachable as `medseal::wire`.
pub use crate::wire;

pub use envelope::{Envelope, Meta, Recipient, INFO_PREFIX, MAX_ENVELOPE_BYTES, MAX_RECIPIENTS};
pub use hpke::Aead;
pub use recipient::RecipientKey;

use crate::error::{err, Result};
use crate::jws::{DetachedPayload, Serialization, Signer, Verified, Verifier};

/// The media type of a sealed signed record: a JSON-flattened JWS.
pub const SIGNED_RECORD_CONTENT_TYPE: &str = "application/jose+json";

/// Canonicalizes and signs `document` (JSON-flattened JWS), then seals the JWS to
/// `recipients`. Sign first, then seal: the signature still verifies after opening.
/// `meta.content_type` is set to `application/jose+json`.
pub fn seal_signed(signer: &Signer, document: &[u8], mut meta: Meta, recipients: &[&RecipientKey], aead: Aead) -> Result<Envelope> {
    let jws = signer.sign(document, Serialization::Flattened)?;
    meta.content_type = SIGNED_RECORD_CONTENT_TYPE.to_owned();
    Envelope::seal(jws.as_bytes(), meta, recipients, aead)
}

/// Opens `envelope` with `key` and verifies the signed record inside with `verifier`. The JWS
/// must be a medseal record (`typ` `medseal+jws`, with a `sigT`). Whether the record inside
/// belongs with the envelope's routing meta (its id, its source) is the host's check: the
/// record's own metadata is in its payload.
pub fn open_verified(envelope: &Envelope, key: &RecipientKey, verifier: &Verifier) -> Result<Verified> {
    if envelope.meta.content_type != SIGNED_RECORD_CONTENT_TYPE {
        return Err(err!(
            MEDSEAL_SEAL_META_INVALID,
            "the envelope holds {}, not a signed record ({SIGNED_RECORD_CONTENT_TYPE})",
            envelope.meta.content_type.chars().take(64).collect::<String>()
        ));
    }
    let jws = envelope.open(key)?;
    let verified = verifier.verify(&jws, DetachedPayload::None)?;
    // A sealed record is a medseal record: another JWS from a trusted key (a receipt, a trust
    // list) is not one, even if its signature is valid.
    if verified.typ.as_deref() != Some(crate::jws::DEFAULT_TYP) || verified.signing_time.is_none() {
        return Err(err!(
            MEDSEAL_JWS_HEADER,
            "the sealed JWS is not a medseal record (it needs \"typ\":\"{}\" and a \"sigT\")",
            crate::jws::DEFAULT_TYP
        ));
    }
    Ok(verified)
}
