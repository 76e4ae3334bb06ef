//! `medseal facility init`: what a hospital runs before it enrols, so that its private keys
//! are made where they stay. The hub gets only the public parts (`medseal hub enroll`).

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use medseal::signers::{NewKeyKind, Pkcs11Config};
use medseal::Algorithm;
use medseal_hub::{FacilityInitOptions, TlsTokenKey};

use crate::Failure;

/// A hospital's own keys.
#[derive(Subcommand)]
pub enum Command {
    Init(InitArgs),
}

/// Make the facility's keys: a record-signing key and a TLS client key with its certificate
/// request.
///
/// Writes into DIR: signing.key (owner-only) and signing.pub, client.key (P-256, owner-only)
/// and client.csr (PKCS#10, CN = the facility id). Send signing.pub and client.csr to the hub's
/// operator (`medseal hub enroll --signing-key signing.pub --csr client.csr`); the private keys
/// never leave DIR. openssl or a PKCS#11 token can make the same parts instead: the hub needs
/// only a public key and a request.
///
/// With --tls-pkcs11-module, --tls-pkcs11-token and --tls-key-label the TLS client key is on a
/// PKCS#11 token instead: generated there (--tls-key-type) unless the token already holds a
/// private key of that label, and client.csr is signed by the token; no client.key is written.
/// The PIN comes from MEDSEAL_PKCS11_PIN or is asked for on the terminal. Give
/// `medseal outbox deliver` the same three options.
#[derive(clap::Args)]
pub struct InitArgs {
    /// The facility id (the request's CN and every record's source).
    #[arg(long, value_name = "ID")]
    facility: String,
    /// Where the keys go.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// The record-signing key's algorithm.
    #[arg(long, value_enum, default_value = "ed25519")]
    alg: SigningAlg,
    /// Replace keys already in DIR.
    #[arg(long)]
    force: bool,
    /// Print the files written as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    tls_token: TlsTokenArgs,
    /// The key pair made on the token when it holds no key labelled --tls-key-label.
    #[arg(long, value_enum, default_value = "p256", requires = "tls_pkcs11_module")]
    tls_key_type: TlsKeyType,
}

/// Where the facility's TLS client key is when it is on a PKCS#11 token (`facility init`,
/// `outbox deliver`).
#[derive(clap::Args)]
pub struct TlsTokenArgs {
    /// PKCS#11 module holding the TLS client key (e.g. /usr/lib/softhsm/libsofthsm2.so or the
    /// token vendor's library): the key stays on the token, and there is no client.key.
    #[arg(long, value_name = "PATH", requires_all = ["tls_pkcs11_token", "tls_key_label"])]
    tls_pkcs11_module: Option<PathBuf>,
    /// Label of the token holding the TLS client key.
    #[arg(long, value_name = "LABEL", requires = "tls_pkcs11_module")]
    tls_pkcs11_token: Option<String>,
    /// Label of the TLS client key on the token.
    #[arg(long, value_name = "LABEL", requires = "tls_pkcs11_module")]
    tls_key_label: Option<String>,
}

impl TlsTokenArgs {
    /// The token key's configuration, the PIN read (MEDSEAL_PKCS11_PIN or the terminal); `None`
    /// when no module was given.
    pub fn config(&self) -> Result<Option<Pkcs11Config>, Failure> {
        let Some(module) = &self.tls_pkcs11_module else { return Ok(None) };
        Ok(Some(Pkcs11Config {
            module: module.clone(),
            token_label: self.tls_pkcs11_token.clone().unwrap_or_default(),
            key_label: self.tls_key_label.clone().unwrap_or_default(),
            pin: crate::sign::pin()?,
            alg: None,
        }))
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TlsKeyType {
    /// ECDSA P-256.
    P256,
    /// RSA, 2048 bits.
    Rsa2048,
    /// RSA, 3072 bits.
    Rsa3072,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SigningAlg {
    /// Ed25519 (JWS EdDSA).
    Ed25519,
    /// ECDSA P-256 with SHA-256 (JWS ES256).
    Es256,
}

pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Init(args) => init(args),
    }
}

fn init(args: InitArgs) -> Result<(), Failure> {
    crate::json::enable(args.json);
    let options = FacilityInitOptions {
        facility: args.facility,
        dir: args.dir,
        signing_algorithm: match args.alg {
            SigningAlg::Ed25519 => Algorithm::EdDSA,
            SigningAlg::Es256 => Algorithm::ES256,
        },
        force: args.force,
        tls_token: args.tls_token.config()?.map(|pkcs11| TlsTokenKey {
            pkcs11,
            new_key: match args.tls_key_type {
                TlsKeyType::P256 => NewKeyKind::P256,
                TlsKeyType::Rsa2048 => NewKeyKind::Rsa(2048),
                TlsKeyType::Rsa3072 => NewKeyKind::Rsa(3072),
            },
        }),
    };
    let files = medseal_hub::facility_init(&options).map_err(|e| Failure::Other(e.to_string()))?;
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    if args.json {
        let mut json = serde_json::json!({ "facility": options.facility, "files": names });
        if let Some(token) = &options.tls_token {
            json["tls_token"] = serde_json::json!({ "token": token.pkcs11.token_label, "key": token.pkcs11.key_label });
        }
        return crate::json::print(&json);
    }
    let mut text = String::new();
    for name in &names {
        text.push_str(&format!("wrote {name}\n"));
    }
    if let Some(token) = &options.tls_token {
        text.push_str(&format!(
            "the TLS client key is key '{}' on token '{}' (give `medseal outbox deliver` the same --tls-* options)\n",
            token.pkcs11.key_label, token.pkcs11.token_label
        ));
    }
    text.push_str("next: send signing.pub and client.csr to the hub operator (medseal hub enroll)\n");
    crate::io::write_stdout(text.as_bytes())
}
