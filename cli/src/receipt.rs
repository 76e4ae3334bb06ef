//! `medseal receipt verify` and `medseal ledger verify-consistency`: what a hospital or an
//! auditor checks of the hub's answers (docs/SUBMISSION.md, "Ledger"). Every rule is the
//! library's (`medseal::ledger`); this module reads files and prints one line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Subcommand;
use medseal::ledger::{self, Hash, TreeHead};
use medseal::utc::show as show_time;
use medseal::{ResultCode, Verifier};

use crate::key::{self, RsaAlg};
use crate::{io, usage_error, Failure};

/// Receipts, tree heads and proofs are a few kilobytes; anything far larger is a wrong file.
const FILE_LIMIT: u64 = 64 << 10;

/// Envelopes are at most 64 MiB (the library's limit).
const ENVELOPE_LIMIT: u64 = 64 << 20;

/// Check the hub's receipts.
#[derive(Subcommand)]
pub enum Command {
    Verify(VerifyArgs),
}

/// Check the hub's ledger.
#[derive(Subcommand)]
pub enum LedgerCommand {
    VerifyConsistency(ConsistencyArgs),
}

/// Verify a hub receipt with its inclusion proof.
///
/// Checks that the receipt is signed by the hub's receipt key and is about the record you sent:
/// it must name the facility --source, the record --record-id and the envelope digest (--digest,
/// or computed from --envelope); a receipt for another facility, record or envelope is refused.
/// Then that the proof's tree head is signed by the hub's tree-head key for the receipt's tree
/// size, and that the proof leads from the receipt's ledger entry to that tree head's root.
/// On success prints
/// `valid: receipt for <record_id> (source <s> #<seq>), ledger index <i> of <n>, received <time>`;
/// otherwise `medseal: invalid: <reason> (<CODE>)` on stderr and exit code 1.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The hub's receipt public key (PEM, DER or JWK).
    #[arg(long, value_name = "FILE")]
    receipt_key: PathBuf,
    /// The hub's tree-head public key (PEM, DER or JWK): another key than the receipt key.
    #[arg(long, value_name = "FILE")]
    tree_head_key: PathBuf,
    /// For RSA keys: verify as RS256 (default) or PS256.
    #[arg(long, value_enum)]
    alg: Option<RsaAlg>,
    /// The sending facility the receipt must name (the envelope's source).
    #[arg(long, value_name = "ID")]
    source: String,
    /// The record id the receipt must name.
    #[arg(long, value_name = "ID")]
    record_id: String,
    /// The envelope digest the receipt must name: SHA-256, base64url without padding (it may
    /// start with `-`).
    #[arg(long, value_name = "B64URL", required_unless_present = "envelope", conflicts_with = "envelope", allow_hyphen_values = true)]
    digest: Option<String>,
    /// The envelope as sent (protobuf): the receipt must name its SHA-256 digest.
    #[arg(long, value_name = "FILE")]
    envelope: Option<PathBuf>,
    /// The inclusion proof the hub returned with the receipt: a protobuf InclusionProof or its
    /// JSON mapping (GET /v1/proofs/inclusion).
    #[arg(long, value_name = "PROOF_FILE")]
    proof: PathBuf,
    /// Print the receipt's facts as one JSON object (docs/CLI_JSON.md).
    #[arg(long)]
    json: bool,
    /// The receipt: the compact JWS the hub returned (default: standard input).
    #[arg(value_name = "RECEIPT_FILE")]
    file: Option<PathBuf>,
}

/// Verify that the ledger only grew between two signed tree heads.
///
/// Both tree heads must be signed by the hub's tree-head key, and the consistency proof
/// (GET /v1/proofs/consistency, protobuf or JSON mapping) must show that the older tree is a
/// prefix of the newer one (RFC 9162). On success prints
/// `valid: the ledger of <m> entries (<time>) is a prefix of the ledger of <n> entries (<time>)`;
/// otherwise `medseal: invalid: <reason> (<CODE>)` on stderr and exit code 1.
#[derive(clap::Args)]
pub struct ConsistencyArgs {
    /// The hub's tree-head public key (PEM, DER or JWK).
    #[arg(long, value_name = "FILE")]
    tree_head_key: PathBuf,
    /// For RSA keys: verify as RS256 (default) or PS256.
    #[arg(long, value_enum)]
    alg: Option<RsaAlg>,
    /// The consistency proof from the older tree head's size to the newer one's.
    #[arg(long, value_name = "PROOF_FILE")]
    proof: PathBuf,
    /// The older signed tree head (compact JWS).
    #[arg(value_name = "OLD_TREE_HEAD")]
    old: PathBuf,
    /// The newer signed tree head (compact JWS).
    #[arg(value_name = "NEW_TREE_HEAD")]
    new: PathBuf,
}

pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Verify(args) => verify(args),
    }
}

pub fn run_ledger(command: LedgerCommand) -> Result<(), Failure> {
    match command {
        LedgerCommand::VerifyConsistency(args) => verify_consistency(args),
    }
}

/// Prefixes a library error with the file it is about (not for standard input).
fn in_file(path: Option<&Path>) -> impl Fn(medseal::Error) -> medseal::Error + '_ {
    move |e| if io::is_stdin(path) { e } else { medseal::Error::new(e.code(), format!("{}: {}", io::name(path), e.message())) }
}

/// Reads a small input (receipt, tree head, proof), refusing anything far larger.
fn read_small(path: Option<&Path>, what: &str, code: ResultCode) -> Result<Vec<u8>, Failure> {
    let bytes = io::read_input(path, FILE_LIMIT + 1)?;
    if bytes.len() as u64 > FILE_LIMIT {
        let message = format!("{} is larger than {FILE_LIMIT} bytes; it is not {what}", io::name(path));
        return Err(Failure::Medseal(medseal::Error::new(code, message)));
    }
    Ok(bytes)
}

fn verifier(path: &Path, alg: Option<RsaAlg>) -> Result<Verifier, Failure> {
    Ok(Verifier::new(vec![Arc::new(key::load_one(path, alg)?)]))
}

fn verify(args: VerifyArgs) -> Result<(), Failure> {
    crate::json::enable(args.json);
    let mut inputs =
        vec![Some(args.receipt_key.as_path()), Some(args.tree_head_key.as_path()), Some(args.proof.as_path()), args.file.as_deref()];
    if let Some(envelope) = &args.envelope {
        inputs.push(Some(envelope.as_path()));
    }
    if inputs.into_iter().filter(|p| io::is_stdin(*p)).count() > 1 {
        usage_error("receipt", "standard input can feed only one of the receipt, the proof, the envelope and the keys");
    }
    let receipt_keys = verifier(&args.receipt_key, args.alg)?;
    let tree_head_keys = verifier(&args.tree_head_key, args.alg)?;
    let digest: Hash = match (&args.digest, &args.envelope) {
        (Some(text), _) => {
            ledger::decode_hash(text).map_err(|e| Failure::Medseal(medseal::Error::new(e.code(), format!("--digest: {}", e.message()))))?
        }
        (None, Some(path)) => {
            let envelope = io::read_input(Some(path), ENVELOPE_LIMIT + 1)?;
            if envelope.len() as u64 > ENVELOPE_LIMIT {
                let message = format!("{} is larger than 64 MiB; it is not an envelope", io::name(Some(path)));
                return Err(Failure::Medseal(medseal::Error::new(ResultCode::MEDSEAL_SEAL_TOO_LARGE, message)));
            }
            ring::digest::digest(&ring::digest::SHA256, &envelope).as_ref().try_into().expect("32 bytes")
        }
        (None, None) => unreachable!("clap requires --digest or --envelope"),
    };
    let proof_path = Some(args.proof.as_path());
    let proof_bytes = read_small(proof_path, "an inclusion proof", ResultCode::MEDSEAL_LEDGER_PROOF_INVALID)?;
    let proof = ledger::decode_inclusion_proof(&proof_bytes).map_err(|e| Failure::Invalid(in_file(proof_path)(e)))?;
    let path = args.file.as_deref();
    let jws = read_small(path, "a receipt", ResultCode::MEDSEAL_LEDGER_RECEIPT_INVALID)?;
    let subject = ledger::ReceiptSubject { source: &args.source, record_id: &args.record_id, digest: &digest };
    let receipt = ledger::verify_receipt_for(&jws, &proof, &receipt_keys, &tree_head_keys, &subject).map_err(|e| match e.code() {
        ResultCode::MEDSEAL_JWS_NO_KEYS => Failure::Medseal(e),
        _ => Failure::Invalid(in_file(path)(e)),
    })?;
    if args.json {
        return crate::json::print(&serde_json::json!({
            "valid": true,
            "source": receipt.source,
            "record_id": receipt.record_id,
            "sequence": receipt.sequence,
            "digest": crate::json::b64url(&digest),
            "ledger_index": receipt.ledger_index,
            "tree_size": receipt.tree_size,
            "received_at": crate::json::time(receipt.received),
            "withdrawn": receipt.withdrawn,
        }));
    }
    let summary = format!(
        "valid: receipt for {} (source {} #{}), ledger index {} of {}, received {}\n",
        receipt.record_id,
        receipt.source,
        receipt.sequence,
        receipt.ledger_index,
        receipt.tree_size,
        show_time(receipt.received)
    );
    io::write_stdout(summary.as_bytes())
}

fn verify_consistency(args: ConsistencyArgs) -> Result<(), Failure> {
    let inputs = [args.tree_head_key.as_path(), args.proof.as_path(), args.old.as_path(), args.new.as_path()];
    if inputs.into_iter().filter(|p| io::is_stdin(Some(p))).count() > 1 {
        usage_error("ledger", "standard input can feed only one of the tree heads, the proof and the key");
    }
    let keys = verifier(&args.tree_head_key, args.alg)?;
    let head = |path: &Path| -> Result<TreeHead, Failure> {
        let jws = read_small(Some(path), "a tree head", ResultCode::MEDSEAL_LEDGER_TREE_HEAD_INVALID)?;
        TreeHead::verify(&jws, &keys).map_err(|e| match e.code() {
            ResultCode::MEDSEAL_JWS_NO_KEYS => Failure::Medseal(e),
            _ => Failure::Invalid(in_file(Some(path))(e)),
        })
    };
    let (old, new) = (head(&args.old)?, head(&args.new)?);
    let proof_path = Some(args.proof.as_path());
    let invalid = |e: medseal::Error| Failure::Invalid(in_file(proof_path)(e));
    let proof_bytes = read_small(proof_path, "a consistency proof", ResultCode::MEDSEAL_LEDGER_PROOF_INVALID)?;
    let proof = ledger::decode_consistency_proof(&proof_bytes).map_err(invalid)?;
    if (proof.first, proof.second) != (old.tree_size, new.tree_size) {
        return Err(invalid(medseal::Error::new(
            ResultCode::MEDSEAL_LEDGER_PROOF_INVALID,
            format!(
                "the proof is from {} to {} entries, but the tree heads are of {} and {}",
                proof.first, proof.second, old.tree_size, new.tree_size
            ),
        )));
    }
    let path = ledger::hashes(&proof.path, "the consistency proof").map_err(invalid)?;
    ledger::verify_consistency(old.tree_size, new.tree_size, &old.root_hash, &new.root_hash, &path).map_err(invalid)?;
    let summary = format!(
        "valid: the ledger of {} entries ({}) is a prefix of the ledger of {} entries ({})\n",
        old.tree_size,
        show_time(old.timestamp),
        new.tree_size,
        show_time(new.timestamp)
    );
    io::write_stdout(summary.as_bytes())
}
