//! Outbox exports (docs/SUBMISSION.md): open a durable outbox file, enqueue signed records
//! (sealed inside the outbox's transaction) or pre-sealed envelopes, read its status, and
//! handle dead letters. Delivery to the hub is the transport's (its own file).

use std::path::PathBuf;
use std::sync::Arc;

use medseal_macros::ffi_export;

use super::{bytes, fill_caller_buffer, free_box, handle, medseal_buffer, medseal_key, medseal_recipient_key, text, Out};
use crate::error::{err, Result, ResultCode};
use crate::keys::Key;
use crate::outbox::{LocalReceipt, Outbox, OutboxConfig, OutboxStatus, State};
use crate::seal::RecipientKey;

/// A durable outbox (an SQLite file in WAL mode). Safe to share between threads: calls are
/// serialized inside; several processes may open the same file. Shared (`Arc`) with the
/// background deliverers started on it, so it may be freed while they run.
pub struct medseal_outbox {
    pub(crate) outbox: Arc<Outbox>,
}

/// What an enqueue returns once the record is on disk: outbox id, sequence number, digest.
/// Immutable: share it between threads freely.
pub struct medseal_local_receipt {
    receipt: LocalReceipt,
}

/// A snapshot of an outbox's counts and times (`medseal_outbox_get_status`). Immutable: share it
/// between threads freely.
pub struct medseal_outbox_status {
    status: OutboxStatus,
}

/// Copies the recipient keys of a C array: `recipients` may be NULL only when `len` is 0 (an
/// outbox opened for administration, which cannot enqueue signed records).
fn recipient_keys(ptr: *const *const medseal_recipient_key, len: usize) -> Result<Vec<RecipientKey>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if ptr.is_null() {
        return Err(err!(MEDSEAL_NULL_ARGUMENT, "argument `recipients` is NULL"));
    }
    if len > crate::seal::MAX_RECIPIENTS {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "an outbox seals to 1 to {} recipients, not {len}", crate::seal::MAX_RECIPIENTS));
    }
    // SAFETY: the caller promises `ptr` points to `len` readable pointers (documented
    // contract); NULL was refused and `len` is at most MAX_RECIPIENTS.
    let entries = unsafe { std::slice::from_raw_parts(ptr, len) };
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            // SAFETY: a non-NULL entry is a recipient key made by this library and not yet
            // freed (documented contract).
            unsafe { entry.as_ref() }.map(|r| r.key.to_public()).ok_or_else(|| err!(MEDSEAL_NULL_ARGUMENT, "`recipients[{i}]` is NULL"))
        })
        .collect()
}

/// Opens the outbox file at `path` (UTF-8), creating it if missing, for facility `source` (the
/// `meta.source` of every record), sealing records to `recipients` (the hub first, then any
/// others; public keys suffice, and the keys may be freed afterwards). `recipients` may be
/// NULL with `n = 0`: the outbox can then be administered but not enqueue signed records.
/// Defaults: AES-256-GCM, busy timeout 30 s, lease 60 s. Errors: `MEDSEAL_OUTBOX_IO` (cannot
/// open or create), `MEDSEAL_OUTBOX_SCHEMA` (not an outbox, or a newer version),
/// `MEDSEAL_OUTBOX_BUSY`, `MEDSEAL_INVALID_ARGUMENT` (the file belongs to another source).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_open(
    path: *const u8,
    path_len: usize,
    source: *const u8,
    source_len: usize,
    recipients: *const *const medseal_recipient_key,
    n: usize,
    out: *mut *mut medseal_outbox,
) -> ResultCode {
    let path = text(path, path_len, "path")?;
    let source = text(source, source_len, "source")?;
    let recipients = recipient_keys(recipients, n)?;
    open(path, source, recipients, Vec::new(), Out::new(out, "out")?)
}

/// Both opens, once their arguments are read.
fn open(path: &str, source: &str, recipients: Vec<RecipientKey>, signing_keys: Vec<Arc<Key>>, out: Out<*mut medseal_outbox>) -> Result<()> {
    if path.is_empty() {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "argument `path` is empty"));
    }
    let mut config = OutboxConfig::new(PathBuf::from(path), source, recipients);
    config.signing_keys = signing_keys;
    let outbox = Outbox::open(config)?;
    out.write_box(medseal_outbox { outbox: Arc::new(outbox) });
    Ok(())
}

/// `medseal_outbox_open`, with the facility's own record-signing keys (`signing_keys`, `n_keys`
/// of them, at least one; public keys suffice and may be freed afterwards): every signed record
/// is then verified with them before it takes a sequence number, so an unsigned file, another
/// hospital's record or a forged signature is refused (the JWS code, e.g.
/// `MEDSEAL_JWS_SIGNATURE_INVALID`, `MEDSEAL_JWS_HEADER`) and no number is used: the
/// facility's numbering keeps no hole. What every outbox that enqueues should use.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_open_with_signing_keys(
    path: *const u8,
    path_len: usize,
    source: *const u8,
    source_len: usize,
    recipients: *const *const medseal_recipient_key,
    n: usize,
    signing_keys: *const *const medseal_key,
    n_keys: usize,
    out: *mut *mut medseal_outbox,
) -> ResultCode {
    let path = text(path, path_len, "path")?;
    let source = text(source, source_len, "source")?;
    let recipients = recipient_keys(recipients, n)?;
    let keys = signing_key_list(signing_keys, n_keys)?;
    open(path, source, recipients, keys, Out::new(out, "out")?)
}

/// The public halves of a C array of keys (1 to 64 of them).
fn signing_key_list(ptr: *const *const medseal_key, len: usize) -> Result<Vec<Arc<Key>>> {
    if ptr.is_null() {
        return Err(err!(MEDSEAL_NULL_ARGUMENT, "argument `signing_keys` is NULL"));
    }
    if !(1..=64).contains(&len) {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "an outbox checks records with 1 to 64 signing keys, not {len}"));
    }
    // SAFETY: the caller promises `ptr` points to `len` readable pointers (documented
    // contract); NULL was refused and `len` is at most 64.
    let entries = unsafe { std::slice::from_raw_parts(ptr, len) };
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            // SAFETY: a non-NULL entry is a key made by this library and not yet freed.
            unsafe { entry.as_ref() }
                .map(|k| Arc::new(k.key.to_public()))
                .ok_or_else(|| err!(MEDSEAL_NULL_ARGUMENT, "`signing_keys[{i}]` is NULL"))
        })
        .collect()
}

/// Closes an outbox. NULL is a no-op. Safe from any thread, once no other call uses it.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_free(outbox: *mut medseal_outbox) {
    free_box(outbox)
}

/// Seals `signed_record` (a JWS: flattened JSON or compact) to the outbox's recipients with meta
/// {record_id, source, next sequence number, now, content type}, inside the one transaction
/// that allocates the number and stores the envelope; returns once it is durable. Only a
/// signed record is sealed: a JWS carrying its payload whose protected header has `typ`
/// `medseal+jws` and a `sigT`, else the JWS code (`MEDSEAL_JWS_MALFORMED`, `_BASE64`,
/// `_HEADER`, `_PAYLOAD_MISSING` for a detached JWS, …) and no number is used. The outbox holds
/// no verification key, so it does not verify the signature (the hub does). The same
/// record id with the same signed bytes again gives the original receipt
/// (`medseal_local_receipt_already_queued` = 1); with other bytes it is
/// `MEDSEAL_OUTBOX_DUPLICATE`. `MEDSEAL_OUTBOX_BUSY` if another process held the file beyond
/// the busy timeout (nothing was stored; retry).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_enqueue_signed(
    outbox: *const medseal_outbox,
    record_id: *const u8,
    record_id_len: usize,
    signed_record: *const u8,
    signed_record_len: usize,
    out: *mut *mut medseal_local_receipt,
) -> ResultCode {
    let outbox = handle(outbox, "outbox")?;
    let record_id = text(record_id, record_id_len, "record_id")?;
    let signed = bytes(signed_record, signed_record_len, "signed_record")?;
    let out = Out::new(out, "out")?;
    let receipt = outbox.outbox.enqueue_signed(record_id, signed)?;
    out.write_box(medseal_local_receipt { receipt });
    Ok(())
}

/// Reads back the hub's receipt of delivered record `record_id` (UTF-8) of this outbox, as the
/// deliverer kept it once it had verified it: `*receipt` gets the receipt (a compact JWS by
/// the hub's receipt key, ASCII) and `*inclusion_proof` the inclusion proof (the protobuf
/// `medseal.v1.InclusionProof` the hub sent), each a new buffer to free: exactly what
/// `medseal_receipt_verify` takes, to check them again later. Nothing is written on failure.
/// Errors: `MEDSEAL_OUTBOX_NOT_FOUND` (no record with this id), `MEDSEAL_OUTBOX_STATE` (the
/// record is not delivered yet: queued, in flight, a dead letter or discarded),
/// `MEDSEAL_INVALID_ARGUMENT` (not a valid record id), `MEDSEAL_OUTBOX_IO`/`_BUSY`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_get_receipt(
    outbox: *const medseal_outbox,
    record_id: *const u8,
    record_id_len: usize,
    receipt: *mut *mut medseal_buffer,
    inclusion_proof: *mut *mut medseal_buffer,
) -> ResultCode {
    let outbox = handle(outbox, "outbox")?;
    let record_id = text(record_id, record_id_len, "record_id")?;
    let receipt = Out::new(receipt, "receipt")?;
    let inclusion_proof = Out::new(inclusion_proof, "inclusion_proof")?;
    let delivery = outbox.outbox.delivery(record_id)?;
    receipt.write_box(medseal_buffer::public(delivery.receipt));
    inclusion_proof.write_box(medseal_buffer::public(delivery.inclusion));
    Ok(())
}

/// Enqueues an envelope sealed elsewhere (protobuf, or the JSON mapping): its meta.source must
/// be the outbox's and its meta.sequence the next number (`MEDSEAL_OUTBOX_SEQUENCE`
/// otherwise), and it must be addressed to the outbox's first recipient, the hub
/// (`MEDSEAL_SEAL_WRONG_RECIPIENT`). The same record id and envelope again gives the original
/// receipt; another envelope with that id is `MEDSEAL_OUTBOX_DUPLICATE`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_enqueue_sealed(
    outbox: *const medseal_outbox,
    envelope: *const u8,
    len: usize,
    out: *mut *mut medseal_local_receipt,
) -> ResultCode {
    let outbox = handle(outbox, "outbox")?;
    let envelope = bytes(envelope, len, "envelope")?;
    let out = Out::new(out, "out")?;
    let receipt = outbox.outbox.enqueue_sealed(envelope)?;
    out.write_box(medseal_local_receipt { receipt });
    Ok(())
}

/// Writes the record's outbox id (its row in this file) to `*outbox_id`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_local_receipt_outbox_id(receipt: *const medseal_local_receipt, outbox_id: *mut i64) -> ResultCode {
    let receipt = handle(receipt, "receipt")?;
    Out::new(outbox_id, "outbox_id")?.write(receipt.receipt.outbox_id);
    Ok(())
}

/// Writes the record's per-source sequence number (1, 2, 3, …) to `*sequence`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_local_receipt_sequence(receipt: *const medseal_local_receipt, sequence: *mut u64) -> ResultCode {
    let receipt = handle(receipt, "receipt")?;
    Out::new(sequence, "sequence")?.write(receipt.receipt.sequence);
    Ok(())
}

/// Writes when the record was enqueued (Unix seconds) to `*enqueued_at`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_local_receipt_enqueued_at(receipt: *const medseal_local_receipt, enqueued_at: *mut i64) -> ResultCode {
    let receipt = handle(receipt, "receipt")?;
    Out::new(enqueued_at, "enqueued_at")?.write(receipt.receipt.enqueued_at);
    Ok(())
}

/// Writes 1 to `*already_queued` if the record id was already enqueued with the same content
/// (nothing was added; this is the original receipt), else 0.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_local_receipt_already_queued(receipt: *const medseal_local_receipt, already_queued: *mut u32) -> ResultCode {
    let receipt = handle(receipt, "receipt")?;
    Out::new(already_queued, "already_queued")?.write(u32::from(receipt.receipt.already_queued));
    Ok(())
}

/// Writes the SHA-256 of the protobuf envelope (32 bytes, as the hub receives it) at the start
/// of `out` (`cap` bytes) and 32 to `*written`. `out = NULL, cap = 0` (or a smaller `cap`)
/// gives `MEDSEAL_BUFFER_TOO_SMALL` with 32 in `*written`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_local_receipt_digest(
    receipt: *const medseal_local_receipt,
    out: *mut u8,
    cap: usize,
    written: *mut usize,
) -> ResultCode {
    let receipt = handle(receipt, "receipt")?;
    let digest = &receipt.receipt.digest;
    fill_caller_buffer(digest, out, cap, written, digest.len(), |slice| {
        slice[..digest.len()].copy_from_slice(digest);
        Ok(digest.len())
    })
}

/// Frees a local receipt. NULL is a no-op. Safe from any thread.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_local_receipt_free(receipt: *mut medseal_local_receipt) {
    free_box(receipt)
}

/// Reads the outbox's counts per state, next sequence number and due times into a new
/// snapshot (read with the `medseal_outbox_status_*` accessors).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_get_status(outbox: *const medseal_outbox, out: *mut *mut medseal_outbox_status) -> ResultCode {
    let outbox = handle(outbox, "outbox")?;
    let out = Out::new(out, "out")?;
    out.write_box(medseal_outbox_status { status: outbox.outbox.status()? });
    Ok(())
}

fn status_count(status: *const medseal_outbox_status, count: *mut u64, pick: impl FnOnce(&OutboxStatus) -> u64) -> Result<()> {
    let status = handle(status, "status")?;
    Out::new(count, "count")?.write(pick(&status.status));
    Ok(())
}

/// Writes the number of queued records (waiting for delivery) to `*count`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_status_queued(status: *const medseal_outbox_status, count: *mut u64) -> ResultCode {
    status_count(status, count, |s| s.queued)
}

/// Writes the number of records being delivered (claimed, lease running) to `*count`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_status_in_flight(status: *const medseal_outbox_status, count: *mut u64) -> ResultCode {
    status_count(status, count, |s| s.in_flight)
}

/// Writes the number of delivered records (hub receipt kept) to `*count`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_status_delivered(status: *const medseal_outbox_status, count: *mut u64) -> ResultCode {
    status_count(status, count, |s| s.delivered)
}

/// Writes the number of dead letters (refused for good, waiting for an operator) to `*count`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_status_dead_letter(status: *const medseal_outbox_status, count: *mut u64) -> ResultCode {
    status_count(status, count, |s| s.dead_letter)
}

/// Writes the number of discarded dead letters to `*count`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_status_discarded(status: *const medseal_outbox_status, count: *mut u64) -> ResultCode {
    status_count(status, count, |s| s.discarded)
}

/// Writes the sequence number the next record will get to `*sequence`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_status_next_sequence(status: *const medseal_outbox_status, sequence: *mut u64) -> ResultCode {
    status_count(status, sequence, |s| s.next_sequence)
}

fn status_time(
    status: *const medseal_outbox_status,
    present: *mut u32,
    at: *mut i64,
    pick: impl FnOnce(&OutboxStatus) -> Option<i64>,
) -> Result<()> {
    let status = handle(status, "status")?;
    let present = Out::new(present, "present")?;
    let at = Out::new(at, "at")?;
    let value = pick(&status.status);
    present.write(u32::from(value.is_some()));
    at.write(value.unwrap_or(0));
    Ok(())
}

/// When the oldest record not yet delivered (queued or in flight) was enqueued: writes 1 to
/// `*present` and the time (Unix seconds) to `*at`, or 0 and 0 when there is none.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_status_oldest_queued_at(
    status: *const medseal_outbox_status,
    present: *mut u32,
    at: *mut i64,
) -> ResultCode {
    status_time(status, present, at, |s| s.oldest_queued_at)
}

/// When the next record becomes due for delivery (a queued record's next attempt, or an
/// in-flight record's lease end): writes 1 to `*present` and the time (Unix seconds) to
/// `*at`, or 0 and 0 when nothing waits.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_status_next_attempt_at(
    status: *const medseal_outbox_status,
    present: *mut u32,
    at: *mut i64,
) -> ResultCode {
    status_time(status, present, at, |s| s.next_attempt_at)
}

/// Frees a status snapshot. NULL is a no-op. Safe from any thread.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_status_free(status: *mut medseal_outbox_status) {
    free_box(status)
}

/// Writes the number of dead letters to `*count`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_dead_letter_count(outbox: *const medseal_outbox, count: *mut u64) -> ResultCode {
    let outbox = handle(outbox, "outbox")?;
    let count = Out::new(count, "count")?;
    count.write(outbox.outbox.dead_letter_count()?);
    Ok(())
}

/// Writes the outbox ids of the dead letters, oldest first, into `ids` (room for `cap` ids)
/// and their number to `*written`. Ask for the number with `ids = NULL, cap = 0`:
/// `MEDSEAL_BUFFER_TOO_SMALL` with the count in `*written` (which may grow before the next
/// call, if a deliverer adds one).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_dead_letter_ids(
    outbox: *const medseal_outbox,
    ids: *mut i64,
    cap: usize,
    written: *mut usize,
) -> ResultCode {
    let outbox = handle(outbox, "outbox")?;
    let written = Out::new(written, "written")?;
    if ids.is_null() && cap > 0 {
        return Err(err!(MEDSEAL_NULL_ARGUMENT, "argument `ids` is NULL but `cap` is {cap}"));
    }
    let dead: Vec<i64> = outbox.outbox.list(Some(State::DeadLetter), usize::MAX)?.iter().map(|r| r.outbox_id).collect();
    if cap < dead.len() {
        written.write(dead.len());
        return Err(err!(MEDSEAL_BUFFER_TOO_SMALL, "there are {} dead letters; `cap` is {cap}", dead.len()));
    }
    if !dead.is_empty() {
        // SAFETY: `ids` is non-NULL (cap >= len > 0) and the caller promises `cap` writable
        // i64 slots (documented contract); only the first `len` are written.
        unsafe { std::ptr::copy_nonoverlapping(dead.as_ptr(), ids, dead.len()) };
    }
    written.write(dead.len());
    Ok(())
}

/// Gives dead letter `outbox_id` another chance: it is queued again, due now (its dead-letter
/// code and reason move to its history). `MEDSEAL_OUTBOX_NOT_FOUND`, or `MEDSEAL_OUTBOX_STATE`
/// if it is not a dead letter.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_requeue(outbox: *const medseal_outbox, outbox_id: i64) -> ResultCode {
    let outbox = handle(outbox, "outbox")?;
    outbox.outbox.requeue(outbox_id)
}

/// Decides not to send dead letter `outbox_id`: it becomes discarded, recorded with the time,
/// the operating-system user and `why` (UTF-8, required, not empty). The envelope is kept;
/// nothing is ever deleted. `MEDSEAL_OUTBOX_NOT_FOUND`, or `MEDSEAL_OUTBOX_STATE` if it is not
/// a dead letter.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_discard(outbox: *const medseal_outbox, outbox_id: i64, why: *const u8, len: usize) -> ResultCode {
    let outbox = handle(outbox, "outbox")?;
    let why = text(why, len, "why")?;
    outbox.outbox.discard(outbox_id, why)
}

/// Stops queued record `outbox_id` before it is delivered (enqueued by mistake): it becomes a
/// dead letter with code `WITHDRAWN` and `reason` (UTF-8, required), recorded. Only a queued
/// record: one in flight may be at the hub already (`MEDSEAL_OUTBOX_STATE`).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_withdraw(outbox: *const medseal_outbox, outbox_id: i64, reason: *const u8, len: usize) -> ResultCode {
    let outbox = handle(outbox, "outbox")?;
    let reason = text(reason, len, "reason")?;
    outbox.outbox.withdraw(outbox_id, reason)
}

/// Withdraws record `outbox_id` for good at the hub too: a tombstone for its sequence number,
/// signed with `signer`'s key (the facility's record-signing key; the signer's `typ` is replaced
/// by `medseal-withdrawal+jws`) over {record id, sequence, source, `reason`}, is sealed to the
/// outbox's recipients and queued in the record's place, so the hub ledgers the number as
/// withdrawn with the reason instead of leaving a gap. For a queued record or a dead letter
/// (`MEDSEAL_OUTBOX_STATE` otherwise, or when already withdrawn); `reason` is 1 to 1024 bytes of
/// UTF-8 without control characters (`MEDSEAL_INVALID_ARGUMENT`). With signing keys
/// (`medseal_outbox_open_with_signing_keys`) the tombstone must verify with one of them
/// (`MEDSEAL_INVALID_ARGUMENT` otherwise: another facility's key). The
/// original envelope and the local ledger never change.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_withdraw_signed(
    outbox: *const medseal_outbox,
    outbox_id: i64,
    reason: *const u8,
    len: usize,
    signer: *const crate::ffi::medseal_signer,
) -> ResultCode {
    let outbox = handle(outbox, "outbox")?;
    let reason = text(reason, len, "reason")?;
    let signer = handle(signer, "signer")?;
    outbox.outbox.withdraw_signed(outbox_id, reason, &signer.signer.with_typ(crate::record::WITHDRAWAL_TYP))
}

/// Copies the whole outbox to a new file at `path` (UTF-8) with SQLite's online backup, while
/// other processes keep working. An existing file is never replaced (`MEDSEAL_OUTBOX_IO`).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_outbox_backup(outbox: *const medseal_outbox, path: *const u8, len: usize) -> ResultCode {
    let outbox = handle(outbox, "outbox")?;
    let path = text(path, len, "path")?;
    if path.is_empty() {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "argument `path` is empty"));
    }
    outbox.outbox.backup(std::path::Path::new(path))
}
