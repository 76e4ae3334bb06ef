//! Result codes and the last-error message.

use std::ffi::c_char;

use medseal_macros::ffi_export;

use super::boundary::with_last_error;
use crate::error::{err, ResultCode};

/// Static, NUL-terminated texts for each code, built once.
fn static_text(code: i32, name: bool) -> *const c_char {
    static TEXTS: std::sync::OnceLock<Vec<(i32, std::ffi::CString, std::ffi::CString)>> = std::sync::OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        ResultCode::ALL
            .iter()
            .map(|c| {
                let to_c = |s: &str| std::ffi::CString::new(s).expect("no NUL in static texts");
                (*c as i32, to_c(c.name()), to_c(c.describe()))
            })
            .collect()
    });
    match texts.iter().find(|(c, _, _)| *c == code) {
        Some((_, n, d)) => {
            if name {
                n.as_ptr()
            } else {
                d.as_ptr()
            }
        }
        None if name => c"MEDSEAL_UNKNOWN".as_ptr(),
        None => c"unknown result code".as_ptr(),
    }
}

/// A static description of `code` (never NULL; valid for the life of the process).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_result_describe(code: i32) -> *const c_char {
    static_text(code, false)
}

/// The constant's name for `code`, e.g. "MEDSEAL_JSON_LOSSY_NUMBER" (never NULL; static).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_result_name(code: i32) -> *const c_char {
    static_text(code, true)
}

/// Copies this thread's last error message into `buf` (UTF-8, NUL-terminated) and its length
/// (without the NUL) into `*len` when `len` is not NULL. Never changes the last error, whatever
/// the arguments: reading it, failing to read it and asking its size all leave it as it was.
///
/// * Enough room (`cap` at least length + 1): the message and its NUL are copied, `MEDSEAL_OK`.
/// * Less room, including the size query `buf = NULL, cap = 0`: `MEDSEAL_BUFFER_TOO_SMALL`
///   with the length in `*len`, nothing written to `buf`; but `MEDSEAL_OK` with `*len = 0`
///   when the message is empty and `cap` is 0 (nothing to copy).
/// * `buf = NULL` with `cap > 0`: `MEDSEAL_NULL_ARGUMENT`, nothing written.
///
/// The message is empty after a successful fallible call.
#[ffi_export(keep_last_error)]
#[no_mangle]
pub extern "C" fn medseal_last_error_message(buf: *mut u8, cap: usize, len: *mut usize) -> ResultCode {
    if buf.is_null() && cap > 0 {
        return Err(err!(MEDSEAL_NULL_ARGUMENT, "argument `buf` is NULL but `cap` is {cap}"));
    }
    let write_len = |n: usize| {
        if !len.is_null() {
            // SAFETY: non-NULL; the caller promises a writable size_t (documented contract).
            unsafe { len.write(n) }
        }
    };
    with_last_error(|message| {
        let bytes = message.as_bytes();
        if bytes.is_empty() && cap == 0 {
            write_len(0);
            return Ok(());
        }
        if cap < bytes.len() + 1 {
            write_len(bytes.len());
            return Err(err!(MEDSEAL_BUFFER_TOO_SMALL, "the message needs {} bytes; `cap` is {cap}", bytes.len() + 1));
        }
        // SAFETY: `buf` is non-NULL (cap > 0 here) with room for `cap` bytes (caller contract).
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len());
            buf.add(bytes.len()).write(0);
        }
        write_len(bytes.len());
        Ok(())
    })
}
