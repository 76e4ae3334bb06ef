//! The RFC 9162 ledger: Merkle tree, proofs, signed tree heads, receipts (docs/SUBMISSION.md). Being written (issue 5).
