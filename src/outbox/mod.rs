//! The durable outbox (DESIGN 3.4, docs/SUBMISSION.md): once [`Outbox::enqueue_signed`]
//! returns, the sealed record is on disk and medseal owns it until the hub has answered.
//!
//! One SQLite file (rusqlite, SQLite compiled in) per facility, in WAL mode with
//! `synchronous=FULL`, shared safely by several processes (PHP-FPM workers, IIS app pools):
//! every write is one `BEGIN IMMEDIATE` transaction, so sequence numbers are allocated, the
//! record sealed and stored in one step, and two processes never claim the same record.
//!
//! * `schema` the tables, the file checks and the versioning (`PRAGMA user_version`);
//! * `store` [`Outbox`]: enqueue, claim and the transport's marks, status, dead letters,
//!   the local ledger of what was sealed, and the online backup. [`Outbox::open_read_only`]
//!   is for looking only: it never creates, upgrades or writes the file.
//!
//! States: `queued` → `in_flight` (claimed, with a lease) → `delivered` (receipt kept) |
//! `dead_letter` (code and reason kept) | back to `queued` (retry at `next_attempt_at`). A dead
//! letter is requeued or `discarded` (recorded: when, who, why). Nothing is ever deleted: the
//! file refuses deletes itself (triggers), and the columns of the sealed ledger (record id,
//! source, sequence, digest, envelope, time) never change once written.
//!
//! The file holds envelopes (ciphertext), their digests and routing metadata, and the SHA-256
//! of each signed record (for idempotency): never a signed record in clear.

mod heads;
mod schema;
mod store;

use std::path::PathBuf;
use std::time::Duration;

use std::sync::Arc;

use crate::keys::Key;
use crate::seal::{Aead, RecipientKey};

pub use store::Outbox;

/// How an [`Outbox`] is opened.
#[derive(Clone, Debug)]
pub struct OutboxConfig {
    /// The SQLite file (created if missing).
    pub path: PathBuf,
    /// This facility: the `meta.source` of every record (1 to 256 bytes of text without
    /// control characters). A file belongs to one facility: it records its source when created
    /// and refuses to be opened for another.
    pub source: String,
    /// Whom records are sealed to: the hub first, then any others. Public keys suffice. Empty
    /// for administration only ([`Outbox::open_existing`]): then nothing can be enqueued.
    pub recipients: Vec<RecipientKey>,
    /// The facility's own record-signing public keys. When given, a record is verified with
    /// them ([`crate::record::verify`]) BEFORE it takes a sequence number: an unsigned file,
    /// another hospital's record or a forged signature is refused and burns no number (a
    /// hole nobody could close). Empty (the default): only the record's form is checked and
    /// the hub judges the signature.
    pub signing_keys: Vec<Arc<Key>>,
    /// The AEAD records are sealed with (default AES-256-GCM).
    pub aead: Aead,
    /// How long a write waits for another process's transaction before `MEDSEAL_OUTBOX_BUSY`
    /// (default 30 s).
    pub busy_timeout: Duration,
    /// How long a claim lasts: a record still `in_flight` after its lease (a crashed
    /// deliverer) is claimed again (default 60 s).
    pub lease: Duration,
}

impl OutboxConfig {
    /// A configuration with the defaults: AES-256-GCM, busy timeout 30 s, lease 60 s.
    /// `recipients` are public (or private) X25519 keys: the hub first, then any others (an
    /// archive, the facility itself); every record is sealed to all of them.
    pub fn new(path: impl Into<PathBuf>, source: impl Into<String>, recipients: Vec<RecipientKey>) -> OutboxConfig {
        OutboxConfig {
            path: path.into(),
            source: source.into(),
            recipients,
            signing_keys: Vec::new(),
            aead: Aead::Aes256Gcm,
            busy_timeout: Duration::from_secs(30),
            lease: Duration::from_secs(60),
        }
    }
}

/// A signed tree head of the hub that this facility verified (from a receipt's inclusion
/// proof) and found consistent with every one before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenTreeHead {
    pub tree_size: u64,
    pub root_hash: [u8; 32],
    /// The compact JWS, signed by the hub's tree-head key: what an auditor holds the hub to.
    pub jws: String,
    /// Unix seconds.
    pub seen_at: i64,
}

/// Two signed tree heads of the hub that cannot both be true: proof that it showed two
/// histories. While one is recorded, delivery stops (`MEDSEAL_LEDGER_FORK`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fork {
    pub fork_id: i64,
    pub detected_at: i64,
    /// The head this facility had verified before.
    pub held_jws: String,
    /// The head the hub showed since, inconsistent with it.
    pub shown_jws: String,
    pub reason: String,
}

/// What `enqueue` returns once the record is durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalReceipt {
    /// The record's row in this outbox file.
    pub outbox_id: i64,
    pub record_id: String,
    pub source: String,
    /// Its per-source sequence number (1, 2, 3, … without gaps).
    pub sequence: u64,
    /// SHA-256 of the protobuf envelope, as stored and as sent to the hub.
    pub digest: [u8; 32],
    /// Unix seconds.
    pub enqueued_at: i64,
    /// The record id was already in the outbox with the same content: nothing was added, and
    /// this is the original receipt.
    pub already_queued: bool,
}

/// A record claimed for delivery (`in_flight` until marked or until its lease runs out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub outbox_id: i64,
    pub record_id: String,
    pub sequence: u64,
    /// The protobuf `medseal.v1.SealedRecord`, exactly as enqueued.
    pub envelope: Vec<u8>,
    /// SHA-256 of `envelope`.
    pub digest: [u8; 32],
    /// Delivery attempts so far, this one included (1 on the first claim).
    pub attempts: u32,
}

/// The hub's acknowledgement of a record (ACCEPTED or DUPLICATE).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The receipt: a compact JWS by the hub's receipt key.
    pub receipt: String,
    /// The protobuf `medseal.v1.InclusionProof` that came with it.
    pub inclusion: Vec<u8>,
    /// The hub already had the record (DUPLICATE): `receipt` is the original one.
    pub duplicate: bool,
    /// Unix seconds.
    pub delivered_at: i64,
}

/// What becomes of a record the transport had in flight, for [`Outbox::mark_batch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mark {
    /// The hub acknowledged it: as [`Outbox::mark_delivered`].
    Delivered(Delivery),
    /// A retryable failure: as [`Outbox::mark_retry`] (due again at `next_attempt_at`, Unix
    /// seconds, with `error` kept).
    Retry { next_attempt_at: i64, error: String },
    /// Refused for good: as [`Outbox::mark_dead`].
    Dead { code: String, reason: String },
}

/// Where a record is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Waiting for delivery (from `next_attempt_at` on).
    Queued,
    /// Claimed by a deliverer until its lease runs out.
    InFlight,
    /// The hub acknowledged it; its receipt is kept.
    Delivered,
    /// Refused for good (by the hub, or withdrawn); code and reason are kept.
    DeadLetter,
    /// A dead letter an operator decided not to send; the decision is recorded.
    Discarded,
}

impl State {
    /// Every state, in life order.
    pub fn all() -> [State; 5] {
        [State::Queued, State::InFlight, State::Delivered, State::DeadLetter, State::Discarded]
    }

    /// The name stored in the file and shown by the CLI: `queued`, `in_flight`, `delivered`,
    /// `dead_letter`, `discarded`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::InFlight => "in_flight",
            State::Delivered => "delivered",
            State::DeadLetter => "dead_letter",
            State::Discarded => "discarded",
        }
    }

    /// The state a name stands for (exact, as [`State::as_str`] writes it).
    #[allow(clippy::should_implement_trait)] // an Option, like trust::Role::from_str
    pub fn from_str(name: &str) -> Option<State> {
        State::all().into_iter().find(|s| s.as_str() == name)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts per state and what comes next.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboxStatus {
    pub queued: u64,
    pub in_flight: u64,
    pub delivered: u64,
    pub dead_letter: u64,
    pub discarded: u64,
    /// The sequence number the next record will get.
    pub next_sequence: u64,
    /// When the oldest record not yet delivered (queued or in flight) was enqueued.
    pub oldest_queued_at: Option<i64>,
    /// When the next record becomes claimable: the earliest `next_attempt_at` of queued
    /// records or lease end of in-flight ones (Unix seconds).
    pub next_attempt_at: Option<i64>,
}

/// Everything the outbox knows about one record (not the envelope: see [`Outbox::envelope`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordInfo {
    pub outbox_id: i64,
    pub record_id: String,
    pub source: String,
    pub sequence: u64,
    pub digest: [u8; 32],
    pub state: State,
    pub attempts: u32,
    pub enqueued_at: i64,
    /// Queued records: when they may be claimed.
    pub next_attempt_at: Option<i64>,
    /// In-flight records: when the claim runs out.
    pub lease_until: Option<i64>,
    /// The last retryable failure, if any.
    pub last_error: Option<String>,
    /// Dead letters (and discarded ones): the stable code, e.g. `ID_REUSED`.
    pub dead_code: Option<String>,
    pub dead_reason: Option<String>,
    /// Delivered records: the hub's receipt (compact JWS), its inclusion proof (protobuf) and
    /// whether the hub called it a duplicate.
    pub receipt: Option<String>,
    pub inclusion: Option<Vec<u8>>,
    pub duplicate: Option<bool>,
    pub delivered_at: Option<i64>,
    /// Withdrawn with a signed tombstone ([`Outbox::withdraw_signed`]): the SHA-256 of the
    /// withdrawal's envelope, which is what the hub gets (and what the receipt names) instead of
    /// `digest`, which stays the record's.
    pub withdrawal_digest: Option<[u8; 32]>,
}

/// One recorded decision about a record: dead-lettered, withdrawn, requeued or discarded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Unix seconds.
    pub at: i64,
    /// `dead_letter`, `withdrawn`, `requeued` or `discarded`.
    pub action: String,
    /// Who did it: the operator for requeues and discards, `transport` for the hub's refusals.
    pub who: Option<String>,
    /// The dead-letter code.
    pub code: Option<String>,
    /// The reason given.
    pub detail: Option<String>,
}
