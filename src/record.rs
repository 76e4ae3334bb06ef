//! What a signed record is (DESIGN 3.2 to 3.4), written once for the library, the outbox, the
//! C ABI, the CLI and the hub:
//!
//! * a JWS (RFC 7515) over the canonical record, with the JAdES-B-B header medseal writes:
//!   `typ` [`RECORD_TYP`] and a `sigT` ([`check_verified`]; [`check_unverified`] checks the
//!   same without a key, before the outbox seals a record);
//! * in an envelope it is labelled by its serialization: [`FLATTENED_CONTENT_TYPE`] for the JSON
//!   flattened form (what `medseal sign` and [`seal_signed`] write), [`COMPACT_CONTENT_TYPE`]
//!   for the compact form (RFC 7515 section 9.2.1); both are signed records ([`content_type_of`],
//!   [`check_content_type`]);
//! * its record id and its source facility are text of 1 to 256 bytes without control
//!   characters ([`check_id`]), as the envelope's meta, the outbox, the ledger and the hub
//!   require;
//! * sealing signs first, then seals ([`sign`], [`seal_signed`]); opening decrypts, verifies
//!   and checks that the JWS is a medseal record ([`open_verified`]). The hub opens every
//!   submitted record with [`open_verified_steps`], the same function, so what a hospital can
//!   open, the hub accepts, and the reverse;
//! * a withdrawal ([`Withdrawal`]) is the facility's signed tombstone for a sequence number it
//!   must abandon: a JWS with `typ` [`WITHDRAWAL_TYP`] and a `sigT`, by the same record-signing
//!   key, over the canonical `{"reason","record_id","sequence","source","type"}`. It is never a
//!   record ([`verify`] and [`check_verified`] refuse it); the hub opens submissions with
//!   [`open_submission_steps`], which accepts either and says which it was.

use zeroize::Zeroizing;

use crate::canon::Value;
use crate::error::{err, Error, Result, ResultCode};
use crate::jws::{DetachedPayload, Serialization, SignOptions, Signer, Verified, Verifier};
use crate::seal::{Aead, Envelope, Meta, RecipientKey};

/// The JWS `typ` of a medseal record. A receipt, a tree head or a trust list has its own, so a
/// valid signature on one of those is never taken for a record.
///
/// cbindgen:ignore
pub const RECORD_TYP: &str = "medseal+jws";

/// The media type of a signed record in JWS JSON flattened serialization (RFC 7515 section 9.2.2).
///
/// cbindgen:ignore
pub const FLATTENED_CONTENT_TYPE: &str = "application/jose+json";

/// The media type of a signed record in JWS compact serialization (RFC 7515 section 9.2.1).
///
/// cbindgen:ignore
pub const COMPACT_CONTENT_TYPE: &str = "application/jose";

/// Longest record id or source facility, in bytes.
///
/// cbindgen:ignore
pub const MAX_ID_BYTES: usize = 256;

/// The JWS `typ` of a withdrawal: a tombstone is never taken for a record, nor the reverse.
///
/// cbindgen:ignore
pub const WITHDRAWAL_TYP: &str = "medseal-withdrawal+jws";

/// The `type` member of a withdrawal's payload.
///
/// cbindgen:ignore
pub const WITHDRAWAL_TYPE: &str = "medseal-withdrawal";

/// Longest reason of a withdrawal, in bytes (it is in the ledger, which everyone keeps).
///
/// cbindgen:ignore
pub const MAX_REASON_BYTES: usize = 1024;

/// The content type that labels `jws` in an envelope: flattened when its first non-blank byte
/// is `{`, compact otherwise. (Whether it is a valid JWS is for the verifier to say.)
pub fn content_type_of(jws: &[u8]) -> &'static str {
    if jws.trim_ascii_start().starts_with(b"{") {
        FLATTENED_CONTENT_TYPE
    } else {
        COMPACT_CONTENT_TYPE
    }
}

/// The content type of a serialization that can be sealed as a record: flattened or compact.
/// A detached JWS is not a record on its own (its payload travels elsewhere):
/// `MEDSEAL_INVALID_ARGUMENT`.
pub fn content_type(serialization: Serialization) -> Result<&'static str> {
    match serialization {
        Serialization::Flattened => Ok(FLATTENED_CONTENT_TYPE),
        Serialization::Compact => Ok(COMPACT_CONTENT_TYPE),
        Serialization::DetachedCompact | Serialization::DetachedFlattened => {
            Err(err!(MEDSEAL_INVALID_ARGUMENT, "a detached JWS cannot be sealed as a record: its payload is not inside"))
        }
    }
}

/// Checks that an envelope's content type says it holds a signed record (either form), else
/// `MEDSEAL_SEAL_META_INVALID`.
pub fn check_content_type(content_type: &str) -> Result<()> {
    if content_type == FLATTENED_CONTENT_TYPE || content_type == COMPACT_CONTENT_TYPE {
        return Ok(());
    }
    Err(err!(
        MEDSEAL_SEAL_META_INVALID,
        "the envelope holds {}, not a signed record ({FLATTENED_CONTENT_TYPE} or {COMPACT_CONTENT_TYPE})",
        crate::untrusted::shown(content_type)
    ))
}

/// The rule for a record id or a source facility (`what` names it in the message): 1 to 256
/// bytes of text without control characters. Else an error with `code` (each caller's own:
/// `MEDSEAL_SEAL_META_INVALID` for envelope meta, `MEDSEAL_INVALID_ARGUMENT` for arguments,
/// `MEDSEAL_LEDGER_RECEIPT_INVALID` for a receipt read back).
pub fn check_id(what: &str, text: &str, code: ResultCode) -> Result<()> {
    check_text(what, text, MAX_ID_BYTES, code)
}

/// The rule for the reason of a withdrawal: 1 to [`MAX_REASON_BYTES`] bytes of text without
/// control characters (it is written into the ledger). Else an error with `code`.
pub fn check_reason(what: &str, text: &str, code: ResultCode) -> Result<()> {
    check_text(what, text, MAX_REASON_BYTES, code)
}

fn check_text(what: &str, text: &str, max: usize, code: ResultCode) -> Result<()> {
    if text.is_empty() || text.len() > max {
        return Err(Error::new(
            code,
            format!("{what} must be 1 to {max} bytes of text without control characters, not {} bytes", text.len()),
        ));
    }
    if let Some(at) = text.chars().position(char::is_control) {
        return Err(Error::new(
            code,
            format!(
                "{what} must be 1 to {max} bytes of text without control characters (character {} of {} is one)",
                at + 1,
                crate::untrusted::shown(text)
            ),
        ));
    }
    Ok(())
}

/// Checks that a verified JWS is a medseal record: `typ` [`RECORD_TYP`] and a `sigT`. Else
/// `MEDSEAL_JWS_HEADER`: another JWS from a trusted key (a receipt, a trust list) is not a
/// record, even with a valid signature.
/// Its payload must also be canonical JSON ([`check_canonical_payload`]).
pub fn check_verified(verified: &Verified) -> Result<()> {
    check_record_header(verified.typ.as_deref(), verified.signing_time.is_some())?;
    check_canonical_payload(&verified.payload)
}

/// Checks that a record's payload is canonical JSON: valid UTF-8, I-JSON (no duplicate keys,
/// no integer a double would change), byte-equal to its own RFC 8785 canonicalization. What
/// medseal signs always is; anything else could be read differently by different parsers
/// (`{"a":1,"a":2}`), so it is `MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL` however valid its signature.
pub fn check_canonical_payload(payload: &[u8]) -> Result<()> {
    let options = crate::canon::CanonOptions { allow_unsafe_integers: false, ..crate::canon::CanonOptions::plain() };
    // The canonical copy holds the record: wiped when dropped, like every record buffer.
    match crate::canon::canonicalize(payload, &options).map(Zeroizing::new) {
        Ok(canonical) if canonical.as_slice() == payload => Ok(()),
        Ok(_) => Err(err!(
            MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL,
            "the record's payload is JSON but not in its RFC 8785 canonical form (member order, spacing, escapes or number form differ)"
        )),
        Err(e) => Err(err!(MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL, "the record's payload is not canonical JSON: {}", e.message())),
    }
}

/// Verifies `jws` (attached payload) with `verifier` and checks that it is a medseal record
/// ([`check_verified`]): what "verify a record" means everywhere (`medseal verify`,
/// `medseal_verifier_verify_record`). [`Verifier::verify`] alone accepts any JWS, a receipt or
/// a trust list included.
pub fn verify(verifier: &Verifier, jws: &[u8]) -> Result<Verified> {
    let verified = verifier.verify(jws, DetachedPayload::None)?;
    check_verified(&verified)?;
    Ok(verified)
}

/// Checks, WITHOUT verifying the signature, that `jws` has the form of a signed record: a JWS
/// that [`Verifier::verify`] reads (flattened or compact, or general JSON with one signature;
/// strict base64url; a protected header that passes its checks) carrying its payload, whose
/// protected header has `typ` [`RECORD_TYP`] and a `sigT` (as [`check_verified`] requires).
/// The outbox checks this before sealing: it holds no verification key, so who signed, and
/// whether the signature is valid, is the hub's check (a record it refuses becomes a dead
/// letter). Errors: the JWS codes verification gives (`MEDSEAL_JWS_MALFORMED`,
/// `MEDSEAL_JWS_BASE64`, `MEDSEAL_JWS_HEADER`, `MEDSEAL_JWS_ALG_FORBIDDEN`, …),
/// `MEDSEAL_JWS_PAYLOAD_MISSING` for a detached JWS (its payload is not inside), and
/// `MEDSEAL_JWS_HEADER` for a JWS that is not a record.
pub fn check_unverified(jws: &[u8]) -> Result<()> {
    let inspected = crate::jws::inspect(jws)?;
    if !inspected.attached {
        return Err(err!(MEDSEAL_JWS_PAYLOAD_MISSING, "a detached JWS is not a signed record: its payload is not inside"));
    }
    check_record_header(inspected.header.typ.as_deref(), inspected.header.sig_time.is_some())
}

/// The `kid` a JWS's protected header names, read WITHOUT verifying: only to name who a
/// refused record claims to be from (a hub says "signed by another facility's key" with it),
/// never to trust anything.
pub fn claimed_kid(jws: &[u8]) -> Option<String> {
    crate::jws::inspect(jws).ok()?.header.kid
}

/// The header rule of a record, verified or not: `typ` [`RECORD_TYP`] and a `sigT`.
fn check_record_header(typ: Option<&str>, has_sig_time: bool) -> Result<()> {
    if typ == Some(RECORD_TYP) && has_sig_time {
        return Ok(());
    }
    Err(err!(
        MEDSEAL_JWS_HEADER,
        "the JWS is not a medseal record: it needs \"typ\":\"{RECORD_TYP}\" and a \"sigT\" (it has typ {} and {})",
        typ.map_or("none".to_owned(), |t| format!("\"{}\"", crate::untrusted::shown(t))),
        if has_sig_time { "a sigT" } else { "no sigT" }
    ))
}

/// Canonicalizes and signs `document` as a record (JWS JSON flattened, the form `medseal sign`
/// writes), and labels `meta` for it. The JWS holds the record: it is wiped when dropped.
pub fn sign(signer: &Signer, document: &[u8], mut meta: Meta) -> Result<(Zeroizing<String>, Meta)> {
    let jws = Zeroizing::new(signer.sign(document, Serialization::Flattened)?);
    meta.content_type = FLATTENED_CONTENT_TYPE.to_owned();
    Ok((jws, meta))
}

/// Signs then seals: [`sign`], then the JWS sealed to `recipients`. The signature still
/// verifies after opening.
pub fn seal_signed(signer: &Signer, document: &[u8], meta: Meta, recipients: &[&RecipientKey], aead: Aead) -> Result<Envelope> {
    let (jws, meta) = sign(signer, document, meta)?;
    Envelope::seal(jws.as_bytes(), meta, recipients, aead)
}

/// A withdrawal: the facility's signed statement that it abandons the record it numbered
/// `sequence` (DESIGN 3.5, docs/SUBMISSION.md "Withdrawals"). Sent to the hub in place of the
/// record, sealed with the same meta (record id, source, sequence), so the ledger records the
/// number as withdrawn, with the reason, instead of leaving a gap nobody can explain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Withdrawal {
    /// The facility (the envelope's `meta.source`).
    pub source: String,
    /// The record id that had the number (the envelope's `meta.record_id`).
    pub record_id: String,
    /// The number withdrawn (the envelope's `meta.sequence`).
    pub sequence: u64,
    /// Why: 1 to [`MAX_REASON_BYTES`] bytes of text without control characters.
    pub reason: String,
}

/// The options a withdrawal [`Signer`] needs: medseal's defaults (a `sigT` included) with
/// `typ` [`WITHDRAWAL_TYP`]. Use the facility's record-signing key.
pub fn withdrawal_sign_options() -> SignOptions {
    SignOptions { typ: Some(WITHDRAWAL_TYP.to_owned()), ..SignOptions::default() }
}

const WITHDRAWAL_MEMBERS: &[&str] = &["reason", "record_id", "sequence", "source", "type"];

impl Withdrawal {
    /// The canonical JSON payload `{"reason","record_id","sequence","source","type"}`.
    pub fn to_json(&self) -> Vec<u8> {
        Value::object([
            ("reason", Value::string(self.reason.as_str())),
            ("record_id", Value::string(self.record_id.as_str())),
            ("sequence", crate::ledger::number_value(self.sequence)),
            ("source", Value::string(self.source.as_str())),
            ("type", Value::string(WITHDRAWAL_TYPE)),
        ])
        .to_canonical()
    }

    /// Checks the fields with `code`: source and record id as [`check_id`], sequence 1 to
    /// 2^53 − 1, reason as [`check_reason`].
    pub fn check(&self, code: ResultCode) -> Result<()> {
        check_id("the withdrawal's source", &self.source, code)?;
        check_id("the withdrawal's record id", &self.record_id, code)?;
        crate::ledger::check_number(code, "the withdrawal's sequence number", self.sequence, 1)?;
        check_reason("the withdrawal's reason", &self.reason, code)
    }

    /// Signs the withdrawal as a JWS JSON flattened (sealed like a record, content type
    /// [`FLATTENED_CONTENT_TYPE`]). The signer must use [`withdrawal_sign_options`] (its `typ`
    /// is [`WITHDRAWAL_TYP`]) and the facility's record-signing key; fields out of range are
    /// `MEDSEAL_INVALID_ARGUMENT`. The JWS is wiped when dropped.
    pub fn sign(&self, signer: &Signer) -> Result<Zeroizing<String>> {
        self.check(ResultCode::MEDSEAL_INVALID_ARGUMENT)?;
        let typ = signer.options().typ.as_deref();
        if typ != Some(WITHDRAWAL_TYP) {
            return Err(err!(
                MEDSEAL_INVALID_ARGUMENT,
                "a withdrawal is signed with typ \"{WITHDRAWAL_TYP}\" (use medseal::record::withdrawal_sign_options()), not {}",
                typ.map_or("none".to_owned(), |t| format!("\"{}\"", crate::untrusted::shown(t)))
            ));
        }
        Ok(Zeroizing::new(signer.sign_payload(&self.to_json(), Serialization::Flattened)?))
    }

    /// Checks that a verified JWS is a withdrawal and reads it: `typ` [`WITHDRAWAL_TYP`] and a
    /// `sigT` (else `MEDSEAL_JWS_HEADER`), a payload that is exactly the canonical JSON of its
    /// five members with `type` [`WITHDRAWAL_TYPE`] and fields as [`Withdrawal::check`]
    /// (else `MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL`). Whether it names the right envelope is the
    /// caller's check.
    pub fn from_verified(verified: &Verified) -> Result<Withdrawal> {
        if verified.typ.as_deref() != Some(WITHDRAWAL_TYP) || verified.signing_time.is_none() {
            return Err(err!(
                MEDSEAL_JWS_HEADER,
                "the JWS is not a medseal withdrawal: it needs \"typ\":\"{WITHDRAWAL_TYP}\" and a \"sigT\" (it has typ {} and {})",
                verified.typ.as_deref().map_or("none".to_owned(), |t| format!("\"{}\"", crate::untrusted::shown(t))),
                if verified.signing_time.is_some() { "a sigT" } else { "no sigT" }
            ));
        }
        let code = ResultCode::MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL;
        let value = crate::ledger::parse_payload(&verified.payload, code, "the withdrawal")?;
        let fields = crate::ledger::Fields::new(&value, "the withdrawal", code, WITHDRAWAL_MEMBERS)?;
        fields.check_type(WITHDRAWAL_TYPE)?;
        let withdrawal = Withdrawal {
            source: fields.text("source")?.to_owned(),
            record_id: fields.text("record_id")?.to_owned(),
            sequence: fields.integer("sequence")?,
            reason: fields.text("reason")?.to_owned(),
        };
        withdrawal.check(code)?;
        crate::ledger::check_canonical(&value, &verified.payload, code, "the withdrawal")?;
        Ok(withdrawal)
    }
}

/// Verifies `jws` with `verifier` and reads it as a withdrawal ([`Withdrawal::from_verified`]).
pub fn verify_withdrawal(verifier: &Verifier, jws: &[u8]) -> Result<Withdrawal> {
    Withdrawal::from_verified(&verifier.verify(jws, DetachedPayload::None)?)
}

/// The step of [`open_verified_steps`] that refused a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpenStep {
    /// The content type is not a signed record's (`MEDSEAL_SEAL_META_INVALID`).
    ContentType,
    /// The envelope did not open with the key (`MEDSEAL_SEAL_*`, `MEDSEAL_KEY_NOT_PRIVATE`).
    Open,
    /// The JWS inside does not verify with the verifier's keys.
    Verify,
    /// The JWS verifies but is not a medseal record ([`check_verified`]).
    NotARecord,
}

/// Opens `envelope` with `key`, verifies the JWS inside (flattened or compact) with `verifier`
/// and checks that it is a medseal record. On failure, which step refused it and why. Whether
/// the record belongs with the envelope's routing meta (its id, its source) is the caller's
/// check: the record's own metadata is in its payload.
pub fn open_verified_steps(
    envelope: &Envelope,
    key: &RecipientKey,
    verifier: &Verifier,
) -> std::result::Result<Verified, (OpenStep, Error)> {
    check_content_type(&envelope.meta.content_type).map_err(|e| (OpenStep::ContentType, e))?;
    let jws = envelope.open(key).map_err(|e| (OpenStep::Open, e))?;
    let verified = verifier.verify(&jws, DetachedPayload::None).map_err(|e| (OpenStep::Verify, e))?;
    check_verified(&verified).map_err(|e| (OpenStep::NotARecord, e))?;
    Ok(verified)
}

/// What a submission to the hub holds: a record, or a withdrawal of the number.
#[derive(Debug)]
pub enum Submission {
    /// A medseal record ([`check_verified`]).
    Record(Verified),
    /// A withdrawal ([`Withdrawal::from_verified`]), with the JWS it was read from.
    Withdrawal(Verified, Withdrawal),
}

impl Submission {
    /// The verified JWS (its key, its `sigT`), record or withdrawal.
    pub fn verified(&self) -> &Verified {
        match self {
            Submission::Record(v) | Submission::Withdrawal(v, _) => v,
        }
    }
}

/// [`open_verified_steps`] for what the hub receives: the JWS inside is a record, or a
/// withdrawal if its `typ` is [`WITHDRAWAL_TYP`] (checked with [`Withdrawal::from_verified`];
/// refused as [`OpenStep::NotARecord`]). Whether a withdrawal names its envelope's meta is the
/// caller's check, as for a record.
pub fn open_submission_steps(
    envelope: &Envelope,
    key: &RecipientKey,
    verifier: &Verifier,
) -> std::result::Result<Submission, (OpenStep, Error)> {
    check_content_type(&envelope.meta.content_type).map_err(|e| (OpenStep::ContentType, e))?;
    let jws = envelope.open(key).map_err(|e| (OpenStep::Open, e))?;
    let verified = verifier.verify(&jws, DetachedPayload::None).map_err(|e| (OpenStep::Verify, e))?;
    if verified.typ.as_deref() == Some(WITHDRAWAL_TYP) {
        let withdrawal = Withdrawal::from_verified(&verified).map_err(|e| (OpenStep::NotARecord, e))?;
        return Ok(Submission::Withdrawal(verified, withdrawal));
    }
    check_verified(&verified).map_err(|e| (OpenStep::NotARecord, e))?;
    Ok(Submission::Record(verified))
}

/// [`open_verified_steps`] with its error alone: what `medseal_envelope_open_verified` and
/// `medseal open --verify-key` do.
pub fn open_verified(envelope: &Envelope, key: &RecipientKey, verifier: &Verifier) -> Result<Verified> {
    open_verified_steps(envelope, key, verifier).map_err(|(_, e)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_json_is_a_record_payload() {
        assert!(check_canonical_payload(br#"{"a":1,"b":[true,null,"x"]}"#).is_ok());
        for payload in [
            &br#"{"a":1,"a":2}"#[..],
            b"{\"a\":\"\xff\"}",
            br#"{"b":1,"a":2}"#,
            br#"{"a": 1}"#,
            br#"{"a":1.50}"#,
            br#"{"a":9007199254740993}"#,
            b"not json",
            b"",
        ] {
            let error = check_canonical_payload(payload).unwrap_err();
            assert_eq!(error.code(), ResultCode::MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL, "{:?}", String::from_utf8_lossy(payload));
        }
    }

    #[test]
    fn content_types_follow_the_serialization() {
        assert_eq!(content_type_of(b"{\"payload\":\"\"}"), FLATTENED_CONTENT_TYPE);
        assert_eq!(content_type_of(b" \n\t{}"), FLATTENED_CONTENT_TYPE);
        assert_eq!(content_type_of(b"eyJh.eyJi.c2ln"), COMPACT_CONTENT_TYPE);
        assert_eq!(content_type(Serialization::Flattened).unwrap(), FLATTENED_CONTENT_TYPE);
        assert_eq!(content_type(Serialization::Compact).unwrap(), COMPACT_CONTENT_TYPE);
        assert!(content_type(Serialization::DetachedCompact).is_err());
        assert!(check_content_type(FLATTENED_CONTENT_TYPE).is_ok());
        assert!(check_content_type(COMPACT_CONTENT_TYPE).is_ok());
        for bad in ["application/json", "application/jose+json; charset=utf-8", "", "APPLICATION/JOSE"] {
            assert_eq!(check_content_type(bad).unwrap_err().code(), ResultCode::MEDSEAL_SEAL_META_INVALID, "{bad}");
        }
    }

    #[test]
    fn ids_are_short_text_without_controls() {
        let code = ResultCode::MEDSEAL_INVALID_ARGUMENT;
        for good in ["a", "rec-2026-0001", "Bệnh viện Chợ Rẫy", &"a".repeat(256), &("ệ".repeat(85) + "a")] {
            assert!(check_id("the record id", good, code).is_ok(), "{good}");
        }
        for bad in ["", &"a".repeat(257), "a\nb", "nul\0", "tab\t", "\u{85}"] {
            let e = check_id("the record id", bad, code).unwrap_err();
            assert_eq!(e.code(), code);
            assert!(e.message().starts_with("the record id must be 1 to 256 bytes"), "{}", e.message());
            assert!(!e.message().contains('\n') && !e.message().contains('\0'), "{}", e.message());
        }
    }
}
