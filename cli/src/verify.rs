//! `medseal verify`: check a JWS against trusted public keys.

use std::path::PathBuf;
use std::sync::Arc;

use medseal::jws::TrustedBy;
use medseal::trust::TrustList;
use medseal::x509::{Certificate, TrustAnchors};
use medseal::{CanonOptions, DetachedPayload, Verified, Verifier};

use crate::canon::{self, CanonArgs};
use crate::key::{self, RsaAlg};
use crate::{io, usage_error, Failure};

/// Verify a signed record (a JWS, JSON flattened or compact) against trusted keys,
/// certificate trust anchors or a signed trust list.
///
/// The algorithm is taken from the key, never from the JWS header alone. Certificate chains
/// (x5c) and trust-list keys are checked at the signature's sigT. On success prints a
/// one-line summary and exits 0; otherwise prints `medseal: invalid: <reason> (<CODE>)` to
/// stderr and exits 1.
#[derive(clap::Args)]
pub struct Args {
    /// Trusted key file (PEM, DER or JWK; a private key is used for its public half). Repeat
    /// for several keys: the kid header picks the candidate to try first.
    #[arg(long = "key", value_name = "KEY_FILE", required_unless_present_any = ["trust_anchors", "trust_list"])]
    keys: Vec<PathBuf>,
    /// Trusted CA certificates (PEM, one or more per file; repeatable): a JWS carrying x5c
    /// verifies when its chain leads to one of them and was valid at sigT.
    #[arg(long = "trust-anchor", value_name = "CERT_FILE")]
    trust_anchors: Vec<PathBuf>,
    /// A signed trust list (medseal trust sign): its record-signing keys are trusted, each
    /// within its validity window at sigT.
    #[arg(long, value_name = "FILE", requires = "trust_list_key")]
    trust_list: Option<PathBuf>,
    /// The trust-list signing key (public) that the trust list must verify with.
    #[arg(long, value_name = "KEY_FILE", requires = "trust_list")]
    trust_list_key: Option<PathBuf>,
    /// Refuse a trust list whose sequence number is below this (the highest seen so far).
    #[arg(long, value_name = "N", default_value_t = 0, requires = "trust_list")]
    min_sequence: u64,
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
    /// Accept any JWS, not only a medseal record. By default the JWS must be a record:
    /// `typ` medseal+jws, a sigT, and a canonical JSON payload, so that a receipt, a tree head or
    /// a trust list signed by a trusted key is never taken for a record (check those with
    /// `medseal receipt verify` and `medseal trust verify`).
    #[arg(long)]
    any_jws: bool,
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
    let mut verifier = Verifier::new(keys);
    if !args.trust_anchors.is_empty() {
        let mut anchors = Vec::new();
        for path in &args.trust_anchors {
            let bytes = io::read_input(Some(path), 1 << 20)?;
            anchors.extend(Certificate::read_chain(&bytes).map_err(in_file(path))?);
        }
        verifier = verifier.with_trust_anchors(Arc::new(TrustAnchors::new(anchors)?));
    }
    if let (Some(list_path), Some(key_path)) = (&args.trust_list, &args.trust_list_key) {
        let list_key = key::load(key_path, None)?;
        let bytes = io::read_input(Some(list_path), 16 << 20)?;
        let now = medseal::utc::now();
        let list =
            TrustList::verify(&bytes, &Verifier::new(vec![Arc::new(list_key)]), now, args.min_sequence).map_err(in_file(list_path))?;
        verifier = verifier.with_trust_list(Arc::new(list));
    }
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
    let verified = verifier
        .verify(&jws, detached)
        .and_then(|v| if args.any_jws { Ok(v) } else { medseal::record::check_verified(&v).map(|()| v) })
        .map_err(|e| Failure::Invalid(canon::in_file(e, args.payload.as_deref())))?;
    if args.print_payload {
        io::write_stdout(&verified.payload)
    } else {
        io::write_stdout(summary(&verified).as_bytes())
    }
}

/// Prefixes a library error with the file it is about.
fn in_file(path: &std::path::Path) -> impl Fn(medseal::Error) -> medseal::Error + '_ {
    move |e| medseal::Error::new(e.code(), format!("{}: {}", io::name(Some(path)), e.message()))
}

/// `valid: EdDSA signature by kid <kid>, sigT <time>, typ <typ>, <n> payload bytes`, then who
/// the signer is when a certificate or trust list vouched for it. The kid shown is the
/// thumbprint of the key that verified; a different header kid is shown too, since it is only
/// a claim.
pub fn summary(v: &Verified) -> String {
    // A certificate signer's kid is its x5t#S256, not the key's thumbprint: no mismatch.
    let certificate = match &v.trusted_by {
        TrustedBy::Certificate { thumbprint, .. } => Some(thumbprint),
        _ => None,
    };
    let header_kid = match &v.header_kid {
        Some(kid) if kid != &v.key_id && Some(kid) != certificate => format!(" (header kid {})", shown(kid)),
        _ => String::new(),
    };
    let trusted = match &v.trusted_by {
        TrustedBy::Key => String::new(),
        TrustedBy::Certificate { thumbprint, subject, anchor } => {
            format!(", certificate \"{}\" (x5t#S256 {thumbprint}) under \"{}\"", shown(subject), shown(anchor))
        }
        TrustedBy::TrustList { facility } => format!(", trust-list facility {}", shown(facility)),
    };
    format!(
        "valid: {} signature by kid {}{header_kid}, sigT {}, typ {}, {} payload bytes{trusted}\n",
        v.algorithm,
        v.key_id,
        v.signing_time.as_deref().map_or("none".into(), shown),
        v.typ.as_deref().map_or("none".into(), shown),
        v.payload.len()
    )
}

/// Header values are signed but chosen by the signer: made safe for the terminal (one line
/// stays one line) and kept short.
fn shown(text: &str) -> String {
    medseal::untrusted::shown_max(text, 100)
}
