//! The hub's tree heads a facility has verified, and the forks found among them (issue 10,
//! point 11). Every new head is checked for consistency with the latest one held before it is
//! kept ([`crate::transport`] asks the hub for the RFC 9162 consistency proof); two heads that
//! cannot both be true are recorded as a fork, and delivery stops while one is recorded.

use rusqlite::{params, OptionalExtension};

use super::schema::Db;
use super::{Fork, Outbox, SeenTreeHead};
use crate::error::{err, Result};
use crate::ledger::TreeHead;

impl Outbox {
    /// The largest tree head this facility verified, if any.
    pub fn latest_tree_head(&self) -> Result<Option<SeenTreeHead>> {
        self.read(|tx| {
            tx.query_row("SELECT tree_size, root_hash, jws, seen_at FROM tree_heads ORDER BY tree_size DESC LIMIT 1", [], seen_head)
                .optional()
                .db()
        })
    }

    /// The tree head of `tree_size` this facility verified, if any.
    pub fn tree_head(&self, tree_size: u64) -> Result<Option<SeenTreeHead>> {
        let size = i64::try_from(tree_size).unwrap_or(i64::MAX);
        self.read(|tx| {
            tx.query_row("SELECT tree_size, root_hash, jws, seen_at FROM tree_heads WHERE tree_size = ?1", [size], seen_head)
                .optional()
                .db()
        })
    }

    /// Every tree head this facility verified, smallest first: what it can show an auditor.
    pub fn tree_heads(&self) -> Result<Vec<SeenTreeHead>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached("SELECT tree_size, root_hash, jws, seen_at FROM tree_heads ORDER BY tree_size").db()?;
            let rows = stmt.query_map([], seen_head).db()?;
            rows.collect::<rusqlite::Result<_>>().db()
        })
    }

    /// Keeps a verified tree head the caller found consistent with those held. A head of a
    /// size already held must be that same head (else `MEDSEAL_LEDGER_FORK`: the caller
    /// records the fork).
    pub fn keep_tree_head(&self, head: &TreeHead, jws: &str, now: i64) -> Result<()> {
        let size = i64::try_from(head.tree_size).map_err(|_| err!(MEDSEAL_LEDGER_RANGE, "tree size {} is out of range", head.tree_size))?;
        self.write(|tx| {
            let held: Option<Vec<u8>> =
                tx.query_row("SELECT root_hash FROM tree_heads WHERE tree_size = ?1", [size], |row| row.get(0)).optional().db()?;
            match held {
                Some(root) if root == head.root_hash => Ok(()),
                Some(_) => Err(err!(MEDSEAL_LEDGER_FORK, "the hub signed two different roots for tree size {}", head.tree_size)),
                None => {
                    tx.execute(
                        "INSERT INTO tree_heads (tree_size, root_hash, jws, seen_at) VALUES (?1, ?2, ?3, ?4)",
                        params![size, &head.root_hash[..], jws, now],
                    )
                    .db()?;
                    Ok(())
                }
            }
        })
    }

    /// Records a fork: the head held and the inconsistent head the hub showed, both signed by
    /// the hub. Delivery stops from now on ([`Outbox::check_no_fork`]).
    pub fn record_fork(&self, held_jws: &str, shown_jws: &str, reason: &str, now: i64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO forks (detected_at, held_jws, shown_jws, reason) VALUES (?1, ?2, ?3, ?4)",
                params![now, held_jws, shown_jws, reason],
            )
            .db()?;
            Ok(())
        })
    }

    /// Every fork found, oldest first.
    pub fn forks(&self) -> Result<Vec<Fork>> {
        self.read(|tx| {
            let mut stmt =
                tx.prepare_cached("SELECT fork_id, detected_at, held_jws, shown_jws, reason FROM forks ORDER BY fork_id").db()?;
            let rows = stmt
                .query_map([], |row| {
                    Ok(Fork {
                        fork_id: row.get(0)?,
                        detected_at: row.get(1)?,
                        held_jws: row.get(2)?,
                        shown_jws: row.get(3)?,
                        reason: row.get(4)?,
                    })
                })
                .db()?;
            rows.collect::<rusqlite::Result<_>>().db()
        })
    }

    /// `MEDSEAL_LEDGER_FORK` when a fork was recorded: the hub showed two histories, and
    /// nothing more is delivered to it until people have looked (the forks are the evidence).
    pub fn check_no_fork(&self) -> Result<()> {
        match self.forks()?.first() {
            None => Ok(()),
            Some(fork) => Err(err!(
                MEDSEAL_LEDGER_FORK,
                "delivery is stopped: the hub showed two histories ({}; found {}). Both signed tree heads are kept in the outbox (medseal outbox tree-heads) as evidence for the auditor",
                fork.reason,
                crate::utc::show(fork.detected_at)
            )),
        }
    }
}

fn seen_head(row: &rusqlite::Row<'_>) -> rusqlite::Result<SeenTreeHead> {
    let root: Vec<u8> = row.get(1)?;
    let root_hash: [u8; 32] =
        root.as_slice().try_into().map_err(|_| rusqlite::Error::InvalidColumnType(1, "root_hash".into(), rusqlite::types::Type::Blob))?;
    Ok(SeenTreeHead { tree_size: row.get::<_, i64>(0)? as u64, root_hash, jws: row.get(2)?, seen_at: row.get(3)? })
}
