//! medseal-hub: the reference hub for medseal submissions (DESIGN 3.4-3.5,
//! docs/SUBMISSION.md; API in hub/openapi.yaml).
//!
//! HTTPS with mutual TLS (client certificates from the hub's CA; the facility is the
//! certificate's subject CN), `POST /v1/records` batches checked record by record (digest,
//! envelope, source, decryption with the hub's X25519 key, the facility's signature), stored in
//! SQLite with their RFC 9162 ledger entries in one transaction, answered with receipts and
//! inclusion proofs against signed tree heads. [`pki`] sets up a pilot: the hub's CA, keys and
//! database (`init`), and facilities (`enroll`).
//!
//! ```no_run
//! let hub = medseal_hub::start(std::path::Path::new("hub"), "127.0.0.1:0".parse().unwrap())?;
//! println!("listening on {}", hub.url());
//! hub.shutdown()?;
//! # Ok::<(), medseal_hub::Error>(())
//! ```

pub mod audit;
pub mod config;
mod error;
pub mod export;
pub mod files;
pub mod http;
pub mod hub;
pub mod json;
pub mod limits;
pub mod pki;
mod server;
mod store;

pub use audit::{audit, Audit, SourceSummary};
pub use config::{AcceptancePolicy, HubConfig};
pub use error::{Error, Result};
pub use export::{export, ExportError, ExportOptions, Exported};
pub use hub::{Code, Hub};
pub use pki::{enroll, facility_init, init, revoke, EnrollOptions, Enrolled, FacilityInitOptions, InitOptions, Revocable, TlsTokenKey};
pub use server::{start, tls_config, wait_for_shutdown_signal, HubHandle};
