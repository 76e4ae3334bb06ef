//! `medseal verify`: check a JWS against trusted public keys.

use std::path::PathBuf;
use std::sync::Arc;

use medseal::{CanonOptions, DetachedPayload, Verified, Verifier};

use crate::canon::{self, CanonArgs};
use crate::key::{self, RsaAlg};
use crate::{io, usage_error, Failure};

/// Verify a JWS (JSON flattened or compact) against one or more trusted keys.
///
/// The algorithm is taken from the key, never from the JWS header. On success prints a
/// one-line summary and exits 0; otherwise prints `medseal: invalid: <reason> (<CODE>)` to
/// stderr and exits 1.
#[derive(clap::Args)]
pub struct Args {
    /// Trusted key file (PEM, DER or JWK; a private key is used for its public half). Repeat
    /// for several keys: the kid header picks the candidate to try first.
    #[arg(long = "key", value_name = "KEY_FILE", required = true)]
    keys: Vec<PathBuf>,
    /// For RSA keys: verify as RS256 (default) or PS256. Other keys keep their own algorithm.
    #[arg(long, value_enum)]
    alg: Option<RsaAlg>,
    /// The payload of a detached JWS: FILE's exact bytes are what was signed.
    #[arg(long, value_name = "FILE")]
    payload: Option<PathBuf>,
    /// Treat the --payload file as a JSON document and canonicalize it (strict medseal policy
    /// unless relaxed by the flags below) to get the signed bytes.
    #[arg(long, requires = "payload")]
    payload_document: bool,
    #[command(flatten)]
    canon: CanonArgs,
    /// Write the verified payload to stdout (exact bytes) instead of the summary.
    #[arg(long)]
    print_payload: bool,
    /// The JWS (default: standard input; `-` also means stdin).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    if args.canon.any() && !args.payload_document {
        usage_error("verify", "--allow-lossy-numbers, --nfc and --fhir apply to --payload-document");
    }
    let inputs = args.keys.iter().map(|k| Some(k.as_path()));
    let inputs = inputs.chain([args.file.as_deref()]);
    let inputs = inputs.chain(args.payload.as_deref().map(Some));
    let stdin_uses = inputs.filter(|p| io::is_stdin(*p)).count();
    if stdin_uses > 1 {
        usage_error("verify", "standard input can feed only one of the JWS, the payload and the keys");
    }

    let keys = args.keys.iter().map(|path| key::load(path, args.alg).map(Arc::new)).collect::<Result<Vec<_>, _>>()?;
    let verifier = Verifier::new(keys);
    let jws = io::read_input(args.file.as_deref(), u64::MAX)?;
    let options = args.canon.options(CanonOptions::default());
    let payload_bytes = match &args.payload {
        None => None,
        Some(path) if args.payload_document => Some(canon::read_document(Some(path), &options)?),
        Some(path) => Some(io::read_input(Some(path), u64::MAX)?),
    };
    let detached = match &payload_bytes {
        None => DetachedPayload::None,
        Some(doc) if args.payload_document => DetachedPayload::Document(doc, &options),
        Some(bytes) => DetachedPayload::Bytes(bytes),
    };
    let verified = verifier.verify(&jws, detached).map_err(|e| Failure::Invalid(canon::in_file(e, args.payload.as_deref())))?;
    if args.print_payload {
        io::write_stdout(&verified.payload)
    } else {
        io::write_stdout(summary(&verified).as_bytes())
    }
}

/// `valid: EdDSA signature by kid <kid>, sigT <time>, typ <typ>, <n> payload bytes`. The kid
/// shown is the thumbprint of the key that verified; a different header kid is shown too,
/// since it is only a claim.
pub fn summary(v: &Verified) -> String {
    let header_kid = match &v.header_kid {
        Some(kid) if kid != &v.key_id => format!(" (header kid {})", shown(kid)),
        _ => String::new(),
    };
    format!(
        "valid: {} signature by kid {}{header_kid}, sigT {}, typ {}, {} payload bytes\n",
        v.algorithm,
        v.key_id,
        v.signing_time.as_deref().map_or("none".into(), shown),
        v.typ.as_deref().map_or("none".into(), shown),
        v.payload.len()
    )
}

/// Header values are signed but chosen by the signer: escape control characters (no terminal
/// tricks, one line stays one line) and keep them short.
fn shown(text: &str) -> String {
    const MAX_CHARS: usize = 100;
    let mut out: String =
        text.chars().take(MAX_CHARS).flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}
