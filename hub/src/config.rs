//! `hub.json`: what the hub needs besides its keys. Written by `init`, read at start.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::files::{self, HubPaths};

/// The default listening address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";

/// The default number of batches processed at once; one more is answered 503.
pub const DEFAULT_MAX_CONCURRENT_BATCHES: usize = 8;

/// The hub's configuration (`hub.json`). Unknown members are refused (a typo must not
/// silently turn a setting off).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    /// The host name in the server certificate (with 127.0.0.1).
    pub hostname: String,
    /// Where `serve` listens unless told otherwise.
    pub listen: SocketAddr,
    /// The URL facilities submit to (written into each facility's `facility.json`).
    pub hub_url: String,
    /// How many batches may be processed at once (their bodies have arrived); beyond that, 503
    /// `OVERLOADED` with `Retry-After: 1`.
    #[serde(default = "default_max_concurrent_batches")]
    pub max_concurrent_batches: usize,
    /// Which records are on time, and how long a retired key still counts (docs/SUBMISSION.md,
    /// "Signing time").
    #[serde(default)]
    pub acceptance: AcceptancePolicy,
    /// Verify records with a trust list instead of the enrolled keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_list: Option<TrustListConfig>,
    /// Connection, upload and timeout limits (docs/SUBMISSION.md, "Limits and timeouts").
    #[serde(default)]
    pub limits: Limits,
    /// Auditor escrow public keys (X25519; paths relative to the hub directory unless
    /// absolute). `enroll` hands each to the facility as `escrow-N.pub`, and facilities seal
    /// every record to them as further recipients, so an auditor holding the private key opens
    /// the records of an export without the hub (docs/AUDIT.md, "Export"). `init
    /// --escrow-key` writes them; the hub itself never uses them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escrow_keys: Vec<PathBuf>,
}

/// Limits that keep one facility from starving the others or the hub's memory
/// (docs/SUBMISSION.md, "Limits and timeouts"). Every member has a default; a missing `limits`
/// object means all defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Batch bodies one facility may upload at once; one more is answered 503
    /// `TOO_MANY_UPLOADS` (that facility only).
    pub max_uploads_per_facility: usize,
    /// Batch bodies being uploaded at once, all facilities together; one more is 503
    /// `OVERLOADED`. With `max_concurrent_batches` it bounds the memory held by batches.
    pub max_uploads: usize,
    /// Seconds a batch's body may take to arrive once its headers are in; then 408 `TIMEOUT`.
    pub body_timeout_secs: u64,
    /// Seconds an HTTP/1.1 client may take to send a request's headers; then the connection
    /// is closed.
    pub header_timeout_secs: u64,
    /// Seconds a connection may stay open with no request in progress (including one that
    /// never sends a request, and idle HTTP/1.1 keep-alive and HTTP/2 connections); then the
    /// hub closes it (HTTP/2: GOAWAY).
    pub idle_timeout_secs: u64,
    /// Open connections of one facility; one more is closed right after the TLS handshake.
    pub max_connections_per_facility: usize,
    /// Open connections after the TLS handshake, all facilities together; one more is closed
    /// right after the handshake.
    pub max_connections: usize,
    /// TLS handshakes in progress (before the client is known); one more connection is closed
    /// at once. Each handshake has 10 s.
    pub max_handshakes: usize,
}

/// The default of [`Limits::max_uploads_per_facility`].
pub const DEFAULT_MAX_UPLOADS_PER_FACILITY: usize = 4;
/// The default of [`Limits::max_uploads`].
pub const DEFAULT_MAX_UPLOADS: usize = 16;
/// The default of [`Limits::body_timeout_secs`].
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 60;
/// The default of [`Limits::header_timeout_secs`].
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 30;
/// The default of [`Limits::idle_timeout_secs`].
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;
/// The default of [`Limits::max_connections_per_facility`].
pub const DEFAULT_MAX_CONNECTIONS_PER_FACILITY: usize = 16;
/// The default of [`Limits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// The default of [`Limits::max_handshakes`].
pub const DEFAULT_MAX_HANDSHAKES: usize = 64;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_uploads_per_facility: DEFAULT_MAX_UPLOADS_PER_FACILITY,
            max_uploads: DEFAULT_MAX_UPLOADS,
            body_timeout_secs: DEFAULT_BODY_TIMEOUT_SECS,
            header_timeout_secs: DEFAULT_HEADER_TIMEOUT_SECS,
            idle_timeout_secs: DEFAULT_IDLE_TIMEOUT_SECS,
            max_connections_per_facility: DEFAULT_MAX_CONNECTIONS_PER_FACILITY,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_handshakes: DEFAULT_MAX_HANDSHAKES,
        }
    }
}

/// A trust list (DESIGN 3.6) and the health department keys that sign it. Paths are relative
/// to the hub directory unless absolute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustListConfig {
    /// The signed list (JWS).
    pub file: PathBuf,
    /// The trust-list public keys (PEM, DER or JWK); several for rollover.
    pub keys: Vec<PathBuf>,
    /// Refuse lists with a lower sequence number.
    #[serde(default)]
    pub min_sequence: u64,
}

/// The hub compares a record's `sigT` with the time it receives the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AcceptancePolicy {
    /// Records signed longer ago than this are refused (`SIGNING_TIME_REFUSED`): a key stolen
    /// today cannot slip records in dated years back. 90 days by default, so that a hospital
    /// cut off for weeks (an outage, a broken link) still delivers everything it queued.
    pub max_record_age_days: u32,
    /// Records signed further in the future than this are refused (clocks differ a little).
    pub max_clock_skew_seconds: u32,
    /// A trust-list key whose window ended at T still gets records in that the hub receives
    /// until T plus this grace period (a planned rollover leaves queued records time to
    /// arrive); after it, `KEY_RETIRED`. A revoked enrolled key has no grace: its revocation
    /// time is already the chosen one.
    pub retired_key_grace_hours: u32,
}

impl Default for AcceptancePolicy {
    fn default() -> Self {
        AcceptancePolicy { max_record_age_days: 90, max_clock_skew_seconds: 300, retired_key_grace_hours: 72 }
    }
}

fn default_max_concurrent_batches() -> usize {
    DEFAULT_MAX_CONCURRENT_BATCHES
}

impl HubConfig {
    /// The configuration `init` writes for `hostname` and `listen`.
    pub fn new(hostname: &str, listen: SocketAddr) -> HubConfig {
        let host = if hostname.contains(':') { format!("[{hostname}]") } else { hostname.to_owned() };
        HubConfig {
            hostname: hostname.to_owned(),
            listen,
            hub_url: format!("https://{host}:{}", listen.port()),
            max_concurrent_batches: DEFAULT_MAX_CONCURRENT_BATCHES,
            acceptance: AcceptancePolicy::default(),
            trust_list: None,
            limits: Limits::default(),
            escrow_keys: Vec::new(),
        }
    }

    /// Reads `hub.json` from the hub directory.
    pub fn load(paths: &HubPaths) -> Result<HubConfig> {
        let path = paths.config();
        let bytes = files::read(&path, 1 << 20)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::new(format!("{} is not a hub configuration: {e}", path.display())))
    }

    /// The escrow keys' paths, resolved against the hub directory.
    pub fn escrow_key_paths(&self, paths: &HubPaths) -> Vec<PathBuf> {
        self.escrow_keys.iter().map(|p| if p.is_absolute() { p.clone() } else { paths.dir().join(p) }).collect()
    }

    /// Writes `hub.json` into the hub directory.
    pub fn save(&self, paths: &HubPaths) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("a config serializes");
        bytes.push(b'\n');
        files::write_public(&paths.config(), &bytes)
    }
}
