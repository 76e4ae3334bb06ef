//! The ledger (docs/SUBMISSION.md, RFC 9162): the Merkle tree against a naive implementation
//! written here straight from the RFC's text (every size to 70 exhaustively, larger ones by
//! proptest), the RFC 6962 reference test tree, every way of breaking a proof, ledger entries,
//! signed tree heads, receipts and the full receipt check.

use std::sync::Arc;

use medseal::jws::{SignOptions, Signer, Verifier};
use medseal::ledger::{
    self, consistency_proof_len, inclusion_proof_len, leaf_hash, node_hash, verify_consistency, verify_inclusion, Hash, LedgerEntry,
    MerkleTree, Receipt, TreeHead, RECEIPT_TYP, TREE_HEAD_TYP,
};
use medseal::wire::InclusionProof;
use medseal::{Algorithm, Key, ResultCode, Serialization};
use proptest::prelude::*;
use ring::digest::{digest, SHA256};

use ResultCode::*;

// ---- the naive RFC 9162 2.1 implementation ------------------------------------------------
// Written from the RFC text alone, over the entries themselves (not leaf hashes), recursing on
// slices exactly as the definitions do.

fn sha256(parts: &[&[u8]]) -> Hash {
    let bytes: Vec<u8> = parts.concat();
    digest(&SHA256, &bytes).as_ref().try_into().unwrap()
}

/// k: the largest power of two smaller than n (n > 1).
fn naive_k(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]) (2.1.1).
fn mth(d: &[Vec<u8>]) -> Hash {
    match d.len() {
        0 => sha256(&[]),
        1 => sha256(&[&[0x00], &d[0]]),
        n => {
            let k = naive_k(n);
            sha256(&[&[0x01], &mth(&d[..k]), &mth(&d[k..])])
        }
    }
}

/// PATH(m, D[n]) (2.1.3.1).
fn naive_path(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    let n = d.len();
    if n == 1 {
        return vec![];
    }
    let k = naive_k(n);
    if m < k {
        let mut p = naive_path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = naive_path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

/// SUBPROOF(m, D[n], b) (2.1.4.1).
fn naive_subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth(d)] };
    }
    let k = naive_k(n);
    if m <= k {
        let mut p = naive_subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = naive_subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

/// PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m < n.
fn naive_proof(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    naive_subproof(m, d, true)
}

fn entries(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("entry {i}").into_bytes()).collect()
}

fn tree_of(d: &[Vec<u8>]) -> MerkleTree {
    let mut tree = MerkleTree::new();
    for (i, e) in d.iter().enumerate() {
        assert_eq!(tree.push(leaf_hash(e)), i as u64);
    }
    tree
}

#[track_caller]
fn code<T: std::fmt::Debug>(result: medseal::Result<T>) -> ResultCode {
    result.expect_err("must fail").code()
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut h = *hash;
    h[bit / 8] ^= 1 << (bit % 8);
    h
}

/// Bits flipped in each hash: all 256 for small trees, one per byte beyond.
fn bits(n: u64) -> Vec<usize> {
    if n <= 12 {
        (0..256).collect()
    } else {
        (0..32).map(|byte| byte * 8 + byte % 8).collect()
    }
}

#[test]
fn hashes_are_rfc_9162() {
    assert_eq!(leaf_hash(b"abc"), sha256(&[b"\x00abc"]));
    let (l, r) = ([1u8; 32], [2u8; 32]);
    assert_eq!(node_hash(&l, &r), sha256(&[&[1], &l, &r]));
    assert_eq!(ledger::empty_root(), sha256(&[]));
    assert_eq!(MerkleTree::new().root(0).unwrap(), sha256(&[]));
}

#[test]
fn exhaustive_against_the_rfc_text_up_to_70_leaves() {
    const MAX: usize = 70;
    let d = entries(MAX);
    let full = tree_of(&d);
    let mut growing = MerkleTree::new();
    for n in 0..=MAX {
        let roots_n = mth(&d[..n]);
        // The tree at size n, grown one leaf at a time, built in one go, and as a prefix of a
        // bigger tree: the same roots and proofs.
        let bulk = MerkleTree::from_leaves(d[..n].iter().map(|e| leaf_hash(e)).collect());
        assert_eq!(growing.len(), n as u64);
        assert_eq!(growing.is_empty(), n == 0);
        for tree in [&growing, &bulk, &full] {
            assert_eq!(tree.root(n as u64).unwrap(), roots_n, "root of {n}");
        }
        assert_eq!(code(growing.root(n as u64 + 1)), MEDSEAL_LEDGER_RANGE);
        for m in 0..n {
            let expected = naive_path(m, &d[..n]);
            assert_eq!(expected.len(), inclusion_proof_len(m as u64, n as u64));
            for tree in [&growing, &bulk, &full] {
                assert_eq!(tree.inclusion_proof(m as u64, n as u64).unwrap(), expected, "PATH({m}, D[{n}])");
            }
            verify_inclusion(&leaf_hash(&d[m]), m as u64, n as u64, &expected, &roots_n).unwrap();
        }
        assert_eq!(code(full.inclusion_proof(n as u64, n as u64)), MEDSEAL_LEDGER_RANGE);
        for m in 0..=n {
            let expected = if m == 0 || m == n { vec![] } else { naive_proof(m, &d[..n]) };
            assert_eq!(expected.len(), consistency_proof_len(m as u64, n as u64));
            for tree in [&growing, &bulk, &full] {
                assert_eq!(tree.consistency_proof(m as u64, n as u64).unwrap(), expected, "PROOF({m}, D[{n}])");
            }
            verify_consistency(m as u64, n as u64, &mth(&d[..m]), &roots_n, &expected).unwrap();
        }
        assert_eq!(code(full.consistency_proof(n as u64 + 1, n as u64)), MEDSEAL_LEDGER_RANGE);
        if n < MAX {
            growing.push(leaf_hash(&d[n]));
        }
    }
    assert_eq!(code(full.inclusion_proof(0, MAX as u64 + 1)), MEDSEAL_LEDGER_RANGE);
    assert_eq!(code(full.consistency_proof(1, MAX as u64 + 1)), MEDSEAL_LEDGER_RANGE);
    assert_eq!(full.leaf(3).unwrap(), leaf_hash(&d[3]));
    assert_eq!(code(full.leaf(MAX as u64)), MEDSEAL_LEDGER_RANGE);
}

#[test]
fn every_broken_inclusion_proof_fails_with_its_code() {
    const MAX: u64 = 40;
    let d = entries(MAX as usize + 2);
    let tree = tree_of(&d);
    let roots: Vec<Hash> = (0..=MAX + 2).map(|n| tree.root(n).unwrap()).collect();
    for n in 1..=MAX {
        let root = roots[n as usize];
        for m in 0..n {
            let leaf = leaf_hash(&d[m as usize]);
            let path = tree.inclusion_proof(m, n).unwrap();
            let check =
                |leaf: &Hash, m: u64, n: u64, path: &[Hash], root: &Hash| verify_inclusion(leaf, m, n, path, root).map_err(|e| e.code());
            assert_eq!(check(&leaf, m, n, &path, &root), Ok(()));
            for bit in bits(n) {
                assert_eq!(check(&flip(&leaf, bit), m, n, &path, &root), Err(MEDSEAL_LEDGER_PROOF_INVALID));
                assert_eq!(check(&leaf, m, n, &path, &flip(&root, bit)), Err(MEDSEAL_LEDGER_PROOF_INVALID));
                for i in 0..path.len() {
                    let mut broken = path.clone();
                    broken[i] = flip(&broken[i], bit);
                    assert_eq!(check(&leaf, m, n, &broken, &root), Err(MEDSEAL_LEDGER_PROOF_INVALID), "m={m} n={n} i={i} bit={bit}");
                }
            }
            // Another index: in range it does not verify, out of range it is a range error.
            for other in (0..n + 2).filter(|&o| o != m) {
                let expected = if other < n { MEDSEAL_LEDGER_PROOF_INVALID } else { MEDSEAL_LEDGER_RANGE };
                assert_eq!(check(&leaf, other, n, &path, &root), Err(expected), "index {other} for {m} in {n}");
            }
            // Another size, with that size's root or with this one.
            for other in (0..=MAX + 2).filter(|&o| o != n) {
                let expected = if m < other { MEDSEAL_LEDGER_PROOF_INVALID } else { MEDSEAL_LEDGER_RANGE };
                assert_eq!(check(&leaf, m, other, &path, &roots[other as usize]), Err(expected), "size {other} for {m} in {n}");
            }
            // Truncated, extended, or with a hash put in front: never accepted.
            if let Some((_, shorter)) = path.split_last() {
                assert_eq!(check(&leaf, m, n, shorter, &root), Err(MEDSEAL_LEDGER_PROOF_INVALID));
                assert_eq!(check(&leaf, m, n, &path[1..], &root), Err(MEDSEAL_LEDGER_PROOF_INVALID));
            }
            for extra in [root, leaf, [0; 32]] {
                let mut longer = path.clone();
                longer.push(extra);
                assert_eq!(check(&leaf, m, n, &longer, &root), Err(MEDSEAL_LEDGER_PROOF_INVALID));
                longer.pop();
                longer.insert(0, extra);
                assert_eq!(check(&leaf, m, n, &longer, &root), Err(MEDSEAL_LEDGER_PROOF_INVALID));
            }
        }
    }
    // A tree of one leaf: the root is the leaf hash, the path empty.
    verify_inclusion(&roots[1], 0, 1, &[], &roots[1]).unwrap();
    assert_eq!(code(verify_inclusion(&roots[1], 0, 0, &[], &roots[0])), MEDSEAL_LEDGER_RANGE);
}

#[test]
fn every_broken_consistency_proof_fails_with_its_code() {
    const MAX: u64 = 36;
    let d = entries(MAX as usize + 2);
    let tree = tree_of(&d);
    let roots: Vec<Hash> = (0..=MAX + 2).map(|n| tree.root(n).unwrap()).collect();
    let check =
        |m: u64, n: u64, first: &Hash, second: &Hash, path: &[Hash]| verify_consistency(m, n, first, second, path).map_err(|e| e.code());
    for n in 0..=MAX {
        for m in 0..=n {
            let (first, second) = (roots[m as usize], roots[n as usize]);
            let path = tree.consistency_proof(m, n).unwrap();
            assert_eq!(check(m, n, &first, &second, &path), Ok(()));
            for bit in bits(n) {
                if m > 0 {
                    assert_eq!(check(m, n, &flip(&first, bit), &second, &path), Err(MEDSEAL_LEDGER_PROOF_INVALID), "{m} {n} {bit}");
                }
                if m > 0 && m < n {
                    assert_eq!(check(m, n, &first, &flip(&second, bit), &path), Err(MEDSEAL_LEDGER_PROOF_INVALID));
                }
                for i in 0..path.len() {
                    let mut broken = path.clone();
                    broken[i] = flip(&broken[i], bit);
                    assert_eq!(check(m, n, &first, &second, &broken), Err(MEDSEAL_LEDGER_PROOF_INVALID), "{m} {n} {i} {bit}");
                }
            }
            // Other sizes, each with its own root: only the true pair verifies.
            for (m2, n2) in [(m + 1, n), (m, n + 1), (m.wrapping_sub(1), n), (m, n.wrapping_sub(1))] {
                if (m2, n2) == (m, n) || n2 > MAX + 2 || m2 > MAX + 2 {
                    continue;
                }
                let expected = if m2 > n2 { MEDSEAL_LEDGER_RANGE } else { MEDSEAL_LEDGER_PROOF_INVALID };
                let got = check(m2, n2, &roots[m2 as usize], &roots[n2 as usize], &path);
                // The empty proof of a trivial case (from 0, or to the same size) fits any other.
                if path.is_empty() && (m2 == 0 || m2 == n2) {
                    assert_eq!(got, Ok(()));
                } else {
                    assert_eq!(got, Err(expected), "proof for {m}->{n} checked as {m2}->{n2}");
                }
            }
            if let Some((_, shorter)) = path.split_last() {
                assert_eq!(check(m, n, &first, &second, shorter), Err(MEDSEAL_LEDGER_PROOF_INVALID));
                assert_eq!(check(m, n, &first, &second, &path[1..]), Err(MEDSEAL_LEDGER_PROOF_INVALID));
            }
            for extra in [first, second, [0; 32]] {
                let mut longer = path.clone();
                longer.push(extra);
                assert_eq!(check(m, n, &first, &second, &longer), Err(MEDSEAL_LEDGER_PROOF_INVALID));
                longer.pop();
                longer.insert(0, extra);
                assert_eq!(check(m, n, &first, &second, &longer), Err(MEDSEAL_LEDGER_PROOF_INVALID));
            }
        }
    }
    // A rewritten history: same sizes, another leaf 3.
    let mut rewritten = d.clone();
    rewritten[3] = b"forged".to_vec();
    let forged = tree_of(&rewritten);
    let proof = forged.consistency_proof(5, 9).unwrap();
    assert_eq!(check(5, 9, &roots[5], &forged.root(9).unwrap(), &proof), Err(MEDSEAL_LEDGER_PROOF_INVALID));
    assert_eq!(check(5, 9, &roots[5], &roots[9], &proof), Err(MEDSEAL_LEDGER_PROOF_INVALID));
    // Equal sizes: equal roots, empty proof. From the empty tree: its root, empty proof.
    assert_eq!(check(4, 4, &roots[4], &roots[5], &[]), Err(MEDSEAL_LEDGER_PROOF_INVALID));
    assert_eq!(check(0, 4, &roots[1], &roots[4], &[]), Err(MEDSEAL_LEDGER_PROOF_INVALID));
    assert_eq!(check(5, 4, &roots[5], &roots[4], &[]), Err(MEDSEAL_LEDGER_RANGE));
}

/// The RFC 6962 reference test data of Certificate Transparency: 8 leaves. The expected values
/// were computed independently with Python's hashlib (a 20-line MTH/PATH/SUBPROOF from the
/// RFC text, `python3 -c ...`, hashlib.sha256), and agree with the published CT test vectors.
#[test]
fn rfc_6962_reference_tree() {
    let leaves: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];
    let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    let hex = |h: &Hash| h.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let hexes = |p: Vec<Hash>| p.iter().map(hex).collect::<Vec<_>>();
    let tree = MerkleTree::from_leaves(leaves.iter().map(|l| leaf_hash(l)).collect());
    for (n, root) in roots.iter().enumerate() {
        assert_eq!(hex(&tree.root(n as u64).unwrap()), *root, "root of {n}");
    }
    let inclusion: [(u64, u64, &[&str]); 5] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (2, 3, &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (m, n, expected) in inclusion {
        assert_eq!(hexes(tree.inclusion_proof(m, n).unwrap()), expected, "PATH({m}, D[{n}])");
    }
    let consistency: [(u64, u64, &[&str]); 5] = [
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            3,
            7,
            &[
                "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
                "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e",
            ],
        ),
        (4, 8, &["6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    ];
    for (m, n, expected) in consistency {
        let proof = tree.consistency_proof(m, n).unwrap();
        assert_eq!(hexes(proof.clone()), expected, "PROOF({m}, D[{n}])");
        verify_consistency(m, n, &tree.root(m).unwrap(), &tree.root(n).unwrap(), &proof).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Bigger trees: proofs equal the RFC text's and verify; the tree grown by `push` equals
    /// the one built in one go.
    #[test]
    fn big_trees_match_the_rfc_text(n in 71usize..3000, seeds in prop::collection::vec((any::<u64>(), any::<u64>()), 4)) {
        let d = entries(n);
        let tree = tree_of(&d);
        let bulk = MerkleTree::from_leaves(d.iter().map(|e| leaf_hash(e)).collect());
        prop_assert_eq!(tree.root(n as u64).unwrap(), mth(&d));
        prop_assert_eq!(bulk.root(n as u64).unwrap(), mth(&d));
        for (a, b) in seeds {
            let size = 1 + (a % n as u64) as usize;
            let m = (b % size as u64) as usize;
            let root = mth(&d[..size]);
            let path = tree.inclusion_proof(m as u64, size as u64).unwrap();
            prop_assert_eq!(&path, &naive_path(m, &d[..size]));
            prop_assert_eq!(&bulk.inclusion_proof(m as u64, size as u64).unwrap(), &path);
            prop_assert!(verify_inclusion(&leaf_hash(&d[m]), m as u64, size as u64, &path, &root).is_ok());
            let first = m.max(1);
            let proof = tree.consistency_proof(first as u64, size as u64).unwrap();
            let expected = if first == size { vec![] } else { naive_proof(first, &d[..size]) };
            prop_assert_eq!(&proof, &expected);
            prop_assert!(verify_consistency(first as u64, size as u64, &mth(&d[..first]), &root, &proof).is_ok());
            if let Some(h) = proof.first() {
                let mut broken = proof.clone();
                broken[0] = flip(h, (a % 256) as usize);
                prop_assert_eq!(
                    verify_consistency(first as u64, size as u64, &mth(&d[..first]), &root, &broken).unwrap_err().code(),
                    MEDSEAL_LEDGER_PROOF_INVALID
                );
            }
        }
    }
}

// ---- entries, tree heads, receipts ---------------------------------------------------------

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;

fn digest_of(text: &str) -> Hash {
    digest(&SHA256, text.as_bytes()).as_ref().try_into().unwrap()
}

fn entry(i: u64) -> LedgerEntry {
    LedgerEntry {
        record_id: format!("rec-{i:04}"),
        source: "hospital-a".to_owned(),
        sequence: i + 1,
        digest: digest_of(&format!("envelope {i}")),
        received: T0 + i as i64,
        withdrawn: None,
    }
}

#[test]
fn ledger_entries_are_canonical_json() {
    let e = LedgerEntry {
        record_id: "r-1".into(),
        source: "bv-cho-ray".into(),
        sequence: 7,
        digest: [0xfb; 32],
        received: T0,
        withdrawn: None,
    };
    let json = String::from_utf8(e.to_json()).unwrap();
    assert_eq!(
        json,
        r#"{"digest":"-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s","received":"2026-01-01T00:00:00Z","record_id":"r-1","sequence":7,"source":"bv-cho-ray"}"#
    );
    assert_eq!(e.leaf_hash(), sha256(&[b"\x00", json.as_bytes()]));
    assert_eq!(LedgerEntry::from_json(json.as_bytes()).unwrap(), e);
    e.validate().unwrap();

    let refused = |text: &str| LedgerEntry::from_json(text.as_bytes()).unwrap_err();
    let good = json.clone();
    for (bad, why) in [
        (good.replace(r#""sequence":7,"#, r#""sequence":7,"extra":1,"#), "unknown member"),
        (good.replace(r#""sequence":7,"#, ""), "lacks"),
        (good.replace("\",", "\", "), "not canonical"),
        (format!("{good} "), "not canonical"),
        (good.replace(r#""sequence":7"#, r#""sequence":7.0"#), "JSON"),
        (good.replace(r#""sequence":7"#, r#""sequence":0"#), "sequence"),
        (good.replace(r#""sequence":7"#, r#""sequence":9007199254740992"#), "JSON"),
        (good.replace(r#""sequence":7"#, r#""sequence":"7""#), "integer"),
        (good.replace("-_s\"", "-_s=\""), "base64url"),
        (good.replace("-_v7-_s\"", "-_s\""), "32-byte"),
        (good.replace("00:00:00Z", "00:00:00+00:00"), "RFC 3339"),
        (good.replace("00:00:00Z", "00:00:00.5Z"), "RFC 3339"),
        (good.replace(r#""r-1""#, r#""""#), "record id"),
        (good.replace(r#""r-1""#, r#""r\u0007""#), "control"),
        ("[]".to_owned(), "not a JSON object"),
    ] {
        let e = refused(&bad);
        assert_eq!(e.code(), MEDSEAL_LEDGER_PROOF_INVALID, "{bad}");
        assert!(e.message().contains(why), "{bad}: {}", e.message());
    }
    let long = LedgerEntry { record_id: "x".repeat(257), ..e.clone() };
    assert_eq!(long.validate().unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT);
    let zero = LedgerEntry { sequence: 0, ..e.clone() };
    assert_eq!(zero.validate().unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT);
    let far = LedgerEntry { received: 253_402_300_800, ..e };
    assert_eq!(far.validate().unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT);
}

struct Hub {
    tree_head_key: Arc<Key>,
    receipt_signer: Signer,
    tree_head_signer: Signer,
    receipt_keys: Verifier,
    tree_head_keys: Verifier,
    tree: MerkleTree,
    entries: Vec<LedgerEntry>,
}

fn ed25519() -> Arc<Key> {
    Arc::new(Key::generate(Algorithm::EdDSA).unwrap())
}

fn fixed(options: SignOptions) -> SignOptions {
    SignOptions { signing_time: Some(T0 + 3600), ..options }
}

impl Hub {
    fn new(n: u64) -> Hub {
        let (receipt_key, tree_head_key) = (ed25519(), Arc::new(Key::generate(Algorithm::ES256).unwrap()));
        let entries: Vec<LedgerEntry> = (0..n).map(entry).collect();
        Hub {
            tree_head_key: tree_head_key.clone(),
            receipt_signer: Signer::new(receipt_key.clone(), fixed(ledger::receipt_sign_options())).unwrap(),
            tree_head_signer: Signer::new(tree_head_key.clone(), fixed(ledger::tree_head_sign_options())).unwrap(),
            receipt_keys: Verifier::new(vec![Arc::new(receipt_key.to_public())]),
            tree_head_keys: Verifier::new(vec![Arc::new(tree_head_key.to_public())]),
            tree: MerkleTree::from_leaves(entries.iter().map(LedgerEntry::leaf_hash).collect()),
            entries,
        }
    }

    fn receipt(&self, i: u64, size: u64) -> Receipt {
        let e = &self.entries[i as usize];
        Receipt {
            record_id: e.record_id.clone(),
            source: e.source.clone(),
            sequence: e.sequence,
            digest: e.digest,
            received: e.received,
            ledger_index: i,
            tree_size: size,
            withdrawn: None,
        }
    }

    fn tree_head(&self, size: u64) -> TreeHead {
        TreeHead { tree_size: size, root_hash: self.tree.root(size).unwrap(), timestamp: T0 + 3600 }
    }

    /// What the hub returns for record `i` with the tree at `size`.
    fn answer(&self, i: u64, size: u64) -> (String, InclusionProof) {
        let receipt = self.receipt(i, size).sign(&self.receipt_signer).unwrap();
        let proof = InclusionProof {
            leaf_index: i,
            tree_size: size,
            audit_path: self.tree.inclusion_proof(i, size).unwrap().iter().map(|h| h.to_vec()).collect(),
            tree_head: self.tree_head(size).sign(&self.tree_head_signer).unwrap(),
        };
        (receipt, proof)
    }

    fn check(&self, receipt: &str, proof: &InclusionProof, record_id: Option<&str>, digest: Option<&Hash>) -> Result<Receipt, ResultCode> {
        ledger::verify_receipt(receipt.as_bytes(), proof, &self.receipt_keys, &self.tree_head_keys, record_id, digest).map_err(|e| e.code())
    }
}

/// A compact JWS's parts, and one rebuilt with another payload signed by `signer`.
fn resign(signer: &Signer, payload: &[u8]) -> String {
    signer.sign_payload(payload, Serialization::Compact).unwrap()
}

fn tamper(jws: &str, at: usize) -> String {
    let mut bytes = jws.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[test]
fn tree_heads_sign_and_verify() {
    let hub = Hub::new(5);
    let head = hub.tree_head(5);
    let jws = head.sign(&hub.tree_head_signer).unwrap();
    assert_eq!(jws.split('.').count(), 3, "compact");
    assert_eq!(TreeHead::verify(jws.as_bytes(), &hub.tree_head_keys).unwrap(), head);
    assert_eq!(TreeHead::verify(format!(" {jws}\n").as_bytes(), &hub.tree_head_keys).unwrap(), head);
    let payload = String::from_utf8(head.to_json()).unwrap();
    assert!(
        payload.starts_with(r#"{"root_hash":""#)
            && payload.ends_with(r#"","timestamp":"2026-01-01T01:00:00Z","tree_size":5,"type":"medseal-tree-head"}"#),
        "{payload}"
    );
    let refused = |jws: &str| TreeHead::verify(jws.as_bytes(), &hub.tree_head_keys).unwrap_err();

    // Tampering anywhere: header, payload, signature.
    let dots: Vec<usize> = jws.match_indices('.').map(|(i, _)| i).collect();
    for at in [3, dots[0] + 5, dots[1] + 5, jws.len() - 2] {
        assert_eq!(refused(&tamper(&jws, at)).code(), MEDSEAL_LEDGER_TREE_HEAD_INVALID, "at {at}");
    }
    // Wrong key; no key; the receipt key.
    let other = Verifier::new(vec![ed25519()]);
    assert_eq!(TreeHead::verify(jws.as_bytes(), &other).unwrap_err().code(), MEDSEAL_LEDGER_TREE_HEAD_INVALID);
    assert_eq!(TreeHead::verify(jws.as_bytes(), &Verifier::new(vec![])).unwrap_err().code(), MEDSEAL_JWS_NO_KEYS);
    // Typ confusion: a receipt is not a tree head, even signed by the tree-head key.
    let confused = Signer::new(hub.tree_head_key.clone(), ledger::receipt_sign_options()).unwrap();
    let e = refused(&hub.receipt(0, 5).sign(&confused).unwrap());
    assert_eq!(e.code(), MEDSEAL_LEDGER_TREE_HEAD_INVALID);
    assert!(e.message().contains("not \"medseal-tree-head+jws\""), "{e}");
    let (receipt, _) = hub.answer(0, 5);
    assert_eq!(refused(&receipt).code(), MEDSEAL_LEDGER_TREE_HEAD_INVALID);
    let record = Signer::new(ed25519(), SignOptions::default()).unwrap();
    assert!(TreeHead::verify(resign(&record, &head.to_json()).as_bytes(), &Verifier::new(vec![Arc::new(record.key().to_public())]))
        .unwrap_err()
        .message()
        .contains("not \"medseal-tree-head+jws\""));
    // JSON serialization refused: tree heads are compact.
    let flattened = hub.tree_head_signer.sign_payload(&head.to_json(), Serialization::Flattened).unwrap();
    assert!(refused(&flattened).message().contains("compact"));
    // Payloads signed properly but wrong.
    let good = payload.clone();
    for (bad, why) in [
        (good.replace(r#""tree_size":5"#, r#""tree_size":5,"x":1"#), "unknown member"),
        (good.replace("medseal-tree-head\"", "medseal-receipt\""), "\"type\""),
        (good.replace(',', ", "), "canonical"),
        (good.replace(r#""tree_size":5"#, r#""tree_size":-1"#), "tree_size"),
        (good.replace("T01:00:00Z", "T01:00:00z"), "timestamp"),
        (format!("{good}\n"), "canonical"),
    ] {
        let e = refused(&resign(&hub.tree_head_signer, bad.as_bytes()));
        assert_eq!(e.code(), MEDSEAL_LEDGER_TREE_HEAD_INVALID, "{bad}");
        assert!(e.message().contains(why), "{bad}: {}", e.message());
    }
    // An empty tree has the empty root.
    let empty = TreeHead { tree_size: 0, root_hash: ledger::empty_root(), timestamp: T0 };
    let signed = empty.sign(&hub.tree_head_signer).unwrap();
    assert_eq!(TreeHead::verify(signed.as_bytes(), &hub.tree_head_keys).unwrap(), empty);
    let bogus = TreeHead { root_hash: [7; 32], ..empty };
    assert_eq!(bogus.sign(&hub.tree_head_signer).unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT);
    assert_eq!(refused(&resign(&hub.tree_head_signer, &bogus.to_json())).code(), MEDSEAL_LEDGER_TREE_HEAD_INVALID);
    // Signing needs the tree-head typ.
    let plain = Signer::new(ed25519(), SignOptions::default()).unwrap();
    assert_eq!(head.sign(&plain).unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT);
    assert_eq!(head.sign(&hub.receipt_signer).unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT);
}

#[test]
fn receipts_sign_and_verify() {
    let hub = Hub::new(3);
    let receipt = hub.receipt(2, 3);
    let jws = receipt.sign(&hub.receipt_signer).unwrap();
    assert_eq!(Receipt::verify(jws.as_bytes(), &hub.receipt_keys).unwrap(), receipt);
    assert_eq!(receipt.entry(), hub.entries[2]);
    let payload = String::from_utf8(receipt.to_json()).unwrap();
    assert!(payload.contains(r#","ledger_index":2,"received":"2026-01-01T00:00:02Z","record_id":"rec-0002","sequence":3,"source":"hospital-a","tree_size":3,"type":"medseal-receipt"}"#), "{payload}");
    let refused = |jws: &str| Receipt::verify(jws.as_bytes(), &hub.receipt_keys).unwrap_err();
    let dots: Vec<usize> = jws.match_indices('.').map(|(i, _)| i).collect();
    for at in [3, dots[0] + 5, dots[1] + 5, jws.len() - 2] {
        assert_eq!(refused(&tamper(&jws, at)).code(), MEDSEAL_LEDGER_RECEIPT_INVALID, "at {at}");
    }
    assert_eq!(Receipt::verify(jws.as_bytes(), &hub.tree_head_keys).unwrap_err().code(), MEDSEAL_LEDGER_RECEIPT_INVALID);
    assert_eq!(Receipt::verify(jws.as_bytes(), &Verifier::new(vec![])).unwrap_err().code(), MEDSEAL_JWS_NO_KEYS);
    // Typ confusion: a tree head signed with the receipt key is still not a receipt.
    let head_typed = Signer::new(ed25519(), ledger::tree_head_sign_options()).unwrap();
    let head = hub.tree_head(3).sign(&head_typed).unwrap();
    let e = Receipt::verify(head.as_bytes(), &Verifier::new(vec![Arc::new(head_typed.key().to_public())])).unwrap_err();
    assert_eq!(e.code(), MEDSEAL_LEDGER_RECEIPT_INVALID);
    assert!(e.message().contains("not \"medseal-receipt+jws\""), "{}", e.message());
    // The typ is compared as RFC 7515 says: case-insensitively, application/ optional.
    let spelled =
        Signer::new(ed25519(), SignOptions { typ: Some("application/Medseal-Receipt+JWS".into()), ..SignOptions::default() }).unwrap();
    let keys = Verifier::new(vec![Arc::new(spelled.key().to_public())]);
    assert_eq!(Receipt::verify(resign(&spelled, &receipt.to_json()).as_bytes(), &keys).unwrap(), receipt);
    // Payloads signed properly but wrong.
    let good = payload.clone();
    for (bad, why) in [
        (good.replace(r#""tree_size":3"#, r#""tree_size":3,"z":1"#), "unknown member"),
        (good.replace(r#""tree_size":3,"#, ""), "lacks"),
        (good.replace("medseal-receipt\"", "medseal-tree-head\""), "\"type\""),
        (good.replace(r#""ledger_index":2"#, r#""ledger_index":3"#), "ledger index 3"),
        (good.replace(r#""tree_size":3"#, r#""tree_size":0"#), "tree size"),
        (good.replace(r#""sequence":3"#, r#""sequence":0"#), "sequence"),
        (good.replace("\"rec-0002\"", "\"\""), "record id"),
        (good.replace("{", "{ "), "canonical"),
    ] {
        let e = refused(&resign(&hub.receipt_signer, bad.as_bytes()));
        assert_eq!(e.code(), MEDSEAL_LEDGER_RECEIPT_INVALID, "{bad}");
        assert!(e.message().contains(why), "{bad}: {}", e.message());
    }
    // Signing checks typ and fields.
    assert_eq!(receipt.sign(&hub.tree_head_signer).unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT);
    let outside = Receipt { ledger_index: 3, ..receipt.clone() };
    assert_eq!(outside.sign(&hub.receipt_signer).unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT);
    // Non-NFC ids (allowed in envelope meta) round-trip untouched.
    let nfd = Receipt { record_id: "re\u{301}c".into(), ..receipt };
    assert_eq!(Receipt::verify(nfd.sign(&hub.receipt_signer).unwrap().as_bytes(), &hub.receipt_keys).unwrap(), nfd);
}

#[test]
fn receipts_check_against_the_ledger() {
    let hub = Hub::new(11);
    for size in 1..=11 {
        for i in 0..size {
            let (receipt, proof) = hub.answer(i, size);
            let e = &hub.entries[i as usize];
            let checked = hub.check(&receipt, &proof, Some(&e.record_id), Some(&e.digest)).unwrap();
            assert_eq!(checked, hub.receipt(i, size));
            assert_eq!(hub.check(&receipt, &proof, None, None).unwrap(), checked);
        }
    }
    let (receipt, proof) = hub.answer(6, 11);
    let (rid, dg) = (hub.entries[6].record_id.as_str(), hub.entries[6].digest);
    let (r, h) =
        ledger::verify_receipt_and_tree_head(receipt.as_bytes(), &proof, &hub.receipt_keys, &hub.tree_head_keys, None, None).unwrap();
    assert_eq!((r.ledger_index, h), (6, hub.tree_head(11)));

    // Another record's id or digest.
    assert_eq!(hub.check(&receipt, &proof, Some("rec-0005"), Some(&dg)), Err(MEDSEAL_LEDGER_RECEIPT_INVALID));
    assert_eq!(hub.check(&receipt, &proof, Some(rid), Some(&hub.entries[5].digest)), Err(MEDSEAL_LEDGER_RECEIPT_INVALID));
    // Receipt, proof and tree head disagree on the size or the index.
    let (_, proof_10) = hub.answer(6, 10);
    assert_eq!(hub.check(&receipt, &proof_10, None, None), Err(MEDSEAL_LEDGER_RECEIPT_INVALID));
    let head_10 = InclusionProof { tree_head: proof_10.tree_head.clone(), ..proof.clone() };
    assert_eq!(hub.check(&receipt, &head_10, None, None), Err(MEDSEAL_LEDGER_RECEIPT_INVALID));
    let size_10 = InclusionProof { tree_size: 10, ..proof.clone() };
    assert_eq!(hub.check(&receipt, &size_10, None, None), Err(MEDSEAL_LEDGER_RECEIPT_INVALID));
    let (_, proof_of_7) = hub.answer(7, 11);
    assert_eq!(hub.check(&receipt, &proof_of_7, None, None), Err(MEDSEAL_LEDGER_RECEIPT_INVALID));
    let index_7 = InclusionProof { leaf_index: 7, ..proof.clone() };
    assert_eq!(hub.check(&receipt, &index_7, None, None), Err(MEDSEAL_LEDGER_RECEIPT_INVALID));
    // A broken audit path: a flipped bit, a short hash, a hash too many or too few.
    for i in 0..proof.audit_path.len() {
        let mut broken = proof.clone();
        broken.audit_path[i][9] ^= 0x10;
        assert_eq!(hub.check(&receipt, &broken, None, None), Err(MEDSEAL_LEDGER_PROOF_INVALID));
        broken.audit_path[i].pop();
        assert_eq!(hub.check(&receipt, &broken, None, None), Err(MEDSEAL_LEDGER_PROOF_INVALID));
    }
    let mut longer = proof.clone();
    longer.audit_path.push(vec![0; 32]);
    assert_eq!(hub.check(&receipt, &longer, None, None), Err(MEDSEAL_LEDGER_PROOF_INVALID));
    let mut shorter = proof.clone();
    shorter.audit_path.pop();
    assert_eq!(hub.check(&receipt, &shorter, None, None), Err(MEDSEAL_LEDGER_PROOF_INVALID));
    // A receipt the hub signed for an entry that is not in the ledger.
    let forged = Receipt { digest: digest_of("other envelope"), ..hub.receipt(6, 11) }.sign(&hub.receipt_signer).unwrap();
    assert_eq!(hub.check(&forged, &proof, None, None), Err(MEDSEAL_LEDGER_PROOF_INVALID));
    // A tree head with another root.
    let lying = TreeHead { root_hash: [1; 32], ..hub.tree_head(11) }.sign(&hub.tree_head_signer).unwrap();
    assert_eq!(hub.check(&receipt, &InclusionProof { tree_head: lying, ..proof.clone() }, None, None), Err(MEDSEAL_LEDGER_PROOF_INVALID));
    // Keys: the receipt's and the tree head's, each checked with its own.
    let other = Verifier::new(vec![ed25519()]);
    let with = |rk: &Verifier, tk: &Verifier| ledger::verify_receipt(receipt.as_bytes(), &proof, rk, tk, None, None).map_err(|e| e.code());
    assert_eq!(with(&other, &hub.tree_head_keys), Err(MEDSEAL_LEDGER_RECEIPT_INVALID));
    assert_eq!(with(&hub.receipt_keys, &other), Err(MEDSEAL_LEDGER_TREE_HEAD_INVALID));
    assert_eq!(with(&hub.tree_head_keys, &hub.receipt_keys), Err(MEDSEAL_LEDGER_RECEIPT_INVALID));
    // Typ confusion inside the proof: the receipt given as the tree head.
    let swapped = InclusionProof { tree_head: receipt.clone(), ..proof.clone() };
    let both = Verifier::new(hub.receipt_keys.keys().iter().chain(hub.tree_head_keys.keys()).cloned().collect());
    let e = ledger::verify_receipt(receipt.as_bytes(), &swapped, &hub.receipt_keys, &both, None, None).unwrap_err();
    assert_eq!(e.code(), MEDSEAL_LEDGER_TREE_HEAD_INVALID, "{e}");
    assert!(e.message().contains("not \"medseal-tree-head+jws\""), "{e}");
    // And the tree head given as the receipt.
    let e = ledger::verify_receipt(proof.tree_head.as_bytes(), &proof, &both, &hub.tree_head_keys, None, None).unwrap_err();
    assert_eq!(e.code(), MEDSEAL_LEDGER_RECEIPT_INVALID);
    // One key in both roles is refused.
    let key = ed25519();
    let receipt_by_k = hub.receipt(6, 11).sign(&Signer::new(key.clone(), fixed(ledger::receipt_sign_options())).unwrap()).unwrap();
    let head_by_k = hub.tree_head(11).sign(&Signer::new(key.clone(), fixed(ledger::tree_head_sign_options())).unwrap()).unwrap();
    let same = Verifier::new(vec![key]);
    let e = ledger::verify_receipt(
        receipt_by_k.as_bytes(),
        &InclusionProof { tree_head: head_by_k, ..proof.clone() },
        &same,
        &same,
        None,
        None,
    )
    .unwrap_err();
    assert_eq!(e.code(), MEDSEAL_LEDGER_RECEIPT_INVALID);
    assert!(e.message().contains("same key"), "{e}");
}

#[test]
fn receipts_checked_in_a_batch_give_what_each_check_gives() {
    let hub = Hub::new(11);
    // Good answers sharing tree heads (sizes 11 and 9), and every kind of bad one, mixed.
    let mut cases: Vec<(String, InclusionProof, Option<String>, Option<Hash>)> = Vec::new();
    let with = |i: u64, size: u64| {
        let (receipt, proof) = hub.answer(i, size);
        let e = &hub.entries[i as usize];
        (receipt, proof, Some(e.record_id.clone()), Some(e.digest))
    };
    for i in 0..9 {
        cases.push(with(i, 11));
        cases.push(with(i, 9));
    }
    let (receipt, proof, id, digest) = with(6, 11);
    cases.push((receipt.clone(), proof.clone(), Some("rec-0005".to_owned()), digest));
    cases.push((receipt.clone(), proof.clone(), id.clone(), Some(hub.entries[5].digest)));
    cases.push((tamper(&receipt, receipt.len() - 5), proof.clone(), None, None));
    let mut broken = proof.clone();
    broken.audit_path[0][3] ^= 1;
    cases.push((receipt.clone(), broken, None, None));
    let (_, proof_of_7) = hub.answer(7, 11);
    cases.push((receipt.clone(), proof_of_7, None, None));
    // A tree head with another root, used by two receipts; one that does not verify, by two.
    let lying = TreeHead { root_hash: [1; 32], ..hub.tree_head(11) }.sign(&hub.tree_head_signer).unwrap();
    let bad_head = tamper(&proof.tree_head, proof.tree_head.len() - 5);
    for head in [&lying, &lying, &bad_head, &bad_head] {
        cases.push((receipt.clone(), InclusionProof { tree_head: head.clone(), ..proof.clone() }, None, None));
    }
    // The receipt given as the tree head.
    cases.push((receipt.clone(), InclusionProof { tree_head: receipt.clone(), ..proof.clone() }, None, None));
    cases.push(with(10, 11));

    let checks: Vec<ledger::ReceiptCheck<'_>> = cases
        .iter()
        .map(|(receipt, proof, id, digest)| ledger::ReceiptCheck {
            receipt_jws: receipt.as_bytes(),
            inclusion: proof,
            record_id: id.as_deref(),
            digest: digest.as_ref(),
        })
        .collect();
    let batch = ledger::verify_receipts(&checks, &hub.receipt_keys, &hub.tree_head_keys);
    assert_eq!(batch.len(), cases.len());
    let mut failures = 0;
    for (check, got) in checks.iter().zip(&batch) {
        let one = ledger::verify_receipt_and_tree_head(
            check.receipt_jws,
            check.inclusion,
            &hub.receipt_keys,
            &hub.tree_head_keys,
            check.record_id,
            check.digest,
        );
        assert_eq!(got, &one, "the batch and the one-by-one check differ");
        failures += usize::from(one.is_err());
    }
    assert_eq!(failures, 10, "the bad cases all fail");
    assert!(batch[..18].iter().all(Result::is_ok) && batch.last().unwrap().is_ok());
    // The same with a verifier missing the tree-head key: every check fails alike.
    let other = Verifier::new(vec![ed25519()]);
    for (check, got) in checks.iter().zip(ledger::verify_receipts(&checks, &hub.receipt_keys, &other)) {
        let one = ledger::verify_receipt(check.receipt_jws, check.inclusion, &hub.receipt_keys, &other, check.record_id, check.digest);
        assert_eq!(got.map(|(r, _)| r), one);
    }
    assert!(ledger::verify_receipts(&[], &hub.receipt_keys, &hub.tree_head_keys).is_empty());
}

#[test]
fn proofs_on_the_wire() {
    use prost::Message;
    let hub = Hub::new(6);
    let (receipt, proof) = hub.answer(4, 6);
    let json = ledger::inclusion_proof_to_json(&proof);
    let text = String::from_utf8(json.clone()).unwrap();
    assert!(text.starts_with(r#"{"audit_path":[""#) && text.contains(r#"],"leaf_index":4,"tree_head":"ey"#), "{text}");
    assert!(text.ends_with(r#"","tree_size":6}"#), "{text}");
    assert_eq!(ledger::inclusion_proof_from_json(&json).unwrap(), proof);
    assert_eq!(ledger::decode_inclusion_proof(&json).unwrap(), proof);
    assert_eq!(ledger::decode_inclusion_proof(&proof.encode_to_vec()).unwrap(), proof);
    // The proto3 JSON forms: uint64 as strings, defaults left out, blanks.
    let strings = text.replace(r#""leaf_index":4"#, r#""leaf_index":"4""#).replace(r#""tree_size":6"#, r#""tree_size":"6""#);
    assert_eq!(ledger::decode_inclusion_proof(format!("\n {strings}").as_bytes()).unwrap(), proof);
    let (_, first) = hub.answer(0, 1);
    let sparse = format!(r#"{{"tree_size":1,"tree_head":"{}"}}"#, first.tree_head);
    assert_eq!(ledger::inclusion_proof_from_json(sparse.as_bytes()).unwrap(), first);
    hub.check(&hub.answer(0, 1).0, &first, None, None).unwrap();
    for bad in [
        text.replace(r#""leaf_index":4"#, r#""leaf_index":4,"extra":true"#),
        text.replace(r#""leaf_index":4"#, r#""leaf_index":-4"#),
        text.replace(r#""leaf_index":4"#, r#""leaf_index":"4x""#),
        text.replace(r#""leaf_index":4"#, r#""leaf_index":4.5"#),
        text.replace(r#"{"audit_path":[""#, r#"{"audit_path":["+"#),
        text.replace(r#""audit_path":["#, r#""audit_path":[1,"#),
        "[]".to_owned(),
        "{".to_owned(),
    ] {
        assert_eq!(ledger::decode_inclusion_proof(bad.as_bytes()).unwrap_err().code(), MEDSEAL_LEDGER_PROOF_INVALID, "{bad}");
    }
    assert_eq!(ledger::decode_inclusion_proof(b"\xff\xff\xff").unwrap_err().code(), MEDSEAL_LEDGER_PROOF_INVALID);
    // What came off the wire still has to verify.
    let decoded = ledger::decode_inclusion_proof(&proof.encode_to_vec()).unwrap();
    hub.check(&receipt, &decoded, None, None).unwrap();

    let consistency = medseal::wire::ConsistencyProof {
        first: 3,
        second: 6,
        path: hub.tree.consistency_proof(3, 6).unwrap().iter().map(|h| h.to_vec()).collect(),
    };
    let json = ledger::consistency_proof_to_json(&consistency);
    assert!(String::from_utf8(json.clone()).unwrap().starts_with(r#"{"first":3,"path":[""#));
    assert_eq!(ledger::decode_consistency_proof(&json).unwrap(), consistency);
    assert_eq!(ledger::decode_consistency_proof(&consistency.encode_to_vec()).unwrap(), consistency);
    assert_eq!(ledger::consistency_proof_from_json(&json).unwrap(), consistency);
    let path = ledger::hashes(&consistency.path, "the path").unwrap();
    verify_consistency(3, 6, &hub.tree.root(3).unwrap(), &hub.tree.root(6).unwrap(), &path).unwrap();
    assert_eq!(ledger::hashes(&[vec![0; 33]], "the path").unwrap_err().code(), MEDSEAL_LEDGER_PROOF_INVALID);
    assert_eq!(ledger::decode_consistency_proof(br#"{"first":1,"other":2}"#).unwrap_err().code(), MEDSEAL_LEDGER_PROOF_INVALID);
}

#[test]
fn typ_constants() {
    assert_eq!(RECEIPT_TYP, "medseal-receipt+jws");
    assert_eq!(TREE_HEAD_TYP, "medseal-tree-head+jws");
    assert_eq!(ledger::receipt_sign_options().typ.as_deref(), Some(RECEIPT_TYP));
    assert_eq!(ledger::tree_head_sign_options().typ.as_deref(), Some(TREE_HEAD_TYP));
}

#[test]
fn receipts_checked_for_a_known_record_bind_its_facility_record_id_and_digest() {
    let hub = Hub::new(7);
    let (receipt, proof) = hub.answer(4, 7);
    let e = &hub.entries[4];
    let check = |source: &str, record_id: &str, digest: &Hash| {
        let subject = ledger::ReceiptSubject { source, record_id, digest };
        ledger::verify_receipt_for(receipt.as_bytes(), &proof, &hub.receipt_keys, &hub.tree_head_keys, &subject)
    };
    assert_eq!(check(&e.source, &e.record_id, &e.digest).unwrap(), hub.receipt(4, 7));
    // Another facility's, another record's, another envelope's: refused, naming the field.
    for (source, record_id, digest, field) in [
        ("hospital-b", e.record_id.as_str(), &e.digest, "facility \"hospital-a\", not \"hospital-b\""),
        (e.source.as_str(), "rec-0003", &e.digest, "record \"rec-0004\", not \"rec-0003\""),
        (e.source.as_str(), e.record_id.as_str(), &hub.entries[3].digest, "another envelope digest"),
    ] {
        let err = check(source, record_id, digest).unwrap_err();
        assert_eq!(err.code(), MEDSEAL_LEDGER_RECEIPT_INVALID, "{err}");
        assert!(err.message().contains(field), "{field}: {err}");
    }
}

#[test]
fn a_proof_whose_tree_head_is_not_a_compact_jws_is_refused_when_read() {
    // Found by the ledger fuzz target (make test's fuzz smoke): a tree head holding U+0374,
    // which NFC rewrites, was read, and its JSON mapping was then not canonical.
    let good = br#"{"audit_path":[],"leaf_index":0,"tree_head":"eyJh.eyJy.WEr1","tree_size":1}"#;
    assert!(medseal::ledger::decode_inclusion_proof(good).is_ok());
    let bad = "{\"audit_path\":[],\"leaf_index\":0,\"tree_head\":\"eyJh.eyJ\u{0374}y.WEr1\",\"tree_size\":1}";
    let proto_bad = medseal::ledger::inclusion_proof_to_protobuf(&InclusionProof {
        leaf_index: 0,
        tree_size: 1,
        audit_path: Vec::new(),
        tree_head: "eyJh eyJy".to_owned(),
    });
    for bytes in [bad.as_bytes(), proto_bad.as_slice()] {
        let error = medseal::ledger::decode_inclusion_proof(bytes).unwrap_err();
        assert_eq!(error.code(), medseal::ResultCode::MEDSEAL_LEDGER_PROOF_INVALID);
        assert!(error.message().contains("compact JWS"), "{}", error.message());
    }
}

// ---- withdrawals (issue 10 point 10) --------------------------------------------------------

fn withdrawal() -> medseal::record::Withdrawal {
    medseal::record::Withdrawal {
        source: "bv-cho-ray".into(),
        record_id: "r-2".into(),
        sequence: 2,
        reason: "signed with the wrong key; re-sent as r-3".into(),
    }
}

/// A withdrawal is a JWS of its own `typ`, by the facility's record-signing key, over exactly
/// its canonical payload: it is never taken for a record (nor a record for it), a signer
/// without its `typ` cannot make one, and its reason is short text without controls.
#[test]
fn a_withdrawal_is_a_signed_tombstone_never_a_record() {
    use medseal::record::{self, withdrawal_sign_options, Submission, Withdrawal, WITHDRAWAL_TYP};
    let key = ed25519();
    let keys = Verifier::new(vec![Arc::new(key.to_public())]);
    let signer = Signer::new(key.clone(), withdrawal_sign_options()).unwrap();
    let w = withdrawal();
    assert_eq!(
        String::from_utf8(w.to_json()).unwrap(),
        r#"{"reason":"signed with the wrong key; re-sent as r-3","record_id":"r-2","sequence":2,"source":"bv-cho-ray","type":"medseal-withdrawal"}"#
    );
    let jws = w.sign(&signer).unwrap();
    assert_eq!(record::verify_withdrawal(&keys, jws.as_bytes()).unwrap(), w);
    let verified = keys.verify(jws.as_bytes(), medseal::jws::DetachedPayload::None).unwrap();
    assert_eq!(verified.typ.as_deref(), Some(WITHDRAWAL_TYP));
    assert!(verified.signing_time.is_some());
    assert_eq!(record::check_verified(&verified).unwrap_err().code(), MEDSEAL_JWS_HEADER, "not a record");
    assert_eq!(record::verify(&keys, jws.as_bytes()).unwrap_err().code(), MEDSEAL_JWS_HEADER, "not a record");
    assert_eq!(record::check_unverified(jws.as_bytes()).unwrap_err().code(), MEDSEAL_JWS_HEADER, "the outbox refuses it as a record");
    let other = Verifier::new(vec![ed25519()]);
    assert!(record::verify_withdrawal(&other, jws.as_bytes()).is_err(), "another key");

    // A record is not a withdrawal; a record signer cannot sign one.
    let record_signer = Signer::new(key.clone(), SignOptions::default()).unwrap();
    let rec = record_signer.sign(br#"{"a":1}"#, Serialization::Flattened).unwrap();
    assert_eq!(record::verify_withdrawal(&keys, rec.as_bytes()).unwrap_err().code(), MEDSEAL_JWS_HEADER);
    assert_eq!(w.sign(&record_signer).unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT);

    // Reason and fields.
    for reason in ["".to_owned(), "two\nlines".to_owned(), "nul\0".to_owned(), "x".repeat(1025)] {
        let bad = Withdrawal { reason: reason.clone(), ..withdrawal() };
        assert_eq!(bad.sign(&signer).unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT, "{reason:?}");
    }
    Withdrawal { reason: "x".repeat(1024), ..withdrawal() }.sign(&signer).unwrap();
    Withdrawal { reason: format!("{}x", "ệ".repeat(341)), ..withdrawal() }.sign(&signer).unwrap();
    assert_eq!(Withdrawal { sequence: 0, ..withdrawal() }.sign(&signer).unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT);
    assert_eq!(Withdrawal { record_id: String::new(), ..withdrawal() }.sign(&signer).unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT);

    // Payloads signed with the right typ and key but not exactly a withdrawal.
    let good = String::from_utf8(w.to_json()).unwrap();
    for bad in [
        good.replace(r#""type":"medseal-withdrawal""#, r#""type":"medseal-receipt""#),
        good.replace(r#""sequence":2,"#, r#""extra":1,"sequence":2,"#),
        good.replace(r#""sequence":2,"#, ""),
        good.replace(r#""sequence":2"#, r#""sequence":0"#),
        good.replace(r#""reason":"signed"#, r#""reason":"\u0007signed"#),
        good.replace(r#""reason":"signed with the wrong key; re-sent as r-3""#, r#""reason":"""#),
        good.replace(",", ", "),
        format!("{good} "),
    ] {
        let jws = signer.sign_payload(bad.as_bytes(), Serialization::Flattened).unwrap();
        let e = record::verify_withdrawal(&keys, jws.as_bytes()).unwrap_err();
        assert_eq!(e.code(), MEDSEAL_JWS_PAYLOAD_NOT_CANONICAL, "{bad}: {e}");
    }

    // What the hub opens: a record or a withdrawal, each as what it is.
    let hub = medseal::RecipientKey::generate().unwrap();
    let meta = |content_type: &str| medseal::Meta {
        record_id: "r-2".into(),
        source: "bv-cho-ray".into(),
        sequence: 2,
        created: "2026-01-01T00:00:00Z".into(),
        content_type: content_type.into(),
    };
    let sealed = medseal::Envelope::seal(jws.as_bytes(), meta(record::FLATTENED_CONTENT_TYPE), &[&hub], medseal::Aead::Aes256Gcm).unwrap();
    match record::open_submission_steps(&sealed, &hub, &keys).unwrap() {
        Submission::Withdrawal(_, opened) => assert_eq!(opened, w),
        other => panic!("{other:?}"),
    }
    assert_eq!(record::open_verified(&sealed, &hub, &keys).unwrap_err().code(), MEDSEAL_JWS_HEADER, "hospitals open records only");
    let sealed = medseal::Envelope::seal(rec.as_bytes(), meta(record::FLATTENED_CONTENT_TYPE), &[&hub], medseal::Aead::Aes256Gcm).unwrap();
    assert!(matches!(record::open_submission_steps(&sealed, &hub, &keys).unwrap(), Submission::Record(_)));
}

/// The ledger entry and the receipt of a withdrawal carry its reason as one more member, read
/// strictly; an entry without it keeps exactly the bytes it always had.
#[test]
fn ledger_entries_and_receipts_of_withdrawals_carry_the_reason() {
    let record = LedgerEntry {
        record_id: "r-2".into(),
        source: "bv-cho-ray".into(),
        sequence: 2,
        digest: [0xfb; 32],
        received: T0,
        withdrawn: None,
    };
    let e = LedgerEntry { withdrawn: Some("re-sent as r-3".into()), ..record.clone() };
    let json = String::from_utf8(e.to_json()).unwrap();
    assert_eq!(json, format!(r#"{},"withdrawn":"re-sent as r-3"}}"#, String::from_utf8(record.to_json()).unwrap().trim_end_matches('}')));
    assert_eq!(LedgerEntry::from_json(json.as_bytes()).unwrap(), e);
    assert_ne!(e.leaf_hash(), record.leaf_hash());
    e.validate().unwrap();
    for bad in [
        json.replace(r#""re-sent as r-3""#, r#""""#),
        json.replace(r#""re-sent as r-3""#, "1"),
        json.replace(r#""re-sent as r-3""#, r#""re\u0000sent""#),
        json.replace(r#""withdrawn""#, r#""withdrawal""#),
    ] {
        assert_eq!(LedgerEntry::from_json(bad.as_bytes()).unwrap_err().code(), MEDSEAL_LEDGER_PROOF_INVALID, "{bad}");
    }
    assert_eq!(LedgerEntry { withdrawn: Some("x".repeat(1025)), ..e.clone() }.validate().unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT);

    // The receipt rebuilds the same leaf, so its inclusion proof holds.
    let hub = Hub::new(1);
    let receipt = Receipt {
        record_id: e.record_id.clone(),
        source: e.source.clone(),
        sequence: e.sequence,
        digest: e.digest,
        received: e.received,
        ledger_index: 0,
        tree_size: 1,
        withdrawn: e.withdrawn.clone(),
    };
    let jws = receipt.sign(&hub.receipt_signer).unwrap();
    let read = Receipt::verify(jws.as_bytes(), &hub.receipt_keys).unwrap();
    assert_eq!(read, receipt);
    assert_eq!(read.entry().leaf_hash(), e.leaf_hash());
    assert_eq!(Receipt { withdrawn: None, ..receipt.clone() }.entry().leaf_hash(), record.leaf_hash());
    let bad = Receipt { withdrawn: Some(String::new()), ..receipt };
    assert_eq!(bad.sign(&hub.receipt_signer).unwrap_err().code(), MEDSEAL_INVALID_ARGUMENT);
}
