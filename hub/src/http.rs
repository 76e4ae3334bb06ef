//! The hub's HTTP API (docs/SUBMISSION.md, hub/openapi.yaml). Every route is in [`ROUTES`],
//! and the router is built from that table, so the OpenAPI test sees every route there is.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Extension, Router};
use medseal::ledger::{consistency_proof_to_json, inclusion_proof_to_json};
use medseal::wire::{ConsistencyProof, RecordResult, RecordStatus, SubmitBatch, SubmitResponse};
use prost::Message;
use serde_json::json;

use crate::hub::{BatchError, Hub, Outcome, MAX_BATCH_BYTES, MAX_BATCH_RECORDS};
use crate::json;
use crate::limits::{scan_batch, Full, Limits, Slot};
use medseal::untrusted::shown;

/// Every route: method and path (axum syntax). The router is made from this table.
pub const ROUTES: [(&str, &str); 5] = [
    ("POST", "/v1/records"),
    ("GET", "/v1/tree-head"),
    ("GET", "/v1/proofs/inclusion"),
    ("GET", "/v1/proofs/consistency"),
    ("GET", "/v1/ledger/entries"),
];

/// Most ledger entries in one `GET /v1/ledger/entries` answer.
pub const MAX_ENTRIES: u64 = 1000;

/// The protobuf media type of submissions.
pub const PROTOBUF: &str = "application/x-protobuf";

/// Largest JSON body: the envelopes in base64 (a third more) and the field names around them.
const MAX_JSON_BODY: usize = MAX_BATCH_BYTES / 3 * 4 + (1 << 20);

/// Who is on the other end of the connection: the facility named by the client
/// certificate's subject CN (`None` when the certificate has no single CN).
#[derive(Clone, Debug)]
pub struct Peer {
    pub facility: Option<String>,
    /// The SHA-256 fingerprint (hex) of the client certificate.
    pub fingerprint: String,
}

/// Every request is refused once its connection's certificate is revoked: a connection opened
/// before the revocation (HTTP keep-alive, HTTP/2) must not outlive it.
pub fn revoked(hub: &Hub, peer: &Peer) -> Option<Response> {
    hub.certificate_revoked(&peer.fingerprint).then(|| {
        let mut response = error(StatusCode::FORBIDDEN, "CERTIFICATE_REVOKED", "this client certificate has been revoked at this hub");
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    })
}

/// The router of every route in [`ROUTES`].
pub fn router(hub: Arc<Hub>) -> Router {
    let mut router = Router::new();
    for (method, path) in ROUTES {
        router = router.route(path, handler(method, path));
    }
    router.fallback(not_found).method_not_allowed_fallback(method_not_allowed).with_state(hub)
}

fn handler(method: &str, path: &str) -> MethodRouter<Arc<Hub>> {
    match (method, path) {
        ("POST", "/v1/records") => post(submit),
        ("GET", "/v1/tree-head") => get(tree_head),
        ("GET", "/v1/proofs/inclusion") => get(inclusion),
        ("GET", "/v1/proofs/consistency") => get(consistency),
        ("GET", "/v1/ledger/entries") => get(entries),
        _ => unreachable!("every route in ROUTES has a handler"),
    }
}

/// An error answer: `{code, reason}` as JSON.
struct ApiError {
    status: StatusCode,
    code: &'static str,
    reason: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "code": self.code, "reason": self.reason });
        (self.status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
    }
}

fn fail(status: StatusCode, code: &'static str, reason: impl Into<String>) -> ApiError {
    ApiError { status, code, reason: reason.into() }
}

fn error(status: StatusCode, code: &'static str, reason: impl Into<String>) -> Response {
    fail(status, code, reason).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint (see hub/openapi.yaml)")
}

async fn method_not_allowed() -> Response {
    error(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "this endpoint does not take that method")
}

/// Decrements the in-flight count when a batch is done, however it ends.
struct InFlight<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Protobuf,
    Json,
}

/// `POST /v1/records`.
async fn submit(
    State(hub): State<Arc<Hub>>,
    Extension(peer): Extension<Peer>,
    Extension(limits): Extension<Arc<Limits>>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let Some(facility) = peer.facility else {
        return error(StatusCode::FORBIDDEN, "NO_FACILITY", "the client certificate does not name one facility (one subject CN)");
    };
    let format = match media_type(request.headers()) {
        Some(m) if m == PROTOBUF || m == "application/protobuf" => Format::Protobuf,
        Some(m) if m == "application/json" => Format::Json,
        _ => {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                format!("the body must be {PROTOBUF} (a SubmitBatch) or application/json (its JSON mapping)"),
            )
        }
    };
    let limit = if format == Format::Json { MAX_JSON_BODY } else { MAX_BATCH_BYTES };
    // A declared length over the limit is refused before anything is read. A client that
    // writes its whole body before reading the answer (most do) would see only a closed
    // connection: a body of at most twice the limit is discarded in the background, on one of
    // the facility's upload slots and under the body timeout, so such a client reads its 413.
    if let Some(length) = content_length(request.headers()).filter(|&length| length > limit as u64) {
        if length <= 2 * limit as u64 {
            if let Ok(slot) = limits.upload(&facility) {
                let timeout = std::time::Duration::from_secs(limits.config().body_timeout_secs);
                tokio::spawn(discard_body(request.into_body(), timeout, slot));
            }
        }
        return too_large();
    }
    // The body is read under upload limits (per facility and in total) and its own timeout; a
    // batch slot is taken only once it has all arrived, so a slow sender holds none.
    let upload = match limits.upload(&facility) {
        Ok(slot) => slot,
        Err(Full::Facility) => {
            let reason = format!(
                "this facility already has {} batches uploading; retry after the time given",
                limits.config().max_uploads_per_facility
            );
            return busy("TOO_MANY_UPLOADS", reason, "5");
        }
        Err(Full::Total) => return busy("OVERLOADED", "the hub is busy; retry after the time given".to_owned(), "1"),
    };
    let body_timeout = std::time::Duration::from_secs(limits.config().body_timeout_secs);
    let declared = content_length(request.headers());
    let body = match tokio::time::timeout(body_timeout, read_body(request.into_body(), limit, declared)).await {
        Err(_) => {
            let reason = format!("the body did not arrive within {} s", body_timeout.as_secs());
            return error(StatusCode::REQUEST_TIMEOUT, "TIMEOUT", reason);
        }
        Ok(Ok(body)) => body,
        Ok(Err(BodyError::TooLarge)) => return too_large(),
        // The body stopped arriving (the client went away, a stream was reset).
        Ok(Err(BodyError::Broken)) => return error(StatusCode::BAD_REQUEST, "MALFORMED_BATCH", "the body could not be read to its end"),
    };
    drop(upload);
    // Counts and sizes from the wire format, before a single record is built.
    if format == Format::Protobuf {
        // What the walk cannot read (groups included, which this schema has none of) is not
        // handed to the decoder either: it would decode without the count checked.
        let Some(shape) = scan_batch(&body) else {
            return error(
                StatusCode::BAD_REQUEST,
                "MALFORMED_BATCH",
                "the body is not a protobuf SubmitBatch (its wire format does not parse)",
            );
        };
        if shape.records > MAX_BATCH_RECORDS {
            return too_many_records(shape.records).into_response();
        }
        if shape.envelope_bytes > MAX_BATCH_BYTES {
            return too_large();
        }
    }
    // Processing: at most max_concurrent_batches at once; decoding counts, it takes memory.
    let max = hub.config().max_concurrent_batches;
    let previous = hub.in_flight.fetch_add(1, Ordering::SeqCst);
    let guard = InFlight(&hub.in_flight);
    if previous >= max {
        drop(guard);
        return busy("OVERLOADED", "the hub is busy; retry after the time given".to_owned(), "1");
    }
    let batch = match decode_batch(&body, format) {
        Ok(batch) => batch,
        Err(e) => return e.into_response(),
    };
    drop(body);
    if batch.records.len() > MAX_BATCH_RECORDS {
        return too_many_records(batch.records.len()).into_response();
    }
    let total: usize = batch.records.iter().map(|r| r.envelope.len()).sum();
    if total > MAX_BATCH_BYTES {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "TOO_LARGE",
            format!("a batch has at most {} MiB of envelopes", MAX_BATCH_BYTES >> 20),
        );
    }

    let worker = hub.clone();
    let who = facility.clone();
    let outcomes = tokio::task::spawn_blocking(move || worker.submit(&who, &batch.records)).await;
    drop(guard);
    let outcomes = match outcomes {
        Ok(Ok(outcomes)) => outcomes,
        Ok(Err(BatchError::NotEnrolled(reason))) => {
            eprintln!("medseal-hub: batch from {} refused: not enrolled", shown(&facility));
            return error(StatusCode::FORBIDDEN, "NOT_ENROLLED", reason);
        }
        Ok(Err(BatchError::Unavailable(reason))) => {
            eprintln!("medseal-hub: batch from {} refused: {reason}", shown(&facility));
            let mut response = error(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", reason);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            return response;
        }
        Ok(Err(BatchError::Internal(e))) => {
            eprintln!("medseal-hub: batch from {} failed, nothing stored: {e}", shown(&facility));
            return error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the hub could not store the batch; nothing was stored");
        }
        Err(e) => {
            eprintln!("medseal-hub: batch from {} failed, nothing stored: {e}", shown(&facility));
            return error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the hub could not store the batch; nothing was stored");
        }
    };
    log_batch(&facility, &outcomes, hub.latest().head.tree_size, started);

    let results = outcomes
        .into_iter()
        .map(|o| {
            let mut r = RecordResult { record_id: o.record_id, ..RecordResult::default() };
            match o.outcome {
                Outcome::Accepted { receipt, inclusion } => {
                    r.status = RecordStatus::Accepted as i32;
                    r.receipt = receipt;
                    r.inclusion = Some(inclusion);
                }
                Outcome::Duplicate { receipt, inclusion } => {
                    r.status = RecordStatus::Duplicate as i32;
                    r.receipt = receipt;
                    r.inclusion = Some(inclusion);
                }
                Outcome::Rejected { code, reason } => {
                    r.status = RecordStatus::Rejected as i32;
                    r.code = code.as_str().to_owned();
                    r.reason = reason;
                }
            }
            r
        })
        .collect();
    let response = SubmitResponse { results };
    match format {
        Format::Protobuf => ([(header::CONTENT_TYPE, PROTOBUF)], response.encode_to_vec()).into_response(),
        Format::Json => ([(header::CONTENT_TYPE, "application/json")], json::response_to_json(&response)).into_response(),
    }
}

fn decode_batch(body: &Bytes, format: Format) -> Result<SubmitBatch, ApiError> {
    let malformed = |reason: String| fail(StatusCode::BAD_REQUEST, "MALFORMED_BATCH", reason);
    match format {
        Format::Protobuf => {
            SubmitBatch::decode(body.as_ref()).map_err(|e| malformed(format!("the body is not a protobuf SubmitBatch: {e}")))
        }
        Format::Json => json::batch_from_json_limited(body, MAX_BATCH_RECORDS).map_err(|e| match e {
            json::BatchJsonError::TooManyRecords(n) => too_many_records(n),
            json::BatchJsonError::Malformed(reason) => malformed(reason),
        }),
    }
}

/// 413 `TOO_LARGE`: the body is over the size limit.
fn too_large() -> Response {
    let reason = format!(
        "a batch has at most {} MiB of envelopes (a protobuf body at most {} MiB, a JSON body {} MiB)",
        MAX_BATCH_BYTES >> 20,
        MAX_BATCH_BYTES >> 20,
        MAX_JSON_BODY >> 20
    );
    error(StatusCode::PAYLOAD_TOO_LARGE, "TOO_LARGE", reason)
}

/// 413 `TOO_MANY_RECORDS`.
fn too_many_records(n: usize) -> ApiError {
    fail(StatusCode::PAYLOAD_TOO_LARGE, "TOO_MANY_RECORDS", format!("a batch has at most {MAX_BATCH_RECORDS} records, not {n}"))
}

/// 503 with `Retry-After` (seconds).
fn busy(code: &'static str, reason: String, retry_after: &'static str) -> Response {
    let mut response = error(StatusCode::SERVICE_UNAVAILABLE, code, reason);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(retry_after));
    response
}

enum BodyError {
    TooLarge,
    Broken,
}

/// Reads a body of at most `limit` bytes into one buffer (sized from `Content-Length` when
/// there is one), so an upload holds one copy of its body, never more than the limit.
async fn read_body(mut body: Body, limit: usize, declared: Option<u64>) -> Result<Bytes, BodyError> {
    use http_body_util::BodyExt;
    let mut buffer = Vec::with_capacity(declared.map_or(0, |n| n.min(limit as u64) as usize));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        if let Ok(data) = frame.into_data() {
            if data.len() > limit - buffer.len() {
                return Err(BodyError::TooLarge);
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buffer))
}

/// Reads and drops a refused body, for at most `timeout`; then the connection closes.
async fn discard_body(mut body: Body, timeout: std::time::Duration, slot: Slot) {
    use http_body_util::BodyExt;
    let _ = tokio::time::timeout(timeout, async { while let Some(Ok(_)) = body.frame().await {} }).await;
    drop(slot);
}

/// The declared `Content-Length`, when there is one.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// The media type without parameters, lowercase.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// One line per batch on stderr: facility and counts, never record contents.
fn log_batch(facility: &str, outcomes: &[crate::hub::RecordOutcome], tree_size: u64, started: Instant) {
    let (mut accepted, mut duplicate) = (0, 0);
    let mut rejected: std::collections::BTreeMap<&str, usize> = Default::default();
    for o in outcomes {
        match &o.outcome {
            Outcome::Accepted { .. } => accepted += 1,
            Outcome::Duplicate { .. } => duplicate += 1,
            Outcome::Rejected { code, .. } => *rejected.entry(code.as_str()).or_default() += 1,
        }
    }
    let codes: Vec<String> = rejected.iter().map(|(c, n)| format!("{c}={n}")).collect();
    let rejected_total: usize = rejected.values().sum();
    eprintln!(
        "medseal-hub: batch from {}: {} records, {accepted} accepted, {duplicate} duplicate, {rejected_total} rejected{}; ledger size {tree_size}; {} ms",
        shown(facility),
        outcomes.len(),
        if codes.is_empty() { String::new() } else { format!(" ({})", codes.join(", ")) },
        started.elapsed().as_millis()
    );
}

type Params = Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>;

/// A required or optional non-negative integer query parameter.
fn param(params: &HashMap<String, String>, name: &str, required: bool) -> Result<Option<u64>, ApiError> {
    match params.get(name) {
        Some(text) => text
            .parse::<u64>()
            .map(Some)
            .map_err(|_| fail(StatusCode::BAD_REQUEST, "BAD_PARAMETER", format!("{name} must be a non-negative integer"))),
        None if required => Err(fail(StatusCode::BAD_REQUEST, "BAD_PARAMETER", format!("{name} is required"))),
        None => Ok(None),
    }
}

fn params(query: Params) -> Result<HashMap<String, String>, ApiError> {
    query.map(|Query(q)| q).map_err(|e| fail(StatusCode::BAD_REQUEST, "BAD_PARAMETER", e.body_text()))
}

fn json_response(body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Runs a read on the blocking pool (SQLite and the ledger lock).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| fail(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()))
}

fn range_error(e: medseal::Error) -> ApiError {
    if e.code() == medseal::ResultCode::MEDSEAL_LEDGER_RANGE {
        fail(StatusCode::BAD_REQUEST, "RANGE", e.message().to_owned())
    } else {
        fail(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.message().to_owned())
    }
}

/// `GET /v1/tree-head`.
async fn tree_head(State(hub): State<Arc<Hub>>) -> Response {
    let latest = hub.latest();
    let body = json!({
        "tree_head": latest.jws,
        "tree_size": latest.head.tree_size,
        "root_hash": base64_url(&latest.head.root_hash),
        "timestamp": medseal::utc::format(latest.head.timestamp).unwrap_or_default(),
    });
    json_response(body.to_string().into_bytes())
}

/// `GET /v1/proofs/inclusion?leaf_index=I&tree_size=N`.
async fn inclusion(State(hub): State<Arc<Hub>>, query: Params) -> Response {
    let run = async {
        let q = params(query)?;
        let index = param(&q, "leaf_index", true)?.expect("required");
        let size = param(&q, "tree_size", false)?;
        match blocking(move || hub.inclusion_proof(index, size)).await? {
            Ok(Some(proof)) => Ok(json_response(inclusion_proof_to_json(&proof))),
            Ok(None) => Err(fail(
                StatusCode::NOT_FOUND,
                "NO_TREE_HEAD",
                "the hub signed no tree head of that size; use the size of a receipt or of GET /v1/tree-head",
            )),
            Err(e) => Err(range_error(e)),
        }
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /v1/proofs/consistency?first=M&second=N`.
async fn consistency(State(hub): State<Arc<Hub>>, query: Params) -> Response {
    let run = async {
        let q = params(query)?;
        let first = param(&q, "first", true)?.expect("required");
        let second = param(&q, "second", true)?.expect("required");
        let path = blocking(move || hub.consistency_proof(first, second)).await?.map_err(range_error)?;
        Ok(json_response(consistency_proof_to_json(&ConsistencyProof { first, second, path })))
    };
    run.await.unwrap_or_else(|e: ApiError| e.into_response())
}

/// `GET /v1/ledger/entries?start=S&end=E`: entries `S..E` (end exclusive, at most 1000, cut
/// at the ledger's size), one canonical JSON entry per line.
///
/// A facility gets only its own entries of that range (record ids live in each facility's
/// namespace and are nobody else's business); an auditor gets every entry.
async fn entries(State(hub): State<Arc<Hub>>, Extension(peer): Extension<Peer>, query: Params) -> Response {
    let run = async {
        let Some(name) = peer.facility else {
            return Err(fail(StatusCode::FORBIDDEN, "NO_FACILITY", "the client certificate does not name one facility (one subject CN)"));
        };
        let q = params(query)?;
        let start = param(&q, "start", true)?.expect("required");
        let size = hub.latest().head.tree_size;
        let end = param(&q, "end", false)?.unwrap_or(size).min(size).min(start.saturating_add(MAX_ENTRIES));
        if start >= size || start >= end {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "RANGE",
                format!("entries start..end must satisfy start < end and start < {size} (the ledger's size)"),
            ));
        }
        let lines = blocking(move || hub.entries_for(&name, start, end))
            .await?
            .map_err(|e| fail(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()))?;
        let mut body = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for line in lines {
            body.push_str(&line);
            body.push('\n');
        }
        Ok(([(header::CONTENT_TYPE, "application/jsonl")], Body::from(body)).into_response())
    };
    run.await.unwrap_or_else(|e: ApiError| e.into_response())
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
