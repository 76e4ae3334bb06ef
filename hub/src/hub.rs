//! The hub's core, without HTTP: keys, the verifier of facility signatures, the database and
//! the in-memory Merkle tree, and the processing of one batch (docs/SUBMISSION.md).
//!
//! A batch is processed in two phases. First, without any lock, every record is checked
//! (digest, envelope, meta, source, decryption with the hub's key, signature): the costly
//! part, run by several batches at once. Then, holding the ledger lock, in order: duplicates
//! and reused ids are found, the accepted records are stored with their ledger entries, their
//! receipts and the new signed tree head, all in ONE SQLite transaction; only then does the
//! hub answer.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use medseal::jws::TrustedBy;
use medseal::ledger::{leaf_hash, receipt_sign_options, tree_head_sign_options, Hash, LedgerEntry, MerkleTree, Receipt, TreeHead};
use medseal::record::{self, OpenStep};
use medseal::trust::TrustList;
use medseal::untrusted::shown;
use medseal::utc::now;
use medseal::wire::{InclusionProof, SubmittedRecord};
use medseal::{Envelope, Key, Meta, RecipientKey, ResultCode, SignOptions, Signer, Verifier};
use rusqlite::Connection;

use crate::config::HubConfig;
use crate::error::{Error, Result};
use crate::files::{self, HubPaths};
use crate::store::{self, NewRecord, StoredRecord};

/// Most records in one batch.
pub const MAX_BATCH_RECORDS: usize = 1000;
/// Most envelope bytes in one batch (and the largest protobuf body).
pub const MAX_BATCH_BYTES: usize = 64 << 20;

/// Batches of at least this many records are checked on several threads.
const PARALLEL_FROM: usize = 32;
/// At most this many threads check one batch.
const MAX_CHECK_THREADS: usize = 4;

/// Why a record was refused for good: the stable codes of docs/SUBMISSION.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// The record's source is not the client certificate's facility.
    SourceMismatch,
    /// The envelope's SHA-256 is not the digest sent with it.
    DigestMismatch,
    /// The record id was accepted before with another digest.
    IdReused,
    /// The facility's sequence number is already held by another of its records (two outboxes
    /// numbering from the same start, or a restored backup): the ledger never holds a repeat.
    SequenceReused,
    /// The hub's key is not among the envelope's recipients.
    NotForHub,
    /// The envelope did not open with the hub's key (altered, or not HPKE to this key).
    DecryptFailed,
    /// The record inside does not verify with a key the hub trusts.
    SignatureInvalid,
    /// The record inside is signed by a key of another facility.
    SignerMismatch,
    /// Not a well-formed submission or envelope.
    Malformed,
}

impl Code {
    /// Every code.
    pub const ALL: [Code; 9] = [
        Code::SourceMismatch,
        Code::DigestMismatch,
        Code::IdReused,
        Code::SequenceReused,
        Code::NotForHub,
        Code::DecryptFailed,
        Code::SignatureInvalid,
        Code::SignerMismatch,
        Code::Malformed,
    ];

    /// The code as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::SourceMismatch => "SOURCE_MISMATCH",
            Code::DigestMismatch => "DIGEST_MISMATCH",
            Code::IdReused => "ID_REUSED",
            Code::SequenceReused => "SEQUENCE_REUSED",
            Code::NotForHub => "NOT_FOR_HUB",
            Code::DecryptFailed => "DECRYPT_FAILED",
            Code::SignatureInvalid => "SIGNATURE_INVALID",
            Code::SignerMismatch => "SIGNER_MISMATCH",
            Code::Malformed => "MALFORMED",
        }
    }
}

/// What became of one record.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Stored and appended to the ledger now.
    Accepted { receipt: String, inclusion: InclusionProof },
    /// Accepted before with the same digest: the original receipt, a fresh proof.
    Duplicate { receipt: String, inclusion: InclusionProof },
    /// Refused for good.
    Rejected { code: Code, reason: String },
}

/// One result per submitted record, in order.
#[derive(Clone, Debug)]
pub struct RecordOutcome {
    pub record_id: String,
    pub outcome: Outcome,
}

/// Why a whole batch was not processed (answered with an HTTP error, not per record).
#[derive(Debug)]
pub enum BatchError {
    /// The client certificate names no facility the hub knows (403).
    NotEnrolled(String),
    /// The hub cannot judge signatures now (its trust list is stale): 503, try later.
    Unavailable(String),
    /// Storage or signing failed: 500, nothing was stored.
    Internal(Error),
}

impl From<Error> for BatchError {
    fn from(e: Error) -> Self {
        BatchError::Internal(e)
    }
}

impl From<rusqlite::Error> for BatchError {
    fn from(e: rusqlite::Error) -> Self {
        BatchError::Internal(e.into())
    }
}

impl From<medseal::Error> for BatchError {
    fn from(e: medseal::Error) -> Self {
        BatchError::Internal(e.into())
    }
}

/// The latest signed tree head, as served.
#[derive(Clone, Debug)]
pub struct SignedHead {
    pub head: TreeHead,
    pub jws: String,
}

/// Whose record-signing keys the hub trusts.
enum Trust {
    /// The keys registered by `enroll` (reloaded when the registry changes).
    Enrolled(RwLock<Arc<Registry>>),
    /// A signed trust list (record-signing entries; the entry's facility must be the source).
    List { list: Arc<TrustList>, verifier: Verifier, min_sequence: u64 },
}

/// The enrolled facilities and their signing keys.
struct Registry {
    version: (i64, i64, i64),
    verifier: Verifier,
    /// Key thumbprint → facility.
    owners: HashMap<String, String>,
    facilities: HashSet<String>,
}

/// The ledger: the database and the in-memory tree of its leaves, locked together.
struct LedgerState {
    conn: Connection,
    tree: MerkleTree,
}

/// A record that passed the lock-free checks, or why it did not.
enum Checked {
    /// Refused before the duplicate check (the record cannot be the one accepted before).
    Early(Code, String),
    /// Well-formed and from this facility; `late` is a refusal that a duplicate overrides.
    Candidate { meta: Meta, digest: Hash, late: Option<(Code, String)> },
}

/// A running hub's state. Shared by every connection.
pub struct Hub {
    paths: HubPaths,
    config: HubConfig,
    recipient: RecipientKey,
    receipt_signer: Signer,
    tree_head_signer: Signer,
    trust: Trust,
    ledger: Mutex<LedgerState>,
    /// A second connection for reads that must not wait for a batch's commit.
    reader: Mutex<Connection>,
    latest: RwLock<Arc<SignedHead>>,
    /// Batches being processed now (for the 503 overload answer).
    pub(crate) in_flight: AtomicUsize,
}

impl Hub {
    /// Opens the hub in `dir`: configuration, keys, trust, database; rebuilds the tree from the
    /// ledger table and checks it against the latest signed tree head.
    pub fn open(dir: &Path) -> Result<Hub> {
        let paths = HubPaths::new(dir);
        let config = HubConfig::load(&paths)?;
        let recipient = RecipientKey::import(&files::read(&paths.recipient_key(), 1 << 16)?)
            .map_err(|e| Error::from(e).context(paths.recipient_key().display()))?;
        let receipt_signer = signer(&paths.receipt_key(), receipt_sign_options())?;
        let tree_head_signer = signer(&paths.tree_head_key(), tree_head_sign_options())?;
        if receipt_signer.key().kid() == tree_head_signer.key().kid() {
            return Err(Error::new("the receipt key and the tree-head key are the same key; one key serves one role"));
        }
        let conn = store::open(&paths.database(), false)?;
        let reader = store::open(&paths.database(), false)?;
        let trust = match &config.trust_list {
            None => Trust::Enrolled(RwLock::new(Arc::new(load_registry(&reader)?))),
            Some(tl) => {
                let resolve = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { paths.dir().join(p) };
                let mut keys = Vec::new();
                for key in &tl.keys {
                    let path = resolve(key);
                    let key = Key::import(&files::read(&path, 1 << 20)?, None).map_err(|e| Error::from(e).context(path.display()))?;
                    keys.push(Arc::new(key.to_public()));
                }
                let path = resolve(&tl.file);
                let list = TrustList::verify(&files::read(&path, 96 << 20)?, &Verifier::new(keys), now(), tl.min_sequence)
                    .map_err(|e| Error::from(e).context(path.display()))?;
                let list = Arc::new(list);
                let verifier = Verifier::new(Vec::new()).with_trust_list(list.clone());
                Trust::List { list, verifier, min_sequence: tl.min_sequence }
            }
        };
        let tree = MerkleTree::from_leaves(store::leaves(&conn)?);
        let latest = match store::latest_tree_head(&conn)? {
            Some((size, jws)) => {
                let keys = Verifier::new(vec![Arc::new(tree_head_signer.key().to_public())]);
                let head = TreeHead::verify(jws.as_bytes(), &keys).map_err(|e| Error::from(e).context("the latest tree head"))?;
                if size > tree.len() || head.tree_size != size || tree.root(size)? != head.root_hash {
                    return Err(Error::new(format!(
                        "the ledger table ({} entries) does not match the signed tree head of size {size}: the database was altered",
                        tree.len()
                    )));
                }
                (size == tree.len()).then_some(SignedHead { head, jws })
            }
            None => None,
        };
        let hub_latest = match latest {
            Some(head) => head,
            None => {
                // No head for the current size (a database made elsewhere): sign one.
                let head = TreeHead { tree_size: tree.len(), root_hash: tree.root(tree.len())?, timestamp: now() };
                let jws = head.sign(&tree_head_signer)?;
                store::insert_tree_head(&conn, head.tree_size, &head.root_hash, head.timestamp, &jws)?;
                SignedHead { head, jws }
            }
        };
        Ok(Hub {
            paths,
            config,
            recipient,
            receipt_signer,
            tree_head_signer,
            trust,
            ledger: Mutex::new(LedgerState { conn, tree }),
            reader: Mutex::new(reader),
            latest: RwLock::new(Arc::new(hub_latest)),
            in_flight: AtomicUsize::new(0),
        })
    }

    /// The ledger lock. After a panic while it was held (the transaction was rolled back), the
    /// tree is rebuilt from the database before anyone uses it.
    fn ledger_state(&self) -> MutexGuard<'_, LedgerState> {
        match self.ledger.lock() {
            Ok(state) => state,
            Err(poisoned) => {
                let mut state = poisoned.into_inner();
                match store::leaves(&state.conn) {
                    Ok(leaves) => state.tree = MerkleTree::from_leaves(leaves),
                    Err(e) => eprintln!("medseal-hub: cannot reload the ledger: {e}"),
                }
                self.ledger.clear_poison();
                state
            }
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// The hub directory's paths.
    pub fn paths(&self) -> &HubPaths {
        &self.paths
    }

    /// The latest signed tree head.
    pub fn latest(&self) -> Arc<SignedHead> {
        self.latest.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Processes one batch from `facility` (the client certificate's CN): one outcome per
    /// record, in order.
    pub fn submit(&self, facility: &str, records: &[SubmittedRecord]) -> Result<Vec<RecordOutcome>, BatchError> {
        let check = self.checker(facility)?;
        // Opening and verifying is the costly part: large batches use several cores.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_CHECK_THREADS);
        let checked: Vec<Checked> = if records.len() < PARALLEL_FROM || threads < 2 {
            records.iter().map(|r| check.check(r)).collect()
        } else {
            let chunk = records.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let check = &check;
                let parts: Vec<_> = records
                    .chunks(chunk)
                    .map(|part| scope.spawn(move || part.iter().map(|r| check.check(r)).collect::<Vec<_>>()))
                    .collect();
                parts.into_iter().flat_map(|p| p.join().expect("a record check panicked")).collect()
            })
        };
        self.commit(records, checked)
    }

    /// What judges signatures for this batch: the current registry, or the fresh trust list.
    fn checker<'h>(&'h self, facility: &'h str) -> Result<Checker<'h>, BatchError> {
        let (verifier, owners) = match &self.trust {
            Trust::Enrolled(registry) => {
                let registry = self.registry(registry)?;
                if !registry.facilities.contains(facility) {
                    return Err(BatchError::NotEnrolled(format!("the facility {} is not enrolled at this hub", shown(facility))));
                }
                (registry.verifier.clone(), Some(registry))
            }
            Trust::List { list, verifier, min_sequence } => {
                list.check_fresh(now(), *min_sequence)
                    .map_err(|e| BatchError::Unavailable(format!("the hub's trust list: {}", e.message())))?;
                (verifier.clone(), None)
            }
        };
        Ok(Checker { hub: self, facility, verifier, owners })
    }

    /// The registry, reloaded when a facility or key was added since it was read.
    fn registry(&self, current: &RwLock<Arc<Registry>>) -> Result<Arc<Registry>> {
        let cached = current.read().unwrap_or_else(|e| e.into_inner()).clone();
        let reader = lock(&self.reader);
        if store::registry_version(&reader)? == cached.version {
            return Ok(cached);
        }
        let fresh = Arc::new(load_registry(&reader)?);
        *current.write().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
        Ok(fresh)
    }

    /// The locked phase: duplicates, storage, ledger, receipts, tree head, one transaction.
    fn commit(&self, records: &[SubmittedRecord], checked: Vec<Checked>) -> Result<Vec<RecordOutcome>, BatchError> {
        let mut state = self.ledger_state();
        let state = &mut *state;
        let old_size = state.tree.len();
        let result = self.commit_locked(state, records, checked);
        if result.is_err() && state.tree.len() != old_size {
            // Nothing was committed: the tree goes back to what the database holds.
            match store::leaves(&state.conn) {
                Ok(leaves) => state.tree = MerkleTree::from_leaves(leaves),
                Err(e) => eprintln!("medseal-hub: cannot reload the ledger after a failed batch: {e}"),
            }
        }
        result
    }

    fn commit_locked(
        &self,
        state: &mut LedgerState,
        records: &[SubmittedRecord],
        checked: Vec<Checked>,
    ) -> Result<Vec<RecordOutcome>, BatchError> {
        /// A result still to be completed once the batch's tree size is known.
        enum Pending {
            Done(Outcome),
            Accepted(usize),
            DuplicateInBatch(usize),
            Duplicate(StoredRecord),
        }
        struct Accept<'a> {
            meta: Meta,
            digest: Hash,
            envelope: &'a [u8],
            index: u64,
            entry_json: Vec<u8>,
            leaf: Hash,
            receipt: String,
        }
        let received = now();
        let tx = state.conn.transaction()?;
        let mut accepts: Vec<Accept<'_>> = Vec::new();
        let mut in_batch: HashMap<String, usize> = HashMap::new();
        let mut sequences_in_batch: HashSet<(String, u64)> = HashSet::new();
        let mut pending = Vec::with_capacity(records.len());
        for (record, checked) in records.iter().zip(checked) {
            let (meta, digest, late) = match checked {
                Checked::Early(code, reason) => {
                    pending.push(Pending::Done(Outcome::Rejected { code, reason }));
                    continue;
                }
                Checked::Candidate { meta, digest, late } => (meta, digest, late),
            };
            if let Some(&a) = in_batch.get(&meta.record_id) {
                pending.push(if accepts[a].digest == digest { Pending::DuplicateInBatch(a) } else { Pending::Done(id_reused()) });
                continue;
            }
            if let Some(stored) = store::find_record(&tx, &meta.record_id)? {
                pending.push(if stored.digest == digest { Pending::Duplicate(stored) } else { Pending::Done(id_reused()) });
                continue;
            }
            if let Some((code, reason)) = late {
                pending.push(Pending::Done(Outcome::Rejected { code, reason }));
                continue;
            }
            let place = (meta.source.clone(), meta.sequence);
            if sequences_in_batch.contains(&place) || store::sequence_taken(&tx, &meta.source, meta.sequence)? {
                pending.push(Pending::Done(sequence_reused(&meta)));
                continue;
            }
            let entry =
                LedgerEntry { record_id: meta.record_id.clone(), source: meta.source.clone(), sequence: meta.sequence, digest, received };
            if let Err(e) = entry.validate() {
                pending.push(Pending::Done(Outcome::Rejected { code: Code::Malformed, reason: e.message().to_owned() }));
                continue;
            }
            let entry_json = entry.to_json();
            let leaf = leaf_hash(&entry_json);
            let index = state.tree.push(leaf);
            in_batch.insert(meta.record_id.clone(), accepts.len());
            sequences_in_batch.insert(place);
            pending.push(Pending::Accepted(accepts.len()));
            accepts.push(Accept { meta, digest, envelope: &record.envelope, index, entry_json, leaf, receipt: String::new() });
        }

        let size = state.tree.len();
        let head = if accepts.is_empty() {
            None
        } else {
            for a in &mut accepts {
                let receipt = Receipt {
                    record_id: a.meta.record_id.clone(),
                    source: a.meta.source.clone(),
                    sequence: a.meta.sequence,
                    digest: a.digest,
                    received,
                    ledger_index: a.index,
                    tree_size: size,
                };
                a.receipt = receipt.sign(&self.receipt_signer)?;
                store::insert_record(
                    &tx,
                    &NewRecord {
                        meta: &a.meta,
                        digest: &a.digest,
                        envelope: a.envelope,
                        received,
                        ledger_index: a.index,
                        leaf_hash: &a.leaf,
                        entry_json: &a.entry_json,
                        receipt: &a.receipt,
                        receipt_tree_size: size,
                    },
                )?;
            }
            let head = TreeHead { tree_size: size, root_hash: state.tree.root(size)?, timestamp: received };
            let jws = head.sign(&self.tree_head_signer)?;
            store::insert_tree_head(&tx, size, &head.root_hash, head.timestamp, &jws)?;
            Some(SignedHead { head, jws })
        };
        tx.commit()?;
        if let Some(head) = head {
            *self.latest.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(head);
        }

        // Proofs for the answer (the tree already holds the batch).
        let latest = self.latest();
        let accepted_proof = |index: u64| -> Result<InclusionProof> {
            Ok(InclusionProof {
                leaf_index: index,
                tree_size: size,
                audit_path: path(&state.tree, index, size)?,
                tree_head: latest.jws.clone(),
            })
        };
        let mut outcomes = Vec::with_capacity(records.len());
        for (record, pending) in records.iter().zip(pending) {
            let outcome = match pending {
                Pending::Done(outcome) => outcome,
                Pending::Accepted(a) => {
                    Outcome::Accepted { receipt: accepts[a].receipt.clone(), inclusion: accepted_proof(accepts[a].index)? }
                }
                Pending::DuplicateInBatch(a) => {
                    Outcome::Duplicate { receipt: accepts[a].receipt.clone(), inclusion: accepted_proof(accepts[a].index)? }
                }
                Pending::Duplicate(stored) => {
                    let inclusion = self.proof_for(&state.conn, &state.tree, stored.ledger_index, stored.receipt_tree_size)?;
                    Outcome::Duplicate { receipt: stored.receipt, inclusion }
                }
            };
            outcomes.push(RecordOutcome { record_id: record.record_id.clone(), outcome });
        }
        Ok(outcomes)
    }

    /// An inclusion proof of `index` in the tree of `size`, with the signed head of that size
    /// (the one a receipt names). Sizes without a signed head fall back to the latest.
    fn proof_for(&self, conn: &Connection, tree: &MerkleTree, index: u64, size: u64) -> Result<InclusionProof> {
        match store::tree_head(conn, size)? {
            Some(jws) => Ok(InclusionProof { leaf_index: index, tree_size: size, audit_path: path(tree, index, size)?, tree_head: jws }),
            None => {
                let latest = self.latest();
                let size = latest.head.tree_size;
                Ok(InclusionProof {
                    leaf_index: index,
                    tree_size: size,
                    audit_path: path(tree, index, size)?,
                    tree_head: latest.jws.clone(),
                })
            }
        }
    }

    /// `GET /v1/proofs/inclusion`: `None` when the hub never signed a head of `size`.
    pub fn inclusion_proof(&self, index: u64, size: Option<u64>) -> Result<Option<InclusionProof>, medseal::Error> {
        let state = self.ledger_state();
        let size = size.unwrap_or_else(|| self.latest().head.tree_size);
        let audit_path = path_checked(&state.tree, index, size)?;
        let tree_head =
            store::tree_head(&state.conn, size).map_err(|e| medseal::Error::new(ResultCode::MEDSEAL_SYSTEM_ERROR, e.to_string()))?;
        Ok(tree_head.map(|tree_head| InclusionProof { leaf_index: index, tree_size: size, audit_path, tree_head }))
    }

    /// `GET /v1/proofs/consistency`.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Vec<u8>>, medseal::Error> {
        let state = self.ledger_state();
        Ok(state.tree.consistency_proof(first, second)?.iter().map(|h| h.to_vec()).collect())
    }

    /// The number of ledger entries.
    pub fn tree_size(&self) -> u64 {
        self.ledger_state().tree.len()
    }

    /// `GET /v1/ledger/entries`: entries `start..end` (canonical JSON).
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<String>> {
        store::entries(&lock(&self.reader), start, end)
    }
}

/// The lock-free checks of one batch's records.
struct Checker<'h> {
    hub: &'h Hub,
    facility: &'h str,
    verifier: Verifier,
    /// With enrolled keys: the registry (key thumbprint → facility). `None` with a trust list.
    owners: Option<Arc<Registry>>,
}

impl Checker<'_> {
    fn check(&self, record: &SubmittedRecord) -> Checked {
        use Checked::Early;
        let digest: Hash = ring::digest::digest(&ring::digest::SHA256, &record.envelope).as_ref().try_into().expect("32 bytes");
        // The digest is public (it is in the receipt): no need for a constant-time compare.
        if record.digest.as_slice() != digest.as_slice() {
            let reason = if record.digest.len() != 32 {
                format!("the digest has {} bytes; a SHA-256 digest has 32", record.digest.len())
            } else {
                "the envelope's SHA-256 is not the digest sent with it".to_owned()
            };
            return Early(Code::DigestMismatch, reason);
        }
        let envelope = match Envelope::from_protobuf(&record.envelope) {
            Ok(envelope) => envelope,
            Err(e) => return Early(Code::Malformed, format!("the envelope: {}", e.message())),
        };
        let meta = &envelope.meta;
        if meta.record_id != record.record_id {
            return Early(
                Code::Malformed,
                format!("record_id {} is not the envelope's meta.record_id {}", shown(&record.record_id), shown(&meta.record_id)),
            );
        }
        if meta.source != self.facility {
            return Early(
                Code::SourceMismatch,
                format!("the record's source is {}, but the client certificate is {}'s", shown(&meta.source), shown(self.facility)),
            );
        }
        // A flattened JWS or a compact one, each labelled as what it is (medseal::record).
        if let Err(e) = record::check_content_type(&meta.content_type) {
            return Early(Code::Malformed, e.message().to_owned());
        }
        let late = self.open_and_verify(&envelope).err();
        Checked::Candidate { meta: envelope.meta, digest, late }
    }

    /// Opens with the hub's key and verifies the signed record inside exactly as the library
    /// does for hospitals ([`record::open_verified_steps`]); the signer must belong to the
    /// envelope's source.
    fn open_and_verify(&self, envelope: &Envelope) -> Result<(), (Code, String)> {
        let verified = record::open_verified_steps(envelope, &self.hub.recipient, &self.verifier).map_err(|(step, e)| match step {
            OpenStep::ContentType | OpenStep::NotARecord => (Code::Malformed, e.message().to_owned()),
            OpenStep::Open if e.code() == ResultCode::MEDSEAL_SEAL_WRONG_RECIPIENT => {
                (Code::NotForHub, "the envelope is not sealed to this hub's key".to_owned())
            }
            OpenStep::Open => (Code::DecryptFailed, e.message().to_owned()),
            OpenStep::Verify => (Code::SignatureInvalid, format!("{} ({})", e.message(), e.code().name())),
        })?;
        let signer = match (&verified.trusted_by, &self.owners) {
            (TrustedBy::TrustList { facility }, _) => Some(facility.as_str()),
            (TrustedBy::Key, Some(registry)) => registry.owners.get(&verified.key_id).map(String::as_str),
            _ => None,
        };
        match signer {
            Some(signer) if signer == envelope.meta.source => Ok(()),
            Some(signer) => Err((
                Code::SignerMismatch,
                format!("the record is signed by a key of {}, not of its source {}", shown(signer), shown(&envelope.meta.source)),
            )),
            None => Err((Code::SignerMismatch, "the record is signed by a key that belongs to no facility".to_owned())),
        }
    }
}

fn load_registry(conn: &Connection) -> Result<Registry> {
    let version = store::registry_version(conn)?;
    let mut keys = Vec::new();
    let mut owners = HashMap::new();
    for (facility, pem) in store::facility_keys(conn)? {
        let key = Key::import(pem.as_bytes(), None).map_err(|e| Error::from(e).context(format!("{facility}'s enrolled key")))?;
        owners.insert(key.kid().to_owned(), facility);
        keys.push(Arc::new(key));
    }
    let facilities = store::facilities(conn)?.into_iter().collect();
    Ok(Registry { version, verifier: Verifier::new(keys), owners, facilities })
}

fn signer(path: &Path, options: SignOptions) -> Result<Signer> {
    let key = Key::import(&files::read(path, 1 << 20)?, None).map_err(|e| Error::from(e).context(path.display()))?;
    Ok(Signer::new(Arc::new(key), options)?)
}

fn id_reused() -> Outcome {
    Outcome::Rejected { code: Code::IdReused, reason: "this record id was accepted before with another digest".to_owned() }
}

fn sequence_reused(meta: &Meta) -> Outcome {
    Outcome::Rejected {
        code: Code::SequenceReused,
        reason: format!(
            "sequence {} of this facility is already held by another record: each outbox of a facility needs its own range of sequence numbers",
            meta.sequence
        ),
    }
}

fn path(tree: &MerkleTree, index: u64, size: u64) -> Result<Vec<Vec<u8>>> {
    Ok(path_checked(tree, index, size)?)
}

fn path_checked(tree: &MerkleTree, index: u64, size: u64) -> Result<Vec<Vec<u8>>, medseal::Error> {
    Ok(tree.inclusion_proof(index, size)?.iter().map(|h| h.to_vec()).collect())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Only reads happen under this lock: a panic cannot have left anything half-done.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
