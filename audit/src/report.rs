//! The audit report, format version 1 (docs/AUDIT.md): what was checked, with which inputs, and
//! every finding. The JSON is written with the per-record results streamed last, so a report of
//! a city's records never has to be held in memory whole.
//!
//! Record statuses follow ETSI TS 119 102-2 in spirit: `PASSED`, `FAILED` or `INDETERMINATE`,
//! with a sub-indication naming why (the ETSI names where one fits).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::{Deserialize, Serialize};

/// The report's `format` member.
pub const FORMAT: &str = "medseal-audit-report";
/// The format version this code writes.
pub const VERSION: u32 = 1;

/// A record's validation status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Signature, signer, time and metadata all verified.
    Passed,
    /// Something is proven wrong (a bad signature, a key outside its window, a digest that
    /// does not match).
    Failed,
    /// It could not be decided with what the audit has (no key to open the record, no trust
    /// list for its time).
    Indeterminate,
}

/// Sub-indications (ETSI TS 119 102-2 names where one fits; medseal's own otherwise).
pub mod sub {
    /// The envelope or the JWS is malformed.
    pub const FORMAT_FAILURE: &str = "FORMAT_FAILURE";
    /// The envelope's digest is not the ledger entry's, or its meta is not the entry's.
    pub const HASH_FAILURE: &str = "HASH_FAILURE";
    /// The signature does not verify with the signer's key.
    pub const SIG_CRYPTO_FAILURE: &str = "SIG_CRYPTO_FAILURE";
    /// The signing key was revoked before the record's trusted time.
    pub const REVOKED: &str = "REVOKED";
    /// The signing time lies outside the key's validity window, or after the trusted time.
    pub const OUT_OF_BOUNDS_NO_POE: &str = "OUT_OF_BOUNDS_NO_POE";
    /// No key of the record's facility matches its signature (unknown kid).
    pub const NO_SIGNING_CERTIFICATE_FOUND: &str = "NO_SIGNING_CERTIFICATE_FOUND";
    /// The bundle holds no envelope for the entry, though the export selected it.
    pub const SIGNED_DATA_NOT_FOUND: &str = "SIGNED_DATA_NOT_FOUND";
    /// The record is sealed and the audit has no key that opens it.
    pub const NO_KEY_TO_OPEN: &str = "NO_KEY_TO_OPEN";
    /// No trust list valid at the record's trusted time.
    pub const NO_TRUST_LIST: &str = "NO_TRUST_LIST";
    /// The record's content does not meet medseal's rules (typ, sigT, canonical payload).
    pub const SIG_CONSTRAINTS_FAILURE: &str = "SIG_CONSTRAINTS_FAILURE";
}

/// Finding codes: stable, documented in docs/AUDIT.md.
pub mod finding {
    /// A file of the bundle is not the one the manifest pins.
    pub const BUNDLE_FILE_ALTERED: &str = "BUNDLE_FILE_ALTERED";
    /// A line of `ledger/entries.jsonl` is not a ledger entry.
    pub const ENTRY_INVALID: &str = "ENTRY_INVALID";
    /// A signed tree head does not verify with the hub's tree-head key, or is malformed.
    pub const TREE_HEAD_INVALID: &str = "TREE_HEAD_INVALID";
    /// The entries do not rebuild the root a signed tree head gives for its size.
    pub const TREE_HEAD_MISMATCH: &str = "TREE_HEAD_MISMATCH";
    /// A signed tree head covers more entries than the bundle's log holds.
    pub const LOG_TRUNCATED: &str = "LOG_TRUNCATED";
    /// Entries past the latest signed tree head: nothing the hub signed covers them.
    pub const ENTRIES_UNSIGNED: &str = "ENTRIES_UNSIGNED";
    /// A tree head obtained outside the bundle (`--tree-head`, an outbox, a receipt) is not
    /// consistent with the bundle's log: the hub rewrote, truncated or forked it.
    pub const LOG_FORKED: &str = "LOG_FORKED";
    /// A record a hospital holds a receipt for is not in the bundle at its receipt's index
    /// with the same digest.
    pub const RECEIPTED_RECORD_MISSING: &str = "RECEIPTED_RECORD_MISSING";
    /// A receipt held by a hospital does not verify with the hub's receipt key.
    pub const RECEIPT_INVALID: &str = "RECEIPT_INVALID";
    /// A record did not pass (see its status and sub-indication).
    pub const RECORD_FAILED: &str = "RECORD_FAILED";
    /// A record could not be decided.
    pub const RECORD_INDETERMINATE: &str = "RECORD_INDETERMINATE";
    /// A facility's sequence numbers have a gap (neither a record nor a withdrawal).
    pub const SEQUENCE_GAP: &str = "SEQUENCE_GAP";
    /// A facility's sequence number is in the ledger twice.
    pub const SEQUENCE_REPEATED: &str = "SEQUENCE_REPEATED";
    /// A facility's record id is in the ledger twice.
    pub const RECORD_ID_REPEATED: &str = "RECORD_ID_REPEATED";
    /// An entry's time received is more than 300 s before an earlier entry's: entries are
    /// appended as records arrive, so the hub set this time afterwards (the time a record is
    /// judged at).
    pub const ENTRY_BACKDATED: &str = "ENTRY_BACKDATED";
    /// One signed record is in the ledger under two entries (two numbers or ids): the record
    /// id and sequence are not signed, so a hub holding the plaintext could seal a genuine
    /// record again to fill a gap.
    pub const RECORD_COPIED: &str = "RECORD_COPIED";
    /// A trust list (or trust-list key) in the bundle does not verify with the trust-list
    /// keys, or is not a trust list: records are not judged with it.
    pub const TRUST_LIST_INVALID: &str = "TRUST_LIST_INVALID";
}

/// The report, without its per-record results (streamed by [`write_json`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The program, e.g. `medseal 0.1.0`.
    pub tool: String,
    /// The time the audit judged everything at (`--at`, else the time it ran), RFC 3339 UTC.
    pub at: String,
    /// `PASSED` (no findings) or `FAILED` (findings).
    pub result: String,
    /// Every input, pinned by SHA-256, so the run can be repeated and compared.
    pub inputs: Vec<Input>,
    /// What the export selected (the bundle manifest's `selection`): a partial export is
    /// audited only for what it holds.
    pub selection: crate::bundle::Selection,
    /// Counts.
    pub summary: Summary,
    /// The log checks.
    pub log: LogReport,
    /// Per facility: completeness.
    pub facilities: Vec<FacilityReport>,
    /// Everything that is wrong, most serious first.
    pub findings: Vec<Finding>,
}

/// One input of the run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// `bundle` (its manifest), `tree-head`, `outbox`, `key` (the auditor's escrow key: its
    /// public key's thumbprint, never the private key's digest), `trust-list-key`.
    pub role: String,
    /// The path given.
    pub path: String,
    /// SHA-256 of the file (base64url), or the key's RFC 7638 thumbprint for `key`.
    pub sha256: String,
}

/// Counts over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Ledger entries in the bundle's log.
    pub entries: u64,
    /// Records checked (withdrawals not counted).
    pub records: u64,
    /// Records `PASSED`.
    pub passed: u64,
    /// Records `FAILED`.
    pub failed: u64,
    /// Records `INDETERMINATE`.
    pub indeterminate: u64,
    /// Withdrawn sequence numbers (signed tombstones).
    pub withdrawn: u64,
    /// Ledger entries not checked because the export left them out (lines redacted to a leaf
    /// hash for another facility, or records received outside `--from`/`--to`): the audit
    /// vouches only for the rest.
    pub not_checked: u64,
    /// Facilities with entries.
    pub facilities: u64,
    /// Findings.
    pub findings: u64,
}

/// What the log checks found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogReport {
    /// Entries in the bundle's log.
    pub size: u64,
    /// The root the entries rebuild (base64url).
    pub root_hash: String,
    /// The hub's tree-head key (RFC 7638 thumbprint) the bundle gives.
    pub tree_head_key: String,
    /// Signed tree heads in the bundle that verified and match the log.
    pub tree_heads_matched: u64,
    /// Tree heads from outside the bundle that are consistent with the log.
    pub external_tree_heads_matched: u64,
    /// Receipts held by hospitals whose record is in the log as receipted.
    pub receipts_matched: u64,
}

/// One facility's completeness.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityReport {
    /// The facility (the records' `source`).
    pub facility: String,
    /// Records in the log (withdrawals not counted).
    pub records: u64,
    /// Records that passed.
    pub passed: u64,
    /// The highest sequence number.
    pub highest: u64,
    /// Missing sequence numbers below the highest, as ranges.
    pub gaps: Vec<Range>,
    /// Sequence numbers in the log more than once.
    pub repeats: Vec<u64>,
    /// Withdrawn sequence numbers with their reasons.
    pub withdrawn: Vec<Withdrawn>,
    /// Entries whose number is lower than one before it in the log (allowed: retries).
    pub out_of_order: u64,
    /// The first and last time the hub received one of its records (RFC 3339).
    pub first_received: Option<String>,
    /// See `first_received`.
    pub last_received: Option<String>,
    /// Records received per UTC day (`YYYY-MM-DD`).
    pub per_day: BTreeMap<String, u64>,
}

/// A range of sequence numbers, both ends included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// The first missing number.
    pub first: u64,
    /// The last missing number.
    pub last: u64,
}

/// A withdrawn sequence number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawn {
    /// The number.
    pub sequence: u64,
    /// The reason the facility signed.
    pub reason: String,
}

/// One finding.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// A code of [`finding`].
    pub code: String,
    /// What is wrong, for people.
    pub message: String,
    /// The facility concerned, if one is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub facility: Option<String>,
    /// The ledger index concerned, if one is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub index: Option<u64>,
    /// The sequence number concerned, if one is.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sequence: Option<u64>,
}

/// One record's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordResult {
    /// Its ledger index.
    pub index: u64,
    /// Its facility.
    pub facility: String,
    /// Its sequence number.
    pub sequence: u64,
    /// Its record id.
    pub record_id: String,
    /// When the hub received it (RFC 3339): its trusted time, covered by a signed tree head.
    pub received: String,
    /// Its signing time (`sigT`), when it could be read.
    pub signed: Option<String>,
    /// The signing key's thumbprint, when it could be read.
    pub kid: Option<String>,
    /// The status.
    pub status: Status,
    /// Why, when not `PASSED` (a [`sub`] code).
    pub sub_indication: Option<String>,
    /// Details, for people.
    pub reason: Option<String>,
}

/// Writes the report as JSON: its members, then `"records"`, one result per line, streamed.
pub fn write_json<W: Write>(report: &Report, records: impl IntoIterator<Item = RecordResult>, mut out: W) -> io::Result<()> {
    let head = serde_json::to_vec_pretty(report).map_err(io::Error::other)?;
    // The object without its closing brace, then the records member.
    let head = head.strip_suffix(b"}").ok_or_else(|| io::Error::other("a report serializes to an object"))?;
    let head = head.strip_suffix(b"\n").unwrap_or(head);
    out.write_all(head)?;
    out.write_all(b",\n  \"records\": [")?;
    let mut first = true;
    for record in records {
        out.write_all(if first { b"\n    " } else { b",\n    " })?;
        first = false;
        serde_json::to_writer(&mut out, &record).map_err(io::Error::other)?;
    }
    out.write_all(if first { b"]\n}\n" } else { b"\n  ]\n}\n" })?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streamed_report_is_one_json_object() {
        let report = Report { format: FORMAT.into(), version: VERSION, result: "FAILED".into(), ..Report::default() };
        let record = RecordResult {
            index: 3,
            facility: "79001".into(),
            sequence: 4,
            record_id: "r4".into(),
            received: "2026-12-05T00:00:00Z".into(),
            signed: None,
            kid: None,
            status: Status::Failed,
            sub_indication: Some(sub::HASH_FAILURE.into()),
            reason: Some("the envelope's digest is not the entry's".into()),
        };
        for records in [vec![], vec![record.clone(), record]] {
            let mut out = Vec::new();
            write_json(&report, records.clone(), &mut out).unwrap();
            let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(value["format"], FORMAT);
            assert_eq!(value["records"].as_array().unwrap().len(), records.len());
            if !records.is_empty() {
                assert_eq!(value["records"][0]["status"], "FAILED");
                assert_eq!(value["records"][0]["sub_indication"], "HASH_FAILURE");
            }
        }
    }
}
