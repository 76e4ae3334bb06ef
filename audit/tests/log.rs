//! The log checks and per-facility completeness against bundles written here, as an honest or
//! a dishonest hub would export them: entries and tree heads signed with a hub key generated
//! here, and, for the hospitals' side, real outbox files made with medseal::outbox (records
//! sealed, claimed and marked delivered with receipts and inclusion proofs signed here, as the
//! transport would store them; the hub itself is not run: the pilot test does that end to end).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use medseal::ledger::{self, LedgerEntry, MerkleTree, Receipt, TreeHead};
use medseal::outbox::{Delivery, Outbox, OutboxConfig};
use medseal::wire::InclusionProof;
use medseal::{Algorithm, Key, KeyFormat, RecipientKey, SignOptions, Signer};
use medseal_audit::bundle::{self, Bundle, BundleWriter, EntryLine, LedgerCounts, Manifest, Selection};
use medseal_audit::completeness::{self, Completeness};
use medseal_audit::log::{self, Evidence, External};
use medseal_audit::report::{Finding, LogReport, Range};

const T0: i64 = 1_796_083_200; // 2026-12-01T00:00:00Z
const DAY: i64 = 86_400;

fn sha256(bytes: &[u8]) -> [u8; 32] {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().try_into().unwrap()
}

fn entry(source: &str, sequence: u64) -> LedgerEntry {
    LedgerEntry {
        record_id: format!("{source}-r{sequence}"),
        source: source.to_owned(),
        sequence,
        digest: sha256(format!("{source} {sequence}").as_bytes()),
        received: T0 + sequence as i64 * 60,
        withdrawn: None,
    }
}

/// Entries 1..=n of facility "79001".
fn entries(n: u64) -> Vec<LedgerEntry> {
    (1..=n).map(|s| entry("79001", s)).collect()
}

fn tree(entries: &[LedgerEntry]) -> MerkleTree {
    MerkleTree::from_leaves(entries.iter().map(LedgerEntry::leaf_hash).collect())
}

/// A hub's two signing keys, and what it signs with them.
struct Hub {
    tree_head_key: Arc<Key>,
    receipt_key: Arc<Key>,
    heads: Signer,
    receipts: Signer,
}

impl Hub {
    fn new() -> Hub {
        let tree_head_key = Arc::new(Key::generate(Algorithm::EdDSA).unwrap());
        let receipt_key = Arc::new(Key::generate(Algorithm::EdDSA).unwrap());
        Hub {
            heads: Signer::new(tree_head_key.clone(), ledger::tree_head_sign_options()).unwrap(),
            receipts: Signer::new(receipt_key.clone(), ledger::receipt_sign_options()).unwrap(),
            tree_head_key,
            receipt_key,
        }
    }

    /// The signed tree head of the first `size` of `entries`.
    fn head(&self, entries: &[LedgerEntry], size: u64) -> String {
        self.head_of(&tree(entries), size)
    }

    fn head_of(&self, tree: &MerkleTree, size: u64) -> String {
        self.head_at(tree, size, T0 + 3600 + size as i64)
    }

    /// The signed tree head of the first `size` leaves of `tree`, signed at `timestamp`.
    fn head_at(&self, tree: &MerkleTree, size: u64, timestamp: i64) -> String {
        TreeHead { tree_size: size, root_hash: tree.root(size).unwrap(), timestamp }.sign(&self.heads).unwrap()
    }

    /// The receipt of `entries[index]` in the tree of `size`.
    fn receipt(&self, entries: &[LedgerEntry], index: u64, size: u64) -> String {
        let e = &entries[index as usize];
        Receipt {
            record_id: e.record_id.clone(),
            source: e.source.clone(),
            sequence: e.sequence,
            digest: e.digest,
            received: e.received,
            ledger_index: index,
            tree_size: size,
            withdrawn: e.withdrawn.clone(),
        }
        .sign(&self.receipts)
        .unwrap()
    }

    /// An export of `lines` and `heads`, with this hub's public keys.
    fn export(&self, dir: &Path, name: &str, lines: &[EntryLine], heads: &[String]) -> Bundle {
        let out = dir.join(name);
        let mut writer = BundleWriter::create(&out).unwrap();
        let mut file = writer.file(bundle::ENTRIES).unwrap();
        for line in lines {
            file.write_all(&line.to_line()).unwrap();
            file.write_all(b"\n").unwrap();
        }
        writer.close(file).unwrap();
        writer.write(bundle::TREE_HEADS, heads.iter().map(|h| format!("{h}\n")).collect::<String>().as_bytes()).unwrap();
        writer.write(bundle::TREE_HEAD_KEY, &self.tree_head_key.export(KeyFormat::SpkiPem).unwrap()).unwrap();
        writer.write(bundle::RECEIPT_KEY, &self.receipt_key.export(KeyFormat::SpkiPem).unwrap()).unwrap();
        let manifest = Manifest {
            format: bundle::FORMAT.into(),
            version: bundle::VERSION,
            exported: "2026-12-05T00:00:00Z".into(),
            tool: "audit/tests/log.rs".into(),
            selection: Selection::default(),
            ledger: LedgerCounts { size: lines.len() as u64, tree_heads: heads.len() as u64, ..LedgerCounts::default() },
            files: BTreeMap::new(),
        };
        writer.finish(manifest).unwrap();
        Bundle::open(&out).unwrap()
    }

    /// An export of these full entries.
    fn export_entries(&self, dir: &Path, name: &str, entries: &[LedgerEntry], heads: &[String]) -> Bundle {
        let lines: Vec<EntryLine> = entries.iter().cloned().map(EntryLine::Entry).collect();
        self.export(dir, name, &lines, heads)
    }
}

fn head(origin: &str, jws: &str) -> External {
    External::TreeHead { origin: origin.into(), jws: jws.into() }
}

fn receipt(origin: &str, jws: &str) -> External {
    External::Receipt { origin: origin.into(), jws: jws.into() }
}

fn run(bundle: &Bundle, evidence: &Evidence) -> (LogReport, Vec<Finding>) {
    let mut findings = Vec::new();
    let report = log::check(bundle, evidence, &mut findings).unwrap();
    (report, findings)
}

fn codes(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

/// An honest export: every head matches, the hospital's head and receipt agree, no finding;
/// the counts say what was matched, and the root is the tree's.
#[test]
fn a_clean_log_passes_with_no_finding() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new();
    let log = entries(10);
    let bundle = hub.export_entries(dir.path(), "b", &log, &[hub.head(&log, 4), hub.head(&log, 10)]);
    let evidence = Evidence {
        tree_head_key: Some(Arc::new(hub.tree_head_key.to_public())),
        external: vec![head("a hospital", &hub.head(&log, 7)), receipt("a printout", &hub.receipt(&log, 6, 7))],
        ..Evidence::default()
    };
    let (report, findings) = run(&bundle, &evidence);
    assert_eq!(findings, [], "an honest hub's export has no finding");
    assert_eq!(report.size, 10);
    assert_eq!(report.root_hash, ledger::encode_hash(&tree(&log).root(10).unwrap()));
    assert_eq!(report.tree_head_key, hub.tree_head_key.kid());
    assert_eq!((report.tree_heads_matched, report.external_tree_heads_matched, report.receipts_matched), (2, 1, 1));
    assert_eq!(completeness::check(&bundle, &mut Vec::new()).unwrap()[0].records, 10);

    // A hospital's copy newer than the export holds a head of the grown log: the audit can only
    // judge the bundle, so it is a finding, whose message says to audit a newer export.
    let grown = entries(12);
    let later = Evidence { external: vec![head("a newer copy", &hub.head_at(&tree(&grown), 12, T0 + DAY))], ..Evidence::default() };
    let (_, findings) = run(&bundle, &later);
    assert_eq!(codes(&findings), ["LOG_TRUNCATED"]);
    assert!(findings[0].message.contains("audit a newer export"), "{}", findings[0].message);
}

/// One entry changed after it was signed: the heads covering it no longer match (and an
/// auditor's copy changed after the export is also told by the manifest).
#[test]
fn an_altered_entry_is_a_tree_head_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new();
    let log = entries(10);
    let heads = [hub.head(&log, 4), hub.head(&log, 10)];
    let mut altered = log.clone();
    altered[5].digest = sha256(b"another envelope");
    let bundle = hub.export_entries(dir.path(), "b", &altered, &heads);
    let (report, findings) = run(&bundle, &Evidence::default());
    assert_eq!(codes(&findings), ["TREE_HEAD_MISMATCH"]);
    assert!(findings[0].message.contains("line 2") && findings[0].message.contains("size 10"), "{}", findings[0].message);
    assert_eq!(report.tree_heads_matched, 1, "the head of size 4 does not cover the altered entry");

    let copy = hub.export_entries(dir.path(), "copy", &log, &heads);
    let text = std::fs::read_to_string(copy.path(bundle::ENTRIES)).unwrap().replace("79001-r6", "79001-r0");
    std::fs::write(copy.path(bundle::ENTRIES), text).unwrap();
    let (_, findings) = run(&copy, &Evidence::default());
    assert_eq!(codes(&findings), ["BUNDLE_FILE_ALTERED", "TREE_HEAD_MISMATCH"]);
}

/// The dishonest operator deletes entries and signs the shorter log again with the hub's own
/// key: the bundle alone is consistent (only the gap shows), but what the hub gave hospitals
/// earlier is not: a head of the old size is beyond the log, a head of a size still there has
/// another root, and a receipt's entry is not at its index any more.
#[test]
fn entries_deleted_and_re_signed_are_caught_by_earlier_heads_and_receipts() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new();
    let log = entries(10);
    let (old_head_10, old_head_5) = (hub.head(&log, 10), hub.head(&log, 5));
    let (kept_receipt, moved_receipt) = (hub.receipt(&log, 1, 10), hub.receipt(&log, 8, 10));
    let rewritten: Vec<LedgerEntry> = log.iter().filter(|e| !(3..=5).contains(&e.sequence)).cloned().collect();
    let resigned = [hub.head_at(&tree(&rewritten), 4, T0 + DAY), hub.head_at(&tree(&rewritten), 7, T0 + DAY)];
    let bundle = hub.export_entries(dir.path(), "b", &rewritten, &resigned);

    let (report, findings) = run(&bundle, &Evidence::default());
    assert_eq!(findings, [], "the re-signed log is consistent with itself");
    assert_eq!(report.tree_heads_matched, 2);
    let mut gaps = Vec::new();
    let facilities = completeness::check(&bundle, &mut gaps).unwrap();
    assert_eq!(codes(&gaps), ["SEQUENCE_GAP"], "only completeness sees the hole");
    assert_eq!(facilities[0].gaps, [Range { first: 3, last: 5 }]);

    // What the auditor got from the hospitals, in the files `--tree-head` reads: hospital A's head
    // and a receipt, one JWS a line; hospital B's `medseal outbox tree-heads --json`; a printout.
    let (a, b, c) = (dir.path().join("hospital-a.txt"), dir.path().join("hospital-b.json"), dir.path().join("printout.jws"));
    std::fs::write(&a, format!("{old_head_10}\r\n{kept_receipt}\r\n")).unwrap();
    let outbox_json = serde_json::json!({"source": "79001", "tree_heads": [{"tree_size": 5, "tree_head": old_head_5}], "forks": []});
    std::fs::write(&b, outbox_json.to_string()).unwrap();
    std::fs::write(&c, &moved_receipt).unwrap();
    let external = [&a, &b, &c].into_iter().flat_map(|path| log::read_tree_heads(path).unwrap()).collect();
    let evidence = Evidence { external, ..Evidence::default() };
    let (report, findings) = run(&bundle, &evidence);
    assert_eq!(codes(&findings), ["LOG_TRUNCATED", "LOG_FORKED", "RECEIPTED_RECORD_MISSING", "LOG_TRUNCATED"]);
    assert!(findings[0].message.contains("hospital-a.txt line 1") && findings[0].message.contains("holds (7)"), "{}", findings[0].message);
    assert!(findings[0].message.contains("signed it before the bundle's latest tree head"), "{}", findings[0].message);
    assert!(
        findings[1].message.contains("hospital-b.json tree_heads[0]") && findings[1].message.contains("another history"),
        "{}",
        findings[1].message
    );
    let missing = &findings[2];
    assert!(missing.message.contains("printout.jws line 1"), "{}", missing.message);
    assert_eq!((missing.facility.as_deref(), missing.index, missing.sequence), (Some("79001"), Some(8), Some(9)));
    assert_eq!(
        (report.external_tree_heads_matched, report.receipts_matched),
        (0, 1),
        "the receipt of an entry left in place still matches"
    );
    assert!(
        findings[3].message.contains("names a log of 10 entries"),
        "a receipt is the hub's word on its size too: {}",
        findings[3].message
    );
}

/// Two histories of one size, each signed by the hub: the bundle shows one, a hospital was
/// shown the other. In the bundle, two heads of one size with different roots cannot both match.
#[test]
fn a_fork_is_log_forked() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new();
    let common = entries(4);
    let mut a = common.clone();
    a.extend([entry("79001", 5), entry("79002", 1)]);
    let mut b = common.clone();
    b.extend([entry("79002", 1), entry("79001", 5)]);
    let bundle = hub.export_entries(dir.path(), "a", &a, &[hub.head(&a, 4), hub.head(&a, 6)]);
    let evidence = Evidence {
        external: vec![head("hospital 79002", &hub.head(&b, 6)), head("hospital 79001", &hub.head(&b, 4))],
        ..Evidence::default()
    };
    let (report, findings) = run(&bundle, &evidence);
    assert_eq!(codes(&findings), ["LOG_FORKED"]);
    assert!(findings[0].message.contains("hospital 79002"));
    assert_eq!(report.external_tree_heads_matched, 1, "the common prefix is one history");

    let both = hub.export_entries(dir.path(), "both", &a, &[hub.head(&a, 6), hub.head(&b, 6)]);
    let (report, findings) = run(&both, &Evidence::default());
    assert_eq!(codes(&findings), ["TREE_HEAD_MISMATCH"]);
    assert_eq!(report.tree_heads_matched, 1);
}

/// A head signed by another key is not the hub's, wherever it comes from; so is a receipt. A
/// bundle whose key is not the one the auditor pinned is a finding, and its heads, signed by
/// that other key, do not verify with the pinned one.
#[test]
fn heads_and_receipts_by_another_key_are_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, other) = (Hub::new(), Hub::new());
    let log = entries(5);
    let bundle = hub.export_entries(dir.path(), "b", &log, &[hub.head(&log, 3), other.head(&log, 5)]);
    let evidence = Evidence {
        external: vec![head("a newspaper", &other.head(&log, 5)), receipt("a printout", &other.receipt(&log, 2, 5))],
        ..Evidence::default()
    };
    let (report, findings) = run(&bundle, &evidence);
    assert_eq!(codes(&findings), ["TREE_HEAD_INVALID", "ENTRIES_UNSIGNED", "TREE_HEAD_INVALID", "RECEIPT_INVALID"]);
    assert!(findings[0].message.contains("line 2"), "{}", findings[0].message);
    assert_eq!(findings[1].index, Some(3), "entries 3 and 4 are signed by nothing valid");
    assert!(findings[2].message.contains("a newspaper"));
    assert_eq!(report.tree_heads_matched, 1);

    let pinned = Evidence { tree_head_key: Some(Arc::new(other.tree_head_key.to_public())), ..Evidence::default() };
    let (_, findings) = run(&bundle, &pinned);
    assert_eq!(codes(&findings), ["TREE_HEAD_INVALID", "TREE_HEAD_INVALID"], "the key, then the head the hub's key signed");
    assert!(findings[0].message.contains("not the hub key the auditor gave"), "{}", findings[0].message);
}

/// A head of more entries than the bundle holds, and entries past the largest head.
#[test]
fn truncated_and_unsigned_logs() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new();
    let log = entries(12);
    let bundle = hub.export_entries(dir.path(), "truncated", &log[..10], &[hub.head(&log, 12)]);
    let (_, findings) = run(&bundle, &Evidence::default());
    assert_eq!(codes(&findings), ["LOG_TRUNCATED"]);
    let bundle = hub.export_entries(dir.path(), "unsigned", &log, &[hub.head(&log, 8)]);
    let (_, findings) = run(&bundle, &Evidence::default());
    assert_eq!(codes(&findings), ["ENTRIES_UNSIGNED"]);
    assert_eq!(findings[0].index, Some(8));
    assert!(findings[0].message.contains("8 to 11 (4)"), "{}", findings[0].message);
    let empty = hub.export_entries(dir.path(), "empty", &[], &[]);
    assert_eq!(run(&empty, &Evidence::default()).1, [], "an empty log needs no head");
}

/// A line that is not an entry is a finding, but its leaf is still the hash of its bytes, so a
/// hub that hashed those bytes has heads that match; redacted lines rebuild the tree too.
#[test]
fn invalid_and_redacted_lines_keep_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new();
    let log = entries(4);
    let bad = br#"{"digest":"x","record_id":"y"}"#;
    let mut leaves: Vec<_> = log.iter().map(LedgerEntry::leaf_hash).collect();
    leaves.insert(2, ledger::leaf_hash(bad));
    let hub_tree = MerkleTree::from_leaves(leaves.clone());
    let bundle = hub.export(dir.path(), "b", &[], &[hub.head_of(&hub_tree, 5)]);
    let mut lines: Vec<Vec<u8>> = log.iter().map(LedgerEntry::to_json).collect();
    lines.insert(2, bad.to_vec());
    lines[0] = EntryLine::Redacted(leaves[0]).to_line();
    std::fs::write(bundle.path(bundle::ENTRIES), lines.join(&b"\n"[..]).into_iter().chain(*b"\n").collect::<Vec<u8>>()).unwrap();
    let (report, findings) = run(&bundle, &Evidence::default());
    // In an export of every facility, a redacted line hides a record: a finding too.
    assert_eq!(codes(&findings), ["BUNDLE_FILE_ALTERED", "ENTRY_INVALID", "ENTRY_INVALID"]);
    assert_eq!((findings[1].index, findings[2].index), (Some(0), Some(2)));
    assert!(findings[1].message.contains("selected every facility"), "{}", findings[1].message);
    assert_eq!(report.tree_heads_matched, 1);
    // In an export of some facilities, redacted lines are the others' entries.
    let manifest_path = bundle.path(bundle::MANIFEST);
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["selection"]["facilities"] = serde_json::json!(["79001"]);
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let bundle = Bundle::open(&dir.path().join("b")).unwrap();
    let (report, findings) = run(&bundle, &Evidence::default());
    assert_eq!(codes(&findings), ["BUNDLE_FILE_ALTERED", "ENTRY_INVALID"]);
    assert_eq!(findings[1].index, Some(2));
    assert_eq!(report.tree_heads_matched, 1);
}

/// Completeness in the same pass as the log checks (the visitor): a missing number is a gap
/// with its range, a withdrawn number is not, a number twice is a repeat.
#[test]
fn completeness_rides_along_the_log_pass() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new();
    let mut log: Vec<LedgerEntry> = [1, 2, 3, 7, 8, 2].iter().map(|&s| entry("79001", s)).collect();
    log[5].record_id = "79001-r2-again".into();
    log[5].received = log[4].received + 1; // the repeat arrives after 8
    let mut tombstone = entry("79001", 9);
    tombstone.withdrawn = Some("recorded on paper".into());
    log.extend([tombstone, entry("79001", 10)]);
    let bundle = hub.export_entries(dir.path(), "b", &log, &[hub.head(&log, log.len() as u64)]);
    let mut findings = Vec::new();
    let mut facilities = Completeness::new();
    let report = log::check_with(&bundle, &Evidence::default(), &mut findings, &mut |i, e| facilities.add(i, e)).unwrap();
    assert_eq!(report.tree_heads_matched, 1);
    let facilities = facilities.finish(&bundle, &mut findings).unwrap();
    assert_eq!(codes(&findings), ["SEQUENCE_GAP", "SEQUENCE_REPEATED"]);
    assert_eq!((findings[0].sequence, findings[1].sequence, findings[1].index), (Some(4), Some(2), Some(5)));
    let f = &facilities[0];
    assert_eq!(f.gaps, [Range { first: 4, last: 6 }], "9 is withdrawn, not missing");
    assert_eq!(f.repeats, [2]);
    assert_eq!((f.records, f.highest, f.out_of_order, f.withdrawn.len()), (7, 10, 1, 1));
}

// ---- a hospital's real outbox file ------------------------------------------------------------

/// An outbox file of facility "79001" holding `n` records delivered with the hub's receipts, as
/// the transport stores them (the third withdrawn with a signed tombstone), and the tree heads
/// it kept (of sizes 3 and `n`). Returns the file and the hub's log of those records.
fn hospital(dir: &Path, hub: &Hub, n: u64) -> (PathBuf, Vec<LedgerEntry>) {
    let path = dir.join("outbox.sqlite");
    let outbox = Outbox::open(OutboxConfig::new(&path, "79001", vec![RecipientKey::generate().unwrap().to_public()])).unwrap();
    let facility_key = Arc::new(Key::generate(Algorithm::EdDSA).unwrap());
    let signer = Signer::new(facility_key.clone(), SignOptions { signing_time: Some(T0), ..SignOptions::default() }).unwrap();
    for i in 1..=n {
        let record = signer.sign(format!(r#"{{"resourceType":"Observation","id":"obs-{i}"}}"#).as_bytes(), medseal::Serialization::Compact);
        outbox.enqueue_signed(&format!("79001-r{i}"), record.unwrap().as_bytes()).unwrap();
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let mut claimed = outbox.claim(n as usize, now).unwrap();
    assert_eq!(claimed.len() as u64, n);
    // Record 3 is refused, then withdrawn with a signed tombstone, which is delivered instead:
    // its receipt names the withdrawal's digest, not the record's.
    outbox.mark_dead(claimed[2].outbox_id, "SIGNATURE_INVALID", "refused").unwrap();
    let tombstones = Signer::new(facility_key, medseal::record::withdrawal_sign_options()).unwrap();
    outbox.withdraw_signed(claimed[2].outbox_id, "recorded on paper", &tombstones).unwrap();
    claimed[2] = outbox.claim(1, now).unwrap().remove(0);
    let log: Vec<LedgerEntry> = claimed
        .iter()
        .map(|c| LedgerEntry {
            record_id: c.record_id.clone(),
            source: "79001".into(),
            sequence: c.sequence,
            digest: c.digest,
            received: T0 + c.sequence as i64,
            withdrawn: (c.sequence == 3).then(|| "recorded on paper".to_owned()),
        })
        .collect();
    let full = tree(&log);
    let head = hub.head_of(&full, n);
    for (i, c) in claimed.iter().enumerate() {
        let proof = InclusionProof {
            leaf_index: i as u64,
            tree_size: n,
            audit_path: full.inclusion_proof(i as u64, n).unwrap().iter().map(|h| h.to_vec()).collect(),
            tree_head: head.clone(),
        };
        let delivery = Delivery {
            receipt: hub.receipt(&log, i as u64, n),
            inclusion: ledger::inclusion_proof_to_protobuf(&proof),
            duplicate: false,
            delivered_at: T0 + 10,
        };
        outbox.mark_delivered(c.outbox_id, &delivery).unwrap();
    }
    for (size, jws) in [(3, hub.head_of(&full, 3)), (n, head)] {
        outbox.keep_tree_head(&TreeHead::verify(jws.as_bytes(), &verifier(&hub.tree_head_key)).unwrap(), &jws, T0 + 10).unwrap();
        assert_eq!(outbox.tree_head(size).unwrap().unwrap().jws, jws);
    }
    (path, log)
}

fn verifier(key: &Arc<Key>) -> medseal::Verifier {
    medseal::Verifier::new(vec![Arc::new(key.to_public())])
}

/// Every file in `dir` with the SHA-256 of its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), ledger::encode_hash(&sha256(&std::fs::read(e.path()).unwrap()))))
        .collect()
}

/// A hospital's outbox against an honest export: every receipt and every head it kept match.
/// Against the log with one record deleted and re-signed: the heads it kept are beyond the log
/// or of another history, and its receipts are not where they say. The file is read, never
/// written.
#[test]
fn a_real_outbox_file_holds_the_hub_to_what_it_receipted() {
    let dir = tempfile::tempdir().unwrap();
    let hospital_dir = dir.path().join("hospital #1? 100%"); // read through an SQLite URI
    std::fs::create_dir(&hospital_dir).unwrap();
    let hub = Hub::new();
    let (outbox, log) = hospital(&hospital_dir, &hub, 5);
    let before = snapshot(&hospital_dir);
    let evidence = Evidence { outboxes: vec![outbox.clone()], ..Evidence::default() };

    let honest = hub.export_entries(dir.path(), "honest", &log, &[hub.head(&log, 5)]);
    let (report, findings) = run(&honest, &evidence);
    assert_eq!(findings, []);
    assert_eq!((report.receipts_matched, report.external_tree_heads_matched), (5, 2), "5 receipts; heads of 3 and 5 (each once)");
    let facilities = completeness::check(&honest, &mut Vec::new()).unwrap();
    assert_eq!((facilities[0].records, facilities[0].withdrawn.len(), facilities[0].gaps.len()), (4, 1, 0));

    let rewritten: Vec<LedgerEntry> = log.iter().filter(|e| e.sequence != 2).cloned().collect();
    let dishonest = hub.export_entries(dir.path(), "dishonest", &rewritten, &[hub.head_at(&tree(&rewritten), 4, T0 + DAY)]);
    assert_eq!(run(&dishonest, &Evidence::default()).1, [], "the bundle alone is consistent");
    let (report, findings) = run(&dishonest, &evidence);
    assert_eq!(
        codes(&findings),
        [
            "LOG_FORKED",
            "LOG_TRUNCATED",
            "RECEIPTED_RECORD_MISSING",
            "RECEIPTED_RECORD_MISSING",
            "RECEIPTED_RECORD_MISSING",
            "RECEIPTED_RECORD_MISSING",
            "LOG_TRUNCATED"
        ]
    );
    assert!(findings[0].message.contains("outbox") && findings[0].message.contains("size 3"), "{}", findings[0].message);
    let missing: Vec<_> = findings[2..6].iter().map(|f| f.sequence.unwrap()).collect();
    assert_eq!(missing, [2, 3, 4, 5], "record 2 is gone, the later ones moved");
    assert_eq!(report.receipts_matched, 1);

    let other = Hub::new();
    let keyed = Evidence { receipt_key: Some(Arc::new(other.receipt_key.to_public())), ..evidence.clone() };
    let (_, findings) = run(&honest, &keyed);
    assert_eq!(codes(&findings).iter().filter(|c| **c == "RECEIPT_INVALID").count(), 6, "the key, then each of 5 receipts");

    assert_eq!(snapshot(&hospital_dir), before, "the outbox's files are unchanged and no file was added");

    let in_use = Outbox::open_existing(&outbox).unwrap();
    assert!(hospital_dir.join("outbox.sqlite-wal").exists(), "the facility's program has it open");
    let (report, findings) = run(&honest, &evidence);
    assert_eq!((findings.len(), report.receipts_matched), (0, 5), "a file in use is read too");
    drop(in_use);
}

/// A fork the hospital recorded is evidence too: the head the hub showed it, of another
/// history, is LOG_FORKED against the bundle. An outbox of an older schema (2, before
/// withdrawals) is read as it is, never upgraded: its records' receipts are checked all the same.
#[test]
fn an_outbox_s_forks_and_older_schemas_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Hub::new();
    let (path, log) = hospital(dir.path(), &hub, 5);
    let bundle = hub.export_entries(dir.path(), "b", &log, &[hub.head(&log, 5)]);
    let evidence = Evidence { outboxes: vec![path.clone()], ..Evidence::default() };

    let mut other = log.clone();
    other[4].digest = sha256(b"another history");
    let outbox = Outbox::open_existing(&path).unwrap();
    let held = outbox.tree_head(5).unwrap().unwrap().jws;
    outbox.record_fork(&held, &hub.head(&other, 5), "two different roots signed for tree size 5", T0 + 20).unwrap();
    drop(outbox);
    let (report, findings) = run(&bundle, &evidence);
    assert_eq!(codes(&findings), ["LOG_FORKED"]);
    assert!(findings[0].message.contains("fork 1: the head the hub showed"), "{}", findings[0].message);
    assert_eq!((report.external_tree_heads_matched, report.receipts_matched), (2, 5), "the head it held is the one it kept");

    let version_2 = dir.path().join("v2.sqlite");
    std::fs::copy(&path, &version_2).unwrap();
    let raw = rusqlite::Connection::open(&version_2).unwrap();
    raw.execute_batch(
        "DROP TRIGGER records_withdrawal_unchanged; ALTER TABLE records DROP COLUMN withdrawal_envelope;
         ALTER TABLE records DROP COLUMN withdrawal_digest; PRAGMA user_version = 2;",
    )
    .unwrap();
    drop(raw);
    let before = std::fs::read(&version_2).unwrap();
    let (report, findings) = run(&bundle, &Evidence { outboxes: vec![version_2.clone()], ..Evidence::default() });
    assert_eq!(
        codes(&findings),
        ["LOG_FORKED", "RECEIPT_INVALID"],
        "without its withdrawal column, record 3's receipt names a digest the file lacks"
    );
    assert_eq!(findings[1].sequence, Some(3));
    assert_eq!(report.receipts_matched, 4);
    assert_eq!(std::fs::read(&version_2).unwrap(), before, "not upgraded");
}
