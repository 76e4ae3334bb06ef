//! `medseal canon`, and the canonicalization flags that `sign` and `verify` share with it.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use medseal::{CanonOptions, FhirVariant, NfcPolicy, ResultCode};

use crate::{io, Failure};

/// Write the RFC 8785 canonical form of a JSON document to stdout (no trailing newline).
///
/// By default medseal's strict policy applies: numbers that would change their text (1.50,
/// 1e2, -0) and strings not in Unicode NFC are refused rather than silently altered.
#[derive(clap::Args)]
pub struct Args {
    /// Plain RFC 8785: accept lossy numbers (1e20 is written 100000000000000000000, as RFC 8785
    /// does) and skip the NFC check.
    #[arg(long)]
    plain: bool,
    #[command(flatten)]
    canon: CanonArgs,
    /// JSON document to canonicalize (default: standard input; `-` also means stdin).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

/// Canonicalization policy switches, the same for `canon`, `sign` and `verify`.
#[derive(clap::Args, Clone, Default)]
pub struct CanonArgs {
    /// Accept numbers whose canonical text differs from the input (1.50 becomes 1.5).
    #[arg(long)]
    pub allow_lossy_numbers: bool,
    /// Normalize keys and strings to Unicode NFC instead of refusing non-NFC text.
    #[arg(long)]
    pub nfc: bool,
    /// Apply a FHIR signature canonicalization variant (the document must be a FHIR resource).
    #[arg(long, value_enum, value_name = "VARIANT")]
    pub fhir: Option<Fhir>,
}

/// FHIR canonicalization variants, as named in the FHIR canonicalization URIs.
#[derive(Clone, Copy, ValueEnum)]
pub enum Fhir {
    /// Drop the narrative (`text`) of every resource (…/json#data).
    Data,
    /// Drop `text` and `meta` of every resource (…/json#static).
    Static,
    /// Drop `id` and `meta` of the root resource (…/json#document).
    Document,
}

impl CanonArgs {
    /// Applies the switches on top of `base`: a switch only ever relaxes or adds, never undoes
    /// what `base` already relaxed.
    pub fn options(&self, base: CanonOptions) -> CanonOptions {
        let mut options = base;
        if self.allow_lossy_numbers {
            options.allow_lossy_numbers = true;
        }
        if self.nfc {
            options.nfc = NfcPolicy::Normalize;
        }
        if let Some(fhir) = self.fhir {
            options.fhir = Some(match fhir {
                Fhir::Data => FhirVariant::Data,
                Fhir::Static => FhirVariant::Static,
                Fhir::Document => FhirVariant::Document,
            });
        }
        options
    }

    /// Whether any switch was given.
    pub fn any(&self) -> bool {
        self.allow_lossy_numbers || self.nfc || self.fhir.is_some()
    }
}

/// Reads a JSON document to be canonicalized, refusing it as the library would once it passes
/// the size limit, without buffering the rest of a hostile stream.
pub fn read_document(path: Option<&Path>, options: &CanonOptions) -> Result<Vec<u8>, Failure> {
    let bytes = io::read_input(path, options.max_bytes as u64 + 1)?;
    if bytes.len() > options.max_bytes {
        return Err(Failure::Medseal(medseal::Error::new(
            ResultCode::MEDSEAL_JSON_TOO_LARGE,
            format!("{} is larger than the limit of {} bytes", io::name(path), options.max_bytes),
        )));
    }
    Ok(bytes)
}

/// Prefixes JSON errors with the file they come from; the library gives line and column.
pub fn in_file(e: medseal::Error, path: Option<&Path>) -> medseal::Error {
    let is_json = (100..200).contains(&(e.code() as i32));
    if is_json && !io::is_stdin(path) {
        medseal::Error::new(e.code(), format!("{}: {}", io::name(path), e.message()))
    } else {
        e
    }
}

pub fn run(args: Args) -> Result<(), Failure> {
    let base = if args.plain { CanonOptions::plain() } else { CanonOptions::default() };
    let options = args.canon.options(base);
    let path = args.file.as_deref();
    let input = read_document(path, &options)?;
    let canonical = medseal::canonicalize(&input, &options).map_err(|e| in_file(e, path))?;
    io::write_stdout(&canonical)
}
