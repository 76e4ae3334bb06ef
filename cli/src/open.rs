//! `medseal open`: decrypt a sealed envelope with a recipient's private key, optionally verify
//! the signed record inside, or show its routing metadata.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use medseal::record::{open_verified_steps, OpenStep};
use medseal::seal::MAX_ENVELOPE_BYTES;
use medseal::{Envelope, ResultCode, Verifier};

use crate::{io, key, usage_error, verify, Failure};

/// The JSON mapping base64url-encodes the content, a third larger; the library allows for it.
const MAX_INPUT_BYTES: usize = MAX_ENVELOPE_BYTES * 2;

/// Open a sealed envelope (JSON mapping or protobuf, detected) and write its plaintext to
/// stdout.
///
/// The meta is authenticated while opening: an envelope whose meta, encapsulated key or
/// ciphertext was changed fails with MEDSEAL_SEAL_DECRYPT_FAILED. With --verify-key the signed
/// record inside is verified too (sign-then-seal); the plaintext is written only if it
/// verifies, and the one-line verification summary goes to stderr.
#[derive(clap::Args)]
pub struct Args {
    /// The recipient's private X25519 key (PKCS#8 PEM or DER, or a private JWK).
    #[arg(long, value_name = "FILE", required_unless_present = "meta_only")]
    key: Option<PathBuf>,
    /// Also verify the JWS inside against this trusted signing key (repeatable, as for
    /// `medseal verify --key`).
    #[arg(long = "verify-key", value_name = "PUBLIC_KEY")]
    verify_keys: Vec<PathBuf>,
    /// Print only the routing meta as JSON, without opening (no key needed). It is not
    /// authenticated until the envelope is opened.
    #[arg(long, conflicts_with_all = ["key", "verify_keys"])]
    meta_only: bool,
    /// The envelope (default: standard input; `-` also means stdin).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), Failure> {
    let inputs = args.key.iter().chain(&args.verify_keys).map(|p| Some(p.as_path())).chain([args.file.as_deref()]);
    if inputs.filter(|p| io::is_stdin(*p)).count() > 1 {
        usage_error("open", "standard input can feed only one of the envelope and the keys");
    }
    // Keys first: a wrong key file is reported before the envelope is read.
    let recipient = args.key.as_deref().map(|path| key::load_recipient(path).map(|k| (k, path))).transpose()?;
    let signing_keys = args.verify_keys.iter().map(|path| key::load(path, None).map(Arc::new)).collect::<Result<Vec<_>, _>>()?;

    let path = args.file.as_deref();
    let bytes = io::read_input(path, MAX_INPUT_BYTES as u64 + 1)?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(Failure::Medseal(medseal::Error::new(
            ResultCode::MEDSEAL_SEAL_TOO_LARGE,
            format!("{} is larger than the limit of {MAX_INPUT_BYTES} bytes", io::name(path)),
        )));
    }
    let envelope = Envelope::decode(&bytes).map_err(|e| in_file(e, path))?;

    let Some((recipient, key_path)) = recipient else {
        let mut json = envelope.meta.to_value().to_canonical();
        json.push(b'\n');
        return io::write_stdout(&json);
    };
    let key_error = |e: medseal::Error| match e.code() {
        ResultCode::MEDSEAL_KEY_NOT_PRIVATE => Failure::Medseal(in_file(e, Some(key_path))),
        _ => Failure::Medseal(e),
    };
    if signing_keys.is_empty() {
        let plaintext = envelope.open(&recipient).map_err(key_error)?;
        return io::write_stdout(&plaintext);
    }
    let verifier = Verifier::new(signing_keys);
    // The library's (and the hub's) opening of a signed record, flattened or compact.
    let verified = open_verified_steps(&envelope, &recipient, &verifier).map_err(|(step, e)| match step {
        // A record that does not verify is reported as `invalid`, as `medseal verify` does.
        OpenStep::Verify | OpenStep::NotARecord => Failure::Invalid(e),
        OpenStep::ContentType | OpenStep::Open => key_error(e),
    })?;
    // open_verified_steps returns the verified payload; the plaintext written is the JWS itself, so
    // the envelope is opened once more (cheap next to the signature check).
    let plaintext = envelope.open(&recipient).map_err(key_error)?;
    eprint!("{}", verify::summary(&verified));
    io::write_stdout(&plaintext)
}

/// Prefixes an error with the file it is about (not for standard input).
fn in_file(e: medseal::Error, path: Option<&Path>) -> medseal::Error {
    if io::is_stdin(path) {
        e
    } else {
        medseal::Error::new(e.code(), format!("{}: {}", io::name(path), e.message()))
    }
}
