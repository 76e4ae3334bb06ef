//! `medseal hub`: set up and run the reference hub of a pilot (docs/SUBMISSION.md). `init`
//! makes the hub (CA, server certificate, receipt, tree-head and recipient keys, database),
//! `enroll` issues a facility its client certificate and signing key, `serve` runs the hub.
//! Everything is the `medseal-hub` crate's; this is the shell around it.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use medseal::{Algorithm, ResultCode};
use medseal_hub::{EnrollOptions, HubConfig, InitOptions};

use crate::Failure;

/// Set up and run the reference hub: mutual TLS, receipts, a signed ledger.
#[derive(Subcommand)]
pub enum Command {
    Init(InitArgs),
    Enroll(EnrollArgs),
    Serve(ServeArgs),
    Audit(AuditArgs),
}

/// Create a hub: CA, server certificate, receipt, tree-head and recipient keys, database.
///
/// The CA is P-256 for 10 years; the server certificate names the host name and 127.0.0.1 for
/// 2 years; the receipt and tree-head keys are two different keys; the recipient key is X25519.
/// The configuration is hub.json.
///
/// Private keys are written owner-only (0600). A directory that holds files is refused unless
/// --force, which replaces that hub, ledger included.
#[derive(clap::Args)]
pub struct InitArgs {
    /// The hub directory.
    #[arg(long, value_name = "HUB_DIR")]
    dir: PathBuf,
    /// The host name facilities connect to (in the server certificate, with 127.0.0.1).
    #[arg(long, value_name = "NAME", default_value = "localhost")]
    hostname: String,
    /// Where `serve` listens (loopback unless you choose otherwise).
    #[arg(long, value_name = "ADDR", default_value = medseal_hub::config::DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// The algorithm of the receipt and tree-head keys.
    #[arg(long, value_enum, default_value_t = KeyAlg::Ed25519)]
    key_alg: KeyAlg,
    /// Replace an existing hub in HUB_DIR (its keys and ledger are lost).
    #[arg(long)]
    force: bool,
}

/// Receipt and tree-head key algorithms.
#[derive(Clone, Copy, ValueEnum)]
enum KeyAlg {
    /// Ed25519 (JWS EdDSA).
    Ed25519,
    /// ECDSA P-256 with SHA-256 (JWS ES256).
    Es256,
}

/// Enrol a facility: its client certificate and signing key, and the hub's public keys.
///
/// Issues the client certificate (CN = facility id, clientAuth, 2 years) and a record-signing
/// key (Ed25519), registers the key with the hub, and writes into FACILITY_DIR what the
/// facility needs.
///
/// Files: client.pem, client.key, signing.key, signing.pub, hub-ca.pem (the CA to pin),
/// hub-recipient.pub (seal to it), receipt.pub, tree-head.pub (check receipts with them) and
/// facility.json ({facility, hub_url}). Keys are written owner-only (0600). A running hub picks
/// the new facility up at its next batch.
#[derive(clap::Args)]
pub struct EnrollArgs {
    /// The hub directory.
    #[arg(long, value_name = "HUB_DIR")]
    dir: PathBuf,
    /// The facility id: the certificate's CN and every record's source.
    #[arg(long, value_name = "ID")]
    facility: String,
    /// Where to write the facility's files.
    #[arg(long, value_name = "FACILITY_DIR")]
    out: PathBuf,
    /// Write into a directory that holds files, and enrol an enrolled facility again (a new
    /// certificate and one more signing key; its earlier keys stay valid).
    #[arg(long)]
    force: bool,
}

/// Run the hub until SIGTERM or ctrl-c.
///
/// Prints `listening on https://ADDR` on standard output once it accepts connections, then one
/// line per batch on standard error (facility and counts, never record contents).
#[derive(clap::Args)]
pub struct ServeArgs {
    /// The hub directory.
    #[arg(long, value_name = "HUB_DIR")]
    dir: PathBuf,
    /// Listen here instead of hub.json's address (port 0: any free port).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
}

/// Audit the hub's ledger offline: rebuild the RFC 9162 tree from every entry, check it against
/// the latest tree head (signed by the hub's tree-head key), and refuse any record id or
/// facility sequence number found twice. Prints a line per facility reporting gaps (numbers not
/// received) and records received out of order; with --entries also every entry (canonical
/// JSON lines). Exit status 1 only when the ledger itself is wrong.
#[derive(clap::Args)]
pub struct AuditArgs {
    /// The hub directory.
    #[arg(long, value_name = "HUB_DIR")]
    dir: PathBuf,
    /// Also print every ledger entry.
    #[arg(long)]
    entries: bool,
}

fn audit(args: AuditArgs) -> Result<(), Failure> {
    let audit = medseal_hub::audit(&args.dir)
        .map_err(|e| Failure::Invalid(medseal::Error::new(ResultCode::MEDSEAL_LEDGER_PROOF_INVALID, e.message().to_owned())))?;
    let mut text = String::new();
    if args.entries {
        for entry in &audit.entries {
            text.push_str(&String::from_utf8_lossy(&entry.to_json()));
            text.push('\n');
        }
    }
    match &audit.tree_head {
        Some(head) => text.push_str(&format!(
            "valid: ledger of {} entries, root {} signed {}\n",
            head.tree_size,
            medseal::ledger::encode_hash(&head.root_hash),
            medseal::utc::show(head.timestamp)
        )),
        None => text.push_str("valid: the ledger is empty\n"),
    }
    for (source, summary) in &audit.sources {
        let gaps = match summary.gaps.len() {
            0 => "no gaps".to_owned(),
            _ => format!("MISSING {:?} (not received yet, or lost before the hub)", summary.gaps),
        };
        let order = match summary.out_of_order {
            0 => "in order".to_owned(),
            n => format!("{n} received out of order"),
        };
        text.push_str(&format!(
            "  {source}: {} records, sequence up to {}, {gaps}, {order}, no repeats\n",
            summary.records, summary.highest
        ));
    }
    crate::io::write_stdout(text.as_bytes())
}

pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Init(args) => init(args),
        Command::Enroll(args) => enroll(args),
        Command::Serve(args) => serve(args),
        Command::Audit(args) => audit(args),
    }
}

fn failure(e: medseal_hub::Error) -> Failure {
    Failure::Other(e.to_string())
}

fn init(args: InitArgs) -> Result<(), Failure> {
    let options = InitOptions {
        dir: args.dir,
        hostname: args.hostname,
        listen: args.listen,
        key_algorithm: match args.key_alg {
            KeyAlg::Ed25519 => Algorithm::EdDSA,
            KeyAlg::Es256 => Algorithm::ES256,
        },
        force: args.force,
    };
    let config = medseal_hub::init(&options).map_err(failure)?;
    let dir = options.dir.display();
    crate::io::write_stdout(
        format!(
            "hub created in {dir}\nurl: {}\nlisten: {}\nnext: medseal hub enroll --dir {dir} --facility ID --out DIR\n",
            config.hub_url, config.listen
        )
        .as_bytes(),
    )
}

fn enroll(args: EnrollArgs) -> Result<(), Failure> {
    let options = EnrollOptions { hub_dir: args.dir, facility: args.facility, out: args.out, force: args.force };
    let enrolled = medseal_hub::enroll(&options).map_err(failure)?;
    let mut text = format!("enrolled {} (signing kid {})\nhub: {}\n", enrolled.facility, enrolled.signing_kid, enrolled.hub_url);
    for file in &enrolled.files {
        text.push_str(&format!("wrote {}\n", file.display()));
    }
    crate::io::write_stdout(text.as_bytes())
}

fn serve(args: ServeArgs) -> Result<(), Failure> {
    let listen = match args.listen {
        Some(listen) => listen,
        None => HubConfig::load(&medseal_hub::files::HubPaths::new(&args.dir)).map_err(failure)?.listen,
    };
    let hub = medseal_hub::start(&args.dir, listen).map_err(failure)?;
    // Scripts and tests wait for this line: print it whole, flushed.
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on https://{}", hub.local_addr());
        let _ = out.flush();
    }
    let waited = medseal_hub::wait_for_shutdown_signal();
    eprintln!("medseal-hub: stopping");
    let stopped = hub.shutdown();
    waited.map_err(failure)?;
    stopped.map_err(failure)?;
    eprintln!("medseal-hub: stopped");
    Ok(())
}
