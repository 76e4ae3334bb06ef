//! Receipts: the hub's signed statement that it accepted a record and where it put it in the
//! ledger, and the full check of a receipt with its inclusion proof.

use std::collections::HashMap;

use super::entry::LedgerEntry;
use super::merkle::{verify_inclusion, Hash};
use super::proof::hashes;
use super::tree_head::TreeHead;
use super::{
    check_canonical, check_number, check_signer_typ, number_value, parse_payload, shown, sign_compact, time_value, verify_compact, Fields,
};
use crate::b64;
use crate::canon::Value;
use crate::error::{err, Error, Result, ResultCode};
use crate::jws::{SignOptions, Signer, Verified, Verifier};
use crate::wire::InclusionProof;

/// The JWS `typ` of a receipt. A tree head or a record is never read as a receipt.
///
/// cbindgen:ignore
pub const RECEIPT_TYP: &str = "medseal-receipt+jws";

/// The `type` member of the payload.
///
/// cbindgen:ignore
pub const RECEIPT_TYPE: &str = "medseal-receipt";

const MEMBERS: &[&str] = &["digest", "ledger_index", "received", "record_id", "sequence", "source", "tree_size", "type"];

/// Only in the receipt of a withdrawal, as in its ledger entry.
const OPTIONAL: &[&str] = &["withdrawn"];

/// A receipt: the ledger entry of one record, its leaf index, and the size of the tree whose
/// signed head proves it is there.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Receipt {
    /// The envelope's `meta.record_id`.
    pub record_id: String,
    /// The sending facility.
    pub source: String,
    /// The facility's sequence number for the record.
    pub sequence: u64,
    /// SHA-256 of the protobuf envelope.
    pub digest: Hash,
    /// When the hub accepted the record (Unix seconds).
    pub received: i64,
    /// The entry's leaf index in the ledger.
    pub ledger_index: u64,
    /// The size of the tree the inclusion proof goes with (more than `ledger_index`).
    pub tree_size: u64,
    /// For a withdrawal: its reason, as in the ledger entry ([`LedgerEntry::withdrawn`]).
    /// `None` for a record.
    pub withdrawn: Option<String>,
}

/// The options a receipt [`Signer`] needs: medseal's defaults with `typ` [`RECEIPT_TYP`].
pub fn receipt_sign_options() -> SignOptions {
    SignOptions { typ: Some(RECEIPT_TYP.to_owned()), ..SignOptions::default() }
}

impl Receipt {
    /// The ledger entry the receipt is for (its leaf hash is what the proof starts from).
    pub fn entry(&self) -> LedgerEntry {
        LedgerEntry {
            record_id: self.record_id.clone(),
            source: self.source.clone(),
            sequence: self.sequence,
            digest: self.digest,
            received: self.received,
            withdrawn: self.withdrawn.clone(),
        }
    }

    /// The canonical JSON payload
    /// `{"digest","ledger_index","received","record_id","sequence","source","tree_size","type"}`,
    /// with `"withdrawn":REASON` last for a withdrawal only.
    pub fn to_json(&self) -> Vec<u8> {
        let mut members = vec![
            ("digest", Value::string(b64::encode(&self.digest))),
            ("ledger_index", number_value(self.ledger_index)),
            ("received", time_value(self.received)),
            ("record_id", Value::string(self.record_id.as_str())),
            ("sequence", number_value(self.sequence)),
            ("source", Value::string(self.source.as_str())),
            ("tree_size", number_value(self.tree_size)),
            ("type", Value::string(RECEIPT_TYPE)),
        ];
        if let Some(reason) = &self.withdrawn {
            members.push(("withdrawn", Value::string(reason.as_str())));
        }
        Value::object(members).to_canonical()
    }

    /// Signs the receipt as a compact JWS with the hub's receipt key. The signer must use
    /// [`receipt_sign_options`]; fields out of range are `MEDSEAL_INVALID_ARGUMENT`.
    pub fn sign(&self, signer: &Signer) -> Result<String> {
        check_signer_typ(signer, RECEIPT_TYP, "a receipt", "receipt_sign_options")?;
        self.check(ResultCode::MEDSEAL_INVALID_ARGUMENT)?;
        sign_compact(signer, &self.to_json())
    }

    /// Verifies a receipt on its own: a compact JWS by one of `keys` with `typ` [`RECEIPT_TYP`]
    /// over exactly the canonical payload. Every failure is `MEDSEAL_LEDGER_RECEIPT_INVALID`
    /// (but `MEDSEAL_JWS_NO_KEYS` for an empty verifier). This does not show that the record is
    /// in the ledger: [`verify_receipt`] does.
    pub fn verify(jws: &[u8], keys: &Verifier) -> Result<Receipt> {
        Self::verify_full(jws, keys).map(|(receipt, _)| receipt)
    }

    fn verify_full(jws: &[u8], keys: &Verifier) -> Result<(Receipt, Verified)> {
        let code = ResultCode::MEDSEAL_LEDGER_RECEIPT_INVALID;
        let verified = verify_compact(jws, keys, RECEIPT_TYP, code, "the receipt", "receipt")?;
        let value = parse_payload(&verified.payload, code, "the signed receipt")?;
        let fields = Fields::with_optional(&value, "the receipt", code, MEMBERS, OPTIONAL)?;
        fields.check_type(RECEIPT_TYPE)?;
        let receipt = Receipt {
            record_id: fields.text("record_id")?.to_owned(),
            source: fields.text("source")?.to_owned(),
            sequence: fields.integer("sequence")?,
            digest: fields.hash("digest")?,
            received: fields.time("received")?,
            ledger_index: fields.integer("ledger_index")?,
            tree_size: fields.integer("tree_size")?,
            withdrawn: fields.optional_text("withdrawn")?.map(str::to_owned),
        };
        receipt.check(code)?;
        check_canonical(&value, &verified.payload, code, "the signed receipt")?;
        Ok((receipt, verified))
    }

    fn check(&self, code: ResultCode) -> Result<()> {
        self.entry().check(code, "the receipt")?;
        check_number(code, "the receipt's tree size", self.tree_size, 1)?;
        if self.ledger_index >= self.tree_size {
            return Err(Error::new(
                code,
                format!("the receipt puts the record at ledger index {} of a tree of only {} leaves", self.ledger_index, self.tree_size),
            ));
        }
        Ok(())
    }
}

/// Full check of what the hub returned for one record (docs/SUBMISSION.md "Checking a
/// receipt"): the receipt verifies with `receipt_keys` (and names `record_id` and `digest`
/// when given); the proof's tree head verifies with `tree_head_keys`, another key; receipt,
/// proof and tree head agree on the tree size and the leaf index; and the audit path leads
/// from the leaf hash of the entry rebuilt from the receipt to the tree head's root.
///
/// Errors: `MEDSEAL_LEDGER_RECEIPT_INVALID` (receipt, or receipt and proof disagree),
/// `MEDSEAL_LEDGER_TREE_HEAD_INVALID`, `MEDSEAL_LEDGER_PROOF_INVALID`, `MEDSEAL_JWS_NO_KEYS`.
pub fn verify_receipt(
    receipt_jws: &[u8],
    inclusion: &InclusionProof,
    receipt_keys: &Verifier,
    tree_head_keys: &Verifier,
    record_id: Option<&str>,
    digest: Option<&Hash>,
) -> Result<Receipt> {
    verify_receipt_and_tree_head(receipt_jws, inclusion, receipt_keys, tree_head_keys, record_id, digest).map(|(receipt, _)| receipt)
}

/// What a receipt must name to be the one for a known record: the sending facility, the
/// record id and the envelope digest (as in [`Receipt`]).
#[derive(Clone, Copy, Debug)]
pub struct ReceiptSubject<'a> {
    pub source: &'a str,
    pub record_id: &'a str,
    pub digest: &'a Hash,
}

/// [`verify_receipt`] for a known record: the receipt must name exactly `subject`'s facility,
/// record id and digest; a receipt for another of any of them is
/// `MEDSEAL_LEDGER_RECEIPT_INVALID`, the message naming the field that differs.
pub fn verify_receipt_for(
    receipt_jws: &[u8],
    inclusion: &InclusionProof,
    receipt_keys: &Verifier,
    tree_head_keys: &Verifier,
    subject: &ReceiptSubject<'_>,
) -> Result<Receipt> {
    let check = ReceiptCheck { receipt_jws, inclusion, record_id: Some(subject.record_id), digest: Some(subject.digest) };
    let mut head = |jws: &[u8]| TreeHead::verify_full(jws, tree_head_keys).map(|(head, v)| (head, v.key_id));
    verify_with(&check, Some(subject.source), receipt_keys, &mut head).map(|(receipt, _)| receipt)
}

/// [`verify_receipt`], also returning the verified tree head (to keep, or to check later
/// heads against with a consistency proof).
pub fn verify_receipt_and_tree_head(
    receipt_jws: &[u8],
    inclusion: &InclusionProof,
    receipt_keys: &Verifier,
    tree_head_keys: &Verifier,
    record_id: Option<&str>,
    digest: Option<&Hash>,
) -> Result<(Receipt, TreeHead)> {
    let check = ReceiptCheck { receipt_jws, inclusion, record_id, digest };
    verify_with(&check, None, receipt_keys, &mut |jws| TreeHead::verify_full(jws, tree_head_keys).map(|(head, v)| (head, v.key_id)))
}

/// One receipt to check with [`verify_receipts`]: what the hub returned for one record (the
/// receipt and its inclusion proof), and, when given, the record id and envelope digest it
/// must name.
#[derive(Clone, Copy, Debug)]
pub struct ReceiptCheck<'a> {
    pub receipt_jws: &'a [u8],
    pub inclusion: &'a InclusionProof,
    pub record_id: Option<&'a str>,
    pub digest: Option<&'a Hash>,
}

/// [`verify_receipt_and_tree_head`] for each of `checks`: one result per check, in order, each
/// exactly what that function returns for it (the same value or the same error). The
/// difference is the work: a batch's receipts usually all go with the same signed tree head,
/// and each distinct tree head (the same JWS bytes) is verified once, its outcome, success or
/// failure, used for every receipt that comes with it. Every receipt's own signature, fields,
/// record id, digest and audit path are still checked one by one.
pub fn verify_receipts(
    checks: &[ReceiptCheck<'_>],
    receipt_keys: &Verifier,
    tree_head_keys: &Verifier,
) -> Vec<Result<(Receipt, TreeHead)>> {
    let mut heads: HashMap<Vec<u8>, Result<VerifiedHead>> = HashMap::new();
    let mut head = |jws: &[u8]| -> Result<VerifiedHead> {
        if let Some(known) = heads.get(jws) {
            return known.clone();
        }
        let verified = TreeHead::verify_full(jws, tree_head_keys).map(|(head, v)| (head, v.key_id));
        heads.insert(jws.to_vec(), verified.clone());
        verified
    };
    checks.iter().map(|check| verify_with(check, None, receipt_keys, &mut head)).collect()
}

/// A verified tree head and the thumbprint of the key that signed it.
type VerifiedHead = (TreeHead, String);

/// The full check of one receipt (from facility `source`, when given), the tree head verified
/// by `verify_head`.
fn verify_with(
    check: &ReceiptCheck<'_>,
    source: Option<&str>,
    receipt_keys: &Verifier,
    verify_head: &mut dyn FnMut(&[u8]) -> Result<VerifiedHead>,
) -> Result<(Receipt, TreeHead)> {
    let ReceiptCheck { receipt_jws, inclusion, record_id, digest } = *check;
    let (receipt, receipt_signature) = Receipt::verify_full(receipt_jws, receipt_keys)?;
    if let Some(expected) = source {
        if receipt.source != expected {
            return Err(err!(
                MEDSEAL_LEDGER_RECEIPT_INVALID,
                "the receipt is for a record of facility \"{}\", not \"{}\"",
                shown(&receipt.source),
                shown(expected)
            ));
        }
    }
    if let Some(expected) = record_id {
        if receipt.record_id != expected {
            return Err(err!(
                MEDSEAL_LEDGER_RECEIPT_INVALID,
                "the receipt is for record \"{}\", not \"{}\"",
                shown(&receipt.record_id),
                shown(expected)
            ));
        }
    }
    if let Some(expected) = digest {
        if receipt.digest != *expected {
            return Err(err!(
                MEDSEAL_LEDGER_RECEIPT_INVALID,
                "the receipt for record \"{}\" names another envelope digest ({}, not {})",
                shown(&receipt.record_id),
                b64::encode(&receipt.digest),
                b64::encode(expected)
            ));
        }
    }
    let (head, head_key_id) = verify_head(inclusion.tree_head.as_bytes())?;
    // One key, one role (DESIGN 3.6): a receipt signed by the tree-head key is refused, so that
    // neither key can stand in for the other.
    if receipt_signature.key_id == head_key_id {
        return Err(err!(
            MEDSEAL_LEDGER_RECEIPT_INVALID,
            "the receipt and the tree head are signed by the same key ({}); the hub must use separate receipt and tree-head keys",
            receipt_signature.key_id
        ));
    }
    if receipt.tree_size != inclusion.tree_size || receipt.tree_size != head.tree_size {
        return Err(err!(
            MEDSEAL_LEDGER_RECEIPT_INVALID,
            "the receipt names a tree of {} leaves, but the inclusion proof is for {} and its tree head for {}",
            receipt.tree_size,
            inclusion.tree_size,
            head.tree_size
        ));
    }
    if receipt.ledger_index != inclusion.leaf_index {
        return Err(err!(
            MEDSEAL_LEDGER_RECEIPT_INVALID,
            "the receipt names ledger index {}, but the inclusion proof is for leaf {}",
            receipt.ledger_index,
            inclusion.leaf_index
        ));
    }
    let path = hashes(&inclusion.audit_path, "the inclusion proof's audit path")?;
    verify_inclusion(&receipt.entry().leaf_hash(), receipt.ledger_index, head.tree_size, &path, &head.root_hash)
        .map_err(|e| Error::new(e.code(), format!("record \"{}\": {}", shown(&receipt.record_id), e.message())))?;
    Ok((receipt, head))
}
