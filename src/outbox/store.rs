//! [`Outbox`]: every operation is one SQLite transaction on one connection (behind a mutex,
//! so an `Outbox` is shared between threads); writes are `BEGIN IMMEDIATE`, which serialises
//! them across processes and makes "read the next number, seal, store" or "select due records,
//! mark them in flight" atomic.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};

use super::schema::{self, Db};
use super::{Claimed, Delivery, Event, LocalReceipt, Mark, OutboxConfig, OutboxStatus, RecordInfo, State};
use crate::error::{err, Error, Result, ResultCode};
use crate::record;
use crate::seal::{Envelope, Meta, RecipientKey};
use crate::untrusted::shown;
use crate::utc;

/// Longest stored error text or reason, in bytes (longer ones are cut at a character boundary).
fn max_note_bytes() -> usize {
    2048
}

/// The dead-letter code of a record withdrawn by the host before delivery.
fn withdrawn_code() -> &'static str {
    "WITHDRAWN"
}

/// The columns [`RecordInfo`] is read from, in `record_info`'s order.
fn info_columns() -> &'static str {
    "outbox_id, record_id, source, sequence, digest, state, attempts, enqueued_at, next_attempt_at, lease_until, \
     last_error, dead_code, dead_reason, receipt, inclusion, duplicate, delivered_at, withdrawal_digest"
}

/// A durable outbox file, opened for one facility. `Send + Sync`: share it (`Arc`) between
/// threads; several processes may open the same file.
pub struct Outbox {
    conn: Mutex<Connection>,
    config: OutboxConfig,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").field("path", &self.config.path).field("source", &self.config.source).finish()
    }
}

impl Outbox {
    /// Opens the outbox file, creating it if missing: WAL, `synchronous=FULL`, the busy
    /// timeout, foreign keys. A file of a newer schema version, another SQLite database or a
    /// non-database file is `MEDSEAL_OUTBOX_SCHEMA`; a file created for another source is
    /// `MEDSEAL_INVALID_ARGUMENT` (one outbox per facility).
    pub fn open(config: OutboxConfig) -> Result<Outbox> {
        record::check_id("the source", &config.source, ResultCode::MEDSEAL_INVALID_ARGUMENT)?;
        if config.recipients.len() > crate::seal::MAX_RECIPIENTS {
            return Err(err!(
                MEDSEAL_INVALID_ARGUMENT,
                "at most {} recipients, not {}",
                crate::seal::MAX_RECIPIENTS,
                config.recipients.len()
            ));
        }
        let mut conn = schema::open(&config.path, true, config.busy_timeout)?;
        schema::bind_source(&mut conn, &config.source)?;
        Ok(Outbox { conn: Mutex::new(conn), config })
    }

    /// Opens an existing outbox for administration (status, listing, dead letters, backup):
    /// the source is the one the file was created for, and there are no recipients, so
    /// nothing can be enqueued. No file at `path` is `MEDSEAL_OUTBOX_IO`.
    pub fn open_existing(path: &Path) -> Result<Outbox> {
        let mut config = OutboxConfig::new(path, String::new(), Vec::new());
        let conn = schema::open(path, false, config.busy_timeout)?;
        config.source = schema::bound_source(&conn)?.ok_or_else(|| {
            err!(MEDSEAL_OUTBOX_IO, "the outbox {} has no source yet (it was never opened for a facility)", path.display())
        })?;
        Ok(Outbox { conn: Mutex::new(conn), config })
    }

    /// Opens an existing outbox for reading only, for commands that only look (status,
    /// listings, receipts, tree heads): nothing is created, initialised or upgraded, and every
    /// write is refused. Unlike [`Outbox::open_existing`], a file of an older schema is refused
    /// (`MEDSEAL_OUTBOX_SCHEMA`, saying how to upgrade it) rather than upgraded in place. A
    /// missing file is `MEDSEAL_OUTBOX_IO`; an empty file or one that is not an outbox is
    /// `MEDSEAL_OUTBOX_SCHEMA`.
    pub fn open_read_only(path: &Path) -> Result<Outbox> {
        let mut config = OutboxConfig::new(path, String::new(), Vec::new());
        let conn = schema::open_read_only(path, config.busy_timeout)?;
        config.source = schema::bound_source(&conn)?.ok_or_else(|| {
            err!(MEDSEAL_OUTBOX_IO, "the outbox {} has no source yet (it was never opened for a facility)", path.display())
        })?;
        Ok(Outbox { conn: Mutex::new(conn), config })
    }

    /// This facility.
    pub fn source(&self) -> &str {
        &self.config.source
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &OutboxConfig {
        &self.config
    }

    /// The connection. A panic while it was held cannot leave a transaction open (rusqlite
    /// rolls back on drop), so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed if it returns `Ok`.
    pub(super) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).db()?;
        let value = f(&tx)?;
        tx.commit().db()?;
        Ok(value)
    }

    /// Runs `f` in one read transaction (a consistent snapshot).
    pub(super) fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred).db()?;
        let value = f(&tx)?;
        tx.finish().db()?;
        Ok(value)
    }

    /// Seals `signed_record` (a JWS, flattened JSON or compact) to the recipients with meta
    /// `{record_id, source, sequence = next, created = now, content_type}` inside one
    /// `BEGIN IMMEDIATE` transaction that also allocates the sequence number and stores the
    /// envelope; returns after COMMIT, when the record is durable. A failure uses no number.
    ///
    /// Only a signed record is sealed, checked before any transaction so that a refusal uses
    /// no number: with [`OutboxConfig::signing_keys`], a record that verifies with one of the
    /// facility's own keys ([`record::verify`]: else `MEDSEAL_JWS_SIGNATURE_INVALID`,
    /// `MEDSEAL_JWS_HEADER`, …); without them, a JWS carrying its payload whose protected
    /// header has `typ` `medseal+jws` and a `sigT` ([`record::check_unverified`]), whose
    /// signature the hub judges (a record it refuses becomes a dead letter).
    ///
    /// The content type is `application/jose+json` for a flattened JWS (the form
    /// `medseal sign` writes) and `application/jose` for a compact one. The same `record_id`
    /// with the same signed record again returns the original receipt (`already_queued`);
    /// with other bytes it is `MEDSEAL_OUTBOX_DUPLICATE`. The signed record itself is not
    /// stored, only its SHA-256 (for that comparison).
    pub fn enqueue_signed(&self, record_id: &str, signed_record: &[u8]) -> Result<LocalReceipt> {
        self.check_signed(record_id, signed_record)?;
        self.write(|tx| self.enqueue_signed_in(tx, record_id, signed_record))
    }

    /// Enqueues several signed records in one transaction (one disk sync for all: what a
    /// system flushing many records at once wants). All or nothing: on any error nothing is
    /// stored and no number is used. Each record is handled as by [`Outbox::enqueue_signed`]
    /// (an id already in the outbox, or earlier in the batch, with the same record gives its
    /// receipt with `already_queued`); the receipts are in the order given.
    pub fn enqueue_signed_batch(&self, records: &[(&str, &[u8])]) -> Result<Vec<LocalReceipt>> {
        for (record_id, signed_record) in records {
            self.check_signed(record_id, signed_record)?;
        }
        self.write(|tx| records.iter().map(|(record_id, signed_record)| self.enqueue_signed_in(tx, record_id, signed_record)).collect())
    }

    /// The checks made before any transaction.
    fn check_signed(&self, record_id: &str, signed_record: &[u8]) -> Result<()> {
        record::check_id("the record id", record_id, ResultCode::MEDSEAL_INVALID_ARGUMENT)?;
        if signed_record.is_empty() {
            return Err(err!(MEDSEAL_INVALID_ARGUMENT, "the signed record is empty"));
        }
        if self.config.recipients.is_empty() {
            return Err(err!(
                MEDSEAL_INVALID_ARGUMENT,
                "this outbox was opened without recipients (for administration): nothing can be sealed"
            ));
        }
        if signed_record.len() > crate::seal::MAX_ENVELOPE_BYTES {
            return Err(err!(
                MEDSEAL_SEAL_TOO_LARGE,
                "the signed record is {} bytes; the limit is {}",
                signed_record.len(),
                crate::seal::MAX_ENVELOPE_BYTES
            ));
        }
        if self.config.signing_keys.is_empty() {
            return record::check_unverified(signed_record);
        }
        let verifier = crate::jws::Verifier::new(self.config.signing_keys.clone());
        record::verify(&verifier, signed_record).map(|_| ()).map_err(|e| {
            crate::error::Error::new(
                e.code(),
                format!("not a record signed by one of {}'s own keys: {}", shown(&self.config.source), e.message()),
            )
        })
    }

    /// Allocates the next number, seals and stores, inside `tx`.
    fn enqueue_signed_in(&self, tx: &Transaction<'_>, record_id: &str, signed_record: &[u8]) -> Result<LocalReceipt> {
        let signed_digest = sha256(signed_record);
        if let Some(existing) = find_ledger_row(tx, record_id)? {
            return match existing.signed_digest {
                Some(d) if d == signed_digest => Ok(existing.receipt(true)),
                Some(_) => Err(duplicate(&existing.receipt, "another signed record")),
                None => Err(duplicate(&existing.receipt, "a pre-sealed envelope")),
            };
        }
        let recipients: Vec<&RecipientKey> = self.config.recipients.iter().collect();
        let sequence = next_sequence(tx, &self.config.source)?;
        let now = utc::now();
        let meta = Meta {
            record_id: record_id.to_owned(),
            source: self.config.source.clone(),
            sequence,
            created: utc::format(now)?,
            content_type: record::content_type_of(signed_record).to_owned(),
        };
        let envelope = Envelope::seal_to_protobuf(signed_record, meta, &recipients, self.config.aead)?;
        let digest = sha256(&envelope);
        insert(tx, record_id, &self.config.source, sequence, &digest, Some(&signed_digest), &envelope, now)
    }

    /// Accepts an envelope sealed elsewhere (protobuf, stored as given; or the JSON mapping,
    /// stored as its protobuf encoding) if its `meta.source` is this outbox's and its
    /// `meta.sequence` the next number (`MEDSEAL_OUTBOX_SEQUENCE` otherwise). When the outbox
    /// has recipients, the envelope must be addressed to the first (the hub):
    /// `MEDSEAL_SEAL_WRONG_RECIPIENT` otherwise. The same record id with the same digest again
    /// returns the original receipt; with another digest it is `MEDSEAL_OUTBOX_DUPLICATE`.
    pub fn enqueue_sealed(&self, envelope: &[u8]) -> Result<LocalReceipt> {
        let (decoded, stored) = match Envelope::from_protobuf(envelope) {
            Ok(decoded) => (decoded, envelope.to_vec()),
            Err(_) => {
                let decoded = Envelope::decode(envelope)?;
                let stored = decoded.to_protobuf()?;
                (decoded, stored)
            }
        };
        if let Some(hub) = self.config.recipients.first() {
            if !decoded.recipients.iter().any(|r| r.kid == hub.kid()) {
                return Err(err!(
                    MEDSEAL_SEAL_WRONG_RECIPIENT,
                    "the envelope is not addressed to the hub (the outbox's first recipient, kid {})",
                    hub.kid()
                ));
            }
        }
        let meta = &decoded.meta;
        if meta.source != self.config.source {
            return Err(err!(
                MEDSEAL_OUTBOX_SEQUENCE,
                "the envelope's source is \"{}\", not this outbox's \"{}\"",
                shown(&meta.source),
                self.config.source
            ));
        }
        let digest = sha256(&stored);
        self.write(|tx| {
            if let Some(existing) = find_ledger_row(tx, &meta.record_id)? {
                return if existing.receipt.digest == digest {
                    Ok(existing.receipt(true))
                } else {
                    Err(duplicate(&existing.receipt, "another envelope"))
                };
            }
            let next = next_sequence(tx, &self.config.source)?;
            if meta.sequence != next {
                return Err(err!(
                    MEDSEAL_OUTBOX_SEQUENCE,
                    "the envelope has sequence number {}; the next of source \"{}\" is {next}",
                    meta.sequence,
                    self.config.source
                ));
            }
            insert(tx, &meta.record_id, &self.config.source, next, &digest, None, &stored, utc::now())
        })
    }

    /// Claims up to `limit` records that are due at `now` (Unix seconds): queued with
    /// `next_attempt_at <= now`, or in flight with an expired lease. Oldest sequence first.
    /// They become `in_flight` with `lease_until = now + lease` and one more attempt, in the
    /// same transaction that selects them: two processes never claim the same record. A
    /// withdrawn record ([`Outbox::withdraw_signed`]) is claimed with its withdrawal's envelope
    /// and digest: the hub gets the tombstone, never the record.
    pub fn claim(&self, limit: usize, now: i64) -> Result<Vec<Claimed>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let lease_until = now.saturating_add(seconds(self.config.lease).max(1));
        self.write(|tx| {
            let ids: Vec<i64> = {
                let mut due = tx
                    .prepare_cached(
                        "SELECT outbox_id FROM (
                           SELECT * FROM (SELECT outbox_id, sequence FROM records
                                          WHERE state = 'queued' AND next_attempt_at <= ?1 ORDER BY sequence LIMIT ?2)
                           UNION ALL
                           SELECT * FROM (SELECT outbox_id, sequence FROM records
                                          WHERE state = 'in_flight' AND lease_until <= ?1 ORDER BY sequence LIMIT ?2))
                         ORDER BY sequence LIMIT ?2",
                    )
                    .db()?;
                let rows = due.query_map(params![now, limit], |row| row.get(0)).db()?;
                rows.collect::<rusqlite::Result<_>>().db()?
            };
            let mut mark = tx
                .prepare_cached(
                    "UPDATE records SET state = 'in_flight', lease_until = ?2, attempts = attempts + 1 WHERE outbox_id = ?1
                     RETURNING record_id, sequence, coalesce(withdrawal_envelope, envelope), coalesce(withdrawal_digest, digest), attempts",
                )
                .db()?;
            ids.into_iter()
                .map(|outbox_id| {
                    mark.query_row(params![outbox_id, lease_until], |row| {
                        Ok(Claimed {
                            outbox_id,
                            record_id: row.get(0)?,
                            sequence: row.get(1)?,
                            envelope: row.get(2)?,
                            digest: row.get(3)?,
                            attempts: row.get(4)?,
                        })
                    })
                    .db()
                })
                .collect()
        })
    }

    /// Records the hub's receipt: an in-flight record (or a queued one whose claim ran out:
    /// the hub's answer is still the truth) becomes `delivered`. Marking a delivered record
    /// again with the same receipt does nothing; with another receipt, or from another state,
    /// it is `MEDSEAL_OUTBOX_STATE`.
    pub fn mark_delivered(&self, outbox_id: i64, delivery: &Delivery) -> Result<()> {
        check_delivery(delivery)?;
        self.write(|tx| mark_delivered_in(tx, outbox_id, delivery))
    }

    /// Records several receipts in one transaction (one disk sync for a whole batch from the
    /// hub). Each is handled as by [`Outbox::mark_delivered`], with its own result: a record in
    /// the wrong state does not stop the others. Only a database failure (I/O, busy) fails
    /// the whole call, and then nothing is recorded.
    pub fn mark_delivered_batch(&self, deliveries: &[(i64, Delivery)]) -> Result<Vec<Result<()>>> {
        self.write(|tx| {
            deliveries
                .iter()
                .map(|(outbox_id, delivery)| match check_delivery(delivery).and_then(|()| mark_delivered_in(tx, *outbox_id, delivery)) {
                    Err(e) if is_database_failure(&e) => Err(e),
                    result => Ok(result),
                })
                .collect()
        })
    }

    /// A retryable failure: the in-flight record goes back to `queued`, due at
    /// `next_attempt_at`, with `error` kept as its last error. Other states:
    /// `MEDSEAL_OUTBOX_STATE`.
    pub fn mark_retry(&self, outbox_id: i64, next_attempt_at: i64, error: &str) -> Result<()> {
        self.write(|tx| mark_retry_in(tx, outbox_id, next_attempt_at, error))
    }

    /// The hub refused the record for good: an in-flight record (or a queued one whose claim
    /// ran out) becomes a dead letter with `code` (e.g. `ID_REUSED`) and `reason`, also
    /// recorded as an event. Other states: `MEDSEAL_OUTBOX_STATE`.
    pub fn mark_dead(&self, outbox_id: i64, code: &str, reason: &str) -> Result<()> {
        check_dead_code(code)?;
        self.write(|tx| mark_dead_in(tx, outbox_id, code, reason))
    }

    /// Records what became of several records (a whole batch from the hub: receipts, refusals,
    /// retries) in ONE transaction, so one disk sync for the batch. Each mark is handled as by
    /// [`Outbox::mark_delivered`], [`Outbox::mark_retry`] or [`Outbox::mark_dead`], with its
    /// own result, in order: a record in the wrong state (`MEDSEAL_OUTBOX_STATE`), unknown, or
    /// with an invalid mark does not stop the others. Only a database failure (I/O, busy)
    /// fails the whole call, and then nothing is recorded.
    pub fn mark_batch(&self, marks: &[(i64, Mark)]) -> Result<Vec<Result<()>>> {
        if marks.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|tx| {
            marks
                .iter()
                .map(|(outbox_id, mark)| {
                    let result = match mark {
                        Mark::Delivered(delivery) => check_delivery(delivery).and_then(|()| mark_delivered_in(tx, *outbox_id, delivery)),
                        Mark::Retry { next_attempt_at, error } => mark_retry_in(tx, *outbox_id, *next_attempt_at, error),
                        Mark::Dead { code, reason } => check_dead_code(code).and_then(|()| mark_dead_in(tx, *outbox_id, code, reason)),
                    };
                    match result {
                        Err(e) if is_database_failure(&e) => Err(e),
                        result => Ok(result),
                    }
                })
                .collect()
        })
    }

    /// Stops a queued record before it is delivered (sent by mistake): it becomes a dead
    /// letter with code `WITHDRAWN` and `reason`, recorded with the operator's name. Only
    /// queued records (not in flight: it may be at the hub already): `MEDSEAL_OUTBOX_STATE`
    /// otherwise. Nothing is sent, so its number stays a gap at the hub; a signed withdrawal
    /// ([`Outbox::withdraw_signed`], also possible afterwards) closes it.
    pub fn withdraw(&self, outbox_id: i64, reason: &str) -> Result<()> {
        self.withdraw_as(outbox_id, &operator(), reason)
    }

    /// [`Outbox::withdraw`], naming who did it.
    pub fn withdraw_as(&self, outbox_id: i64, who: &str, reason: &str) -> Result<()> {
        check_reason(reason)?;
        self.write(|tx| {
            match current_state(tx, outbox_id)? {
                State::Queued => {}
                other => return Err(wrong_state(outbox_id, other, "withdrawn", "queued")),
            }
            to_dead_letter(tx, outbox_id, withdrawn_code(), reason)?;
            event(tx, outbox_id, "withdrawn", who, Some(withdrawn_code()), Some(reason))
        })
    }

    /// Abandons a record that already has a number, without leaving a gap at the hub: signs
    /// a withdrawal of it ([`record::Withdrawal`]: source, record id, sequence and `reason`)
    /// with `signer` (the facility's record-signing key, with
    /// [`record::withdrawal_sign_options`]), seals it to the outbox's recipients with the
    /// record's meta (same record id, source and sequence, created now, content type
    /// `application/jose+json`) and stores it beside the record, whose sealed ledger columns
    /// stay as they were. The record goes back to `queued`, due now: the deliverer sends the
    /// withdrawal instead ([`Outbox::claim`]), and its receipt, once delivered, is the
    /// withdrawal's. Recorded as a `withdrawn` event with the operator's name and the reason.
    ///
    /// Only a record that is queued or a dead letter, and not withdrawn before
    /// (`MEDSEAL_OUTBOX_STATE`: one in flight may be at the hub already, a delivered one is in
    /// the ledger, a discarded one was decided). A reason that is not 1 to 1024 bytes of text
    /// without control characters, a signer without the withdrawal `typ`, or, when
    /// [`OutboxConfig::signing_keys`] are set, a signer whose key is not one of them:
    /// `MEDSEAL_INVALID_ARGUMENT` (or the verification error), and nothing is stored.
    pub fn withdraw_signed(&self, outbox_id: i64, reason: &str, signer: &crate::jws::Signer) -> Result<()> {
        self.withdraw_signed_as(outbox_id, &operator(), reason, signer)
    }

    /// [`Outbox::withdraw_signed`], naming who did it.
    pub fn withdraw_signed_as(&self, outbox_id: i64, who: &str, reason: &str, signer: &crate::jws::Signer) -> Result<()> {
        record::check_reason("the reason of a withdrawal", reason, ResultCode::MEDSEAL_INVALID_ARGUMENT)?;
        if self.config.recipients.is_empty() {
            return Err(err!(
                MEDSEAL_INVALID_ARGUMENT,
                "this outbox was opened without recipients (for administration): a withdrawal cannot be sealed"
            ));
        }
        let (record_id, sequence) = self.read(|tx| {
            check_withdrawable(tx, outbox_id)?;
            tx.query_row("SELECT record_id, sequence FROM records WHERE outbox_id = ?1", [outbox_id], |row| Ok((row.get(0)?, row.get(1)?)))
                .db()
        })?;
        let withdrawal = record::Withdrawal { source: self.config.source.clone(), record_id, sequence, reason: reason.to_owned() };
        let jws = withdrawal.sign(signer)?;
        if !self.config.signing_keys.is_empty() {
            // The hub judges it with the facility's keys: one signed by any other key would
            // only become a dead letter there.
            let verifier = crate::jws::Verifier::new(self.config.signing_keys.clone());
            record::verify_withdrawal(&verifier, jws.as_bytes()).map_err(|e| {
                Error::new(
                    ResultCode::MEDSEAL_INVALID_ARGUMENT,
                    format!("the withdrawal is not signed by one of {}'s own keys: {}", shown(&self.config.source), e.message()),
                )
            })?;
        }
        let recipients: Vec<&RecipientKey> = self.config.recipients.iter().collect();
        self.write(|tx| {
            check_withdrawable(tx, outbox_id)?;
            let now = utc::now();
            let meta = Meta {
                record_id: withdrawal.record_id.clone(),
                source: withdrawal.source.clone(),
                sequence: withdrawal.sequence,
                created: utc::format(now)?,
                content_type: record::FLATTENED_CONTENT_TYPE.to_owned(),
            };
            let envelope = Envelope::seal_to_protobuf(jws.as_bytes(), meta, &recipients, self.config.aead)?;
            let digest = sha256(&envelope);
            tx.execute(
                "UPDATE records SET withdrawal_envelope = ?2, withdrawal_digest = ?3, state = 'queued', next_attempt_at = ?4,
                   lease_until = NULL, dead_code = NULL, dead_reason = NULL WHERE outbox_id = ?1",
                params![outbox_id, envelope, digest, now],
            )
            .db()?;
            event(tx, outbox_id, "withdrawn", who, Some(withdrawn_code()), Some(reason))
        })
    }

    /// The withdrawal's envelope (protobuf) of a record withdrawn with
    /// [`Outbox::withdraw_signed`], or `None`.
    pub fn withdrawal_envelope(&self, outbox_id: i64) -> Result<Option<Vec<u8>>> {
        self.read(|tx| {
            tx.query_row("SELECT withdrawal_envelope FROM records WHERE outbox_id = ?1", [outbox_id], |row| row.get(0))
                .optional()
                .db()?
                .ok_or_else(|| not_found(outbox_id))
        })
    }

    /// Gives a dead letter another chance: it becomes `queued`, due now, with its dead-letter
    /// code and reason moved to its history. Other states: `MEDSEAL_OUTBOX_STATE`.
    pub fn requeue(&self, outbox_id: i64) -> Result<()> {
        self.requeue_as(outbox_id, &operator())
    }

    /// [`Outbox::requeue`], naming who did it.
    pub fn requeue_as(&self, outbox_id: i64, who: &str) -> Result<()> {
        self.write(|tx| {
            match current_state(tx, outbox_id)? {
                State::DeadLetter => {}
                other => return Err(wrong_state(outbox_id, other, "requeued", "a dead letter")),
            }
            tx.execute(
                "UPDATE records SET state = 'queued', next_attempt_at = ?2, lease_until = NULL, dead_code = NULL, dead_reason = NULL
                 WHERE outbox_id = ?1",
                params![outbox_id, utc::now()],
            )
            .db()?;
            event(tx, outbox_id, "requeued", who, None, None)
        })
    }

    /// Decides not to send a dead letter: it becomes `discarded`, recorded with the time, the
    /// operator's name and `why` (required). The envelope is kept. Other states:
    /// `MEDSEAL_OUTBOX_STATE`.
    pub fn discard(&self, outbox_id: i64, why: &str) -> Result<()> {
        self.discard_as(outbox_id, &operator(), why)
    }

    /// [`Outbox::discard`], naming who did it.
    pub fn discard_as(&self, outbox_id: i64, who: &str, why: &str) -> Result<()> {
        check_reason(why)?;
        self.write(|tx| {
            match current_state(tx, outbox_id)? {
                State::DeadLetter => {}
                other => return Err(wrong_state(outbox_id, other, "discarded", "a dead letter")),
            }
            tx.execute("UPDATE records SET state = 'discarded' WHERE outbox_id = ?1", [outbox_id]).db()?;
            event(tx, outbox_id, "discarded", who, None, Some(why))
        })
    }

    /// Counts per state, the next sequence number, and the times that matter to a deliverer.
    pub fn status(&self) -> Result<OutboxStatus> {
        self.read(|tx| {
            let mut status = OutboxStatus::default();
            {
                let mut counts = tx.prepare_cached("SELECT state, count(*) FROM records GROUP BY state").db()?;
                let rows = counts.query_map([], |row| Ok((state_of(row, 0)?, row.get::<_, u64>(1)?))).db()?;
                for row in rows {
                    let (state, n) = row.db()?;
                    *match state {
                        State::Queued => &mut status.queued,
                        State::InFlight => &mut status.in_flight,
                        State::Delivered => &mut status.delivered,
                        State::DeadLetter => &mut status.dead_letter,
                        State::Discarded => &mut status.discarded,
                    } = n;
                }
            }
            status.next_sequence = next_sequence(tx, &self.config.source)?;
            (status.oldest_queued_at, status.next_attempt_at) = tx
                .query_row(
                    "SELECT min(enqueued_at), min(CASE state WHEN 'queued' THEN next_attempt_at ELSE lease_until END)
                     FROM records WHERE state IN ('queued', 'in_flight')",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .db()?;
            Ok(status)
        })
    }

    /// The number of dead letters (waiting for an operator's requeue or discard).
    pub fn dead_letter_count(&self) -> Result<u64> {
        self.read(|tx| tx.query_row("SELECT count(*) FROM records WHERE state = 'dead_letter'", [], |row| row.get(0)).db())
    }

    /// One record by outbox id (`MEDSEAL_OUTBOX_NOT_FOUND` if there is none).
    pub fn get(&self, outbox_id: i64) -> Result<RecordInfo> {
        self.read(|tx| {
            tx.query_row(&format!("SELECT {} FROM records WHERE outbox_id = ?1", info_columns()), [outbox_id], record_info)
                .optional()
                .db()?
                .ok_or_else(|| not_found(outbox_id))
        })
    }

    /// One record by record id (`MEDSEAL_OUTBOX_NOT_FOUND` if there is none).
    pub fn find(&self, record_id: &str) -> Result<RecordInfo> {
        self.read(|tx| {
            tx.query_row(&format!("SELECT {} FROM records WHERE record_id = ?1", info_columns()), [record_id], record_info)
                .optional()
                .db()?
                .ok_or_else(|| err!(MEDSEAL_OUTBOX_NOT_FOUND, "no record with this record id in the outbox"))
        })
    }

    /// The hub's receipt of a delivered record, found by record id, as the deliverer kept it
    /// once it had verified it: the receipt (a compact JWS by the hub's receipt key), the
    /// inclusion proof (the protobuf `medseal.v1.InclusionProof` the hub sent, which
    /// `ledger::decode_inclusion_proof` and `medseal_receipt_verify` read), whether it was a
    /// duplicate and when it was delivered. What an auditor checks again later
    /// (`ledger::verify_receipt_for`). A record id that is not text of 1 to 256 bytes without
    /// control characters is `MEDSEAL_INVALID_ARGUMENT`; no such record
    /// `MEDSEAL_OUTBOX_NOT_FOUND`; a record not delivered (yet) `MEDSEAL_OUTBOX_STATE`.
    pub fn delivery(&self, record_id: &str) -> Result<Delivery> {
        record::check_id("the record id", record_id, ResultCode::MEDSEAL_INVALID_ARGUMENT)?;
        type Row = (i64, State, Option<String>, Option<Vec<u8>>, Option<bool>, Option<i64>);
        let row: Option<Row> = self.read(|tx| {
            tx.prepare_cached("SELECT outbox_id, state, receipt, inclusion, duplicate, delivered_at FROM records WHERE record_id = ?1")
                .db()?
                .query_row([record_id], |row| Ok((row.get(0)?, state_of(row, 1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?)))
                .optional()
                .db()
        })?;
        let Some((outbox_id, state, receipt, inclusion, duplicate, delivered_at)) = row else {
            return Err(err!(MEDSEAL_OUTBOX_NOT_FOUND, "no record \"{}\" in the outbox", shown(record_id)));
        };
        if state != State::Delivered {
            return Err(err!(
                MEDSEAL_OUTBOX_STATE,
                "record \"{}\" (outbox id {outbox_id}) is {state}: only a delivered record has the hub's receipt",
                shown(record_id)
            ));
        }
        match (receipt, inclusion, duplicate, delivered_at) {
            (Some(receipt), Some(inclusion), Some(duplicate), Some(delivered_at)) => {
                Ok(Delivery { receipt, inclusion, duplicate, delivered_at })
            }
            _ => Err(err!(MEDSEAL_OUTBOX_IO, "outbox record {outbox_id} is delivered but its receipt is missing: the file was changed")),
        }
    }

    /// Up to `limit` records, all or in one state, oldest first.
    pub fn list(&self, state: Option<State>, limit: usize) -> Result<Vec<RecordInfo>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|tx| {
            let sql = format!("SELECT {} FROM records WHERE (?1 IS NULL OR state = ?1) ORDER BY outbox_id LIMIT ?2", info_columns());
            let mut stmt = tx.prepare_cached(&sql).db()?;
            let rows = stmt.query_map(params![state.map(State::as_str), limit], record_info).db()?;
            rows.collect::<rusqlite::Result<_>>().db()
        })
    }

    /// A record's history of decisions (dead letter, withdrawal, requeues, discard), oldest
    /// first.
    pub fn history(&self, outbox_id: i64) -> Result<Vec<Event>> {
        self.read(|tx| {
            current_state(tx, outbox_id)?;
            let mut stmt =
                tx.prepare_cached("SELECT at, action, who, code, detail FROM events WHERE outbox_id = ?1 ORDER BY event_id").db()?;
            let rows = stmt
                .query_map([outbox_id], |row| {
                    Ok(Event { at: row.get(0)?, action: row.get(1)?, who: row.get(2)?, code: row.get(3)?, detail: row.get(4)? })
                })
                .db()?;
            rows.collect::<rusqlite::Result<_>>().db()
        })
    }

    /// A record's envelope (protobuf), exactly as enqueued.
    pub fn envelope(&self, outbox_id: i64) -> Result<Vec<u8>> {
        self.read(|tx| {
            tx.query_row("SELECT envelope FROM records WHERE outbox_id = ?1", [outbox_id], |row| row.get(0))
                .optional()
                .db()?
                .ok_or_else(|| not_found(outbox_id))
        })
    }

    /// The local ledger of what this facility sealed: up to `limit` entries from sequence
    /// `from_sequence` on, in order (`already_queued` is false in each).
    pub fn sealed_ledger(&self, from_sequence: u64, limit: usize) -> Result<Vec<LocalReceipt>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let from = i64::try_from(from_sequence).unwrap_or(i64::MAX);
        self.read(|tx| {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT outbox_id, record_id, source, sequence, digest, signed_digest, enqueued_at FROM records
                     WHERE source = ?1 AND sequence >= ?2 ORDER BY sequence LIMIT ?3",
                )
                .db()?;
            let rows = stmt.query_map(params![self.config.source, from, limit], ledger_row).db()?;
            rows.map(|row| row.map(|r| r.receipt(false))).collect::<rusqlite::Result<_>>().db()
        })
    }

    /// Checks the sequence numbers of this facility are exactly 1..=N: no gap (duplicates are
    /// impossible, the file refuses them). A gap is `MEDSEAL_OUTBOX_SEQUENCE` naming the first
    /// missing number.
    pub fn check_sequence(&self) -> Result<()> {
        self.read(|tx| {
            let (count, max): (u64, u64) = tx
                .query_row("SELECT count(*), coalesce(max(sequence), 0) FROM records WHERE source = ?1", [&self.config.source], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .db()?;
            if count == max {
                return Ok(());
            }
            let missing: u64 = tx
                .query_row(
                    "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM records WHERE source = ?1 AND sequence = 1) THEN 1 ELSE
                       (SELECT r.sequence + 1 FROM records r WHERE r.source = ?1 AND NOT EXISTS
                         (SELECT 1 FROM records s WHERE s.source = ?1 AND s.sequence = r.sequence + 1) ORDER BY r.sequence LIMIT 1) END",
                    [&self.config.source],
                    |row| row.get(0),
                )
                .db()?;
            Err(err!(
                MEDSEAL_OUTBOX_SEQUENCE,
                "the sequence numbers of source \"{}\" have a gap: {missing} is missing ({count} records, highest {max})",
                self.config.source
            ))
        })
    }

    /// Copies the whole outbox to `dest` with SQLite's online backup (a consistent snapshot,
    /// while other processes keep working), through a temporary file renamed into place once
    /// complete and checked. An existing `dest` is never replaced (`MEDSEAL_OUTBOX_IO`).
    pub fn backup(&self, dest: &Path) -> Result<()> {
        if dest.exists() {
            return Err(err!(MEDSEAL_OUTBOX_IO, "{} already exists; a backup never replaces a file", dest.display()));
        }
        let name = dest.file_name().ok_or_else(|| err!(MEDSEAL_OUTBOX_IO, "{} does not name a file", dest.display()))?;
        let temp = dest.with_file_name(format!(".{}.{}.backup-tmp", name.to_string_lossy(), std::process::id()));
        let result = self.backup_to(&temp).and_then(|()| {
            if dest.exists() {
                return Err(err!(MEDSEAL_OUTBOX_IO, "{} appeared during the backup; it was not replaced", dest.display()));
            }
            std::fs::rename(&temp, dest).map_err(|e| err!(MEDSEAL_OUTBOX_IO, "cannot rename the backup to {}: {e}", dest.display()))
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result?;
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Makes the new name durable; best effort (not every file system syncs directories).
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    fn backup_to(&self, temp: &Path) -> Result<()> {
        let _ = std::fs::remove_file(temp);
        let mut copy = Connection::open(temp).map_err(|e| err!(MEDSEAL_OUTBOX_IO, "cannot create {}: {e}", temp.display()))?;
        copy.pragma_update(None, "synchronous", "FULL").db()?;
        {
            let conn = self.lock();
            let backup = Backup::new(&conn, &mut copy).db()?;
            let deadline = std::time::Instant::now() + self.config.busy_timeout;
            loop {
                match backup.step(-1).db()? {
                    StepResult::Done => break,
                    StepResult::More => {}
                    _ if std::time::Instant::now() >= deadline => {
                        return Err(err!(MEDSEAL_OUTBOX_BUSY, "the outbox stayed locked beyond the busy timeout during the backup"))
                    }
                    _ => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        let check: String = copy.query_row("PRAGMA quick_check", [], |row| row.get(0)).db()?;
        if check != "ok" {
            return Err(err!(MEDSEAL_OUTBOX_IO, "the backup copy failed its integrity check: {check}"));
        }
        copy.close().map_err(|(_, e)| schema::db_error(e))
    }
}

/// The ledger columns of a record, for idempotency checks and the sealed ledger.
struct LedgerRow {
    receipt: LocalReceipt,
    signed_digest: Option<[u8; 32]>,
}

impl LedgerRow {
    fn receipt(self, already_queued: bool) -> LocalReceipt {
        LocalReceipt { already_queued, ..self.receipt }
    }
}

fn ledger_row(row: &Row<'_>) -> rusqlite::Result<LedgerRow> {
    Ok(LedgerRow {
        receipt: LocalReceipt {
            outbox_id: row.get(0)?,
            record_id: row.get(1)?,
            source: row.get(2)?,
            sequence: row.get(3)?,
            digest: row.get(4)?,
            enqueued_at: row.get(6)?,
            already_queued: false,
        },
        signed_digest: row.get(5)?,
    })
}

fn find_ledger_row(tx: &Transaction<'_>, record_id: &str) -> Result<Option<LedgerRow>> {
    tx.prepare_cached("SELECT outbox_id, record_id, source, sequence, digest, signed_digest, enqueued_at FROM records WHERE record_id = ?1")
        .db()?
        .query_row([record_id], ledger_row)
        .optional()
        .db()
}

/// The next sequence number of `source` (1 for the first record).
fn next_sequence(tx: &Transaction<'_>, source: &str) -> Result<u64> {
    tx.prepare_cached("SELECT coalesce(max(sequence), 0) + 1 FROM records WHERE source = ?1")
        .db()?
        .query_row([source], |row| row.get(0))
        .db()
}

#[allow(clippy::too_many_arguments)]
fn insert(
    tx: &Transaction<'_>,
    record_id: &str,
    source: &str,
    sequence: u64,
    digest: &[u8; 32],
    signed_digest: Option<&[u8; 32]>,
    envelope: &[u8],
    now: i64,
) -> Result<LocalReceipt> {
    tx.prepare_cached(
        "INSERT INTO records (record_id, source, sequence, digest, signed_digest, envelope, enqueued_at, state, attempts, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', 0, ?7)",
    )
    .db()?
    .execute(params![record_id, source, sequence, digest, signed_digest, envelope, now])
    .db()?;
    Ok(LocalReceipt {
        outbox_id: tx.last_insert_rowid(),
        record_id: record_id.to_owned(),
        source: source.to_owned(),
        sequence,
        digest: *digest,
        enqueued_at: now,
        already_queued: false,
    })
}

fn check_delivery(delivery: &Delivery) -> Result<()> {
    if delivery.receipt.is_empty() {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "the delivery has no receipt"));
    }
    Ok(())
}

fn mark_delivered_in(tx: &Transaction<'_>, outbox_id: i64, delivery: &Delivery) -> Result<()> {
    let (state, receipt): (State, Option<String>) = tx
        .prepare_cached("SELECT state, receipt FROM records WHERE outbox_id = ?1")
        .db()?
        .query_row([outbox_id], |row| Ok((state_of(row, 0)?, row.get(1)?)))
        .optional()
        .db()?
        .ok_or_else(|| not_found(outbox_id))?;
    match state {
        State::InFlight | State::Queued => {
            tx.prepare_cached(
                "UPDATE records SET state = 'delivered', receipt = ?2, inclusion = ?3, duplicate = ?4, delivered_at = ?5,
                   lease_until = NULL, next_attempt_at = NULL WHERE outbox_id = ?1",
            )
            .db()?
            .execute(params![outbox_id, delivery.receipt, delivery.inclusion, delivery.duplicate, delivery.delivered_at])
            .db()?;
            Ok(())
        }
        State::Delivered if receipt.as_deref() == Some(delivery.receipt.as_str()) => Ok(()),
        State::Delivered => Err(err!(MEDSEAL_OUTBOX_STATE, "outbox record {outbox_id} is already delivered with another receipt")),
        other => Err(wrong_state(outbox_id, other, "marked delivered", "queued or in flight")),
    }
}

fn mark_retry_in(tx: &Transaction<'_>, outbox_id: i64, next_attempt_at: i64, error: &str) -> Result<()> {
    match current_state(tx, outbox_id)? {
        State::InFlight => {}
        other => return Err(wrong_state(outbox_id, other, "marked for retry", "in flight")),
    }
    tx.prepare_cached(
        "UPDATE records SET state = 'queued', next_attempt_at = ?2, lease_until = NULL, last_error = ?3 WHERE outbox_id = ?1",
    )
    .db()?
    .execute(params![outbox_id, next_attempt_at, note(error)])
    .db()?;
    Ok(())
}

fn check_dead_code(code: &str) -> Result<()> {
    if code.is_empty() {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "a dead letter needs a code"));
    }
    Ok(())
}

fn mark_dead_in(tx: &Transaction<'_>, outbox_id: i64, code: &str, reason: &str) -> Result<()> {
    match current_state(tx, outbox_id)? {
        State::InFlight | State::Queued => {}
        other => return Err(wrong_state(outbox_id, other, "made a dead letter", "queued or in flight")),
    }
    to_dead_letter(tx, outbox_id, code, reason)?;
    event(tx, outbox_id, "dead_letter", "transport", Some(code), Some(reason))
}

/// Whether an error is the database's (which ends a batch) rather than about one record.
fn is_database_failure(e: &Error) -> bool {
    use crate::error::ResultCode::*;
    matches!(e.code(), MEDSEAL_OUTBOX_IO | MEDSEAL_OUTBOX_BUSY | MEDSEAL_OUTBOX_SCHEMA)
}

/// A record can be withdrawn with a signed tombstone when it is queued or a dead letter and
/// has no withdrawal yet.
fn check_withdrawable(tx: &Transaction<'_>, outbox_id: i64) -> Result<()> {
    let (state, withdrawn): (State, bool) = tx
        .prepare_cached("SELECT state, withdrawal_envelope IS NOT NULL FROM records WHERE outbox_id = ?1")
        .db()?
        .query_row([outbox_id], |row| Ok((state_of(row, 0)?, row.get(1)?)))
        .optional()
        .db()?
        .ok_or_else(|| not_found(outbox_id))?;
    if withdrawn {
        return Err(err!(MEDSEAL_OUTBOX_STATE, "outbox record {outbox_id} is withdrawn already (its withdrawal is {state})"));
    }
    match state {
        State::Queued | State::DeadLetter => Ok(()),
        other => Err(wrong_state(outbox_id, other, "withdrawn with a signed withdrawal", "queued or a dead letter")),
    }
}

fn current_state(tx: &Transaction<'_>, outbox_id: i64) -> Result<State> {
    tx.prepare_cached("SELECT state FROM records WHERE outbox_id = ?1")
        .db()?
        .query_row([outbox_id], |row| state_of(row, 0))
        .optional()
        .db()?
        .ok_or_else(|| not_found(outbox_id))
}

fn to_dead_letter(tx: &Transaction<'_>, outbox_id: i64, code: &str, reason: &str) -> Result<()> {
    tx.execute(
        "UPDATE records SET state = 'dead_letter', dead_code = ?2, dead_reason = ?3, lease_until = NULL, next_attempt_at = NULL
         WHERE outbox_id = ?1",
        params![outbox_id, note(code), note(reason)],
    )
    .db()?;
    Ok(())
}

fn event(tx: &Transaction<'_>, outbox_id: i64, action: &str, who: &str, code: Option<&str>, detail: Option<&str>) -> Result<()> {
    tx.execute(
        "INSERT INTO events (outbox_id, at, action, who, code, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![outbox_id, utc::now(), action, note(who), code.map(note), detail.map(note)],
    )
    .db()?;
    Ok(())
}

fn state_of(row: &Row<'_>, index: usize) -> rusqlite::Result<State> {
    let name: String = row.get(index)?;
    State::from_str(&name).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, format!("unknown record state \"{name}\"").into())
    })
}

fn record_info(row: &Row<'_>) -> rusqlite::Result<RecordInfo> {
    Ok(RecordInfo {
        outbox_id: row.get(0)?,
        record_id: row.get(1)?,
        source: row.get(2)?,
        sequence: row.get(3)?,
        digest: row.get(4)?,
        state: state_of(row, 5)?,
        attempts: row.get(6)?,
        enqueued_at: row.get(7)?,
        next_attempt_at: row.get(8)?,
        lease_until: row.get(9)?,
        last_error: row.get(10)?,
        dead_code: row.get(11)?,
        dead_reason: row.get(12)?,
        receipt: row.get(13)?,
        inclusion: row.get(14)?,
        duplicate: row.get(15)?,
        delivered_at: row.get(16)?,
        withdrawal_digest: row.get(17)?,
    })
}

fn not_found(outbox_id: i64) -> Error {
    err!(MEDSEAL_OUTBOX_NOT_FOUND, "no record with outbox id {outbox_id}")
}

fn wrong_state(outbox_id: i64, state: State, action: &str, allowed: &str) -> Error {
    err!(MEDSEAL_OUTBOX_STATE, "outbox record {outbox_id} is {state}; only a record that is {allowed} can be {action}")
}

fn duplicate(existing: &LocalReceipt, what: &str) -> Error {
    err!(
        MEDSEAL_OUTBOX_DUPLICATE,
        "the record id is already in the outbox (outbox id {}, sequence {}) with {what}",
        existing.outbox_id,
        existing.sequence
    )
}

fn check_reason(reason: &str) -> Result<()> {
    if reason.trim().is_empty() {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "a reason is required (it is recorded)"));
    }
    Ok(())
}

/// Text kept in the file: at most `max_note_bytes`, cut at a character boundary.
fn note(text: &str) -> &str {
    if text.len() <= max_note_bytes() {
        return text;
    }
    let mut end = max_note_bytes();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Who is acting: the user name from the environment (or else the user id) and the process id.
fn operator() -> String {
    let named = ["USER", "LOGNAME", "USERNAME"].iter().find_map(|v| std::env::var(v).ok().filter(|u| !u.trim().is_empty()));
    let user = named.map(|u| shown(&u)).unwrap_or_else(user_id);
    format!("{user} (pid {})", std::process::id())
}

#[cfg(unix)]
fn user_id() -> String {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map_or_else(|_| "unknown user".to_owned(), |m| format!("uid {}", m.uid()))
}

#[cfg(not(unix))]
fn user_id() -> String {
    "unknown user".to_owned()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().try_into().expect("SHA-256 has 32 bytes")
}

/// Whole seconds, rounded up.
fn seconds(d: Duration) -> i64 {
    i64::try_from(d.as_secs() + u64::from(d.subsec_nanos() > 0)).unwrap_or(i64::MAX)
}
