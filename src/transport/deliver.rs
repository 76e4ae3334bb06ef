//! Delivery from the outbox: claim a batch, submit it, verify each receipt, and mark every
//! record delivered, dead or queued for a retry. Driven by explicit calls ([`deliver_once`],
//! [`deliver_all`]) or by a background thread ([`Deliverer`]).
//!
//! Per batch: one outbox transaction claims it, one request carries it, its receipts are
//! verified together (a tree head shared by the batch is verified once, every receipt and
//! audit path on its own), and one outbox transaction records every record's result
//! ([`Outbox::mark_batch`]): two disk syncs per batch, not one per record. A crash before that
//! commit leaves the batch in flight; its lease runs out and the hub answers the repeat with
//! `DUPLICATE` and the original receipts. In [`deliver_all`] and the [`Deliverer`], once a batch
//! is answered the next one is claimed and sent (by a helper thread) while this one is verified
//! and recorded, so that the hub and the outbox work at the same time; still one request at a
//! time, and nothing is sent after a batch that failed as a whole.
//!
//! Never two deliveries of one record in flight: records are claimed (`in_flight`, with a
//! lease) in the transaction that selects them, and the transport's total timeout is kept below
//! the lease. A record whose claim ran out (a crashed deliverer) is sent again, and the hub's
//! idempotency answers `DUPLICATE` with the original receipt.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prost::Message;

use super::client::{submitted, Failure, Outcome, MAX_BATCH_BYTES};
use super::retry::{next_attempt_at, Backoff, Jitter, BACKOFF_CAP_SECS};
use super::Transport;
use crate::error::{err, Error, Result};
use crate::ledger;
use crate::outbox::{Claimed, Delivery, Mark, Outbox};
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
///
/// Once a batch has been answered, the next one is claimed and sent while this one's receipts
/// are verified and its results recorded (on a helper thread, joined before the next step):
/// the hub works on one batch while the outbox finishes the previous. Still one request at a
/// time, and no batch is sent after one that failed as a whole.
pub fn deliver_all(outbox: &Outbox, transport: &Transport) -> Result<DeliveryReport> {
    Ok(deliver_until(outbox, transport, &|| false)?.0)
}

/// [`deliver_all`], checking `stop` before each new batch; also returns when a failed batch
/// asks delivery to pause.
fn deliver_until(outbox: &Outbox, transport: &Transport, stop: &dyn Fn() -> bool) -> Result<(DeliveryReport, Option<i64>)> {
    let mut report = DeliveryReport::default();
    let mut paused_until = None;
    let mut next = Some(claim_and_submit(outbox, transport, crate::utc::now())?);
    while let Some(current) = next.take() {
        // The next batch goes only after this one was answered in full, and not when asked to
        // stop or when nothing was due.
        let go_on = !current.claimed.is_empty() && current.answered() && !stop();
        let (finished, following) = if go_on {
            std::thread::scope(|scope| {
                let helper = std::thread::Builder::new()
                    .name("medseal-deliver-next".to_owned())
                    .spawn_scoped(scope, || claim_and_submit(outbox, transport, crate::utc::now()));
                match helper {
                    Ok(helper) => {
                        let finished = finish(outbox, transport, current);
                        let following = helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                        (finished, Some(following))
                    }
                    // No thread to be had: this batch is finished first, then the next one.
                    Err(_) => {
                        let finished = finish(outbox, transport, current);
                        let following = finished.is_ok().then(|| claim_and_submit(outbox, transport, crate::utc::now()));
                        (finished, following)
                    }
                }
            })
        } else {
            (finish(outbox, transport, current), None)
        };
        let round = match finished {
            Ok(round) => round,
            Err(e) => {
                // The outbox failed (I/O, busy): the batch already sent is still recorded if
                // the outbox lets it (else its lease runs out and it is sent again, harmlessly).
                if let Some(Ok(sent)) = following {
                    let _ = finish(outbox, transport, sent);
                }
                return Err(e);
            }
        };
        report.add(round.report);
        match following {
            Some(following) => next = Some(following?),
            None => paused_until = round.paused_until.or(paused_until),
        }
    }
    report.next_attempt_at = earliest(report.next_attempt_at, outbox.status()?.next_attempt_at);
    Ok((report, paused_until))
}

fn round(outbox: &Outbox, transport: &Transport, now: i64) -> Result<Round> {
    let submitted = claim_and_submit(outbox, transport, now)?;
    finish(outbox, transport, submitted)
}

/// The hub's results for a part of a batch, or why the whole part failed.
type Answer = std::result::Result<Vec<wire::RecordResult>, Failure>;

/// A claimed batch, sent: each part (a claim is split to keep request bodies under the
/// protocol's limit) with the hub's results or the failure of the whole part.
struct Submitted {
    claimed: Vec<Claimed>,
    parts: Vec<(std::ops::Range<usize>, Answer)>,
    now: i64,
}

impl Submitted {
    /// Whether the hub answered every part (no part failed as a whole).
    fn answered(&self) -> bool {
        self.parts.iter().all(|(_, answer)| answer.is_ok())
    }
}

/// Claims one batch of due records (at most the transport's batch size) at `now` and submits
/// it; nothing is recorded yet ([`finish`] does).
fn claim_and_submit(outbox: &Outbox, transport: &Transport, now: i64) -> Result<Submitted> {
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
    // A hub that showed two histories gets nothing more (the forks are the evidence).
    outbox.check_no_fork()?;
    let claimed = outbox.claim(transport.config().batch_size(), now)?;
    let mut parts = Vec::new();
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
        let request = wire::SubmitBatch { records: claimed[start..end].iter().map(submitted).collect() };
        parts.push((start..end, transport.submit_batch(&request, now)));
        start = end;
    }
    Ok(Submitted { claimed, parts, now })
}

/// Verifies the receipts of a submitted batch and records every record's result.
fn finish(outbox: &Outbox, transport: &Transport, submitted: Submitted) -> Result<Round> {
    let Submitted { claimed, parts, now } = submitted;
    let mut round = Round { report: DeliveryReport::default(), claimed: claimed.len(), paused_until: None };
    for (range, answer) in parts {
        record_answer(outbox, transport, &claimed[range], answer, now, &mut round)?;
    }
    Ok(round)
}

fn record_answer(outbox: &Outbox, transport: &Transport, batch: &[Claimed], answer: Answer, now: i64, round: &mut Round) -> Result<()> {
    let results = match answer {
        Ok(results) => results,
        Err(Failure { error, outcome }) => {
            let marks: Vec<(i64, Mark)> = match &outcome {
                Outcome::Retry { backoff, not_before } => {
                    let jitter = Jitter::draw();
                    let why = error.to_string();
                    batch
                        .iter()
                        .map(|record| {
                            let at = next_attempt_at(now, record.attempts, *backoff, *not_before, jitter);
                            (record.outbox_id, Mark::Retry { next_attempt_at: at, error: why.clone() })
                        })
                        .collect()
                }
                Outcome::DeadLetter { code, reason } => {
                    batch.iter().map(|record| (record.outbox_id, Mark::Dead { code: code.clone(), reason: reason.clone() })).collect()
                }
            };
            let first = record_marks(outbox, &marks, vec![None; marks.len()], &mut round.report)?;
            round.paused_until = match outcome {
                Outcome::Retry { .. } => first,
                // A hub that refuses whole requests (not enrolled, wrong path, too large) is
                // usually misconfigured: the other records are not fed to it now.
                Outcome::DeadLetter { .. } => Some(now.saturating_add(BACKOFF_CAP_SECS)),
            };
            round.report.last_error = Some(error);
            return Ok(());
        }
    };
    let mut checked = check_receipts(outbox.source(), batch, &results, transport.config());
    let heads: Vec<(ledger::TreeHead, String)> = checked.iter().filter_map(|c| c.as_ref().ok().cloned().flatten()).collect();
    let held = hold_tree_heads(outbox, transport, heads, now);
    if let Err(e) = &held {
        // Not delivered until the hub's history checks out: acknowledged records stay queued.
        for (check, result) in checked.iter_mut().zip(&results) {
            let acknowledged = matches!(RecordStatus::try_from(result.status), Ok(RecordStatus::Accepted | RecordStatus::Duplicate));
            if acknowledged && check.is_ok() {
                *check = Err(e.clone());
            }
        }
    }
    let jitter = Jitter::draw();
    let mut marks = Vec::with_capacity(batch.len());
    let mut errors = Vec::with_capacity(batch.len());
    for ((record, result), checked) in batch.iter().zip(results).zip(checked) {
        let status = RecordStatus::try_from(result.status).unwrap_or(RecordStatus::Unspecified);
        let mark = match (status, checked.map(|_| ())) {
            (RecordStatus::Accepted | RecordStatus::Duplicate, Ok(())) => {
                let inclusion = result.inclusion.as_ref().map(Message::encode_to_vec).unwrap_or_default();
                let duplicate = status == RecordStatus::Duplicate;
                Ok(Mark::Delivered(Delivery { receipt: result.receipt, inclusion, duplicate, delivered_at: now }))
            }
            (RecordStatus::Rejected, Ok(())) => {
                let code = if result.code.trim().is_empty() { "UNSPECIFIED" } else { result.code.trim() };
                let reason = if result.reason.trim().is_empty() { "the hub gave no reason" } else { result.reason.trim() };
                Ok(Mark::Dead { code: code.to_owned(), reason: reason.to_owned() })
            }
            (_, Err(error)) => Err(error),
            // The transport checked every status already; kept safe all the same.
            (RecordStatus::Unspecified, Ok(())) => {
                Err(err!(MEDSEAL_TRANSPORT_PROTOCOL, "the hub's result for record {:?} has no status", record.record_id))
            }
        };
        match mark {
            Ok(mark) => {
                marks.push((record.outbox_id, mark));
                errors.push(None);
            }
            Err(error) => {
                let at = next_attempt_at(now, record.attempts, Backoff::Exponential, None, jitter);
                marks.push((record.outbox_id, Mark::Retry { next_attempt_at: at, error: error.to_string() }));
                errors.push(Some(error));
            }
        }
    }
    record_marks(outbox, &marks, errors, &mut round.report)?;
    match held {
        Err(e) if e.code() == crate::ResultCode::MEDSEAL_LEDGER_FORK => Err(e),
        _ => Ok(()),
    }
}

/// Records a batch's marks in one outbox transaction (one disk sync) and counts them in the
/// report; `errors[i]` is the error behind mark `i`, if any (it becomes the report's last
/// error). Returns the earliest retry time marked.
fn record_marks(outbox: &Outbox, marks: &[(i64, Mark)], errors: Vec<Option<Error>>, report: &mut DeliveryReport) -> Result<Option<i64>> {
    let results = outbox.mark_batch(marks)?;
    let mut first_retry = None;
    for (((_, mark), result), error) in marks.iter().zip(results).zip(errors) {
        if marked(result, report)? {
            match mark {
                Mark::Delivered(delivery) => {
                    report.delivered += 1;
                    report.duplicates += u64::from(delivery.duplicate);
                }
                Mark::Dead { .. } => report.dead_letters += 1,
                Mark::Retry { next_attempt_at, .. } => {
                    report.retry_at(*next_attempt_at);
                    first_retry = earliest(first_retry, Some(*next_attempt_at));
                }
            }
        }
        if let Some(error) = error {
            report.last_error = Some(error);
        }
    }
    Ok(first_retry)
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

/// Verifies the ACCEPTED and DUPLICATE results of a batch, one result per record (`Ok` for the
/// others): each receipt with the hub's receipt key, for this outbox's facility `source` and
/// the record's id, digest and sequence number, and its inclusion proof to a tree head signed by the hub's tree-head key. The
/// receipts are checked together ([`ledger::verify_receipts`]): a tree head shared by the
/// batch is verified once, each receipt and audit path on its own. Any failure is
/// `MEDSEAL_TRANSPORT_PROTOCOL` naming the record.
fn check_receipts(
    source: &str,
    batch: &[Claimed],
    results: &[wire::RecordResult],
    config: &super::TransportConfig,
) -> Vec<Result<Option<(ledger::TreeHead, String)>>> {
    let acknowledged =
        |result: &wire::RecordResult| matches!(RecordStatus::try_from(result.status), Ok(RecordStatus::Accepted | RecordStatus::Duplicate));
    let checks: Vec<ledger::ReceiptCheck<'_>> = batch
        .iter()
        .zip(results)
        .filter(|(_, result)| acknowledged(result))
        .filter_map(|(record, result)| {
            Some(ledger::ReceiptCheck {
                receipt_jws: result.receipt.as_bytes(),
                inclusion: result.inclusion.as_ref()?,
                record_id: Some(&record.record_id),
                digest: Some(&record.digest),
            })
        })
        .collect();
    let mut verified = ledger::verify_receipts(&checks, config.receipt_keys(), config.tree_head_keys()).into_iter();
    batch
        .iter()
        .zip(results)
        .map(|(record, result)| {
            if !acknowledged(result) {
                return Ok(None);
            }
            let id = &record.record_id;
            if result.inclusion.is_none() {
                return Err(err!(
                    MEDSEAL_TRANSPORT_PROTOCOL,
                    "the hub acknowledged record {id:?} without an inclusion proof; it stays queued"
                ));
            }
            let (receipt, head) = verified.next().expect("one verification per acknowledged record with a proof").map_err(|e| {
                err!(MEDSEAL_TRANSPORT_PROTOCOL, "the hub's receipt for record {id:?} does not verify, so it stays queued: {e}")
            })?;
            if receipt.source != source {
                return Err(err!(
                    MEDSEAL_TRANSPORT_PROTOCOL,
                    "the hub's receipt for record {id:?} names facility {:?}, not this outbox's {:?}; it stays queued",
                    crate::untrusted::shown(&receipt.source),
                    source
                ));
            }
            if receipt.sequence != record.sequence {
                return Err(err!(
                    MEDSEAL_TRANSPORT_PROTOCOL,
                    "the hub's receipt for record {id:?} names sequence number {}, but the record has {}; it stays queued",
                    receipt.sequence,
                    record.sequence
                ));
            }
            let jws = result.inclusion.as_ref().map(|p| p.tree_head.clone()).unwrap_or_default();
            Ok(Some((head, jws)))
        })
        .collect()
}

/// Checks every new tree head of a batch against the heads this facility verified before and
/// keeps it (issue 10, point 11): a larger head must extend the latest one held (the hub's
/// RFC 9162 consistency proof, verified here), a smaller one (the original receipt of a
/// duplicate) must be a prefix of it, a head of a size already held must be the same. A head
/// that fails is a fork: both signed heads are recorded in the outbox as evidence and the
/// error is `MEDSEAL_LEDGER_FORK`. A proof that cannot be fetched is the transport's error
/// (the records are retried, nothing is kept).
fn hold_tree_heads(outbox: &Outbox, transport: &Transport, mut heads: Vec<(ledger::TreeHead, String)>, now: i64) -> Result<()> {
    heads.sort_by_key(|(head, _)| head.tree_size);
    heads.dedup_by(|a, b| a.0.tree_size == b.0.tree_size && a.0.root_hash == b.0.root_hash);
    for (head, jws) in heads {
        let Some(held) = outbox.latest_tree_head()? else {
            outbox.keep_tree_head(&head, &jws, now)?;
            continue;
        };
        let fork = |reason: String| -> Result<()> {
            outbox.record_fork(&held.jws, &jws, &reason, now)?;
            Err(err!(
                MEDSEAL_LEDGER_FORK,
                "the hub showed two histories: {reason}; delivery stops (both signed tree heads are kept as evidence)"
            ))
        };
        let (small, large) =
            if head.tree_size <= held.tree_size { (head.tree_size, held.tree_size) } else { (held.tree_size, head.tree_size) };
        if small == large {
            if head.root_hash != held.root_hash {
                return fork(format!("two different roots signed for tree size {}", head.tree_size));
            }
            continue;
        }
        if let Some(same_size) = outbox.tree_head(head.tree_size)? {
            if same_size.root_hash != head.root_hash {
                return fork(format!("two different roots signed for tree size {}", head.tree_size));
            }
            continue;
        }
        if small > 0 {
            let (small_root, large_root) =
                if head.tree_size < held.tree_size { (head.root_hash, held.root_hash) } else { (held.root_hash, head.root_hash) };
            let path = transport.consistency_proof(small, large, now)?;
            if let Err(e) = ledger::verify_consistency(small, large, &small_root, &large_root, &path) {
                return fork(format!("the tree of size {small} is not a prefix of the tree of size {large} ({})", e.message()));
            }
        }
        outbox.keep_tree_head(&head, &jws, now)?;
    }
    Ok(())
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
            deadline = deadline.min(started + crate::utc::until(at));
        }
        let paused = paused_until.map(|at| started + crate::utc::until(at));
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
