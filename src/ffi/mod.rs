//! The C ABI. Conventions (docs/ARCHITECTURE.md, DESIGN section 4):
//!
//! * every export is made by `#[ffi_export]`, which adds the panic boundary;
//! * fallible functions return `medseal_result`; the detail is in `medseal_last_error_message`;
//! * arguments: handle, inputs, outputs; outputs are written only on success;
//! * every handle has one `_free`, and `_free(NULL)` is a no-op;
//! * NULL is checked everywhere, and no slice is ever made from NULL.
//!
//! Handles are boxed Rust values behind opaque C types; keys are shared (`Arc`) with the
//! signers and verifiers built from them, so a key may be freed while they live on. Sealing
//! copies what it needs from its arguments, so nothing borrows a handle past a call.
#![allow(clippy::not_unsafe_ptr_arg_deref)]
// Handle types carry their C names.
#![allow(non_camel_case_types)]

pub mod boundary;
mod buffer;
mod canon;
mod constants;
mod error;
mod key;
mod ledger;
mod outbox;
mod seal;
mod sign;
mod transport;
mod trust;
mod verify;
pub mod version;

pub use buffer::medseal_buffer;
pub use constants::*;
pub use key::medseal_key;
pub use seal::{medseal_envelope, medseal_meta, medseal_recipient_key};
pub use sign::{medseal_clock_callback, medseal_sign_callback, medseal_signer, medseal_signer_builder};
pub use trust::medseal_trust_list;
pub use verify::{medseal_verified, medseal_verifier, medseal_verifier_builder};
pub use version::{MEDSEAL_ABI_VERSION, MEDSEAL_VERSION_MAJOR, MEDSEAL_VERSION_MINOR, MEDSEAL_VERSION_PATCH};

use crate::error::{err, Result};

/// Borrows `len` bytes at `ptr`; NULL is an error even when `len` is 0.
fn bytes<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        return Err(err!(MEDSEAL_NULL_ARGUMENT, "argument `{name}` is NULL"));
    }
    if len > isize::MAX as usize {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "argument `{name}` has an impossible length"));
    }
    // SAFETY: the caller promises `ptr` points to `len` readable bytes (documented contract);
    // NULL and impossible lengths were refused above.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows a UTF-8 string argument.
fn text<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a str> {
    std::str::from_utf8(bytes(ptr, len, name)?).map_err(|_| err!(MEDSEAL_INVALID_UTF8_ARGUMENT, "argument `{name}` is not valid UTF-8"))
}

/// Borrows a handle.
fn handle<'a, T>(ptr: *const T, name: &str) -> Result<&'a T> {
    // SAFETY: a non-NULL handle was made by this library's Box::into_raw and not yet freed
    // (documented contract).
    unsafe { ptr.as_ref() }.ok_or_else(|| err!(MEDSEAL_NULL_ARGUMENT, "handle `{name}` is NULL"))
}

/// Borrows a handle mutably (builders).
fn handle_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T> {
    // SAFETY: as for `handle`; builders are documented as one thread at a time.
    unsafe { ptr.as_mut() }.ok_or_else(|| err!(MEDSEAL_NULL_ARGUMENT, "handle `{name}` is NULL"))
}

/// An output slot, checked before any work so that outputs are written only on success.
struct Out<T>(*mut T);

impl<T> Out<T> {
    fn new(ptr: *mut T, name: &str) -> Result<Out<T>> {
        if ptr.is_null() {
            return Err(err!(MEDSEAL_NULL_ARGUMENT, "output `{name}` is NULL"));
        }
        Ok(Out(ptr))
    }

    fn write(self, value: T) {
        // SAFETY: non-NULL checked in `new`; the caller promises it is writable.
        unsafe { self.0.write(value) }
    }
}

impl<T> Out<*mut T> {
    /// Writes a new handle.
    fn write_box(self, value: T) {
        self.write(Box::into_raw(Box::new(value)))
    }
}

/// Writes into caller memory `out[0..cap]` with `fill` (which checks the size and returns the
/// length written), and the length into `*written`. The size-query convention of DESIGN §4.5:
/// `out = NULL, cap = 0` (or any `cap` too small) gives `MEDSEAL_BUFFER_TOO_SMALL` with the
/// required size in `*written`, which is written in no other failure.
fn fill_caller_buffer(
    input: &[u8],
    out: *mut u8,
    cap: usize,
    written: *mut usize,
    needed: usize,
    fill: impl FnOnce(&mut [u8]) -> Result<usize>,
) -> Result<()> {
    let written = Out::new(written, "written")?;
    if out.is_null() && cap > 0 {
        return Err(err!(MEDSEAL_NULL_ARGUMENT, "argument `out` is NULL but `cap` is {cap}"));
    }
    // The output is written while the input is read: overlapping them would corrupt the data
    // (and alias a `&[u8]` with a `&mut [u8]`, which Rust forbids).
    let (out_start, in_start) = (out as usize, input.as_ptr() as usize);
    if cap > 0 && !input.is_empty() && out_start < in_start.saturating_add(input.len()) && in_start < out_start.saturating_add(cap) {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "the output buffer overlaps the input; use separate buffers"));
    }
    if cap < needed {
        written.write(needed);
        return Err(err!(MEDSEAL_BUFFER_TOO_SMALL, "the output needs {needed} bytes; `cap` is {cap}"));
    }
    if cap > isize::MAX as usize {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "argument `cap` is an impossible length"));
    }
    // SAFETY: `out` is non-NULL here (cap >= needed > 0, or needed == 0 with a dangling-free
    // empty slice below) and the caller promises `cap` writable bytes (documented contract).
    let slice = if cap == 0 { &mut [][..] } else { unsafe { std::slice::from_raw_parts_mut(out, cap) } };
    let len = fill(slice)?;
    written.write(len);
    Ok(())
}

/// Lends bytes owned by a handle: `*data` and `*len` stay valid until the handle is freed.
fn lend(value: &[u8], data: *mut *const u8, len: *mut usize) -> Result<()> {
    let data = Out::new(data, "data")?;
    let len = Out::new(len, "len")?;
    data.write(value.as_ptr());
    len.write(value.len());
    Ok(())
}

/// Frees a handle made by `Out::write_box`; NULL is a no-op.
fn free_box<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: made by Box::into_raw in this library, freed once (documented contract).
        drop(unsafe { Box::from_raw(ptr) });
    }
}
