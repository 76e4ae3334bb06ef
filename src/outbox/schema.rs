//! The outbox file: how it is recognised, created and versioned, and how SQLite errors become
//! medseal codes.
//!
//! A medseal outbox has `PRAGMA application_id` = `MSOB` and its schema version in
//! `PRAGMA user_version`. An empty file (or a new one) is initialised; any other SQLite
//! database, any non-database file and any newer version are `MEDSEAL_OUTBOX_SCHEMA`, checked
//! before anything is written (a foreign database is never switched to WAL).

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::error::{err, Error, Result};

/// `PRAGMA application_id` of medseal outboxes: "MSOB".
pub(super) fn application_id() -> i64 {
    i64::from(u32::from_be_bytes(*b"MSOB"))
}

/// The schema version this library writes and reads. Older files are upgraded in place
/// (one transaction) when opened.
pub(super) fn version() -> i64 {
    3
}

/// Version 3: a record abandoned after it had a number can carry a withdrawal (the facility's
/// signed tombstone for that sequence, sealed to the same recipients), which is what the
/// deliverer then sends. The sealed ledger columns stay as they were (`records_ledger_unchanged`);
/// a withdrawal once stored never changes either.
fn schema_v3() -> &'static str {
    "
ALTER TABLE records ADD COLUMN withdrawal_envelope BLOB;
ALTER TABLE records ADD COLUMN withdrawal_digest BLOB CHECK (withdrawal_digest IS NULL OR length(withdrawal_digest) = 32);

CREATE TRIGGER records_withdrawal_unchanged
BEFORE UPDATE OF withdrawal_envelope, withdrawal_digest ON records
WHEN OLD.withdrawal_envelope IS NOT NULL OR OLD.withdrawal_digest IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the withdrawal of a medseal outbox record never changes'); END;
"
}

/// Version 2: the hub's tree heads the facility has verified (what it will hold the hub to,
/// and what an auditor asks hospitals for), and the forks found: two signed tree heads of
/// the hub that cannot both be true. Neither is ever changed or deleted.
fn schema_v2() -> &'static str {
    "
CREATE TABLE tree_heads (
    tree_size INTEGER PRIMARY KEY CHECK (tree_size >= 0),
    root_hash BLOB    NOT NULL CHECK (length(root_hash) = 32),
    jws       TEXT    NOT NULL,
    seen_at   INTEGER NOT NULL
);

CREATE TABLE forks (
    fork_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    detected_at INTEGER NOT NULL,
    held_jws    TEXT    NOT NULL,
    shown_jws   TEXT    NOT NULL,
    reason      TEXT    NOT NULL
);

CREATE TRIGGER tree_heads_never_deleted BEFORE DELETE ON tree_heads
BEGIN SELECT RAISE(ABORT, 'the tree heads an outbox has seen are never deleted'); END;
CREATE TRIGGER tree_heads_unchanged BEFORE UPDATE ON tree_heads
BEGIN SELECT RAISE(ABORT, 'the tree heads an outbox has seen never change'); END;
CREATE TRIGGER forks_never_deleted BEFORE DELETE ON forks
BEGIN SELECT RAISE(ABORT, 'a fork found is never deleted'); END;
CREATE TRIGGER forks_unchanged BEFORE UPDATE ON forks
BEGIN SELECT RAISE(ABORT, 'a fork found never changes'); END;
"
}

/// Version 1. `records` is also the local ledger of what was sealed (record id, source,
/// sequence, digest, time): triggers keep those columns unchanged and refuse deletes.
/// `events` records decisions (dead letters, withdrawals, requeues, discards) with who and why.
/// (A function, not a `const`: cbindgen would export a constant into medseal.h.)
fn schema_v1() -> &'static str {
    "
CREATE TABLE outbox_info (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE records (
    outbox_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id       TEXT    NOT NULL UNIQUE,
    source          TEXT    NOT NULL,
    sequence        INTEGER NOT NULL CHECK (sequence >= 1),
    digest          BLOB    NOT NULL CHECK (length(digest) = 32),
    signed_digest   BLOB    CHECK (signed_digest IS NULL OR length(signed_digest) = 32),
    envelope        BLOB    NOT NULL,
    enqueued_at     INTEGER NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'in_flight', 'delivered', 'dead_letter', 'discarded')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER,
    lease_until     INTEGER,
    last_error      TEXT,
    dead_code       TEXT,
    dead_reason     TEXT,
    receipt         TEXT,
    inclusion       BLOB,
    duplicate       INTEGER,
    delivered_at    INTEGER,
    UNIQUE (source, sequence)
);

CREATE INDEX records_by_state ON records (state, sequence);

CREATE TABLE events (
    event_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id INTEGER NOT NULL REFERENCES records (outbox_id),
    at        INTEGER NOT NULL,
    action    TEXT    NOT NULL,
    who       TEXT,
    code      TEXT,
    detail    TEXT
);

CREATE INDEX events_by_record ON events (outbox_id, event_id);

CREATE TRIGGER records_never_deleted BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'medseal outbox records are never deleted'); END;

CREATE TRIGGER events_never_deleted BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'medseal outbox events are never deleted'); END;

CREATE TRIGGER records_ledger_unchanged
BEFORE UPDATE OF outbox_id, record_id, source, sequence, digest, signed_digest, envelope, enqueued_at ON records
BEGIN SELECT RAISE(ABORT, 'the sealed ledger of a medseal outbox never changes'); END;

CREATE TRIGGER events_unchanged BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'medseal outbox events never change'); END;
"
}

/// Turns a SQLite error into a medseal error: busy/locked → `MEDSEAL_OUTBOX_BUSY`, "not a
/// database" → `MEDSEAL_OUTBOX_SCHEMA`, anything else `MEDSEAL_OUTBOX_IO` with SQLite's
/// message (never values: statements bind them as parameters).
pub(super) fn db_error(e: rusqlite::Error) -> Error {
    match &e {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                err!(MEDSEAL_OUTBOX_BUSY, "the outbox stayed locked by another process beyond the busy timeout ({e})")
            }
            ErrorCode::NotADatabase => err!(MEDSEAL_OUTBOX_SCHEMA, "the file is not a medseal outbox (not an SQLite database)"),
            _ => err!(MEDSEAL_OUTBOX_IO, "outbox database error: {e}"),
        },
        _ => err!(MEDSEAL_OUTBOX_IO, "outbox database error: {e}"),
    }
}

/// `?` on rusqlite results.
pub(super) trait Db<T> {
    fn db(self) -> Result<T>;
}

impl<T> Db<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T> {
        self.map_err(db_error)
    }
}

/// Opens (and if `create`, creates) the file, checks it is an outbox this library reads, sets
/// WAL, `synchronous=FULL`, the busy timeout and foreign keys, and initialises an empty file.
pub(super) fn open(path: &Path, create: bool, busy_timeout: Duration) -> Result<Connection> {
    if !create && !path.exists() {
        return Err(err!(MEDSEAL_OUTBOX_IO, "there is no outbox at {}", path.display()));
    }
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let mut conn = Connection::open_with_flags(path, flags).map_err(|e| {
        let code = db_error(e).code();
        Error::new(code, format!("cannot open the outbox {}: {}", path.display(), reason_of_failed_open(path)))
    })?;
    conn.busy_timeout(busy_timeout).db()?;
    // One read transaction: another process may be initialising the file meanwhile, and the
    // three values must come from the same state of it (found by the multi-process test).
    let empty = {
        let tx = conn.transaction().db()?;
        let empty = check_kind(&tx)?;
        tx.finish().db()?;
        empty
    };
    use_wal(&conn, path, busy_timeout)?;
    conn.pragma_update(None, "synchronous", "FULL").db()?;
    conn.pragma_update(None, "foreign_keys", "ON").db()?;
    if empty {
        initialise(&mut conn)?;
    } else {
        upgrade(&mut conn)?;
    }
    Ok(conn)
}

/// Opens an existing outbox for reading only (`SQLITE_OPEN_READONLY`, `query_only`): nothing is
/// created, initialised, switched to WAL or upgraded, so the file's bytes stay as they were. A
/// missing file is `MEDSEAL_OUTBOX_IO`; an empty file, another SQLite database, a non-database
/// file, a newer or an older schema are `MEDSEAL_OUTBOX_SCHEMA` (an older one says how to
/// upgrade it). SQLite may add the `-wal`/`-shm` companions a WAL database is read through.
pub(super) fn open_read_only(path: &Path, busy_timeout: Duration) -> Result<Connection> {
    let shown = path.display();
    let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => err!(MEDSEAL_OUTBOX_IO, "there is no outbox at {shown} (a read-only command never creates one)"),
        _ => err!(MEDSEAL_OUTBOX_IO, "cannot read the outbox {shown}: {e}"),
    })?;
    if !metadata.is_file() {
        return Err(err!(MEDSEAL_OUTBOX_IO, "{shown} is not a file"));
    }
    if metadata.len() == 0 {
        return Err(err!(MEDSEAL_OUTBOX_SCHEMA, "{shown} is empty, not a medseal outbox (a read-only command does not make it one)"));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| {
        let code = db_error(e).code();
        Error::new(code, format!("cannot open the outbox {shown}: {}", reason_of_failed_open(path)))
    })?;
    conn.busy_timeout(busy_timeout).db()?;
    conn.pragma_update(None, "query_only", "ON").db()?;
    let in_file = |e: Error| Error::new(e.code(), format!("{shown}: {}", e.message()));
    let (empty, user_version) = {
        let tx = conn.unchecked_transaction().db()?;
        let empty = check_kind(&tx).map_err(in_file)?;
        let user_version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0)).db()?;
        tx.finish().db()?;
        (empty, user_version)
    };
    if empty {
        return Err(err!(MEDSEAL_OUTBOX_SCHEMA, "{shown} is an empty SQLite database, not a medseal outbox"));
    }
    if user_version < version() {
        return Err(err!(
            MEDSEAL_OUTBOX_SCHEMA,
            "the outbox {shown} has schema version {user_version}, older than this medseal's ({}); a read-only command does not \
             upgrade it: run a writing command once (e.g. `medseal outbox deliver` or `enqueue`), which upgrades it in place",
            version()
        ));
    }
    Ok(conn)
}

/// Brings an older file to the current version, one version at a time in one transaction,
/// unless another process did so first.
fn upgrade(conn: &mut Connection) -> Result<()> {
    let current = |conn: &Connection| conn.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0)).db();
    if current(conn)? >= version() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).db()?;
    let from = current(&tx)?;
    if from < version() {
        if from < 2 {
            tx.execute_batch(schema_v2()).db()?;
        }
        tx.execute_batch(schema_v3()).db()?;
        tx.pragma_update(None, "user_version", version()).db()?;
    }
    tx.commit().db()
}

/// Switches the file to WAL (a lasting property of the file) unless it is already. While
/// another process holds the file, SQLite refuses the switch at once with SQLITE_BUSY, without
/// waiting (found by the multi-process test): the switch is retried until the busy timeout.
fn use_wal(conn: &Connection, path: &Path, busy_timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + busy_timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        let current: String = conn.pragma_query_value(None, "journal_mode", |row| row.get(0)).db()?;
        if current.eq_ignore_ascii_case("wal") {
            return Ok(());
        }
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0)) {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => return Err(err!(MEDSEAL_OUTBOX_IO, "the outbox {} cannot use WAL mode (journal mode is {mode})", path.display())),
            Err(e) if db_error_is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(db_error(e)),
        }
    }
}

fn db_error_is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

/// A short reason for a failed open (SQLite says only "unable to open database file").
fn reason_of_failed_open(path: &Path) -> String {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) if !dir.is_dir() => format!("the directory {} does not exist", dir.display()),
        _ => "SQLite cannot open the file (permissions?)".to_owned(),
    }
}

/// Checks the file is a medseal outbox of a known version, or an empty database (`true`).
fn check_kind(conn: &Connection) -> Result<bool> {
    let app: i64 = conn.pragma_query_value(None, "application_id", |row| row.get(0)).db()?;
    let user_version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0)).db()?;
    if app == application_id() {
        if user_version > version() {
            return Err(err!(
                MEDSEAL_OUTBOX_SCHEMA,
                "the outbox has schema version {user_version}, newer than this medseal reads ({}); upgrade medseal",
                version()
            ));
        }
        if user_version < 1 {
            return Err(err!(MEDSEAL_OUTBOX_SCHEMA, "the outbox has no schema version (a damaged or foreign file)"));
        }
        return Ok(false);
    }
    let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0)).db()?;
    if app != 0 || user_version != 0 || objects != 0 {
        return Err(err!(MEDSEAL_OUTBOX_SCHEMA, "the file is an SQLite database but not a medseal outbox"));
    }
    Ok(true)
}

/// Creates the schema in an empty database, unless another process did so first.
fn initialise(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).db()?;
    if !check_kind(&tx)? {
        return Ok(()); // another process initialised it while this one waited
    }
    tx.execute_batch(schema_v1()).db()?;
    tx.execute_batch(schema_v2()).db()?;
    tx.execute_batch(schema_v3()).db()?;
    tx.pragma_update(None, "application_id", application_id()).db()?;
    tx.pragma_update(None, "user_version", version()).db()?;
    tx.commit().db()
}

/// The source the file belongs to, if bound yet.
pub(super) fn bound_source(conn: &Connection) -> Result<Option<String>> {
    conn.query_row("SELECT value FROM outbox_info WHERE key = 'source'", [], |row| row.get(0)).optional().db()
}

/// Binds the file to `source` (first open), or checks it is bound to it.
pub(super) fn bind_source(conn: &mut Connection, source: &str) -> Result<()> {
    if let Some(bound) = bound_source(conn)? {
        return check_bound(&bound, source);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).db()?;
    match bound_source(&tx)? {
        Some(bound) => check_bound(&bound, source)?,
        None => {
            tx.execute("INSERT INTO outbox_info (key, value) VALUES ('source', ?1)", [source]).db()?;
        }
    }
    tx.commit().db()
}

fn check_bound(bound: &str, source: &str) -> Result<()> {
    if bound != source {
        return Err(err!(
            MEDSEAL_INVALID_ARGUMENT,
            "this outbox belongs to source \"{bound}\", not \"{source}\": one outbox file per facility"
        ));
    }
    Ok(())
}
