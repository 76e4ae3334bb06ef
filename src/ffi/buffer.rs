//! `medseal_buffer`: variable-size results, zeroized when freed.

use medseal_macros::ffi_export;
use zeroize::Zeroizing;

/// Bytes returned by medseal (canonical JSON, a JWS, an exported key). Read with
/// `medseal_buffer_data` and `medseal_buffer_len`; free with `medseal_buffer_free`, which
/// zeroizes the bytes first. Thread safety: may be read from any thread; freed once.
pub struct medseal_buffer {
    pub(crate) bytes: Zeroizing<Vec<u8>>,
}

impl medseal_buffer {
    pub(crate) fn new(bytes: impl Into<Vec<u8>>) -> medseal_buffer {
        medseal_buffer { bytes: Zeroizing::new(bytes.into()) }
    }
}

/// Pointer to the buffer's bytes (not NUL-terminated), or NULL if `buf` is NULL. Valid until
/// the buffer is freed.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_buffer_data(buf: *const medseal_buffer) -> *const u8 {
    // SAFETY: a non-NULL buffer was made by this library and not yet freed (contract).
    match unsafe { buf.as_ref() } {
        Some(b) => b.bytes.as_ptr(),
        None => std::ptr::null(),
    }
}

/// Number of bytes in the buffer; 0 if `buf` is NULL.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_buffer_len(buf: *const medseal_buffer) -> usize {
    // SAFETY: as for medseal_buffer_data.
    unsafe { buf.as_ref() }.map_or(0, |b| b.bytes.len())
}

/// Zeroizes and frees a buffer. NULL is a no-op. Safe from any thread.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_buffer_free(buf: *mut medseal_buffer) {
    super::free_box(buf)
}
