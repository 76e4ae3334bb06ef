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
    Revoke(RevokeArgs),
    Serve(ServeArgs),
    Audit(AuditArgs),
    Export(ExportArgs),
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
    /// An auditor's escrow public key (X25519, PEM, DER or JWK; the auditor keeps the private
    /// key); repeat for several. Written as HUB_DIR/escrow-N.pub and named in hub.json
    /// (escrow_keys); enroll hands each to every facility, which seals its records to it too.
    #[arg(long = "escrow-key", value_name = "PUBLIC_KEY")]
    escrow_keys: Vec<PathBuf>,
}

/// Receipt and tree-head key algorithms.
#[derive(Clone, Copy, ValueEnum)]
enum KeyAlg {
    /// Ed25519 (JWS EdDSA).
    Ed25519,
    /// ECDSA P-256 with SHA-256 (JWS ES256).
    Es256,
}

/// Enrol a facility (or an auditor) from its public parts only.
///
/// The hospital makes its own keys first (`medseal facility init`, or openssl, or a token) and
/// hands over only its public record-signing key(s) and a PKCS#10 request for its TLS client
/// certificate. The hub checks the request (its signature; CN = the facility id; a key that is
/// not a signing key), issues the client certificate (clientAuth, 2 years), registers the
/// signing keys, and writes into FACILITY_DIR: client.pem, hub-ca.pem (the CA to pin),
/// hub-recipient.pub (seal to it), receipt.pub, tree-head.pub (check receipts with them) and
/// facility.json ({facility, hub_url}); and escrow-N.pub for each auditor escrow key hub.json
/// names (seal every record to it too: outbox enqueue --to hub-recipient.pub --to escrow-1.pub).
/// The hub never makes or sees a hospital's private key.
/// A running hub picks the facility up at its next batch.
#[derive(clap::Args)]
pub struct EnrollArgs {
    /// The hub directory.
    #[arg(long, value_name = "HUB_DIR")]
    dir: PathBuf,
    /// The facility id: the certificate's CN and every record's source (or the auditor's name).
    #[arg(long, value_name = "ID")]
    facility: String,
    /// A public record-signing key of the facility (PEM, DER or JWK); repeat for several (a
    /// rollover). Never a private key.
    #[arg(long = "signing-key", value_name = "PUBLIC_KEY")]
    signing_keys: Vec<PathBuf>,
    /// The facility's PKCS#10 certificate request for its TLS client key (PEM or DER).
    #[arg(long, value_name = "CLIENT_CSR")]
    csr: PathBuf,
    /// Where to write the issued files (the facility's own directory is fine).
    #[arg(long, value_name = "FACILITY_DIR")]
    out: PathBuf,
    /// Enrol an auditor: reads the whole ledger, submits nothing, has no signing keys.
    #[arg(long)]
    auditor: bool,
    /// Replace issued files in FACILITY_DIR, and enrol an enrolled name again (a new
    /// certificate, the keys given added; earlier keys stay valid until revoked).
    #[arg(long)]
    force: bool,
    /// Print what was done as JSON.
    #[arg(long)]
    json: bool,
}

/// Revoke a facility's record-signing key or client certificate.
///
/// From --at on (default: now), records signed by the key that the hub receives are refused
/// (KEY_REVOKED), and the client certificate fails the TLS handshake. A time in the future
/// lets records already queued arrive first; a time in the past is for a key known to have
/// leaked since then (records the hub already received stay in the ledger, which is
/// append-only: the auditor sees them with their receipt times). The running hub sees the
/// revocation at its next handshake or batch.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["signing_key", "certificate"])))]
pub struct RevokeArgs {
    /// The hub directory.
    #[arg(long, value_name = "HUB_DIR")]
    dir: PathBuf,
    /// The kid (RFC 7638 thumbprint) of the signing key to revoke.
    #[arg(long = "signing-key", value_name = "KID")]
    signing_key: Option<String>,
    /// The client certificate to revoke: its SHA-256 fingerprint (hex, as enroll prints it) or
    /// a file holding the certificate (PEM).
    #[arg(long, value_name = "FINGERPRINT_OR_FILE")]
    certificate: Option<String>,
    /// When the revocation takes effect (RFC 3339 UTC, e.g. 2026-12-05T10:00:00Z); default now.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Why (kept with the revocation).
    #[arg(long, default_value = "")]
    reason: String,
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

/// Export an audit bundle (docs/AUDIT.md, "Export"): a folder of plain files an auditor reads
/// without trusting the hub.
///
/// Writes every ledger entry (those of facilities not selected as their leaf hash only, so the
/// tree still rebuilds), every signed tree head, the hub's receipt and tree-head public keys and
/// CA, every enrolled facility with its keys and certificates and their history, every trust
/// list the hub verified records with and their keys, the envelope of every selected record as
/// received, and manifest.json (the SHA-256 of every file but envelopes/ and opened/). A record
/// is selected when its facility is (all by default) and it was received within --from/--to.
/// The hub directory is only read; a running hub can be exported. OUT must not exist; it
/// appears only once complete. Progress goes to standard error on a terminal.
///
/// With --opened the hub opens each selected envelope with its own key and writes the signed
/// record inside (patient data in clear) to opened/: only for an auditor entitled to read
/// them. Records sealed to an auditor escrow key (hub init --escrow-key) need no --opened.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// The hub directory (only read).
    #[arg(long, value_name = "HUB_DIR")]
    dir: PathBuf,
    /// The bundle folder to write (must not exist).
    #[arg(long, value_name = "BUNDLE")]
    out: PathBuf,
    /// Export this facility's entries and envelopes (repeat for several; default all).
    #[arg(long = "facility", value_name = "ID")]
    facilities: Vec<String>,
    /// Envelopes of records received at or after this time only (RFC 3339 UTC).
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// Envelopes of records received at or before this time only (RFC 3339 UTC).
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// Also write each selected record opened with the hub's key (patient data in clear).
    #[arg(long)]
    opened: bool,
    /// Print a summary as JSON (path and counts).
    #[arg(long)]
    json: bool,
}

fn export(args: ExportArgs) -> Result<(), Failure> {
    use std::io::IsTerminal;
    let time = |name: &str, text: &Option<String>| -> Option<i64> {
        text.as_ref().map(|text| {
            medseal::utc::parse(text).unwrap_or_else(|| {
                crate::nested_usage_error("hub", "export", &format!("{name} {text:?} is not an RFC 3339 time (e.g. 2026-12-05T10:00:00Z)"))
            })
        })
    };
    let (from, to) = (time("--from", &args.from), time("--to", &args.to));
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            crate::nested_usage_error("hub", "export", "--from is after --to");
        }
    }
    let options = medseal_hub::ExportOptions {
        facilities: args.facilities,
        from,
        to,
        opened: args.opened,
        tool: format!("medseal {}", env!("CARGO_PKG_VERSION")),
        ..medseal_hub::ExportOptions::new(&args.dir, &args.out)
    };
    if options.opened {
        eprintln!(
            "medseal: warning: --opened writes every selected record in clear (patient data) into {}; hand it only to an auditor entitled to read it",
            options.out.display()
        );
    }
    let terminal = std::io::stderr().is_terminal();
    let mut progress = |p: medseal_hub::export::Progress| {
        if !terminal {
            return;
        }
        let (what, done, total) = match p {
            medseal_hub::export::Progress::Entries { done, total } => ("ledger entries", done, total),
            medseal_hub::export::Progress::Envelopes { done, total } => ("envelopes", done, total),
        };
        eprint!("\r\x1b[Kexporting {what}: {done}/{total}");
        if done == total {
            eprintln!();
        }
    };
    let exported = medseal_hub::export(&options, &mut progress).map_err(|e| Failure::Other(e.to_string()))?;
    let m = &exported.manifest;
    if args.json {
        let json = serde_json::json!({
            "bundle": exported.path.display().to_string(),
            "size": m.ledger.size,
            "entries": m.ledger.entries,
            "redacted": m.ledger.redacted,
            "tree_heads": m.ledger.tree_heads,
            "envelopes": m.ledger.envelopes,
            "opened": m.ledger.opened,
            "files": m.files.len(),
        });
        return crate::io::write_stdout(format!("{json}\n").as_bytes());
    }
    crate::io::write_stdout(
        format!(
            "exported {}: ledger of {} entries ({} in full, {} as leaf hashes), {} tree heads, {} envelopes, {} opened records\n",
            exported.path.display(),
            m.ledger.size,
            m.ledger.entries,
            m.ledger.redacted,
            m.ledger.tree_heads,
            m.ledger.envelopes,
            m.ledger.opened
        )
        .as_bytes(),
    )
}

/// Audit the hub's ledger offline: rebuild the RFC 9162 tree from every entry, check it against
/// the latest tree head (signed by the hub's tree-head key), and refuse any record id or
/// facility sequence number found twice. Prints a line per facility reporting gaps (numbers not
/// received) and records received out of order; with --entries also every entry (canonical
/// JSON lines). Exit status 1 only when the ledger itself is wrong. The hub's database is
/// opened read-only: the audit never changes it (an older schema is refused, not upgraded).
#[derive(clap::Args)]
pub struct AuditArgs {
    /// The hub directory.
    #[arg(long, value_name = "HUB_DIR")]
    dir: PathBuf,
    /// Also print every ledger entry.
    #[arg(long)]
    entries: bool,
    /// Print one JSON object instead of text (docs/CLI_JSON.md).
    #[arg(long)]
    json: bool,
}

fn audit(args: AuditArgs) -> Result<(), Failure> {
    crate::json::enable(args.json);
    let audit = medseal_hub::audit(&args.dir)
        .map_err(|e| Failure::Invalid(medseal::Error::new(ResultCode::MEDSEAL_LEDGER_PROOF_INVALID, e.message().to_owned())))?;
    if args.json {
        return crate::json::print(&audit_json(&audit, args.entries));
    }
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
        let withdrawn = match summary.withdrawn.len() {
            0 => String::new(),
            n => format!(", {n} withdrawn"),
        };
        text.push_str(&format!(
            "  {source}: {} records{withdrawn}, sequence up to {}, {gaps}, {order}, no repeats\n",
            summary.records, summary.highest
        ));
        for (sequence, reason) in &summary.withdrawn {
            text.push_str(&format!(
                "    withdrawn {sequence}: {}\n",
                medseal::untrusted::shown_max(reason, medseal::record::MAX_REASON_BYTES)
            ));
        }
    }
    crate::io::write_stdout(text.as_bytes())
}

/// `{"valid": true, "tree_size", "root_hash", "signed_at", "sources": [{"source", "records",
/// "highest_sequence", "gaps", "out_of_order", "withdrawn": [{"sequence", "reason"}]}]}`, with
/// `"entries"` (the ledger entries as objects) when asked for.
fn audit_json(audit: &medseal_hub::Audit, entries: bool) -> serde_json::Value {
    use serde_json::{json, Value};
    let head = audit.tree_head.as_ref();
    let sources: Vec<Value> = audit
        .sources
        .iter()
        .map(|(source, s)| {
            json!({
                "source": source,
                "records": s.records,
                "highest_sequence": s.highest,
                "gaps": s.gaps,
                "out_of_order": s.out_of_order,
                "withdrawn": s.withdrawn.iter().map(|(sequence, reason)| json!({ "sequence": sequence, "reason": reason })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut value = json!({
        "valid": true,
        "tree_size": head.map_or(0, |h| h.tree_size),
        "root_hash": head.map(|h| medseal::ledger::encode_hash(&h.root_hash)),
        "signed_at": head.map(|h| crate::json::time(h.timestamp)),
        "sources": sources,
    });
    if entries {
        let list: Vec<Value> =
            audit.entries.iter().map(|e| serde_json::from_slice(&e.to_json()).expect("a ledger entry is JSON")).collect();
        value["entries"] = Value::Array(list);
    }
    value
}

pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Init(args) => init(args),
        Command::Enroll(args) => enroll(args),
        Command::Revoke(args) => revoke(args),
        Command::Serve(args) => serve(args),
        Command::Audit(args) => audit(args),
        Command::Export(args) => export(args),
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
        escrow_keys: args.escrow_keys.iter().map(|p| crate::io::read_input(Some(p.as_path()), 1 << 20)).collect::<Result<_, _>>()?,
    };
    let config = medseal_hub::init(&options).map_err(failure)?;
    let dir = options.dir.display();
    crate::io::write_stdout(
        format!(
            "hub created in {dir}\nurl: {}\nlisten: {}\nnext: each hospital runs `medseal facility init --facility ID --dir DIR`, then: medseal hub enroll --dir {dir} --facility ID --signing-key DIR/signing.pub --csr DIR/client.csr --out DIR\n",
            config.hub_url, config.listen
        )
        .as_bytes(),
    )
}

fn enroll(args: EnrollArgs) -> Result<(), Failure> {
    crate::json::enable(args.json);
    let read = |path: &PathBuf| crate::io::read_input(Some(path), 1 << 20);
    let signing_keys = args.signing_keys.iter().map(read).collect::<Result<Vec<_>, _>>()?;
    let csr = read(&args.csr)?;
    let options = EnrollOptions {
        hub_dir: args.dir,
        facility: args.facility,
        signing_keys,
        csr,
        out: args.out,
        auditor: args.auditor,
        force: args.force,
    };
    let enrolled = medseal_hub::enroll(&options).map_err(failure)?;
    if args.json {
        let json = serde_json::json!({
            "facility": enrolled.facility,
            "role": if options.auditor { "auditor" } else { "facility" },
            "signing_kids": enrolled.signing_kids,
            "certificate_fingerprint": enrolled.certificate_fingerprint,
            "hub_url": enrolled.hub_url,
            "files": enrolled.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        });
        return crate::json::print(&json);
    }
    let role = if options.auditor { "auditor" } else { "facility" };
    let mut text = format!("enrolled {role} {}\n", enrolled.facility);
    for kid in &enrolled.signing_kids {
        text.push_str(&format!("signing key {kid}\n"));
    }
    text.push_str(&format!("client certificate sha256 {}\nhub: {}\n", enrolled.certificate_fingerprint, enrolled.hub_url));
    for file in &enrolled.files {
        text.push_str(&format!("wrote {}\n", file.display()));
    }
    crate::io::write_stdout(text.as_bytes())
}

fn revoke(args: RevokeArgs) -> Result<(), Failure> {
    let at = match &args.at {
        None => medseal::utc::now(),
        Some(text) => medseal::utc::parse(text).ok_or_else(|| Failure::Other(format!("--at {text:?} is not an RFC 3339 time")))?,
    };
    let what = match (args.signing_key, args.certificate) {
        (Some(kid), _) => medseal_hub::Revocable::SigningKey(kid),
        (None, Some(certificate)) => {
            let path = std::path::Path::new(&certificate);
            if path.exists() {
                let pem = crate::io::read_input(Some(path), 1 << 20)?;
                let pem = String::from_utf8(pem).map_err(|_| Failure::Other(format!("{certificate} is not a PEM certificate")))?;
                medseal_hub::Revocable::Certificate(medseal_hub::pki::fingerprint_pem(&pem).map_err(failure)?)
            } else {
                medseal_hub::Revocable::Certificate(certificate)
            }
        }
        (None, None) => unreachable!("clap requires one"),
    };
    let facility = medseal_hub::revoke(&args.dir, &what, at, &args.reason).map_err(failure)?;
    let (kind, id) = match &what {
        medseal_hub::Revocable::SigningKey(kid) => ("signing key", kid.as_str()),
        medseal_hub::Revocable::Certificate(f) => ("client certificate", f.as_str()),
    };
    let when = medseal::utc::format(at).unwrap_or_default();
    crate::io::write_stdout(format!("revoked {kind} {id} of {} from {when}\n", medseal::untrusted::shown(&facility)).as_bytes())
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
