//! Canonicalization exports.

use medseal_macros::ffi_export;

use super::constants::medseal_canon_flag::*;
use super::{bytes, medseal_buffer, Out};
use crate::canon::{self, CanonOptions, FhirVariant, NfcPolicy};
use crate::error::{err, Result, ResultCode};

/// Options for a set of `MEDSEAL_CANON_*` flags.
pub(crate) fn options_from_flags(flags: u32) -> Result<CanonOptions> {
    let known = MEDSEAL_CANON_PLAIN as u32
        | MEDSEAL_CANON_ALLOW_LOSSY_NUMBERS as u32
        | MEDSEAL_CANON_NORMALIZE_NFC as u32
        | MEDSEAL_CANON_FHIR_DATA as u32
        | MEDSEAL_CANON_FHIR_STATIC as u32
        | MEDSEAL_CANON_FHIR_DOCUMENT as u32;
    if flags & !known != 0 {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "unknown canonicalization flag bits 0x{:x}", flags & !known));
    }
    let has = |flag: u32| flags & flag != 0;
    let mut options = if has(MEDSEAL_CANON_PLAIN as u32) { CanonOptions::plain() } else { CanonOptions::default() };
    if has(MEDSEAL_CANON_ALLOW_LOSSY_NUMBERS as u32) {
        options.allow_lossy_numbers = true;
    }
    if has(MEDSEAL_CANON_NORMALIZE_NFC as u32) {
        options.nfc = NfcPolicy::Normalize;
    }
    let variants: Vec<FhirVariant> = [
        (MEDSEAL_CANON_FHIR_DATA, FhirVariant::Data),
        (MEDSEAL_CANON_FHIR_STATIC, FhirVariant::Static),
        (MEDSEAL_CANON_FHIR_DOCUMENT, FhirVariant::Document),
    ]
    .into_iter()
    .filter(|(flag, _)| has(*flag as u32))
    .map(|(_, v)| v)
    .collect();
    if variants.len() > 1 {
        return Err(err!(MEDSEAL_INVALID_ARGUMENT, "at most one MEDSEAL_CANON_FHIR_* flag may be set"));
    }
    options.fhir = variants.first().copied();
    Ok(options)
}

/// Canonicalizes the JSON document `json[0..len]` (RFC 8785 with the medseal policies chosen
/// by `flags`, a set of `MEDSEAL_CANON_*`; 0 is strict) into a new buffer at `*out`.
#[ffi_export]
#[no_mangle]
pub extern "C" fn medseal_json_canonicalize(json: *const u8, len: usize, flags: u32, out: *mut *mut medseal_buffer) -> ResultCode {
    let input = bytes(json, len, "json")?;
    let out = Out::new(out, "out")?;
    let options = options_from_flags(flags)?;
    let canonical = canon::canonicalize(input, &options)?;
    out.write_box(medseal_buffer::new(canonical));
    Ok(())
}
