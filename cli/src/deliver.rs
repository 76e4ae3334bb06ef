//! `medseal outbox deliver`: sends the outbox's due records to the hub over mutual TLS
//! (docs/SUBMISSION.md), with the facility directory `medseal hub enroll` wrote: its client
//! certificate and key, the hub's CA (pinned), receipt and tree-head keys. Every receipt is
//! verified before a record counts as delivered. The delivery rules (batches, retries,
//! dead letters) are the library's (`medseal::transport`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use medseal::canon::{self, CanonOptions};
use medseal::outbox::Outbox;
use medseal::transport::{deliver_all, deliver_once, DeliveryReport, Transport, TransportConfigBuilder};
use medseal::utc::{self, show as show_time};

use crate::{io, Failure};

/// Deliver queued records to the hub over mutual TLS.
///
/// By default every record due now is sent, batch after batch, until none is due or a whole
/// batch failed (the hub unreachable or refusing our certificate: the records wait for their
/// next attempt, with backoff). --once sends one batch; --until-empty keeps going, waiting for
/// retries, until no record is queued or in flight (stop it with ctrl-c).
///
/// The facility directory (from `medseal hub enroll`) holds client.pem, client.key,
/// hub-ca.pem, receipt.pub, tree-head.pub and facility.json, whose hub_url is used unless
/// --hub is given. A TLS client key on a PKCS#11 token (--tls-pkcs11-module,
/// --tls-pkcs11-token, --tls-key-label; the PIN from MEDSEAL_PKCS11_PIN or the terminal) is
/// used instead of client.key. Prints what happened:
///   delivered: N (duplicates: N), dead letters: N, retried: N
/// then `next attempt: TIME` when records wait, and the last transport error if any.
/// Exit status 1 when a record could not be delivered (retried later, or a dead letter).
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(flatten)]
    file: crate::outbox::OutboxFile,
    /// The facility directory written by `medseal hub enroll`.
    #[arg(long, value_name = "DIR")]
    facility_dir: PathBuf,
    /// The hub's base URL (https://HOST:PORT); default: hub_url in facility.json.
    #[arg(long, value_name = "URL")]
    hub: Option<String>,
    /// Send one batch only.
    #[arg(long, conflicts_with = "until_empty")]
    once: bool,
    /// Keep delivering, waiting for retries, until nothing is queued or in flight.
    #[arg(long)]
    until_empty: bool,
    /// Records per batch (1 to 1000).
    #[arg(long, value_name = "N", default_value_t = 100)]
    batch_size: usize,
    /// Total timeout of one batch, in seconds (connect included); below the outbox lease
    /// (60 s), so that a record is never in flight twice.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=59))]
    timeout: u64,
    /// Go through this HTTP CONNECT proxy (http://[user:password@]host:port).
    #[arg(long, value_name = "URL", conflicts_with = "proxy_from_env")]
    proxy: Option<String>,
    /// Take the proxy from HTTPS_PROXY / ALL_PROXY, honouring NO_PROXY.
    #[arg(long)]
    proxy_from_env: bool,
    /// Print canonical JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    tls_token: crate::facility::TlsTokenArgs,
}

pub fn run(args: Args) -> Result<(), Failure> {
    crate::json::enable(args.json);
    let outbox = Outbox::open_existing(&args.file.outbox)?;
    let facility = read_facility(&args.facility_dir)?;
    if let Some((facility, _)) = &facility {
        if facility != outbox.source() {
            return Err(Failure::Other(format!(
                "the outbox {} belongs to facility \"{}\", but {} is enrolled as \"{facility}\": the hub would refuse every record",
                args.file.outbox.display(),
                outbox.source(),
                args.facility_dir.display()
            )));
        }
    }
    let url = match (&args.hub, facility.and_then(|(_, url)| url)) {
        (Some(url), _) => url.clone(),
        (None, Some(url)) => url,
        (None, None) => {
            return Err(Failure::Other(format!(
                "no hub URL: give --hub, or a facility.json with hub_url in {}",
                args.facility_dir.display()
            )))
        }
    };
    let mut builder = TransportConfigBuilder::new(&url)?;
    // A token key first: the facility directory then holds no client.key.
    if let Some(config) = args.tls_token.config()? {
        builder.client_key_pkcs11(&config)?;
    }
    builder.facility_dir(&args.facility_dir)?;
    builder.batch_size(args.batch_size)?;
    let timeout = Duration::from_secs(args.timeout);
    builder.connect_timeout(timeout.min(Duration::from_secs(10)))?.timeout(timeout)?;
    if let Some(proxy) = &args.proxy {
        builder.proxy(proxy)?;
    } else {
        builder.proxy_from_env(args.proxy_from_env);
    }
    let transport = Transport::new(builder.build()?)?;

    let report = if args.once {
        deliver_once(&outbox, &transport, utc::now())?
    } else if args.until_empty {
        until_empty(&outbox, &transport)?
    } else {
        deliver_all(&outbox, &transport)?
    };
    let out = if args.json { json(&report) } else { text(&report) };
    io::write_stdout(out.as_bytes())?;
    let failed = report.last_error.is_some() || report.dead_letters > 0 || report.retried > 0;
    if args.json {
        // The report says why (last_error and the counts): the exit code is all that is left.
        return if failed { Err(Failure::Reported) } else { Ok(()) };
    }
    match &report.last_error {
        Some(error) => Err(Failure::Medseal(error.clone())),
        None if report.dead_letters > 0 => Err(Failure::Other(format!(
            "{} record(s) refused by the hub are dead letters: see `medseal outbox dead-letters --outbox {}`",
            report.dead_letters,
            args.file.outbox.display()
        ))),
        None if report.retried > 0 => Err(Failure::Other(format!("{} record(s) wait for another attempt", report.retried))),
        None => Ok(()),
    }
}

/// Delivers until nothing is queued or in flight, sleeping until the next attempt between
/// runs. Progress goes to standard error.
fn until_empty(outbox: &Outbox, transport: &Transport) -> Result<DeliveryReport, Failure> {
    let mut total = DeliveryReport::default();
    loop {
        let report = deliver_all(outbox, transport)?;
        total.delivered += report.delivered;
        total.duplicates += report.duplicates;
        total.dead_letters += report.dead_letters;
        total.retried += report.retried;
        total.next_attempt_at = report.next_attempt_at;
        if report.last_error.is_some() {
            total.last_error = report.last_error.clone();
        }
        let status = outbox.status()?;
        if status.queued == 0 && status.in_flight == 0 {
            // Every record reached the hub or became a dead letter: earlier errors are history.
            total.last_error = None;
            total.retried = 0;
            return Ok(total);
        }
        let wait = status.next_attempt_at.map_or(1, |at| (at - utc::now()).clamp(0, 300)) as u64;
        if let Some(error) = &report.last_error {
            eprintln!("medseal: {} queued, next attempt in {wait} s: {error}", status.queued + status.in_flight);
        }
        std::thread::sleep(Duration::from_secs(wait).max(Duration::from_millis(200)));
    }
}

/// facility.json: the facility id and the hub URL, if the file is there.
fn read_facility(dir: &Path) -> Result<Option<(String, Option<String>)>, Failure> {
    let path = dir.join("facility.json");
    if !path.exists() {
        return Ok(None);
    }
    let bytes = io::read_input(Some(&path), 1 << 20)?;
    let value = canon::parse(&bytes, &CanonOptions::plain())
        .map_err(|e| Failure::Other(format!("{} is not valid JSON: {}", path.display(), e.message())))?;
    let text = |k: &str| value.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let facility = text("facility").ok_or_else(|| Failure::Other(format!("{} has no \"facility\"", path.display())))?;
    Ok(Some((facility, text("hub_url"))))
}

fn text(r: &DeliveryReport) -> String {
    let mut out =
        format!("delivered: {} (duplicates: {}), dead letters: {}, retried: {}\n", r.delivered, r.duplicates, r.dead_letters, r.retried);
    if let Some(at) = r.next_attempt_at {
        out.push_str(&format!("next attempt: {}\n", show_time(at)));
    }
    out
}

/// The counts: `dead_letter` (records that became dead letters, named by that state as
/// everywhere in the CLI's JSON; `dead_letters` before), `delivered`, `duplicates`, `retried`.
fn json(r: &DeliveryReport) -> String {
    let error = r.last_error.as_ref().map_or(serde_json::Value::Null, |e| serde_json::Value::Object(crate::json::error_members(e)));
    let value = serde_json::json!({
        "dead_letter": r.dead_letters,
        "delivered": r.delivered,
        "duplicates": r.duplicates,
        "last_error": error,
        "next_attempt_at": crate::json::time_or_null(r.next_attempt_at),
        "retried": r.retried,
    });
    String::from_utf8(crate::json::line(&value)).expect("JSON is UTF-8")
}
