//! Key exports.

use std::sync::Arc;

use medseal_macros::ffi_export;

use super::{bytes, free_box, handle, medseal_buffer, Out};
use crate::error::{err, Result, ResultCode};
use crate::keys::{Algorithm, Key, KeyFormat};

/// A private or public key bound to one algorithm. Immutable: share it between threads
/// freely. Signers and verifiers keep their own reference, so it may be freed before them.
pub struct medseal_key {
    pub(crate) key: Arc<Key>,
}

/// The algorithm for a `MEDSEAL_ALG_*` number (not `MEDSEAL_ALG_FROM_KEY`).
pub(super) fn algorithm(alg: u32) -> Result<Algorithm> {
    super::constants::algorithm_from_c(alg).ok_or_else(|| err!(MEDSEAL_INVALID_ARGUMENT, "unknown algorithm {alg} (use MEDSEAL_ALG_*)"))
}

/// The key format for a `MEDSEAL_KEY_FORMAT_*` number (signing and recipient keys alike).
pub(super) fn key_format(id: u32) -> Result<KeyFormat> {
    super::constants::key_format_from_c(id)
        .ok_or_else(|| err!(MEDSEAL_INVALID_ARGUMENT, "unknown key format {id} (use MEDSEAL_KEY_FORMAT_*)"))
}

/// Generates a new private key: `MEDSEAL_ALG_EDDSA` or `MEDSEAL_ALG_ES256`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_key_generate(alg: u32, out: *mut *mut medseal_key) -> ResultCode {
    let out = Out::new(out, "out")?;
    let key = Key::generate(algorithm(alg)?)?;
    out.write_box(medseal_key { key: Arc::new(key) });
    Ok(())
}

/// Imports a key from PEM, DER (PKCS#8 v1/v2, PKCS#1, SPKI) or JWK, detected from the bytes.
/// `alg` is `MEDSEAL_ALG_FROM_KEY` (0), or RS256/PS256 to choose the scheme of an RSA key.
/// PKCS#8, PKCS#1 and SPKI do not record the RSA scheme: an RSA key is RS256 unless
/// `MEDSEAL_ALG_PS256` is passed (or its JWK says `"alg":"PS256"`).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_key_import(data: *const u8, len: usize, alg: u32, out: *mut *mut medseal_key) -> ResultCode {
    let data = bytes(data, len, "data")?;
    let out = Out::new(out, "out")?;
    let alg = if alg == 0 { None } else { Some(algorithm(alg)?) };
    let key = Key::import(data, alg)?;
    out.write_box(medseal_key { key: Arc::new(key) });
    Ok(())
}

/// Writes the key in `format` (`MEDSEAL_KEY_FORMAT_*`) into a new buffer. Private formats on
/// a public key give `MEDSEAL_KEY_NOT_PRIVATE`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_key_export(key: *const medseal_key, format: u32, out: *mut *mut medseal_buffer) -> ResultCode {
    let key = handle(key, "key")?;
    let out = Out::new(out, "out")?;
    let format = key_format(format)?;
    let encoded = key.key.export(format)?;
    out.write_box(medseal_buffer::key_export(format, encoded));
    Ok(())
}

/// Writes the key id (RFC 7638 thumbprint, `MEDSEAL_KID_BYTES` ASCII bytes) into a new buffer.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_key_kid(key: *const medseal_key, out: *mut *mut medseal_buffer) -> ResultCode {
    let key = handle(key, "key")?;
    let out = Out::new(out, "out")?;
    out.write_box(medseal_buffer::public(key.key.kid().as_bytes()));
    Ok(())
}

/// Writes the key's algorithm (`MEDSEAL_ALG_*`) to `*alg`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_key_algorithm(key: *const medseal_key, alg: *mut u32) -> ResultCode {
    let key = handle(key, "key")?;
    Out::new(alg, "alg")?.write(super::constants::algorithm_to_c(key.key.algorithm()));
    Ok(())
}

/// Writes 1 to `*has_private` if the key holds its private half, else 0.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_key_has_private(key: *const medseal_key, has_private: *mut u32) -> ResultCode {
    let key = handle(key, "key")?;
    Out::new(has_private, "has_private")?.write(u32::from(key.key.has_private()));
    Ok(())
}

/// Frees a key (its secret bytes are zeroized). NULL is a no-op. Safe from any thread.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_key_free(key: *mut medseal_key) {
    free_box(key)
}
