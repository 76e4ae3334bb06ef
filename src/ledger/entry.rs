//! Ledger entries: what one leaf of the ledger commits to.

use super::merkle::{leaf_hash, Hash};
use super::{check_canonical, check_number, check_time, number_value, parse_payload, time_value, Fields};
use crate::b64;
use crate::canon::Value;
use crate::error::{Result, ResultCode};

const MEMBERS: &[&str] = &["digest", "received", "record_id", "sequence", "source"];

/// Written only for a withdrawal (a signed tombstone for the sequence): its reason.
const OPTIONAL: &[&str] = &["withdrawn"];

/// One ledger entry: which record, from whom, with which envelope digest, received when.
/// Digests and metadata only, never patient data. The leaf is `SHA-256(0x00 || to_json())`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LedgerEntry {
    /// The envelope's `meta.record_id`.
    pub record_id: String,
    /// The sending facility (`meta.source`).
    pub source: String,
    /// The facility's sequence number for the record (`meta.sequence`, 1 to 2^53 − 1).
    pub sequence: u64,
    /// SHA-256 of the protobuf envelope, as submitted.
    pub digest: Hash,
    /// When the hub accepted the record (Unix seconds).
    pub received: i64,
    /// For a withdrawal (the facility's signed tombstone for this sequence, DESIGN 3.5): the
    /// reason it gave, 1 to 1024 bytes of text without control characters. `None` for a
    /// record, whose entry has exactly the five members it always had.
    pub withdrawn: Option<String>,
}

impl LedgerEntry {
    /// The canonical JSON `{"digest","received","record_id","sequence","source"}` (digest in
    /// base64url, received RFC 3339 UTC), with `"withdrawn":REASON` after `source` for a
    /// withdrawal only: the bytes the leaf hash is taken over. Write only entries that pass
    /// [`LedgerEntry::validate`]; others do not read back.
    pub fn to_json(&self) -> Vec<u8> {
        let mut members = vec![
            ("digest", Value::string(b64::encode(&self.digest))),
            ("received", time_value(self.received)),
            ("record_id", Value::string(self.record_id.as_str())),
            ("sequence", number_value(self.sequence)),
            ("source", Value::string(self.source.as_str())),
        ];
        if let Some(reason) = &self.withdrawn {
            members.push(("withdrawn", Value::string(reason.as_str())));
        }
        Value::object(members).to_canonical()
    }

    /// Reads an entry as the ledger holds it (`GET /v1/ledger/entries` lines): exactly
    /// canonical JSON with exactly the five members (six for a withdrawal), else
    /// `MEDSEAL_LEDGER_PROOF_INVALID` (the ledger's evidence does not hold).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let code = ResultCode::MEDSEAL_LEDGER_PROOF_INVALID;
        let value = parse_payload(bytes, code, "the ledger entry")?;
        let fields = Fields::with_optional(&value, "the ledger entry", code, MEMBERS, OPTIONAL)?;
        let entry = LedgerEntry {
            record_id: fields.text("record_id")?.to_owned(),
            source: fields.text("source")?.to_owned(),
            sequence: fields.integer("sequence")?,
            digest: fields.hash("digest")?,
            received: fields.time("received")?,
            withdrawn: fields.optional_text("withdrawn")?.map(str::to_owned),
        };
        entry.check(code, "the ledger entry")?;
        check_canonical(&value, bytes, code, "the ledger entry")?;
        Ok(entry)
    }

    /// The leaf hash of the entry: `SHA-256(0x00 || to_json())`.
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.to_json())
    }

    /// Checks the fields (`MEDSEAL_INVALID_ARGUMENT`): record id and source 1 to 256 bytes
    /// without control characters, sequence 1 to 2^53 − 1, received within years 0000–9999,
    /// a withdrawal's reason 1 to 1024 bytes without control characters.
    pub fn validate(&self) -> Result<()> {
        self.check(ResultCode::MEDSEAL_INVALID_ARGUMENT, "the ledger entry")
    }

    pub(super) fn check(&self, code: ResultCode, name: &str) -> Result<()> {
        crate::record::check_id(&format!("{name}: the record id"), &self.record_id, code)?;
        crate::record::check_id(&format!("{name}: the source"), &self.source, code)?;
        check_number(code, &format!("{name}: the sequence number"), self.sequence, 1)?;
        if let Some(reason) = &self.withdrawn {
            crate::record::check_reason(&format!("{name}: the reason of the withdrawal"), reason, code)?;
        }
        check_time(code, &format!("{name}: the time received"), self.received)
    }
}
