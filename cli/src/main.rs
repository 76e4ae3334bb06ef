//! `medseal`: canonicalize, sign, verify, seal and open health records from the shell, for
//! auditors and admins. A thin layer over the `medseal` library: every check and every message about the
//! data comes from the library, so the tool and the C ABI never disagree.
//!
//! Exit codes: 0 success, 1 bad input or failed verification, 2 usage error (clap's), and
//! `medseal audit`'s 3 (the audit could not run: docs/AUDIT.md). With
//! `--json`, a failure is written as `{"code": "MEDSEAL_…", "message": …}` on standard output
//! (docs/CLI_JSON.md), with the same exit code.

mod audit;
mod canon;
mod deliver;
mod facility;
mod hub;
mod io;
mod json;
mod key;
mod open;
mod outbox;
mod receipt;
mod seal;
mod sign;
mod trust;
mod verify;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Canonical JSON (RFC 8785), keys, JWS/JAdES signatures and HPKE sealed envelopes for health
/// records.
#[derive(Parser)]
#[command(name = "medseal", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Audit(audit::Args),
    Canon(canon::Args),
    #[command(subcommand)]
    Key(key::Command),
    Sign(sign::Args),
    Verify(verify::Args),
    Seal(seal::Args),
    Open(open::Args),
    #[command(subcommand)]
    Trust(trust::Command),
    #[command(subcommand)]
    Outbox(outbox::Command),
    #[command(subcommand)]
    Receipt(receipt::Command),
    #[command(subcommand)]
    Ledger(receipt::LedgerCommand),
    #[command(subcommand)]
    Facility(facility::Command),
    #[command(subcommand)]
    Hub(hub::Command),
}

/// Why a command failed. Kept apart from printing so commands stay testable and quiet.
pub enum Failure {
    /// A library error; its message already says where (line and column, field, file).
    Medseal(medseal::Error),
    /// A JWS that did not verify: reported as `invalid`, not as a tool error.
    Invalid(medseal::Error),
    /// Anything without a medseal code (files, stdout).
    Other(String),
    /// stdout was closed by the reader (`| head`): nothing useful left to say.
    BrokenPipe,
    /// Already reported in the command's own output (e.g. one result per file): exit 1 only.
    Reported,
    /// A stated exit code other than 1 (e.g. `medseal audit`'s 3: the audit could not run),
    /// with its message.
    Exit(u8, String),
}

impl From<medseal::Error> for Failure {
    fn from(e: medseal::Error) -> Self {
        Failure::Medseal(e)
    }
}

/// Reports a usage problem clap cannot see on its own, with `subcommand`'s usage line and
/// exit code 2, exactly like clap's own errors.
pub fn usage_error(subcommand: &str, message: &str) -> ! {
    let mut cli = Cli::command();
    cli.build(); // gives subcommands their full "medseal <name>" usage
    let command = cli.find_subcommand_mut(subcommand).expect("known subcommand");
    command.error(clap::error::ErrorKind::ArgumentConflict, message).exit()
}

/// Like `usage_error`, for `medseal <group> <subcommand>` (e.g. `medseal trust create`).
pub fn nested_usage_error(group: &str, subcommand: &str, message: &str) -> ! {
    let mut cli = Cli::command();
    cli.build();
    let group = cli.find_subcommand_mut(group).expect("registered group");
    let command = group.find_subcommand_mut(subcommand).expect("known subcommand");
    command.error(clap::error::ErrorKind::ArgumentConflict, message).exit()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Audit(args) => audit::run(args),
        Command::Canon(args) => canon::run(args),
        Command::Key(command) => key::run(command),
        Command::Sign(args) => sign::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Seal(args) => seal::run(args),
        Command::Open(args) => open::run(args),
        Command::Trust(command) => trust::run(command),
        Command::Outbox(command) => outbox::run(command),
        Command::Receipt(command) => receipt::run(command),
        Command::Ledger(command) => receipt::run_ledger(command),
        Command::Facility(command) => facility::run(command),
        Command::Hub(command) => hub::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) if json::enabled() => {
            if let Some(value) = json::failure(&failure) {
                let _ = io::write_stdout(&json::line(&value));
            }
            ExitCode::FAILURE
        }
        Err(failure) => {
            match failure {
                // Error's Display is "<message> (<CODE_NAME>)".
                Failure::Medseal(e) => eprintln!("medseal: error: {e}"),
                Failure::Invalid(e) => eprintln!("medseal: invalid: {e}"),
                Failure::Other(message) => eprintln!("medseal: error: {message}"),
                Failure::BrokenPipe | Failure::Reported => {}
                Failure::Exit(code, message) => {
                    eprintln!("medseal: error: {message}");
                    return ExitCode::from(code);
                }
            }
            ExitCode::FAILURE
        }
    }
}
