//! Verification: parse the JWS, check the header, pick keys by kid, verify with the key's own
//! algorithm.

use std::sync::Arc;

use super::header;
use crate::b64;
use crate::canon::{self, CanonOptions, Value};
use crate::error::{err, Error, Result, ResultCode};
use crate::keys::{Algorithm, Key};
use crate::limits;
use crate::trust::{Role, TrustList};
use crate::x509::{self, Certificate, TrustAnchors};
use zeroize::Zeroizing;

/// The payload of a detached JWS, supplied by the caller.
#[derive(Clone, Copy, Debug)]
pub enum DetachedPayload<'a> {
    /// The JWS carries its payload.
    None,
    /// The exact signed bytes.
    Bytes(&'a [u8]),
    /// A JSON document that medseal canonicalizes (with these options) to get the signed bytes.
    Document(&'a [u8], &'a CanonOptions),
}

/// A successfully verified JWS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The signed bytes (for medseal records: canonical JSON).
    pub payload: Vec<u8>,
    /// The algorithm, as bound to the key that verified.
    pub algorithm: Algorithm,
    /// The RFC 7638 thumbprint of the key that verified.
    pub key_id: String,
    /// The `kid` header, if any.
    pub header_kid: Option<String>,
    /// The JAdES `sigT`, if any.
    pub signing_time: Option<String>,
    /// The `typ` header, if any.
    pub typ: Option<String>,
    /// The protected header as canonical JSON.
    pub protected_header: Vec<u8>,
    /// How the signer was trusted, and who it is.
    pub trusted_by: TrustedBy,
}

/// What made the signing key trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustedBy {
    /// One of the verifier's configured keys.
    Key,
    /// An `x5c` chain that validated to a trust anchor at `sigT`.
    Certificate {
        /// The signer certificate's `x5t#S256` (its key id).
        thumbprint: String,
        /// The signer certificate's subject (RFC 4514).
        subject: String,
        /// The anchor's subject.
        anchor: String,
    },
    /// A trust-list entry whose window contains `sigT`.
    TrustList {
        /// The facility the entry belongs to.
        facility: String,
    },
}

/// Verifies JWS against configured keys, certificate trust anchors and/or a trust list.
/// Immutable and shareable.
#[derive(Debug, Clone, Default)]
pub struct Verifier {
    keys: Vec<Arc<Key>>,
    anchors: Option<Arc<TrustAnchors>>,
    trust_list: Option<Arc<TrustList>>,
}

/// The three parts of a JWS, still base64url.
struct Parts<'a> {
    protected: &'a [u8],
    payload: Option<&'a [u8]>,
    signature: &'a [u8],
}

impl Verifier {
    /// A verifier trusting `keys` (private keys are used only for their public half).
    pub fn new(keys: Vec<Arc<Key>>) -> Verifier {
        Verifier { keys, anchors: None, trust_list: None }
    }

    /// Also trusts signers whose `x5c` chain validates to one of `anchors` at the signature's
    /// `sigT`. A JWS that carries `x5c` is then judged by its chain; when the verifier also
    /// has a trust list, the chain's key must ALSO be a record-signing key of that list at
    /// `sigT` (the list decides who signs; a key it dropped is not let back in by a
    /// certificate).
    pub fn with_trust_anchors(mut self, anchors: Arc<TrustAnchors>) -> Verifier {
        self.anchors = Some(anchors);
        self
    }

    /// Also trusts the record-signing keys of a (verified, fresh) trust list, each within its
    /// validity window at the signature's `sigT`.
    pub fn with_trust_list(mut self, list: Arc<TrustList>) -> Verifier {
        self.trust_list = Some(list);
        self
    }

    /// The trusted keys.
    pub fn keys(&self) -> &[Arc<Key>] {
        &self.keys
    }

    /// The trust anchors, if any.
    pub fn trust_anchors(&self) -> Option<&TrustAnchors> {
        self.anchors.as_deref()
    }

    /// The trust list, if any.
    pub fn trust_list(&self) -> Option<&TrustList> {
        self.trust_list.as_deref()
    }

    /// Verifies a compact or JSON (flattened, or general with one signature) JWS.
    pub fn verify(&self, jws: &[u8], detached: DetachedPayload<'_>) -> Result<Verified> {
        if self.keys.is_empty() && self.anchors.is_none() && self.trust_list.is_none() {
            return Err(err!(MEDSEAL_JWS_NO_KEYS, "the verifier holds no keys, trust anchors or trust list"));
        }
        let mut json_form = None;
        let parts = split(jws, &mut json_form)?;
        let (header, signature) = read_header_and_signature(&parts)?;

        // The record and its base64url copies are wiped on every path but the successful one,
        // which hands the payload to the caller.
        let (mut payload, payload_b64): (Zeroizing<Vec<u8>>, Zeroizing<Vec<u8>>) = match (parts.payload, detached) {
            (Some(_), DetachedPayload::Bytes(_) | DetachedPayload::Document(..)) => {
                return Err(err!(MEDSEAL_JWS_PAYLOAD_MISSING, "the JWS carries its payload; pass no detached payload"))
            }
            (Some(p), DetachedPayload::None) => (
                Zeroizing::new(b64::decode(p).ok_or_else(|| err!(MEDSEAL_JWS_BASE64, "the payload is not strict base64url"))?),
                Zeroizing::new(p.to_vec()),
            ),
            (None, DetachedPayload::None) => return Err(err!(MEDSEAL_JWS_PAYLOAD_MISSING, "the JWS is detached; supply the payload")),
            (None, DetachedPayload::Bytes(bytes)) => (Zeroizing::new(bytes.to_vec()), Zeroizing::new(b64::encode(bytes).into_bytes())),
            (None, DetachedPayload::Document(doc, options)) => {
                let canonical = Zeroizing::new(canon::canonicalize(doc, options)?);
                let encoded = Zeroizing::new(b64::encode(&canonical).into_bytes());
                (canonical, encoded)
            }
        };
        let mut signing_input = Zeroizing::new(Vec::with_capacity(parts.protected.len() + 1 + payload_b64.len()));
        signing_input.extend_from_slice(parts.protected);
        signing_input.push(b'.');
        signing_input.extend_from_slice(&payload_b64);

        let (key, trusted_by) = self.find_key(&header, &signing_input, &signature)?;
        Ok(Verified {
            payload: std::mem::take(&mut *payload),
            algorithm: key.algorithm(),
            key_id: key.kid().to_owned(),
            trusted_by,
            header_kid: header.kid,
            signing_time: header.sig_time,
            typ: header.typ,
            protected_header: header.json,
        })
    }

    /// Finds the key that made the signature and why it is trusted: the `x5c` chain when the
    /// JWS carries one and anchors are configured; otherwise trust-list entries for the kid
    /// (their window must contain `sigT`), then configured keys.
    fn find_key(&self, header: &header::Parsed, input: &[u8], signature: &[u8]) -> Result<(Arc<Key>, TrustedBy)> {
        if let (Some(x5c), Some(anchors)) = (&header.x5c, &self.anchors) {
            let (key, trusted_by) = certificate_key(header, x5c, anchors, input, signature)?;
            if let Some(list) = &self.trust_list {
                // With both, the list decides who may sign and the chain only proves the
                // certificate: a key the list dropped is never let in by its certificate.
                let at = header.sig_time_unix("checking the trust list")?;
                let listed = list.entries().iter().any(|e| e.role == Role::RecordSigning && e.key.kid() == key.kid() && e.valid_at(at));
                if !listed {
                    return Err(err!(
                        MEDSEAL_TRUST_UNKNOWN_SIGNER,
                        "the certificate chain is valid, but its key is not a record-signing key of the trust list at sigT (with a trust list, only listed keys sign)"
                    ));
                }
            }
            return Ok((key, trusted_by));
        }
        let mut outside_window = None;
        if let Some(list) = &self.trust_list {
            let candidates = list.candidates(Role::RecordSigning, header.kid.as_deref());
            if !candidates.is_empty() {
                let at = header.sig_time_unix("checking a trust-list key's validity window")?;
                let mut alg_fits = false;
                for entry in candidates {
                    if entry.alg != header.alg {
                        continue;
                    }
                    alg_fits = true;
                    if !entry.key.verify(input, signature) {
                        continue;
                    }
                    if entry.valid_at(at) {
                        return Ok((entry.key.clone(), TrustedBy::TrustList { facility: entry.facility.clone() }));
                    }
                    outside_window = Some(err!(
                        MEDSEAL_SIGNED_OUTSIDE_VALIDITY,
                        "the signature verifies with {}'s key {}, but sigT {} is outside its window ({} to {})",
                        entry.facility,
                        entry.kid,
                        header.sig_time.as_deref().unwrap_or("?"),
                        crate::utc::show(entry.not_before),
                        crate::utc::show(entry.not_after)
                    ));
                }
                if !alg_fits && self.keys.is_empty() {
                    return Err(err!(
                        MEDSEAL_JWS_ALG_MISMATCH,
                        "the header says {} but the trust list binds kid {} to another algorithm",
                        header.alg,
                        header.kid.as_deref().unwrap_or("")
                    ));
                }
            } else if self.keys.is_empty() {
                return Err(err!(
                    MEDSEAL_TRUST_UNKNOWN_SIGNER,
                    "the trust list has no record-signing key with kid {}",
                    header
                        .kid
                        .as_deref()
                        .map_or("(none: the header has no kid)".to_owned(), |k| format!("\"{}\"", crate::untrusted::shown(k)))
                ));
            }
        }
        if self.keys.is_empty() && self.trust_list.is_none() {
            // Only anchors are configured, and the JWS names no certificate.
            return Err(err!(
                MEDSEAL_CERT_UNKNOWN_ISSUER,
                "the JWS carries no x5c certificate chain, and this verifier trusts only certificate anchors"
            ));
        }
        if self.keys.is_empty() {
            return Err(outside_window.unwrap_or_else(|| {
                err!(
                    MEDSEAL_JWS_SIGNATURE_INVALID,
                    "the signature does not verify with any trust-list key for kid {}",
                    header.kid.as_deref().map(crate::untrusted::shown).unwrap_or_default()
                )
            }));
        }
        match self.configured_key(header, input, signature) {
            Ok(key) => Ok((key.clone(), TrustedBy::Key)),
            Err(e) => Err(outside_window.unwrap_or(e)),
        }
    }

    /// Tries the keys whose kid matches first, then the rest (a kid is only a hint); only keys
    /// whose own algorithm is the header's are tried at all.
    fn configured_key(&self, header: &header::Parsed, input: &[u8], signature: &[u8]) -> Result<&Arc<Key>> {
        let matches_kid = |k: &&Arc<Key>| header.kid.as_deref() == Some(k.kid());
        let ordered = self.keys.iter().filter(matches_kid).chain(self.keys.iter().filter(|k| !matches_kid(k)));
        let mut tried = 0;
        for key in ordered {
            if key.algorithm() != header.alg {
                continue;
            }
            tried += 1;
            if key.verify(input, signature) {
                return Ok(key);
            }
        }
        if tried == 0 {
            let held: Vec<&str> = self.keys.iter().map(|k| k.algorithm().jws_name()).collect();
            return Err(err!(
                MEDSEAL_JWS_ALG_MISMATCH,
                "the header says {} but no trusted key is bound to it (keys: {})",
                header.alg,
                held.join(", ")
            ));
        }
        Err(Error::new(
            ResultCode::MEDSEAL_JWS_SIGNATURE_INVALID,
            format!("the signature does not verify with any of {tried} candidate key(s)"),
        ))
    }
}

/// Validates the `x5c` chain at `sigT` and verifies with the leaf's key. The header's `alg`
/// must fit the leaf's key type (RSA keys may sign RS256 or PS256: a certificate does not say).
fn certificate_key(
    header: &header::Parsed,
    x5c: &[Vec<u8>],
    anchors: &TrustAnchors,
    input: &[u8],
    signature: &[u8],
) -> Result<(Arc<Key>, TrustedBy)> {
    let at = header.sig_time_unix("validating the x5c certificate chain")?;
    let chain = x5c.iter().map(|der| Certificate::from_der(der)).collect::<Result<Vec<_>>>()?;
    if let Some(x5t) = &header.x5t_s256 {
        // A hash of a public certificate: nothing secret to time.
        if *x5t != chain[0].thumbprint_s256() {
            return Err(err!(MEDSEAL_CERT_CHAIN_BROKEN, "\"x5t#S256\" does not match the first x5c certificate"));
        }
    }
    let validated = x509::validate(&chain, anchors, at)?;
    let key = chain[0].public_key(header.alg)?;
    if !key.verify(input, signature) {
        return Err(err!(MEDSEAL_JWS_SIGNATURE_INVALID, "the signature does not verify with the key of {}", chain[0].subject()));
    }
    Ok((
        Arc::new(key),
        TrustedBy::Certificate {
            thumbprint: validated.leaf.thumbprint_s256(),
            subject: validated.leaf.subject(),
            anchor: validated.anchor.subject(),
        },
    ))
}

/// What [`inspect`] reads of a JWS without verifying it.
pub(crate) struct Inspected {
    /// The protected header, with its own checks passed.
    pub header: header::Parsed,
    /// Whether the JWS carries its payload (not detached).
    pub attached: bool,
}

/// Reads `jws` as [`Verifier::verify`] does before it looks for a key: the size limit, the
/// serialization (compact; JSON flattened, or general with one signature; no unprotected
/// header), strict base64url of the header, payload and signature (a non-empty one), and the
/// protected header's own checks (`alg`, `crit`, `b64`, the form of `sigT` and `x5c`). The
/// signature is NOT verified: this is for callers holding no key. The payload is checked
/// without being decoded (it is a record: no copy of it is left behind).
pub(crate) fn inspect(jws: &[u8]) -> Result<Inspected> {
    let mut json_form = None;
    let parts = split(jws, &mut json_form)?;
    let (header, _) = read_header_and_signature(&parts)?;
    if let Some(payload) = parts.payload {
        if !b64::is_strict(payload) {
            return Err(err!(MEDSEAL_JWS_BASE64, "the payload is not strict base64url"));
        }
    }
    Ok(Inspected { header, attached: parts.payload.is_some() })
}

/// The size limit and the serialization: the parts of `jws`, compact or JSON (the parsed JSON
/// is kept in `json_form`, which the parts borrow).
fn split<'v>(jws: &'v [u8], json_form: &'v mut Option<Value<'v>>) -> Result<Parts<'v>> {
    let trimmed = trim(jws);
    // What a signer may write (limits::MAX_JWS_BYTES) is read; more is refused unread.
    if trimmed.len() > limits::MAX_JWS_BYTES {
        return Err(err!(
            MEDSEAL_JWS_MALFORMED,
            "the JWS is {} bytes; medseal reads JWS of at most {} bytes (64 MiB)",
            trimmed.len(),
            limits::MAX_JWS_BYTES
        ));
    }
    if trimmed.starts_with(b"{") {
        let parsed = canon::parse(trimmed, &CanonOptions { max_bytes: limits::MAX_JWS_BYTES, ..CanonOptions::plain() })
            .map_err(|e| err!(MEDSEAL_JWS_MALFORMED, "the JWS JSON is invalid: {}", e.message()))?;
        json_parts(json_form.insert(parsed))
    } else {
        compact_parts(trimmed)
    }
}

/// The protected header, decoded and checked, and the decoded signature.
fn read_header_and_signature(parts: &Parts<'_>) -> Result<(header::Parsed, Vec<u8>)> {
    let header_json =
        b64::decode(parts.protected).ok_or_else(|| err!(MEDSEAL_JWS_BASE64, "the protected header is not strict base64url"))?;
    let header = header::parse(&header_json)?;
    // Checked only now, after the header: an unsecured JWS (RFC 7515 A.5) has an empty
    // signature, and it must be reported as `alg` "none" (ALG_FORBIDDEN), not as malformed.
    if parts.signature.is_empty() {
        return Err(err!(MEDSEAL_JWS_MALFORMED, "the JWS has an empty signature"));
    }
    let signature = b64::decode(parts.signature).ok_or_else(|| err!(MEDSEAL_JWS_BASE64, "the signature is not strict base64url"))?;
    Ok((header, signature))
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |p| p + 1);
    &bytes[start..end]
}

fn compact_parts(jws: &[u8]) -> Result<Parts<'_>> {
    let pieces: Vec<&[u8]> = jws.split(|&b| b == b'.').collect();
    let [protected, payload, signature] = pieces[..] else {
        return Err(err!(MEDSEAL_JWS_MALFORMED, "a compact JWS has exactly three dot-separated parts, found {}", pieces.len()));
    };
    non_empty_header(Parts { protected, payload: (!payload.is_empty()).then_some(payload), signature })
}

fn json_parts<'v>(json: &'v Value<'_>) -> Result<Parts<'v>> {
    if !matches!(json, Value::Object(_)) {
        return Err(err!(MEDSEAL_JWS_MALFORMED, "a JSON JWS is an object"));
    }
    let signed = match json.get("signatures") {
        None => json,
        Some(Value::Array(list)) if list.len() == 1 => &list[0],
        Some(Value::Array(list)) if list.is_empty() => return Err(err!(MEDSEAL_JWS_MALFORMED, "\"signatures\" is empty")),
        Some(Value::Array(list)) => {
            return Err(err!(MEDSEAL_UNSUPPORTED, "a JWS with {} signatures is not supported; medseal records carry one", list.len()))
        }
        Some(_) => return Err(err!(MEDSEAL_JWS_MALFORMED, "\"signatures\" must be an array")),
    };
    if signed.get("header").is_some() {
        return Err(err!(MEDSEAL_JWS_HEADER, "unprotected header parameters are not accepted; everything must be signed"));
    }
    non_empty_header(Parts {
        protected: field(signed, "protected", true)?.expect("required"),
        payload: field(json, "payload", false)?,
        signature: field(signed, "signature", true)?.expect("required"),
    })
}

/// Both serializations refuse an empty header the same way. (An empty signature is refused
/// by `verify` once the header is checked, so that `alg: none` is named as such.)
fn non_empty_header(parts: Parts<'_>) -> Result<Parts<'_>> {
    if parts.protected.is_empty() {
        return Err(err!(MEDSEAL_JWS_MALFORMED, "the JWS has an empty protected header"));
    }
    Ok(parts)
}

fn field<'v>(v: &'v Value<'_>, name: &str, required: bool) -> Result<Option<&'v [u8]>> {
    match v.get(name) {
        Some(Value::String(s)) => Ok(Some(s.as_bytes())),
        Some(_) => Err(err!(MEDSEAL_JWS_MALFORMED, "JWS member \"{name}\" must be a string")),
        None if required => Err(err!(MEDSEAL_JWS_MALFORMED, "the JWS has no \"{name}\" member")),
        None => Ok(None),
    }
}
