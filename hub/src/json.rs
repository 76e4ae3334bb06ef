//! The JSON mapping of the submission messages (proto/medseal/v1/submission.proto): the same
//! field names, bytes as base64url without padding, enums by name, fields with default values
//! left out. Proofs use medseal::ledger's mapping.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use medseal::ledger::inclusion_proof_to_json;
use medseal::wire::{RecordResult, RecordStatus, SubmitBatch, SubmitResponse, SubmittedRecord};
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchJson {
    #[serde(default)]
    records: Vec<RecordJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordJson {
    #[serde(default)]
    record_id: String,
    #[serde(default)]
    envelope: String,
    #[serde(default)]
    digest: String,
}

/// The same shape, read only to count the records: nothing is kept per record, so a body of
/// millions of `{}` costs no memory before it is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchCount {
    #[serde(default)]
    records: Count,
}

#[derive(Default)]
struct Count(usize);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Count, D::Error> {
        struct Counter;
        impl<'de> serde::de::Visitor<'de> for Counter {
            type Value = Count;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of records")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                let mut n = 0;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(n))
            }
        }
        deserializer.deserialize_seq(Counter)
    }
}

/// Why a JSON batch was not read.
#[derive(Debug, PartialEq, Eq)]
pub enum BatchJsonError {
    /// More records than the limit (their number).
    TooManyRecords(usize),
    /// Not a `SubmitBatch` in the JSON mapping.
    Malformed(String),
}

/// Reads a `SubmitBatch` in the JSON mapping of at most `max_records` records: the records are
/// counted first, without keeping them, and only a batch within the limit is built.
pub fn batch_from_json_limited(bytes: &[u8], max_records: usize) -> Result<SubmitBatch, BatchJsonError> {
    let count: BatchCount =
        serde_json::from_slice(bytes).map_err(|e| BatchJsonError::Malformed(format!("the batch is not a SubmitBatch in JSON: {e}")))?;
    if count.records.0 > max_records {
        return Err(BatchJsonError::TooManyRecords(count.records.0));
    }
    batch_from_json(bytes).map_err(BatchJsonError::Malformed)
}

/// Reads a `SubmitBatch` in the JSON mapping (no limit on the number of records: the hub uses
/// [`batch_from_json_limited`]).
pub fn batch_from_json(bytes: &[u8]) -> Result<SubmitBatch, String> {
    let batch: BatchJson = serde_json::from_slice(bytes).map_err(|e| format!("the batch is not a SubmitBatch in JSON: {e}"))?;
    let records = batch
        .records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let bytes = |name: &str, text: &str| {
                URL_SAFE_NO_PAD.decode(text).map_err(|_| format!("records[{i}].{name} is not base64url without padding"))
            };
            Ok(SubmittedRecord { envelope: bytes("envelope", &r.envelope)?, digest: bytes("digest", &r.digest)?, record_id: r.record_id })
        })
        .collect::<Result<_, String>>()?;
    Ok(SubmitBatch { records })
}

/// Writes a `SubmitBatch` in the JSON mapping (for clients and tests).
pub fn batch_to_json(batch: &SubmitBatch) -> Vec<u8> {
    let records: Vec<Value> = batch
        .records
        .iter()
        .map(|r| {
            json!({
                "record_id": r.record_id,
                "envelope": URL_SAFE_NO_PAD.encode(&r.envelope),
                "digest": URL_SAFE_NO_PAD.encode(&r.digest),
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "records": records })).expect("JSON")
}

/// Writes a `SubmitResponse` in the JSON mapping.
pub fn response_to_json(response: &SubmitResponse) -> Vec<u8> {
    let results: Vec<Value> = response.results.iter().map(result_value).collect();
    serde_json::to_vec(&json!({ "results": results })).expect("JSON")
}

fn result_value(r: &RecordResult) -> Value {
    let mut m = Map::new();
    m.insert("record_id".into(), r.record_id.clone().into());
    let status = RecordStatus::try_from(r.status).unwrap_or(RecordStatus::Unspecified);
    m.insert("status".into(), status.as_str_name().into());
    if !r.receipt.is_empty() {
        m.insert("receipt".into(), r.receipt.clone().into());
    }
    if let Some(inclusion) = &r.inclusion {
        m.insert("inclusion".into(), serde_json::from_slice(&inclusion_proof_to_json(inclusion)).expect("the ledger writes JSON"));
    }
    if !r.code.is_empty() {
        m.insert("code".into(), r.code.clone().into());
    }
    if !r.reason.is_empty() {
        m.insert("reason".into(), r.reason.clone().into());
    }
    Value::Object(m)
}

/// Reads a `SubmitResponse` in the JSON mapping (for clients and tests).
pub fn response_from_json(bytes: &[u8]) -> Result<SubmitResponse, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let results = value.get("results").and_then(Value::as_array).ok_or("no \"results\" array")?;
    let text = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    results
        .iter()
        .map(|r| {
            let status = RecordStatus::from_str_name(&text(r, "status")).ok_or("an unknown status")?;
            let inclusion = match r.get("inclusion") {
                Some(v) => Some(medseal::ledger::inclusion_proof_from_json(v.to_string().as_bytes()).map_err(|e| e.to_string())?),
                None => None,
            };
            Ok(RecordResult {
                record_id: text(r, "record_id"),
                status: status as i32,
                receipt: text(r, "receipt"),
                inclusion,
                code: text(r, "code"),
                reason: text(r, "reason"),
            })
        })
        .collect::<Result<_, String>>()
        .map(|results| SubmitResponse { results })
}
