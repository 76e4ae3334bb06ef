//! Signed tree heads: the hub's signed statement of the ledger's size and root at a time.

use super::merkle::{empty_root, Hash};
use super::{
    check_canonical, check_number, check_signer_typ, check_time, number_value, parse_payload, sign_compact, time_value, verify_compact,
    Fields,
};
use crate::b64;
use crate::canon::Value;
use crate::error::{Result, ResultCode};
use crate::jws::{SignOptions, Signer, Verified, Verifier};

/// The JWS `typ` of a signed tree head. A receipt or a record is never read as a tree head.
///
/// cbindgen:ignore
pub const TREE_HEAD_TYP: &str = "medseal-tree-head+jws";

/// The `type` member of the payload.
///
/// cbindgen:ignore
pub const TREE_HEAD_TYPE: &str = "medseal-tree-head";

const MEMBERS: &[&str] = &["root_hash", "timestamp", "tree_size", "type"];

/// A tree head: the ledger had `tree_size` leaves with root `root_hash` at `timestamp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TreeHead {
    /// Number of leaves (0 to 2^53 − 1).
    pub tree_size: u64,
    /// RFC 9162 Merkle Tree Hash of those leaves (`SHA-256("")` for an empty tree).
    pub root_hash: Hash,
    /// When the hub signed it (Unix seconds).
    pub timestamp: i64,
}

/// The options a tree-head [`Signer`] needs: medseal's defaults with `typ` [`TREE_HEAD_TYP`].
pub fn tree_head_sign_options() -> SignOptions {
    SignOptions { typ: Some(TREE_HEAD_TYP.to_owned()), ..SignOptions::default() }
}

impl TreeHead {
    /// The canonical JSON payload `{"root_hash","timestamp","tree_size","type"}`.
    pub fn to_json(&self) -> Vec<u8> {
        Value::object([
            ("root_hash", Value::string(b64::encode(&self.root_hash))),
            ("timestamp", time_value(self.timestamp)),
            ("tree_size", number_value(self.tree_size)),
            ("type", Value::string(TREE_HEAD_TYPE)),
        ])
        .to_canonical()
    }

    /// Signs the tree head as a compact JWS with the hub's tree-head key. The signer must use
    /// [`tree_head_sign_options`]; fields out of range are `MEDSEAL_INVALID_ARGUMENT`.
    pub fn sign(&self, signer: &Signer) -> Result<String> {
        check_signer_typ(signer, TREE_HEAD_TYP, "a tree head", "tree_head_sign_options")?;
        self.check(ResultCode::MEDSEAL_INVALID_ARGUMENT)?;
        sign_compact(signer, &self.to_json())
    }

    /// Verifies a signed tree head: a compact JWS by one of `keys` with `typ`
    /// [`TREE_HEAD_TYP`] over exactly the canonical payload. Every failure is
    /// `MEDSEAL_LEDGER_TREE_HEAD_INVALID` (but `MEDSEAL_JWS_NO_KEYS` for an empty verifier).
    pub fn verify(jws: &[u8], keys: &Verifier) -> Result<TreeHead> {
        Self::verify_full(jws, keys).map(|(head, _)| head)
    }

    pub(super) fn verify_full(jws: &[u8], keys: &Verifier) -> Result<(TreeHead, Verified)> {
        let code = ResultCode::MEDSEAL_LEDGER_TREE_HEAD_INVALID;
        let verified = verify_compact(jws, keys, TREE_HEAD_TYP, code, "the tree head", "tree-head")?;
        let head = Self::from_payload(&verified.payload)?;
        Ok((head, verified))
    }

    /// Reads the payload of a tree head (already verified).
    fn from_payload(payload: &[u8]) -> Result<TreeHead> {
        let code = ResultCode::MEDSEAL_LEDGER_TREE_HEAD_INVALID;
        let value = parse_payload(payload, code, "the signed tree head")?;
        let fields = Fields::new(&value, "the tree head", code, MEMBERS)?;
        fields.check_type(TREE_HEAD_TYPE)?;
        let head = TreeHead {
            tree_size: fields.integer("tree_size")?,
            root_hash: fields.hash("root_hash")?,
            timestamp: fields.time("timestamp")?,
        };
        head.check(code)?;
        check_canonical(&value, payload, code, "the signed tree head")?;
        Ok(head)
    }

    fn check(&self, code: ResultCode) -> Result<()> {
        check_number(code, "the tree head's size", self.tree_size, 0)?;
        check_time(code, "the tree head's timestamp", self.timestamp)?;
        if self.tree_size == 0 && self.root_hash != empty_root() {
            return Err(crate::error::Error::new(code, "the tree head of an empty tree has a root other than SHA-256(\"\")"));
        }
        Ok(())
    }
}
