//! `medseal receipt verify` and `medseal ledger verify-consistency`, run as the real binary on
//! receipts, tree heads and proofs made with the library as the hub makes them.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use medseal::keys::KeyFormat;
use medseal::ledger::{self, LedgerEntry, MerkleTree, Receipt, TreeHead};
use medseal::wire::{ConsistencyProof, InclusionProof};
use medseal::{Algorithm, Key, SignOptions, Signer};

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;

/// A scratch directory removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("medseal-receipt-test-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir(&path).unwrap();
        TempDir(path)
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let path = self.0.join(name).to_str().unwrap().to_owned();
        fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str]) -> Output {
    run_with_stdin(args, None)
}

fn run_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_medseal"))
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the medseal binary runs");
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    child.wait_with_output().unwrap()
}

#[track_caller]
fn ok(out: Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "expected success, got {:?}\nstderr: {err}", out.status);
    String::from_utf8(out.stdout).unwrap()
}

/// Asserts exit code `code` with every needle on stderr, nothing on stdout.
#[track_caller]
fn fails_with(out: Output, code: i32, needles: &[&str]) -> String {
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(code), "expected exit {code}\nstdout: {}\nstderr: {err}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&out.stdout));
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// A hub's ledger of `n` records in `dir`: the keys' public halves, and what the hub answers.
struct Hub {
    dir: TempDir,
    receipt_signer: Signer,
    tree_head_signer: Signer,
    tree: MerkleTree,
    entries: Vec<LedgerEntry>,
    envelopes: Vec<Vec<u8>>,
    receipt_key: String,
    tree_head_key: String,
}

fn public_pem(key: &Key) -> Vec<u8> {
    key.export(KeyFormat::SpkiPem).unwrap().to_vec()
}

impl Hub {
    fn new(n: u64) -> Hub {
        let dir = TempDir::new();
        let receipt = Arc::new(Key::generate(Algorithm::EdDSA).unwrap());
        let tree_head = Arc::new(Key::generate(Algorithm::ES256).unwrap());
        let envelopes: Vec<Vec<u8>> = (0..n).map(|i| format!("envelope bytes {i}").into_bytes()).collect();
        let entries: Vec<LedgerEntry> = envelopes
            .iter()
            .enumerate()
            .map(|(i, envelope)| LedgerEntry {
                record_id: format!("rec-{i}"),
                source: "hospital-a".into(),
                sequence: i as u64 + 1,
                digest: ring::digest::digest(&ring::digest::SHA256, envelope).as_ref().try_into().unwrap(),
                received: T0 + i as i64,
                withdrawn: None,
            })
            .collect();
        let fixed = |options: SignOptions| SignOptions { signing_time: Some(T0 + 60), ..options };
        Hub {
            receipt_key: dir.write("receipt.pub.pem", public_pem(&receipt)),
            tree_head_key: dir.write("tree-head.pub.pem", public_pem(&tree_head)),
            receipt_signer: Signer::new(receipt, fixed(ledger::receipt_sign_options())).unwrap(),
            tree_head_signer: Signer::new(tree_head, fixed(ledger::tree_head_sign_options())).unwrap(),
            tree: MerkleTree::from_leaves(entries.iter().map(LedgerEntry::leaf_hash).collect()),
            entries,
            envelopes,
            dir,
        }
    }

    fn tree_head(&self, size: u64) -> String {
        TreeHead { tree_size: size, root_hash: self.tree.root(size).unwrap(), timestamp: T0 + size as i64 }
            .sign(&self.tree_head_signer)
            .unwrap()
    }

    fn receipt(&self, i: u64, size: u64) -> String {
        let e = &self.entries[i as usize];
        let receipt = Receipt {
            record_id: e.record_id.clone(),
            source: e.source.clone(),
            sequence: e.sequence,
            digest: e.digest,
            received: e.received,
            ledger_index: i,
            tree_size: size,
            withdrawn: None,
        };
        receipt.sign(&self.receipt_signer).unwrap()
    }

    fn proof(&self, i: u64, size: u64) -> InclusionProof {
        InclusionProof {
            leaf_index: i,
            tree_size: size,
            audit_path: self.tree.inclusion_proof(i, size).unwrap().iter().map(|h| h.to_vec()).collect(),
            tree_head: self.tree_head(size),
        }
    }
}

#[test]
fn receipt_verify() {
    let hub = Hub::new(7);
    let receipt = hub.dir.write("receipt.jws", format!("{}\n", hub.receipt(4, 7)));
    let proof = hub.proof(4, 7);
    let json = hub.dir.write("proof.json", ledger::inclusion_proof_to_json(&proof));
    let protobuf = hub.dir.write("proof.pb", ledger::inclusion_proof_to_protobuf(&proof));
    let (rk, tk) = (hub.receipt_key.as_str(), hub.tree_head_key.as_str());
    let expected = "valid: receipt for rec-4 (source hospital-a #5), ledger index 4 of 7, received 2026-01-01T00:00:04Z\n";
    let digest = ledger::encode_hash(&hub.entries[4].digest);
    let digest_arg = format!("--digest={digest}");
    // What the receipt must be about: the facility, the record id and the envelope digest.
    let base = ["receipt", "verify", "--receipt-key", rk, "--tree-head-key", tk, "--source", "hospital-a", "--record-id", "rec-4"];
    let checked = [&base[..], &[digest_arg.as_str()]].concat();
    for proof_file in [&json, &protobuf] {
        assert_eq!(ok(run(&[&checked[..], &["--proof", proof_file, &receipt]].concat())), expected);
    }
    // The digest computed from the envelope.
    let envelope = hub.dir.write("envelope.pb", &hub.envelopes[4]);
    assert_eq!(ok(run(&[&base[..], &["--envelope", &envelope, "--proof", &json, &receipt]].concat())), expected);
    // --json: the same facts, named as in every command's JSON (docs/CLI_JSON.md).
    let facts: serde_json::Value =
        serde_json::from_str(&ok(run(&[&checked[..], &["--json", "--proof", &json, &receipt]].concat()))).unwrap();
    assert_eq!(
        facts,
        serde_json::json!({
            "valid": true, "source": "hospital-a", "record_id": "rec-4", "sequence": 5, "digest": digest, "ledger_index": 4,
            "tree_size": 7, "received_at": "2026-01-01T00:00:04Z", "withdrawn": null,
        })
    );
    // The receipt from standard input.
    let from_stdin = run_with_stdin(&[&checked[..], &["--proof", &json]].concat(), Some(hub.receipt(4, 7).as_bytes()));
    assert_eq!(ok(from_stdin), expected);

    // Another facility's receipt (the same record id and digest, as another facility would
    // have them) is refused, and so is another record's id, digest or envelope.
    let subject = |source: &str, record_id: &str| {
        ["receipt", "verify", "--receipt-key", rk, "--tree-head-key", tk, "--source", source, "--record-id", record_id]
            .map(str::to_owned)
            .to_vec()
    };
    let with = |mut args: Vec<String>, more: &[&str]| {
        args.extend(more.iter().map(|s| s.to_string()));
        run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let other_facility = with(subject("hospital-b", "rec-4"), &[&digest_arg, "--proof", &json, &receipt]);
    fails_with(
        other_facility,
        1,
        &["medseal: invalid: ", "receipt.jws: ", "facility \"hospital-a\", not \"hospital-b\"", "MEDSEAL_LEDGER_RECEIPT_INVALID"],
    );
    // With --json, the refusal is {"code", "message"} on stdout, exit 1.
    let refused = with(subject("hospital-b", "rec-4"), &[&digest_arg, "--json", "--proof", &json, &receipt]);
    assert_eq!(refused.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(error["code"], "MEDSEAL_LEDGER_RECEIPT_INVALID");
    assert!(error["message"].as_str().unwrap().contains("not \"hospital-b\""), "{error}");
    assert_eq!(error.as_object().unwrap().len(), 2);
    let wrong_id = with(subject("hospital-a", "rec-3"), &[&digest_arg, "--proof", &json, &receipt]);
    fails_with(wrong_id, 1, &["medseal: invalid: ", "receipt.jws: ", "\"rec-4\", not \"rec-3\"", "MEDSEAL_LEDGER_RECEIPT_INVALID"]);
    let other = format!("--digest={}", ledger::encode_hash(&hub.entries[3].digest));
    let wrong_digest = run(&[&base[..], &[other.as_str(), "--proof", &json, &receipt]].concat());
    fails_with(wrong_digest, 1, &["another envelope digest", "MEDSEAL_LEDGER_RECEIPT_INVALID"]);
    let other_envelope = hub.dir.write("other.pb", &hub.envelopes[3]);
    let wrong_envelope = run(&[&base[..], &["--envelope", &other_envelope, "--proof", &json, &receipt]].concat());
    fails_with(wrong_envelope, 1, &["MEDSEAL_LEDGER_RECEIPT_INVALID"]);
    fails_with(
        run(&[&base[..], &["--digest", "AAAA", "--proof", &json, &receipt]].concat()),
        1,
        &["--digest: ", "MEDSEAL_INVALID_ARGUMENT"],
    );
    // The subject is required: without the facility, the record id or the digest, a usage error.
    let keys = ["receipt", "verify", "--receipt-key", rk, "--tree-head-key", tk];
    let no_source = [&keys[..], &["--record-id", "rec-4", digest_arg.as_str(), "--proof", &json, &receipt]].concat();
    fails_with(run(&no_source), 2, &["--source"]);
    let no_id = [&keys[..], &["--source", "hospital-a", digest_arg.as_str(), "--proof", &json, &receipt]].concat();
    fails_with(run(&no_id), 2, &["--record-id"]);
    fails_with(run(&[&base[..], &["--proof", &json, &receipt]].concat()), 2, &["--digest"]);
    let base = checked;

    // The keys swapped, or the tree head's key given for both.
    let swap = |receipt_key: &str, tree_head_key: &str, receipt: &str| {
        let args = ["receipt", "verify", "--receipt-key", receipt_key, "--tree-head-key", tree_head_key, "--source", "hospital-a"];
        run(&[&args[..], &["--record-id", "rec-4", digest_arg.as_str(), "--proof", &json, receipt]].concat())
    };
    let swapped = swap(tk, rk, &receipt);
    fails_with(swapped, 1, &["not signed by a receipt key", "MEDSEAL_LEDGER_RECEIPT_INVALID"]);
    let one_key = swap(rk, rk, &receipt);
    fails_with(one_key, 1, &["not signed by a tree-head key", "MEDSEAL_LEDGER_TREE_HEAD_INVALID"]);

    // A proof of another size, another leaf, a broken path, a receipt as tree head.
    let other_size = hub.dir.write("proof-6.json", ledger::inclusion_proof_to_json(&hub.proof(4, 6)));
    fails_with(run(&[&base[..], &["--proof", &other_size, &receipt]].concat()), 1, &["tree of 7 leaves", "MEDSEAL_LEDGER_RECEIPT_INVALID"]);
    let mut broken = proof.clone();
    broken.audit_path[1][0] ^= 1;
    let broken = hub.dir.write("broken.pb", ledger::inclusion_proof_to_protobuf(&broken));
    fails_with(run(&[&base[..], &["--proof", &broken, &receipt]].concat()), 1, &["rec-4", "MEDSEAL_LEDGER_PROOF_INVALID"]);
    let confused = InclusionProof { tree_head: hub.receipt(4, 7), ..proof.clone() };
    let confused = hub.dir.write("confused.json", ledger::inclusion_proof_to_json(&confused));
    fails_with(run(&[&base[..], &["--proof", &confused, &receipt]].concat()), 1, &["MEDSEAL_LEDGER_TREE_HEAD_INVALID"]);
    let garbage = hub.dir.write("garbage.json", "{\"leaf_index\": \"x\"}");
    fails_with(run(&[&base[..], &["--proof", &garbage, &receipt]].concat()), 1, &["garbage.json: ", "MEDSEAL_LEDGER_PROOF_INVALID"]);
    // A tree head given as the receipt.
    let head = hub.dir.write("head.jws", hub.tree_head(7));
    let as_receipt = swap(tk, rk, &head);
    fails_with(as_receipt, 1, &["not \"medseal-receipt+jws\"", "MEDSEAL_LEDGER_RECEIPT_INVALID"]);

    // Usage: the proof is required; stdin feeds one input only; a missing file is named.
    fails_with(run(&[&base[..], &[receipt.as_str()]].concat()), 2, &["--proof"]);
    fails_with(run(&[&base[..], &["--proof", "-"]].concat()), 2, &["standard input"]);
    fails_with(run(&[&base[..], &["--proof", &json, "/nonexistent/receipt"]].concat()), 1, &["cannot read /nonexistent/receipt"]);
}

#[test]
fn ledger_verify_consistency() {
    let hub = Hub::new(9);
    let (old, new) = (hub.dir.write("old.jws", hub.tree_head(5)), hub.dir.write("new.jws", hub.tree_head(9)));
    let path = |m, n| hub.tree.consistency_proof(m, n).unwrap().iter().map(|h| h.to_vec()).collect::<Vec<_>>();
    let proof = ConsistencyProof { first: 5, second: 9, path: path(5, 9) };
    let json = hub.dir.write("proof.json", ledger::consistency_proof_to_json(&proof));
    let protobuf = hub.dir.write("proof.pb", ledger::consistency_proof_to_protobuf(&proof));
    let tk = hub.tree_head_key.as_str();
    let expected = "valid: the ledger of 5 entries (2026-01-01T00:00:05Z) is a prefix of the ledger of 9 entries (2026-01-01T00:00:09Z)\n";
    for file in [&json, &protobuf] {
        assert_eq!(ok(run(&["ledger", "verify-consistency", "--tree-head-key", tk, "--proof", file, &old, &new])), expected);
    }
    // Swapped heads, a proof for other sizes, a broken proof, the wrong key.
    let swapped = run(&["ledger", "verify-consistency", "--tree-head-key", tk, "--proof", &json, &new, &old]);
    fails_with(swapped, 1, &["from 5 to 9 entries, but the tree heads are of 9 and 5", "MEDSEAL_LEDGER_PROOF_INVALID"]);
    let other = hub.dir.write("other.json", ledger::consistency_proof_to_json(&ConsistencyProof { first: 4, second: 9, path: path(4, 9) }));
    fails_with(
        run(&["ledger", "verify-consistency", "--tree-head-key", tk, "--proof", &other, &old, &new]),
        1,
        &["MEDSEAL_LEDGER_PROOF_INVALID"],
    );
    let mut broken = proof.clone();
    broken.path[0][31] ^= 0x80;
    let broken = hub.dir.write("broken.pb", ledger::consistency_proof_to_protobuf(&broken));
    fails_with(
        run(&["ledger", "verify-consistency", "--tree-head-key", tk, "--proof", &broken, &old, &new]),
        1,
        &["broken.pb: ", "not only appended to", "MEDSEAL_LEDGER_PROOF_INVALID"],
    );
    let rk = hub.receipt_key.as_str();
    fails_with(
        run(&["ledger", "verify-consistency", "--tree-head-key", rk, "--proof", &json, &old, &new]),
        1,
        &["old.jws: ", "MEDSEAL_LEDGER_TREE_HEAD_INVALID"],
    );
    // A receipt is not a tree head, even checked with the key that signed it.
    let receipt = hub.dir.write("receipt.jws", hub.receipt(0, 9));
    fails_with(
        run(&["ledger", "verify-consistency", "--tree-head-key", rk, "--proof", &json, &receipt, &new]),
        1,
        &["receipt.jws: ", "not \"medseal-tree-head+jws\"", "MEDSEAL_LEDGER_TREE_HEAD_INVALID"],
    );
}

#[test]
fn medseal_verify_does_not_take_a_receipt_for_a_record() {
    // Issue 10, point 6: a receipt is a valid JWS by a trusted key, but not a record.
    let hub = Hub::new(2);
    let receipt = hub.receipt(0, 2);
    let path = hub.dir.write("receipt.jws", &receipt);
    let error = fails_with(run(&["verify", "--key", &hub.receipt_key, &path]), 1, &["MEDSEAL_JWS_HEADER", "not a medseal record"]);
    assert!(error.contains("medseal-receipt+jws"), "{error}");
    // Asked for any JWS, it verifies, and the summary names its typ.
    let summary = ok(run(&["verify", "--any-jws", "--key", &hub.receipt_key, &path]));
    assert!(summary.starts_with("valid: EdDSA signature") && summary.contains("typ medseal-receipt+jws"), "{summary}");
}
