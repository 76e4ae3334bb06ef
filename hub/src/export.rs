//! `hub export`: the audit bundle (docs/AUDIT.md, "Export") of a hub directory, written only
//! through [`medseal_audit::bundle::BundleWriter`] and its path functions, so the format has
//! one home.
//!
//! The hub directory is only read: the database is opened read-only (see
//! [`store::open_read_only`]) in one read transaction, so a running hub's later batches do
//! not mix into the bundle. Entries, tree heads and envelopes are streamed from SQLite cursors
//! to the files one at a time: memory does not grow with the number of records. A bundle is
//! renamed into place only when complete.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use medseal::ledger::LedgerEntry;
use medseal::untrusted::shown;
use medseal::{Envelope, RecipientKey};
use medseal_audit::bundle::{
    self, envelope_path, opened_path, trust_list_path, BundleError, BundleWriter, ClientCertificate, EntryLine, Facility, FacilityKey,
    LedgerCounts, Manifest, Selection,
};

use crate::files::{self, HubPaths};
use crate::store;

/// What to export.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// The hub directory (only read).
    pub hub_dir: PathBuf,
    /// The bundle folder to make; it must not exist.
    pub out: PathBuf,
    /// Only these facilities' entries in full and envelopes (all when empty); the other
    /// entries are written as their leaf hash only.
    pub facilities: Vec<String>,
    /// Only envelopes of records received at or after this time (Unix seconds).
    pub from: Option<i64>,
    /// Only envelopes of records received at or before this time (Unix seconds).
    pub to: Option<i64>,
    /// Also write the signed record inside each exported envelope, opened with the hub's
    /// recipient key (patient data in clear).
    pub opened: bool,
    /// The manifest's `tool`, e.g. `medseal 0.1.0`.
    pub tool: String,
}

impl ExportOptions {
    /// Everything of the hub in `hub_dir`, to `out`.
    pub fn new(hub_dir: impl Into<PathBuf>, out: impl Into<PathBuf>) -> ExportOptions {
        ExportOptions {
            hub_dir: hub_dir.into(),
            out: out.into(),
            facilities: Vec::new(),
            from: None,
            to: None,
            opened: false,
            tool: format!("medseal {}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Why an export failed. Nothing is left at the output then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportError {
    /// A stable code: `BUNDLE_EXISTS` (the output exists), `NOT_A_HUB` (the directory is not
    /// a hub's), `UNKNOWN_FACILITY` (a selected facility is not enrolled), `HUB_CHANGED` (a
    /// hub started on the directory during the export: export again), `EXPORT_FAILED`
    /// (reading the hub or writing the bundle failed).
    pub code: &'static str,
    /// What happened, for people.
    pub message: String,
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ExportError {}

impl From<BundleError> for ExportError {
    fn from(e: BundleError) -> Self {
        let code = if e.code == "BUNDLE_EXISTS" { "BUNDLE_EXISTS" } else { "EXPORT_FAILED" };
        ExportError { code, message: e.message }
    }
}

impl From<crate::Error> for ExportError {
    fn from(e: crate::Error) -> Self {
        failed(e.message())
    }
}

fn failed(message: impl Into<String>) -> ExportError {
    ExportError { code: "EXPORT_FAILED", message: message.into() }
}

/// Where an export is, for a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Ledger entries written of the total.
    Entries { done: u64, total: u64 },
    /// Envelopes written of the total selected.
    Envelopes { done: u64, total: u64 },
}

/// Reported every this many items (and at the end of each part).
const PROGRESS_EVERY: u64 = 1000;

/// The bundle made: where it is and its manifest.
#[derive(Clone, Debug)]
pub struct Exported {
    pub path: PathBuf,
    pub manifest: Manifest,
}

/// Writes the audit bundle of the hub in `options.hub_dir` to `options.out`.
pub fn export(options: &ExportOptions, progress: &mut dyn FnMut(Progress)) -> Result<Exported, ExportError> {
    let paths = HubPaths::new(&options.hub_dir);
    if !paths.database().is_file() || !paths.config().is_file() {
        return Err(ExportError {
            code: "NOT_A_HUB",
            message: format!("{} is not a hub directory (no hub.sqlite and hub.json; `medseal hub init` makes one)", paths.dir().display()),
        });
    }
    if options.out.exists() {
        return Err(ExportError {
            code: "BUNDLE_EXISTS",
            message: format!("{} exists; an export writes a new folder", options.out.display()),
        });
    }
    if options.from.zip(options.to).is_some_and(|(from, to)| from > to) {
        return Err(failed("--from is after --to: no record can be selected"));
    }
    let db = store::open_read_only(&paths.database())?;
    let conn = &db.conn;
    // One read transaction: a consistent state, whatever a running hub commits meanwhile.
    conn.execute_batch("BEGIN").map_err(crate::Error::from)?;
    let history = store::enrolled_history(conn)?;
    let selected: BTreeSet<String> = options.facilities.iter().cloned().collect();
    for facility in &selected {
        if !history.iter().any(|h| &h.facility == facility) {
            return Err(ExportError {
                code: "UNKNOWN_FACILITY",
                message: format!("{} is not enrolled at this hub (facilities: {})", shown(facility), enrolled_names(&history)),
            });
        }
    }
    let recipient = if options.opened {
        let path = paths.recipient_key();
        Some(RecipientKey::import(&files::read(&path, 1 << 16)?).map_err(|e| failed(format!("{}: {}", path.display(), e.message())))?)
    } else {
        None
    };

    let mut writer = BundleWriter::create(&options.out)?;
    for (name, from) in
        [(bundle::TREE_HEAD_KEY, paths.tree_head_pub()), (bundle::RECEIPT_KEY, paths.receipt_pub()), (bundle::HUB_CA, paths.ca_cert())]
    {
        writer.write(name, &files::read(&from, 1 << 20)?)?;
    }
    let mut counts = LedgerCounts::default();

    // The ledger: every entry, in full or as its leaf hash.
    let total = store::ledger_size(conn)?;
    let mut file = writer.file(bundle::ENTRIES)?;
    counts.size = store::each_entry(conn, |index, text| {
        let entry =
            LedgerEntry::from_json(text.as_bytes()).map_err(|e| crate::Error::new(format!("ledger entry {index}: {}", e.message())))?;
        let line = if selected.is_empty() || selected.contains(&entry.source) {
            counts.entries += 1;
            EntryLine::Entry(entry)
        } else {
            counts.redacted += 1;
            EntryLine::Redacted(entry.leaf_hash())
        };
        let mut bytes = line.to_line();
        bytes.push(b'\n');
        file.write_all(&bytes).map_err(|e| crate::Error::new(format!("writing {}: {e}", bundle::ENTRIES)))?;
        if (index + 1) % PROGRESS_EVERY == 0 {
            progress(Progress::Entries { done: index + 1, total });
        }
        Ok(())
    })?;
    writer.close(file)?;
    progress(Progress::Entries { done: counts.size, total: counts.size });

    // Every signed tree head, by increasing size.
    let mut file = writer.file(bundle::TREE_HEADS)?;
    store::each_tree_head(conn, |_, jws| {
        counts.tree_heads += 1;
        writeln!(file, "{jws}").map_err(|e| crate::Error::new(format!("writing {}: {e}", bundle::TREE_HEADS)))
    })?;
    writer.close(file)?;

    // Who was enrolled, with every key and certificate and their revocations.
    let facilities = history.iter().map(facility).collect::<Result<Vec<Facility>, ExportError>>()?;
    let mut json = serde_json::to_vec_pretty(&facilities).expect("JSON");
    json.push(b'\n');
    writer.write(bundle::FACILITIES, &json)?;

    // Every trust list the hub verified records with, and the keys it accepted them from.
    if db.has_trust_lists() {
        store::each_trust_list(conn, |sequence, jws| {
            writer.write(&trust_list_path(sequence), jws).map_err(|e| crate::Error::new(e.to_string()))
        })?;
        for (kid, pem) in store::trust_list_keys(conn)? {
            writer.write(&format!("{}/{kid}.pub", bundle::TRUST_LIST_KEYS), pem.as_bytes())?;
        }
    }

    // The selected envelopes, as received; with --opened, the signed record inside.
    let selection = store::EnvelopeSelection {
        facilities: &selected.iter().cloned().collect::<Vec<_>>(),
        from: options.from.unwrap_or(i64::MIN),
        to: options.to.unwrap_or(i64::MAX),
    };
    let total = store::count_envelopes(conn, &selection)?;
    store::each_envelope(conn, &selection, |index, envelope| {
        writer.write(&envelope_path(index), envelope).map_err(|e| crate::Error::new(e.to_string()))?;
        counts.envelopes += 1;
        if let Some(key) = &recipient {
            let opened = Envelope::from_protobuf(envelope).and_then(|e| e.open(key)).map_err(|e| {
                crate::Error::new(format!("the envelope of ledger entry {index} does not open with the hub's key: {}", e.message()))
            })?;
            writer.write(&opened_path(index), &opened).map_err(|e| crate::Error::new(e.to_string()))?;
            counts.opened += 1;
        }
        if counts.envelopes % PROGRESS_EVERY == 0 {
            progress(Progress::Envelopes { done: counts.envelopes, total });
        }
        Ok(())
    })?;
    progress(Progress::Envelopes { done: counts.envelopes, total: counts.envelopes });

    conn.execute_batch("COMMIT").map_err(crate::Error::from)?;
    if !db.unchanged()? {
        return Err(ExportError {
            code: "HUB_CHANGED",
            message: "a hub started on this directory during the export; export again (a running hub can be exported)".to_owned(),
        });
    }
    let time = |t: Option<i64>| t.map(utc).transpose();
    let manifest = Manifest {
        format: bundle::FORMAT.to_owned(),
        version: bundle::VERSION,
        exported: medseal::utc::now_text(),
        tool: options.tool.clone(),
        selection: Selection {
            facilities: selected.into_iter().collect(),
            from: time(options.from)?,
            to: time(options.to)?,
            opened: options.opened,
        },
        ledger: counts,
        files: Default::default(),
    };
    let path = writer.finish(manifest.clone())?;
    // The manifest as written, with its file digests.
    let manifest = bundle::Bundle::open(&path)?.manifest().clone();
    Ok(Exported { path, manifest })
}

fn enrolled_names(history: &[store::EnrolledHistory]) -> String {
    if history.is_empty() {
        return "none".to_owned();
    }
    history.iter().map(|h| shown(&h.facility).to_string()).collect::<Vec<_>>().join(", ")
}

fn utc(t: i64) -> Result<String, ExportError> {
    medseal::utc::format(t).map_err(|e| failed(e.message()))
}

fn facility(h: &store::EnrolledHistory) -> Result<Facility, ExportError> {
    let optional = |t: Option<i64>| t.map(utc).transpose();
    Ok(Facility {
        facility: h.facility.clone(),
        role: h.role.clone(),
        enrolled: utc(h.enrolled)?,
        keys: h
            .keys
            .iter()
            .map(|k| {
                Ok(FacilityKey {
                    kid: k.id.clone(),
                    public_key: k.pem.clone(),
                    added: utc(k.since)?,
                    revoked: optional(k.revoked)?,
                    revoked_reason: k.revoked.and(k.revoked_reason.clone()),
                })
            })
            .collect::<Result<_, ExportError>>()?,
        client_certificates: h
            .certificates
            .iter()
            .map(|c| {
                Ok(ClientCertificate {
                    fingerprint: c.id.clone(),
                    certificate: c.pem.clone(),
                    issued: utc(c.since)?,
                    revoked: optional(c.revoked)?,
                    revoked_reason: c.revoked.and(c.revoked_reason.clone()),
                })
            })
            .collect::<Result<_, ExportError>>()?,
    })
}
