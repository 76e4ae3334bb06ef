//! The hub's SQLite database: accepted records, the ledger, signed tree heads and the
//! enrolled facilities. WAL, `synchronous=FULL`: a record answered `ACCEPTED` is on disk.

use std::collections::HashMap;
use std::path::Path;

use medseal::ledger::Hash;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::error::{Error, Result};

/// The schema version this code reads and writes (`PRAGMA user_version`). Versions 1 (record
/// ids global across facilities) and 2 (no trust-list history) are migrated to it when the hub
/// opens the database.
const SCHEMA_VERSION: i64 = 3;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ledger (
    idx INTEGER PRIMARY KEY,        -- 0, 1, 2, ... without gaps
    leaf_hash BLOB NOT NULL,        -- SHA-256(0x00 || entry)
    entry TEXT NOT NULL             -- canonical JSON ledger entry
);
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

/// Version 2: record ids live in each facility's namespace (issue 10, point 1), roles (facility
/// or auditor), and the revocation of signing keys and client certificates (point 9).
const SCHEMA_V2: &str = "
CREATE TABLE records (
    source TEXT NOT NULL,
    record_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    created TEXT NOT NULL,
    content_type TEXT NOT NULL,
    digest BLOB NOT NULL,           -- SHA-256 of the envelope
    envelope BLOB NOT NULL,         -- the protobuf envelope, still sealed
    received INTEGER NOT NULL,      -- Unix seconds
    ledger_index INTEGER NOT NULL UNIQUE REFERENCES ledger(idx),
    receipt TEXT NOT NULL,          -- the compact JWS returned, returned again for duplicates
    receipt_tree_size INTEGER NOT NULL,
    PRIMARY KEY (source, record_id)
);
ALTER TABLE facilities ADD COLUMN role TEXT NOT NULL DEFAULT 'facility' CHECK (role IN ('facility', 'auditor'));
ALTER TABLE facility_keys ADD COLUMN revoked INTEGER;       -- Unix seconds it stops being trusted
ALTER TABLE facility_keys ADD COLUMN revoked_reason TEXT;
CREATE TABLE client_certificates (
    fingerprint TEXT PRIMARY KEY,   -- hex SHA-256 of the DER certificate
    facility TEXT NOT NULL REFERENCES facilities(facility),
    certificate TEXT NOT NULL,      -- PEM
    issued INTEGER NOT NULL,
    revoked INTEGER,                -- Unix seconds it stops being accepted
    revoked_reason TEXT
);
-- Bumped by every change to who and which keys are trusted: the running hub reloads then.
CREATE TABLE registry (id INTEGER PRIMARY KEY CHECK (id = 0), version INTEGER NOT NULL);
INSERT INTO registry VALUES (0, 0);
CREATE TRIGGER registry_facilities_insert AFTER INSERT ON facilities BEGIN UPDATE registry SET version = version + 1; END;
CREATE TRIGGER registry_facilities_update AFTER UPDATE ON facilities BEGIN UPDATE registry SET version = version + 1; END;
CREATE TRIGGER registry_keys_insert AFTER INSERT ON facility_keys BEGIN UPDATE registry SET version = version + 1; END;
CREATE TRIGGER registry_keys_update AFTER UPDATE ON facility_keys BEGIN UPDATE registry SET version = version + 1; END;
CREATE TRIGGER registry_certificates_insert AFTER INSERT ON client_certificates BEGIN UPDATE registry SET version = version + 1; END;
CREATE TRIGGER registry_certificates_update AFTER UPDATE ON client_certificates BEGIN UPDATE registry SET version = version + 1; END;
CREATE TRIGGER registry_facilities_delete AFTER DELETE ON facilities BEGIN UPDATE registry SET version = version + 1; END;
CREATE TRIGGER registry_keys_delete AFTER DELETE ON facility_keys BEGIN UPDATE registry SET version = version + 1; END;
CREATE TRIGGER registry_certificates_delete AFTER DELETE ON client_certificates BEGIN UPDATE registry SET version = version + 1; END;
";

/// Version 3: the trust lists the hub verified records with, and the keys it accepted them from
/// (issue 11: an auditor judges old records with the list of their day, which the hub's
/// current list file no longer is).
const SCHEMA_V3: &str = "
CREATE TABLE trust_lists (
    sequence INTEGER PRIMARY KEY,
    issued INTEGER NOT NULL,        -- Unix seconds, from the list
    expires INTEGER NOT NULL,       -- Unix seconds, from the list
    jws BLOB NOT NULL,              -- the signed list, byte for byte
    loaded INTEGER NOT NULL         -- when the hub first verified records with it
);
CREATE TABLE trust_list_keys (
    kid TEXT PRIMARY KEY,           -- RFC 7638 thumbprint
    public_key TEXT NOT NULL,       -- SPKI PEM
    added INTEGER NOT NULL          -- when the hub first accepted lists from it
);
";

/// Opens (creating when `create`) the database with the hub's settings and schema.
pub fn open(path: &Path, create: bool) -> Result<Connection> {
    use rusqlite::OpenFlags;
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let mut conn = Connection::open_with_flags(path, flags).map_err(|e| Error::from(e).context(format!("opening {}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    match version {
        0 if create => {
            let tx = conn.transaction()?;
            tx.execute_batch(SCHEMA)?;
            tx.execute_batch(SCHEMA_V2)?;
            tx.execute_batch(SCHEMA_V3)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            tx.commit()?;
        }
        1 => {
            migrate_v1(&mut conn).map_err(|e| e.context(format!("upgrading {} from schema version 1", path.display())))?;
            migrate_v2(&mut conn).map_err(|e| e.context(format!("upgrading {} from schema version 2", path.display())))?;
        }
        2 => migrate_v2(&mut conn).map_err(|e| e.context(format!("upgrading {} from schema version 2", path.display())))?,
        SCHEMA_VERSION => {}
        0 => return Err(Error::new(format!("{} is not a hub database (run `medseal hub init`)", path.display()))),
        other => return Err(Error::new(format!("{} has schema version {other}; this hub reads {SCHEMA_VERSION}", path.display()))),
    }
    unique_sequences(&conn, path);
    Ok(conn)
}

/// Version 1 to 2 in one transaction: the records move to the per-facility key (no v1 database
/// can hold one id twice: its key was the id alone), and every facility's current client
/// certificate is recorded so that it can be revoked.
fn migrate_v1(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(
        "DROP INDEX IF EXISTS records_by_source;
         DROP INDEX IF EXISTS records_unique_sequence;
         ALTER TABLE records RENAME TO records_v1;",
    )?;
    tx.execute_batch(SCHEMA_V2)?;
    tx.execute_batch(
        "INSERT INTO records (source, record_id, sequence, created, content_type, digest, envelope, received, ledger_index, receipt, receipt_tree_size)
         SELECT source, record_id, sequence, created, content_type, digest, envelope, received, ledger_index, receipt, receipt_tree_size FROM records_v1;
         DROP TABLE records_v1;",
    )?;
    let certificates: Vec<(String, i64, String)> = {
        let mut stmt = tx.prepare("SELECT facility, enrolled, client_certificate FROM facilities")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (facility, enrolled, pem) in certificates {
        insert_client_certificate(&tx, &facility, &pem, enrolled)?;
    }
    tx.pragma_update(None, "user_version", 2)?;
    tx.commit()?;
    Ok(())
}

/// Version 2 to 3 in one transaction: the trust-list history tables, empty (the lists used
/// before were not kept; the one in use is recorded when the hub starts).
fn migrate_v2(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA_V3)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
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

/// The record `source` accepted under `record_id`, if any (ids are per facility).
pub fn find_record(conn: &Connection, source: &str, record_id: &str) -> Result<Option<StoredRecord>> {
    Ok(conn
        .query_row(
            "SELECT digest, ledger_index, receipt, receipt_tree_size FROM records WHERE source = ?1 AND record_id = ?2",
            [source, record_id],
            |row| {
                Ok(StoredRecord {
                    digest: row.get(0)?,
                    ledger_index: row.get::<_, i64>(1)? as u64,
                    receipt: row.get(2)?,
                    receipt_tree_size: row.get::<_, i64>(3)? as u64,
                })
            },
        )
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

/// A page of ledger entries of `start..end` (canonical JSON), in order, with `source` only that
/// facility's: at most `limit` of them, and the ledger index of the next entry of the range
/// when there are more (where the next page starts), so that nothing is cut silently.
pub fn entries_page(conn: &Connection, start: u64, end: u64, source: Option<&str>, limit: u64) -> Result<(Vec<String>, Option<u64>)> {
    let take = limit.saturating_add(1).min(i64::MAX as u64) as i64;
    let mut rows: Vec<(i64, String)> = match source {
        None => {
            let mut stmt = conn.prepare_cached("SELECT idx, entry FROM ledger WHERE idx >= ?1 AND idx < ?2 ORDER BY idx LIMIT ?3")?;
            let rows = stmt.query_map(params![start as i64, end as i64, take], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        }
        Some(source) => {
            let mut stmt = conn.prepare_cached(
                "SELECT ledger.idx, ledger.entry FROM records JOIN ledger ON ledger.idx = records.ledger_index
                 WHERE records.source = ?1 AND records.ledger_index >= ?2 AND records.ledger_index < ?3
                 ORDER BY records.ledger_index LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![source, start as i64, end as i64, take], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        }
    };
    let next = if rows.len() as u64 > limit { rows.pop().map(|(idx, _)| idx as u64) } else { None };
    Ok((rows.into_iter().map(|(_, entry)| entry).collect(), next))
}

/// Ledger entries `start..end` (canonical JSON), in order; with `source`, only that facility's.
pub fn entries(conn: &Connection, start: u64, end: u64, source: Option<&str>) -> Result<Vec<String>> {
    let rows = match source {
        None => {
            let mut stmt = conn.prepare_cached("SELECT entry FROM ledger WHERE idx >= ?1 AND idx < ?2 ORDER BY idx")?;
            let rows = stmt.query_map([start as i64, end as i64], |row| row.get(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()?
        }
        Some(source) => {
            let mut stmt = conn.prepare_cached(
                "SELECT ledger.entry FROM records JOIN ledger ON ledger.idx = records.ledger_index
                 WHERE records.source = ?1 AND records.ledger_index >= ?2 AND records.ledger_index < ?3 ORDER BY records.ledger_index",
            )?;
            let rows = stmt.query_map(params![source, start as i64, end as i64], |row| row.get(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()?
        }
    };
    Ok(rows)
}

/// What an enrolled client certificate may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Submits its own records; reads its own entries.
    Facility,
    /// Reads the whole ledger; submits nothing.
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Facility => "facility",
            Role::Auditor => "auditor",
        }
    }
}

/// The role of an enrolled name, or `None` when it is not enrolled.
pub fn role(conn: &Connection, name: &str) -> Result<Option<Role>> {
    let role: Option<String> = conn.query_row("SELECT role FROM facilities WHERE facility = ?1", [name], |row| row.get(0)).optional()?;
    Ok(role.map(|r| if r == "auditor" { Role::Auditor } else { Role::Facility }))
}

/// A record-signing key to register at enrolment.
pub struct NewKey<'a> {
    pub kid: &'a str,
    pub public_key_pem: &'a str,
}

/// Enrols `name` (or enrols it again: a new client certificate, more signing keys; a key
/// already registered for it is kept as it is). A key registered for another name is refused.
pub fn enroll(conn: &mut Connection, name: &str, role: Role, now: i64, client_certificate: &str, keys: &[NewKey<'_>]) -> Result<()> {
    let tx = conn.transaction()?;
    if let Some(existing) = self::role(&tx, name)? {
        if existing != role {
            return Err(Error::new(format!("{name} is enrolled as a {}, not as a {}", existing.as_str(), role.as_str())));
        }
    }
    tx.execute(
        "INSERT INTO facilities (facility, enrolled, client_certificate, role) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(facility) DO UPDATE SET enrolled = excluded.enrolled, client_certificate = excluded.client_certificate",
        params![name, now, client_certificate, role.as_str()],
    )?;
    insert_client_certificate(&tx, name, client_certificate, now)?;
    for key in keys {
        let owner: Option<String> =
            tx.query_row("SELECT facility FROM facility_keys WHERE kid = ?1", [key.kid], |row| row.get(0)).optional()?;
        match owner {
            Some(owner) if owner == name => continue,
            Some(owner) => return Err(Error::new(format!("the signing key {} is already enrolled for {owner}", key.kid))),
            None => {
                tx.execute(
                    "INSERT INTO facility_keys (facility, kid, public_key, added) VALUES (?1, ?2, ?3, ?4)",
                    params![name, key.kid, key.public_key_pem, now],
                )?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// Records a client certificate issued to `name` (so that it can be revoked).
fn insert_client_certificate(tx: &Transaction<'_>, name: &str, pem: &str, issued: i64) -> Result<()> {
    let fingerprint = crate::pki::fingerprint_pem(pem)?;
    tx.execute(
        "INSERT OR IGNORE INTO client_certificates (fingerprint, facility, certificate, issued) VALUES (?1, ?2, ?3, ?4)",
        params![fingerprint, name, pem, issued],
    )?;
    Ok(())
}

/// An enrolled record-signing key.
pub struct EnrolledKey {
    pub facility: String,
    pub public_key_pem: String,
    /// When it stops being trusted (Unix seconds), if revoked.
    pub revoked: Option<i64>,
}

/// Every enrolled record-signing key, revoked ones included.
pub fn facility_keys(conn: &Connection) -> Result<Vec<EnrolledKey>> {
    let mut stmt = conn.prepare("SELECT facility, public_key, revoked FROM facility_keys ORDER BY id")?;
    let rows = stmt.query_map([], |row| Ok(EnrolledKey { facility: row.get(0)?, public_key_pem: row.get(1)?, revoked: row.get(2)? }))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Every enrolled facility (auditors are not facilities).
pub fn facilities(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT facility FROM facilities WHERE role = 'facility' ORDER BY facility")?;
    let rows = stmt.query_map([], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Revokes the signing key `kid` from `at` on. Returns its facility; an unknown kid is an error.
pub fn revoke_key(conn: &Connection, kid: &str, at: i64, reason: &str) -> Result<String> {
    let facility: Option<String> =
        conn.query_row("SELECT facility FROM facility_keys WHERE kid = ?1", [kid], |row| row.get(0)).optional()?;
    let facility = facility.ok_or_else(|| Error::new(format!("no enrolled signing key has the kid {kid}")))?;
    conn.execute("UPDATE facility_keys SET revoked = ?2, revoked_reason = ?3 WHERE kid = ?1", params![kid, at, reason])?;
    Ok(facility)
}

/// Revokes the client certificate with this SHA-256 fingerprint (hex) from `at` on. Returns
/// the name it was issued to; an unknown fingerprint is an error.
pub fn revoke_certificate(conn: &Connection, fingerprint: &str, at: i64, reason: &str) -> Result<String> {
    let name: Option<String> =
        conn.query_row("SELECT facility FROM client_certificates WHERE fingerprint = ?1", [fingerprint], |row| row.get(0)).optional()?;
    let name = name.ok_or_else(|| Error::new(format!("no client certificate issued by this hub has the fingerprint {fingerprint}")))?;
    conn.execute(
        "UPDATE client_certificates SET revoked = ?2, revoked_reason = ?3 WHERE fingerprint = ?1",
        params![fingerprint, at, reason],
    )?;
    Ok(name)
}

/// The fingerprints of revoked client certificates and when each stops being accepted.
pub fn revoked_certificates(conn: &Connection) -> Result<HashMap<String, i64>> {
    let mut stmt = conn.prepare("SELECT fingerprint, revoked FROM client_certificates WHERE revoked IS NOT NULL")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<HashMap<_, _>>>()?)
}

/// Changes whenever a facility, key, certificate or revocation is added or changed (the
/// running hub reloads its key set and revocations then).
pub fn registry_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT version FROM registry WHERE id = 0", [], |row| row.get(0))?)
}

/// Records a trust list the hub verifies records with (kept forever, by sequence number). The
/// same sequence with other bytes is refused: the audit holds one list per number, so a
/// department that changes a list gives it a new number.
pub fn remember_trust_list(conn: &Connection, sequence: u64, issued: i64, expires: i64, jws: &[u8], now: i64) -> Result<()> {
    let known: Option<Vec<u8>> =
        conn.query_row("SELECT jws FROM trust_lists WHERE sequence = ?1", [sequence as i64], |row| row.get(0)).optional()?;
    match known {
        Some(known) if known == jws => Ok(()),
        Some(_) => Err(Error::new(format!(
            "trust list #{sequence} is not the list #{sequence} this hub used before (the hub keeps every list for the audit, one per sequence number): the health department publishes a changed list with a new sequence number"
        ))),
        None => {
            conn.execute(
                "INSERT INTO trust_lists (sequence, issued, expires, jws, loaded) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![sequence as i64, issued, expires, jws, now],
            )?;
            Ok(())
        }
    }
}

/// Records a key the hub accepts trust lists from (kept forever).
pub fn remember_trust_list_key(conn: &Connection, kid: &str, public_key_pem: &str, now: i64) -> Result<()> {
    conn.execute("INSERT OR IGNORE INTO trust_list_keys (kid, public_key, added) VALUES (?1, ?2, ?3)", params![kid, public_key_pem, now])?;
    Ok(())
}

/// Opens the database for reading only, changing nothing in the hub directory (`hub export`,
/// `hub audit`): no schema created, upgraded or indexed, no file added.
/// With a write-ahead log present (the hub runs, or stopped uncleanly), SQLite reads through
/// it, with the hub's own `-shm` and `-wal` files. Without one (the hub stopped cleanly),
/// SQLite would create both to read, so the file is opened `immutable` instead, and
/// [`ReadOnly::unchanged`] tells whether a hub started meanwhile.
pub fn open_read_only(path: &Path) -> Result<ReadOnly> {
    use rusqlite::OpenFlags;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::path::PathBuf::from(wal);
    let live = wal.exists();
    let mut uri = String::from("file:");
    for c in path.to_str().ok_or_else(|| Error::new(format!("{} is not a UTF-8 path", path.display())))?.chars() {
        match c {
            '%' | '?' | '#' => uri.push_str(&format!("%{:02X}", c as u32)),
            c => uri.push(c),
        }
    }
    uri.push_str(if live { "?mode=ro" } else { "?immutable=1" });
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(&uri, flags).map_err(|e| Error::from(e).context(format!("opening {}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    match version {
        2 | SCHEMA_VERSION => {}
        0 => return Err(Error::new(format!("{} is not a hub database", path.display()))),
        1 => {
            return Err(Error::new(format!(
                "{} has schema version 1, older than this medseal reads: start the hub once with this medseal to upgrade it",
                path.display()
            )))
        }
        other => return Err(Error::new(format!("{} has schema version {other}; this medseal reads {SCHEMA_VERSION}", path.display()))),
    }
    let stamp = if live { None } else { Some(file_stamp(path)?) };
    Ok(ReadOnly { conn, path: path.to_owned(), wal, stamp, version })
}

/// A database opened by [`open_read_only`].
pub struct ReadOnly {
    pub conn: Connection,
    path: std::path::PathBuf,
    wal: std::path::PathBuf,
    /// Size and modification time of the database file, when opened `immutable`.
    stamp: Option<(u64, std::time::SystemTime)>,
    version: i64,
}

impl ReadOnly {
    /// Whether the database holds the trust-list history (schema 3; a version-2 database was
    /// not opened by this hub since its upgrade).
    pub fn has_trust_lists(&self) -> bool {
        self.version >= 3
    }

    /// For a database opened `immutable`: no hub opened it since (no write-ahead log appeared,
    /// the file did not change), so what was read is one consistent state.
    pub fn unchanged(&self) -> Result<bool> {
        match self.stamp {
            None => Ok(true),
            Some(stamp) => Ok(!self.wal.exists() && file_stamp(&self.path)? == stamp),
        }
    }
}

fn file_stamp(path: &Path) -> Result<(u64, std::time::SystemTime)> {
    let meta = std::fs::metadata(path).map_err(|e| crate::error::io_error("read", path, &e))?;
    Ok((meta.len(), meta.modified().map_err(|e| crate::error::io_error("read", path, &e))?))
}

/// Every ledger entry in order, one at a time: `f(index, canonical JSON)`. A gap in the
/// indexes is an error.
pub fn each_entry(conn: &Connection, mut f: impl FnMut(u64, &str) -> Result<()>) -> Result<u64> {
    let mut stmt = conn.prepare("SELECT idx, entry FROM ledger ORDER BY idx")?;
    let mut rows = stmt.query([])?;
    let mut next = 0u64;
    while let Some(row) = rows.next()? {
        let idx: i64 = row.get(0)?;
        if idx != next as i64 {
            return Err(Error::new(format!("the ledger table has a gap: index {idx} follows {}", next as i64 - 1)));
        }
        f(next, row.get_ref(1)?.as_str().map_err(|e| Error::new(format!("ledger entry {idx}: {e}")))?)?;
        next += 1;
    }
    Ok(next)
}

/// The number of ledger entries.
pub fn ledger_size(conn: &Connection) -> Result<u64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM ledger", [], |row| row.get::<_, i64>(0))? as u64)
}

/// Every signed tree head by increasing size: `f(size, JWS)`.
pub fn each_tree_head(conn: &Connection, mut f: impl FnMut(u64, &str) -> Result<()>) -> Result<()> {
    let mut stmt = conn.prepare("SELECT tree_size, jws FROM tree_heads ORDER BY tree_size")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        f(row.get::<_, i64>(0)? as u64, row.get_ref(1)?.as_str().map_err(|e| Error::new(format!("a tree head: {e}")))?)?;
    }
    Ok(())
}

/// Which stored envelopes [`each_envelope`] gives.
pub struct EnvelopeSelection<'a> {
    /// Only these facilities' (all when empty).
    pub facilities: &'a [String],
    /// Received at or after (Unix seconds).
    pub from: i64,
    /// Received at or before (Unix seconds).
    pub to: i64,
}

/// How many stored envelopes `selection` gives.
pub fn count_envelopes(conn: &Connection, selection: &EnvelopeSelection<'_>) -> Result<u64> {
    let facilities = serde_json::to_string(selection.facilities).expect("JSON");
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM records WHERE received >= ?1 AND received <= ?2
         AND (json_array_length(?3) = 0 OR source IN (SELECT value FROM json_each(?3)))",
        params![selection.from, selection.to, facilities],
        |row| row.get::<_, i64>(0),
    )? as u64)
}

/// The stored envelopes `selection` gives, by ledger index, one at a time (the envelope is
/// borrowed from SQLite's row: memory does not grow with the records): `f(index, envelope)`.
pub fn each_envelope(conn: &Connection, selection: &EnvelopeSelection<'_>, mut f: impl FnMut(u64, &[u8]) -> Result<()>) -> Result<()> {
    let facilities = serde_json::to_string(selection.facilities).expect("JSON");
    let mut stmt = conn.prepare(
        "SELECT ledger_index, envelope FROM records WHERE received >= ?1 AND received <= ?2
         AND (json_array_length(?3) = 0 OR source IN (SELECT value FROM json_each(?3))) ORDER BY ledger_index",
    )?;
    let mut rows = stmt.query(params![selection.from, selection.to, facilities])?;
    while let Some(row) = rows.next()? {
        let index = row.get::<_, i64>(0)? as u64;
        f(index, row.get_ref(1)?.as_blob().map_err(|e| Error::new(format!("the envelope of entry {index}: {e}")))?)?;
    }
    Ok(())
}

/// One enrolled name with its keys and client certificates, ever (times in Unix seconds).
pub struct EnrolledHistory {
    pub facility: String,
    pub role: String,
    pub enrolled: i64,
    /// Signing keys: kid, SPKI PEM.
    pub keys: Vec<Issued>,
    /// Client certificates: SHA-256 fingerprint, PEM.
    pub certificates: Vec<Issued>,
}

/// A key or certificate given to an enrolled name, and its revocation.
pub struct Issued {
    /// The kid of a key, the fingerprint of a certificate.
    pub id: String,
    /// PEM.
    pub pem: String,
    /// When it was added or issued.
    pub since: i64,
    pub revoked: Option<i64>,
    pub revoked_reason: Option<String>,
}

/// Every enrolled name (auditors included), by name, with its history.
pub fn enrolled_history(conn: &Connection) -> Result<Vec<EnrolledHistory>> {
    let mut stmt = conn.prepare("SELECT facility, role, enrolled FROM facilities ORDER BY facility")?;
    let names = stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?)))?;
    let names = names.collect::<rusqlite::Result<Vec<_>>>()?;
    let mut keys =
        conn.prepare("SELECT kid, public_key, added, revoked, revoked_reason FROM facility_keys WHERE facility = ?1 ORDER BY id")?;
    let mut certificates = conn.prepare(
        "SELECT fingerprint, certificate, issued, revoked, revoked_reason FROM client_certificates WHERE facility = ?1 ORDER BY issued, fingerprint",
    )?;
    let mut history = Vec::with_capacity(names.len());
    for (facility, role, enrolled) in names {
        let five = |row: &rusqlite::Row<'_>| {
            Ok(Issued { id: row.get(0)?, pem: row.get(1)?, since: row.get(2)?, revoked: row.get(3)?, revoked_reason: row.get(4)? })
        };
        let k = keys.query_map([&facility], five)?.collect::<rusqlite::Result<Vec<_>>>()?;
        let c = certificates.query_map([&facility], five)?.collect::<rusqlite::Result<Vec<_>>>()?;
        history.push(EnrolledHistory { facility, role, enrolled, keys: k, certificates: c });
    }
    Ok(history)
}

/// Every trust list the hub verified records with, by sequence: `f(sequence, signed bytes)`.
pub fn each_trust_list(conn: &Connection, mut f: impl FnMut(u64, &[u8]) -> Result<()>) -> Result<()> {
    let mut stmt = conn.prepare("SELECT sequence, jws FROM trust_lists ORDER BY sequence")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let sequence = row.get::<_, i64>(0)? as u64;
        f(sequence, row.get_ref(1)?.as_blob().map_err(|e| Error::new(format!("trust list #{sequence}: {e}")))?)?;
    }
    Ok(())
}

/// Every key the hub accepted trust lists from: (kid, SPKI PEM), by kid.
pub fn trust_list_keys(conn: &Connection) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare("SELECT kid, public_key FROM trust_list_keys ORDER BY kid")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
