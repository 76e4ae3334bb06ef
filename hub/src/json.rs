//! The JSON mapping of the submission messages (proto/medseal/v1/submission.proto): the same
//! field names, bytes as base64url without padding, enums by name, fields with default values
//! left out. Proofs use medseal::ledger's mapping.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use medseal::ledger::inclusion_proof_to_json;
use medseal::wire::{RecordResult, RecordStatus, SubmitBatch, SubmitResponse, SubmittedRecord};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::hub::Code;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchJson {
    #[serde(default)]
    records: Vec<Object<RecordJson>>,
}

/// A JSON object, and only an object: serde's derive also reads a struct from an array
/// (`[]` was an empty batch), which hub/openapi.yaml does not allow.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Only<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Only<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer.deserialize_map(Only(std::marker::PhantomData)).map(Object)
    }
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
pub fn batch_from_json_limited(bytes: &[u8], max_records: usize) -> Result<(SubmitBatch, Vec<Option<Refusal>>), BatchJsonError> {
    let Object(count): Object<BatchCount> =
        serde_json::from_slice(bytes).map_err(|e| BatchJsonError::Malformed(format!("the batch is not a SubmitBatch in JSON: {e}")))?;
    if count.records.0 > max_records {
        return Err(BatchJsonError::TooManyRecords(count.records.0));
    }
    batch_from_json(bytes).map_err(BatchJsonError::Malformed)
}

/// A record refused while its batch was read: its result is this rejection, and it never
/// reaches the hub's checks.
pub type Refusal = (Code, String);

/// Reads a `SubmitBatch` in the JSON mapping (no limit on the number of records: the hub uses
/// [`batch_from_json_limited`]), with one entry per record: `Some` refusal for a
/// record whose `envelope` (`MALFORMED`) or `digest` (`DIGEST_MISMATCH`) is not base64url without
/// padding. Such a record is answered on its own; only a body that is not a SubmitBatch at all
/// (not JSON, a field of the wrong type, an unknown field) is an error of the whole batch.
pub fn batch_from_json(bytes: &[u8]) -> Result<(SubmitBatch, Vec<Option<Refusal>>), String> {
    let Object(batch): Object<BatchJson> =
        serde_json::from_slice(bytes).map_err(|e| format!("the batch is not a SubmitBatch in JSON: {e}"))?;
    let mut refusals = Vec::with_capacity(batch.records.len());
    let records = batch
        .records
        .into_iter()
        .map(|Object(r)| {
            let envelope = URL_SAFE_NO_PAD.decode(&r.envelope);
            let digest = URL_SAFE_NO_PAD.decode(&r.digest);
            refusals.push(match (&envelope, &digest) {
                (Err(_), _) => Some((Code::Malformed, "the envelope is not base64url without padding".to_owned())),
                (_, Err(_)) => {
                    Some((Code::DigestMismatch, "the digest is not base64url without padding (43 characters for SHA-256)".to_owned()))
                }
                _ => None,
            });
            SubmittedRecord { envelope: envelope.unwrap_or_default(), digest: digest.unwrap_or_default(), record_id: r.record_id }
        })
        .collect();
    Ok((SubmitBatch { records }, refusals))
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
