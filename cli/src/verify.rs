//! `medseal verify`: check a JWS against trusted public keys.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use medseal::jws::TrustedBy;
use medseal::trust::TrustList;
use medseal::x509::{Certificate, TrustAnchors};
use medseal::{CanonOptions, DetachedPayload, ResultCode, Verified, Verifier};

use crate::canon::{self, CanonArgs};
use crate::key::{self, RsaAlg};
use crate::{io, usage_error, Failure};

/// Verify signed records (JWS, JSON flattened or compact) against trusted keys, certificate
/// trust anchors or a signed trust list.
///
/// The algorithm is taken from the key, never from the JWS header alone. Certificate chains
/// (x5c) and trust-list keys are checked at the signature's sigT. Prints one line per file
/// (prefixed with the file's name when there are several): a summary on stdout when it
/// verifies, `medseal: invalid: <reason> (<CODE>)` on stderr when not. Exits 0 when every file
/// verified, 1 when any did not, 2 on usage errors. --json: one JSON object per file on stdout
/// (docs/CLI_JSON.md).
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
    /// Write the verified payload to stdout (exact bytes) instead of the summary (one file only).
    #[arg(long, conflicts_with = "json")]
    print_payload: bool,
    /// Judge the trust list's freshness at TIME (RFC 3339 UTC, e.g. 2036-01-01T00:00:00Z)
    /// instead of now, to show what verification said (or will say) on that day. Signatures,
    /// certificate chains and trust-list key windows are judged at each signature's sigT
    /// whatever the time.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Print one JSON object per file instead of text (docs/CLI_JSON.md).
    #[arg(long)]
    json: bool,
    /// The JWS files (default: standard input; `-` also means stdin). Each is verified on its
    /// own with the same keys.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    crate::json::enable(args.json);
    if args.canon.any() && !args.payload_document {
        usage_error("verify", "--allow-lossy-numbers, --nfc and --fhir apply to --payload-document");
    }
    if args.print_payload && args.files.len() > 1 {
        usage_error("verify", "--print-payload takes one file");
    }
    let now = match &args.at {
        None => medseal::utc::now(),
        Some(text) => medseal::utc::parse(text)
            .unwrap_or_else(|| usage_error("verify", &format!("--at {text:?} is not an RFC 3339 UTC time (e.g. 2036-01-01T00:00:00Z)"))),
    };
    let files: Vec<Option<&Path>> = if args.files.is_empty() { vec![None] } else { args.files.iter().map(|f| Some(f.as_path())).collect() };
    let inputs = args.keys.iter().map(|k| Some(k.as_path()));
    let inputs = inputs.chain(files.iter().copied());
    let inputs = inputs.chain(args.payload.as_deref().map(Some));
    let stdin_uses = inputs.filter(|p| io::is_stdin(*p)).count();
    if stdin_uses > 1 {
        usage_error("verify", "standard input can feed only one of the JWS files, the payload and the keys");
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
        let list =
            TrustList::verify(&bytes, &Verifier::new(vec![Arc::new(list_key)]), now, args.min_sequence).map_err(in_file(list_path))?;
        verifier = verifier.with_trust_list(Arc::new(list));
    }
    let options = args.canon.options(CanonOptions::default());
    let payload_bytes = match &args.payload {
        None => None,
        Some(path) if args.payload_document => Some(canon::read_document(Some(path), &options)?),
        Some(path) => Some(io::read_input(Some(path), u64::MAX)?),
    };
    let detached = || match &payload_bytes {
        None => DetachedPayload::None,
        Some(doc) if args.payload_document => DetachedPayload::Document(doc, &options),
        Some(bytes) => DetachedPayload::Bytes(bytes),
    };
    let several = files.len() > 1;
    let mut failed = 0usize;
    for file in files {
        // A file that cannot be read is that file's failure, not the end of the run.
        let verified = match io::read_input(file, u64::MAX) {
            Ok(jws) => verifier
                .verify(&jws, detached())
                .and_then(|v| if args.any_jws { Ok(v) } else { medseal::record::check_verified(&v).map(|()| v) })
                .map_err(|e| canon::in_file(e, args.payload.as_deref())),
            Err(Failure::Other(message)) if several || args.json => Err(medseal::Error::new(ResultCode::MEDSEAL_SYSTEM_ERROR, message)),
            Err(other) => return Err(other),
        };
        let name = io::name(file);
        match verified {
            Ok(v) if args.print_payload => io::write_stdout(&v.payload)?,
            Ok(v) if args.json => crate::json::print(&result_json(&name, Ok(&v)))?,
            Ok(v) if several => io::write_stdout(format!("{name}: {}", summary(&v)).as_bytes())?,
            Ok(v) => io::write_stdout(summary(&v).as_bytes())?,
            Err(e) if !several && !args.json => return Err(Failure::Invalid(e)),
            Err(e) => {
                failed += 1;
                if args.json {
                    crate::json::print(&result_json(&name, Err(&e)))?;
                } else {
                    eprintln!("medseal: invalid: {name}: {e}");
                }
            }
        }
    }
    if failed > 0 {
        return Err(Failure::Reported);
    }
    Ok(())
}

/// One file's result as JSON: `{"file", "valid": true, "algorithm", "kid", "signed_at", "typ",
/// "payload_bytes", "trusted_by", …}` or `{"file", "valid": false, "code", "message"}`.
fn result_json(file: &str, result: Result<&Verified, &medseal::Error>) -> serde_json::Value {
    use serde_json::{json, Value};
    let v = match result {
        Err(e) => {
            let mut members = crate::json::error_members(e);
            members.insert("file".into(), Value::from(file));
            members.insert("valid".into(), Value::Bool(false));
            return Value::Object(members);
        }
        Ok(v) => v,
    };
    let trusted_by = match &v.trusted_by {
        TrustedBy::Key => json!({ "kind": "key" }),
        TrustedBy::Certificate { thumbprint, subject, anchor } => {
            json!({ "kind": "certificate", "thumbprint": thumbprint, "subject": subject, "anchor": anchor })
        }
        TrustedBy::TrustList { facility } => json!({ "kind": "trust_list", "facility": facility }),
    };
    let signed_at = v.signing_time.as_deref().map_or(Value::Null, |t| match medseal::utc::parse(t) {
        Some(seconds) => crate::json::time(seconds),
        None => Value::from(t),
    });
    json!({
        "file": file,
        "valid": true,
        "algorithm": v.algorithm.to_string(),
        "kid": v.key_id,
        "header_kid": v.header_kid,
        "signed_at": signed_at,
        "typ": v.typ,
        "payload_bytes": v.payload.len(),
        "trusted_by": trusted_by,
    })
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
