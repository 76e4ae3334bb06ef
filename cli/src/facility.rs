//! `medseal facility init`: what a hospital runs before it enrols, so that its private keys
//! are made where they stay. The hub gets only the public parts (`medseal hub enroll`).

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use medseal::Algorithm;
use medseal_hub::FacilityInitOptions;

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
    };
    let files = medseal_hub::facility_init(&options).map_err(|e| Failure::Other(e.to_string()))?;
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    if args.json {
        let json = serde_json::json!({ "facility": options.facility, "files": names });
        return crate::json::print(&json);
    }
    let mut text = String::new();
    for name in &names {
        text.push_str(&format!("wrote {name}\n"));
    }
    text.push_str("next: send signing.pub and client.csr to the hub operator (medseal hub enroll)\n");
    crate::io::write_stdout(text.as_bytes())
}
