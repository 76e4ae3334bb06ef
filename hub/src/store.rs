//! The hub's SQLite database: accepted records, the ledger, signed tree heads and the
//! enrolled facilities. WAL, `synchronous=FULL`: a record answered `ACCEPTED` is on disk.

use std::path::Path;

use medseal::ledger::Hash;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::error::{Error, Result};

/// The schema version this code reads and writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ledger (
    idx INTEGER PRIMARY KEY,        -- 0, 1, 2, ... without gaps
    leaf_hash BLOB NOT NULL,        -- SHA-256(0x00 || entry)
    entry TEXT NOT NULL             -- canonical JSON ledger entry
);
CREATE TABLE IF NOT EXISTS records (
    record_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    created TEXT NOT NULL,
    content_type TEXT NOT NULL,
    digest BLOB NOT NULL,           -- SHA-256 of the envelope
    envelope BLOB NOT NULL,         -- the protobuf envelope, still sealed
    received INTEGER NOT NULL,      -- Unix seconds
    ledger_index INTEGER NOT NULL UNIQUE REFERENCES ledger(idx),
    receipt TEXT NOT NULL,          -- the compact JWS returned, returned again for duplicates
    receipt_tree_size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_source ON records(source, sequence);
CREATE TABLE IF NOT EXISTS tree_heads (
    tree_size INTEGER PRIMARY KEY,
    root_hash BLOB NOT NULL,
    timestamp INTEGER NOT NULL,
    jws TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS facilities (
    facility TEXT PRIMARY KEY,
    enrolled INTEGER NOT NULL,      -- Unix seconds of the last enrolment
    client_certificate TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS facility_keys (
    id INTEGER PRIMARY KEY,
    facility TEXT NOT NULL REFERENCES facilities(facility),
    kid TEXT NOT NULL UNIQUE,       -- RFC 7638 thumbprint
    public_key TEXT NOT NULL,       -- SPKI PEM, record-signing
    added INTEGER NOT NULL
);
";

/// Opens (creating when `create`) the database with the hub's settings and schema.
pub fn open(path: &Path, create: bool) -> Result<Connection> {
    use rusqlite::OpenFlags;
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(|e| Error::from(e).context(format!("opening {}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    match version {
        0 if create => {
            conn.execute_batch(SCHEMA)?;
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        SCHEMA_VERSION => {}
        0 => return Err(Error::new(format!("{} is not a hub database (run `medseal hub init`)", path.display()))),
        other => return Err(Error::new(format!("{} has schema version {other}; this hub reads {SCHEMA_VERSION}", path.display()))),
    }
    unique_sequences(&conn, path);
    Ok(conn)
}

/// Makes SQLite refuse a repeated (source, sequence) too, behind the hub's own check. A database
/// written before the hub refused repeats may already hold one: then the hub still starts (its
/// check keeps new repeats out) and says which facility to look at with `medseal hub audit`.
fn unique_sequences(conn: &Connection, path: &Path) {
    const INDEX: &str = "CREATE UNIQUE INDEX IF NOT EXISTS records_unique_sequence ON records(source, sequence)";
    if let Err(error) = conn.execute_batch(INDEX) {
        let repeat: Option<(String, i64)> = conn
            .query_row("SELECT source, sequence FROM records GROUP BY source, sequence HAVING COUNT(*) > 1 LIMIT 1", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()
            .unwrap_or(None);
        match repeat {
            Some((source, sequence)) => eprintln!(
                "medseal-hub: warning: {} holds sequence {sequence} of {} more than once (accepted before repeats were refused); `medseal hub audit` lists every repeat",
                path.display(),
                medseal::untrusted::shown(&source)
            ),
            None => eprintln!("medseal-hub: warning: cannot add the unique (source, sequence) index to {}: {error}", path.display()),
        }
    }
}

/// All leaf hashes in ledger order, checked to be 0, 1, 2, … without gaps.
pub fn leaves(conn: &Connection) -> Result<Vec<Hash>> {
    let mut stmt = conn.prepare("SELECT idx, leaf_hash FROM ledger ORDER BY idx")?;
    let mut rows = stmt.query([])?;
    let mut leaves = Vec::new();
    while let Some(row) = rows.next()? {
        let idx: i64 = row.get(0)?;
        let hash: Vec<u8> = row.get(1)?;
        if idx != leaves.len() as i64 {
            return Err(Error::new(format!("the ledger table has a gap: index {idx} follows {}", leaves.len() as i64 - 1)));
        }
        leaves.push(Hash::try_from(hash.as_slice()).map_err(|_| Error::new(format!("ledger leaf {idx} is not a 32-byte hash")))?);
    }
    Ok(leaves)
}

/// A record already accepted.
#[derive(Clone, Debug)]
pub struct StoredRecord {
    pub digest: Vec<u8>,
    pub ledger_index: u64,
    pub receipt: String,
    pub receipt_tree_size: u64,
}

/// The record accepted under `record_id`, if any.
pub fn find_record(conn: &Connection, record_id: &str) -> Result<Option<StoredRecord>> {
    Ok(conn
        .query_row("SELECT digest, ledger_index, receipt, receipt_tree_size FROM records WHERE record_id = ?1", [record_id], |row| {
            Ok(StoredRecord {
                digest: row.get(0)?,
                ledger_index: row.get::<_, i64>(1)? as u64,
                receipt: row.get(2)?,
                receipt_tree_size: row.get::<_, i64>(3)? as u64,
            })
        })
        .optional()?)
}

/// Whether a record of `source` already holds `sequence`.
pub fn sequence_taken(conn: &Connection, source: &str, sequence: u64) -> Result<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM records WHERE source = ?1 AND sequence = ?2 LIMIT 1", params![source, sequence as i64], |_| Ok(()))
        .optional()?
        .is_some())
}

/// What is stored of one accepted record.
pub struct NewRecord<'a> {
    pub meta: &'a medseal::Meta,
    pub digest: &'a [u8],
    pub envelope: &'a [u8],
    pub received: i64,
    pub ledger_index: u64,
    pub leaf_hash: &'a Hash,
    pub entry_json: &'a [u8],
    pub receipt: &'a str,
    pub receipt_tree_size: u64,
}

/// Stores an accepted record and appends its ledger entry (inside the caller's transaction).
pub fn insert_record(tx: &Transaction<'_>, r: &NewRecord<'_>) -> Result<()> {
    let entry = std::str::from_utf8(r.entry_json).map_err(|_| Error::new("a ledger entry is not UTF-8"))?;
    tx.execute("INSERT INTO ledger (idx, leaf_hash, entry) VALUES (?1, ?2, ?3)", params![r.ledger_index as i64, &r.leaf_hash[..], entry])?;
    tx.execute(
        "INSERT INTO records (record_id, source, sequence, created, content_type, digest, envelope, received, ledger_index, receipt, receipt_tree_size)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            r.meta.record_id,
            r.meta.source,
            r.meta.sequence as i64,
            r.meta.created,
            r.meta.content_type,
            r.digest,
            r.envelope,
            r.received,
            r.ledger_index as i64,
            r.receipt,
            r.receipt_tree_size as i64
        ],
    )?;
    Ok(())
}

/// Stores a signed tree head.
pub fn insert_tree_head(conn: &Connection, tree_size: u64, root_hash: &Hash, timestamp: i64, jws: &str) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO tree_heads (tree_size, root_hash, timestamp, jws) VALUES (?1, ?2, ?3, ?4)",
        params![tree_size as i64, &root_hash[..], timestamp, jws],
    )?;
    Ok(())
}

/// The signed tree head of `tree_size`, if the hub signed one.
pub fn tree_head(conn: &Connection, tree_size: u64) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT jws FROM tree_heads WHERE tree_size = ?1", [tree_size as i64], |row| row.get(0)).optional()?)
}

/// The largest signed tree head: (size, JWS).
pub fn latest_tree_head(conn: &Connection) -> Result<Option<(u64, String)>> {
    Ok(conn
        .query_row("SELECT tree_size, jws FROM tree_heads ORDER BY tree_size DESC LIMIT 1", [], |row| {
            Ok((row.get::<_, i64>(0)? as u64, row.get(1)?))
        })
        .optional()?)
}

/// Ledger entries `start..end` (canonical JSON), in order.
pub fn entries(conn: &Connection, start: u64, end: u64) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT entry FROM ledger WHERE idx >= ?1 AND idx < ?2 ORDER BY idx")?;
    let rows = stmt.query_map([start as i64, end as i64], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
}

/// Whether `facility` is enrolled.
pub fn facility_enrolled(conn: &Connection, facility: &str) -> Result<bool> {
    Ok(conn.query_row("SELECT 1 FROM facilities WHERE facility = ?1", [facility], |_| Ok(())).optional()?.is_some())
}

/// Enrols `facility` (or enrols it again: a new client certificate, one more signing key).
pub fn enroll(conn: &mut Connection, facility: &str, now: i64, client_certificate: &str, kid: &str, public_key_pem: &str) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO facilities (facility, enrolled, client_certificate) VALUES (?1, ?2, ?3)
         ON CONFLICT(facility) DO UPDATE SET enrolled = excluded.enrolled, client_certificate = excluded.client_certificate",
        params![facility, now, client_certificate],
    )?;
    tx.execute(
        "INSERT INTO facility_keys (facility, kid, public_key, added) VALUES (?1, ?2, ?3, ?4)",
        params![facility, kid, public_key_pem, now],
    )?;
    tx.commit()?;
    Ok(())
}

/// Every enrolled record-signing key: (facility, SPKI PEM).
pub fn facility_keys(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare("SELECT facility, public_key FROM facility_keys ORDER BY id")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Every enrolled facility.
pub fn facilities(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT facility FROM facilities ORDER BY facility")?;
    let rows = stmt.query_map([], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Changes whenever a facility or key is added (the running hub reloads its key set then).
pub fn registry_version(conn: &Connection) -> Result<(i64, i64, i64)> {
    Ok(conn.query_row(
        "SELECT (SELECT count(*) FROM facility_keys), (SELECT coalesce(max(id), 0) FROM facility_keys), (SELECT coalesce(max(enrolled), 0) FROM facilities)",
        [],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?)
}
