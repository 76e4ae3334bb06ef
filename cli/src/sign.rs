//! `medseal sign`: canonicalize a record and sign it with a JAdES-B-B protected header.

use std::path::PathBuf;
use std::sync::Arc;

use medseal::{CanonOptions, ResultCode, Serialization, SignOptions, Signer};

use crate::canon::{self, CanonArgs};
use crate::key::{self, RsaAlg};
use crate::{io, usage_error, Failure};

/// Canonicalize a JSON record (RFC 8785, strict by default) and sign it as a JWS.
///
/// Prints a JSON-flattened JWS by default, followed by a newline. The protected header carries
/// alg, kid, sigT (signing time), typ "medseal+jws" and, with --commitment, JAdES srCms.
#[derive(clap::Args)]
pub struct Args {
    /// Private key file: PKCS#8 or PKCS#1 (PEM or DER), or a private JWK.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The kid header (default: the key's RFC 7638 thumbprint).
    #[arg(long, value_name = "KID")]
    kid: Option<String>,
    /// Write compact serialization (header.payload.signature).
    #[arg(long, conflicts_with = "detached")]
    compact: bool,
    /// Write a detached compact JWS (header..signature), as FHIR Signature.data carries; the
    /// verifier needs the payload separately.
    #[arg(long)]
    detached: bool,
    /// For RSA keys: sign with RS256 (default) or PS256.
    #[arg(long, value_enum)]
    alg: Option<RsaAlg>,
    /// JAdES commitment type (srCms) as a dotted OID, e.g. 1.2.840.10065.1.12.1.1 (author).
    #[arg(long, value_name = "OID")]
    commitment: Option<String>,
    /// Fixed signing time in Unix seconds, for reproducible output (default: now).
    #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
    signing_time: Option<i64>,
    #[command(flatten)]
    canon: CanonArgs,
    /// JSON record to sign (default: standard input; `-` also means stdin).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    if io::is_stdin(Some(&args.key)) && io::is_stdin(args.file.as_deref()) {
        usage_error("sign", "standard input can feed the key or the record, not both");
    }
    let key = key::load_one(&args.key, args.alg)?;
    let options = SignOptions {
        kid: args.kid,
        commitment: args.commitment,
        signing_time: args.signing_time,
        canon: args.canon.options(CanonOptions::default()),
        ..SignOptions::default()
    };
    // Option errors name the option; key errors (a public key given) name the key file.
    let signer = Signer::new(Arc::new(key), options).map_err(|e| match e.code() {
        ResultCode::MEDSEAL_KEY_NOT_PRIVATE => medseal::Error::new(e.code(), format!("{}: {}", io::name(Some(&args.key)), e.message())),
        _ => e,
    })?;
    let serialization = if args.detached {
        Serialization::DetachedCompact
    } else if args.compact {
        Serialization::Compact
    } else {
        Serialization::Flattened
    };
    let path = args.file.as_deref();
    let document = canon::read_document(path, &signer.options().canon)?;
    let jws = signer.sign(&document, serialization).map_err(|e| canon::in_file(e, path))?;
    io::write_stdout(format!("{jws}\n").as_bytes())
}
