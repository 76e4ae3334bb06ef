//! Library and ABI versions. The constants are checked against Cargo.toml by a test.

use std::ffi::c_char;

use medseal_macros::ffi_export;

/// Major version of the library (from Cargo.toml).
pub const MEDSEAL_VERSION_MAJOR: u32 = 0;
/// Minor version of the library (from Cargo.toml).
pub const MEDSEAL_VERSION_MINOR: u32 = 1;
/// Patch version of the library (from Cargo.toml).
pub const MEDSEAL_VERSION_PATCH: u32 = 0;
/// ABI version: 1, frozen. The ABI is append-only (docs/ARCHITECTURE.md): nothing is renamed,
/// renumbered or removed; new functions, codes and enum values are only appended. Bindings
/// check `medseal_abi_version()` at load and refuse a library whose ABI version differs from
/// the one they were written for.
pub const MEDSEAL_ABI_VERSION: u32 = 1;

/// The library version, e.g. "0.1.0" (static, NUL-terminated).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_library_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI major version (`MEDSEAL_ABI_VERSION` of the library actually loaded).
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_abi_version() -> u32 {
    MEDSEAL_ABI_VERSION
}

/// `MEDSEAL_KID_BYTES` as a function, for FFI layers that cannot read macros.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_key_kid_bytes() -> usize {
    super::MEDSEAL_KID_BYTES
}

/// `MEDSEAL_MAX_SIGNATURE_BYTES` as a function, for FFI layers that cannot read macros.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_signer_max_signature_bytes() -> usize {
    super::MEDSEAL_MAX_SIGNATURE_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_cargo_toml() {
        assert_eq!(MEDSEAL_VERSION_MAJOR.to_string(), env!("CARGO_PKG_VERSION_MAJOR"));
        assert_eq!(MEDSEAL_VERSION_MINOR.to_string(), env!("CARGO_PKG_VERSION_MINOR"));
        assert_eq!(MEDSEAL_VERSION_PATCH.to_string(), env!("CARGO_PKG_VERSION_PATCH"));
        let v = unsafe { std::ffi::CStr::from_ptr(medseal_library_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
