//! The proofs' wire forms: `medseal.v1.InclusionProof` and `ConsistencyProof` as protobuf or
//! as their JSON mapping (what `GET /v1/proofs/...` serves): same field names, bytes as
//! base64url without padding, numbers as JSON numbers (decimal strings, the proto3 JSON form
//! of uint64, are read too), fields at their default value may be left out.

use prost::Message;

use super::merkle::Hash;
use super::{number_value, shown};
use crate::b64;
use crate::canon::{self, CanonOptions, Value};
use crate::error::{err, Error, Result};
use crate::wire::{ConsistencyProof, InclusionProof};

/// Largest proof document read: 64 hashes and a tree head are a few kilobytes.
const MAX_PROOF_BYTES: usize = 64 << 10;

/// Most hashes a proof of a tree of up to 2^64 leaves can need.
const MAX_PATH_LEN: usize = 128;

/// Proof hashes from their wire form: each exactly 32 bytes (`MEDSEAL_LEDGER_PROOF_INVALID`).
pub fn hashes(items: &[Vec<u8>], what: &str) -> Result<Vec<Hash>> {
    if items.len() > MAX_PATH_LEN {
        return Err(err!(MEDSEAL_LEDGER_PROOF_INVALID, "{what} has {} hashes; no proof needs more than {MAX_PATH_LEN}", items.len()));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            Hash::try_from(bytes.as_slice())
                .map_err(|_| err!(MEDSEAL_LEDGER_PROOF_INVALID, "{what}: hash {i} has {} bytes, not 32", bytes.len()))
        })
        .collect()
}

fn path_value(path: &[Vec<u8>]) -> Value<'static> {
    Value::Array(path.iter().map(|h| Value::string(b64::encode(h))).collect())
}

/// The JSON mapping of an inclusion proof, canonical (RFC 8785), every field written.
pub fn inclusion_proof_to_json(proof: &InclusionProof) -> Vec<u8> {
    Value::object([
        ("audit_path", path_value(&proof.audit_path)),
        ("leaf_index", number_value(proof.leaf_index)),
        ("tree_head", Value::string(proof.tree_head.as_str())),
        ("tree_size", number_value(proof.tree_size)),
    ])
    .to_canonical()
}

/// The JSON mapping of a consistency proof, canonical (RFC 8785), every field written.
pub fn consistency_proof_to_json(proof: &ConsistencyProof) -> Vec<u8> {
    Value::object([("first", number_value(proof.first)), ("path", path_value(&proof.path)), ("second", number_value(proof.second))])
        .to_canonical()
}

/// The protobuf encoding of an inclusion proof.
pub fn inclusion_proof_to_protobuf(proof: &InclusionProof) -> Vec<u8> {
    proof.encode_to_vec()
}

/// The protobuf encoding of a consistency proof.
pub fn consistency_proof_to_protobuf(proof: &ConsistencyProof) -> Vec<u8> {
    proof.encode_to_vec()
}

/// A JSON object of the mapping being read.
struct Mapping<'v, 'a> {
    value: &'v Value<'a>,
    name: &'static str,
}

/// Parses a JSON object holding no members but `members`.
fn parse_mapping<'a>(bytes: &'a [u8], name: &str, members: &[&str]) -> Result<Value<'a>> {
    if bytes.len() > MAX_PROOF_BYTES {
        return Err(err!(MEDSEAL_LEDGER_PROOF_INVALID, "{name} has {} bytes; at most {MAX_PROOF_BYTES} are read", bytes.len()));
    }
    let options = CanonOptions { max_depth: 4, max_bytes: MAX_PROOF_BYTES, max_values: 1024, ..CanonOptions::plain() };
    let value = canon::parse(bytes, &options)
        .map_err(|e| err!(MEDSEAL_LEDGER_PROOF_INVALID, "{name} is not valid JSON: {} [{}]", e.message(), e.code()))?;
    let Value::Object(present) = &value else {
        return Err(err!(MEDSEAL_LEDGER_PROOF_INVALID, "{name} is not a JSON object"));
    };
    if let Some((key, _)) = present.iter().find(|(k, _)| !members.contains(&k.as_ref())) {
        return Err(err!(MEDSEAL_LEDGER_PROOF_INVALID, "{name} has an unknown member \"{}\"", shown(key)));
    }
    Ok(value)
}

impl<'v, 'a> Mapping<'v, 'a> {
    fn error(&self, member: &str, what: &str) -> Error {
        err!(MEDSEAL_LEDGER_PROOF_INVALID, "{}: \"{member}\" {what}", self.name)
    }

    /// A uint64: a JSON integer, or its decimal string; 0 when left out.
    fn integer(&self, member: &str) -> Result<u64> {
        match self.value.get(member) {
            None => Ok(0),
            Some(Value::Number(n)) if n.as_f64().fract() == 0.0 && (0.0..=super::MAX_NUMBER as f64).contains(&n.as_f64()) => {
                Ok(n.as_f64() as u64)
            }
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) => match s.parse::<u64>() {
                // Like every other ledger number: at most 2^53 - 1, so JSON numbers carry it exactly.
                Ok(n) if n <= super::MAX_NUMBER => Ok(n),
                _ => Err(self.error(member, "is larger than 2^53 - 1")),
            },
            _ => Err(self.error(member, "must be a non-negative integer")),
        }
    }

    /// A string; empty when left out.
    fn text(&self, member: &str) -> Result<String> {
        match self.value.get(member) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.to_string()),
            _ => Err(self.error(member, "must be a string")),
        }
    }

    /// Repeated bytes, each base64url without padding; empty when left out.
    fn byte_strings(&self, member: &str) -> Result<Vec<Vec<u8>>> {
        match self.value.get(member) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    item.as_str()
                        .and_then(|s| b64::decode(s.as_bytes()))
                        .ok_or_else(|| self.error(member, &format!("item {i} is not base64url without padding")))
                })
                .collect(),
            _ => Err(self.error(member, "must be an array of base64url strings")),
        }
    }
}

/// Reads the JSON mapping of an inclusion proof (`MEDSEAL_LEDGER_PROOF_INVALID` if malformed).
pub fn inclusion_proof_from_json(bytes: &[u8]) -> Result<InclusionProof> {
    let name = "the inclusion proof";
    let value = parse_mapping(bytes, name, &["audit_path", "leaf_index", "tree_head", "tree_size"])?;
    let m = Mapping { value: &value, name };
    Ok(InclusionProof {
        leaf_index: m.integer("leaf_index")?,
        tree_size: m.integer("tree_size")?,
        audit_path: m.byte_strings("audit_path")?,
        tree_head: m.text("tree_head")?,
    })
}

/// Reads the JSON mapping of a consistency proof (`MEDSEAL_LEDGER_PROOF_INVALID` if malformed).
pub fn consistency_proof_from_json(bytes: &[u8]) -> Result<ConsistencyProof> {
    let name = "the consistency proof";
    let value = parse_mapping(bytes, name, &["first", "path", "second"])?;
    let m = Mapping { value: &value, name };
    Ok(ConsistencyProof { first: m.integer("first")?, second: m.integer("second")?, path: m.byte_strings("path")? })
}

/// Whether the bytes are the JSON mapping: a `{` first, after blanks. (A protobuf proof never
/// starts with a blank or `{`: those would be fields of the wrong wire type.)
fn is_json(bytes: &[u8]) -> bool {
    bytes.trim_ascii_start().starts_with(b"{")
}

/// Reads an inclusion proof as protobuf or its JSON mapping.
pub fn decode_inclusion_proof(bytes: &[u8]) -> Result<InclusionProof> {
    if is_json(bytes) {
        let proof = inclusion_proof_from_json(bytes)?;
        check_tree_head_text(&proof.tree_head)?;
        return Ok(proof);
    }
    check_protobuf_size(bytes, "the inclusion proof")?;
    let proof = InclusionProof::decode(bytes)
        .map_err(|e| err!(MEDSEAL_LEDGER_PROOF_INVALID, "the inclusion proof is neither JSON nor a protobuf InclusionProof: {e}"))?;
    check_numbers(&[proof.leaf_index, proof.tree_size], "the inclusion proof")?;
    check_tree_head_text(&proof.tree_head)?;
    Ok(proof)
}

/// A proof's tree head is a compact JWS (or absent): base64url and dots only, so that any
/// other text is refused when the proof is read, not when its signature is checked, and the
/// proof's JSON mapping is always plain ASCII (found by the `ledger` fuzz target: a tree head
/// holding U+0374, which NFC rewrites).
fn check_tree_head_text(tree_head: &str) -> Result<()> {
    if tree_head.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.') {
        return Ok(());
    }
    Err(err!(MEDSEAL_LEDGER_PROOF_INVALID, "the inclusion proof's tree_head is not a compact JWS (only base64url and dots)"))
}

/// Reads a consistency proof as protobuf or its JSON mapping.
pub fn decode_consistency_proof(bytes: &[u8]) -> Result<ConsistencyProof> {
    if is_json(bytes) {
        return consistency_proof_from_json(bytes);
    }
    check_protobuf_size(bytes, "the consistency proof")?;
    let proof = ConsistencyProof::decode(bytes)
        .map_err(|e| err!(MEDSEAL_LEDGER_PROOF_INVALID, "the consistency proof is neither JSON nor a protobuf ConsistencyProof: {e}"))?;
    check_numbers(&[proof.first, proof.second], "the consistency proof")?;
    Ok(proof)
}

/// Ledger sizes and indexes are at most 2^53 - 1 in every encoding, so that the JSON mapping
/// carries them exactly (found by the `ledger` fuzz target).
fn check_numbers(numbers: &[u64], name: &str) -> Result<()> {
    if numbers.iter().any(|&n| n > super::MAX_NUMBER) {
        return Err(err!(MEDSEAL_LEDGER_PROOF_INVALID, "{name} has a size or index above 2^53 - 1"));
    }
    Ok(())
}

fn check_protobuf_size(bytes: &[u8], name: &str) -> Result<()> {
    if bytes.len() > MAX_PROOF_BYTES {
        return Err(err!(MEDSEAL_LEDGER_PROOF_INVALID, "{name} has {} bytes; at most {MAX_PROOF_BYTES} are read", bytes.len()));
    }
    Ok(())
}
