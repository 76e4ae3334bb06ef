//! The ledger as served: tree heads, inclusion and consistency proofs, entries; kept across
//! restarts; consistent under concurrent submissions.

mod common;

use std::collections::BTreeMap;

use common::{status, Pilot};
use medseal::ledger::{
    consistency_proof_from_json, hashes, inclusion_proof_from_json, leaf_hash, verify_consistency, verify_inclusion, LedgerEntry,
    MerkleTree, TreeHead,
};
use medseal::wire::RecordStatus;

#[test]
fn get_endpoints() {
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    // The empty ledger has a signed head.
    let (empty, _) = pilot.tree_head();
    assert_eq!(empty.tree_size, 0);

    pilot.a.submit(&url, &[pilot.a.record("g-1", 1), pilot.a.record("g-2", 2)]);
    pilot.b.submit(&url, &[pilot.b.record("g-3", 1), pilot.b.record("g-4", 2), pilot.b.record("g-5", 3)]);

    // Tree head.
    let doc = pilot.get_json("/v1/tree-head");
    let (head, jws) = pilot.tree_head();
    assert_eq!(head.tree_size, 5);
    assert_eq!(doc["tree_size"], 5);
    assert_eq!(doc["tree_head"], jws.as_str());

    // Entries: canonical JSON lines whose leaf hashes rebuild the signed root.
    let (code, body) = pilot.get_as_auditor("/v1/ledger/entries?start=0&end=5");
    assert_eq!(code, 200);
    let lines: Vec<&[u8]> = body.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 5);
    let entries: Vec<LedgerEntry> = lines.iter().map(|l| LedgerEntry::from_json(l).unwrap()).collect();
    assert_eq!(entries[0].record_id, "g-1");
    assert_eq!((entries[4].source.as_str(), entries[4].sequence), ("hospital-b", 3));
    let tree = MerkleTree::from_leaves(lines.iter().map(|l| leaf_hash(l)).collect());
    assert_eq!(tree.root(5).unwrap(), head.root_hash);
    // A range is cut at the ledger's size; `end` defaults to it.
    let (_, body) = pilot.get_as_auditor("/v1/ledger/entries?start=3&end=100");
    assert_eq!(body.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count(), 2);
    let (_, body) = pilot.get_as_auditor("/v1/ledger/entries?start=1");
    assert_eq!(body.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count(), 4);
    // A facility reads only its own entries of a range: A has 2 of the 5, B's ids stay B's.
    let (code, body) = pilot.get("/v1/ledger/entries?start=0&end=5");
    assert_eq!(code, 200);
    let own: Vec<&[u8]> = body.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    assert_eq!(own, lines[..2].to_vec(), "facility A saw entries that are not its own");

    // Inclusion, against the latest head and against the head of an earlier batch.
    for (index, size, root) in [(4, 5, head.root_hash), (1, 2, tree.root(2).unwrap())] {
        let (code, body) = pilot.get(&format!("/v1/proofs/inclusion?leaf_index={index}&tree_size={size}"));
        assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
        let proof = inclusion_proof_from_json(&body).unwrap();
        let signed = TreeHead::verify(proof.tree_head.as_bytes(), &pilot.tree_head_keys()).unwrap();
        assert_eq!((signed.tree_size, signed.root_hash), (size, root));
        let path = hashes(&proof.audit_path, "the audit path").unwrap();
        verify_inclusion(&leaf_hash(lines[index as usize]), index, size, &path, &signed.root_hash).unwrap();
    }
    // Without tree_size: the latest.
    let proof = inclusion_proof_from_json(&pilot.get("/v1/proofs/inclusion?leaf_index=0").1).unwrap();
    assert_eq!(proof.tree_size, 5);

    // Consistency between the two batch heads.
    let (code, body) = pilot.get("/v1/proofs/consistency?first=2&second=5");
    assert_eq!(code, 200);
    let proof = consistency_proof_from_json(&body).unwrap();
    let path = hashes(&proof.path, "the consistency path").unwrap();
    verify_consistency(2, 5, &tree.root(2).unwrap(), &head.root_hash, &path).unwrap();

    // Errors: JSON bodies with stable codes.
    for (path, status_code, code) in [
        ("/v1/proofs/inclusion?leaf_index=5&tree_size=5", 404, "RANGE"),
        ("/v1/proofs/inclusion?leaf_index=0&tree_size=6", 404, "RANGE"),
        ("/v1/proofs/inclusion?leaf_index=0&tree_size=3", 404, "NO_TREE_HEAD"),
        ("/v1/proofs/inclusion?tree_size=3", 400, "BAD_PARAMETER"),
        ("/v1/proofs/inclusion?leaf_index=-1", 400, "BAD_PARAMETER"),
        ("/v1/proofs/consistency?first=3&second=2", 404, "RANGE"),
        ("/v1/proofs/consistency?first=1&second=9", 404, "RANGE"),
        ("/v1/proofs/consistency?first=1", 400, "BAD_PARAMETER"),
        ("/v1/ledger/entries?start=5", 404, "RANGE"),
        ("/v1/ledger/entries?start=2&end=2", 404, "RANGE"),
        ("/v1/ledger/entries?end=2", 400, "BAD_PARAMETER"),
    ] {
        let (got, body) = pilot.get(path);
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((got, value["code"].as_str().unwrap()), (status_code, code), "{path}: {value}");
    }
}

#[test]
fn a_restart_keeps_the_ledger() {
    let mut pilot = Pilot::new();
    let first = pilot.a.record("k-1", 1);
    let results = pilot.a.submit(&pilot.url("/v1/records"), &[first.clone(), pilot.a.record("k-2", 2)]);
    let (before, _) = pilot.tree_head();

    let old_addr = pilot.addr();
    pilot.restart();
    // The first hub let go of its port.
    assert!(std::net::TcpStream::connect(old_addr).is_err() || old_addr == pilot.addr());
    let (after, _) = pilot.tree_head();
    assert_eq!((after.tree_size, after.root_hash), (before.tree_size, before.root_hash));
    // Still a duplicate, with the same receipt.
    let again = pilot.a.submit(&pilot.url("/v1/records"), std::slice::from_ref(&first));
    assert_eq!(status(&again[0]), RecordStatus::Duplicate);
    assert_eq!(again[0].receipt, results[0].receipt);
    pilot.verify_receipt(&again[0], &first);
    // The ledger continues where it was.
    let next = pilot.a.record("k-3", 3);
    let results = pilot.a.submit(&pilot.url("/v1/records"), std::slice::from_ref(&next));
    let (receipt, _) = pilot.verify_receipt(&results[0], &next);
    assert_eq!((receipt.ledger_index, receipt.tree_size), (2, 3));
}

#[test]
fn an_altered_ledger_table_stops_the_hub_from_starting() {
    let mut pilot = Pilot::new();
    pilot.a.submit(&pilot.url("/v1/records"), &[pilot.a.record("t-1", 1), pilot.a.record("t-2", 2)]);
    pilot.hub.take().unwrap().shutdown().unwrap();
    let db = rusqlite::Connection::open(pilot.hub_dir.join("hub.sqlite")).unwrap();
    db.execute("UPDATE ledger SET leaf_hash = zeroblob(32) WHERE idx = 1", []).unwrap();
    drop(db);
    let error = medseal_hub::start(&pilot.hub_dir, "127.0.0.1:0".parse().unwrap()).unwrap_err();
    assert!(error.to_string().contains("does not match the signed tree head"), "{error}");
}

#[test]
fn concurrent_submissions_keep_the_ledger_consistent() {
    const THREADS: usize = 4;
    const BATCHES: usize = 6;
    const PER_BATCH: usize = 5;
    let pilot = Pilot::new();
    let url = pilot.url("/v1/records");
    // Every tree head seen in an answer, by size.
    let heads: BTreeMap<u64, String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let pilot = &pilot;
                let url = &url;
                scope.spawn(move || {
                    // Threads 0 and 2 send for A, 1 and 3 for B; each its own client and ids.
                    let facility = if t % 2 == 0 { &pilot.a } else { &pilot.b };
                    let client = common::Facility::load(&facility.id, &facility.dir);
                    let mut heads = BTreeMap::new();
                    for b in 0..BATCHES {
                        let records: Vec<_> = (0..PER_BATCH)
                            .map(|r| {
                                let n = (b * PER_BATCH + r) as u64;
                                client.record(&format!("c-{t}-{n}"), n * THREADS as u64 + t as u64 + 1)
                            })
                            .collect();
                        let results = client.submit(url, &records);
                        for (result, record) in results.iter().zip(&records) {
                            assert_eq!(status(result), RecordStatus::Accepted, "{result:?}");
                            let (receipt, head) = pilot.verify_receipt(result, record);
                            assert_eq!(receipt.tree_size, head.tree_size);
                            heads.insert(head.tree_size, result.inclusion.as_ref().unwrap().tree_head.clone());
                        }
                    }
                    heads
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    let total = (THREADS * BATCHES * PER_BATCH) as u64;
    let (latest, _) = pilot.tree_head();
    assert_eq!(latest.tree_size, total);
    assert_eq!(*heads.keys().last().unwrap(), total);

    // Each batch appended its records contiguously and signed one head: successive heads are
    // consistent with each other.
    let keys = pilot.tree_head_keys();
    let verified: Vec<TreeHead> = heads.values().map(|jws| TreeHead::verify(jws.as_bytes(), &keys).unwrap()).collect();
    for pair in verified.windows(2) {
        let (m, n) = (pair[0].tree_size, pair[1].tree_size);
        assert_eq!((n - m) % PER_BATCH as u64, 0, "batches are contiguous");
        let body = pilot.get(&format!("/v1/proofs/consistency?first={m}&second={n}")).1;
        let proof = consistency_proof_from_json(&body).unwrap();
        verify_consistency(m, n, &pair[0].root_hash, &pair[1].root_hash, &hashes(&proof.path, "path").unwrap()).unwrap();
    }

    // The entries rebuild the latest root, and each record is there exactly once.
    let mut lines = Vec::new();
    let mut start = 0;
    while start < total {
        let body = pilot.get_as_auditor(&format!("/v1/ledger/entries?start={start}")).1;
        let chunk: Vec<Vec<u8>> = body.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect();
        start += chunk.len() as u64;
        lines.extend(chunk);
    }
    let tree = MerkleTree::from_leaves(lines.iter().map(|l| leaf_hash(l)).collect());
    assert_eq!(tree.root(total).unwrap(), latest.root_hash);
    let mut ids: Vec<String> = lines.iter().map(|l| LedgerEntry::from_json(l).unwrap().record_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len() as u64, total);
}
