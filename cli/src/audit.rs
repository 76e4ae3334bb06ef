//! `medseal audit`: the auditor's check of an exported bundle, trusting nothing the hub says
//! about itself (docs/AUDIT.md). The work is `medseal_audit::run`; this file parses options,
//! shows progress on a terminal, writes the reports and chooses the exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use medseal::{Key, Serialization, SignOptions, Signer};
use medseal_audit::run::{self, Options};

use crate::Failure;

/// The JWS `typ` of a signed audit report (a detached JWS over the JSON report's bytes).
pub const REPORT_TYP: &str = "medseal-audit-report+jws";

/// Audit an exported bundle offline (docs/AUDIT.md): rebuild the log from its entries and hold
/// every signed tree head to it, hold it to tree heads and outboxes obtained from hospitals,
/// verify every record at its own trusted time, and count each facility's sequence numbers.
///
/// Exit codes: 0 everything verified, complete and consistent; 1 findings (listed on stdout
/// and in the reports); 2 usage error; 3 the audit could not run (the bundle or an input
/// unreadable or not what it should be). A progress bar is shown on a terminal only.
#[derive(Parser)]
pub struct Args {
    /// The bundle's folder (`medseal hub export`).
    #[arg(value_name = "BUNDLE")]
    bundle: PathBuf,
    /// Tree heads obtained outside the bundle: signed tree heads or receipts (compact JWS, one
    /// per line) or `medseal outbox tree-heads --json`. Repeatable.
    #[arg(long = "tree-head", value_name = "FILE")]
    tree_heads: Vec<PathBuf>,
    /// A hospital's outbox file (read, never written): its receipts and tree heads. Repeatable.
    #[arg(long = "outbox", value_name = "FILE")]
    outboxes: Vec<PathBuf>,
    /// The auditor's escrow private key (X25519): opens records sealed to it.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// The hub's tree-head public key as you know it (not from the bundle).
    #[arg(long, value_name = "FILE")]
    tree_head_key: Option<PathBuf>,
    /// The hub's receipt public key as you know it (not from the bundle).
    #[arg(long, value_name = "FILE")]
    receipt_key: Option<PathBuf>,
    /// A trust-list public key as you know it (the health department's). Repeatable.
    #[arg(long = "trust-list-key", value_name = "FILE")]
    trust_list_keys: Vec<PathBuf>,
    /// Judge everything at TIME (RFC 3339, e.g. 2036-12-05T00:00:00Z) instead of now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<i64>,
    /// Write the JSON report here (one result per record); `-` for standard output (then no
    /// summary is printed).
    #[arg(long = "json", value_name = "REPORT.json")]
    json: Option<PathBuf>,
    /// Write the HTML report here (a page to file).
    #[arg(long = "html", value_name = "REPORT.html")]
    html: Option<PathBuf>,
    /// Sign the JSON report with this private key: REPORT.json.jws, a detached JWS (typ
    /// medseal-audit-report+jws) over the report's exact bytes.
    #[arg(long, value_name = "KEY", requires = "json")]
    sign_report: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=1024))]
    threads: u16,
}

fn parse_time(text: &str) -> Result<i64, String> {
    medseal::utc::parse(text).ok_or_else(|| format!("{text:?} is not an RFC 3339 time (e.g. 2036-12-05T00:00:00Z)"))
}

/// Standard output failing is exit 3 too (a clean audit must not look like findings); a
/// closed pipe stays the quiet end it is for every command.
fn output_failed(failure: Failure) -> Failure {
    match failure {
        Failure::Other(message) => could_not_run(message),
        other => other,
    }
}

/// Exit 3: the audit could not run.
fn could_not_run(message: impl std::fmt::Display) -> Failure {
    Failure::Exit(3, format!("the audit could not run: {message}"))
}

pub fn run(args: Args) -> Result<(), Failure> {
    let to_stdout = args.json.as_deref() == Some(std::path::Path::new("-"));
    if to_stdout && args.sign_report.is_some() {
        crate::usage_error("audit", "--sign-report needs --json REPORT.json (a file, not standard output)");
    }
    // The signing key is read first: a typo should not cost a whole audit.
    let report_signer = match &args.sign_report {
        None => None,
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| could_not_run(format!("{}: {e}", path.display())))?;
            let key = Key::import(&bytes, None).map_err(|e| could_not_run(format!("{}: {}", path.display(), e.message())))?;
            let options = SignOptions { typ: Some(REPORT_TYP.into()), ..SignOptions::default() };
            Some(Signer::new(Arc::new(key), options).map_err(|e| could_not_run(format!("{}: {}", path.display(), e.message())))?)
        }
    };
    let progress = progress_bar(&args);
    let options = Options {
        bundle: args.bundle.clone(),
        tree_heads: args.tree_heads.clone(),
        outboxes: args.outboxes.clone(),
        escrow_key: args.key.clone(),
        tree_head_key: args.tree_head_key.clone(),
        receipt_key: args.receipt_key.clone(),
        trust_list_keys: args.trust_list_keys.clone(),
        at: args.at,
        threads: usize::from(args.threads),
        progress: progress.as_ref().map(|bar| {
            let bar = bar.clone();
            Arc::new(move |done: u64| bar.set_position(done)) as medseal_audit::records::Progress
        }),
        tool: format!("medseal {}", env!("CARGO_PKG_VERSION")),
    };
    let audit = run::run(&options);
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let audit = audit.map_err(could_not_run)?;

    if let Some(path) = &args.json {
        let mut bytes = Vec::new();
        audit.write_json(&mut bytes).map_err(could_not_run)?;
        if to_stdout {
            crate::io::write_stdout(&bytes).map_err(output_failed)?;
        } else {
            crate::io::write_file(path, &bytes).map_err(could_not_run)?;
        }
        if let Some(signer) = &report_signer {
            let jws = signer.sign_payload(&bytes, Serialization::DetachedCompact).map_err(|e| could_not_run(e.message()))?;
            let mut name = path.clone().into_os_string();
            name.push(".jws");
            crate::io::write_file(&PathBuf::from(name), format!("{jws}\n").as_bytes()).map_err(could_not_run)?;
        }
    }
    if let Some(path) = &args.html {
        let page = audit.html().map_err(could_not_run)?;
        crate::io::write_file(path, page.as_bytes()).map_err(could_not_run)?;
    }

    let report = &audit.report;
    let s = &report.summary;
    let mut text = format!(
        "{}: {} entries, {} records ({} passed, {} failed, {} indeterminate), {} withdrawn, {} facilities, judged at {}\n",
        if audit.passed() { "PASSED" } else { "FAILED" },
        s.entries,
        s.records,
        s.passed,
        s.failed,
        s.indeterminate,
        s.withdrawn,
        s.facilities,
        report.at
    );
    if s.not_checked > 0 {
        text.push_str(&format!("{} ledger entries are outside the export's selection and were not checked\n", s.not_checked));
    }
    for finding in report.findings.iter().take(50) {
        // Messages quote the bundle's text already escaped by the audit's one rule.
        text.push_str(&format!("finding: {}: {}\n", finding.code, medseal::untrusted::shown_max(&finding.message, 400)));
    }
    if report.findings.len() > 50 {
        text.push_str(&format!("... and {} more findings (see the JSON report)\n", report.findings.len() - 50));
    }
    if !to_stdout {
        crate::io::write_stdout(text.as_bytes()).map_err(output_failed)?;
    }
    if audit.passed() {
        Ok(())
    } else {
        Err(Failure::Reported)
    }
}

/// A progress bar on stderr when it is a terminal (nothing otherwise), sized from the
/// manifest's entry count.
fn progress_bar(args: &Args) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let total = medseal_audit::bundle::Bundle::open(&args.bundle).ok()?.manifest().ledger.entries;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} records, {per_sec}, {eta} left")
            .ok()?
            .progress_chars("=> "),
    );
    Some(bar)
}
