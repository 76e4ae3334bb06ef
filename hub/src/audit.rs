//! An auditor's check of a hub's ledger, offline from its directory: every entry is rebuilt
//! into the RFC 9162 tree, whose root must be the one the latest signed tree head names (signed
//! by the hub's tree-head key); a facility's record id or sequence number twice is an error.
//! Gaps and reordering are reported, not errors (DESIGN 3.5): records legitimately arrive out
//! of order (a crashed sender's lease, back-off), and a gap may still be on its way. A number
//! the facility withdrew (its signed tombstone is in the ledger) is reported with its reason,
//! and is not a gap.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use medseal::ledger::{LedgerEntry, MerkleTree, TreeHead};
use medseal::{Key, Verifier};

use crate::error::{Error, Result};
use crate::files::{self, HubPaths};
use crate::store;

/// What the audit found (everything it returns has been checked).
#[derive(Clone, Debug)]
pub struct Audit {
    /// The entries, in ledger order.
    pub entries: Vec<LedgerEntry>,
    /// The latest signed tree head, verified, whose root the entries rebuild.
    pub tree_head: Option<TreeHead>,
    /// Per facility: what its sequence numbers look like.
    pub sources: BTreeMap<String, SourceSummary>,
}

/// One facility's sequence numbers in the ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceSummary {
    /// How many records (withdrawals not counted).
    pub records: u64,
    /// The numbers the facility withdrew with a signed tombstone, with the reason it gave, in
    /// ledger order. They are not gaps.
    pub withdrawn: Vec<(u64, String)>,
    /// The highest sequence number.
    pub highest: u64,
    /// Numbers below `highest` that are missing (at most the first 100).
    pub gaps: Vec<u64>,
    /// Entries whose number is lower than one before it in the ledger.
    pub out_of_order: u64,
}

/// Audits the ledger of the hub in `dir` (read-only use of its database).
pub fn audit(dir: &Path) -> Result<Audit> {
    let paths = HubPaths::new(dir);
    let db = store::open_read_only(&paths.database())?;
    let conn = &db.conn;
    let key = Key::import(&files::read(&paths.tree_head_pub(), 1 << 20)?, None)
        .map_err(|e| Error::new(format!("the tree-head public key: {}", e.message())))?;
    let size = store::leaves(conn)?.len() as u64;
    let mut entries = Vec::new();
    let mut tree = MerkleTree::new();
    for (index, text) in store::entries(conn, 0, size, None)?.iter().enumerate() {
        let entry = LedgerEntry::from_json(text.as_bytes()).map_err(|e| Error::new(format!("ledger entry {index}: {}", e.message())))?;
        tree.push(entry.leaf_hash());
        entries.push(entry);
    }
    let tree_head = match store::latest_tree_head(conn)? {
        None if size == 0 => None,
        None => return Err(Error::new(format!("the ledger has {size} entries but no signed tree head"))),
        Some((_, jws)) => {
            let head = TreeHead::verify(jws.as_bytes(), &Verifier::new(vec![Arc::new(key)]))
                .map_err(|e| Error::new(format!("the latest tree head: {}", e.message())))?;
            let root = tree.root(head.tree_size).map_err(|e| Error::new(format!("the latest tree head: {}", e.message())))?;
            if root != head.root_hash {
                return Err(Error::new(format!("the entries do not rebuild the signed root of size {}", head.tree_size)));
            }
            if head.tree_size != size {
                return Err(Error::new(format!("the latest tree head covers {} entries, the ledger holds {size}", head.tree_size)));
            }
            Some(head)
        }
    };
    let mut seen: BTreeMap<&str, HashSet<u64>> = BTreeMap::new();
    let mut sources: BTreeMap<String, SourceSummary> = BTreeMap::new();
    // Record ids live in each facility's namespace: the same id of two facilities is two records.
    let mut ids = HashSet::new();
    for (index, entry) in entries.iter().enumerate() {
        if !ids.insert((entry.source.as_str(), entry.record_id.as_str())) {
            return Err(Error::new(format!(
                "{}: record {} is in the ledger twice (again at index {index})",
                entry.source, entry.record_id
            )));
        }
        if !seen.entry(entry.source.as_str()).or_default().insert(entry.sequence) {
            return Err(Error::new(format!(
                "{}: sequence {} is in the ledger twice (again at index {index})",
                entry.source, entry.sequence
            )));
        }
        let summary = sources.entry(entry.source.clone()).or_default();
        if entry.sequence < summary.highest {
            summary.out_of_order += 1;
        }
        match &entry.withdrawn {
            Some(reason) => summary.withdrawn.push((entry.sequence, reason.clone())),
            None => summary.records += 1,
        }
        summary.highest = summary.highest.max(entry.sequence);
    }
    for (source, summary) in sources.iter_mut() {
        let numbers = &seen[source.as_str()];
        summary.gaps = (1..summary.highest).filter(|n| !numbers.contains(n)).take(100).collect();
    }
    Ok(Audit { entries, tree_head, sources })
}
