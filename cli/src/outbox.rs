//! `medseal outbox`: the durable outbox from the shell (docs/SUBMISSION.md). Hospital systems
//! and scripts `enqueue`; operators look at `status`, `list`, `inspect` and `dead-letters`,
//! `requeue` or `discard` dead letters, `withdraw` a record sent by mistake, `export` a backup,
//! list every record it `sealed` (in sequence order) and check the hub's `receipts`. Every rule is the library's
//! (`medseal::outbox`); the file may be in use by other processes meanwhile. The commands that
//! only look (`status`, `list`, `inspect`, `dead-letters`, `export`, `sealed`, `receipts`,
//! `tree-heads`) open it read-only: they never create, upgrade or change it.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Subcommand, ValueEnum};
use medseal::outbox::{LocalReceipt, Outbox, OutboxConfig, OutboxStatus, RecordInfo, State};
use medseal::seal::MAX_ENVELOPE_BYTES;
use medseal::untrusted::shown_max;
use medseal::utc::show as show_time;
use medseal::{Aead, RecipientKey, ResultCode};

use serde_json::{json, Value};

use crate::json::{self as out, b64url};
use crate::{io, key, Failure};

/// The durable outbox: enqueue sealed records for the hub, watch them, handle dead letters.
#[derive(Subcommand)]
pub enum Command {
    Enqueue(EnqueueArgs),
    // Sending to the hub over mutual TLS: cli/src/deliver.rs (the transport's).
    Deliver(crate::deliver::Args),
    Status(StatusArgs),
    List(ListArgs),
    Inspect(InspectArgs),
    DeadLetters(DeadLettersArgs),
    Requeue(RequeueArgs),
    Discard(DiscardArgs),
    Withdraw(WithdrawArgs),
    Export(ExportArgs),
    Sealed(SealedArgs),
    Receipts(ReceiptsArgs),
    TreeHeads(TreeHeadsArgs),
}

/// The outbox file, for every subcommand.
#[derive(clap::Args)]
pub struct OutboxFile {
    /// The outbox file (SQLite, WAL mode; shared safely by several processes).
    #[arg(long, value_name = "FILE")]
    pub outbox: PathBuf,
}

/// Seal a signed record to the hub and store it in the outbox, durably.
///
/// The record (a JWS, e.g. from `medseal sign`) is sealed with meta {record_id, source, the
/// next sequence number of SOURCE, now, content type} inside the transaction that stores it.
/// Prints the local receipt once it is on disk:
///   queued: outbox id N, record ID, source SOURCE, sequence N, digest B64URL, enqueued TIME
/// The same record id with the same signed record again prints the original receipt as
/// `already queued: ...`; with another record it is refused (MEDSEAL_OUTBOX_DUPLICATE).
/// With --sealed the input is an envelope sealed elsewhere (JSON or protobuf) whose meta must
/// carry this SOURCE and the next sequence number.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct EnqueueArgs {
    #[command(flatten)]
    file: OutboxFile,
    /// This facility's id: the records' meta.source. The file is created for it and refuses
    /// any other.
    #[arg(long, value_name = "ID")]
    source: String,
    /// A recipient's X25519 public key (PEM, DER or JWK): the hub first, then any others.
    /// Repeatable. With --sealed: optional, the envelope must then be addressed to the first.
    #[arg(long = "to", value_name = "HUB_PUBLIC_KEY", required_unless_present = "sealed")]
    to: Vec<PathBuf>,
    /// The facility's own record-signing public key (PEM, DER or JWK; signing.pub);
    /// repeatable (a rollover). The record must verify with one of them before it takes a
    /// sequence number: an unsigned file or another hospital's record is refused and burns no
    /// number.
    #[arg(long = "signing-key", value_name = "PUBLIC_KEY", required_unless_present = "sealed")]
    signing_keys: Vec<PathBuf>,
    /// The record id (the idempotency key at the outbox and at the hub).
    #[arg(long, value_name = "ID", required_unless_present = "sealed", conflicts_with = "sealed")]
    record_id: Option<String>,
    /// The input is an envelope sealed elsewhere, not a signed record.
    #[arg(long)]
    sealed: bool,
    /// The AEAD records are sealed with.
    #[arg(long, value_enum, default_value_t = AeadArg::Aes256gcm)]
    aead: AeadArg,
    /// Print the receipt as canonical JSON.
    #[arg(long)]
    json: bool,
    /// The signed record (or with --sealed the envelope; default: standard input).
    #[arg(value_name = "SIGNED_FILE")]
    input: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum AeadArg {
    /// AES-256-GCM (HPKE AEAD 0x0002).
    Aes256gcm,
    /// ChaCha20-Poly1305 (HPKE AEAD 0x0003).
    #[value(name = "chacha20poly1305")]
    ChaCha20Poly1305,
}

/// Show how many records are queued, in flight, delivered, dead letters and discarded.
#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    file: OutboxFile,
    /// Print canonical JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// List records, oldest first.
#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    file: OutboxFile,
    /// Only records in this state: queued, in_flight, delivered, dead_letter, discarded.
    #[arg(long, value_name = "STATE", value_parser = state_arg)]
    state: Option<State>,
    /// At most N records (a note on stderr says when there are more).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    limit: usize,
    /// Print canonical JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

/// Show everything about one record: state, attempts, errors, receipt, history.
#[derive(clap::Args)]
pub struct InspectArgs {
    #[command(flatten)]
    file: OutboxFile,
    /// The outbox id (first column of `list`).
    #[arg(value_name = "ID", required_unless_present = "record_id", conflicts_with = "record_id")]
    id: Option<i64>,
    /// Look the record up by record id instead.
    #[arg(long, value_name = "RECORD_ID")]
    record_id: Option<String>,
    /// Print canonical JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also write the record's envelope (protobuf, exactly as sent to the hub) to FILE, e.g.
    /// for `medseal open`. An existing FILE is not replaced.
    #[arg(long, value_name = "FILE")]
    envelope: Option<PathBuf>,
}

/// List the dead letters (refused by the hub, or withdrawn) with their codes and reasons.
#[derive(clap::Args)]
pub struct DeadLettersArgs {
    #[command(flatten)]
    file: OutboxFile,
    /// Print canonical JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

/// Queue a dead letter again (after fixing its cause); it is delivered at the next round.
#[derive(clap::Args)]
pub struct RequeueArgs {
    #[command(flatten)]
    file: OutboxFile,
    /// The dead letter's outbox id.
    #[arg(value_name = "ID")]
    id: i64,
}

/// Decide not to send a dead letter. Recorded with the time, your user name and the reason;
/// the envelope is kept (nothing is ever deleted).
#[derive(clap::Args)]
pub struct DiscardArgs {
    #[command(flatten)]
    file: OutboxFile,
    /// The dead letter's outbox id.
    #[arg(value_name = "ID")]
    id: i64,
    /// Why (recorded).
    #[arg(long, value_name = "TEXT")]
    reason: String,
}

/// Abandon a record that already has a sequence number.
///
/// With --key (the facility's record-signing key) and --to (the hub's public key, and any other
/// recipients, as for enqueue): a withdrawal of the record, signed with that key, is sealed
/// with the record's id, source and sequence and queued in its place (the record must be
/// queued or a dead letter); `deliver` sends it, and the hub's ledger then shows that
/// sequence as withdrawn, with the reason. The record's own entry in the local ledger
/// (`sealed`) is unchanged.
///
/// Without --key: a queued record becomes a dead letter with code WITHDRAWN and is never
/// sent; its sequence number then stays a gap at the hub.
///
/// Either way the decision is recorded with your user name and the reason.
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct WithdrawArgs {
    #[command(flatten)]
    file: OutboxFile,
    /// The record's outbox id.
    #[arg(value_name = "ID")]
    id: i64,
    /// Why (recorded; with --key also signed and written into the hub's ledger: 1 to 1024
    /// bytes of text without control characters).
    #[arg(long, value_name = "TEXT")]
    reason: String,
    /// The facility's record-signing PRIVATE key: sign a withdrawal and queue it for the hub.
    #[arg(long, value_name = "SIGNING_KEY", requires = "to")]
    key: Option<PathBuf>,
    /// A recipient's X25519 public key: the hub first, then any others. Repeatable; with --key.
    #[arg(long = "to", value_name = "HUB_PUBLIC_KEY", requires = "key")]
    to: Vec<PathBuf>,
    /// The facility's own record-signing public keys (repeatable): when given, --key must be
    /// one of them.
    #[arg(long = "signing-key", value_name = "PUBLIC_KEY", requires = "key")]
    signing_keys: Vec<PathBuf>,
}

/// Copy the outbox to a new file with SQLite's online backup, while it is in use.
#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    file: OutboxFile,
    /// The backup file to create (never replaced if it exists).
    #[arg(long = "to", value_name = "FILE")]
    to: PathBuf,
}

/// Print every record this facility sealed, in sequence order, one JSON line per
/// record: {"digest","enqueued_at","outbox_id","record_id","sequence","source"} (the outbox's
/// own account, to compare with the hub's ledger). The sequence numbers are checked first: a
/// gap is reported (MEDSEAL_OUTBOX_SEQUENCE) and nothing printed.
#[derive(clap::Args)]
pub struct SealedArgs {
    #[command(flatten)]
    file: OutboxFile,
    /// Start at this sequence number.
    #[arg(long, value_name = "N", default_value_t = 1)]
    from: u64,
}

/// Check every receipt the hub gave this outbox: each must be signed by the hub's receipt key,
/// name this facility, its record id and envelope digest, and be proven in a tree head signed by the hub's
/// tree-head key (docs/SUBMISSION.md). Prints one line per delivered record, then a count;
/// exits 1 if any receipt fails.
#[derive(clap::Args)]
pub struct ReceiptsArgs {
    #[command(flatten)]
    file: OutboxFile,
    /// The facility directory from `medseal hub enroll` (uses receipt.pub and tree-head.pub).
    #[arg(long, value_name = "DIR", required_unless_present_all = ["receipt_key", "tree_head_key"])]
    facility_dir: Option<PathBuf>,
    /// The hub's receipt public key (instead of --facility-dir).
    #[arg(long, value_name = "FILE", requires = "tree_head_key", conflicts_with = "facility_dir")]
    receipt_key: Option<PathBuf>,
    /// The hub's tree-head public key (instead of --facility-dir).
    #[arg(long, value_name = "FILE", requires = "receipt_key", conflicts_with = "facility_dir")]
    tree_head_key: Option<PathBuf>,
    /// Print one JSON object instead of text (docs/CLI_JSON.md).
    #[arg(long)]
    json: bool,
}

/// List the hub's signed tree heads this facility verified (each consistent with all before
/// it), and any fork found: two heads of the hub that cannot both be true, after which
/// delivery stopped. The heads are what an auditor holds the hub to (`--json` for a file to
/// hand over). Exits 1 when a fork was found.
#[derive(clap::Args)]
pub struct TreeHeadsArgs {
    #[command(flatten)]
    file: OutboxFile,
    /// Print JSON: {"source", "tree_heads": [{"tree_size", "root_hash", "seen_at", "tree_head"}], "forks": [...]}.
    #[arg(long)]
    json: bool,
}

fn tree_heads(args: TreeHeadsArgs) -> Result<(), Failure> {
    out::enable(args.json);
    let outbox = open_read_only(&args.file)?;
    let heads = outbox.tree_heads()?;
    let forks = outbox.forks()?;
    if args.json {
        out::print(&json!({
            "source": outbox.source(),
            "tree_heads": heads.iter().map(|h| json!({
                "tree_size": h.tree_size, "root_hash": b64url(&h.root_hash), "seen_at": out::time(h.seen_at), "tree_head": h.jws,
            })).collect::<Vec<_>>(),
            "forks": forks.iter().map(|f| json!({
                "detected_at": out::time(f.detected_at), "reason": f.reason, "held_tree_head": f.held_jws, "shown_tree_head": f.shown_jws,
            })).collect::<Vec<_>>(),
        }))?;
    } else {
        let mut out = String::new();
        for h in &heads {
            out.push_str(&format!(
                "tree size {}: root {}, seen {}\n  {}\n",
                h.tree_size,
                b64url(&h.root_hash),
                show_time(h.seen_at),
                h.jws
            ));
        }
        for f in &forks {
            out.push_str(&format!(
                "FORK found {}: {}\n  held:  {}\n  shown: {}\n",
                show_time(f.detected_at),
                f.reason,
                f.held_jws,
                f.shown_jws
            ));
        }
        out.push_str(&format!("{} tree heads, {} forks\n", heads.len(), forks.len()));
        io::write_stdout(out.as_bytes())?;
    }
    if forks.is_empty() {
        Ok(())
    } else if args.json {
        // The JSON holds the forks; stdout stays one document, the finding is also on stderr.
        eprintln!("medseal: error: {}", outbox.check_no_fork().unwrap_err());
        Err(Failure::Reported)
    } else {
        Err(Failure::Medseal(outbox.check_no_fork().unwrap_err()))
    }
}

fn receipts(args: ReceiptsArgs) -> Result<(), Failure> {
    out::enable(args.json);
    let (receipt_path, tree_head_path) = match (&args.facility_dir, &args.receipt_key, &args.tree_head_key) {
        (Some(dir), _, _) => (dir.join("receipt.pub"), dir.join("tree-head.pub")),
        (None, Some(r), Some(t)) => (r.clone(), t.clone()),
        _ => unreachable!("clap requires a facility dir or both keys"),
    };
    let receipt_keys = medseal::Verifier::new(vec![std::sync::Arc::new(crate::key::load(&receipt_path, None)?)]);
    let tree_head_keys = medseal::Verifier::new(vec![std::sync::Arc::new(crate::key::load(&tree_head_path, None)?)]);
    let outbox = open_read_only(&args.file)?;
    let (mut good, mut bad) = (0u64, 0u64);
    let mut text = String::new();
    let mut results = Vec::new();
    for record in outbox.list(Some(State::Delivered), usize::MAX)? {
        // About this facility's record: its source, id and envelope digest (its withdrawal's,
        // when that is what was sent in its place).
        let digest = record.withdrawal_digest.as_ref().unwrap_or(&record.digest);
        let checked = match (&record.receipt, &record.inclusion) {
            (Some(receipt), Some(inclusion)) => medseal::ledger::decode_inclusion_proof(inclusion).and_then(|proof| {
                let subject = medseal::ledger::ReceiptSubject { source: outbox.source(), record_id: &record.record_id, digest };
                medseal::ledger::verify_receipt_for(receipt.as_bytes(), &proof, &receipt_keys, &tree_head_keys, &subject)
            }),
            _ => Err(medseal::Error::new(ResultCode::MEDSEAL_LEDGER_RECEIPT_INVALID, "delivered but no receipt or proof is stored")),
        };
        let mut result = serde_json::Map::new();
        result.insert("outbox_id".into(), json!(record.outbox_id));
        result.insert("record_id".into(), json!(record.record_id));
        result.insert("sequence".into(), json!(record.sequence));
        result.insert("digest".into(), json!(b64url(digest)));
        match checked {
            Ok(r) => {
                good += 1;
                text.push_str(&format!(
                    "valid: {} (sequence {}) at ledger index {} of {}, received {}\n",
                    r.record_id,
                    r.sequence,
                    r.ledger_index,
                    r.tree_size,
                    show_time(r.received)
                ));
                result.insert("valid".into(), json!(true));
                result.insert("ledger_index".into(), json!(r.ledger_index));
                result.insert("tree_size".into(), json!(r.tree_size));
                result.insert("received_at".into(), out::time(r.received));
            }
            Err(e) => {
                bad += 1;
                text.push_str(&format!("INVALID: {} (sequence {}): {e}\n", record.record_id, record.sequence));
                result.insert("valid".into(), json!(false));
                result.extend(out::error_members(&e));
            }
        }
        results.push(Value::Object(result));
    }
    if args.json {
        out::print(&json!({ "source": outbox.source(), "receipts": results, "verified": good, "invalid": bad }))?;
        return if bad > 0 { Err(Failure::Reported) } else { Ok(()) };
    }
    text.push_str(&format!("{good} receipts verified, {bad} invalid\n"));
    io::write_stdout(text.as_bytes())?;
    if bad > 0 {
        return Err(Failure::Invalid(medseal::Error::new(
            ResultCode::MEDSEAL_LEDGER_RECEIPT_INVALID,
            format!("{bad} of {} receipts do not verify", good + bad),
        )));
    }
    Ok(())
}

pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Enqueue(args) => enqueue(args),
        Command::Deliver(args) => crate::deliver::run(args),
        Command::Status(args) => status(args),
        Command::List(args) => list(args),
        Command::Inspect(args) => inspect(args),
        Command::DeadLetters(args) => dead_letters(args),
        Command::Requeue(args) => {
            let outbox = open_existing(&args.file)?;
            outbox.requeue(args.id)?;
            io::write_stdout(format!("requeued: outbox id {}\n", args.id).as_bytes())
        }
        Command::Discard(args) => {
            let outbox = open_existing(&args.file)?;
            outbox.discard(args.id, &args.reason)?;
            io::write_stdout(format!("discarded: outbox id {}\n", args.id).as_bytes())
        }
        Command::Withdraw(args) => withdraw(args),
        Command::Export(args) => {
            let outbox = open_read_only(&args.file)?;
            outbox.backup(&args.to)?;
            let status = outbox.status()?;
            let total = status.queued + status.in_flight + status.delivered + status.dead_letter + status.discarded;
            io::write_stdout(format!("exported: {} records to {}\n", total, args.to.display()).as_bytes())
        }
        Command::Sealed(args) => sealed(args),
        Command::Receipts(args) => receipts(args),
        Command::TreeHeads(args) => tree_heads(args),
    }
}

fn state_arg(text: &str) -> Result<State, String> {
    State::from_str(text).ok_or_else(|| format!("unknown state \"{text}\" (one of {})", State::all().map(State::as_str).join(", ")))
}

/// Opens an existing outbox for administration (never creates one; upgrades an older file).
fn open_existing(file: &OutboxFile) -> Result<Outbox, Failure> {
    Ok(Outbox::open_existing(&file.outbox)?)
}

/// Opens an existing outbox for a command that only looks: nothing is created or changed.
fn open_read_only(file: &OutboxFile) -> Result<Outbox, Failure> {
    Ok(Outbox::open_read_only(&file.outbox)?)
}

fn withdraw(args: WithdrawArgs) -> Result<(), Failure> {
    let admin = open_existing(&args.file)?;
    let Some(key_path) = &args.key else {
        admin.withdraw(args.id, &args.reason)?;
        let sequence = admin.get(args.id)?.sequence;
        return io::write_stdout(
            format!(
                "withdrawn: outbox id {} is now a dead letter (WITHDRAWN) and is not sent: its sequence number {sequence} stays a gap at the hub \
                 (give --key and --to to send a signed withdrawal instead)\n",
                args.id
            )
            .as_bytes(),
        );
    };
    let recipients =
        args.to.iter().map(|path| key::load_recipient(path).map(|k| k.to_public())).collect::<Result<Vec<RecipientKey>, _>>()?;
    let mut config = OutboxConfig::new(&args.file.outbox, admin.source(), recipients);
    drop(admin);
    config.signing_keys = args.signing_keys.iter().map(|path| key::load(path, None).map(Arc::new)).collect::<Result<_, _>>()?;
    let outbox = Outbox::open(config)?;
    let key = key::load_one(key_path, None)?;
    let signer = medseal::Signer::new(Arc::new(key), medseal::record::withdrawal_sign_options()).map_err(|e| match e.code() {
        ResultCode::MEDSEAL_KEY_NOT_PRIVATE => medseal::Error::new(e.code(), format!("{}: {}", io::name(Some(key_path)), e.message())),
        _ => e,
    })?;
    outbox.withdraw_signed(args.id, &args.reason, &signer)?;
    let info = outbox.get(args.id)?;
    io::write_stdout(
        format!(
            "withdrawn: outbox id {}, record {}, sequence {}: a signed withdrawal (digest {}) is queued for the hub in its place; \
             once delivered, the hub's ledger shows sequence {} as withdrawn\n",
            args.id,
            info.record_id,
            info.sequence,
            info.withdrawal_digest.map(|d| b64url(&d)).unwrap_or_default(),
            info.sequence
        )
        .as_bytes(),
    )
}

fn enqueue(args: EnqueueArgs) -> Result<(), Failure> {
    let stdin_uses = args.to.iter().map(|p| Some(p.as_path())).chain([args.input.as_deref()]).filter(|p| io::is_stdin(*p)).count();
    if stdin_uses > 1 {
        crate::nested_usage_error("outbox", "enqueue", "standard input can feed only one of the record and the keys");
    }
    let recipients =
        args.to.iter().map(|path| key::load_recipient(path).map(|k| k.to_public())).collect::<Result<Vec<RecipientKey>, _>>()?;
    let path = args.input.as_deref();
    // An envelope is a little larger than its record.
    let limit = MAX_ENVELOPE_BYTES as u64 + (1 << 20);
    let input = io::read_input(path, limit + 1)?;
    if input.len() as u64 > limit {
        return Err(Failure::Medseal(medseal::Error::new(
            ResultCode::MEDSEAL_SEAL_TOO_LARGE,
            format!("{} is larger than the limit of {MAX_ENVELOPE_BYTES} bytes", io::name(path)),
        )));
    }
    let mut config = OutboxConfig::new(&args.file.outbox, args.source, recipients);
    config.signing_keys = args.signing_keys.iter().map(|path| key::load(path, None).map(Arc::new)).collect::<Result<_, _>>()?;
    config.aead = match args.aead {
        AeadArg::Aes256gcm => Aead::Aes256Gcm,
        AeadArg::ChaCha20Poly1305 => Aead::ChaCha20Poly1305,
    };
    out::enable(args.json);
    let outbox = Outbox::open(config)?;
    let receipt = match &args.record_id {
        Some(record_id) => outbox.enqueue_signed(record_id, &input)?,
        None => outbox.enqueue_sealed(&input)?,
    };
    if args.json {
        return out::print(&receipt_json(&receipt));
    }
    let word = if receipt.already_queued { "already queued" } else { "queued" };
    let text = format!(
        "{word}: outbox id {}, record {}, source {}, sequence {}, digest {}, enqueued {}\n",
        receipt.outbox_id,
        receipt.record_id,
        receipt.source,
        receipt.sequence,
        b64url(&receipt.digest),
        show_time(receipt.enqueued_at)
    );
    io::write_stdout(text.as_bytes())
}

fn status(args: StatusArgs) -> Result<(), Failure> {
    out::enable(args.json);
    let outbox = open_read_only(&args.file)?;
    let status = outbox.status()?;
    if args.json {
        return out::print(&status_json(outbox.source(), &status));
    }
    let time = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), show_time);
    let text = format!(
        "outbox:        {}\nsource:        {}\nqueued:        {}\nin flight:     {}\ndelivered:     {}\ndead letters:  {}\n\
         discarded:     {}\nnext sequence: {}\noldest queued: {}\nnext attempt:  {}\n",
        args.file.outbox.display(),
        outbox.source(),
        status.queued,
        status.in_flight,
        status.delivered,
        status.dead_letter,
        status.discarded,
        status.next_sequence,
        time(status.oldest_queued_at),
        time(status.next_attempt_at),
    );
    io::write_stdout(text.as_bytes())
}

fn list(args: ListArgs) -> Result<(), Failure> {
    out::enable(args.json);
    let outbox = open_read_only(&args.file)?;
    let mut records = outbox.list(args.state, args.limit.saturating_add(1))?;
    if records.len() > args.limit {
        // Never cut silently: the note goes to stderr, so stdout stays the listing.
        records.truncate(args.limit);
        eprintln!("medseal: note: more records than --limit {}: the first {} are listed", args.limit, args.limit);
    }
    print_records(&records, args.json, false)
}

fn dead_letters(args: DeadLettersArgs) -> Result<(), Failure> {
    out::enable(args.json);
    let outbox = open_read_only(&args.file)?;
    let records = outbox.list(Some(State::DeadLetter), usize::MAX)?;
    print_records(&records, args.json, true)
}

/// A table (or JSON lines) of records; `reasons` adds the dead-letter code and reason.
fn print_records(records: &[RecordInfo], json: bool, reasons: bool) -> Result<(), Failure> {
    if json {
        let mut lines = Vec::new();
        for r in records {
            lines.extend(out::line(&record_json(r)));
        }
        return io::write_stdout(&lines);
    }
    if records.is_empty() {
        return io::write_stdout(if reasons { b"no dead letters\n" } else { b"no records\n" });
    }
    let mut header = vec!["ID", "SEQUENCE", "STATE", "ATTEMPTS", "ENQUEUED", "RECORD ID"];
    if reasons {
        header.extend(["CODE", "REASON"]);
    } else {
        header.push("NOTE");
    }
    let mut rows = vec![header.into_iter().map(String::from).collect::<Vec<_>>()];
    for r in records {
        let mut row =
            vec![r.outbox_id.to_string(), r.sequence.to_string(), r.state.to_string(), r.attempts.to_string(), show_time(r.enqueued_at)];
        row.push(r.record_id.clone());
        if reasons {
            row.push(r.dead_code.clone().unwrap_or_default());
            row.push(on_one_line(r.dead_reason.as_deref().unwrap_or_default()));
        } else {
            row.push(on_one_line(&note(r)));
        }
        rows.push(row);
    }
    io::write_stdout(io::table(&rows).as_bytes())
}

/// The most useful fact about a record's state, for the list's last column.
fn note(r: &RecordInfo) -> String {
    match r.state {
        State::Queued => match (&r.last_error, r.next_attempt_at) {
            (Some(e), Some(t)) => format!("retry at {}: {e}", show_time(t)),
            _ => String::new(),
        },
        State::InFlight => r.lease_until.map(|t| format!("lease until {}", show_time(t))).unwrap_or_default(),
        State::Delivered => format!(
            "{}at {}",
            if r.duplicate == Some(true) { "duplicate, " } else { "" },
            r.delivered_at.map_or_else(String::new, show_time)
        ),
        State::DeadLetter | State::Discarded => {
            format!("{}: {}", r.dead_code.as_deref().unwrap_or("?"), r.dead_reason.as_deref().unwrap_or_default())
        }
    }
}

fn inspect(args: InspectArgs) -> Result<(), Failure> {
    out::enable(args.json);
    let outbox = open_read_only(&args.file)?;
    let record = match (&args.record_id, args.id) {
        (Some(record_id), _) => outbox.find(record_id)?,
        (None, Some(id)) => outbox.get(id)?,
        (None, None) => crate::nested_usage_error("outbox", "inspect", "give an outbox ID or --record-id"),
    };
    let history = outbox.history(record.outbox_id)?;
    if let Some(path) = &args.envelope {
        io::write_private_file(path, &outbox.envelope(record.outbox_id)?, false)?;
    }
    if args.json {
        let Value::Object(mut members) = record_json(&record) else { unreachable!("record_json makes an object") };
        let events = history
            .iter()
            .map(|e| {
                let mut m = serde_json::Map::new();
                m.insert("action".into(), json!(e.action));
                m.insert("at".into(), out::time(e.at));
                for (name, value) in [("who", &e.who), ("code", &e.code), ("detail", &e.detail)] {
                    if let Some(v) = value {
                        m.insert(name.into(), json!(v));
                    }
                }
                Value::Object(m)
            })
            .collect();
        members.insert("history".into(), Value::Array(events));
        return out::print(&Value::Object(members));
    }
    let time = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), show_time);
    let mut text = format!(
        "outbox id:    {}\nrecord id:    {}\nsource:       {}\nsequence:     {}\ndigest:       {}\nstate:        {}\n\
         attempts:     {}\nenqueued:     {}\n",
        record.outbox_id,
        record.record_id,
        record.source,
        record.sequence,
        b64url(&record.digest),
        record.state,
        record.attempts,
        show_time(record.enqueued_at),
    );
    let mut field = |name: &str, value: String| text.push_str(&format!("{:<14}{}\n", format!("{name}:"), on_one_line(&value)));
    match record.state {
        State::Queued => field("next attempt", time(record.next_attempt_at)),
        State::InFlight => field("lease until", time(record.lease_until)),
        _ => {}
    }
    if let Some(e) = &record.last_error {
        field("last error", e.clone());
    }
    if let Some(code) = &record.dead_code {
        field("dead code", code.clone());
        field("dead reason", record.dead_reason.clone().unwrap_or_default());
    }
    if let Some(digest) = &record.withdrawal_digest {
        field("withdrawal", format!("signed, digest {} (sent to the hub in the record's place)", b64url(digest)));
    }
    if let Some(receipt) = &record.receipt {
        field("delivered", format!("{}{}", time(record.delivered_at), if record.duplicate == Some(true) { " (duplicate)" } else { "" }));
        field("receipt", receipt.clone());
    }
    if !history.is_empty() {
        text.push_str("history:\n");
        for e in &history {
            let mut entry = format!("  {} {}", show_time(e.at), e.action);
            if let Some(who) = &e.who {
                entry.push_str(&format!(" by {}", on_one_line(who)));
            }
            if let Some(code) = &e.code {
                entry.push_str(&format!(" [{}]", on_one_line(code)));
            }
            if let Some(detail) = &e.detail {
                entry.push_str(&format!(": {}", on_one_line(detail)));
            }
            text.push_str(&entry);
            text.push('\n');
        }
    }
    io::write_stdout(text.as_bytes())
}

fn sealed(args: SealedArgs) -> Result<(), Failure> {
    let outbox = open_read_only(&args.file)?;
    outbox.check_sequence()?;
    let mut lines = Vec::new();
    for r in outbox.sealed_ledger(args.from, usize::MAX)? {
        lines.extend(out::line(&json!({
            "digest": b64url(&r.digest),
            "enqueued_at": out::time(r.enqueued_at),
            "outbox_id": r.outbox_id,
            "record_id": r.record_id,
            "sequence": r.sequence,
            "source": r.source,
        })));
    }
    io::write_stdout(&lines)
}

fn receipt_json(r: &LocalReceipt) -> Value {
    json!({
        "already_queued": r.already_queued,
        "digest": b64url(&r.digest),
        "enqueued_at": out::time(r.enqueued_at),
        "outbox_id": r.outbox_id,
        "record_id": r.record_id,
        "sequence": r.sequence,
        "source": r.source,
    })
}

/// The counts per state are named by the state (`dead_letter`, as `state` values are written).
fn status_json(source: &str, s: &OutboxStatus) -> Value {
    json!({
        "dead_letter": s.dead_letter,
        "delivered": s.delivered,
        "discarded": s.discarded,
        "in_flight": s.in_flight,
        "next_attempt_at": out::time_or_null(s.next_attempt_at),
        "next_sequence": s.next_sequence,
        "oldest_queued_at": out::time_or_null(s.oldest_queued_at),
        "queued": s.queued,
        "source": source,
    })
}

/// A record as JSON; absent values are left out.
fn record_json(r: &RecordInfo) -> Value {
    let mut members = serde_json::Map::new();
    members.insert("attempts".into(), json!(r.attempts));
    members.insert("digest".into(), json!(b64url(&r.digest)));
    members.insert("enqueued_at".into(), out::time(r.enqueued_at));
    members.insert("outbox_id".into(), json!(r.outbox_id));
    members.insert("record_id".into(), json!(r.record_id));
    members.insert("sequence".into(), json!(r.sequence));
    members.insert("source".into(), json!(r.source));
    members.insert("state".into(), json!(r.state.as_str()));
    let times = [("next_attempt_at", r.next_attempt_at), ("lease_until", r.lease_until), ("delivered_at", r.delivered_at)];
    members.extend(times.into_iter().filter_map(|(name, t)| t.map(|t| (name.to_owned(), out::time(t)))));
    let texts = [("last_error", &r.last_error), ("dead_code", &r.dead_code), ("dead_reason", &r.dead_reason), ("receipt", &r.receipt)];
    members.extend(texts.into_iter().filter_map(|(name, t)| t.clone().map(|t| (name.to_owned(), json!(t)))));
    if let Some(duplicate) = r.duplicate {
        members.insert("duplicate".into(), json!(duplicate));
    }
    if let Some(digest) = &r.withdrawal_digest {
        members.insert("withdrawal_digest".into(), json!(b64url(digest)));
    }
    Value::Object(members)
}

/// Stored text (reasons, operator names) on one line, made safe for the terminal.
fn on_one_line(text: &str) -> String {
    shown_max(text, usize::MAX)
}
