//! Secure submission end to end (issue 5, "Benchmarks"): the sustained rate of enqueue +
//! deliver to the reference hub on 127.0.0.1, with `synchronous=FULL` on both sides and
//! batches, next to the raw SQLite commit rate of the same machine and disk, measured in the
//! same run. Run it with `make bench-submit` (= `cargo bench -j2 --bench submit`, a release
//! build). Goal: end to end ≥ 5,000 records/s.
//!
//! # What it does, in order
//!
//! 1. **Raw SQLite** (rusqlite, the bundled SQLite the outbox uses, a file in WAL mode with
//!    `synchronous=FULL`, in the same directory as everything else): one small insert per
//!    transaction (= the commit rate: one WAL fsync per commit), then 500 small inserts per
//!    transaction, then 500 envelope-sized inserts per transaction. These are the references.
//! 2. **Signing** (excluded from every rate below, reported on its own): N records (a ~1 KB FHIR
//!    Patient, a distinct id each) are signed per facility, JWS EdDSA, flattened.
//! 3. **A real hub**: `medseal_hub::init`, one `enroll` per facility, `medseal_hub::start` on
//!    127.0.0.1:0 (mutual TLS, its own SQLite with `synchronous=FULL`, receipts and tree heads
//!    signed with Ed25519).
//! 4. **Three scenarios**, each with its own facility and a fresh outbox file:
//!    * `single`: `Outbox::enqueue_signed` one record at a time (one transaction, so one fsync,
//!      per record; the HPKE sealing happens inside), then `deliver_all` (batches of 500);
//!    * `batch`: `Outbox::enqueue_signed_batch`, 500 records per transaction, then
//!      `deliver_all`;
//!    * `pipeline`: a producer enqueues batches of 500 while the library's background
//!      `Deliverer` (notified after each batch) delivers at the same time; timed from the
//!      first enqueue until the last record is marked delivered (watched through a read-only
//!      connection of its own, so the watching does not take the outbox's lock).
//!
//!    "Delivered" means: claimed, posted over mutual TLS, stored and appended to the hub's
//!    ledger (committed there with `synchronous=FULL`), answered with a receipt and an
//!    inclusion proof that the outbox verified (receipt key, tree-head key, audit path, record
//!    id, digest, sequence number), and marked `delivered` in the outbox (committed).
//! 5. **The hub alone**: the same number of records, sealed beforehand, posted batch after batch
//!    with `Transport::submit` (nothing verified or recorded on the client): the hub's own rate
//!    on this machine, and the hub's CPU apart from the client's (the client's TLS and protobuf
//!    work runs in this process too: see `RATE` below).
//! 6. **Checks** (untimed, the run fails if one does not hold): every record is delivered exactly
//!    once (delivery reports: no duplicate, retry or dead letter; outbox: all `delivered`,
//!    gapless sequence numbers; hub database: each record id once per source with gapless
//!    sequences, as many ledger entries as records), and every stored receipt verifies again,
//!    independently, with `ledger::verify_receipt`.
//! 7. **Where the time goes**: HPKE sealing alone; the public-key operations one by one;
//!    receipt verification one by one vs with `ledger::verify_receipts` (each tree head once);
//!    the CPU of a record split between enqueue, the hub and the client's part of delivery.
//!
//! # How to read it
//!
//! * The first line says how many cores the machine has and how many this run could actually
//!   get (measured with busy threads for half a second): on a shared machine, fewer.
//! * `RATE ...` lines: records (or commits) per second of one phase; for the timed phases also
//!   the CPU the whole process (client and hub threads) used meanwhile, per record, and how
//!   many cores were busy on average (close to the available cores: CPU-bound); then that CPU
//!   split: the client's threads (every live thread not named `medseal-hub*`, read from
//!   /proc/self/task) and the hub, the rest (its tokio workers and blocking pool, and the
//!   check threads it starts per batch, which end with the batch).
//! * `RATIO x / y` lines: the medseal rate divided by the raw SQLite reference measured a few
//!   seconds earlier on the same disk. `enqueue single / raw commit` near 1 means enqueueing is
//!   bound by the fsync, as it must be (one durable record per commit). The end-to-end ratios
//!   to the raw commit rate say how many records per fsync-worth of time the whole pipeline
//!   achieves; above 1 is only possible thanks to batching (two outbox commits per batch of
//!   500 in delivery: the claim and the results).
//! * `COST ...` lines: microseconds per public-key operation (X25519 with x25519-dalek as the
//!   HPKE code uses it, and with ring for comparison; Ed25519 with ring), and what they alone
//!   allow per record. Each record costs, at the least, an X25519 key and Diffie-Hellman
//!   (sealing), an Ed25519 verification (its receipt) on the client, and a Diffie-Hellman
//!   (opening), an Ed25519 verification (the record's signature) and an Ed25519 signature (its
//!   receipt) at the hub.
//! * `SPLIT ...` lines: the CPU per record of enqueueing (client only), of the hub during the
//!   batch scenario's delivery and of the client's threads then (the client's part of
//!   delivery), and the rates they
//!   allow: with client and hub on this machine (all its cores, or the cores this run had), and
//!   for the client alone with the hub elsewhere (as in a real deployment).
//! * `GOAL ...` lines: the goal, `meets` or `BELOW`, for the batched scenarios.
//! * `CHECK ...` lines: the exactly-once checks passed.
//! * The hub logs one line per batch on stderr (`medseal-hub: batch from ...; N ms`): its own
//!   time per batch.
//!
//! Knobs (environment): `MEDSEAL_BENCH_RECORDS` (records per scenario, default 20000),
//! `MEDSEAL_BENCH_BATCH` (batch size for enqueue and delivery, default 500),
//! `MEDSEAL_BENCH_SCENARIOS` (a comma-separated subset of `single,batch,pipeline`),
//! `MEDSEAL_BENCH_DIR` (where the files go; default Cargo's target tmp dir, on the project's
//! disk: not /tmp, which may be in memory), `MEDSEAL_BENCH_PERF_CTL` (profile the timed phases
//! only: `mkfifo ctl; MEDSEAL_BENCH_PERF_CTL=ctl perf record -D -1 --control fifo:ctl
//! target/release/deps/submit-* --bench`).

use std::collections::BTreeMap;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use medseal::ledger::{self, ReceiptCheck};
use medseal::outbox::{Claimed, Outbox, OutboxConfig, State};
use medseal::transport::{deliver_all, Deliverer, DeliveryReport, Transport, TransportConfigBuilder};
use medseal::wire::InclusionProof;
use medseal::{Envelope, Key, Meta, RecipientKey, Serialization, SignOptions, Signer, Verifier};
use prost::Message;
use rusqlite::{params, Connection};

#[path = "support/fhir_sample.rs"]
mod fhir_sample;

/// A record id and its signed record (a flattened JWS).
type Signed = (String, Vec<u8>);

/// The goal for the end-to-end rate.
const GOAL_RECORDS_PER_SECOND: f64 = 5000.0;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(default)
}

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

/// CPU time of this whole process (client and hub threads, finished threads included), from
/// `/proc/self/stat` (Linux; 10 ms ticks). `None` elsewhere.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split_whitespace().collect();
    // After the command name: state is field 3, utime 14 and stime 15 (man 5 proc).
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10)) // USER_HZ is 100 on Linux
}

/// CPU time of each live thread of this process that is not one of the hub's long-lived
/// threads (tokio workers and blocking pool of `medseal_hub::start`, named
/// `medseal-hub-worker`, its main thread `medseal-hub`; /proc shows the first 15 bytes): the
/// client's threads, by thread id, from `/proc/self/task/*/stat` (Linux; 10 ms ticks). `None`
/// elsewhere.
fn client_threads_cpu() -> Option<BTreeMap<u32, Duration>> {
    let mut threads = BTreeMap::new();
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let task = task.ok()?;
        let Ok(comm) = std::fs::read_to_string(task.path().join("comm")) else { continue };
        if comm.starts_with("medseal-hub") {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split_whitespace().collect();
        let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        threads.insert(task.file_name().to_str()?.parse().ok()?, Duration::from_millis(ticks * 10));
    }
    Some(threads)
}

/// Wall and CPU time of a phase: the whole process (client and hub threads), the client's
/// threads (`client_threads_cpu`) and so the hub's: the process minus the client. (The hub's
/// per-batch check threads end with each batch, taking their own accounting with them; their
/// CPU stays in the process total, which is why the hub's share is a difference.) A client
/// thread that ended during the phase would be counted as the hub's: how many did is kept.
#[derive(Clone, Copy)]
struct Span {
    wall: Duration,
    cpu: Option<Duration>,
    client_cpu: Option<Duration>,
    client_threads_ended: usize,
}

struct Clock {
    started: Instant,
    cpu: Option<Duration>,
    client: Option<BTreeMap<u32, Duration>>,
}

impl Clock {
    fn start() -> Clock {
        Clock { started: Instant::now(), cpu: process_cpu(), client: client_threads_cpu() }
    }

    fn span(&self) -> Span {
        let (client_cpu, client_threads_ended) = match (client_threads_cpu(), &self.client) {
            (Some(now), Some(then)) => {
                let used = now.iter().map(|(tid, cpu)| cpu.saturating_sub(then.get(tid).copied().unwrap_or_default())).sum();
                (Some(used), then.keys().filter(|tid| !now.contains_key(tid)).count())
            }
            _ => (None, 0),
        };
        Span {
            wall: self.started.elapsed(),
            cpu: process_cpu().zip(self.cpu).map(|(now, then)| now.saturating_sub(then)),
            client_cpu,
            client_threads_ended,
        }
    }
}

impl Span {
    /// The hub's CPU in this phase: the process's minus the client threads'.
    fn hub_cpu(&self) -> Option<Duration> {
        self.cpu.zip(self.client_cpu).map(|(all, client)| all.saturating_sub(client))
    }
}

impl std::ops::Sub for Span {
    type Output = Span;
    fn sub(self, earlier: Span) -> Span {
        let minus = |a: Option<Duration>, b: Option<Duration>| a.zip(b).map(|(a, b)| a.saturating_sub(b));
        Span {
            wall: self.wall.saturating_sub(earlier.wall),
            cpu: minus(self.cpu, earlier.cpu),
            client_cpu: minus(self.client_cpu, earlier.client_cpu),
            client_threads_ended: self.client_threads_ended,
        }
    }
}

/// `RATE` with the CPU the process used meanwhile (client and hub threads together): per
/// record, and how many cores were busy; then how much of it the hub's own threads used.
fn line_span(what: &str, n: usize, span: Span) -> f64 {
    let r = rate(n, span.wall);
    let mut cpu = match span.cpu {
        Some(cpu) => format!(
            "; process CPU (client + hub threads) {:.2} s = {:.0} µs per record, {:.2} of {} cores busy",
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1e6 / n as f64,
            cpu.as_secs_f64() / span.wall.as_secs_f64(),
            cores()
        ),
        None => String::new(),
    };
    if let (Some(client), Some(hub)) = (span.client_cpu, span.hub_cpu()) {
        let ended = match span.client_threads_ended {
            0 => String::new(),
            k => format!(" ({k} client threads ended meanwhile: their CPU is in the hub's share)"),
        };
        cpu += &format!(
            ", of which client threads {:.0} µs and the hub (the rest) {:.0} µs per record{ended}",
            client.as_secs_f64() * 1e6 / n as f64,
            hub.as_secs_f64() * 1e6 / n as f64
        );
    }
    println!("RATE {what}: {n} records in {:.3} s = {r:.0} records/s{cpu}", span.wall.as_secs_f64());
    r
}

/// How many cores this process can have now: one busy thread per core for half a second, and
/// the CPU time they got (a shared machine gives less than it has).
fn available_cores() -> Option<f64> {
    let clock = Clock::start();
    std::thread::scope(|scope| {
        for _ in 0..cores() {
            scope.spawn(|| {
                let mut x = [0u8; 32];
                while clock.started.elapsed() < Duration::from_millis(500) {
                    for _ in 0..1000 {
                        x = ring::digest::digest(&ring::digest::SHA256, &x).as_ref().try_into().unwrap();
                    }
                }
                std::hint::black_box(x);
            });
        }
    });
    let span = clock.span();
    span.cpu.map(|cpu| cpu.as_secs_f64() / span.wall.as_secs_f64())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |p| p.get())
}

fn line_rate(what: &str, n: usize, unit: &str, elapsed: Duration) -> f64 {
    let r = rate(n, elapsed);
    println!("RATE {what}: {n} {unit} in {:.3} s = {r:.0} {unit}/s", elapsed.as_secs_f64());
    r
}

fn line_ratio(what: &str, ours: f64, reference: f64) {
    println!("RATIO {what}: {ours:.0} / {reference:.0} = {:.2}x", ours / reference);
}

// ---------------------------------------------------------------------------------------------
// Raw SQLite
// ---------------------------------------------------------------------------------------------

struct Raw {
    commits_per_s: f64,
    batched_rows_per_s: f64,
    batched_envelope_rows_per_s: f64,
}

fn raw_connection(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)).unwrap();
    assert!(mode.eq_ignore_ascii_case("wal"));
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)").unwrap();
    conn
}

/// Inserts rows of `row_bytes`, `per_tx` per transaction, for at least `min_time`; rows/s.
fn raw_rate(path: &Path, per_tx: usize, row_bytes: usize, min_time: Duration) -> (usize, Duration) {
    let mut conn = raw_connection(path);
    let blob = vec![0x5a_u8; row_bytes];
    let started = Instant::now();
    let mut rows = 0;
    while started.elapsed() < min_time {
        let tx = conn.transaction().unwrap();
        {
            let mut insert = tx.prepare_cached("INSERT INTO t (v) VALUES (?1)").unwrap();
            for _ in 0..per_tx {
                insert.execute(params![blob]).unwrap();
            }
        }
        tx.commit().unwrap();
        rows += per_tx;
    }
    (rows, started.elapsed())
}

fn raw_sqlite(dir: &Path, batch: usize, envelope_bytes: usize) -> Raw {
    println!("-- raw SQLite (bundled, WAL, synchronous=FULL) in {}", dir.display());
    let (n, t) = raw_rate(&dir.join("raw-commit.sqlite"), 1, 100, Duration::from_secs(3));
    let commits_per_s = line_rate("raw SQLite commit (1 insert of 100 B per transaction)", n, "commits", t);
    let (n, t) = raw_rate(&dir.join("raw-batch.sqlite"), batch, 100, Duration::from_secs(2));
    let batched_rows_per_s = line_rate(&format!("raw SQLite batched ({batch} inserts of 100 B per transaction)"), n, "rows", t);
    let (n, t) = raw_rate(&dir.join("raw-batch-envelope.sqlite"), batch, envelope_bytes, Duration::from_secs(2));
    let batched_envelope_rows_per_s =
        line_rate(&format!("raw SQLite batched ({batch} inserts of {envelope_bytes} B per transaction)"), n, "rows", t);
    Raw { commits_per_s, batched_rows_per_s, batched_envelope_rows_per_s }
}

// ---------------------------------------------------------------------------------------------
// The pilot
// ---------------------------------------------------------------------------------------------

struct Facility {
    id: String,
    dir: PathBuf,
    signer: Signer,
    recipient: RecipientKey,
}

impl Facility {
    fn enroll(hub_dir: &Path, id: &str, out: PathBuf) -> Facility {
        // The hospital makes its keys; the hub enrols the public parts.
        medseal_hub::pki::enroll_local(hub_dir, id, &out).unwrap();
        let key = Key::import(&std::fs::read(out.join("signing.key")).unwrap(), None).unwrap();
        let signer = Signer::new(Arc::new(key), SignOptions::default()).unwrap();
        let recipient = RecipientKey::import(&std::fs::read(out.join("hub-recipient.pub")).unwrap()).unwrap();
        Facility { id: id.to_owned(), dir: out, signer, recipient }
    }

    /// `n` records `<id>-<i>`, signed (flattened JWS, as `medseal sign` writes).
    fn sign_records(&self, n: usize) -> Vec<Signed> {
        let template = String::from_utf8(fhir_sample::patient()).unwrap();
        (0..n)
            .map(|i| {
                let id = format!("{}-{i:06}", self.id);
                let doc = template.replace("\"id\":\"nguyen-van-an\"", &format!("\"id\":\"{id}\""));
                (id, self.signer.sign(doc.as_bytes(), Serialization::Flattened).unwrap().into_bytes())
            })
            .collect()
    }

    /// The records sealed to the hub as the outbox would (sequence 1, 2, ...), as claimed
    /// records ready to post.
    fn seal_claims(&self, records: &[Signed]) -> Vec<Claimed> {
        let created = medseal::utc::format(medseal::utc::now()).unwrap();
        records
            .iter()
            .enumerate()
            .map(|(i, (id, signed))| {
                let meta = Meta {
                    record_id: id.clone(),
                    source: self.id.clone(),
                    sequence: i as u64 + 1,
                    created: created.clone(),
                    content_type: "application/jose+json".to_owned(),
                };
                let envelope = Envelope::seal_to_protobuf(signed, meta, &[&self.recipient], medseal::Aead::Aes256Gcm).unwrap();
                let digest = ring::digest::digest(&ring::digest::SHA256, &envelope).as_ref().try_into().unwrap();
                Claimed { outbox_id: i as i64 + 1, record_id: id.clone(), sequence: i as u64 + 1, envelope, digest, attempts: 1 }
            })
            .collect()
    }

    fn outbox(&self, path: PathBuf) -> Outbox {
        Outbox::open(OutboxConfig::new(path, self.id.as_str(), vec![self.recipient.clone()])).unwrap()
    }

    fn transport(&self, url: &str, batch: usize) -> Transport {
        let mut builder = TransportConfigBuilder::new(url).unwrap();
        builder.facility_dir(&self.dir).unwrap();
        builder.batch_size(batch).unwrap();
        Transport::new(builder.build().unwrap()).unwrap()
    }

    fn verifiers(&self) -> (Verifier, Verifier) {
        let key = |name: &str| Arc::new(Key::import(&std::fs::read(self.dir.join(name)).unwrap(), None).unwrap().to_public());
        (Verifier::new(vec![key("receipt.pub")]), Verifier::new(vec![key("tree-head.pub")]))
    }
}

/// What one scenario measured.
struct Outcome {
    name: &'static str,
    enqueue: Option<Span>,
    deliver: Option<Span>,
    total: Span,
}

fn check_report(name: &str, report: &DeliveryReport, n: usize) {
    assert_eq!(report.delivered, n as u64, "{name}: delivered {report:?}");
    assert_eq!((report.duplicates, report.dead_letters, report.retried), (0, 0, 0), "{name}: {report:?}");
    assert!(report.last_error.is_none(), "{name}: {report:?}");
}

/// Enqueue one by one, then deliver.
fn scenario_single(f: &Facility, dir: &Path, url: &str, batch: usize, records: &[Signed]) -> (Outcome, Outbox) {
    let outbox = f.outbox(dir.join("outbox-single.sqlite"));
    let transport = f.transport(url, batch);
    let clock = Clock::start();
    for (id, signed) in records {
        outbox.enqueue_signed(id, signed).unwrap();
    }
    let enqueued = clock.span();
    let report = deliver_all(&outbox, &transport).unwrap();
    let total = clock.span();
    check_report("single", &report, records.len());
    (Outcome { name: "single", enqueue: Some(enqueued), deliver: Some(total - enqueued), total }, outbox)
}

/// Enqueue in batches (one transaction each), then deliver.
fn scenario_batch(f: &Facility, dir: &Path, url: &str, batch: usize, records: &[Signed]) -> (Outcome, Outbox) {
    let outbox = f.outbox(dir.join("outbox-batch.sqlite"));
    let transport = f.transport(url, batch);
    let clock = Clock::start();
    for chunk in records.chunks(batch) {
        let items: Vec<(&str, &[u8])> = chunk.iter().map(|(id, s)| (id.as_str(), s.as_slice())).collect();
        outbox.enqueue_signed_batch(&items).unwrap();
    }
    let enqueued = clock.span();
    let report = deliver_all(&outbox, &transport).unwrap();
    let total = clock.span();
    check_report("batch", &report, records.len());
    (Outcome { name: "batch", enqueue: Some(enqueued), deliver: Some(total - enqueued), total }, outbox)
}

/// Enqueue in batches while the background deliverer delivers.
fn scenario_pipeline(f: &Facility, dir: &Path, url: &str, batch: usize, records: &[Signed]) -> (Outcome, Outbox) {
    let path = dir.join("outbox-pipeline.sqlite");
    let outbox = Arc::new(f.outbox(path.clone()));
    let transport = Arc::new(f.transport(url, batch));
    let deliverer = Deliverer::start(outbox.clone(), transport, Duration::from_millis(50)).unwrap();
    let n = records.len() as u64;
    let clock = Clock::start();
    for chunk in records.chunks(batch) {
        let items: Vec<(&str, &[u8])> = chunk.iter().map(|(id, s)| (id.as_str(), s.as_slice())).collect();
        outbox.enqueue_signed_batch(&items).unwrap();
        deliverer.notify();
    }
    let enqueued = clock.started.elapsed();
    // Watched through a connection of its own (a count over the state index: cheap, and it
    // never waits for the outbox's lock, which `Outbox::status` would take).
    let watch = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let count = |states: &str| -> u64 {
            watch.query_row(&format!("SELECT count(*) FROM records WHERE state IN ({states})"), [], |row| row.get(0)).unwrap()
        };
        let (delivered, dead) = (count("'delivered'"), count("'dead_letter', 'discarded'"));
        assert_eq!(dead, 0, "pipeline: dead letters");
        if delivered == n {
            break;
        }
        assert!(Instant::now() < deadline, "pipeline: {delivered} of {n} delivered after 10 minutes");
        if let Some(report) = deliverer.last_report() {
            assert!(report.last_error.is_none(), "pipeline: {report:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let total = clock.span();
    deliverer.stop();
    let outbox = Arc::try_unwrap(outbox).expect("the deliverer let go of the outbox");
    println!("     (pipeline: enqueueing alone took {:.3} s while delivery ran)", enqueued.as_secs_f64());
    (Outcome { name: "pipeline", enqueue: None, deliver: None, total }, outbox)
}

/// Delivered exactly once, gapless, every receipt verifies again (one by one, then in batches:
/// both timed, for the "where the time goes" part).
fn check_outbox(name: &str, f: &Facility, outbox: &Outbox, records: &[Signed], batch: usize) -> (Duration, Duration) {
    let status = outbox.status().unwrap();
    let n = records.len() as u64;
    assert_eq!(
        (status.delivered, status.queued, status.in_flight, status.dead_letter, status.discarded),
        (n, 0, 0, 0, 0),
        "{name}: {status:?}"
    );
    assert_eq!(status.next_sequence, n + 1, "{name}: sequence numbers");
    outbox.check_sequence().unwrap();
    let delivered = outbox.list(Some(State::Delivered), records.len() + 1).unwrap();
    assert_eq!(delivered.len(), records.len());
    let expected: HashSet<&str> = records.iter().map(|(id, _)| id.as_str()).collect();
    let mut seen = HashSet::new();
    for info in &delivered {
        assert!(expected.contains(info.record_id.as_str()), "{name}: unexpected record {}", info.record_id);
        assert!(seen.insert(info.record_id.clone()), "{name}: {} twice in the outbox", info.record_id);
        assert_eq!(info.duplicate, Some(false), "{name}: {} was a duplicate at the hub", info.record_id);
    }
    let proofs: Vec<InclusionProof> =
        delivered.iter().map(|info| InclusionProof::decode(info.inclusion.as_deref().expect("an inclusion proof")).unwrap()).collect();
    let (receipt_keys, tree_head_keys) = f.verifiers();
    let started = Instant::now();
    for (info, proof) in delivered.iter().zip(&proofs) {
        let receipt = ledger::verify_receipt(
            info.receipt.as_deref().expect("a receipt").as_bytes(),
            proof,
            &receipt_keys,
            &tree_head_keys,
            Some(&info.record_id),
            Some(&info.digest),
        )
        .unwrap_or_else(|e| panic!("{name}: the receipt of {} does not verify: {e}", info.record_id));
        assert_eq!(receipt.sequence, info.sequence);
    }
    let one_by_one = started.elapsed();
    let started = Instant::now();
    for (infos, proofs) in delivered.chunks(batch).zip(proofs.chunks(batch)) {
        let checks: Vec<ReceiptCheck<'_>> = infos
            .iter()
            .zip(proofs)
            .map(|(info, proof)| ReceiptCheck {
                receipt_jws: info.receipt.as_deref().unwrap().as_bytes(),
                inclusion: proof,
                record_id: Some(&info.record_id),
                digest: Some(&info.digest),
            })
            .collect();
        for result in ledger::verify_receipts(&checks, &receipt_keys, &tree_head_keys) {
            result.unwrap();
        }
    }
    (one_by_one, started.elapsed())
}

/// The hub's database: each record id once per source, as many ledger entries as records.
fn check_hub(hub_dir: &Path, expected: &[(&str, &[Signed])]) {
    let path = medseal_hub::files::HubPaths::new(hub_dir).database();
    let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let total: usize = expected.iter().map(|(_, r)| r.len()).sum();
    let (rows, distinct): (usize, usize) =
        conn.query_row("SELECT count(*), count(DISTINCT record_id) FROM records", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    let ledger: usize = conn.query_row("SELECT count(*) FROM ledger", [], |r| r.get(0)).unwrap();
    assert_eq!((rows, distinct, ledger), (total, total, total), "hub: records, distinct ids, ledger entries");
    for (source, records) in expected {
        let mut stmt = conn.prepare("SELECT record_id, sequence FROM records WHERE source = ?1").unwrap();
        let at_hub: Vec<(String, u64)> =
            stmt.query_map([source], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap();
        let ids: HashSet<&str> = at_hub.iter().map(|(id, _)| id.as_str()).collect();
        let wanted: HashSet<&str> = records.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, wanted, "hub: the record ids of {source}");
        let sequences: HashSet<u64> = at_hub.iter().map(|(_, s)| *s).collect();
        assert_eq!(sequences, (1..=records.len() as u64).collect(), "hub: the sequence numbers of {source}");
    }
    println!("CHECK hub: {total} records, each record id once, {ledger} ledger entries: exactly once");
}

/// HPKE sealing alone (what `enqueue_signed` does besides SQLite), on `n` records.
fn seal_only(f: &Facility, records: &[Signed]) -> (Duration, usize) {
    let recipients = [&f.recipient];
    let started = Instant::now();
    let mut bytes = 0;
    for (i, (id, signed)) in records.iter().enumerate() {
        let meta = Meta {
            record_id: id.clone(),
            source: f.id.clone(),
            sequence: i as u64 + 1,
            created: "2026-01-31T08:00:00Z".to_owned(),
            content_type: "application/jose+json".to_owned(),
        };
        bytes += Envelope::seal_to_protobuf(signed, meta, &recipients, medseal::Aead::Aes256Gcm).unwrap().len();
    }
    (started.elapsed(), bytes / records.len().max(1))
}

/// With `MEDSEAL_BENCH_PERF_CTL` = the control FIFO of `perf record --control fifo:...`
/// (started with `-D -1`, i.e. disabled), profiling is switched on for the timed scenarios only:
/// `enable` before each, `disable` after.
fn profile(command: &str) {
    if let Some(path) = std::env::var_os("MEDSEAL_BENCH_PERF_CTL") {
        use std::io::Write;
        let mut fifo = std::fs::OpenOptions::new().write(true).open(path).expect("the perf control FIFO");
        writeln!(fifo, "{command}").unwrap();
        fifo.flush().unwrap();
        std::thread::sleep(Duration::from_millis(50)); // perf reads it asynchronously
    }
}

/// Microseconds per call of `f`, over `n` calls.
fn micros(n: usize, mut f: impl FnMut(usize)) -> f64 {
    let started = Instant::now();
    for i in 0..n {
        f(i);
    }
    started.elapsed().as_secs_f64() * 1e6 / n as f64
}

/// The public-key operations every record costs, measured one by one, and the bound they put
/// on the end-to-end rate when client and hub share this machine's cores.
fn crypto_budget(cores: usize) {
    use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
    use x25519_dalek::{PublicKey, StaticSecret};
    let rng = ring::rand::SystemRandom::new();
    let secret_bytes: [u8; 32] = ring::rand::generate(&rng).unwrap().expose();
    let secret = StaticSecret::from(secret_bytes);
    let peer = PublicKey::from(&StaticSecret::from([7u8; 32]));
    let n = 2000;
    let mut sink = 0u8;
    let keygen = micros(n, |i| {
        let mut b = secret_bytes;
        b[0] ^= i as u8;
        sink ^= PublicKey::from(&StaticSecret::from(b)).as_bytes()[0];
    });
    let dh = micros(n, |_| sink ^= secret.diffie_hellman(&peer).as_bytes()[0]);
    // For comparison: ring's X25519 (ephemeral keys only: what sealing needs, not opening).
    let ring_peer = ring::agreement::UnparsedPublicKey::new(&ring::agreement::X25519, *peer.as_bytes());
    let ring_ephemeral = micros(n, |_| {
        let key = ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::X25519, &rng).unwrap();
        sink ^= key.compute_public_key().unwrap().as_ref()[0];
        sink ^= ring::agreement::agree_ephemeral(key, &ring_peer, |shared| shared[0]).unwrap();
    });
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let message = vec![b'r'; 400]; // a receipt's JWS signing input is about this long
    let signature = pair.sign(&message);
    let public = UnparsedPublicKey::new(&ED25519, pair.public_key().as_ref().to_vec());
    let sign = micros(n, |_| sink ^= pair.sign(&message).as_ref()[0]);
    let verify = micros(n, |_| public.verify(&message, signature.as_ref()).unwrap());
    std::hint::black_box(sink);
    println!("COST X25519 public key (x25519-dalek, the HPKE ephemeral key): {keygen:.1} µs");
    println!("COST X25519 Diffie-Hellman (x25519-dalek): {dh:.1} µs");
    println!(
        "COST X25519 ephemeral key + public key + Diffie-Hellman with ring (what sealing needs; medseal uses x25519-dalek): \
         {ring_ephemeral:.1} µs, vs {:.1} µs",
        keygen + dh
    );
    println!("COST Ed25519 sign (ring): {sign:.1} µs; Ed25519 verify (ring): {verify:.1} µs");
    let client = keygen + dh + verify; // seal to the hub, verify the receipt
    let hub = dh + verify + sign; // open, verify the record's signature, sign the receipt
    let bound = cores as f64 * 1e6 / (client + hub);
    println!(
        "COST public-key work per record: client {client:.0} µs (seal: key + DH; receipt: verify), hub {hub:.0} µs \
         (open: DH; record: verify; receipt: sign); with both on {cores} cores, at most {bound:.0} records/s end to end \
         from these alone (no SQLite, TLS, parsing or hashing counted)"
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this without it: nothing to do.
    if !std::env::args().any(|a| a == "--bench") {
        println!("submit: run with `cargo bench --bench submit` (a measurement, not a test)");
        return;
    }
    let n = env_usize("MEDSEAL_BENCH_RECORDS", 20_000);
    let batch = env_usize("MEDSEAL_BENCH_BATCH", 500);
    let all = ["single", "batch", "pipeline"];
    let wanted = std::env::var("MEDSEAL_BENCH_SCENARIOS").unwrap_or_default();
    let chosen: Vec<&str> = all.into_iter().filter(|s| wanted.trim().is_empty() || wanted.split(',').any(|w| w.trim() == *s)).collect();
    assert!(!chosen.is_empty(), "MEDSEAL_BENCH_SCENARIOS names none of {all:?}");
    let base = std::env::var_os("MEDSEAL_BENCH_DIR").map_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")), PathBuf::from);
    std::fs::create_dir_all(&base).unwrap();
    let temp = tempfile::Builder::new().prefix("bench-submit-").tempdir_in(&base).unwrap();
    let dir = temp.path();
    let available = available_cores();
    println!(
        "== secure submission: {n} records per scenario, batches of {batch}, {} cores ({} available to this run now), files in {}",
        cores(),
        available.map_or("n/a".to_owned(), |a| format!("{a:.2}")),
        dir.display()
    );

    // The pilot: a hub and one facility per scenario (each with its own sequence numbers).
    let hub_dir = dir.join("hub");
    let mut init = medseal_hub::InitOptions::new(&hub_dir);
    init.listen = "127.0.0.1:0".parse().unwrap();
    medseal_hub::init(&init).unwrap();
    let facilities: Vec<Facility> =
        chosen.iter().map(|name| format!("bench-{name}")).map(|id| Facility::enroll(&hub_dir, &id, dir.join(&id))).collect();

    // Signing, excluded from the rates.
    let started = Instant::now();
    let signed: Vec<Vec<Signed>> = facilities.iter().map(|f| f.sign_records(n)).collect();
    let signed_bytes = signed[0].iter().map(|(_, s)| s.len()).sum::<usize>() / n;
    line_rate(
        &format!("sign (excluded from the rates below; ~1 KB FHIR Patient, JWS EdDSA flattened, {signed_bytes} B)"),
        chosen.len() * n,
        "records",
        started.elapsed(),
    );

    let (seal_time, envelope_bytes) = seal_only(&facilities[0], &signed[0][..n.min(5000)]);

    let raw = raw_sqlite(dir, batch, envelope_bytes);

    let hub = medseal_hub::start(&hub_dir, "127.0.0.1:0".parse().unwrap()).unwrap();
    let url = hub.url().to_owned();
    println!("-- hub at {url} (mutual TLS, SQLite synchronous=FULL); outbox: WAL, synchronous=FULL");

    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut outboxes = Vec::new();
    for ((name, f), records) in chosen.iter().zip(&facilities).zip(&signed) {
        profile("enable");
        let (outcome, outbox) = match *name {
            "single" => scenario_single(f, dir, &url, batch, records),
            "batch" => scenario_batch(f, dir, &url, batch, records),
            _ => scenario_pipeline(f, dir, &url, batch, records),
        };
        profile("disable");
        if let Some(span) = outcome.enqueue {
            let how = if *name == "single" { "one record per transaction".to_owned() } else { format!("{batch} per transaction") };
            line_span(&format!("{name}: enqueue ({how}, sealing included)"), n, span);
        }
        if let Some(span) = outcome.deliver {
            line_span(&format!("{name}: deliver_all (batches of {batch}, receipts verified, marked)"), n, span);
        }
        line_span(&format!("{name}: end to end (enqueue + deliver, until every record is delivered)"), n, outcome.total);
        outcomes.push(outcome);
        outboxes.push(outbox);
    }
    // The hub alone: the same records, sealed beforehand, posted batch after batch (receipts
    // not verified, nothing recorded): the hub's rate. Its CPU is the process's minus the
    // client threads' (the client's TLS and protobuf work is in the process CPU too).
    let hub_facility = Facility::enroll(&hub_dir, "bench-hub", dir.join("bench-hub"));
    let hub_records = hub_facility.sign_records(n);
    let sealed = hub_facility.seal_claims(&hub_records);
    let transport = hub_facility.transport(&url, batch);
    profile("enable");
    let clock = Clock::start();
    for chunk in sealed.chunks(batch) {
        let results = transport.submit(chunk).unwrap();
        assert!(results.iter().all(|r| r.status == medseal::wire::RecordStatus::Accepted as i32), "hub alone: not all accepted");
    }
    let hub_span = clock.span();
    profile("disable");
    line_span(
        &format!("hub alone (pre-sealed batches of {batch} posted over mutual TLS by a client in this process, receipts not checked)"),
        n,
        hub_span,
    );
    hub.shutdown().unwrap();

    // Checks (untimed).
    let mut expected: Vec<(&str, &[Signed])> = facilities.iter().zip(&signed).map(|(f, r)| (f.id.as_str(), r.as_slice())).collect();
    expected.push((hub_facility.id.as_str(), hub_records.as_slice()));
    check_hub(&hub_dir, &expected);
    let mut verify_times = Vec::new();
    for ((outcome, outbox), (f, records)) in outcomes.iter().zip(&outboxes).zip(facilities.iter().zip(&signed)) {
        verify_times.push(check_outbox(outcome.name, f, outbox, records, batch));
        println!("CHECK {}: {n} records delivered once each, gapless sequence numbers, every receipt verifies again", outcome.name);
    }

    println!("-- where the time goes (measured apart)");
    line_rate(&format!("HPKE sealing alone (X25519 + AES-256-GCM, envelope {envelope_bytes} B)"), n.min(5000), "records", seal_time);
    crypto_budget(std::thread::available_parallelism().map_or(1, |p| p.get()));
    let (one, batched) = verify_times[0];
    line_rate("receipt verification one by one (verify_receipt: receipt + tree head each)", n, "receipts", one);
    line_rate(&format!("receipt verification in batches of {batch} (verify_receipts: each tree head once)"), n, "receipts", batched);

    // The CPU of a record, split: enqueueing (client only), and delivery in the batch scenario
    // split into the client's threads and the hub (the rest of the process).
    let per_record = |cpu: Option<Duration>| cpu.map(|cpu| cpu.as_secs_f64() * 1e6 / n as f64);
    let batch_outcome = outcomes.iter().find(|o| o.name == "batch");
    let deliver_span = batch_outcome.and_then(|o| o.deliver);
    if let (Some(enqueue), Some(deliver), Some(hub)) = (
        per_record(batch_outcome.and_then(|o| o.enqueue).and_then(|s| s.cpu)),
        per_record(deliver_span.and_then(|s| s.cpu)),
        per_record(deliver_span.and_then(|s| s.hub_cpu())),
    ) {
        let total = enqueue + deliver;
        let client_delivery = (deliver - hub).max(1.0);
        println!(
            "SPLIT CPU per record: enqueue {enqueue:.0} µs (client: seal + SQLite), hub {hub:.0} µs (during delivery), \
             client's part of delivery {client_delivery:.0} µs (the client's threads, during delivery): {total:.0} µs in all"
        );
        let available = available.unwrap_or(cores() as f64).min(cores() as f64);
        println!(
            "SPLIT so, client and hub on one machine: at most {:.0} records/s end to end with {} busy cores, {:.0} with the \
             {available:.2} this run had; the client alone (hub elsewhere, enqueue and delivery each on a core): ~{:.0} records/s",
            cores() as f64 * 1e6 / total,
            cores(),
            available * 1e6 / total,
            1e6 / enqueue.max(client_delivery)
        );
    }

    println!("-- against the raw SQLite rates of this run");
    let by_name = |name: &str| outcomes.iter().find(|o| o.name == name);
    if let Some(single) = by_name("single") {
        line_ratio("enqueue single / raw commit rate", rate(n, single.enqueue.unwrap().wall), raw.commits_per_s);
    }
    if let Some(batched) = by_name("batch") {
        let enqueue = rate(n, batched.enqueue.unwrap().wall);
        line_ratio("enqueue batched / raw batched rate (100 B rows)", enqueue, raw.batched_rows_per_s);
        line_ratio(&format!("enqueue batched / raw batched rate ({envelope_bytes} B rows)"), enqueue, raw.batched_envelope_rows_per_s);
        line_ratio("deliver (batch scenario) / raw commit rate", rate(n, batched.deliver.unwrap().wall), raw.commits_per_s);
    }
    for o in &outcomes {
        line_ratio(&format!("end to end {} / raw commit rate", o.name), rate(n, o.total.wall), raw.commits_per_s);
    }
    for o in outcomes.iter().filter(|o| o.name != "single") {
        let r = rate(n, o.total.wall);
        let verdict = if r >= GOAL_RECORDS_PER_SECOND { "meets" } else { "BELOW" };
        println!("GOAL end to end {} ≥ {GOAL_RECORDS_PER_SECOND:.0} records/s: {r:.0} records/s ({verdict})", o.name);
    }
    drop(outboxes);
}
