//! `medseal sign`: canonicalize a record and sign it with a JAdES-B-B protected header.

use std::path::PathBuf;
use std::sync::Arc;

use medseal::signers::{Pkcs11Config, Pkcs11Key, SigningBackend};
use medseal::x509::Certificate;
use medseal::{CanonOptions, ResultCode, Serialization, SignOptions, Signer};
use zeroize::Zeroizing;

use crate::canon::{self, CanonArgs};
use crate::key::{self, RsaAlg};
use crate::{io, usage_error, Failure};

/// The environment variable the PKCS#11 PIN is read from (else it is asked for on the terminal).
pub const PIN_VARIABLE: &str = "MEDSEAL_PKCS11_PIN";

/// Canonicalize a JSON record (RFC 8785, strict by default) and sign it as a JWS.
///
/// Prints a JSON-flattened JWS by default, followed by a newline. The protected header carries
/// alg, kid, sigT (signing time), typ "medseal+jws", with --cert-chain x5c and x5t#S256, and
/// with --commitment JAdES srCms. The key is a file (--key) or on a PKCS#11 token
/// (--pkcs11-module, --pkcs11-token, --pkcs11-key; the PIN comes from MEDSEAL_PKCS11_PIN or is
/// asked for on the terminal).
#[derive(clap::Args)]
pub struct Args {
    /// Private key file: PKCS#8 or PKCS#1 (PEM or DER), or a private JWK.
    #[arg(long, value_name = "FILE", required_unless_present = "pkcs11_module", conflicts_with = "pkcs11_module")]
    key: Option<PathBuf>,
    /// PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so or the token vendor's library).
    #[arg(long, value_name = "PATH", requires_all = ["pkcs11_token", "pkcs11_key"])]
    pkcs11_module: Option<PathBuf>,
    /// Label of the token holding the key.
    #[arg(long, value_name = "LABEL", requires = "pkcs11_module")]
    pkcs11_token: Option<String>,
    /// Label of the private key on the token.
    #[arg(long, value_name = "LABEL", requires = "pkcs11_module")]
    pkcs11_key: Option<String>,
    /// The signer's certificate chain (PEM, signer first, then intermediates), written into
    /// the JWS as x5c; the kid becomes the certificate's x5t#S256.
    #[arg(long, value_name = "FILE")]
    cert_chain: Option<PathBuf>,
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
    /// Clock guard: refuse a --signing-time further than this many seconds from the clock.
    #[arg(long, value_name = "SECONDS")]
    max_clock_skew: Option<u32>,
    #[command(flatten)]
    canon: CanonArgs,
    /// JSON record to sign (default: standard input; `-` also means stdin).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    // An absent record is stdin; an absent key or chain is not.
    let inputs = [args.key.as_deref(), args.cert_chain.as_deref()].into_iter().flatten().map(Some);
    let stdin_uses = inputs.chain([args.file.as_deref()]).filter(|p| io::is_stdin(*p)).count();
    if stdin_uses > 1 {
        usage_error("sign", "standard input can feed only one of the key, the certificate chain and the record");
    }
    let options = SignOptions {
        kid: args.kid,
        commitment: args.commitment,
        signing_time: args.signing_time,
        max_clock_skew: args.max_clock_skew,
        canon: args.canon.options(CanonOptions::default()),
        ..SignOptions::default()
    };
    let mut signer = match (&args.key, &args.pkcs11_module) {
        (Some(path), _) => {
            let key = key::load_one(path, args.alg)?;
            // Option errors name the option; key errors (a public key given) name the key file.
            Signer::new(Arc::new(key), options).map_err(|e| match e.code() {
                ResultCode::MEDSEAL_KEY_NOT_PRIVATE => medseal::Error::new(e.code(), format!("{}: {}", io::name(Some(path)), e.message())),
                _ => e,
            })?
        }
        (None, Some(module)) => {
            let config = Pkcs11Config {
                module: module.clone(),
                token_label: args.pkcs11_token.clone().unwrap_or_default(),
                key_label: args.pkcs11_key.clone().unwrap_or_default(),
                pin: pin()?,
                alg: args.alg.map(|a| a.algorithm()),
            };
            let backend: Arc<dyn SigningBackend> = Arc::new(Pkcs11Key::open(&config)?);
            Signer::with_backend(backend, options)?
        }
        (None, None) => usage_error("sign", "give --key FILE or --pkcs11-module PATH with --pkcs11-token and --pkcs11-key"),
    };
    if let Some(path) = &args.cert_chain {
        let bytes = io::read_input(Some(path), 1 << 20)?;
        let in_chain_file = |e: medseal::Error| medseal::Error::new(e.code(), format!("{}: {}", io::name(Some(path)), e.message()));
        let chain = Certificate::read_chain(&bytes).map_err(in_chain_file)?;
        signer = signer.with_certificate_chain(chain).map_err(in_chain_file)?;
    }
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

/// The token PIN: from MEDSEAL_PKCS11_PIN, else asked for on the terminal without echo.
pub fn pin() -> Result<Zeroizing<String>, Failure> {
    if let Some(value) = std::env::var_os(PIN_VARIABLE) {
        return value.into_string().map(Zeroizing::new).map_err(|_| Failure::Other(format!("{PIN_VARIABLE} is not valid UTF-8")));
    }
    rpassword::prompt_password("PKCS#11 user PIN: ")
        .map(Zeroizing::new)
        .map_err(|e| Failure::Other(format!("cannot read the PIN from the terminal ({}); set {PIN_VARIABLE}", io::reason(&e))))
}
