//! `medseal key`: generate signing keys, show their public half, describe a key file.

use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use medseal::keys::KeyFormat;
use medseal::{Algorithm, Key, ResultCode};

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
#[derive(clap::Args)]
pub struct InfoArgs {
    /// Key file: PKCS#8, PKCS#1 or SPKI (PEM or DER), or JWK.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

/// Algorithms medseal can generate keys for (RSA keys come from CAs and tokens).
#[derive(Clone, Copy, ValueEnum)]
enum GenerateAlg {
    /// Ed25519 (JWS EdDSA).
    Ed25519,
    /// ECDSA P-256 with SHA-256 (JWS ES256).
    Es256,
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
    fn algorithm(self) -> Algorithm {
        match self {
            RsaAlg::Rs256 => Algorithm::RS256,
            RsaAlg::Ps256 => Algorithm::PS256,
        }
    }
}

fn is_rsa(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::RS256 | Algorithm::PS256)
}

/// Reads and imports a key file. `rsa_alg` binds RSA keys to RS256 or PS256 and leaves other
/// keys alone, so one `--alg` can accompany several `--key`s of mixed types.
pub fn load(path: &Path, rsa_alg: Option<RsaAlg>) -> Result<Key, Failure> {
    let bytes = Wiped(io::read_input(Some(path), KEY_FILE_LIMIT + 1)?);
    let shown = io::name(Some(path));
    if bytes.len() as u64 > KEY_FILE_LIMIT {
        return Err(Failure::Medseal(medseal::Error::new(
            ResultCode::MEDSEAL_KEY_FORMAT,
            format!("{shown} is larger than 1 MiB; it is not a key file"),
        )));
    }
    let in_file = |e: medseal::Error| Failure::Medseal(medseal::Error::new(e.code(), format!("{shown}: {}", e.message())));
    let key = Key::import(&bytes, None).map_err(in_file)?;
    match rsa_alg {
        Some(alg) if is_rsa(key.algorithm()) && key.algorithm() != alg.algorithm() => {
            Key::import(&bytes, Some(alg.algorithm())).map_err(in_file)
        }
        _ => Ok(key),
    }
}

/// Like `load`, but `--alg` on a key that is not RSA is an error rather than ignored: with a
/// single key, the user clearly meant that key.
pub fn load_one(path: &Path, rsa_alg: Option<RsaAlg>) -> Result<Key, Failure> {
    let key = load(path, rsa_alg)?;
    if rsa_alg.is_some() && !is_rsa(key.algorithm()) {
        return Err(Failure::Medseal(medseal::Error::new(
            ResultCode::MEDSEAL_KEY_UNSUPPORTED,
            format!("{}: --alg rs256/ps256 applies to RSA keys only; this key is {}", io::name(Some(path)), key.algorithm()),
        )));
    }
    Ok(key)
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
    let alg = match args.alg {
        GenerateAlg::Ed25519 => Algorithm::EdDSA,
        GenerateAlg::Es256 => Algorithm::ES256,
    };
    let key = Key::generate(alg)?;
    let pem = key.export(KeyFormat::Pkcs8Pem)?;
    io::write_private_file(&args.out, &pem, args.force)?;
    io::write_stdout(format!("kid: {}\n", key.kid()).as_bytes())
}

fn public(args: PublicArgs) -> Result<(), Failure> {
    let key = load_one(&args.file, args.alg)?;
    let format = match args.format {
        PublicFormat::Pem => KeyFormat::SpkiPem,
        PublicFormat::Jwk => KeyFormat::Jwk,
    };
    let mut text = key.export(format)?.to_vec();
    if text.last() != Some(&b'\n') {
        text.push(b'\n');
    }
    io::write_stdout(&text)
}

fn info(args: InfoArgs) -> Result<(), Failure> {
    let key = load(&args.file, None)?;
    let kind = if key.has_private() { "private" } else { "public" };
    let text = format!("algorithm: {}\nkid: {}\ntype: {kind}\n", key.algorithm(), key.kid());
    io::write_stdout(text.as_bytes())
}
