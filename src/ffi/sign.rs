//! Signer exports: a builder for the options, then an immutable signer.

use std::sync::Arc;

use medseal_macros::ffi_export;

use super::canon::options_from_flags;
use super::{bytes, free_box, handle, handle_mut, medseal_buffer, medseal_key, text, Out};
use crate::error::{err, ResultCode};
use crate::jws::{check_commitment, format_sig_time, Serialization, SignOptions, Signer};
use crate::keys::Key;

/// Collects signer options. One thread at a time; free with `medseal_signer_builder_free`.
pub struct medseal_signer_builder {
    key: Arc<Key>,
    options: SignOptions,
}

/// Signs records. Immutable: share it between threads freely.
pub struct medseal_signer {
    pub(crate) signer: Signer,
}

/// Starts a signer for `key` (which must hold a private key) with the medseal defaults:
/// kid = thumbprint, typ `medseal+jws`, the clock for `sigT`, strict canonicalization.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_new(key: *const medseal_key, out: *mut *mut medseal_signer_builder) -> ResultCode {
    let key = handle(key, "key")?;
    let out = Out::new(out, "out")?;
    if !key.key.has_private() {
        return Err(err!(MEDSEAL_KEY_NOT_PRIVATE, "a signer needs a private key; this key is public only"));
    }
    out.write_box(medseal_signer_builder { key: key.key.clone(), options: SignOptions::default() });
    Ok(())
}

/// Sets the `kid` header (UTF-8, 1 to 256 bytes) instead of the key's thumbprint.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_set_kid(builder: *mut medseal_signer_builder, kid: *const u8, len: usize) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    let kid = text(kid, len, "kid")?;
    if kid.is_empty() || kid.len() > 256 {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "a kid has 1 to 256 bytes"));
    }
    builder.options.kid = Some(kid.to_owned());
    Ok(())
}

/// Sets the JAdES `srCms` commitment type: an ASTM E1762 purpose OID in dotted form, e.g.
/// "1.2.840.10065.1.12.1.1" (author's signature). Anything else is `MEDSEAL_INVALID_ARGUMENT`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_set_commitment(builder: *mut medseal_signer_builder, oid: *const u8, len: usize) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    let oid = text(oid, len, "oid")?;
    check_commitment(oid)?;
    builder.options.commitment = Some(oid.to_owned());
    Ok(())
}

/// Fixes `sigT` to `unix_seconds` (UTC) for reproducible output; by default the clock is read
/// at each signature. A time outside years 0..=9999 is `MEDSEAL_INVALID_ARGUMENT`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_set_signing_time(builder: *mut medseal_signer_builder, unix_seconds: i64) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    format_sig_time(unix_seconds)?;
    builder.options.signing_time = Some(unix_seconds);
    Ok(())
}

/// Sets the canonicalization flags (`MEDSEAL_CANON_*`) used on documents before signing.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_set_canon_flags(builder: *mut medseal_signer_builder, flags: u32) -> ResultCode {
    let builder = handle_mut(builder, "builder")?;
    builder.options.canon = options_from_flags(flags)?;
    Ok(())
}

/// Builds the signer. The builder stays valid (and must still be freed).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_build(builder: *const medseal_signer_builder, out: *mut *mut medseal_signer) -> ResultCode {
    let builder = handle(builder, "builder")?;
    let out = Out::new(out, "out")?;
    let signer = Signer::new(builder.key.clone(), builder.options.clone())?;
    out.write_box(medseal_signer { signer });
    Ok(())
}

/// Frees a signer builder. NULL is a no-op.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_builder_free(builder: *mut medseal_signer_builder) {
    free_box(builder)
}

/// Canonicalizes the JSON `document` and signs it; writes the JWS in `format`
/// (`MEDSEAL_JWS_*`) into a new buffer.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_sign(
    signer: *const medseal_signer,
    document: *const u8,
    len: usize,
    format: u32,
    out: *mut *mut medseal_buffer,
) -> ResultCode {
    let signer = handle(signer, "signer")?;
    let document = bytes(document, len, "document")?;
    let out = Out::new(out, "out")?;
    let format = Serialization::from_c_id(format)
        .ok_or_else(|| err!(MEDSEAL_INVALID_ARGUMENT, "unknown JWS format {format} (use MEDSEAL_JWS_*)"))?;
    let jws = signer.signer.sign(document, format)?;
    out.write_box(medseal_buffer::new(jws));
    Ok(())
}

/// Frees a signer. NULL is a no-op. Safe from any thread.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_free(signer: *mut medseal_signer) {
    free_box(signer)
}
