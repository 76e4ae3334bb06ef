//! An auditor's check of a hub's ledger, offline from its directory: every entry is rebuilt
//! into the RFC 9162 tree, whose root must be the one the latest signed tree head names (signed
//! by the hub's tree-head key), and every facility's sequence numbers must run 1, 2, 3, …
//! with no gap or repeat, each record id once.

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
    /// Per facility: the highest sequence number (all numbers below it are present once).
    pub sources: BTreeMap<String, u64>,
}

/// Audits the ledger of the hub in `dir` (read-only use of its database).
pub fn audit(dir: &Path) -> Result<Audit> {
    let paths = HubPaths::new(dir);
    let conn = store::open(&paths.database(), false)?;
    let key = Key::import(&files::read(&paths.tree_head_pub(), 1 << 20)?, None)
        .map_err(|e| Error::new(format!("the tree-head public key: {}", e.message())))?;
    let size = store::leaves(&conn)?.len() as u64;
    let mut entries = Vec::new();
    let mut tree = MerkleTree::new();
    for (index, text) in store::entries(&conn, 0, size)?.iter().enumerate() {
        let entry = LedgerEntry::from_json(text.as_bytes()).map_err(|e| Error::new(format!("ledger entry {index}: {}", e.message())))?;
        tree.push(entry.leaf_hash());
        entries.push(entry);
    }
    let tree_head = match store::latest_tree_head(&conn)? {
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
    let mut sources: BTreeMap<String, u64> = BTreeMap::new();
    let mut ids = HashSet::new();
    for (index, entry) in entries.iter().enumerate() {
        if !ids.insert(entry.record_id.as_str()) {
            return Err(Error::new(format!("record {} is in the ledger twice (again at index {index})", entry.record_id)));
        }
        let last = sources.entry(entry.source.clone()).or_insert(0);
        if entry.sequence != *last + 1 {
            return Err(Error::new(format!(
                "{}: sequence {} follows {} at index {index} (a gap, a repeat or a reordering)",
                entry.source, entry.sequence, last
            )));
        }
        *last = entry.sequence;
    }
    Ok(Audit { entries, tree_head, sources })
}
