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

use medseal::ledger::{leaf_hash, receipt_sign_options, tree_head_sign_options, Hash, LedgerEntry, MerkleTree, Receipt, TreeHead};
use medseal::record::{self, OpenStep};
use medseal::trust::{Role, TrustList};
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
    /// The record is signed by a key revoked (`medseal hub revoke`) before the hub received it.
    KeyRevoked,
    /// The record is signed by a trust-list key whose window ended longer ago than the grace
    /// period when the hub received it.
    KeyRetired,
    /// The record's `sigT` is further in the future than the clock skew allows, or older than
    /// the hub's acceptance window (backdating).
    SigningTimeRefused,
    /// Not a well-formed submission or envelope.
    Malformed,
}

impl Code {
    /// Every code.
    pub const ALL: [Code; 12] = [
        Code::SourceMismatch,
        Code::DigestMismatch,
        Code::IdReused,
        Code::SequenceReused,
        Code::NotForHub,
        Code::DecryptFailed,
        Code::SignatureInvalid,
        Code::SignerMismatch,
        Code::KeyRevoked,
        Code::KeyRetired,
        Code::SigningTimeRefused,
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
            Code::KeyRevoked => "KEY_REVOKED",
            Code::KeyRetired => "KEY_RETIRED",
            Code::SigningTimeRefused => "SIGNING_TIME_REFUSED",
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

/// Whose record-signing keys the hub trusts. Either way a record is checked against its own
/// facility's keys only: a batch costs one facility's keys per record, not every facility's.
enum Trust {
    /// The keys registered by `enroll` (reloaded when the registry changes).
    Enrolled(RwLock<Arc<Registry>>),
    /// A signed trust list (record-signing entries; the entry's facility must be the source).
    List { list: Arc<TrustList>, by_facility: HashMap<String, Verifier>, min_sequence: u64 },
}

/// The enrolled facilities and their signing keys.
struct Registry {
    version: i64,
    /// Per facility: a verifier of its own keys (revoked ones included: revocation is judged
    /// against the time each record is received) and when each revoked key stopped counting.
    facilities: HashMap<String, FacilityKeys>,
    /// Key thumbprint → facility, for naming the owner of a key a record claims (no signature
    /// is checked against another facility's keys).
    owners: HashMap<String, String>,
}

struct FacilityKeys {
    verifier: Option<Verifier>,
    revoked: HashMap<String, i64>,
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
    /// Well-formed and from this facility; `late` is a refusal that a duplicate overrides;
    /// `withdrawn` is the reason of a withdrawal (the facility's signed tombstone).
    Candidate { meta: Meta, digest: Hash, late: Option<(Code, String)>, withdrawn: Option<String> },
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
    /// Revoked client certificates (fingerprint → from when) and the registry version read.
    revoked_certificates: RwLock<(i64, Arc<HashMap<String, i64>>)>,
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
                let signed = files::read(&path, 96 << 20)?;
                let list = TrustList::verify(&signed, &Verifier::new(keys.clone()), now(), tl.min_sequence)
                    .map_err(|e| Error::from(e).context(path.display()))?;
                // Kept for the audit: records are judged years later with the list of their day.
                for key in &keys {
                    let pem = String::from_utf8(key.export(medseal::KeyFormat::SpkiPem)?.to_vec()).expect("PEM is ASCII");
                    store::remember_trust_list_key(&conn, key.kid(), &pem, now())?;
                }
                store::remember_trust_list(&conn, list.sequence, list.issued, list.expires, &signed, now())
                    .map_err(|e| e.context(path.display()))?;
                let facilities: HashSet<&str> = list.entries().iter().map(|e| e.facility.as_str()).collect();
                let by_facility = facilities
                    .into_iter()
                    .map(|f| (f.to_owned(), Verifier::new(Vec::new()).with_trust_list(Arc::new(list.restricted_to(f)))))
                    .collect();
                Trust::List { list: Arc::new(list), by_facility, min_sequence: tl.min_sequence }
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
            revoked_certificates: RwLock::new((i64::MIN, Arc::default())),
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

    /// What judges signatures for this batch: the facility's enrolled keys, or its entries in
    /// the fresh trust list.
    fn checker<'h>(&'h self, facility: &'h str) -> Result<Checker<'h>, BatchError> {
        let judge = match &self.trust {
            Trust::Enrolled(registry) => {
                let registry = self.registry(registry)?;
                if !registry.facilities.contains_key(facility) {
                    let reason = match store::role(&lock(&self.reader), facility)? {
                        Some(store::Role::Auditor) => {
                            format!("{} is enrolled as an auditor: auditors read, they submit nothing", shown(facility))
                        }
                        _ => format!("the facility {} is not enrolled at this hub", shown(facility)),
                    };
                    return Err(BatchError::NotEnrolled(reason));
                }
                Judge::Enrolled(registry)
            }
            Trust::List { list, by_facility, min_sequence } => {
                list.check_fresh(now(), *min_sequence)
                    .map_err(|e| BatchError::Unavailable(format!("the hub's trust list: {}", e.message())))?;
                Judge::List { list, verifier: by_facility.get(facility) }
            }
        };
        Ok(Checker { hub: self, facility, judge, received: now() })
    }

    /// Whether the client certificate with this fingerprint is revoked now. Read from the
    /// database whenever the registry changed (`medseal hub revoke` is another process). A
    /// database error refuses the certificate: revocation must not fail open.
    pub fn certificate_revoked(&self, fingerprint: &str) -> bool {
        let reader = lock(&self.reader);
        let Ok(version) = store::registry_version(&reader) else { return true };
        let cached = self.revoked_certificates.read().unwrap_or_else(|e| e.into_inner()).clone();
        let revoked = if cached.0 == version {
            cached.1
        } else {
            let Ok(fresh) = store::revoked_certificates(&reader) else { return true };
            let fresh = Arc::new(fresh);
            *self.revoked_certificates.write().unwrap_or_else(|e| e.into_inner()) = (version, fresh.clone());
            fresh
        };
        revoked.get(fingerprint).is_some_and(|&at| at <= now())
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
            withdrawn: Option<String>,
        }
        let received = now();
        let tx = state.conn.transaction()?;
        let mut accepts: Vec<Accept<'_>> = Vec::new();
        let mut in_batch: HashMap<String, usize> = HashMap::new();
        let mut sequences_in_batch: HashSet<(String, u64)> = HashSet::new();
        let mut pending = Vec::with_capacity(records.len());
        for (record, checked) in records.iter().zip(checked) {
            let (meta, digest, late, withdrawn) = match checked {
                Checked::Early(code, reason) => {
                    pending.push(Pending::Done(Outcome::Rejected { code, reason }));
                    continue;
                }
                Checked::Candidate { meta, digest, late, withdrawn } => (meta, digest, late, withdrawn),
            };
            if let Some(&a) = in_batch.get(&meta.record_id) {
                pending.push(if accepts[a].digest == digest { Pending::DuplicateInBatch(a) } else { Pending::Done(id_reused()) });
                continue;
            }
            if let Some(stored) = store::find_record(&tx, &meta.source, &meta.record_id)? {
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
            let entry = LedgerEntry {
                record_id: meta.record_id.clone(),
                source: meta.source.clone(),
                sequence: meta.sequence,
                digest,
                received,
                withdrawn: withdrawn.clone(),
            };
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
            accepts.push(Accept { meta, digest, envelope: &record.envelope, index, entry_json, leaf, receipt: String::new(), withdrawn });
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
                    withdrawn: a.withdrawn.clone(),
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
        store::entries(&lock(&self.reader), start, end, None)
    }

    /// The entries of `start..end` that `name` may read: all of them for an auditor, its own
    /// for anyone else.
    pub fn entries_for(&self, name: &str, start: u64, end: u64) -> Result<Vec<String>> {
        let reader = lock(&self.reader);
        let source = match store::role(&reader, name)? {
            Some(store::Role::Auditor) => None,
            _ => Some(name),
        };
        store::entries(&reader, start, end, source)
    }

    /// A page of [`Hub::entries_for`], of one facility's entries when `source` is given: at most
    /// `limit` entries, and where the next page starts when the range holds more. `None` when
    /// `name` may not read `source`'s entries (a facility asking for another's).
    pub fn entries_page_for(
        &self,
        name: &str,
        source: Option<&str>,
        start: u64,
        end: u64,
        limit: u64,
    ) -> Result<Option<(Vec<String>, Option<u64>)>> {
        let reader = lock(&self.reader);
        let source = match (store::role(&reader, name)?, source) {
            (Some(store::Role::Auditor), source) => source,
            (_, Some(source)) if source != name => return Ok(None),
            _ => Some(name),
        };
        store::entries_page(&reader, start, end, source, limit).map(Some)
    }
}

/// The lock-free checks of one batch's records.
struct Checker<'h> {
    hub: &'h Hub,
    facility: &'h str,
    judge: Judge<'h>,
    /// When the batch arrived: what `sigT`, revocations and retirements are judged against.
    received: i64,
}

/// The keys that may have signed this facility's records.
enum Judge<'h> {
    Enrolled(Arc<Registry>),
    /// `verifier` is `None` when the list holds no entry of the facility.
    List {
        list: &'h TrustList,
        verifier: Option<&'h Verifier>,
    },
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
        let (withdrawn, late) = match self.open_and_verify(&envelope) {
            Ok(withdrawn) => (withdrawn, None),
            Err(refused) => (None, Some(refused)),
        };
        Checked::Candidate { meta: envelope.meta, digest, late, withdrawn }
    }

    /// Opens with the hub's key and verifies the signed record inside exactly as the library
    /// does for hospitals ([`record::open_submission_steps`]: a record, or a withdrawal of its
    /// number), with the source facility's keys only; then judges the signing time and the
    /// key's revocation or retirement against the time the hub received it. A withdrawal must
    /// name exactly the envelope's source, record id and sequence (else `MALFORMED`); its
    /// reason is returned.
    fn open_and_verify(&self, envelope: &Envelope) -> Result<Option<String>, (Code, String)> {
        let source = envelope.meta.source.as_str();
        let verifier = match &self.judge {
            Judge::Enrolled(registry) => registry.facilities.get(source).and_then(|f| f.verifier.as_ref()),
            Judge::List { verifier, .. } => *verifier,
        };
        let no_keys = Verifier::default();
        let submission =
            record::open_submission_steps(envelope, &self.hub.recipient, verifier.unwrap_or(&no_keys)).map_err(|(step, e)| match step {
                OpenStep::ContentType | OpenStep::NotARecord => (Code::Malformed, e.message().to_owned()),
                OpenStep::Open if e.code() == ResultCode::MEDSEAL_SEAL_WRONG_RECIPIENT => {
                    (Code::NotForHub, "the envelope is not sealed to this hub's key".to_owned())
                }
                OpenStep::Open => (Code::DecryptFailed, e.message().to_owned()),
                OpenStep::Verify => match self.claimed_owner(envelope) {
                    Some(owner) if owner != source => {
                        (Code::SignerMismatch, format!("the record names a key of {}, not of its source {}", shown(&owner), shown(source)))
                    }
                    _ => (Code::SignatureInvalid, format!("{} ({})", e.message(), e.code().name())),
                },
            })?;
        let withdrawn = match &submission {
            record::Submission::Record(_) => None,
            record::Submission::Withdrawal(_, w) => {
                let meta = &envelope.meta;
                if w.source != meta.source || w.record_id != meta.record_id || w.sequence != meta.sequence {
                    return Err((
                        Code::Malformed,
                        format!(
                            "the withdrawal names source {}, record {}, sequence {}; its envelope is source {}, record {}, sequence {}",
                            shown(&w.source),
                            shown(&w.record_id),
                            w.sequence,
                            shown(&meta.source),
                            shown(&meta.record_id),
                            meta.sequence
                        ),
                    ));
                }
                Some(w.reason.clone())
            }
        };
        let verified = submission.verified();
        self.check_signing_time(verified)?;
        match &self.judge {
            Judge::Enrolled(registry) => {
                let revoked = registry.facilities.get(source).and_then(|f| f.revoked.get(&verified.key_id));
                if let Some(&at) = revoked.filter(|&&at| at <= self.received) {
                    return Err((
                        Code::KeyRevoked,
                        format!("the record is signed by key {}, revoked at {}", verified.key_id, medseal::utc::show(at)),
                    ));
                }
            }
            Judge::List { list, .. } => self.check_retirement(list, source, verified)?,
        }
        Ok(withdrawn)
    }

    /// The facility that owns the key a record's header names (its kid), if the hub knows it.
    /// Used only to name the refusal: no signature is checked against another facility's keys.
    fn claimed_owner(&self, envelope: &Envelope) -> Option<String> {
        // The failure path only: the envelope is opened once more to read the header's kid.
        let kid = record::claimed_kid(&envelope.open(&self.hub.recipient).ok()?)?;
        match &self.judge {
            Judge::Enrolled(registry) => registry.owners.get(&kid).cloned(),
            Judge::List { list, .. } => list.candidates(Role::RecordSigning, Some(&kid)).first().map(|e| e.facility.clone()),
        }
    }

    /// `sigT` must not be further ahead of the hub's clock than the skew allows, nor older than
    /// the acceptance window (docs/SUBMISSION.md, "Signing time").
    fn check_signing_time(&self, verified: &medseal::Verified) -> Result<(), (Code, String)> {
        let policy = &self.hub.config.acceptance;
        let text = verified.signing_time.as_deref().unwrap_or("");
        let Some(signed) = medseal::utc::parse(text) else {
            return Err((Code::SigningTimeRefused, format!("sigT {} is not an RFC 3339 time", shown(text))));
        };
        let received = medseal::utc::show(self.received);
        if signed > self.received.saturating_add(i64::from(policy.max_clock_skew_seconds)) {
            return Err((
                Code::SigningTimeRefused,
                format!(
                    "sigT {} is in the future (received {received}; at most {} s of clock skew)",
                    shown(text),
                    policy.max_clock_skew_seconds
                ),
            ));
        }
        let oldest = self.received.saturating_sub(i64::from(policy.max_record_age_days) * 86_400);
        if signed < oldest {
            return Err((
                Code::SigningTimeRefused,
                format!(
                    "sigT {} is older than this hub's acceptance window of {} days (received {received})",
                    shown(text),
                    policy.max_record_age_days
                ),
            ));
        }
        Ok(())
    }

    /// A trust-list key whose window ended at T gets no record in that the hub received after
    /// T plus the grace period (records queued before a planned rollover still arrive).
    fn check_retirement(&self, list: &TrustList, source: &str, verified: &medseal::Verified) -> Result<(), (Code, String)> {
        let grace = i64::from(self.hub.config.acceptance.retired_key_grace_hours) * 3600;
        let signed = verified.signing_time.as_deref().and_then(medseal::utc::parse).unwrap_or(i64::MIN);
        let last = list
            .entries()
            .iter()
            .filter(|e| e.role == Role::RecordSigning && e.facility == source && e.key.kid() == verified.key_id && e.valid_at(signed))
            .map(|e| e.not_after)
            .max();
        match last {
            Some(end) if self.received > end.saturating_add(grace) => Err((
                Code::KeyRetired,
                format!(
                    "the record is signed by key {}, whose trust-list window ended at {}; the hub received it at {}, after the {} h grace period",
                    verified.key_id,
                    medseal::utc::show(end),
                    medseal::utc::show(self.received),
                    grace / 3600
                ),
            )),
            _ => Ok(()),
        }
    }
}

fn load_registry(conn: &Connection) -> Result<Registry> {
    /// One facility's keys as they are read.
    #[derive(Default)]
    struct Read {
        keys: Vec<Arc<Key>>,
        revoked: HashMap<String, i64>,
    }
    let version = store::registry_version(conn)?;
    let mut read: HashMap<String, Read> = store::facilities(conn)?.into_iter().map(|f| (f, Read::default())).collect();
    let mut owners = HashMap::new();
    for enrolled in store::facility_keys(conn)? {
        let key = Key::import(enrolled.public_key_pem.as_bytes(), None)
            .map_err(|e| Error::from(e).context(format!("{}'s enrolled key", enrolled.facility)))?;
        owners.insert(key.kid().to_owned(), enrolled.facility.clone());
        let facility = read.entry(enrolled.facility).or_default();
        if let Some(at) = enrolled.revoked {
            facility.revoked.insert(key.kid().to_owned(), at);
        }
        facility.keys.push(Arc::new(key));
    }
    let facilities = read
        .into_iter()
        .map(|(facility, read)| {
            let verifier = (!read.keys.is_empty()).then(|| Verifier::new(read.keys));
            (facility, FacilityKeys { verifier, revoked: read.revoked })
        })
        .collect();
    Ok(Registry { version, facilities, owners })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Point 12 of issue 10: a record is checked against its own facility's keys only, so a
    /// batch of records with unknown kids costs each record one facility's keys, never every
    /// facility's (the registry used to hold one verifier of all keys, tried in turn).
    #[test]
    fn each_facility_is_judged_by_its_own_keys_only() {
        let temp = tempfile::tempdir().unwrap();
        let hub = temp.path().join("hub");
        crate::pki::init(&crate::pki::InitOptions::new(&hub)).unwrap();
        let mut expected: HashMap<String, Vec<String>> = HashMap::new();
        for n in 0..5 {
            let id = format!("hospital-{n}");
            let enrolled = crate::pki::enroll_local(&hub, &id, &temp.path().join(&id)).unwrap();
            expected.insert(id, enrolled.signing_kids);
        }
        let conn = store::open(&hub.join("hub.sqlite"), false).unwrap();
        let registry = load_registry(&conn).unwrap();
        assert_eq!(registry.facilities.len(), 5);
        for (facility, kids) in &expected {
            let verifier = registry.facilities[facility].verifier.as_ref().unwrap();
            let held: Vec<&str> = verifier.keys().iter().map(|k| k.kid()).collect();
            assert_eq!(held, kids.iter().map(String::as_str).collect::<Vec<_>>(), "{facility}");
            assert_eq!(&registry.owners[&kids[0]], facility);
        }
    }
}
