//! Transport to the hub (docs/SUBMISSION.md, DESIGN 3.4): a blocking HTTPS client with mutual
//! TLS ([`Transport`], configured by [`TransportConfig`]), and delivery from the outbox
//! ([`deliver_once`], [`deliver_all`], the background [`Deliverer`]).
//!
//! * TLS is always verified: the hub URL must be `https://`, the hub's certificate must chain to
//!   the pinned hub CA (or, when chosen explicitly, a public root) and name the host; TLS 1.2 is
//!   the minimum, 1.3 preferred. The client certificate names the facility.
//! * One batch is one `POST /v1/records` (protobuf `SubmitBatch`), with an `Idempotency-Key`.
//! * Failures are classified into `MEDSEAL_TRANSPORT_*` codes with messages that say which
//!   certificate problem it was (unknown CA, name mismatch, expired, client certificate
//!   refused), and into what happens to the records: retried later (the policy below), or
//!   dead letters (the hub refused the request or the record for good).
//! * Receipts are verified (receipt key, inclusion proof, tree-head key) before a record is
//!   marked delivered; one that does not verify leaves the record queued.

//!
//! ## Retry policy (docs/SUBMISSION.md "Retries")
//!
//! | failure | code | the records |
//! |---|---|---|
//! | connect refused/reset, DNS, proxy | `MEDSEAL_TRANSPORT_CONNECT` | queued, exponential backoff |
//! | connect or total timeout | `MEDSEAL_TRANSPORT_TIMEOUT` | queued, exponential backoff |
//! | HTTP 408, 425, 429, 5xx | `MEDSEAL_TRANSPORT_HTTP` | queued, exponential backoff or `Retry-After` if later |
//! | other 4xx | `MEDSEAL_TRANSPORT_REJECTED` | the batch's records: dead letters with the hub's `code` (or `HTTP_<status>`) and "HTTP <status>: <reason>"; the others wait 5 minutes |
//! | certificate: unknown CA, name mismatch, expired, client certificate refused | `MEDSEAL_TRANSPORT_TLS` | queued, 5 minutes (the cap) |
//! | other TLS failure | `MEDSEAL_TRANSPORT_TLS` | queued, exponential backoff |
//! | answer malformed, not matching the batch, redirect | `MEDSEAL_TRANSPORT_PROTOCOL` | queued, exponential backoff |
//! | a receipt or proof that does not verify | `MEDSEAL_TRANSPORT_PROTOCOL` | that record queued, exponential backoff |
//! | `REJECTED` result for a record | (none: not a transport error) | that record a dead letter with the hub's code and reason |
//!
//! Exponential backoff: after the n-th failed attempt of a record, the next one is drawn
//! uniformly in (0, min(300 s, 1 s × 2^(n−1))] (full jitter), rounded up to whole seconds and
//! at least 1 s; one draw per batch, so a batch that failed together is retried together.
//! `Retry-After` (delay seconds or an HTTP date; at most a day ahead) wins when later.
//! A whole batch that failed stops [`deliver_all`] (the other due records wait for the next
//! run), and makes the [`Deliverer`] pause until that batch's next attempt: a hub that is down
//! sees one attempt per backoff step, not one per batch.

mod client;
mod config;
mod deliver;
mod retry;
mod tls;
mod token_key;

pub use client::Transport;
pub use config::{ProxySetting, Roots, TransportConfig, TransportConfigBuilder};
pub use deliver::{deliver_all, deliver_once, Deliverer, DeliveryReport};
