//! Delivery from the outbox: claim a batch, submit it, verify each receipt, and mark every
//! record delivered, dead or queued for a retry. Driven by explicit calls ([`deliver_once`],
//! [`deliver_all`]) or by a background thread ([`Deliverer`]).
//!
//! Never two deliveries of one record in flight: records are claimed (`in_flight`, with a
//! lease) in the transaction that selects them, and the transport's total timeout is kept below
//! the lease. A record whose claim ran out (a crashed deliverer) is sent again, and the hub's
//! idempotency answers `DUPLICATE` with the original receipt.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use prost::Message;

use super::client::{submitted, unix_now, Failure, Outcome, MAX_BATCH_BYTES};
use super::retry::{next_attempt_at, Backoff, Jitter, BACKOFF_CAP_SECS};
use super::Transport;
use crate::error::{err, Error, Result};
use crate::ledger;
use crate::outbox::{Claimed, Delivery, Outbox};
use crate::wire::{self, RecordStatus};

/// What one delivery run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Records the hub acknowledged with a receipt that verified (duplicates included).
    pub delivered: u64,
    /// Of those, records the hub already had (`DUPLICATE`, with the original receipt).
    pub duplicates: u64,
    /// Records moved to dead letters (refused by the hub, with its code and reason).
    pub dead_letters: u64,
    /// Records left queued for a later attempt (transport failure, or a receipt that did not
    /// verify).
    pub retried: u64,
    /// When the next record becomes due (Unix seconds), if any is waiting.
    pub next_attempt_at: Option<i64>,
    /// The last transport or protocol error met, if any (the records stay queued, or became
    /// dead letters for `MEDSEAL_TRANSPORT_REJECTED`).
    pub last_error: Option<Error>,
}

impl DeliveryReport {
    fn add(&mut self, other: DeliveryReport) {
        self.delivered += other.delivered;
        self.duplicates += other.duplicates;
        self.dead_letters += other.dead_letters;
        self.retried += other.retried;
        self.next_attempt_at = earliest(self.next_attempt_at, other.next_attempt_at);
        if other.last_error.is_some() {
            self.last_error = other.last_error;
        }
    }

    fn retry_at(&mut self, at: i64) {
        self.retried += 1;
        self.next_attempt_at = earliest(self.next_attempt_at, Some(at));
    }
}

fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// One claimed batch, as delivered.
struct Round {
    report: DeliveryReport,
    claimed: usize,
    /// The whole request failed and should not be repeated with other records before this
    /// time (the hub is down, refuses our certificate, …).
    paused_until: Option<i64>,
}

/// Claims one batch of due records (at most the transport's batch size) at `now` (Unix
/// seconds), submits it, verifies the receipts and marks each record. When nothing is due,
/// the report's `next_attempt_at` says when something will be. Errors are the outbox's
/// (`MEDSEAL_OUTBOX_*`); transport and protocol failures are in the report's `last_error`.
pub fn deliver_once(outbox: &Outbox, transport: &Transport, now: i64) -> Result<DeliveryReport> {
    let round = round(outbox, transport, now)?;
    let mut report = round.report;
    if round.claimed == 0 {
        report.next_attempt_at = earliest(report.next_attempt_at, outbox.status()?.next_attempt_at);
    }
    Ok(report)
}

/// Delivers batch after batch until nothing is due now, or a whole batch failed (the hub is
/// unreachable, refuses the connection, ...: the other records wait too, instead of each
/// batch hammering it). The report adds up every batch; its `next_attempt_at` is when the
/// next record becomes due.
pub fn deliver_all(outbox: &Outbox, transport: &Transport) -> Result<DeliveryReport> {
    Ok(deliver_until(outbox, transport, &|| false)?.0)
}

/// [`deliver_all`], checking `stop` between batches; also returns when a failed batch asks
/// delivery to pause.
fn deliver_until(outbox: &Outbox, transport: &Transport, stop: &dyn Fn() -> bool) -> Result<(DeliveryReport, Option<i64>)> {
    let mut report = DeliveryReport::default();
    let mut paused_until = None;
    loop {
        let round = round(outbox, transport, unix_now())?;
        report.add(round.report);
        if round.claimed == 0 || round.paused_until.is_some() || stop() {
            paused_until = round.paused_until.or(paused_until);
            break;
        }
    }
    report.next_attempt_at = earliest(report.next_attempt_at, outbox.status()?.next_attempt_at);
    Ok((report, paused_until))
}

fn round(outbox: &Outbox, transport: &Transport, now: i64) -> Result<Round> {
    // A submission must end before the claim does, or another deliverer could send the same
    // records while this one still waits for the hub.
    let (timeout, lease) = (transport.config().timeout(), outbox.config().lease);
    if timeout >= lease {
        return Err(err!(
            MEDSEAL_TRANSPORT_CONFIG,
            "the transport's timeout ({} s) must be shorter than the outbox lease ({} s), or a record could be in flight twice",
            timeout.as_secs_f64(),
            lease.as_secs_f64()
        ));
    }
    let claimed = outbox.claim(transport.config().batch_size(), now)?;
    let mut round = Round { report: DeliveryReport::default(), claimed: claimed.len(), paused_until: None };
    // A batch body stays under the protocol's 64 MiB: split the claim if its envelopes are big.
    let mut start = 0;
    while start < claimed.len() {
        let mut end = start;
        let mut bytes = 0usize;
        while end < claimed.len() {
            let size = claimed[end].envelope.len() + claimed[end].record_id.len() + 64;
            if end > start && bytes + size > MAX_BATCH_BYTES - 4096 {
                break;
            }
            bytes += size;
            end += 1;
        }
        deliver_batch(outbox, transport, &claimed[start..end], now, &mut round)?;
        start = end;
    }
    Ok(round)
}

fn deliver_batch(outbox: &Outbox, transport: &Transport, batch: &[Claimed], now: i64, round: &mut Round) -> Result<()> {
    let request = wire::SubmitBatch { records: batch.iter().map(submitted).collect() };
    let report = &mut round.report;
    let results = match transport.submit_batch(&request, now) {
        Ok(results) => results,
        Err(Failure { error, outcome }) => {
            match &outcome {
                Outcome::Retry { backoff, not_before } => {
                    let mut first = None;
                    let jitter = Jitter::draw();
                    for record in batch {
                        let at = next_attempt_at(now, record.attempts, *backoff, *not_before, jitter);
                        if marked(outbox.mark_retry(record.outbox_id, at, &error.to_string()), report)? {
                            report.retry_at(at);
                            first = earliest(first, Some(at));
                        }
                    }
                    round.paused_until = first;
                }
                Outcome::DeadLetter { code, reason } => {
                    for record in batch {
                        if marked(outbox.mark_dead(record.outbox_id, code, reason), report)? {
                            report.dead_letters += 1;
                        }
                    }
                    // A hub that refuses whole requests (not enrolled, wrong path, too large)
                    // is usually misconfigured: the other records are not fed to it now.
                    round.paused_until = Some(now.saturating_add(BACKOFF_CAP_SECS));
                }
            }
            report.last_error = Some(error);
            return Ok(());
        }
    };
    let config = transport.config();
    let jitter = Jitter::draw();
    for (record, result) in batch.iter().zip(results) {
        let status = RecordStatus::try_from(result.status).unwrap_or(RecordStatus::Unspecified);
        let checked = match status {
            RecordStatus::Accepted | RecordStatus::Duplicate => check_receipt(record, &result, config).map(Some),
            RecordStatus::Rejected => Ok(None),
            // The transport checked every status already; kept safe all the same.
            RecordStatus::Unspecified => {
                Err(err!(MEDSEAL_TRANSPORT_PROTOCOL, "the hub's result for record {:?} has no status", record.record_id))
            }
        };
        match checked {
            Ok(Some(inclusion)) => {
                let duplicate = status == RecordStatus::Duplicate;
                let delivery = Delivery { receipt: result.receipt, inclusion: inclusion.encode_to_vec(), duplicate, delivered_at: now };
                if marked(outbox.mark_delivered(record.outbox_id, &delivery), report)? {
                    report.delivered += 1;
                    report.duplicates += u64::from(duplicate);
                }
            }
            Ok(None) => {
                let code = if result.code.trim().is_empty() { "UNSPECIFIED" } else { result.code.trim() };
                let reason = if result.reason.trim().is_empty() { "the hub gave no reason" } else { result.reason.trim() };
                if marked(outbox.mark_dead(record.outbox_id, code, reason), report)? {
                    report.dead_letters += 1;
                }
            }
            Err(error) => {
                let at = next_attempt_at(now, record.attempts, Backoff::Exponential, None, jitter);
                if marked(outbox.mark_retry(record.outbox_id, at, &error.to_string()), report)? {
                    report.retry_at(at);
                }
                report.last_error = Some(error);
            }
        }
    }
    Ok(())
}

/// The result of marking one record: `Ok(true)` when marked; `Ok(false)` when the record had
/// changed state meanwhile (its claim ran out and another deliverer took it over: that one
/// marks it), noted in the report; outbox failures (I/O, busy) end the run.
fn marked(result: Result<()>, report: &mut DeliveryReport) -> Result<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.code() == crate::ResultCode::MEDSEAL_OUTBOX_STATE => {
            report.last_error = Some(e);
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Verifies an ACCEPTED or DUPLICATE result: the receipt with the hub's receipt key, for this
/// record id, digest and sequence number, and its inclusion proof to a tree head signed by the
/// hub's tree-head key. Any failure is `MEDSEAL_TRANSPORT_PROTOCOL` naming the record.
fn check_receipt(record: &Claimed, result: &wire::RecordResult, config: &super::TransportConfig) -> Result<wire::InclusionProof> {
    let id = &record.record_id;
    let inclusion = result.inclusion.clone().ok_or_else(|| {
        err!(MEDSEAL_TRANSPORT_PROTOCOL, "the hub acknowledged record {id:?} without an inclusion proof; it stays queued")
    })?;
    let receipt = ledger::verify_receipt(
        result.receipt.as_bytes(),
        &inclusion,
        config.receipt_keys(),
        config.tree_head_keys(),
        Some(id),
        Some(&record.digest),
    )
    .map_err(|e| err!(MEDSEAL_TRANSPORT_PROTOCOL, "the hub's receipt for record {id:?} does not verify, so it stays queued: {e}"))?;
    if receipt.sequence != record.sequence {
        return Err(err!(
            MEDSEAL_TRANSPORT_PROTOCOL,
            "the hub's receipt for record {id:?} names sequence number {}, but the record has {}; it stays queued",
            receipt.sequence,
            record.sequence
        ));
    }
    Ok(inclusion)
}

/// A background thread delivering from an outbox: a round when started, when notified
/// ([`notify`](Self::notify), e.g. after each enqueue), when a queued record becomes due, and
/// at least every `poll_interval`. After a whole batch failed (hub down, certificate refused)
/// it waits for that batch's next attempt before trying any other record. Stopping (or
/// dropping) lets the batch in progress finish.
pub struct Deliverer {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    stop: bool,
    notified: bool,
    last: Option<DeliveryReport>,
    rounds: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic never happens while the lock is held (rounds run unlocked).
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Deliverer").field("stopped", &state.stop).field("rounds", &state.rounds).finish()
    }
}

impl Deliverer {
    /// Starts the thread (`medseal-deliverer`). `poll_interval` is the longest it sleeps
    /// between rounds (at least 10 ms).
    pub fn start(outbox: Arc<Outbox>, transport: Arc<Transport>, poll_interval: Duration) -> Result<Deliverer> {
        let poll_interval = poll_interval.max(Duration::from_millis(10));
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), wake: Condvar::new() });
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("medseal-deliverer".to_owned())
            .spawn(move || run(&thread_shared, &outbox, &transport, poll_interval))
            .map_err(|e| err!(MEDSEAL_SYSTEM_ERROR, "cannot start the delivery thread: {e}"))?;
        Ok(Deliverer { shared, thread: Mutex::new(Some(thread)) })
    }

    /// Asks for a round now (after an enqueue). Returns at once; safe from any thread. Has no
    /// effect while delivery pauses after a failed batch.
    pub fn notify(&self) {
        self.shared.lock().notified = true;
        self.shared.wake.notify_all();
    }

    /// Stops the thread and waits for it: a batch in progress is finished and marked first.
    /// Later calls do nothing.
    pub fn stop(&self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(handle) = handle {
            if handle.thread().id() != std::thread::current().id() {
                let _ = handle.join();
            }
        }
    }

    /// The report of the last round, if one ran.
    pub fn last_report(&self) -> Option<DeliveryReport> {
        self.shared.lock().last.clone()
    }

    /// How many rounds have run.
    pub fn rounds(&self) -> u64 {
        self.shared.lock().rounds
    }
}

impl Drop for Deliverer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(shared: &Shared, outbox: &Outbox, transport: &Transport, poll_interval: Duration) {
    loop {
        {
            let mut state = shared.lock();
            if state.stop {
                return;
            }
            state.notified = false;
        }
        let stop = || shared.lock().stop;
        let outcome = catch_unwind(AssertUnwindSafe(|| deliver_until(outbox, transport, &stop)));
        let (report, paused_until) = match outcome {
            Ok(Ok(done)) => done,
            Ok(Err(error)) => (DeliveryReport { last_error: Some(error), ..DeliveryReport::default() }, None),
            Err(_) => {
                let error =
                    err!(MEDSEAL_PANIC, "the delivery thread panicked (a bug; please report it); it goes on after the poll interval");
                (DeliveryReport { last_error: Some(error), ..DeliveryReport::default() }, None)
            }
        };
        let started = Instant::now();
        let mut deadline = started + poll_interval;
        if let Some(at) = report.next_attempt_at {
            deadline = deadline.min(started + until(at));
        }
        let paused = paused_until.map(|at| started + until(at));
        if let Some(pause) = paused {
            deadline = pause;
        } else if report.delivered + report.dead_letters + report.retried == 0 {
            // Nothing was due although something seemed to be (a claim racing another
            // process): never spin.
            deadline = deadline.max(started + Duration::from_millis(100));
        }
        let mut state = shared.lock();
        state.last = Some(report);
        state.rounds += 1;
        loop {
            if state.stop || (state.notified && paused.map_or(true, |p| Instant::now() >= p)) {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = shared.wake.wait_timeout(state, deadline - now).map(|(s, _)| s).unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

/// How long until Unix time `at` (zero if past).
fn until(at: i64) -> Duration {
    let target = UNIX_EPOCH + Duration::from_secs(at.max(0) as u64);
    target.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO)
}
