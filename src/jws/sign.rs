//! Signing: canonicalize the record, build the JAdES header, sign, serialize.

use std::sync::Arc;

use super::header::{self, format_sig_time};
use super::Serialization;
use crate::b64;
use crate::canon::{self, CanonOptions, Value};
use crate::error::{err, Result};
use crate::keys::Key;

/// The `typ` of medseal records.
pub const DEFAULT_TYP: &str = "medseal+jws";

/// What goes into the protected header besides the algorithm, and how records are
/// canonicalized. `SignOptions::default()` is what medseal records use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignOptions {
    /// The `kid` header; `None` uses the key's RFC 7638 thumbprint.
    pub kid: Option<String>,
    /// The `typ` header; `None` leaves it out. Default `medseal+jws`.
    pub typ: Option<String>,
    /// JAdES `srCms` commitment type: an ASTM E1762 purpose OID such as
    /// `1.2.840.10065.1.12.1.1` (author's signature).
    pub commitment: Option<String>,
    /// A fixed signing time (Unix seconds) for reproducible output; `None` uses the clock.
    pub signing_time: Option<i64>,
    /// How documents are canonicalized before signing.
    pub canon: CanonOptions,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions { kid: None, typ: Some(DEFAULT_TYP.to_owned()), commitment: None, signing_time: None, canon: CanonOptions::default() }
    }
}

/// Checks a JAdES commitment type: an OID in dotted form, at most 128 bytes.
pub fn check_commitment(oid: &str) -> Result<()> {
    let valid = !oid.is_empty() && oid.len() <= 128 && oid.split('.').all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
    if !valid {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "the commitment type must be an OID in dotted form (e.g. 1.2.840.10065.1.12.1.1)"));
    }
    Ok(())
}

/// Signs records with one key. Immutable and shareable between threads.
#[derive(Debug, Clone)]
pub struct Signer {
    key: Arc<Key>,
    options: SignOptions,
}

impl Signer {
    /// A signer for `key` (which must hold its private half) with `options`.
    pub fn new(key: Arc<Key>, options: SignOptions) -> Result<Signer> {
        if !key.has_private() {
            return Err(err!(MEDSEAL_KEY_NOT_PRIVATE, "a signer needs a private key; this key is public only"));
        }
        if let Some(kid) = &options.kid {
            if kid.is_empty() || kid.len() > 256 {
                return Err(err!(MEDSEAL_INVALID_ARGUMENT, "a kid has 1 to 256 bytes"));
            }
        }
        if let Some(oid) = &options.commitment {
            check_commitment(oid)?;
        }
        if let Some(t) = options.signing_time {
            format_sig_time(t)?;
        }
        Ok(Signer { key, options })
    }

    /// The signing key.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The options in force.
    pub fn options(&self) -> &SignOptions {
        &self.options
    }

    /// Canonicalizes `document` under the signer's canonicalization options and signs the
    /// canonical bytes.
    pub fn sign(&self, document: &[u8], serialization: Serialization) -> Result<String> {
        let canonical = zeroize::Zeroizing::new(canon::canonicalize(document, &self.options.canon)?);
        self.sign_payload(&canonical, serialization)
    }

    /// Signs `payload` as given. Use [`Signer::sign`] for records: a payload that is not
    /// canonical JSON will not survive a round trip through other systems.
    pub fn sign_payload(&self, payload: &[u8], serialization: Serialization) -> Result<String> {
        let sig_time = match self.options.signing_time {
            Some(t) => format_sig_time(t)?,
            None => header::sig_time_now(),
        };
        let kid = self.options.kid.as_deref().unwrap_or(self.key.kid());
        let protected =
            header::build(self.key.algorithm(), kid, self.options.typ.as_deref(), &sig_time, self.options.commitment.as_deref());
        // One buffer for the signing input; the compact forms are cut from it, never rebuilt.
        // Wiped on drop: it holds the record (base64url), and only the compact forms hand it on.
        let mut signing_input = zeroize::Zeroizing::new(b64::encode(&protected.to_canonical()));
        let header_len = signing_input.len();
        signing_input.push('.');
        b64::encode_into(payload, &mut signing_input);
        let signature = self.key.sign(signing_input.as_bytes())?;
        Ok(match serialization {
            Serialization::Compact => {
                signing_input.push('.');
                b64::encode_into(&signature, &mut signing_input);
                std::mem::take(&mut *signing_input)
            }
            Serialization::DetachedCompact => {
                // A fresh string: truncating would leave the payload in the spare capacity.
                format!("{}.{}", &signing_input[..=header_len], b64::encode(&signature))
            }
            Serialization::Flattened | Serialization::DetachedFlattened => {
                let (protected_b64, payload_b64) = (&signing_input[..header_len], &signing_input[header_len + 1..]);
                let mut members = vec![("protected", Value::string(protected_b64)), ("signature", Value::string(b64::encode(&signature)))];
                if serialization == Serialization::Flattened {
                    members.push(("payload", Value::string(payload_b64)));
                }
                String::from_utf8(Value::object(members).to_canonical()).expect("JSON of ASCII strings")
            }
        })
    }
}
