//! Every record of a bundle verified at its own time, on every core (issue 11, points 2 and 5).
//!
//! For each full ledger entry whose envelope is in the bundle:
//!
//! 1. the envelope file's SHA-256 is the entry's `digest`, and the envelope's meta (source,
//!    record id, sequence, read without opening it) is the entry's: else `FAILED`
//!    `HASH_FAILURE`;
//! 2. the signed record is taken from `opened/` when the bundle has it (an export made with
//!    `--opened`: the manifest's `selection.opened`), and from the envelope
//!    opened with the auditor's escrow key when it is sealed to that key (when both exist they
//!    must be the same bytes: only the envelope is pinned by the ledger); neither:
//!    `INDETERMINATE` `NO_KEY_TO_OPEN`;
//! 3. it is verified as a medseal record ([`medseal::record::check_verified`]: `typ`, `sigT`,
//!    canonical payload), or as a withdrawal for an entry with `withdrawn` (the facility's
//!    signed tombstone, which must name the entry's source, record id, sequence and reason),
//!    with the keys of the record's own facility only, judged at its **trusted time**: the
//!    entry's `received`, which the signed tree heads cover (checking those is the log
//!    checks' job, not this module's). Today's date plays no part, so a bundle verifies the
//!    same years later; the run's `at` only marks entries received after it.
//!
//! Keys, in one of two modes:
//!
//! * **Enrolled keys** (no `trust-lists/` in the bundle): `facilities.json`. The key must be
//!   one of the facility's, added at or before the trusted time and not revoked at or before it
//!   (`REVOKED`; no grace, as the hub: the revocation time is the chosen one).
//! * **Trust lists** (`trust-lists/*.jws`): each list is verified once with the bundle's
//!   `trust-lists/keys/` and the keys the auditor gives ([`TrustList::verify`] is called with
//!   `now` = the list's own `issued`, so that its expiry is not judged today; a list that does
//!   not verify is a `TRUST_LIST_INVALID` finding and is not used). A record is judged with the list of
//!   the highest sequence that was current at its trusted time (`issued` ≤ T + 300 s and
//!   T ≤ `expires`: the library's [`TrustList::check_fresh`] at T, never at "now"), restricted
//!   to its facility: the key's entry must be valid at `sigT`, and the hub must have received
//!   the record no later than 72 h after that entry's window ended (the hub's
//!   `retired_key_grace_hours`). No list current at T: `INDETERMINATE` `NO_TRUST_LIST`.
//!
//! Both modes apply the hub's acceptance rules (docs/SUBMISSION.md): `sigT` at most 300 s
//! after the trusted time, and not older than the 90-day acceptance window
//! (`OUT_OF_BOUNDS_NO_POE`). An unknown key is `NO_SIGNING_CERTIFICATE_FOUND` (`FAILED`: the
//! bundle holds every key the facility ever had), a bad signature `SIG_CRYPTO_FAILURE`, a JWS
//! that is not a record (or a record where a withdrawal should be) `SIG_CONSTRAINTS_FAILURE`,
//! a malformed envelope or JWS `FORMAT_FAILURE`. An entry the export selected whose envelope
//! is missing is `INDETERMINATE` `SIGNED_DATA_NOT_FOUND`.
//!
//! Scale: one reader thread streams `ledger/entries.jsonl` into a bounded channel; workers (one
//! per core by default) read each envelope, open and verify it with verifiers built once per
//! facility (or per list and facility); the caller's thread collects a compact result per
//! entry (about 32 bytes; reasons are kept for failures only). [`Checked::results`] streams the
//! entries again to give the full [`RecordResult`]s for [`crate::report::write_json`]. Opened
//! records are wiped when dropped.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use medseal::jws::TrustedBy;
use medseal::ledger::LedgerEntry;
use medseal::record::{self, Withdrawal, WITHDRAWAL_TYP};
use medseal::trust::{Role, TrustList};
use medseal::untrusted::shown;
use medseal::{DetachedPayload, Envelope, Error, Key, RecipientKey, ResultCode, Verified, Verifier};
use zeroize::Zeroizing;

use crate::bundle::{self, Bundle, BundleError, EntryLine};
use crate::report::{finding, sub, Finding, RecordResult, Status};

/// The hub's acceptance rules a record is held to at its trusted time (docs/SUBMISSION.md,
/// hub.json `acceptance`). The defaults are the hub's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Acceptance {
    /// `sigT` older than this before the trusted time is out of bounds.
    pub max_record_age_days: u32,
    /// `sigT` later than this after the trusted time is out of bounds.
    pub max_clock_skew_seconds: u32,
    /// A trust-list key whose window ended at E still signs records received until E + this.
    pub retired_key_grace_hours: u32,
}

impl Default for Acceptance {
    fn default() -> Self {
        Acceptance { max_record_age_days: 90, max_clock_skew_seconds: 300, retired_key_grace_hours: 72 }
    }
}

/// Called with the number of entries checked so far (from the caller's thread).
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// How to check the records.
#[derive(Clone, Default)]
pub struct RecordOptions {
    /// The auditor's escrow key (`--key`): opens envelopes sealed to it as a recipient.
    pub escrow_key: Option<RecipientKey>,
    /// Trust-list keys the auditor gives, besides the bundle's `trust-lists/keys/`.
    pub trust_list_keys: Vec<Arc<Key>>,
    /// The run's "now" (`--at`, Unix seconds). Records are judged at their trusted time, not
    /// at this; it only marks entries the hub says it received after it (more than the clock
    /// skew), which cannot be judged as of that day (`INDETERMINATE`).
    pub at: i64,
    /// Worker threads; 0 means one per core (`std::thread::available_parallelism`).
    pub threads: usize,
    /// The hub's acceptance rules.
    pub acceptance: Acceptance,
    /// Told how many entries were checked, now and then.
    pub progress: Option<Progress>,
}

impl std::fmt::Debug for RecordOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordOptions")
            .field("escrow_key", &self.escrow_key.as_ref().map(RecipientKey::kid))
            .field("trust_list_keys", &self.trust_list_keys.len())
            .field("at", &self.at)
            .field("threads", &self.threads)
            .field("acceptance", &self.acceptance)
            .finish_non_exhaustive()
    }
}

/// Counts of one facility, or of the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Records checked (withdrawals not counted).
    pub records: u64,
    /// Records `PASSED`.
    pub passed: u64,
    /// Records `FAILED`.
    pub failed: u64,
    /// Records `INDETERMINATE`.
    pub indeterminate: u64,
    /// Withdrawals checked.
    pub withdrawals: u64,
    /// Withdrawals whose signed tombstone verified.
    pub withdrawals_passed: u64,
}

impl Counts {
    fn add(&mut self, withdrawal: bool, status: Status) {
        if withdrawal {
            self.withdrawals += 1;
            self.withdrawals_passed += u64::from(status == Status::Passed);
            return;
        }
        self.records += 1;
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Indeterminate => self.indeterminate += 1,
        }
    }
}

/// What [`check`] found: counts, and a compact result per checked entry.
#[derive(Debug, Default)]
pub struct Checked {
    /// Over the whole bundle.
    pub counts: Counts,
    /// Per facility (the entries' `source`).
    pub facilities: BTreeMap<String, Counts>,
    /// By ledger index.
    results: Vec<Compact>,
    kids: Vec<String>,
    /// Reasons, for entries that did not pass.
    reasons: HashMap<u64, String>,
    /// Trust-list mode (else enrolled keys).
    pub trust_lists: bool,
}

/// One entry's result, kept small: the strings are in tables or, for failures, in `reasons`.
#[derive(Clone, Copy, Debug)]
struct Compact {
    index: u64,
    /// `sigT`, `i64::MIN` when unread.
    signed: i64,
    /// Into `kids`, `u32::MAX` when unread.
    kid: u32,
    status: Status,
    /// Into [`SUBS`], 0 for none.
    sub: u8,
    withdrawal: bool,
}

/// Sub-indications by number (0: none).
const SUBS: [&str; 11] = [
    "",
    sub::FORMAT_FAILURE,
    sub::HASH_FAILURE,
    sub::SIG_CRYPTO_FAILURE,
    sub::REVOKED,
    sub::OUT_OF_BOUNDS_NO_POE,
    sub::NO_SIGNING_CERTIFICATE_FOUND,
    sub::SIGNED_DATA_NOT_FOUND,
    sub::NO_KEY_TO_OPEN,
    sub::NO_TRUST_LIST,
    sub::SIG_CONSTRAINTS_FAILURE,
];

fn sub_number(code: &str) -> u8 {
    SUBS.iter().position(|s| *s == code).unwrap_or(0) as u8
}

impl Checked {
    /// The status and sub-indication of ledger entry `index`, if it was checked.
    pub fn status(&self, index: u64) -> Option<(Status, Option<&'static str>)> {
        let at = self.results.binary_search_by_key(&index, |c| c.index).ok()?;
        let c = &self.results[at];
        Some((c.status, (c.sub != 0).then(|| SUBS[c.sub as usize])))
    }

    /// Whether ledger entry `index` was checked as a withdrawal.
    pub fn is_withdrawal(&self, index: u64) -> bool {
        self.results.binary_search_by_key(&index, |c| c.index).is_ok_and(|at| self.results[at].withdrawal)
    }

    /// Entries checked (records and withdrawals).
    pub fn len(&self) -> usize {
        self.results.len()
    }

    /// Whether no entry was checked.
    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// The full result of every checked entry, in ledger order, read again from the bundle's
    /// entries (so that memory holds only the compact results). Withdrawals are included (their
    /// `record_id` is the withdrawn record's). Stops after the first I/O error, which it yields.
    pub fn results<'a>(&'a self, bundle: &Bundle) -> bundle::Result<impl Iterator<Item = bundle::Result<RecordResult>> + 'a> {
        let mut entries = bundle.entries()?;
        let mut next = 0usize;
        let mut failed = false;
        Ok(std::iter::from_fn(move || loop {
            if failed || next >= self.results.len() {
                return None;
            }
            let compact = self.results[next];
            let entry = match entries.next()? {
                Err(e) => {
                    failed = true;
                    return Some(Err(e));
                }
                Ok((index, _)) if index < compact.index => continue,
                Ok((index, Ok(EntryLine::Entry(entry)))) if index == compact.index => entry,
                Ok((index, _)) => {
                    failed = true;
                    return Some(Err(BundleError {
                        code: "BUNDLE_INVALID",
                        message: format!("{}: line {} changed during the audit", bundle::ENTRIES, index + 1),
                    }));
                }
            };
            next += 1;
            return Some(Ok(self.result(&compact, entry)));
        }))
    }

    fn result(&self, c: &Compact, entry: LedgerEntry) -> RecordResult {
        RecordResult {
            index: c.index,
            facility: entry.source,
            sequence: entry.sequence,
            record_id: entry.record_id,
            received: medseal::utc::show(entry.received),
            signed: (c.signed != i64::MIN).then(|| medseal::utc::show(c.signed)),
            kid: self.kids.get(c.kid as usize).cloned(),
            status: c.status,
            sub_indication: (c.sub != 0).then(|| SUBS[c.sub as usize].to_owned()),
            reason: self.reasons.get(&c.index).cloned(),
        }
    }
}

/// What a worker found for one entry.
struct Outcome {
    index: u64,
    facility: String,
    sequence: u64,
    withdrawal: bool,
    status: Status,
    sub: &'static str,
    signed: Option<i64>,
    kid: Option<String>,
    reason: Option<String>,
    /// The first 16 bytes of the SHA-256 of the signed record, once its signature verified
    /// (records only): the same signed record twice in the ledger is a copy.
    copy_key: Option<[u8; 16]>,
}

/// A refusal: status, sub-indication, reason.
type Refusal = (Status, &'static str, String);

fn failed(sub: &'static str, reason: impl Into<String>) -> Refusal {
    (Status::Failed, sub, reason.into())
}

fn indeterminate(sub: &'static str, reason: impl Into<String>) -> Refusal {
    (Status::Indeterminate, sub, reason.into())
}

/// Checks every record of `bundle` (module documentation). Findings: one `RECORD_FAILED` per
/// failed record or withdrawal; `RECORD_INDETERMINATE` grouped per facility and
/// sub-indication (a bundle without the escrow key would otherwise give one per record); one
/// `TRUST_LIST_INVALID` per list that does not verify. Errors: the bundle could not be read
/// (I/O, or a `facilities.json` that is not one).
pub fn check(bundle: &Bundle, options: &RecordOptions, findings: &mut Vec<Finding>) -> bundle::Result<Checked> {
    let judge = Judge::load(bundle, options, findings)?;
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let selection = Selection::of(bundle)?;
    let mut checked = Checked { trust_lists: matches!(judge.mode, Mode::Lists(_)), ..Checked::default() };
    let mut kids: HashMap<String, u32> = HashMap::new();
    let mut groups: BTreeMap<(String, &'static str), (u64, u64, String)> = BTreeMap::new();
    let mut failures = Vec::new();
    // (signed record's key, index, sequence, facility number): sorted at the end to find copies.
    let mut copies: Vec<([u8; 16], u64, u64, u32)> = Vec::new();
    let mut facility_numbers: HashMap<String, u32> = HashMap::new();

    let (jobs_tx, jobs_rx) = mpsc::sync_channel::<Vec<LedgerJob>>(threads * 4);
    let (out_tx, out_rx) = mpsc::sync_channel::<bundle::Result<Vec<Outcome>>>(threads * 4);
    // Shared by the workers only: when the last one stops (an I/O error), the channel closes
    // and the reader stops too instead of waiting on a full channel.
    let jobs_rx = Arc::new(Mutex::new(jobs_rx));
    let worker = Worker { bundle, options, judge: &judge, selection: &selection };
    std::thread::scope(|scope| -> bundle::Result<()> {
        let reader = scope.spawn(move || read_entries(bundle, jobs_tx));
        for _ in 0..threads {
            let out_tx = out_tx.clone();
            let (jobs_rx, worker) = (jobs_rx.clone(), &worker);
            scope.spawn(move || worker.run(&jobs_rx, out_tx));
        }
        drop((out_tx, jobs_rx));
        let mut done = 0u64;
        let mut outcome_error = None;
        for batch in out_rx {
            let batch = match batch {
                Ok(batch) => batch,
                Err(e) => {
                    // Stop the workers (they see the channel closed) and report.
                    outcome_error.get_or_insert(e);
                    break;
                }
            };
            for o in batch {
                done += 1;
                let kid = o.kid.map_or(u32::MAX, |kid| {
                    let next = kids.len() as u32;
                    *kids.entry(kid).or_insert(next)
                });
                if let Some(key) = o.copy_key {
                    let next = facility_numbers.len() as u32;
                    let number = match facility_numbers.get(&o.facility) {
                        Some(&number) => number,
                        None => *facility_numbers.entry(o.facility.clone()).or_insert(next),
                    };
                    copies.push((key, o.index, o.sequence, number));
                }
                checked.counts.add(o.withdrawal, o.status);
                match checked.facilities.get_mut(&o.facility) {
                    Some(counts) => counts.add(o.withdrawal, o.status),
                    None => checked.facilities.entry(o.facility.clone()).or_default().add(o.withdrawal, o.status),
                }
                if o.status != Status::Passed {
                    let what = if o.withdrawal { "the withdrawal of" } else { "the record with" };
                    let reason = o.reason.clone().unwrap_or_default();
                    if o.status == Status::Failed {
                        failures.push(Finding {
                            code: finding::RECORD_FAILED.into(),
                            message: format!("{what} sequence {} of {}: {} ({reason})", o.sequence, shown(&o.facility), o.sub),
                            facility: Some(o.facility.clone()),
                            index: Some(o.index),
                            sequence: Some(o.sequence),
                        });
                    } else {
                        // Counted, and named by its first entry in the ledger.
                        let group = groups.entry((o.facility.clone(), o.sub)).or_insert((0, o.index, reason.clone()));
                        group.0 += 1;
                        if o.index < group.1 {
                            (group.1, group.2) = (o.index, reason);
                        }
                    }
                    if let Some(reason) = o.reason {
                        checked.reasons.insert(o.index, reason);
                    }
                }
                checked.results.push(Compact {
                    index: o.index,
                    signed: o.signed.unwrap_or(i64::MIN),
                    kid,
                    status: o.status,
                    sub: sub_number(o.sub),
                    withdrawal: o.withdrawal,
                });
                if done % 256 == 0 {
                    if let Some(progress) = &options.progress {
                        progress(done);
                    }
                }
            }
        }
        if let Some(progress) = &options.progress {
            progress(done);
        }
        let read = reader.join().expect("the entry reader does not panic");
        match outcome_error {
            Some(e) => Err(e),
            None => read,
        }
    })?;
    // One signed record under two entries: each later entry names the first.
    copies.sort_unstable();
    let mut facility_names = vec![String::new(); facility_numbers.len()];
    for (name, number) in facility_numbers {
        facility_names[number as usize] = name;
    }
    for pair in copies.windows(2) {
        let ((key, first, first_sequence, _), (other, index, sequence, facility)) = (pair[0], pair[1]);
        if key == other {
            let facility = &facility_names[facility as usize];
            failures.push(Finding {
                code: finding::RECORD_COPIED.into(),
                message: format!(
                    "the entry at index {index} (sequence {sequence} of {}) holds the same signed record as the entry at index {first} (sequence {first_sequence})",
                    shown(facility)
                ),
                facility: Some(facility.clone()),
                index: Some(index),
                sequence: Some(sequence),
            });
        }
    }
    // In ledger order, whatever order the workers finished in.
    failures.sort_by_key(|f| f.index);
    findings.append(&mut failures);
    for ((facility, sub_code), (count, first, reason)) in groups {
        findings.push(Finding {
            code: finding::RECORD_INDETERMINATE.into(),
            message: format!(
                "{count} entr{} of {} could not be decided: {sub_code} (the first, at index {first}: {reason})",
                if count == 1 { "y" } else { "ies" },
                shown(&facility)
            ),
            facility: Some(facility),
            index: Some(first),
            sequence: None,
        });
    }
    checked.results.sort_unstable_by_key(|c| c.index);
    checked.results.shrink_to_fit();
    let mut table = vec![String::new(); kids.len()];
    for (kid, at) in kids {
        table[at as usize] = kid;
    }
    checked.kids = table;
    Ok(checked)
}

/// One full entry to check.
struct LedgerJob {
    index: u64,
    entry: LedgerEntry,
}

const BATCH: usize = 32;

/// The reader: full entries, in batches, into the bounded channel. Lines that are not entries
/// are the log checks' finding, not this module's. Stops when the workers are gone.
fn read_entries(bundle: &Bundle, jobs: SyncSender<Vec<LedgerJob>>) -> bundle::Result<()> {
    let mut batch = Vec::with_capacity(BATCH);
    for line in bundle.entries()? {
        if let (index, Ok(EntryLine::Entry(entry))) = line? {
            batch.push(LedgerJob { index, entry });
            if batch.len() == BATCH && jobs.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err() {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = jobs.send(batch);
    }
    Ok(())
}

/// What the export selected (manifest `selection`): an entry it selected must have its envelope.
struct Selection {
    facilities: Vec<String>,
    from: Option<i64>,
    to: Option<i64>,
}

impl Selection {
    fn of(bundle: &Bundle) -> bundle::Result<Selection> {
        let selection = &bundle.manifest().selection;
        let time = |text: &Option<String>| -> bundle::Result<Option<i64>> {
            text.as_deref()
                .map(|t| {
                    medseal::utc::parse(t).ok_or_else(|| BundleError {
                        code: "BUNDLE_INVALID",
                        message: format!("{}: the selection's time {} is not RFC 3339", bundle::MANIFEST, shown(t)),
                    })
                })
                .transpose()
        };
        Ok(Selection { facilities: selection.facilities.clone(), from: time(&selection.from)?, to: time(&selection.to)? })
    }

    fn selects(&self, entry: &LedgerEntry) -> bool {
        (self.facilities.is_empty() || self.facilities.contains(&entry.source))
            && self.from.map_or(true, |from| entry.received >= from)
            && self.to.map_or(true, |to| entry.received <= to)
    }
}

/// Whose keys judge the records, built once per facility (and per list).
struct Judge {
    mode: Mode,
    /// Key thumbprint → the facility that holds it (to name the owner of a stranger's key).
    owners: HashMap<String, String>,
}

enum Mode {
    Enrolled(HashMap<String, EnrolledFacility>),
    Lists(Vec<ListJudge>),
}

/// One facility's enrolled keys: a verifier of all of them, and each key's windows.
struct EnrolledFacility {
    verifier: Verifier,
    /// kid → (added, revoked) of each enrolment of the key.
    windows: HashMap<String, Vec<(i64, Option<i64>)>>,
}

/// One verified trust list, with a verifier per facility it lists.
struct ListJudge {
    list: Arc<TrustList>,
    by_facility: HashMap<String, Verifier>,
}

impl Judge {
    fn load(bundle: &Bundle, options: &RecordOptions, findings: &mut Vec<Finding>) -> bundle::Result<Judge> {
        let lists = bundle.trust_lists()?;
        let mut owners = HashMap::new();
        // Keys given by the auditor mean the records are judged by trust lists signed with
        // them: a bundle without lists is not judged by the hub's own enrolment history instead.
        let pinned = !options.trust_list_keys.is_empty();
        if lists.is_empty() && pinned {
            findings.push(Finding {
                code: finding::TRUST_LIST_INVALID.into(),
                message: format!(
                    "--trust-list-key was given but the bundle has no trust list ({}/ is empty): no record is judged by the hub's own {}",
                    bundle::TRUST_LISTS,
                    bundle::FACILITIES
                ),
                ..Finding::default()
            });
            return Ok(Judge { mode: Mode::Lists(Vec::new()), owners });
        }
        if lists.is_empty() {
            let mut facilities = HashMap::new();
            for facility in bundle.facilities()? {
                let mut keys = Vec::new();
                let mut windows: HashMap<String, Vec<(i64, Option<i64>)>> = HashMap::new();
                for enrolled in &facility.keys {
                    let what = format!("{}: {}'s key {}", bundle::FACILITIES, shown(&facility.facility), shown(&enrolled.kid));
                    let key = Key::import(enrolled.public_key.as_bytes(), None)
                        .map_err(|e| invalid(format!("{what} does not read: {}", e.message())))?;
                    let added = time(&what, "added", &enrolled.added)?;
                    let revoked = enrolled.revoked.as_deref().map(|t| time(&what, "revoked", t)).transpose()?;
                    owners.insert(key.kid().to_owned(), facility.facility.clone());
                    windows.entry(key.kid().to_owned()).or_default().push((added, revoked));
                    keys.push(Arc::new(key));
                }
                if !keys.is_empty() {
                    facilities.insert(facility.facility.clone(), EnrolledFacility { verifier: Verifier::new(keys), windows });
                }
            }
            return Ok(Judge { mode: Mode::Enrolled(facilities), owners });
        }
        // The auditor's keys when given (the bundle's are then only the hub's word and unused),
        // else the bundle's.
        let mut list_keys = options.trust_list_keys.clone();
        for (name, bytes) in if pinned { Vec::new() } else { bundle.trust_list_keys()? } {
            match Key::import(&bytes, None) {
                Ok(key) => list_keys.push(Arc::new(key)),
                Err(e) => findings.push(Finding {
                    code: finding::TRUST_LIST_INVALID.into(),
                    message: format!("{}/{}: not a public key: {}", bundle::TRUST_LIST_KEYS, shown(&name), e.message()),
                    ..Finding::default()
                }),
            }
        }
        let list_verifier = Verifier::new(list_keys);
        let mut judges = Vec::new();
        for (name, jws) in lists {
            // Freshness is judged per record at its trusted time (TrustList::check_fresh); here
            // the signature and format only, so `now` is the list's own issue time, which
            // passes the freshness part whatever today's date.
            let issued = TrustList::from_jws_unverified(&jws).map(|l| l.issued);
            match issued.and_then(|issued| TrustList::verify(&jws, &list_verifier, issued, 0)) {
                Ok(list) => {
                    let mut by_facility = HashMap::new();
                    for entry in list.entries().iter().filter(|e| e.role == Role::RecordSigning) {
                        owners.insert(entry.key.kid().to_owned(), entry.facility.clone());
                        by_facility
                            .entry(entry.facility.clone())
                            .or_insert_with(|| Verifier::default().with_trust_list(Arc::new(list.restricted_to(&entry.facility))));
                    }
                    judges.push(ListJudge { list: Arc::new(list), by_facility });
                }
                Err(e) => findings.push(Finding {
                    code: finding::TRUST_LIST_INVALID.into(),
                    message: format!("{}/{}: {} ({})", bundle::TRUST_LISTS, shown(&name), e.message(), e.code().name()),
                    ..Finding::default()
                }),
            }
        }
        judges.sort_by_key(|j| std::cmp::Reverse(j.list.sequence));
        // A list left out (say the one that dropped a compromised key) would let its
        // predecessor judge until it expired: every number between the first and the last must be there.
        for pair in judges.windows(2) {
            let (later, earlier) = (pair[0].list.sequence, pair[1].list.sequence);
            if later > earlier + 1 {
                findings.push(Finding {
                    code: finding::TRUST_LIST_INVALID.into(),
                    message: match later - earlier {
                        2 => format!("trust list {} is missing between {earlier} and {later}", earlier + 1),
                        _ => format!("trust lists {} to {} are missing between {earlier} and {later}", earlier + 1, later - 1),
                    },
                    ..Finding::default()
                });
            }
        }
        Ok(Judge { mode: Mode::Lists(judges), owners })
    }
}

fn invalid(message: String) -> BundleError {
    BundleError { code: "BUNDLE_INVALID", message }
}

fn time(what: &str, member: &str, text: &str) -> bundle::Result<i64> {
    medseal::utc::parse(text).ok_or_else(|| invalid(format!("{what}: {member} {} is not an RFC 3339 time", shown(text))))
}

/// What every worker shares.
struct Worker<'a> {
    bundle: &'a Bundle,
    options: &'a RecordOptions,
    judge: &'a Judge,
    selection: &'a Selection,
}

impl Worker<'_> {
    fn run(&self, jobs: &Mutex<Receiver<Vec<LedgerJob>>>, out: SyncSender<bundle::Result<Vec<Outcome>>>) {
        loop {
            let batch = match jobs.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                Ok(batch) => batch,
                Err(_) => return,
            };
            let outcomes: bundle::Result<Vec<Outcome>> = batch.into_iter().filter_map(|job| self.check(job).transpose()).collect();
            let stop = outcomes.is_err();
            if out.send(outcomes).is_err() || stop {
                return;
            }
        }
    }

    /// One entry: `None` when the bundle has no envelope for it and the export did not select
    /// it (nothing to check).
    fn check(&self, job: LedgerJob) -> bundle::Result<Option<Outcome>> {
        let LedgerJob { index, entry } = job;
        let envelope = self.bundle.envelope(index)?;
        if envelope.is_none() && !self.selection.selects(&entry) {
            return Ok(None);
        }
        // opened/ exists only in exports made with --opened (the manifest says so): otherwise
        // no file is looked for.
        let opened = match self.bundle.manifest().selection.opened {
            true => self.bundle.opened(index)?.map(Zeroizing::new),
            false => None,
        };
        let mut signed = None;
        let mut kid = None;
        let mut copy_key = None;
        let withdrawal = entry.withdrawn.is_some();
        let verdict = match envelope {
            None => Err(indeterminate(sub::SIGNED_DATA_NOT_FOUND, "the export selected this entry, but the bundle has no envelope for it")),
            Some(envelope) => self.verify(&entry, &envelope, opened.as_deref().map(Vec::as_slice), &mut signed, &mut kid, &mut copy_key),
        };
        let (status, sub, reason) = match verdict {
            Ok(()) => (Status::Passed, "", None),
            Err((status, sub, reason)) => (status, sub, Some(reason)),
        };
        let copy_key = copy_key.filter(|_| !withdrawal);
        Ok(Some(Outcome {
            index,
            facility: entry.source,
            sequence: entry.sequence,
            withdrawal,
            status,
            sub,
            signed,
            kid,
            reason,
            copy_key,
        }))
    }

    fn verify(
        &self,
        entry: &LedgerEntry,
        bytes: &[u8],
        opened: Option<&[u8]>,
        signed: &mut Option<i64>,
        kid: &mut Option<String>,
        copy_key: &mut Option<[u8; 16]>,
    ) -> Result<(), Refusal> {
        let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
        if digest.as_ref() != entry.digest.as_slice() {
            return Err(failed(sub::HASH_FAILURE, "the envelope's SHA-256 is not the ledger entry's digest"));
        }
        let envelope = Envelope::from_protobuf(bytes).map_err(|e| failed(sub::FORMAT_FAILURE, format!("the envelope: {}", e.message())))?;
        let meta = &envelope.meta;
        if meta.source != entry.source || meta.record_id != entry.record_id || meta.sequence != entry.sequence {
            return Err(failed(
                sub::HASH_FAILURE,
                format!(
                    "the envelope's meta is source {}, record {}, sequence {}; the ledger entry's is source {}, record {}, sequence {}",
                    shown(&meta.source),
                    shown(&meta.record_id),
                    meta.sequence,
                    shown(&entry.source),
                    shown(&entry.record_id),
                    entry.sequence
                ),
            ));
        }
        record::check_content_type(&meta.content_type).map_err(|e| failed(sub::FORMAT_FAILURE, e.message()))?;
        if self.options.at.saturating_add(i64::from(self.options.acceptance.max_clock_skew_seconds)) < entry.received {
            return Err(indeterminate(
                sub::OUT_OF_BOUNDS_NO_POE,
                format!("the hub says it received the record at {}, after the audit's time", medseal::utc::show(entry.received)),
            ));
        }
        let jws = self.signed_record(&envelope, opened)?;
        let (verifier, rule) = self.verifier_for(entry)?;
        let verified = match verifier.verify(&jws, DetachedPayload::None) {
            Ok(verified) => Wiped(verified),
            Err(e) => return Err(self.refuse_signature(entry, &e, &jws, &rule)),
        };
        *kid = Some(verified.0.key_id.clone());
        let digest = ring::digest::digest(&ring::digest::SHA256, &jws);
        *copy_key = digest.as_ref()[..16].try_into().ok();
        self.check_content(entry, &verified.0)?;
        let text = verified.0.signing_time.as_deref().unwrap_or("");
        let at = medseal::utc::parse(text)
            .ok_or_else(|| failed(sub::FORMAT_FAILURE, format!("sigT {} is not an RFC 3339 time", shown(text))))?;
        *signed = Some(at);
        self.check_signing_time(entry, at)?;
        self.check_key(entry, at, &verified.0, &rule)
    }

    /// The signed record: from the envelope opened with the escrow key when it is sealed to
    /// it (and then `opened/`, if present, must be the same bytes), else from `opened/`.
    fn signed_record(&self, envelope: &Envelope, opened: Option<&[u8]>) -> Result<Zeroizing<Vec<u8>>, Refusal> {
        let escrow = self.options.escrow_key.as_ref();
        match (escrow.filter(|key| envelope.recipients.iter().any(|r| r.kid == key.kid())), opened) {
            (Some(key), opened) => {
                let jws = envelope.open(key).map_err(|e| {
                    failed(
                        sub::FORMAT_FAILURE,
                        format!("the envelope is sealed to the escrow key but does not open with it: {}", e.message()),
                    )
                })?;
                if opened.is_some_and(|opened| opened != jws.as_slice()) {
                    return Err(failed(sub::HASH_FAILURE, "the bundle's opened record is not the one the envelope holds"));
                }
                Ok(jws)
            }
            (None, Some(opened)) => Ok(Zeroizing::new(opened.to_vec())),
            (None, None) => Err(indeterminate(
                sub::NO_KEY_TO_OPEN,
                match escrow {
                    Some(key) => format!("the envelope is not sealed to the escrow key {}, and the bundle has no opened record", key.kid()),
                    None => "no escrow key was given, and the bundle has no opened record".to_owned(),
                },
            )),
        }
    }

    /// The verifier of the entry's facility, at its trusted time.
    fn verifier_for(&self, entry: &LedgerEntry) -> Result<(&Verifier, Rule<'_>), Refusal> {
        match &self.judge.mode {
            Mode::Enrolled(facilities) => match facilities.get(&entry.source) {
                Some(facility) => Ok((&facility.verifier, Rule::Enrolled(facility))),
                None => Err(failed(
                    sub::NO_SIGNING_CERTIFICATE_FOUND,
                    format!("{} has no record-signing key in {}", shown(&entry.source), bundle::FACILITIES),
                )),
            },
            Mode::Lists(lists) => {
                let Some(judge) = lists.iter().find(|j| j.list.check_fresh(entry.received, 0).is_ok()) else {
                    return Err(indeterminate(
                        sub::NO_TRUST_LIST,
                        format!(
                            "no trust list of the bundle was current when the hub received the record ({})",
                            medseal::utc::show(entry.received)
                        ),
                    ));
                };
                match judge.by_facility.get(&entry.source) {
                    Some(verifier) => Ok((verifier, Rule::List(&judge.list))),
                    None => Err(failed(
                        sub::NO_SIGNING_CERTIFICATE_FOUND,
                        format!("trust list #{} has no record-signing key of {}", judge.list.sequence, shown(&entry.source)),
                    )),
                }
            }
        }
    }

    /// Why a signature did not verify with the facility's keys.
    fn refuse_signature(&self, entry: &LedgerEntry, e: &Error, jws: &[u8], rule: &Rule<'_>) -> Refusal {
        use ResultCode::*;
        match e.code() {
            MEDSEAL_SIGNED_OUTSIDE_VALIDITY => failed(sub::OUT_OF_BOUNDS_NO_POE, e.message()),
            MEDSEAL_JWS_SIGNATURE_INVALID | MEDSEAL_JWS_ALG_MISMATCH | MEDSEAL_TRUST_UNKNOWN_SIGNER | MEDSEAL_JWS_NO_KEYS => {
                let claimed = record::claimed_kid(jws).unwrap_or_default();
                let own = match rule {
                    Rule::Enrolled(facility) => facility.windows.contains_key(&claimed),
                    Rule::List(list) => list.candidates(Role::RecordSigning, Some(&claimed)).iter().any(|e| e.facility == entry.source),
                };
                if own {
                    return failed(
                        sub::SIG_CRYPTO_FAILURE,
                        format!("the signature does not verify with {}'s key {}", shown(&entry.source), shown(&claimed)),
                    );
                }
                let owner = match self.judge.owners.get(&claimed) {
                    Some(owner) => format!("a key of {}", shown(owner)),
                    None => "a key no facility of the bundle holds".to_owned(),
                };
                failed(
                    sub::NO_SIGNING_CERTIFICATE_FOUND,
                    format!("the record names key {} ({owner}), not one of its source {}'s", shown(&claimed), shown(&entry.source)),
                )
            }
            _ => failed(sub::FORMAT_FAILURE, format!("{} ({})", e.message(), e.code().name())),
        }
    }

    /// A record where the entry is a record; the facility's withdrawal of exactly this entry
    /// where it is a withdrawal.
    fn check_content(&self, entry: &LedgerEntry, verified: &Verified) -> Result<(), Refusal> {
        let Some(reason) = &entry.withdrawn else {
            return record::check_verified(verified).map_err(|e| failed(sub::SIG_CONSTRAINTS_FAILURE, e.message()));
        };
        if verified.typ.as_deref() != Some(WITHDRAWAL_TYP) {
            return Err(failed(
                sub::SIG_CONSTRAINTS_FAILURE,
                "the ledger entry is a withdrawal, but the envelope holds no signed withdrawal",
            ));
        }
        let withdrawal = Withdrawal::from_verified(verified).map_err(|e| failed(sub::SIG_CONSTRAINTS_FAILURE, e.message()))?;
        let expected = Withdrawal {
            source: entry.source.clone(),
            record_id: entry.record_id.clone(),
            sequence: entry.sequence,
            reason: reason.clone(),
        };
        if withdrawal != expected {
            return Err(failed(
                sub::SIG_CONSTRAINTS_FAILURE,
                format!(
                    "the signed withdrawal names source {}, record {}, sequence {}, reason {}; the ledger entry is source {}, record {}, sequence {}, reason {}",
                    shown(&withdrawal.source),
                    shown(&withdrawal.record_id),
                    withdrawal.sequence,
                    shown(&withdrawal.reason),
                    shown(&entry.source),
                    shown(&entry.record_id),
                    entry.sequence,
                    shown(reason)
                ),
            ));
        }
        Ok(())
    }

    /// The hub's acceptance rule, at the trusted time: `sigT` not after it by more than the
    /// skew, nor older than the acceptance window.
    fn check_signing_time(&self, entry: &LedgerEntry, signed: i64) -> Result<(), Refusal> {
        let policy = &self.options.acceptance;
        let received = medseal::utc::show(entry.received);
        if signed > entry.received.saturating_add(i64::from(policy.max_clock_skew_seconds)) {
            return Err(failed(
                sub::OUT_OF_BOUNDS_NO_POE,
                format!(
                    "sigT {} is after the time the hub received the record ({received}) by more than {} s",
                    medseal::utc::show(signed),
                    policy.max_clock_skew_seconds
                ),
            ));
        }
        if signed < entry.received.saturating_sub(i64::from(policy.max_record_age_days) * 86_400) {
            return Err(failed(
                sub::OUT_OF_BOUNDS_NO_POE,
                format!(
                    "sigT {} is older than the acceptance window of {} days before the hub received the record ({received})",
                    medseal::utc::show(signed),
                    policy.max_record_age_days
                ),
            ));
        }
        Ok(())
    }

    /// The key at the trusted time: enrolled before it and not revoked at or before it; or a
    /// trust-list key whose window (containing `sigT`, checked by the verifier) ended no longer
    /// than the grace period before it.
    fn check_key(&self, entry: &LedgerEntry, signed: i64, verified: &Verified, rule: &Rule<'_>) -> Result<(), Refusal> {
        let received = entry.received;
        let kid = &verified.key_id;
        match rule {
            Rule::Enrolled(facility) => {
                let windows = facility.windows.get(kid).map(Vec::as_slice).unwrap_or_default();
                let added: Vec<_> = windows.iter().filter(|(added, _)| *added <= received).collect();
                if added.is_empty() {
                    let first = windows.iter().map(|w| w.0).min().unwrap_or(i64::MAX);
                    return Err(failed(
                        sub::OUT_OF_BOUNDS_NO_POE,
                        format!(
                            "key {kid} was enrolled at {}, after the hub received the record ({})",
                            medseal::utc::show(first),
                            medseal::utc::show(received)
                        ),
                    ));
                }
                if let Some(revoked) = added.iter().map(|(_, revoked)| revoked.unwrap_or(i64::MAX)).max().filter(|&r| r <= received) {
                    return Err(failed(
                        sub::REVOKED,
                        format!(
                            "key {kid} was revoked at {}, before the hub received the record ({})",
                            medseal::utc::show(revoked),
                            medseal::utc::show(received)
                        ),
                    ));
                }
                Ok(())
            }
            Rule::List(list) => {
                if !matches!(&verified.trusted_by, TrustedBy::TrustList { facility } if *facility == entry.source) {
                    return Err(failed(sub::NO_SIGNING_CERTIFICATE_FOUND, format!("key {kid} is not {}'s", shown(&entry.source))));
                }
                let grace = i64::from(self.options.acceptance.retired_key_grace_hours) * 3600;
                let end = list
                    .entries()
                    .iter()
                    .filter(|e| e.role == Role::RecordSigning && e.facility == entry.source && e.key.kid() == *kid && e.valid_at(signed))
                    .map(|e| e.not_after)
                    .max()
                    .unwrap_or(i64::MIN);
                if received > end.saturating_add(grace) {
                    return Err(failed(
                        sub::OUT_OF_BOUNDS_NO_POE,
                        format!(
                            "key {kid}'s trust-list window ended at {}; the hub received the record at {}, after the {} h grace period",
                            medseal::utc::show(end),
                            medseal::utc::show(received),
                            grace / 3600
                        ),
                    ));
                }
                Ok(())
            }
        }
    }
}

/// The facility's keys a record was verified with.
enum Rule<'a> {
    Enrolled(&'a EnrolledFacility),
    List(&'a TrustList),
}

/// A verified JWS whose payload (the record) is wiped when dropped.
struct Wiped(Verified);

impl Drop for Wiped {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.0.payload.zeroize();
    }
}
