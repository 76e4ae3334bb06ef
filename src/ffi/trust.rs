//! Trust-list exports: verify a signed list into an immutable handle, read its header, hand it
//! to verifier builders; sign a list (for the health department's tooling).

use std::sync::Arc;

use medseal_macros::ffi_export;

use super::{bytes, free_box, handle, medseal_buffer, medseal_key, Out};
use crate::error::{err, ResultCode};
use crate::jws::{SignOptions, Signer, Verifier};
use crate::trust::TrustList;

/// A verified, fresh trust list. Immutable: share it between threads freely.
pub struct medseal_trust_list {
    pub(crate) list: Arc<TrustList>,
}

/// Verifies a signed trust list (`jws`) with the trust-list key `list_key`, at time `now`
/// (Unix seconds), refusing lists older than `min_sequence` (pass the highest sequence seen
/// so far, or 0). Errors: `MEDSEAL_TRUST_LIST_SIGNATURE`, `_EXPIRED`, `_STALE`, `_INVALID`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_trust_list_verify(
    jws: *const u8,
    len: usize,
    list_key: *const medseal_key,
    now: i64,
    min_sequence: u64,
    out: *mut *mut medseal_trust_list,
) -> ResultCode {
    let jws = bytes(jws, len, "jws")?;
    let key = handle(list_key, "list_key")?;
    let out = Out::new(out, "out")?;
    let verifier = Verifier::new(vec![Arc::new(key.key.to_public())]);
    let list = TrustList::verify(jws, &verifier, now, min_sequence)?;
    out.write_box(medseal_trust_list { list: Arc::new(list) });
    Ok(())
}

/// Writes the list's sequence number to `*sequence`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_trust_list_sequence(list: *const medseal_trust_list, sequence: *mut u64) -> ResultCode {
    let list = handle(list, "list")?;
    Out::new(sequence, "sequence")?.write(list.list.sequence);
    Ok(())
}

/// Writes the list's expiry (Unix seconds) to `*expires`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_trust_list_expires(list: *const medseal_trust_list, expires: *mut i64) -> ResultCode {
    let list = handle(list, "list")?;
    Out::new(expires, "expires")?.write(list.list.expires);
    Ok(())
}

/// Writes the number of entries to `*count`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_trust_list_entry_count(list: *const medseal_trust_list, count: *mut usize) -> ResultCode {
    let list = handle(list, "list")?;
    Out::new(count, "count")?.write(list.list.entries().len());
    Ok(())
}

/// Checks an unsigned trust list (`json`, the format of docs/TRUST_LISTS.md) and signs it with
/// the trust-list key `key` (private), writing the JWS into a new buffer.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_trust_list_sign(
    json: *const u8,
    len: usize,
    key: *const medseal_key,
    out: *mut *mut medseal_buffer,
) -> ResultCode {
    let json = bytes(json, len, "json")?;
    let key = handle(key, "key")?;
    let out = Out::new(out, "out")?;
    if !key.key.has_private() {
        return Err(err!(MEDSEAL_KEY_NOT_PRIVATE, "signing a trust list needs the private trust-list key"));
    }
    let list = TrustList::from_json(json)?;
    let signer = Signer::new(key.key.clone(), SignOptions { typ: Some(crate::trust::TYP.to_owned()), ..SignOptions::default() })?;
    out.write_box(medseal_buffer::new(list.sign(&signer)?));
    Ok(())
}

/// Frees a trust list. NULL is a no-op. Safe from any thread.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_trust_list_free(list: *mut medseal_trust_list) {
    free_box(list)
}
