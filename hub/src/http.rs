//! The hub's HTTP API (docs/SUBMISSION.md, hub/openapi.yaml). Every route is in [`ROUTES`],
//! and the router is built from that table, so the OpenAPI test sees every route there is.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Extension, Router};
use medseal::ledger::{consistency_proof_to_json, inclusion_proof_to_json};
use medseal::wire::{ConsistencyProof, RecordResult, RecordStatus, SubmitBatch, SubmitResponse, SubmittedRecord};
use prost::Message;
use serde_json::json;

use crate::hub::{BatchError, Code, Hub, Outcome, RecordOutcome, MAX_BATCH_BYTES, MAX_BATCH_RECORDS};
use crate::json::{self, Refusal};
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

/// Most ledger entries in one `GET /v1/ledger/entries` answer (a page): when the range holds
/// more, the answer links to the next page (`Link: <…>; rel="next"`).
pub const MAX_ENTRIES: u64 = 1000;

/// Largest value of an integer query parameter: 2^53 - 1, the largest integer every JSON
/// reader holds exactly (hub/openapi.yaml's `Size`). Larger values are `BAD_PARAMETER`.
pub const MAX_INTEGER: u64 = (1 << 53) - 1;

/// Longest request target (path and query), in bytes: longer ones get 414 `URI_TOO_LONG`.
pub const MAX_URI_BYTES: usize = 8 << 10;

/// Most header bytes (names and values) and most header fields in one request: more get 431
/// `HEADERS_TOO_LARGE`. The same for HTTP/1.1 and HTTP/2: hyper's own limits are above these
/// (HTTP/2 counts 32 bytes more per field, so 100 fields of 8 KiB fit in its 16 KiB).
pub const MAX_HEADER_BYTES: usize = 8 << 10;
pub const MAX_HEADERS: usize = 100;

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
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(limits))
        .layer(axum::middleware::map_response(json_errors))
        .with_state(hub)
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
    http_layer_error(StatusCode::NOT_FOUND)
}

async fn method_not_allowed() -> Response {
    http_layer_error(StatusCode::METHOD_NOT_ALLOWED)
}

/// The same request limits over HTTP/1.1 and HTTP/2, answered with `{code, reason}`.
async fn limits(request: Request, next: Next) -> Response {
    let target = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return http_layer_error(StatusCode::URI_TOO_LONG);
    }
    let headers = request.headers();
    let bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return http_layer_error(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }
    next.run(request).await
}

/// Every error answer carries `{code, reason}`: one made without it (an extractor's rejection,
/// say) gets the body of its status, keeping its `Allow` and `Retry-After` headers.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let mut answer = http_layer_error(status);
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = response.headers().get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

/// The `{code, reason}` of an error raised by the HTTP layer rather than by a handler.
fn http_layer_code(status: StatusCode) -> (&'static str, String) {
    match status {
        StatusCode::NOT_FOUND => ("NOT_FOUND", "no such endpoint (see hub/openapi.yaml)".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => ("METHOD_NOT_ALLOWED", "this endpoint does not take that method".to_owned()),
        StatusCode::REQUEST_TIMEOUT => ("TIMEOUT", "the request did not arrive in time".to_owned()),
        StatusCode::PAYLOAD_TOO_LARGE => ("TOO_LARGE", "the request body is too large".to_owned()),
        StatusCode::URI_TOO_LONG => ("URI_TOO_LONG", format!("the request target (path and query) is over {} KiB", MAX_URI_BYTES >> 10)),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("UNSUPPORTED_MEDIA_TYPE", "this endpoint does not take that media type".to_owned()),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            "HEADERS_TOO_LARGE",
            format!("the request has over {MAX_HEADERS} header fields or over {} KiB of them", MAX_HEADER_BYTES >> 10),
        ),
        StatusCode::SERVICE_UNAVAILABLE => ("UNAVAILABLE", "the hub cannot answer now; retry later".to_owned()),
        s if s.is_server_error() => ("INTERNAL", "the hub could not answer".to_owned()),
        _ => ("BAD_REQUEST", "the request is not a valid HTTP request for this API (see hub/openapi.yaml)".to_owned()),
    }
}

fn http_layer_error(status: StatusCode) -> Response {
    let (code, reason) = http_layer_code(status);
    error(status, code, reason)
}

/// The TLS stream as hyper's HTTP/1 server sees it. A request hyper cannot parse (a bad
/// request line or header, a URI over 64 KiB, headers over its buffer) is answered by hyper
/// itself, 400, 414 or 431 with an empty body, before the router sees anything. This writer
/// gives those answers the `{code, reason}` body every error has; every other byte passes
/// through untouched. (HTTP/2 has no such answers below its advertised header-list size.)
pub(crate) struct ErrorBodies<S> {
    inner: S,
    /// The rewritten answer being written, how much of it is written, and the length of
    /// hyper's bytes to report once it all is.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<S> ErrorBodies<S> {
    pub(crate) fn new(inner: S) -> Self {
        ErrorBodies { inner, pending: None }
    }
}

/// hyper's automatic error head (`HTTP/1.1 431 ...`, `content-length: 0`) with the JSON body
/// added; `None` for anything else. The handlers never answer 400, 414 or 431 without a body.
fn with_error_body(head: &[u8]) -> Option<Vec<u8>> {
    const EMPTY: &str = "\r\ncontent-length: 0\r\n";
    if head.len() > 1024 || !head.starts_with(b"HTTP/1.") || !head.ends_with(b"\r\n\r\n") {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let status = StatusCode::from_bytes(text.get(9..12)?.as_bytes()).ok()?;
    if !matches!(status, StatusCode::BAD_REQUEST | StatusCode::URI_TOO_LONG | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE) {
        return None;
    }
    let at = text.find(EMPTY)?;
    let (code, reason) = http_layer_code(status);
    let body = json!({ "code": code, "reason": reason }).to_string();
    let fields = format!("\r\ncontent-type: application/json\r\ncontent-length: {}\r\n", body.len());
    Some([&text[..at], &fields, &text[at + EMPTY.len()..], &body].concat().into_bytes())
}

impl<S: tokio::io::AsyncWrite + Unpin> ErrorBodies<S> {
    /// Writes the rewritten answer to its end; then the length hyper gave is reported written.
    fn poll_pending(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<usize>> {
        let (bytes, written, reported) = self.pending.as_mut().expect("an answer is pending");
        while *written < bytes.len() {
            let n = std::task::ready!(std::pin::Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return std::task::Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        let reported = *reported;
        self.pending = None;
        std::task::Poll::Ready(Ok(reported))
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for ErrorBodies<S> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for ErrorBodies<S> {
    fn poll_write(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>, buf: &[u8]) -> std::task::Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if this.pending.is_none() {
            match with_error_body(buf) {
                Some(answer) => this.pending = Some((answer, 0, buf.len())),
                None => return std::pin::Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        this.poll_pending(cx)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &**b);
        if this.pending.is_some() || with_error_body(first).is_some() {
            return std::pin::Pin::new(this).poll_write(cx, first);
        }
        std::pin::Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.pending.is_some() {
            std::task::ready!(this.poll_pending(cx))?;
        }
        std::pin::Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.pending.is_some() {
            std::task::ready!(this.poll_pending(cx))?;
        }
        std::pin::Pin::new(&mut this.inner).poll_shutdown(cx)
    }
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
    let (batch, refusals) = match decode_batch(&body, format) {
        Ok(decoded) => decoded,
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
    let outcomes = tokio::task::spawn_blocking(move || submit_readable(&worker, &who, batch.records, refusals)).await;
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

/// The batch, and per record a refusal found while reading it (in JSON a field that is not
/// base64url, in protobuf a record id that is not UTF-8). A JSON body's records are counted
/// before any is built.
fn decode_batch(body: &Bytes, format: Format) -> Result<(SubmitBatch, Vec<Option<Refusal>>), ApiError> {
    let malformed = |reason: String| fail(StatusCode::BAD_REQUEST, "MALFORMED_BATCH", reason);
    match format {
        Format::Protobuf => decode_protobuf(body).map_err(malformed),
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

/// `SubmitBatch` as on the wire (proto/medseal/v1/submission.proto), with `record_id` read as
/// bytes: prost refuses a whole message with a string field that is not UTF-8, and such a
/// record id is one record's problem (`MALFORMED`), not the batch's.
#[derive(Clone, PartialEq, prost::Message)]
struct WireBatch {
    #[prost(message, repeated, tag = "1")]
    records: Vec<WireRecord>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct WireRecord {
    #[prost(bytes = "vec", tag = "1")]
    record_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    envelope: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    digest: Vec<u8>,
}

fn decode_protobuf(body: &[u8]) -> Result<(SubmitBatch, Vec<Option<Refusal>>), String> {
    let batch = WireBatch::decode(body).map_err(|e| format!("the body is not a protobuf SubmitBatch: {e}"))?;
    let mut records = Vec::with_capacity(batch.records.len());
    let mut refusals = Vec::with_capacity(batch.records.len());
    for r in batch.records {
        let (record_id, refusal) = match String::from_utf8(r.record_id) {
            Ok(id) => (id, None),
            Err(e) => {
                (String::from_utf8_lossy(e.as_bytes()).into_owned(), Some((Code::Malformed, "the record id is not UTF-8".to_owned())))
            }
        };
        records.push(SubmittedRecord { record_id, envelope: r.envelope, digest: r.digest });
        refusals.push(refusal);
    }
    Ok((SubmitBatch { records }, refusals))
}

/// Runs the records that could be read through [`Hub::submit`]; a record refused while being
/// read gets its rejection in its place, so one bad record never costs the others.
fn submit_readable(
    hub: &Hub,
    facility: &str,
    records: Vec<SubmittedRecord>,
    refusals: Vec<Option<Refusal>>,
) -> Result<Vec<RecordOutcome>, BatchError> {
    if refusals.iter().all(Option::is_none) {
        return hub.submit(facility, &records);
    }
    let ids: Vec<String> = records.iter().map(|r| r.record_id.clone()).collect();
    let readable: Vec<SubmittedRecord> = records.into_iter().zip(&refusals).filter(|(_, r)| r.is_none()).map(|(r, _)| r).collect();
    let mut checked = hub.submit(facility, &readable)?.into_iter();
    Ok(ids
        .into_iter()
        .zip(refusals)
        .map(|(record_id, refusal)| match refusal {
            Some((code, reason)) => RecordOutcome { record_id, outcome: Outcome::Rejected { code, reason } },
            None => checked.next().expect("one outcome per record submitted"),
        })
        .collect())
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

/// A required or optional integer query parameter: decimal digits only, at most
/// [`MAX_INTEGER`], on every endpoint alike; anything else is `BAD_PARAMETER`.
fn param(params: &HashMap<String, String>, name: &str, required: bool) -> Result<Option<u64>, ApiError> {
    match params.get(name) {
        Some(text) => text
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| text.parse::<u64>().ok())
            .flatten()
            .filter(|&n| n <= MAX_INTEGER)
            .map(Some)
            .ok_or_else(|| fail(StatusCode::BAD_REQUEST, "BAD_PARAMETER", format!("{name} must be an integer from 0 to {MAX_INTEGER}"))),
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

/// Well-formed values that name no leaf, size or entries of the ledger (yet): 404 `RANGE`, as
/// the request is valid and the ledger has no such thing; `BAD_PARAMETER` (400) is for values
/// that are not integers of the API at all.
fn range_error(e: medseal::Error) -> ApiError {
    if e.code() == medseal::ResultCode::MEDSEAL_LEDGER_RANGE {
        fail(StatusCode::NOT_FOUND, "RANGE", e.message().to_owned())
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

/// `GET /v1/ledger/entries?start=S&end=E&source=F`: entries `S..E` (end exclusive, `E` cut at
/// the ledger's size, which is its default), one canonical JSON entry per line, a page of at
/// most [`MAX_ENTRIES`] at a time. When the range holds more, the answer carries an RFC 8288
/// `Link: </v1/ledger/entries?start=N&end=E&source=F>; rel="next"` header to the next page,
/// with the `end` (and `source`) of the first answer, so a reader following the links reads one
/// state of the ledger completely; no `next` link means the range is complete.
///
/// A facility gets only its own entries of that range (record ids live in each facility's
/// namespace and are nobody else's business; `source` naming another facility is 403
/// `OTHER_FACILITY`); an auditor gets every entry, or one facility's with `source`.
async fn entries(State(hub): State<Arc<Hub>>, Extension(peer): Extension<Peer>, query: Params) -> Response {
    let run = async {
        let Some(name) = peer.facility else {
            return Err(fail(StatusCode::FORBIDDEN, "NO_FACILITY", "the client certificate does not name one facility (one subject CN)"));
        };
        let q = params(query)?;
        let start = param(&q, "start", true)?.expect("required");
        let size = hub.latest().head.tree_size;
        let end = param(&q, "end", false)?.unwrap_or(size).min(size);
        if start >= size || start >= end {
            return Err(fail(
                StatusCode::NOT_FOUND,
                "RANGE",
                format!("entries start..end must satisfy start < end and start < {size} (the ledger's size)"),
            ));
        }
        let source = q.get("source").cloned();
        let filter = source.clone();
        let page = blocking(move || hub.entries_page_for(&name, filter.as_deref(), start, end, MAX_ENTRIES))
            .await?
            .map_err(|e| fail(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()))?;
        let Some((lines, next)) = page else {
            return Err(fail(
                StatusCode::FORBIDDEN,
                "OTHER_FACILITY",
                "a facility reads only its own ledger entries (source is another facility)",
            ));
        };
        let mut body = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for line in lines {
            body.push_str(&line);
            body.push('\n');
        }
        let mut response = ([(header::CONTENT_TYPE, "application/jsonl")], Body::from(body)).into_response();
        if let Some(next) = next {
            let source = source.map_or_else(String::new, |s| format!("&source={}", query_escape(&s)));
            let link = format!("</v1/ledger/entries?start={next}&end={end}{source}>; rel=\"next\"");
            response.headers_mut().insert(header::LINK, HeaderValue::from_str(&link).expect("ASCII"));
        }
        Ok(response)
    };
    run.await.unwrap_or_else(|e: ApiError| e.into_response())
}

/// Percent-encodes a query value: everything but RFC 3986's unreserved characters.
fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::query_escape;

    #[test]
    fn next_links_escape_the_source() {
        assert_eq!(query_escape("hospital-a_1.x~"), "hospital-a_1.x~");
        assert_eq!(query_escape("a b&c=d>e+f"), "a%20b%26c%3Dd%3Ee%2Bf");
        assert_eq!(query_escape("Bệnh viện"), "B%E1%BB%87nh%20vi%E1%BB%87n");
    }
}
