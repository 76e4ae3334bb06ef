//! One audit run (`medseal audit`): the bundle opened, the log and completeness checked in one
//! pass over the entries, every record checked on every core, and the report put together with
//! its inputs pinned. The CLI only parses options, shows progress and writes files.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use medseal::{Key, RecipientKey};

use crate::bundle::{self, Bundle, BundleError};
use crate::completeness::Completeness;
use crate::log::{self, Evidence};
use crate::records::{self, Checked, Progress, RecordOptions};
use crate::report::{self, finding, Finding, Input, RecordResult, Report, Status, Summary};

/// What to audit, with which evidence.
#[derive(Clone, Default)]
pub struct Options {
    /// The bundle's folder.
    pub bundle: PathBuf,
    /// `--tree-head` files (signed tree heads, receipts, `outbox tree-heads --json`).
    pub tree_heads: Vec<PathBuf>,
    /// `--outbox` files: hospitals' outboxes, read without writing.
    pub outboxes: Vec<PathBuf>,
    /// `--key`: the auditor's escrow private key.
    pub escrow_key: Option<PathBuf>,
    /// `--tree-head-key`: the hub's tree-head public key as the auditor knows it.
    pub tree_head_key: Option<PathBuf>,
    /// `--receipt-key`: the hub's receipt public key as the auditor knows it.
    pub receipt_key: Option<PathBuf>,
    /// `--trust-list-key`: trust-list keys as the auditor knows them.
    pub trust_list_keys: Vec<PathBuf>,
    /// `--at`: the run's "now" (Unix seconds); the clock when `None`.
    pub at: Option<i64>,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Told how many entries have been checked.
    pub progress: Option<Progress>,
    /// The program, for the report (`medseal 0.1.0`).
    pub tool: String,
}

/// A finished run: the report, and what is needed to write its per-record part.
pub struct Audit {
    /// The bundle audited.
    pub bundle: Bundle,
    /// The report (without the per-record results, streamed by [`Audit::write_json`]).
    pub report: Report,
    checked: Checked,
}

fn input_error(path: &std::path::Path, what: impl std::fmt::Display) -> BundleError {
    BundleError { code: "INPUT_INVALID", message: format!("{}: {what}", path.display()) }
}

fn read_input(path: &std::path::Path) -> bundle::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| BundleError { code: "INPUT_UNREADABLE", message: format!("{}: {e}", path.display()) })
}

fn public_key(path: &std::path::Path) -> bundle::Result<Arc<Key>> {
    let key = Key::import(&read_input(path)?, None).map_err(|e| input_error(path, e.message()))?;
    Ok(Arc::new(key.to_public()))
}

fn pinned(role: &str, path: &std::path::Path) -> bundle::Result<Input> {
    let sha256 = bundle::file_digest(path).map_err(|e| BundleError { code: "INPUT_UNREADABLE", message: e.message })?;
    Ok(Input { role: role.into(), path: path.display().to_string(), sha256 })
}

/// How serious a finding is, for ordering: the log's integrity first, then what hospitals hold,
/// then completeness, then single records.
fn rank(code: &str) -> u8 {
    match code {
        finding::LOG_FORKED | finding::TREE_HEAD_MISMATCH | finding::LOG_TRUNCATED => 0,
        finding::TREE_HEAD_INVALID
        | finding::BUNDLE_FILE_ALTERED
        | finding::ENTRY_INVALID
        | finding::ENTRIES_UNSIGNED
        | finding::ENTRY_BACKDATED => 1,
        finding::RECEIPTED_RECORD_MISSING | finding::RECEIPT_INVALID => 2,
        finding::SEQUENCE_GAP | finding::SEQUENCE_REPEATED | finding::RECORD_ID_REPEATED | finding::RECORD_COPIED => 3,
        _ => 4,
    }
}

/// Runs the audit. Errors mean it could not run (exit 3 in the CLI): the bundle or an input
/// unreadable or not what it should be. Everything wrong inside a readable bundle is a finding.
pub fn run(options: &Options) -> bundle::Result<Audit> {
    let bundle = Bundle::open(&options.bundle)?;
    let at = options.at.unwrap_or_else(medseal::utc::now);

    let mut inputs = vec![pinned("bundle", &bundle.path(bundle::MANIFEST))?];
    let mut evidence = Evidence::default();
    for path in &options.tree_heads {
        inputs.push(pinned("tree-head", path)?);
        evidence.external.extend(log::read_tree_heads(path)?);
    }
    for path in &options.outboxes {
        inputs.push(pinned("outbox", path)?);
        evidence.outboxes.push(path.clone());
    }
    if let Some(path) = &options.tree_head_key {
        inputs.push(pinned("tree-head-key", path)?);
        evidence.tree_head_key = Some(public_key(path)?);
    }
    if let Some(path) = &options.receipt_key {
        inputs.push(pinned("receipt-key", path)?);
        evidence.receipt_key = Some(public_key(path)?);
    }
    let mut trust_list_keys = Vec::new();
    for path in &options.trust_list_keys {
        inputs.push(pinned("trust-list-key", path)?);
        trust_list_keys.push(public_key(path)?);
    }
    let escrow_key = match &options.escrow_key {
        None => None,
        Some(path) => {
            let key = RecipientKey::import(&read_input(path)?).map_err(|e| input_error(path, e.message()))?;
            // The private key is never digested into the report: its public key's thumbprint is.
            inputs.push(Input { role: "key".into(), path: path.display().to_string(), sha256: key.kid().to_owned() });
            Some(key)
        }
    };

    let mut findings = Vec::new();
    let mut completeness = Completeness::new();
    let log = log::check_with(&bundle, &evidence, &mut findings, &mut |index, entry| completeness.add(index, entry))?;
    let mut facilities = completeness.finish(&bundle, &mut findings)?;
    let record_options = RecordOptions {
        escrow_key,
        trust_list_keys,
        at,
        threads: options.threads,
        progress: options.progress.clone(),
        ..RecordOptions::default()
    };
    let checked = records::check(&bundle, &record_options, &mut findings)?;

    for facility in &mut facilities {
        if let Some(counts) = checked.facilities.get(&facility.facility) {
            facility.passed = counts.passed;
        }
    }
    findings.sort_by_key(|f: &Finding| rank(&f.code));
    let counts = checked.counts;
    let summary = Summary {
        entries: log.size,
        records: counts.records,
        passed: counts.passed,
        failed: counts.failed,
        indeterminate: counts.indeterminate,
        withdrawn: counts.withdrawals,
        not_checked: log.size.saturating_sub(counts.records + counts.withdrawals),
        facilities: facilities.len() as u64,
        findings: findings.len() as u64,
    };
    let report = Report {
        format: report::FORMAT.into(),
        version: report::VERSION,
        tool: options.tool.clone(),
        at: medseal::utc::show(at),
        result: if findings.is_empty() { "PASSED" } else { "FAILED" }.into(),
        inputs,
        selection: bundle.manifest().selection.clone(),
        summary,
        log,
        facilities,
        findings,
    };
    Ok(Audit { bundle, report, checked })
}

impl Audit {
    /// Whether the audit found nothing wrong.
    pub fn passed(&self) -> bool {
        self.report.findings.is_empty()
    }

    /// Writes the JSON report, the per-record results streamed from the bundle.
    pub fn write_json<W: Write>(&self, out: W) -> bundle::Result<()> {
        let mut error = None;
        let results = self.checked.results(&self.bundle)?.map_while(|r| r.map_err(|e| error = Some(e)).ok());
        let written = report::write_json(&self.report, results, out);
        if let Some(e) = error {
            return Err(e);
        }
        written.map_err(|e| BundleError { code: "OUTPUT_FAILED", message: format!("the JSON report: {e}") })
    }

    /// The records that did not pass, at most `limit` of them, in ledger order.
    pub fn not_passed(&self, limit: usize) -> bundle::Result<Vec<RecordResult>> {
        let mut out = Vec::new();
        for result in self.checked.results(&self.bundle)? {
            let result = result?;
            if result.status != Status::Passed {
                out.push(result);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The HTML page of the report.
    pub fn html(&self) -> bundle::Result<String> {
        Ok(crate::html::render(&self.report, &self.not_passed(crate::html::MAX_RECORDS_LISTED)?))
    }
}
