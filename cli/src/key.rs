//! `medseal key`: generate signing and recipient keys, show their public half, describe a key
//! file.

use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use medseal::keys::KeyFormat;
use medseal::{Algorithm, Key, RecipientKey, ResultCode};

use crate::{io, Failure};

/// Key files are small (an RSA-4096 PEM is about 3 KiB); anything far larger is a wrong file.
const KEY_FILE_LIMIT: u64 = 1 << 20;

/// Generate keys and inspect key files.
#[derive(Subcommand)]
pub enum Command {
    Generate(GenerateArgs),
    Public(PublicArgs),
    Info(InfoArgs),
}

/// Generate a private key and write it as PKCS#8 PEM, readable by its owner only (0600).
///
/// The file is written atomically and an existing file is never replaced without --force.
/// The key id (RFC 7638 thumbprint) is printed as `kid: ...`.
#[derive(clap::Args)]
pub struct GenerateArgs {
    /// Key algorithm.
    #[arg(long, value_enum)]
    alg: GenerateAlg,
    /// Where to write the private key.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
}

/// Print the public key (SPKI PEM or JWK) of a private or public key file.
///
/// Works for signing keys (Ed25519, P-256, RSA) and X25519 recipient keys alike.
#[derive(clap::Args)]
pub struct PublicArgs {
    /// Key file: PKCS#8, PKCS#1 or SPKI (PEM or DER), or JWK.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PublicFormat::Pem)]
    format: PublicFormat,
    /// For RSA keys: the algorithm the JWK's "alg" names.
    #[arg(long, value_enum)]
    alg: Option<RsaAlg>,
}

/// Show a key file's algorithm, key id (kid) and whether it holds the private key.
///
/// The algorithm is a JWS name (EdDSA, ES256, RS256, PS256) for signing keys and X25519 for
/// recipient keys (HPKE, sealed envelopes).
#[derive(clap::Args)]
pub struct InfoArgs {
    /// Key file: PKCS#8, PKCS#1 or SPKI (PEM or DER), or JWK.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Print {"algorithm", "kid", "private"} as JSON (docs/CLI_JSON.md).
    #[arg(long)]
    json: bool,
}

/// Algorithms medseal can generate keys for (RSA keys come from CAs and tokens).
#[derive(Clone, Copy, ValueEnum)]
enum GenerateAlg {
    /// Ed25519 (JWS EdDSA).
    Ed25519,
    /// ECDSA P-256 with SHA-256 (JWS ES256).
    Es256,
    /// X25519, a recipient key for sealed envelopes (HPKE); it cannot sign.
    X25519,
}

#[derive(Clone, Copy, ValueEnum)]
enum PublicFormat {
    /// SubjectPublicKeyInfo PEM ("PUBLIC KEY").
    Pem,
    /// JSON Web Key with kid and alg.
    Jwk,
}

/// The two JWS algorithms an RSA key can be bound to.
#[derive(Clone, Copy, ValueEnum)]
pub enum RsaAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (the default for RSA keys).
    Rs256,
    /// RSASSA-PSS with SHA-256.
    Ps256,
}

impl RsaAlg {
    pub fn algorithm(self) -> Algorithm {
        match self {
            RsaAlg::Rs256 => Algorithm::RS256,
            RsaAlg::Ps256 => Algorithm::PS256,
        }
    }
}

fn is_rsa(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::RS256 | Algorithm::PS256)
}

/// Reads a key file, refusing anything far larger than a key.
fn read_key_file(path: &Path) -> Result<Wiped, Failure> {
    let bytes = Wiped(io::read_input(Some(path), KEY_FILE_LIMIT + 1)?);
    if bytes.len() as u64 > KEY_FILE_LIMIT {
        return Err(Failure::Medseal(medseal::Error::new(
            ResultCode::MEDSEAL_KEY_FORMAT,
            format!("{} is larger than 1 MiB; it is not a key file", io::name(Some(path))),
        )));
    }
    Ok(bytes)
}

/// Prefixes a library error with the key file it is about.
fn in_key_file(path: &Path) -> impl Fn(medseal::Error) -> Failure + '_ {
    move |e| Failure::Medseal(medseal::Error::new(e.code(), format!("{}: {}", io::name(Some(path)), e.message())))
}

/// Reads and imports a key file. `rsa_alg` binds RSA keys to RS256 or PS256 and leaves other
/// keys alone, so one `--alg` can accompany several `--key`s of mixed types.
pub fn load(path: &Path, rsa_alg: Option<RsaAlg>) -> Result<Key, Failure> {
    let bytes = read_key_file(path)?;
    import_signing(&bytes, path, rsa_alg)
}

fn import_signing(bytes: &[u8], path: &Path, rsa_alg: Option<RsaAlg>) -> Result<Key, Failure> {
    let key = Key::import(bytes, None).map_err(|e| match RecipientKey::import(bytes) {
        // The library says the algorithm is not one it signs with; say what the key is for.
        Ok(_) if e.code() == ResultCode::MEDSEAL_KEY_UNSUPPORTED => in_key_file(path)(medseal::Error::new(
            e.code(),
            "this is an X25519 recipient key: it seals and opens envelopes (seal --to, open --key) but cannot sign or verify",
        )),
        _ => in_key_file(path)(e),
    })?;
    match rsa_alg {
        Some(alg) if is_rsa(key.algorithm()) && key.algorithm() != alg.algorithm() => {
            Key::import(bytes, Some(alg.algorithm())).map_err(in_key_file(path))
        }
        _ => Ok(key),
    }
}

/// Reads and imports an X25519 recipient key file (private or public).
pub fn load_recipient(path: &Path) -> Result<RecipientKey, Failure> {
    let bytes = read_key_file(path)?;
    RecipientKey::import(&bytes).map_err(in_key_file(path))
}

/// A key file of either kind: `key public` and `key info` take both.
enum AnyKey {
    Signing(Box<Key>),
    Recipient(RecipientKey),
}

/// Imports a signing key, or else an X25519 recipient key. When neither import succeeds, the
/// error is the one that says most: a recipient-key problem (bad X25519 key) if the file is an
/// X25519 key, the signing-key error otherwise, and one message naming both kinds when the
/// file is no key at all.
fn load_any(path: &Path, rsa_alg: Option<RsaAlg>) -> Result<AnyKey, Failure> {
    let bytes = read_key_file(path)?;
    let signing_error = match Key::import(&bytes, None) {
        Ok(_) => return import_signing(&bytes, path, rsa_alg).map(|key| AnyKey::Signing(Box::new(key))),
        Err(e) => e,
    };
    let recipient_error = match RecipientKey::import(&bytes) {
        Ok(key) => return Ok(AnyKey::Recipient(key)),
        Err(e) => e,
    };
    let not_x25519 = matches!(recipient_error.code(), ResultCode::MEDSEAL_KEY_FORMAT | ResultCode::MEDSEAL_KEY_UNSUPPORTED);
    let error = if !not_x25519 {
        recipient_error
    } else if signing_error.code() == ResultCode::MEDSEAL_KEY_FORMAT {
        medseal::Error::new(
            ResultCode::MEDSEAL_KEY_FORMAT,
            "neither a signing key (Ed25519, P-256 or RSA) nor an X25519 recipient key in PKCS#8, PKCS#1 or SPKI \
             (PEM or DER) or JWK",
        )
    } else {
        signing_error
    };
    Err(in_key_file(path)(error))
}

/// Like `load`, but `--alg` on a key that is not RSA is an error rather than ignored: with a
/// single key, the user clearly meant that key.
pub fn load_one(path: &Path, rsa_alg: Option<RsaAlg>) -> Result<Key, Failure> {
    let key = load(path, rsa_alg)?;
    check_rsa_alg(path, rsa_alg, is_rsa(key.algorithm()), key.algorithm())?;
    Ok(key)
}

/// `--alg rs256/ps256` with a single key that is not RSA (`algorithm` names it) is an error.
fn check_rsa_alg(path: &Path, rsa_alg: Option<RsaAlg>, rsa: bool, algorithm: impl std::fmt::Display) -> Result<(), Failure> {
    if rsa_alg.is_some() && !rsa {
        return Err(Failure::Medseal(medseal::Error::new(
            ResultCode::MEDSEAL_KEY_UNSUPPORTED,
            format!("{}: --alg rs256/ps256 applies to RSA keys only; this key is {algorithm}", io::name(Some(path))),
        )));
    }
    Ok(())
}

/// Key file bytes may hold a private key: overwrite them once imported. Volatile writes, so
/// the compiler cannot drop the wipe as a dead store.
struct Wiped(Vec<u8>);

impl std::ops::Deref for Wiped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        for byte in self.0.iter_mut() {
            // SAFETY: `byte` is a valid, exclusive reference into the vector.
            unsafe { std::ptr::write_volatile(byte, 0) };
        }
    }
}

pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Generate(args) => generate(args),
        Command::Public(args) => public(args),
        Command::Info(args) => info(args),
    }
}

fn generate(args: GenerateArgs) -> Result<(), Failure> {
    let (pem, kid) = match args.alg {
        GenerateAlg::Ed25519 | GenerateAlg::Es256 => {
            let alg = if matches!(args.alg, GenerateAlg::Ed25519) { Algorithm::EdDSA } else { Algorithm::ES256 };
            let key = Key::generate(alg)?;
            (key.export(KeyFormat::Pkcs8Pem)?, key.kid().to_owned())
        }
        GenerateAlg::X25519 => {
            let key = RecipientKey::generate()?;
            (key.export(KeyFormat::Pkcs8Pem)?, key.kid().to_owned())
        }
    };
    io::write_private_file(&args.out, &pem, args.force)?;
    io::write_stdout(format!("kid: {kid}\n").as_bytes())
}

fn public(args: PublicArgs) -> Result<(), Failure> {
    let format = match args.format {
        PublicFormat::Pem => KeyFormat::SpkiPem,
        PublicFormat::Jwk => KeyFormat::Jwk,
    };
    let exported = match load_any(&args.file, args.alg)? {
        AnyKey::Signing(key) => {
            check_rsa_alg(&args.file, args.alg, is_rsa(key.algorithm()), key.algorithm())?;
            key.export(format)?
        }
        AnyKey::Recipient(key) => {
            check_rsa_alg(&args.file, args.alg, false, "X25519")?;
            key.export(format)?
        }
    };
    let mut text = exported.to_vec();
    if text.last() != Some(&b'\n') {
        text.push(b'\n');
    }
    io::write_stdout(&text)
}

fn info(args: InfoArgs) -> Result<(), Failure> {
    crate::json::enable(args.json);
    let (algorithm, kid, private) = match load_any(&args.file, None)? {
        AnyKey::Signing(key) => (key.algorithm().to_string(), key.kid().to_owned(), key.has_private()),
        AnyKey::Recipient(key) => ("X25519".to_owned(), key.kid().to_owned(), key.has_private()),
    };
    if args.json {
        return crate::json::print(&serde_json::json!({ "algorithm": algorithm, "kid": kid, "private": private }));
    }
    let kind = if private { "private" } else { "public" };
    io::write_stdout(format!("algorithm: {algorithm}\nkid: {kid}\ntype: {kind}\n").as_bytes())
}
