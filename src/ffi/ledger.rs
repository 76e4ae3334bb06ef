//! Ledger exports: check a hub receipt with its inclusion proof, verify a signed tree head,
//! and the RFC 9162 primitives an auditor needs (leaf hash, inclusion and consistency checks).
//! Hashes are 32-byte arrays passed as `uint8_t *`; audit paths are their concatenation.

use std::sync::Arc;

use medseal_macros::ffi_export;

use super::{bytes, free_box, handle, lend, medseal_key, text, Out};
use crate::error::{err, Result, ResultCode};
use crate::jws::Verifier;
use crate::ledger::{self, Hash, Receipt, TreeHead};

/// A receipt that passed `medseal_receipt_verify`. Immutable: share it between threads
/// freely; free it once with `medseal_receipt_free`.
pub struct medseal_receipt {
    receipt: Receipt,
}

fn verifier(key: *const medseal_key, name: &str) -> Result<Verifier> {
    Ok(Verifier::new(vec![Arc::new(handle(key, name)?.key.to_public())]))
}

/// Borrows `len` bytes that may be NULL when `len` is 0.
fn optional_bytes<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8]> {
    if ptr.is_null() && len == 0 {
        return Ok(&[]);
    }
    bytes(ptr, len, name)
}

/// Reads a 32-byte hash argument.
fn hash_arg(ptr: *const u8, name: &str) -> Result<Hash> {
    Ok(bytes(ptr, 32, name)?.try_into().expect("32 bytes"))
}

/// Splits concatenated hashes (`len` a multiple of 32).
fn path_arg(ptr: *const u8, len: usize, name: &str) -> Result<Vec<Hash>> {
    let all = optional_bytes(ptr, len, name)?;
    if all.len() % 32 != 0 {
        return Err(err!(
            MEDSEAL_INVALID_ARGUMENT,
            "argument `{name}` has {len} bytes, not a multiple of 32 (concatenated SHA-256 hashes)"
        ));
    }
    Ok(all.chunks_exact(32).map(|h| h.try_into().expect("32 bytes")).collect())
}

/// An output of 32 bytes.
struct HashOut(*mut u8);

impl HashOut {
    fn new(ptr: *mut u8, name: &str) -> Result<HashOut> {
        if ptr.is_null() {
            return Err(err!(MEDSEAL_NULL_ARGUMENT, "output `{name}` is NULL"));
        }
        Ok(HashOut(ptr))
    }

    fn write(self, hash: &Hash) {
        // SAFETY: non-NULL checked in `new`; the caller promises 32 writable bytes (contract).
        unsafe { std::ptr::copy_nonoverlapping(hash.as_ptr(), self.0, 32) }
    }
}

/// Borrows a required, non-empty UTF-8 text argument.
fn required_text<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a str> {
    let value = text(ptr, len, name)?;
    if value.is_empty() {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "argument `{name}` is empty"));
    }
    Ok(value)
}

/// Checks what the hub returned for one record (docs/SUBMISSION.md "Checking a receipt"):
/// `receipt` (the compact JWS) verifies with `receipt_key` and names exactly the record the
/// caller sent: the facility `source`, the record id `record_id` and the envelope digest
/// `digest` (SHA-256 of the protobuf envelope in base64url without padding, 43 characters), all
/// three UTF-8 text as the receipt writes them, required and not empty; `inclusion_proof` (a
/// protobuf `medseal.v1.InclusionProof`, or its JSON mapping) carries a tree head that
/// verifies with `tree_head_key` (another key) for the receipt's tree size, and an audit path
/// from the receipt's ledger entry to its root. A receipt for another facility, record or
/// envelope is `MEDSEAL_LEDGER_RECEIPT_INVALID`, the message naming the field that differs.
/// Errors: `MEDSEAL_LEDGER_RECEIPT_INVALID`, `_TREE_HEAD_INVALID`, `_PROOF_INVALID`;
/// `MEDSEAL_INVALID_ARGUMENT` for an empty text or a `digest` that is not such a hash.
#[ffi_export]
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn medseal_receipt_verify(
    receipt: *const u8,
    receipt_len: usize,
    inclusion_proof: *const u8,
    proof_len: usize,
    receipt_key: *const medseal_key,
    tree_head_key: *const medseal_key,
    source: *const u8,
    source_len: usize,
    record_id: *const u8,
    record_id_len: usize,
    digest: *const u8,
    digest_len: usize,
    out: *mut *mut medseal_receipt,
) -> ResultCode {
    let jws = bytes(receipt, receipt_len, "receipt")?;
    let proof = bytes(inclusion_proof, proof_len, "inclusion_proof")?;
    let receipt_keys = verifier(receipt_key, "receipt_key")?;
    let tree_head_keys = verifier(tree_head_key, "tree_head_key")?;
    let source = required_text(source, source_len, "source")?;
    let record_id = required_text(record_id, record_id_len, "record_id")?;
    let digest_text = required_text(digest, digest_len, "digest")?;
    let digest = ledger::decode_hash(digest_text).ok().filter(|hash| ledger::encode_hash(hash) == digest_text).ok_or_else(|| {
        err!(MEDSEAL_INVALID_ARGUMENT, "argument `digest` is not a SHA-256 hash in base64url without padding (43 characters)")
    })?;
    let out = Out::new(out, "out")?;
    let proof = ledger::decode_inclusion_proof(proof)?;
    let subject = ledger::ReceiptSubject { source, record_id, digest: &digest };
    let receipt = ledger::verify_receipt_for(jws, &proof, &receipt_keys, &tree_head_keys, &subject)?;
    out.write_box(medseal_receipt { receipt });
    Ok(())
}

/// Writes the record's leaf index in the ledger to `*index`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_receipt_ledger_index(receipt: *const medseal_receipt, index: *mut u64) -> ResultCode {
    let receipt = handle(receipt, "receipt")?;
    Out::new(index, "index")?.write(receipt.receipt.ledger_index);
    Ok(())
}

/// Writes the size of the tree the receipt and its proof go with to `*tree_size`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_receipt_tree_size(receipt: *const medseal_receipt, tree_size: *mut u64) -> ResultCode {
    let receipt = handle(receipt, "receipt")?;
    Out::new(tree_size, "tree_size")?.write(receipt.receipt.tree_size);
    Ok(())
}

/// Writes the facility's sequence number for the record to `*sequence`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_receipt_sequence(receipt: *const medseal_receipt, sequence: *mut u64) -> ResultCode {
    let receipt = handle(receipt, "receipt")?;
    Out::new(sequence, "sequence")?.write(receipt.receipt.sequence);
    Ok(())
}

/// Writes when the hub received the record (Unix seconds) to `*received`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_receipt_received(receipt: *const medseal_receipt, received: *mut i64) -> ResultCode {
    let receipt = handle(receipt, "receipt")?;
    Out::new(received, "received")?.write(receipt.receipt.received);
    Ok(())
}

/// Borrows the record id (UTF-8, not NUL-terminated), valid until the receipt is freed.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_receipt_record_id(receipt: *const medseal_receipt, data: *mut *const u8, len: *mut usize) -> ResultCode {
    lend(handle(receipt, "receipt")?.receipt.record_id.as_bytes(), data, len)
}

/// Borrows the source facility id (UTF-8, not NUL-terminated), valid until the receipt is freed.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_receipt_source(receipt: *const medseal_receipt, data: *mut *const u8, len: *mut usize) -> ResultCode {
    lend(handle(receipt, "receipt")?.receipt.source.as_bytes(), data, len)
}

/// Writes the envelope digest the receipt names (SHA-256, 32 bytes) to `digest`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_receipt_digest(receipt: *const medseal_receipt, digest: *mut u8) -> ResultCode {
    let receipt = handle(receipt, "receipt")?;
    HashOut::new(digest, "digest")?.write(&receipt.receipt.digest);
    Ok(())
}

/// Frees a receipt. NULL is a no-op. Safe from any thread.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_receipt_free(receipt: *mut medseal_receipt) {
    free_box(receipt)
}

/// Verifies a signed tree head (`jws`, compact, typ `medseal-tree-head+jws`) with the hub's
/// tree-head key and writes its size to `*tree_size`, its time (Unix seconds) to `*timestamp`
/// and its root to `root_hash` (32 bytes). Error: `MEDSEAL_LEDGER_TREE_HEAD_INVALID`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_ledger_verify_tree_head(
    jws: *const u8,
    len: usize,
    tree_head_key: *const medseal_key,
    tree_size: *mut u64,
    timestamp: *mut i64,
    root_hash: *mut u8,
) -> ResultCode {
    let jws = bytes(jws, len, "jws")?;
    let keys = verifier(tree_head_key, "tree_head_key")?;
    let (size_out, time_out, root_out) =
        (Out::new(tree_size, "tree_size")?, Out::new(timestamp, "timestamp")?, HashOut::new(root_hash, "root_hash")?);
    let head = TreeHead::verify(jws, &keys)?;
    size_out.write(head.tree_size);
    time_out.write(head.timestamp);
    root_out.write(&head.root_hash);
    Ok(())
}

/// Writes the RFC 9162 leaf hash of `entry` (`SHA-256(0x00 || entry)`, 32 bytes) to `out`.
/// A ledger entry's leaf is the hash of its canonical JSON line, exactly as served.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_ledger_leaf_hash(entry: *const u8, len: usize, out: *mut u8) -> ResultCode {
    let entry = optional_bytes(entry, len, "entry")?;
    HashOut::new(out, "out")?.write(&ledger::leaf_hash(entry));
    Ok(())
}

/// RFC 9162 2.1.3.2: checks that `path` (`path_len` bytes: the audit path's 32-byte hashes,
/// concatenated; NULL when empty) leads from the leaf hash `leaf` at `index` to `root`, the
/// root of a tree of `size` leaves. Errors: `MEDSEAL_LEDGER_PROOF_INVALID`, `MEDSEAL_LEDGER_RANGE`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_ledger_verify_inclusion(
    leaf: *const u8,
    index: u64,
    size: u64,
    path: *const u8,
    path_len: usize,
    root: *const u8,
) -> ResultCode {
    let (leaf, root) = (hash_arg(leaf, "leaf")?, hash_arg(root, "root")?);
    let path = path_arg(path, path_len, "path")?;
    ledger::verify_inclusion(&leaf, index, size, &path, &root)
}

/// RFC 9162 2.1.4.2: checks that the tree of `first` leaves with root `first_root` is a prefix
/// of the tree of `second` leaves with root `second_root`, with `path` (`path_len` bytes of
/// concatenated hashes; NULL when empty). Errors: `MEDSEAL_LEDGER_PROOF_INVALID`,
/// `MEDSEAL_LEDGER_RANGE` (`first > second`).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_ledger_verify_consistency(
    first: u64,
    second: u64,
    first_root: *const u8,
    second_root: *const u8,
    path: *const u8,
    path_len: usize,
) -> ResultCode {
    let (first_root, second_root) = (hash_arg(first_root, "first_root")?, hash_arg(second_root, "second_root")?);
    let path = path_arg(path, path_len, "path")?;
    ledger::verify_consistency(first, second, &first_root, &second_root, &path)
}
