//! The hub's ledger (DESIGN 3.5, docs/SUBMISSION.md): an RFC 9162 Merkle tree of ledger
//! entries, signed tree heads, receipts, and the checks hospitals and auditors run on them.
//!
//! * [`MerkleTree`], [`leaf_hash`], [`node_hash`], [`verify_inclusion`],
//!   [`verify_consistency`]: RFC 9162 section 2.1, nothing more.
//! * [`LedgerEntry`]: what a leaf commits to (digests and metadata, never patient data), as
//!   canonical JSON.
//! * [`TreeHead`] (JWS `typ` [`TREE_HEAD_TYP`]) and [`Receipt`] (JWS `typ` [`RECEIPT_TYP`]):
//!   compact JWS over canonical JSON, each signed by its own hub key; one is never read as
//!   the other.
//! * [`verify_receipt`]: the full check of what the hub returned for one record;
//!   [`verify_receipts`] the same for a batch, each distinct signed tree head verified once.
//!
//! Reading is strict, as for trust lists: unknown members, non-canonical JSON, times not in
//! the `YYYY-MM-DDThh:mm:ssZ` form and proofs with a hash too many or too few are refused.

mod entry;
mod merkle;
mod proof;
mod receipt;
mod tree_head;

pub use entry::LedgerEntry;
pub use merkle::{
    consistency_proof_len, empty_root, inclusion_proof_len, leaf_hash, node_hash, verify_consistency, verify_inclusion, Hash, MerkleTree,
};
pub use proof::{
    consistency_proof_from_json, consistency_proof_to_json, consistency_proof_to_protobuf, decode_consistency_proof,
    decode_inclusion_proof, hashes, inclusion_proof_from_json, inclusion_proof_to_json, inclusion_proof_to_protobuf,
};
pub use receipt::{
    receipt_sign_options, verify_receipt, verify_receipt_and_tree_head, verify_receipt_for, verify_receipts, Receipt, ReceiptCheck,
    ReceiptSubject, RECEIPT_TYP, RECEIPT_TYPE,
};
pub use tree_head::{tree_head_sign_options, TreeHead, TREE_HEAD_TYP, TREE_HEAD_TYPE};

use crate::b64;
use crate::canon::{self, CanonOptions, Number, Value};
use crate::error::{Error, Result, ResultCode};
use crate::jws::{DetachedPayload, Signer, Verified, Verifier};
use crate::untrusted::shown;
use crate::utc;
use crate::Serialization;

/// Largest sequence number, ledger index or tree size: JSON numbers stay exact up to 2^53 − 1.
pub(crate) const MAX_NUMBER: u64 = (1 << 53) - 1;

/// Largest signed payload read: receipts and tree heads are a few hundred bytes.
const MAX_PAYLOAD_BYTES: usize = 16 << 10;

/// Reads a SHA-256 hash written as base64url without padding (43 characters), as digests and
/// roots appear in receipts, tree heads and entries (`MEDSEAL_INVALID_ARGUMENT` otherwise).
pub fn decode_hash(text: &str) -> Result<Hash> {
    b64::decode(text.trim().as_bytes()).and_then(|bytes| Hash::try_from(bytes.as_slice()).ok()).ok_or_else(|| {
        Error::new(ResultCode::MEDSEAL_INVALID_ARGUMENT, "a SHA-256 hash is 32 bytes in base64url without padding (43 characters)")
    })
}

/// Writes a hash as base64url without padding, as receipts, tree heads and entries do.
pub fn encode_hash(hash: &Hash) -> String {
    b64::encode(hash)
}

/// A number the format can carry exactly, at least `min`.
pub(crate) fn check_number(code: ResultCode, what: &str, n: u64, min: u64) -> Result<()> {
    if !(min..=MAX_NUMBER).contains(&n) {
        return Err(Error::new(code, format!("{what} must be {min} to {MAX_NUMBER}, not {n}")));
    }
    Ok(())
}

/// A time the format can write: RFC 3339 with a four-digit year.
fn check_time(code: ResultCode, what: &str, t: i64) -> Result<()> {
    utc::format(t).map(drop).map_err(|_| Error::new(code, format!("{what} ({t}) is not a time between years 0000 and 9999")))
}

/// Unix seconds as written in payloads, or the bare number when out of range (which no reader
/// accepts; signing checks the time first).
fn time_value(t: i64) -> Value<'static> {
    Value::string(utc::format(t).unwrap_or_else(|_| t.to_string()))
}

pub(crate) fn number_value(n: u64) -> Value<'static> {
    Number::new(n as f64).map_or(Value::Null, Value::Number)
}

/// A canonical-JSON object being read: `name` for messages, `code` for every error.
pub(crate) struct Fields<'v, 'a> {
    value: &'v Value<'a>,
    name: &'static str,
    code: ResultCode,
}

impl<'v, 'a> Fields<'v, 'a> {
    /// Checks that `value` is an object with exactly the `members` (all required).
    pub(crate) fn new(value: &'v Value<'a>, name: &'static str, code: ResultCode, members: &[&str]) -> Result<Self> {
        Self::with_optional(value, name, code, members, &[])
    }

    /// Checks that `value` is an object with all the `members` and nothing else but the
    /// `optional` ones.
    pub(crate) fn with_optional(
        value: &'v Value<'a>,
        name: &'static str,
        code: ResultCode,
        members: &[&str],
        optional: &[&str],
    ) -> Result<Self> {
        let Value::Object(present) = value else {
            return Err(Error::new(code, format!("{name} is not a JSON object")));
        };
        if let Some((key, _)) = present.iter().find(|(k, _)| !members.contains(&k.as_ref()) && !optional.contains(&k.as_ref())) {
            return Err(Error::new(code, format!("{name} has an unknown member \"{}\"", shown(key))));
        }
        if let Some(missing) = members.iter().find(|m| value.get(m).is_none()) {
            return Err(Error::new(code, format!("{name} lacks \"{missing}\"")));
        }
        Ok(Fields { value, name, code })
    }

    fn error(&self, member: &str, what: &str) -> Error {
        Error::new(self.code, format!("{}: \"{member}\" {what}", self.name))
    }

    pub(crate) fn text(&self, member: &str) -> Result<&'v str> {
        match self.value.get(member) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(self.error(member, "must be a string")),
        }
    }

    /// An optional member that is a string when present.
    pub(crate) fn optional_text(&self, member: &str) -> Result<Option<&'v str>> {
        match self.value.get(member) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            _ => Err(self.error(member, "must be a string")),
        }
    }

    /// A non-negative integer up to 2^53 − 1.
    pub(crate) fn integer(&self, member: &str) -> Result<u64> {
        match self.value.get(member) {
            Some(Value::Number(n)) if n.as_f64().fract() == 0.0 && (0.0..=MAX_NUMBER as f64).contains(&n.as_f64()) => Ok(n.as_f64() as u64),
            _ => Err(self.error(member, &format!("must be an integer from 0 to {MAX_NUMBER}"))),
        }
    }

    /// An RFC 3339 UTC time in exactly the form medseal writes.
    fn time(&self, member: &str) -> Result<i64> {
        let text = self.text(member)?;
        let t = utc::parse_exact(text).ok_or_else(|| self.error(member, "must be an RFC 3339 UTC time like 2026-01-31T00:00:00Z"))?;
        check_time(self.code, &format!("{}: \"{member}\"", self.name), t)?;
        Ok(t)
    }

    /// A SHA-256 hash in base64url.
    fn hash(&self, member: &str) -> Result<Hash> {
        let text = self.text(member)?;
        b64::decode(text.as_bytes())
            .and_then(|bytes| Hash::try_from(bytes.as_slice()).ok())
            .ok_or_else(|| self.error(member, "must be a 32-byte hash in base64url without padding"))
    }

    /// The fixed `type` member.
    pub(crate) fn check_type(&self, expected: &str) -> Result<()> {
        let found = self.text("type")?;
        if found != expected {
            return Err(self.error("type", &format!("is \"{}\", not \"{expected}\"", shown(found))));
        }
        Ok(())
    }
}

/// Parses a payload that must be canonical JSON (RFC 8785); [`check_canonical`] checks that
/// part once the members are known to be right, for the more useful message.
pub(crate) fn parse_payload<'a>(payload: &'a [u8], code: ResultCode, name: &str) -> Result<Value<'a>> {
    let options = CanonOptions {
        nfc: canon::NfcPolicy::Ignore,
        allow_lossy_numbers: false,
        max_depth: 4,
        max_bytes: MAX_PAYLOAD_BYTES,
        max_values: 64,
        ..CanonOptions::default()
    };
    canon::parse(payload, &options).map_err(|e| Error::new(code, format!("{name} is not valid JSON: {} [{}]", e.message(), e.code())))
}

/// A signed payload must be exactly the canonical JSON of what it says, so that one receipt
/// or tree head has exactly one signed form.
pub(crate) fn check_canonical(value: &Value, payload: &[u8], code: ResultCode, name: &str) -> Result<()> {
    if value.to_canonical() != payload {
        return Err(Error::new(code, format!("{name} is not canonical (RFC 8785) JSON")));
    }
    Ok(())
}

/// RFC 7515 4.1.9: `typ` compares case-insensitively, and `application/` may be left out.
fn typ_matches(typ: Option<&str>, expected: &str) -> bool {
    typ.is_some_and(|t| {
        let bare = t.get(..12).filter(|p| p.eq_ignore_ascii_case("application/")).map_or(t, |_| &t[12..]);
        bare.eq_ignore_ascii_case(expected)
    })
}

fn shown_typ(typ: Option<&str>) -> String {
    typ.map_or("none".to_owned(), |t| format!("\"{}\"", shown(t)))
}

/// Checks that a signer writes `typ` (receipts and tree heads are signed only as what they are).
fn check_signer_typ(signer: &Signer, typ: &str, what: &str, options: &str) -> Result<()> {
    let given = signer.options().typ.as_deref();
    if given != Some(typ) {
        return Err(Error::new(
            ResultCode::MEDSEAL_INVALID_ARGUMENT,
            format!("{what} is signed with typ \"{typ}\" (use medseal::ledger::{options}()), not {}", shown_typ(given)),
        ));
    }
    Ok(())
}

/// Signs a canonical payload as a compact JWS.
fn sign_compact(signer: &Signer, payload: &[u8]) -> Result<String> {
    signer.sign_payload(payload, Serialization::Compact)
}

/// Verifies a compact JWS with `typ` against `keys` (the `key_role` keys); every failure but
/// "no keys configured" becomes `code`, naming `what`.
fn verify_compact(jws: &[u8], keys: &Verifier, typ: &str, code: ResultCode, what: &str, key_role: &str) -> Result<Verified> {
    let trimmed = jws.trim_ascii();
    if trimmed.starts_with(b"{") {
        return Err(Error::new(code, format!("{what} must be a compact JWS (header.payload.signature), not JSON")));
    }
    let verified = keys.verify(trimmed, DetachedPayload::None).map_err(|e| {
        use ResultCode::*;
        match e.code() {
            MEDSEAL_JWS_NO_KEYS => e,
            MEDSEAL_JWS_SIGNATURE_INVALID | MEDSEAL_JWS_ALG_MISMATCH | MEDSEAL_JWS_ALG_FORBIDDEN | MEDSEAL_JWS_ALG_UNKNOWN => {
                Error::new(code, format!("{what} is not signed by a {key_role} key: {} [{}]", e.message(), e.code()))
            }
            _ => Error::new(code, format!("{what} is not a valid JWS: {} [{}]", e.message(), e.code())),
        }
    })?;
    if !typ_matches(verified.typ.as_deref(), typ) {
        return Err(Error::new(code, format!("the JWS has typ {}, not \"{typ}\": it is not {what}", shown_typ(verified.typ.as_deref()))));
    }
    Ok(verified)
}
