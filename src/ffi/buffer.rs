//! `medseal_buffer`: variable-size results, zeroized when freed.

use medseal_macros::ffi_export;
use zeroize::Zeroizing;

/// Bytes returned by medseal (canonical JSON, a JWS, an exported key, an envelope). Read with
/// `medseal_buffer_data` and `medseal_buffer_len`; free with `medseal_buffer_free`, which
/// zeroizes the bytes first unless they are public (envelopes, which are ciphertext; public
/// keys; key ids; routing metadata). Thread safety: may be read from any thread; freed once.
pub struct medseal_buffer {
    bytes: Vec<u8>,
    /// Whether the bytes are wiped on free: patient data and private keys are.
    secret: bool,
}

impl medseal_buffer {
    /// A buffer holding patient data or key material: wiped on free.
    pub(crate) fn new(bytes: impl Into<Vec<u8>>) -> medseal_buffer {
        medseal_buffer { bytes: bytes.into(), secret: true }
    }

    /// Takes over an already-zeroizing buffer without copying it.
    pub(crate) fn from_secret(mut bytes: Zeroizing<Vec<u8>>) -> medseal_buffer {
        medseal_buffer { bytes: std::mem::take(&mut *bytes), secret: true }
    }

    /// An exported key: wiped on free when the format holds the private key.
    pub(crate) fn key_export(format: crate::keys::KeyFormat, mut bytes: Zeroizing<Vec<u8>>) -> medseal_buffer {
        medseal_buffer { bytes: std::mem::take(&mut *bytes), secret: format.is_private() }
    }

    /// A buffer of public bytes (ciphertext, public keys, ids): not wiped, which matters for
    /// megabyte envelopes.
    pub(crate) fn public(bytes: impl Into<Vec<u8>>) -> medseal_buffer {
        medseal_buffer { bytes: bytes.into(), secret: false }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// A buffer as the exports make them, wiped on free (`secret`) or not: for the benchmark
    /// of the wipe's cost (benches/wipe.rs) only.
    #[doc(hidden)]
    pub fn for_benchmark(bytes: Vec<u8>, secret: bool) -> medseal_buffer {
        medseal_buffer { bytes, secret }
    }
}

impl Drop for medseal_buffer {
    fn drop(&mut self) {
        if self.secret {
            wipe(&mut self.bytes);
        }
    }
}

/// Overwrites `bytes` with zeros at memset speed. `zeroize` writes byte by byte with volatile
/// stores, 6 to 10 times slower (benches/wipe.rs: about 160 µs per megabyte against 17 to 32
/// µs); here one `write_bytes` is kept
/// by `black_box`, which obliges the compiler to assume the zeros are read afterwards (the
/// technique of BoringSSL's OPENSSL_cleanse, with an optimization barrier instead of asm).
fn wipe(bytes: &mut Vec<u8>) {
    // The whole allocation, spare capacity included: a truncated JWS keeps its payload there.
    // SAFETY: writes within the vector's own allocation of `capacity()` bytes.
    unsafe { std::ptr::write_bytes(bytes.as_mut_ptr(), 0, bytes.capacity()) };
    std::hint::black_box(&bytes);
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// Pointer to the buffer's bytes (not NUL-terminated), or NULL if `buf` is NULL. Valid until
/// the buffer is freed.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_buffer_data(buf: *const medseal_buffer) -> *const u8 {
    // SAFETY: a non-NULL buffer was made by this library and not yet freed (contract).
    match unsafe { buf.as_ref() } {
        Some(b) => b.bytes().as_ptr(),
        None => std::ptr::null(),
    }
}

/// Number of bytes in the buffer; 0 if `buf` is NULL.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_buffer_len(buf: *const medseal_buffer) -> usize {
    // SAFETY: as for medseal_buffer_data.
    unsafe { buf.as_ref() }.map_or(0, |b| b.bytes().len())
}

/// Zeroizes and frees a buffer. NULL is a no-op. Safe from any thread.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_buffer_free(buf: *mut medseal_buffer) {
    super::free_box(buf)
}
