//! The RFC 9162 Merkle tree (section 2.1): tree hashes, audit paths and consistency proofs, and
//! their verification.
//!
//! The tree keeps the hash of every complete, aligned subtree, level by level: level 0 holds
//! the leaf hashes, level `k` the hashes of subtrees of `2^k` leaves starting at multiples of
//! `2^k`. Appending a leaf adds at most one hash per level (amortized O(1)), and every subtree
//! the RFC's recursion splits a tree into is either one of those cached hashes or the
//! rightmost, incomplete one, so a root or a proof costs O(log n) hash operations, about twice
//! the memory of the leaves.

use ring::digest::{Context, SHA256};

use crate::error::{err, Result};

/// A SHA-256 hash: leaf hashes, node hashes, tree roots.
pub type Hash = [u8; 32];

/// RFC 9162 2.1.1: the hash of a leaf, `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut context = Context::new(&SHA256);
    context.update(&[0x00]);
    context.update(entry);
    finish(context)
}

/// RFC 9162 2.1.1: the hash of an interior node, `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut context = Context::new(&SHA256);
    context.update(&[0x01]);
    context.update(left);
    context.update(right);
    finish(context)
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    finish(Context::new(&SHA256))
}

fn finish(context: Context) -> Hash {
    context.finish().as_ref().try_into().expect("SHA-256 gives 32 bytes")
}

/// The largest power of two smaller than `n` (`n >= 2`): where RFC 9162 splits a tree of `n`.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// An append-only RFC 9162 Merkle tree of leaf hashes, with its complete subtrees cached.
#[derive(Clone, Debug, Default)]
pub struct MerkleTree {
    /// `levels[0]`: the leaf hashes; `levels[k][i]`: the hash of leaves `i·2^k .. (i+1)·2^k`.
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        MerkleTree::default()
    }

    /// A tree of these leaf hashes, in order (each already [`leaf_hash`]ed).
    pub fn from_leaves(leaves: Vec<Hash>) -> Self {
        let mut levels = vec![leaves];
        while let Some(last) = levels.last().filter(|level| level.len() >= 2) {
            let next = last.chunks_exact(2).map(|pair| node_hash(&pair[0], &pair[1])).collect();
            levels.push(next);
        }
        MerkleTree { levels }
    }

    /// Appends a leaf hash; returns its index.
    pub fn push(&mut self, leaf: Hash) -> u64 {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let index = self.levels[0].len() as u64 - 1;
        // Each level whose length became even completed a subtree one level up.
        let mut k = 0;
        while self.levels[k].len() % 2 == 0 {
            let level = &self.levels[k];
            let parent = node_hash(&level[level.len() - 2], &level[level.len() - 1]);
            if self.levels.len() == k + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[k + 1].push(parent);
            k += 1;
        }
        index
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u64) -> Result<Hash> {
        if index >= self.len() {
            return Err(err!(MEDSEAL_LEDGER_RANGE, "there is no leaf {index} in a tree of {} leaves", self.len()));
        }
        Ok(self.levels[0][index as usize])
    }

    /// RFC 9162 2.1.1: the Merkle Tree Hash of the first `size` leaves (the root of the tree
    /// as it was at that size). Size 0 gives `SHA-256("")`.
    pub fn root(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        Ok(if size == 0 { empty_root() } else { self.range_hash(0, size) })
    }

    /// RFC 9162 2.1.3.1: the audit path of leaf `index` in the tree of the first `size`
    /// leaves, from the leaf's sibling up to the root's child.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.check_size(size)?;
        if index >= size {
            return Err(err!(MEDSEAL_LEDGER_RANGE, "leaf {index} is not in a tree of {size} leaves"));
        }
        let mut path = Vec::with_capacity(inclusion_proof_len(index, size));
        self.path(index, 0, size, &mut path);
        Ok(path)
    }

    /// RFC 9162 2.1.4.1: the proof that the tree of the first `first` leaves is a prefix of
    /// the tree of the first `second`. Empty when `first` is 0 or equals `second` (nothing to
    /// prove; see [`verify_consistency`]).
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>> {
        self.check_size(second)?;
        if first > second {
            return Err(err!(MEDSEAL_LEDGER_RANGE, "a tree of {first} leaves cannot be a prefix of one of {second}"));
        }
        let mut proof = Vec::with_capacity(consistency_proof_len(first, second));
        if first != 0 && first != second {
            self.subproof(first, 0, second, true, &mut proof);
        }
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.len() {
            return Err(err!(MEDSEAL_LEDGER_RANGE, "the tree has {} leaves, not {size}", self.len()));
        }
        Ok(())
    }

    /// MTH(D[start:end]), `start < end <= len`.
    fn range_hash(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n.is_power_of_two() && start % n == 0 {
            let k = n.trailing_zeros() as usize;
            return self.levels[k][(start >> k) as usize];
        }
        let k = split(n);
        node_hash(&self.range_hash(start, start + k), &self.range_hash(start + k, end))
    }

    /// PATH(m, D[start:end]), `m` relative to `start`, appended deepest first.
    fn path(&self, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
        let n = end - start;
        if n == 1 {
            return;
        }
        let k = split(n);
        if m < k {
            self.path(m, start, start + k, out);
            out.push(self.range_hash(start + k, end));
        } else {
            self.path(m - k, start + k, end, out);
            out.push(self.range_hash(start, start + k));
        }
    }

    /// SUBPROOF(m, D[start:end], b), `m` relative to `start`.
    fn subproof(&self, m: u64, start: u64, end: u64, b: bool, out: &mut Vec<Hash>) {
        let n = end - start;
        if m == n {
            if !b {
                out.push(self.range_hash(start, end));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, start, start + k, b, out);
            out.push(self.range_hash(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, out);
            out.push(self.range_hash(start, start + k));
        }
    }
}

/// How many hashes the audit path of leaf `index` in a tree of `size` has (`index < size`).
pub fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let (mut m, mut n, mut len) = (index, size, 0);
    while n > 1 {
        let k = split(n);
        if m < k {
            n = k;
        } else {
            m -= k;
            n -= k;
        }
        len += 1;
    }
    len
}

/// How many hashes the consistency proof from size `first` to size `second` has
/// (`first <= second`; 0 when `first` is 0 or equals `second`).
pub fn consistency_proof_len(first: u64, second: u64) -> usize {
    if first == 0 || first >= second {
        return 0;
    }
    let (mut m, mut n, mut complete, mut len) = (first, second, true, 0);
    while m != n {
        let k = split(n);
        if m <= k {
            n = k;
        } else {
            m -= k;
            n -= k;
            complete = false;
        }
        len += 1;
    }
    len + usize::from(!complete)
}

fn hex_short(hash: &Hash) -> String {
    hash[..4].iter().map(|b| format!("{b:02x}")).collect::<String>() + "…"
}

/// RFC 9162 2.1.3.2: checks that `path` leads from `leaf` (a leaf hash) at `index` to `root`,
/// the root of a tree of `size` leaves. The path must have exactly the length the RFC gives.
/// Errors: `MEDSEAL_LEDGER_RANGE` (`index >= size`), `MEDSEAL_LEDGER_PROOF_INVALID`.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, path: &[Hash], root: &Hash) -> Result<()> {
    if index >= size {
        return Err(err!(MEDSEAL_LEDGER_RANGE, "leaf {index} is not in a tree of {size} leaves"));
    }
    let expected = inclusion_proof_len(index, size);
    if path.len() != expected {
        return Err(err!(
            MEDSEAL_LEDGER_PROOF_INVALID,
            "the inclusion proof has {} hashes; leaf {index} of a tree of {size} needs exactly {expected}",
            path.len()
        ));
    }
    let (mut f, mut s, mut r) = (index, size - 1, *leaf);
    for p in path {
        if s == 0 {
            return Err(err!(MEDSEAL_LEDGER_PROOF_INVALID, "the inclusion proof is longer than the tree is deep"));
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 || r != *root {
        return Err(err!(
            MEDSEAL_LEDGER_PROOF_INVALID,
            "the inclusion proof of leaf {index} leads to root {}, not to the tree head's {}",
            hex_short(&r),
            hex_short(root)
        ));
    }
    Ok(())
}

/// RFC 9162 2.1.4.2: checks that the tree of `first` leaves with root `first_root` is a prefix
/// of the tree of `second` leaves with root `second_root`. For `first == second` the proof must
/// be empty and the roots equal; for `first == 0` it must be empty and `first_root` the empty
/// tree's. Errors: `MEDSEAL_LEDGER_RANGE` (`first > second`), `MEDSEAL_LEDGER_PROOF_INVALID`.
pub fn verify_consistency(first: u64, second: u64, first_root: &Hash, second_root: &Hash, path: &[Hash]) -> Result<()> {
    if first > second {
        return Err(err!(MEDSEAL_LEDGER_RANGE, "a tree of {first} leaves cannot be a prefix of one of {second}"));
    }
    let expected = consistency_proof_len(first, second);
    if path.len() != expected {
        return Err(err!(
            MEDSEAL_LEDGER_PROOF_INVALID,
            "the consistency proof has {} hashes; from {first} to {second} leaves needs exactly {expected}",
            path.len()
        ));
    }
    if first == second {
        if first_root != second_root {
            return Err(err!(MEDSEAL_LEDGER_PROOF_INVALID, "two tree heads of {first} leaves have different roots"));
        }
        return Ok(());
    }
    if first == 0 {
        if *first_root != empty_root() {
            return Err(err!(MEDSEAL_LEDGER_PROOF_INVALID, "the root given for the empty tree is not SHA-256(\"\")"));
        }
        return Ok(());
    }
    // Step 2: a complete first tree is its own first subtree, which the proof leaves out.
    let mut hashes = path.iter();
    let start = if first.is_power_of_two() { *first_root } else { *hashes.next().expect("a non-empty proof") };
    let (mut f, mut s) = (first - 1, second - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (start, start);
    for c in hashes {
        if s == 0 {
            return Err(err!(MEDSEAL_LEDGER_PROOF_INVALID, "the consistency proof is longer than the tree is deep"));
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 || fr != *first_root || sr != *second_root {
        return Err(err!(
            MEDSEAL_LEDGER_PROOF_INVALID,
            "the consistency proof from {first} to {second} leaves does not lead to both roots: the ledger was not only appended to"
        ));
    }
    Ok(())
}
