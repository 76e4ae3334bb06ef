//! Canonical JSON: RFC 8785 (JCS) over a strict I-JSON parser, with the medseal policies that
//! protect FHIR data (no silent precision loss, Unicode NFC) and the FHIR signature variants.
//!
//! Pipeline: [`parse`] (strict, positions in errors) → policies applied while parsing (NFC,
//! lossy numbers) → optional [`FhirVariant`] → [`write`] (JCS serialization).

mod fhir;
mod parse;
mod value;
mod write;

pub use fhir::FhirVariant;
pub use parse::parse;
pub use value::{Number, Value};
pub use write::{format_number, write_canonical};

use crate::error::Result;

/// How strings that are not in Unicode NFC are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NfcPolicy {
    /// Refuse them with `MEDSEAL_JSON_NOT_NFC` (default: the same name in NFC and NFD would
    /// otherwise give two different signatures).
    Refuse,
    /// Normalize every key and string to NFC before canonicalizing.
    Normalize,
    /// Leave strings as they are (plain RFC 8785).
    Ignore,
}

/// Options for canonicalization. `CanonOptions::default()` is the strict medseal policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CanonOptions {
    /// Accept numbers whose canonical text differs from their input text (`1.50` → `1.5`).
    pub allow_lossy_numbers: bool,
    /// Accept numbers of magnitude between 2^53 − 1 and 1e21, which RFC 8785 writes as bare
    /// integers beyond I-JSON's exact range (`1e20` → `100000000000000000000`). Spelled as a
    /// double (`1e20`, `9007199254740993.0`), such a number is read as the double it denotes
    /// (and needs `allow_lossy_numbers` when that changes its text); spelled as an integer
    /// literal, it is accepted only if the literal is exactly its canonical text, so RFC 8785
    /// output (medseal's or any other implementation's) reads back while an integer a double
    /// would change (`9007199254740993`) is refused in every mode (DESIGN 3.1). Off by default:
    /// the strict policy's output must re-parse under the strict policy, which refuses every
    /// integer literal beyond ±(2^53 − 1). [`CanonOptions::plain`] turns it on.
    pub allow_unsafe_integers: bool,
    /// What to do with strings not in NFC.
    pub nfc: NfcPolicy,
    /// A FHIR signature variant to apply after parsing.
    pub fhir: Option<FhirVariant>,
    /// Deepest nesting of arrays and objects accepted.
    pub max_depth: usize,
    /// Largest input accepted, in bytes.
    pub max_bytes: usize,
    /// Most values (scalars, arrays, objects) in one document. Each costs 32–56 bytes of
    /// memory, so without it `[0,0,0,…]` could make a 64 MiB input use over a gigabyte.
    pub max_values: usize,
}

/// Default nesting limit: far above any FHIR resource, far below a stack overflow.
pub const DEFAULT_MAX_DEPTH: usize = 128;
/// Default input limit: 64 MiB ([`crate::limits::MAX_JSON_BYTES`]).
pub const DEFAULT_MAX_BYTES: usize = crate::limits::MAX_JSON_BYTES;
/// Default value limit: 8 Mi values, about twice what a 64 MiB FHIR document holds.
pub const DEFAULT_MAX_VALUES: usize = 8 << 20;

impl Default for CanonOptions {
    fn default() -> Self {
        CanonOptions {
            allow_lossy_numbers: false,
            allow_unsafe_integers: false,
            nfc: NfcPolicy::Refuse,
            fhir: None,
            max_depth: DEFAULT_MAX_DEPTH,
            max_bytes: DEFAULT_MAX_BYTES,
            max_values: DEFAULT_MAX_VALUES,
        }
    }
}

impl CanonOptions {
    /// Exactly RFC 8785 and nothing more: lossy numbers accepted, numbers up to 1e21 written
    /// as RFC 8785 writes them (see [`CanonOptions::allow_unsafe_integers`]), no NFC check.
    /// Strict I-JSON parsing (duplicate keys, lone surrogates, finite doubles, integer literals
    /// a double cannot carry unchanged) still applies, as RFC 8785 requires I-JSON input.
    /// Plain output always re-parses in plain mode to itself.
    pub fn plain() -> Self {
        CanonOptions { allow_lossy_numbers: true, allow_unsafe_integers: true, nfc: NfcPolicy::Ignore, ..Self::default() }
    }
}

/// Canonicalizes a JSON document under `options`; returns the RFC 8785 bytes.
pub fn canonicalize(input: &[u8], options: &CanonOptions) -> Result<Vec<u8>> {
    let mut value = parse(input, options)?;
    if let Some(variant) = options.fhir {
        variant.apply(&mut value)?;
    }
    let mut out = Vec::with_capacity(input.len());
    write_canonical(&value, &mut out);
    Ok(out)
}
