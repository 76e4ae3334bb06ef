//! The log checks (docs/AUDIT.md): the audit rebuilds the RFC 9162 tree from
//! `ledger/entries.jsonl` itself and holds every signed tree head to it, those in the bundle and
//! those the auditor got elsewhere.
//!
//! A tree head in the bundle only shows that the hub signed the history it exported: a hub that
//! deleted entries and signed the shorter log again passes that check. What catches it is a
//! tree head or a receipt the hub handed out earlier (a hospital's outbox keeps both, a receipt
//! may have been printed, a newspaper may have published a head): each must agree with the
//! rebuilt tree at its size, so a log rewritten, truncated or forked by the hub is a finding.
//! This is checked against the tree itself, never against proofs the hub supplies.
//!
//! Memory: 32 bytes per entry for the leaf hashes and about as much again for the tree's
//! cached subtrees (its inner nodes), read once from a stream of the entries.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use medseal::ledger::{self, Hash, LedgerEntry, MerkleTree, Receipt, TreeHead, RECEIPT_TYP, TREE_HEAD_TYP};
use medseal::untrusted::shown;
use medseal::{Key, Verifier};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::bundle::{self, Bundle, BundleError, EntryLine, ENTRIES, TREE_HEADS};
use crate::report::{finding, Finding, LogReport};

/// What the auditor holds from outside the bundle: nothing here comes from the hub's export.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// `--tree-head-key`: the hub's tree-head public key as the auditor knows it. When given,
    /// tree heads are verified with it, and a bundle that gives another key is a finding.
    pub tree_head_key: Option<Arc<Key>>,
    /// The hub's receipt public key as the auditor knows it, likewise (optional).
    pub receipt_key: Option<Arc<Key>>,
    /// Signed tree heads and receipts obtained elsewhere (`--tree-head`, read with
    /// [`read_tree_heads`]).
    pub external: Vec<External>,
    /// Hospitals' outbox files (`--outbox`), opened read-only.
    pub outboxes: Vec<PathBuf>,
}

/// One piece of evidence from outside the bundle, with where it came from (for the findings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum External {
    /// A signed tree head (compact JWS, typ `medseal-tree-head+jws`).
    TreeHead { origin: String, jws: String },
    /// A receipt (compact JWS, typ `medseal-receipt+jws`): the hub's signed word that an entry
    /// is at an index of its log.
    Receipt { origin: String, jws: String },
}

/// Largest `--tree-head` file read (an outbox's heads as JSON are a few hundred bytes each).
const MAX_EVIDENCE_FILE: u64 = 256 << 20;

fn input_invalid(message: String) -> BundleError {
    BundleError { code: "INPUT_INVALID", message }
}

fn input_unreadable(path: &Path, what: impl std::fmt::Display) -> BundleError {
    BundleError { code: "INPUT_UNREADABLE", message: format!("{}: {what}", path.display()) }
}

/// Reads a `--tree-head` file: compact JWS, one per line, each a signed tree head or a receipt
/// (told apart by their `typ`; the signatures are checked by the audit, not here); or the JSON
/// of `medseal outbox tree-heads --json` (`{"source", "tree_heads": [{"tree_head", …}], "forks":
/// [{"held_tree_head", "shown_tree_head", …}]}`, a fork's two heads included: both are signed
/// by the hub); or the JSON mapping of an inclusion proof (its `tree_head`). Anything else is
/// `INPUT_INVALID`; I/O errors `INPUT_UNREADABLE`.
pub fn read_tree_heads(path: &Path) -> bundle::Result<Vec<External>> {
    use std::io::Read;
    let file = fs::File::open(path).map_err(|e| input_unreadable(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_EVIDENCE_FILE + 1).read_to_end(&mut bytes).map_err(|e| input_unreadable(path, e))?;
    if bytes.len() as u64 > MAX_EVIDENCE_FILE {
        return Err(input_invalid(format!("{} is larger than {MAX_EVIDENCE_FILE} bytes; it is not a file of tree heads", path.display())));
    }
    let text = String::from_utf8(bytes).map_err(|_| input_invalid(format!("{} is not UTF-8 text", path.display())))?;
    let name = path.display().to_string();
    let items = if text.trim_start().starts_with('{') { from_json(&name, &text)? } else { from_lines(&name, &text)? };
    if items.is_empty() {
        return Err(input_invalid(format!("{name} holds no signed tree head or receipt")));
    }
    Ok(items)
}

/// `medseal outbox tree-heads --json`, or an inclusion proof's JSON mapping.
fn from_json(name: &str, text: &str) -> bundle::Result<Vec<External>> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| input_invalid(format!("{name} is not JSON: {e}")))?;
    let text_at = |v: &serde_json::Value, member: &str, origin: &str| -> bundle::Result<String> {
        v.get(member)
            .and_then(|s| s.as_str())
            .map(str::to_owned)
            .ok_or_else(|| input_invalid(format!("{origin}: \"{member}\" must be a string (a compact JWS)")))
    };
    let mut items = Vec::new();
    if let Some(heads) = value.get("tree_heads") {
        let heads = heads.as_array().ok_or_else(|| input_invalid(format!("{name}: \"tree_heads\" must be an array")))?;
        for (i, head) in heads.iter().enumerate() {
            let origin = format!("{name} tree_heads[{i}]");
            items.push(External::TreeHead { jws: text_at(head, "tree_head", &origin)?, origin });
        }
        if let Some(forks) = value.get("forks") {
            let forks = forks.as_array().ok_or_else(|| input_invalid(format!("{name}: \"forks\" must be an array")))?;
            for (i, fork) in forks.iter().enumerate() {
                for member in ["held_tree_head", "shown_tree_head"] {
                    let origin = format!("{name} forks[{i}].{member}");
                    items.push(External::TreeHead { jws: text_at(fork, member, &origin)?, origin });
                }
            }
        }
    } else if value.get("tree_head").is_some() && value.get("audit_path").is_some() {
        let origin = format!("{name} (the inclusion proof's tree head)");
        items.push(External::TreeHead { jws: text_at(&value, "tree_head", &origin)?, origin });
    } else {
        return Err(input_invalid(format!(
            "{name} is JSON but neither the output of `medseal outbox tree-heads --json` nor an inclusion proof"
        )));
    }
    Ok(items)
}

/// Compact JWS, one per line.
fn from_lines(name: &str, text: &str) -> bundle::Result<Vec<External>> {
    let mut items = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let jws = line.trim();
        if jws.is_empty() {
            continue;
        }
        let origin = format!("{name} line {}", n + 1);
        match jws_typ(jws).as_deref() {
            Some(TREE_HEAD_TYP) => items.push(External::TreeHead { origin, jws: jws.to_owned() }),
            Some(RECEIPT_TYP) => items.push(External::Receipt { origin, jws: jws.to_owned() }),
            _ => {
                return Err(input_invalid(format!(
                    "{origin} is neither a signed tree head ({TREE_HEAD_TYP}) nor a receipt ({RECEIPT_TYP}) as a compact JWS"
                )))
            }
        }
    }
    Ok(items)
}

/// The `typ` of a compact JWS's protected header, lower case without `application/` (RFC 7515
/// 4.1.9), read only to tell tree heads from receipts: the signature is checked later.
fn jws_typ(jws: &str) -> Option<String> {
    use base64::Engine;
    let header = jws.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let typ = value.get("typ")?.as_str()?.to_ascii_lowercase();
    Some(typ.strip_prefix("application/").map(str::to_owned).unwrap_or(typ))
}

/// [`check_with`] without a visitor.
pub fn check(bundle: &Bundle, evidence: &Evidence, findings: &mut Vec<Finding>) -> bundle::Result<LogReport> {
    check_with(bundle, evidence, findings, &mut |_, _| {})
}

/// The log checks: the bundle's files against its manifest; every line of
/// `ledger/entries.jsonl` (`on_entry` sees each full entry as it streams by, so other checks
/// such as [`crate::completeness`] share the one pass); every signed tree head of the bundle
/// against the rebuilt tree; every tree head and receipt of `evidence`, and every outbox's
/// tree heads and receipts, against it too. Findings are appended; counts are returned.
/// Errors (`BUNDLE_*`, `INPUT_*`) mean the audit could not run.
pub fn check_with(
    bundle: &Bundle,
    evidence: &Evidence,
    findings: &mut Vec<Finding>,
    on_entry: &mut dyn FnMut(u64, &LedgerEntry),
) -> bundle::Result<LogReport> {
    for (path, what) in bundle.check_files() {
        findings.push(found(finding::BUNDLE_FILE_ALTERED, format!("{path} is not the file the manifest pins: {what}")));
    }
    let (heads, bundle_kid) = hub_key(bundle.tree_head_key(), bundle::TREE_HEAD_KEY, evidence.tree_head_key.as_ref(), findings)?;
    let (receipts, _) = hub_key(bundle.receipt_key(), bundle::RECEIPT_KEY, evidence.receipt_key.as_ref(), findings)?;
    let tree = rebuild(bundle, findings, on_entry)?;
    let log = Log { tree, heads, receipts, receipted: RefCell::new(None), latest: Cell::new(None) };
    let size = log.tree.len();
    let mut report = LogReport {
        size,
        root_hash: ledger::encode_hash(&log.tree.root(size).expect("the tree's own size")),
        tree_head_key: bundle_kid,
        ..LogReport::default()
    };
    log.bundle_heads(bundle, &mut report, findings)?;
    for item in &evidence.external {
        match item {
            External::TreeHead { origin, jws } => log.external_head(origin, jws, &mut report, findings),
            External::Receipt { origin, jws } => log.receipt(origin, jws, None, &mut report, findings),
        }
    }
    for path in &evidence.outboxes {
        log.outbox(path, &mut report, findings)?;
    }
    log.receipted_size(findings);
    Ok(report)
}

fn found(code: &str, message: String) -> Finding {
    Finding { code: code.to_owned(), message, ..Finding::default() }
}

/// The verifier of one of the hub's keys: the auditor's pinned key when given (the bundle's must
/// then be the same, else a finding), else the bundle's. Also returns the bundle's key's kid.
fn hub_key(
    bundle_key: bundle::Result<Vec<u8>>,
    file: &str,
    pinned: Option<&Arc<Key>>,
    findings: &mut Vec<Finding>,
) -> bundle::Result<(Verifier, String)> {
    let code = if file == bundle::TREE_HEAD_KEY { finding::TREE_HEAD_INVALID } else { finding::RECEIPT_INVALID };
    let given = bundle_key.and_then(|bytes| {
        Key::import(&bytes, None).map_err(|e| BundleError { code: "BUNDLE_INVALID", message: format!("{file}: {}", e.message()) })
    });
    match (given, pinned) {
        (Ok(key), None) => {
            let kid = key.kid().to_owned();
            Ok((Verifier::new(vec![Arc::new(key.to_public())]), kid))
        }
        (Err(e), None) => Err(e),
        (given, Some(pinned)) => {
            let kid = match given {
                Ok(key) if key.kid() == pinned.kid() => key.kid().to_owned(),
                Ok(key) => {
                    findings.push(found(
                        code,
                        format!(
                            "the bundle's {file} (kid {}) is not the hub key the auditor gave (kid {}); everything is checked with the auditor's key",
                            key.kid(),
                            pinned.kid()
                        ),
                    ));
                    key.kid().to_owned()
                }
                Err(e) => {
                    findings.push(found(code, format!("{}; everything is checked with the key the auditor gave", e.message)));
                    String::new()
                }
            };
            Ok((Verifier::new(vec![Arc::new(pinned.to_public())]), kid))
        }
    }
}

/// Streams the entries into the tree. A line that is not an entry is a finding; its leaf is
/// still the hash of its bytes, so the tree is the one the hub built from those bytes.
fn rebuild(bundle: &Bundle, findings: &mut Vec<Finding>, on_entry: &mut dyn FnMut(u64, &LedgerEntry)) -> bundle::Result<MerkleTree> {
    // The manifest's size is only a hint for the allocation, bounded by what the file can hold
    // (a line is at least 60 bytes): an exact allocation keeps memory at 64 bytes per entry.
    let bytes = fs::metadata(bundle.path(ENTRIES)).map(|m| m.len()).unwrap_or(0);
    let capacity = bundle.manifest().ledger.size.min(bytes / 60 + 1);
    let mut leaves: Vec<Hash> = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    let mut entries = bundle.entries()?;
    #[allow(clippy::while_let_on_iterator)] // the loop reads the iterator's current line
    while let Some(item) = entries.next() {
        let (index, line) = item?;
        match line {
            Ok(EntryLine::Entry(entry)) => {
                leaves.push(ledger::leaf_hash(entries.raw_line()));
                on_entry(index, &entry);
            }
            Ok(EntryLine::Redacted(hash)) => {
                // Lines are redacted only for facilities an export left out: in an export of
                // every facility, a redacted line is a record hidden from the audit.
                if bundle.manifest().selection.facilities.is_empty() {
                    findings.push(Finding {
                        index: Some(index),
                        ..found(
                            finding::ENTRY_INVALID,
                            format!("{ENTRIES} line {} is only a leaf hash, but the export selected every facility", index + 1),
                        )
                    });
                }
                leaves.push(hash)
            }
            Err(message) => {
                findings.push(Finding {
                    index: Some(index),
                    ..found(finding::ENTRY_INVALID, format!("{ENTRIES} line {} is not a ledger entry: {message}", index + 1))
                });
                leaves.push(ledger::leaf_hash(entries.raw_line()));
            }
        }
    }
    Ok(MerkleTree::from_leaves(leaves))
}

/// The rebuilt tree and the hub's keys.
struct Log {
    tree: MerkleTree,
    heads: Verifier,
    receipts: Verifier,
    /// The largest tree size a matching receipt names, which receipt, and when it was received.
    receipted: RefCell<Option<(u64, String, i64)>>,
    /// The largest of the bundle's signed tree heads that matches the log.
    latest: Cell<Option<TreeHead>>,
}

/// How a verified tree head compares with the rebuilt tree.
enum Against {
    /// Its root is the tree's at its size.
    Matches,
    /// It covers more entries than the log holds.
    Beyond,
    /// Its root is not the tree's at its size: another history.
    Differs,
}

impl Log {
    fn against(&self, head: &TreeHead) -> Against {
        match self.tree.root(head.tree_size) {
            Err(_) => Against::Beyond,
            Ok(root) if root == head.root_hash => Against::Matches,
            Ok(_) => Against::Differs,
        }
    }

    fn size(&self) -> u64 {
        self.tree.len()
    }

    /// "is not what the bundle's first N entries rebuild (root R)".
    fn rebuilt(&self, size: u64) -> String {
        let root = self.tree.root(size).map(|root| ledger::encode_hash(&root)).unwrap_or_default();
        format!("is not what the bundle's first {size} entries rebuild (root {root})")
    }

    /// The signed tree heads in the bundle: each must verify and match the rebuilt tree; the
    /// entries past the largest one are signed by nothing.
    fn bundle_heads(&self, bundle: &Bundle, report: &mut LogReport, findings: &mut Vec<Finding>) -> bundle::Result<()> {
        let mut largest: Option<u64> = None;
        for (n, jws) in bundle.tree_heads()?.iter().enumerate() {
            let origin = format!("{TREE_HEADS} line {}", n + 1);
            let head = match TreeHead::verify(jws.as_bytes(), &self.heads) {
                Ok(head) => head,
                Err(e) => {
                    findings.push(found(finding::TREE_HEAD_INVALID, format!("{origin}: {} [{}]", e.message(), e.code())));
                    continue;
                }
            };
            largest = largest.max(Some(head.tree_size));
            let what = format!("{origin}: the tree head ({})", describe(&head));
            match self.against(&head) {
                Against::Matches => {
                    report.tree_heads_matched += 1;
                    if self.latest.get().map_or(true, |latest| latest.tree_size < head.tree_size) {
                        self.latest.set(Some(head));
                    }
                }
                Against::Beyond => findings.push(found(
                    finding::LOG_TRUNCATED,
                    format!("{what} covers more entries than the bundle's log holds ({})", self.size()),
                )),
                Against::Differs => findings.push(found(
                    finding::TREE_HEAD_MISMATCH,
                    format!("{what} {}: entries were changed after they were signed", self.rebuilt(head.tree_size)),
                )),
            }
        }
        let signed = largest.unwrap_or(0);
        if signed < self.size() {
            let unsigned = self.size() - signed;
            findings.push(Finding {
                index: Some(signed),
                ..found(
                    finding::ENTRIES_UNSIGNED,
                    match largest {
                        Some(size) => format!(
                            "entries {signed} to {} ({unsigned}) lie past the largest signed tree head (size {size}): nothing the hub signed covers them",
                            self.size() - 1
                        ),
                        None => format!("the log holds {unsigned} entries and no valid signed tree head covers any of them"),
                    },
                )
            });
        }
        Ok(())
    }

    /// A tree head from outside the bundle: signed by the hub's key, and the rebuilt tree's
    /// root at its size, else the hub showed someone another history than the one exported.
    fn external_head(&self, origin: &str, jws: &str, report: &mut LogReport, findings: &mut Vec<Finding>) {
        let head = match TreeHead::verify(jws.as_bytes(), &self.heads) {
            Ok(head) => head,
            Err(e) => {
                findings.push(found(
                    finding::TREE_HEAD_INVALID,
                    format!("a tree head from {origin} is not the hub's: {} [{}]", e.message(), e.code()),
                ));
                return;
            }
        };
        let what = format!("a tree head from {origin} ({})", describe(&head));
        match self.against(&head) {
            Against::Matches => report.external_tree_heads_matched += 1,
            Against::Beyond => findings.push(found(
                finding::LOG_TRUNCATED,
                format!("{what} covers more entries than the bundle's log holds ({}){}", self.size(), self.when(head.timestamp, "signed")),
            )),
            Against::Differs => findings
                .push(found(finding::LOG_FORKED, format!("{what} {}: the hub showed another history", self.rebuilt(head.tree_size)))),
        }
    }

    /// A receipt: signed by the hub's receipt key (and, from an outbox, for the record the
    /// outbox holds), and its entry is the bundle's at its index.
    fn receipt(&self, origin: &str, jws: &str, held: Option<&Held>, report: &mut LogReport, findings: &mut Vec<Finding>) {
        let receipt = match Receipt::verify(jws.as_bytes(), &self.receipts) {
            Ok(receipt) => receipt,
            Err(e) => {
                findings.push(Finding {
                    facility: held.map(|h| h.source.clone()),
                    sequence: held.map(|h| h.sequence),
                    ..found(finding::RECEIPT_INVALID, format!("a receipt from {origin} is not the hub's: {} [{}]", e.message(), e.code()))
                });
                return;
            }
        };
        let about = |code: &str, message: String| Finding {
            facility: Some(receipt.source.clone()),
            index: Some(receipt.ledger_index),
            sequence: Some(receipt.sequence),
            ..found(code, message)
        };
        let record = format!(
            "record \"{}\" (facility \"{}\" #{}, digest {})",
            shown(&receipt.record_id),
            shown(&receipt.source),
            receipt.sequence,
            ledger::encode_hash(&receipt.digest)
        );
        if let Some(held) = held {
            if let Some(differs) = held.differs(&receipt) {
                findings.push(about(finding::RECEIPT_INVALID, format!("the hub's receipt from {origin} names {record}, but {differs}")));
                return;
            }
        }
        let leaf = receipt.entry().leaf_hash();
        match self.tree.leaf(receipt.ledger_index) {
            Err(_) => findings.push(about(
                finding::RECEIPTED_RECORD_MISSING,
                format!(
                    "the hub's receipt from {origin} puts {record} at ledger index {}; the bundle's log holds only {} entries{}",
                    receipt.ledger_index,
                    self.size(),
                    self.when(receipt.received, "received")
                ),
            )),
            Ok(found_leaf) if found_leaf != leaf => findings.push(about(
                finding::RECEIPTED_RECORD_MISSING,
                format!(
                    "the hub's receipt from {origin} puts {record} at ledger index {}; the bundle's entry there is another",
                    receipt.ledger_index
                ),
            )),
            Ok(_) => {
                report.receipts_matched += 1;
                let mut largest = self.receipted.borrow_mut();
                if receipt.tree_size > largest.as_ref().map_or(0, |(size, _, _)| *size) {
                    *largest = Some((receipt.tree_size, format!("the hub's receipt from {origin} for {record}"), receipt.received));
                }
            }
        }
    }

    /// A receipt is also the hub's signed word that its log had `tree_size` entries: the
    /// largest such size beyond the bundle's log is one finding (not one per receipt).
    fn receipted_size(&self, findings: &mut Vec<Finding>) {
        if let Some((size, what, received)) = self.receipted.borrow().as_ref().filter(|(size, _, _)| *size > self.size()) {
            findings.push(found(
                finding::LOG_TRUNCATED,
                format!(
                    "{what} names a log of {size} entries; the bundle's log holds only {}{}",
                    self.size(),
                    self.when(*received, "received")
                ),
            ));
        }
    }

    /// Evidence of a log larger than the bundle's: when the hub signed it (a head's timestamp,
    /// a receipt's time received) before the bundle's latest head, the hub removed entries it
    /// had signed for. Evidence signed later may only mean the hospital's copy is newer than the
    /// export (the log grew since): still a finding, since the audit can only judge the bundle,
    /// and the message says to ask for a newer export (gather hospitals' evidence first, then
    /// export).
    fn when(&self, t: i64, verb: &str) -> String {
        match self.latest.get() {
            Some(latest) if t <= latest.timestamp => format!(
                ", and the hub {verb} it before the bundle's latest tree head (size {}, signed {}): the hub removed entries it had vouched for",
                latest.tree_size,
                medseal::utc::show(latest.timestamp)
            ),
            Some(latest) => format!(
                ". It is later than the bundle's latest tree head (size {}, signed {}): if the hospital's copy is newer than the export, audit a newer export",
                latest.tree_size,
                medseal::utc::show(latest.timestamp)
            ),
            None => String::new(),
        }
    }

    /// A hospital's outbox, read only: every tree head it kept (and both heads of any fork it
    /// recorded), and every delivered record's receipt and the tree head of its inclusion proof.
    fn outbox(&self, path: &Path, report: &mut LogReport, findings: &mut Vec<Finding>) -> bundle::Result<()> {
        let outbox = OutboxFile::open(path)?;
        let origin = format!("the outbox {}", path.display());
        let db = |e: rusqlite::Error| input_invalid(format!("{}: {e}", path.display()));
        let mut seen: HashSet<String> = HashSet::new();
        let mut head = |jws: String, what: Option<String>, report: &mut LogReport, findings: &mut Vec<Finding>| {
            if !seen.contains(&jws) {
                seen.insert(jws.clone());
                let origin = match what {
                    Some(what) => format!("{origin} ({what})"),
                    None => origin.clone(),
                };
                self.external_head(&origin, &jws, report, findings);
            }
        };
        if outbox.version >= 2 {
            let mut stmt = outbox.conn.prepare("SELECT jws FROM tree_heads ORDER BY tree_size").map_err(db)?;
            let mut rows = stmt.query([]).map_err(db)?;
            while let Some(row) = rows.next().map_err(db)? {
                head(row.get(0).map_err(db)?, None, report, findings);
            }
            let mut stmt = outbox.conn.prepare("SELECT fork_id, held_jws, shown_jws FROM forks ORDER BY fork_id").map_err(db)?;
            let mut rows = stmt.query([]).map_err(db)?;
            while let Some(row) = rows.next().map_err(db)? {
                let id: i64 = row.get(0).map_err(db)?;
                head(row.get(1).map_err(db)?, Some(format!("fork {id}: the head it held")), report, findings);
                head(row.get(2).map_err(db)?, Some(format!("fork {id}: the head the hub showed")), report, findings);
            }
        }
        let withdrawal = if outbox.version >= 3 { "withdrawal_digest" } else { "NULL" };
        let sql = format!(
            "SELECT record_id, sequence, digest, {withdrawal}, receipt, inclusion FROM records \
             WHERE state = 'delivered' AND receipt IS NOT NULL ORDER BY sequence"
        );
        let mut stmt = outbox.conn.prepare(&sql).map_err(db)?;
        let mut rows = stmt.query([]).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            let held = Held {
                source: outbox.source.clone(),
                record_id: row.get(0).map_err(db)?,
                sequence: row.get::<_, i64>(1).map_err(db)? as u64,
                digest: row.get(2).map_err(db)?,
                withdrawal_digest: row.get(3).map_err(db)?,
            };
            let receipt: String = row.get(4).map_err(db)?;
            self.receipt(&origin, &receipt, Some(&held), report, findings);
            let inclusion: Option<Vec<u8>> = row.get(5).map_err(db)?;
            if let Some(proof) = inclusion.and_then(|bytes| ledger::decode_inclusion_proof(&bytes).ok()) {
                let what = format!("the inclusion proof of record \"{}\" #{}", shown(&held.record_id), held.sequence);
                head(proof.tree_head, Some(what), report, findings);
            }
        }
        Ok(())
    }
}

/// "size N, signed TIME, root R".
fn describe(head: &TreeHead) -> String {
    format!("size {}, signed {}, root {}", head.tree_size, medseal::utc::show(head.timestamp), ledger::encode_hash(&head.root_hash))
}

/// A delivered record as a hospital's outbox holds it: what its receipt must name.
struct Held {
    source: String,
    record_id: String,
    sequence: u64,
    digest: Vec<u8>,
    /// A record withdrawn with a signed tombstone: the withdrawal's envelope digest, which is
    /// what the hub received and its receipt names.
    withdrawal_digest: Option<Vec<u8>>,
}

impl Held {
    /// What in `receipt` is not this record's, if anything.
    fn differs(&self, receipt: &Receipt) -> Option<String> {
        if receipt.source != self.source {
            return Some(format!("the outbox is facility \"{}\"'s", shown(&self.source)));
        }
        if receipt.record_id != self.record_id {
            return Some(format!("the outbox keeps it for record \"{}\"", shown(&self.record_id)));
        }
        if receipt.sequence != self.sequence {
            return Some(format!("the outbox's record has sequence {}", self.sequence));
        }
        let digest = &receipt.digest[..];
        if digest != self.digest.as_slice() && Some(digest) != self.withdrawal_digest.as_deref() {
            return Some("the outbox's record has another envelope digest".to_owned());
        }
        None
    }
}

/// A hospital's outbox file opened with SQLite read-only: nothing is written to it (no WAL
/// switch, no schema upgrade, no source bound), unlike `Outbox::open_existing`, which opens
/// read-write. A file at rest (no `-wal` beside it: closed cleanly, or a copy) is opened
/// `immutable`, so SQLite creates nothing beside it either; a file with a `-wal` (its facility's
/// program has it open, or crashed) is opened read-only in WAL mode, which reads what the `-wal`
/// holds and may create the `-shm` index SQLite needs for that. Audit a copy
/// (`medseal outbox backup`) rather than a file in use.
#[derive(Debug)]
struct OutboxFile {
    conn: Connection,
    source: String,
    /// `PRAGMA user_version`: 2 added the tree heads and forks, 3 the withdrawals.
    version: i64,
}

/// "MSOB", the outbox's `PRAGMA application_id`.
const OUTBOX_APPLICATION_ID: i64 = 0x4d53_4f42;

/// The newest outbox schema this code reads.
const OUTBOX_VERSION: i64 = 3;

impl OutboxFile {
    fn open(path: &Path) -> bundle::Result<OutboxFile> {
        if !path.is_file() {
            return Err(input_unreadable(path, "no such outbox file"));
        }
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let at_rest = !Path::new(&wal).exists();
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let uri = format!("file:{}?mode=ro{}", uri_path(path)?, if at_rest { "&immutable=1" } else { "" });
        let conn = Connection::open_with_flags(uri, flags).map_err(|e| input_unreadable(path, e))?;
        let not_outbox = |e: rusqlite::Error| input_invalid(format!("{} is not a medseal outbox: {e}", path.display()));
        let app: i64 = conn.pragma_query_value(None, "application_id", |row| row.get(0)).map_err(not_outbox)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(not_outbox)?;
        if app != OUTBOX_APPLICATION_ID {
            return Err(input_invalid(format!("{} is not a medseal outbox", path.display())));
        }
        if !(1..=OUTBOX_VERSION).contains(&version) {
            return Err(input_invalid(format!(
                "{} is an outbox of schema version {version}; this medseal reads 1 to {OUTBOX_VERSION}",
                path.display()
            )));
        }
        let source: Option<String> =
            conn.query_row("SELECT value FROM outbox_info WHERE key = 'source'", [], |row| row.get(0)).optional().map_err(not_outbox)?;
        let source = source.ok_or_else(|| input_invalid(format!("{} has no facility (it was never used)", path.display())))?;
        Ok(OutboxFile { conn, source, version })
    }
}

/// A path as the path of an SQLite `file:` URI (RFC 3986: everything but unreserved
/// characters and `/` percent-encoded).
fn uri_path(path: &Path) -> bundle::Result<String> {
    let text = path.to_str().ok_or_else(|| input_unreadable(path, "the path is not UTF-8"))?;
    let mut uri = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => uri.push(byte as char),
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compact(typ: &str) -> String {
        use base64::Engine;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"EdDSA","typ":"{typ}"}}"#));
        format!("{header}.e30.c2ln")
    }

    #[test]
    fn tree_head_files_are_read_in_each_form() {
        let dir = tempfile::tempdir().unwrap();
        let lines = dir.path().join("heads.txt");
        let (head, receipt) = (compact(TREE_HEAD_TYP), compact("application/MEDSEAL-RECEIPT+JWS"));
        fs::write(&lines, format!("{head}\n\n  {receipt}  \n")).unwrap();
        let items = read_tree_heads(&lines).unwrap();
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[0], External::TreeHead { jws, origin } if *jws == head && origin.ends_with("line 1")));
        assert!(matches!(&items[1], External::Receipt { jws, origin } if *jws == receipt && origin.ends_with("line 3")));

        let json = dir.path().join("outbox.json");
        let outbox = serde_json::json!({
            "source": "79001",
            "tree_heads": [{"tree_size": 1, "root_hash": "x", "seen_at": "t", "tree_head": "h1"}, {"tree_head": "h2"}],
            "forks": [{"detected_at": "t", "reason": "r", "held_tree_head": "h3", "shown_tree_head": "h4"}],
        });
        fs::write(&json, outbox.to_string()).unwrap();
        let jws: Vec<_> = read_tree_heads(&json)
            .unwrap()
            .into_iter()
            .map(|item| match item {
                External::TreeHead { jws, .. } => jws,
                External::Receipt { .. } => panic!("only tree heads"),
            })
            .collect();
        assert_eq!(jws, ["h1", "h2", "h3", "h4"], "a fork's two heads are evidence too");

        let proof = dir.path().join("proof.json");
        fs::write(&proof, r#"{"audit_path":[],"leaf_index":0,"tree_head":"h5","tree_size":1}"#).unwrap();
        assert!(matches!(&read_tree_heads(&proof).unwrap()[0], External::TreeHead { jws, .. } if jws == "h5"));
    }

    #[test]
    fn other_files_are_refused_as_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        for (content, why) in [
            (compact("medseal+jws"), "a record is not a tree head"),
            ("not a jws".to_owned(), "text"),
            ("{\"a\":1}".to_owned(), "other JSON"),
            ("\n".to_owned(), "empty"),
            ("{\"tree_heads\":[{\"tree_size\":1}]}".to_owned(), "a head without its JWS"),
        ] {
            fs::write(&path, content).unwrap();
            assert_eq!(read_tree_heads(&path).unwrap_err().code, "INPUT_INVALID", "{why}");
        }
        assert_eq!(read_tree_heads(&dir.path().join("missing")).unwrap_err().code, "INPUT_UNREADABLE");
    }

    #[test]
    fn a_file_that_is_not_an_outbox_is_refused_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.sqlite");
        Connection::open(&path).unwrap().execute_batch("CREATE TABLE t (x INTEGER);").unwrap();
        let before = fs::read(&path).unwrap();
        assert_eq!(OutboxFile::open(&path).unwrap_err().code, "INPUT_INVALID");
        assert_eq!(fs::read(&path).unwrap(), before, "nothing was written");
        let text = dir.path().join("text");
        fs::write(&text, "hello").unwrap();
        assert!(OutboxFile::open(&text).is_err());
        assert_eq!(fs::read(&text).unwrap(), b"hello");
        assert_eq!(OutboxFile::open(&dir.path().join("none")).unwrap_err().code, "INPUT_UNREADABLE");
    }
}
