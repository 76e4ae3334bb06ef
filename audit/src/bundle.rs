//! The audit bundle, format version 1 (docs/AUDIT.md is the normative text; this module is its
//! one home in code: the hub's export writes through [`BundleWriter`], the audit reads through
//! [`Bundle`]).
//!
//! A bundle is a directory of plain, uncompressed files, so an auditor can look inside with
//! ordinary tools and another program can read it without medseal:
//!
//! ```text
//! manifest.json                 what was exported, when, and the SHA-256 of every other file
//!                               except envelopes/ and opened/ (those are pinned by the ledger)
//! hub/tree-head.pub             the hub's tree-head public key (SPKI PEM)
//! hub/receipt.pub               the hub's receipt public key (SPKI PEM)
//! hub/ca.pem                    the hub CA certificate (client certificates chain to it)
//! ledger/entries.jsonl          line i is ledger entry i, exactly as the hub hashed it, or
//!                               {"leaf_hash":"…"} for an entry the export left out
//! ledger/tree-heads.jsonl       every signed tree head (compact JWS), by increasing size
//! facilities.json               every enrolled facility: role, signing keys and client
//!                               certificates, each with its history (added, revoked)
//! trust-lists/SEQUENCE.jws      every trust list the hub verified records with (20 digits)
//! trust-lists/keys/NAME.pub     the keys the hub accepted those lists from
//! envelopes/BBBBB/IIIIIIIIIIII.pb   the envelope of ledger entry I as received (B = I / 10000)
//! opened/BBBBB/IIIIIIIIIIII.jws     with --opened only: the signed record inside it
//! ```

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use medseal::ledger::{Hash, LedgerEntry};
use medseal::untrusted::shown;
use serde::{Deserialize, Serialize};

/// The manifest's `format` member.
pub const FORMAT: &str = "medseal-audit-bundle";
/// The format version this code writes and reads. A reader refuses a version it does not know.
pub const VERSION: u32 = 1;

/// `manifest.json`.
pub const MANIFEST: &str = "manifest.json";
/// The hub's tree-head public key.
pub const TREE_HEAD_KEY: &str = "hub/tree-head.pub";
/// The hub's receipt public key.
pub const RECEIPT_KEY: &str = "hub/receipt.pub";
/// The hub CA certificate.
pub const HUB_CA: &str = "hub/ca.pem";
/// The ledger entries, one per line, in ledger order.
pub const ENTRIES: &str = "ledger/entries.jsonl";
/// The signed tree heads, one compact JWS per line, by increasing tree size.
pub const TREE_HEADS: &str = "ledger/tree-heads.jsonl";
/// The enrolled facilities and their keys.
pub const FACILITIES: &str = "facilities.json";
/// The folder of trust lists.
pub const TRUST_LISTS: &str = "trust-lists";
/// The folder of trust-list public keys.
pub const TRUST_LIST_KEYS: &str = "trust-lists/keys";

/// Envelopes and opened records are spread over folders of this many entries.
pub const PER_FOLDER: u64 = 10_000;

/// The largest line `ledger/entries.jsonl` may hold (an entry is well under 2 KiB).
pub const MAX_ENTRY_LINE: usize = 8 << 10;

/// Where the envelope of ledger entry `index` is, relative to the bundle.
pub fn envelope_path(index: u64) -> String {
    format!("envelopes/{:05}/{index:012}.pb", index / PER_FOLDER)
}

/// Where the opened record of ledger entry `index` is (exports with `--opened` only).
pub fn opened_path(index: u64) -> String {
    format!("opened/{:05}/{index:012}.jws", index / PER_FOLDER)
}

/// Where trust list number `sequence` is.
pub fn trust_list_path(sequence: u64) -> String {
    format!("{TRUST_LISTS}/{sequence:020}.jws")
}

/// `manifest.json`: what the bundle holds and how it was selected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// When the export was made (RFC 3339 UTC). The hub's word: the audit never relies on it.
    pub exported: String,
    /// The program that wrote it, e.g. `medseal 0.1.0`.
    pub tool: String,
    /// What the operator asked for.
    pub selection: Selection,
    /// What the ledger part holds.
    pub ledger: LedgerCounts,
    /// SHA-256 (base64url, no padding) of every file except the manifest, `envelopes/` and
    /// `opened/`, by relative path with `/`: an auditor's copy damaged in transit is told apart
    /// from a hub that lied.
    pub files: BTreeMap<String, String>,
}

/// The export's selection (`hub export --facility --from --to --opened`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// The facilities whose entries and envelopes are included; empty for all.
    pub facilities: Vec<String>,
    /// Envelopes of records received at or after this time only (RFC 3339), if set.
    pub from: Option<String>,
    /// Envelopes of records received at or before this time only (RFC 3339), if set.
    pub to: Option<String>,
    /// Whether the hub opened the records and wrote them in `opened/` (patient data in clear).
    pub opened: bool,
}

/// Counts of the ledger part.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerCounts {
    /// Lines of `ledger/entries.jsonl`: the ledger's size at the export.
    pub size: u64,
    /// Lines that are full entries.
    pub entries: u64,
    /// Lines left out (`{"leaf_hash":…}`) because of the facility selection.
    pub redacted: u64,
    /// Signed tree heads.
    pub tree_heads: u64,
    /// Envelope files.
    pub envelopes: u64,
    /// Opened record files.
    pub opened: u64,
}

/// One enrolled facility (or auditor) in `facilities.json`, with its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facility {
    /// The facility id (the `source` of its records).
    pub facility: String,
    /// `facility` or `auditor`.
    pub role: String,
    /// Its last enrolment (RFC 3339).
    pub enrolled: String,
    /// Its record-signing keys, ever.
    pub keys: Vec<FacilityKey>,
    /// Its TLS client certificates, ever.
    pub client_certificates: Vec<ClientCertificate>,
}

/// A facility's record-signing key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacilityKey {
    /// RFC 7638 thumbprint.
    pub kid: String,
    /// SPKI PEM.
    pub public_key: String,
    /// When the hub started trusting it (RFC 3339).
    pub added: String,
    /// When it stopped (RFC 3339), if revoked.
    pub revoked: Option<String>,
    /// Why, if revoked.
    pub revoked_reason: Option<String>,
}

/// A facility's TLS client certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCertificate {
    /// Hex SHA-256 of the DER certificate.
    pub fingerprint: String,
    /// PEM.
    pub certificate: String,
    /// When it was issued (RFC 3339).
    pub issued: String,
    /// When it stopped being accepted (RFC 3339), if revoked.
    pub revoked: Option<String>,
    /// Why, if revoked.
    pub revoked_reason: Option<String>,
}

/// One line of `ledger/entries.jsonl`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryLine {
    /// A full entry; `leaf_hash` is SHA-256(0x00 || the line's bytes).
    Entry(LedgerEntry),
    /// An entry the export left out: only its leaf hash, so the tree still rebuilds.
    Redacted(Hash),
}

impl EntryLine {
    /// The leaf hash this line contributes to the tree.
    pub fn leaf_hash(&self) -> Hash {
        match self {
            EntryLine::Entry(entry) => entry.leaf_hash(),
            EntryLine::Redacted(hash) => *hash,
        }
    }

    /// The line as written (without the newline).
    pub fn to_line(&self) -> Vec<u8> {
        match self {
            EntryLine::Entry(entry) => entry.to_json(),
            EntryLine::Redacted(hash) => format!("{{\"leaf_hash\":\"{}\"}}", medseal::ledger::encode_hash(hash)).into_bytes(),
        }
    }

    /// Reads one line: a canonical ledger entry, or exactly `{"leaf_hash":"BASE64URL"}`.
    pub fn parse(line: &[u8]) -> std::result::Result<EntryLine, String> {
        if let Some(rest) = line.strip_prefix(b"{\"leaf_hash\":\"") {
            let text = rest.strip_suffix(b"\"}").ok_or("a redacted entry is exactly {\"leaf_hash\":\"BASE64URL\"}")?;
            let text = std::str::from_utf8(text).map_err(|_| "the leaf hash is not text".to_owned())?;
            let hash = medseal::ledger::decode_hash(text).map_err(|e| e.message().to_owned())?;
            return Ok(EntryLine::Redacted(hash));
        }
        LedgerEntry::from_json(line).map(EntryLine::Entry).map_err(|e| e.message().to_owned())
    }
}

/// Why a bundle could not be read or written. Reading errors mean the audit could not run (the
/// CLI's exit code 3); what the audit finds in a readable bundle is a finding, not an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleError {
    /// A stable code: `BUNDLE_UNREADABLE` (I/O), `BUNDLE_INVALID` (not a version-1 bundle),
    /// `BUNDLE_EXISTS` (the export's output exists); for the auditor's other inputs (`--tree-head`
    /// files, `--outbox` files): `INPUT_UNREADABLE` (I/O) and `INPUT_INVALID` (not what it
    /// should be).
    pub code: &'static str,
    /// What happened, for people.
    pub message: String,
}

impl std::fmt::Display for BundleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for BundleError {}

/// Results of this module.
pub type Result<T> = std::result::Result<T, BundleError>;

fn unreadable(path: &Path, error: io::Error) -> BundleError {
    BundleError { code: "BUNDLE_UNREADABLE", message: format!("{}: {error}", path.display()) }
}

fn invalid(message: impl Into<String>) -> BundleError {
    BundleError { code: "BUNDLE_INVALID", message: message.into() }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 as the manifest writes it: base64url without padding.
pub fn digest_text(bytes: &[u8]) -> String {
    b64(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

/// SHA-256 of a file, streamed, as [`digest_text`] writes it.
pub fn file_digest(path: &Path) -> Result<String> {
    let mut file = open_regular(path).map_err(|e| unreadable(path, e))?;
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        let n = file.read(&mut buffer).map_err(|e| unreadable(path, e))?;
        if n == 0 {
            break;
        }
        context.update(&buffer[..n]);
    }
    Ok(b64(context.finish().as_ref()))
}

/// A bundle opened for reading. Nothing here is trusted: every accessor returns what the files
/// say, and the audit checks it.
#[derive(Debug)]
pub struct Bundle {
    dir: PathBuf,
    manifest: Manifest,
}

impl Bundle {
    /// Opens the bundle in `dir`: its manifest must be a version-1 manifest (`BUNDLE_INVALID`
    /// otherwise: a newer format is refused, not half-read).
    pub fn open(dir: &Path) -> Result<Bundle> {
        let path = dir.join(MANIFEST);
        let bytes = read_limited(&path, 256 << 20)?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| invalid(format!("{MANIFEST} is not JSON: {e}")))?;
        match (value.get("format").and_then(|v| v.as_str()), value.get("version").and_then(|v| v.as_u64())) {
            (Some(FORMAT), Some(v)) if v == u64::from(VERSION) => {}
            (Some(FORMAT), Some(v)) => {
                return Err(invalid(format!("{MANIFEST}: format version {v}; this medseal reads version {VERSION}")))
            }
            _ => return Err(invalid(format!("{MANIFEST} is not the manifest of a medseal audit bundle (\"format\": \"{FORMAT}\")"))),
        }
        let manifest: Manifest = serde_json::from_value(value).map_err(|e| invalid(format!("{MANIFEST}: {e}")))?;
        for name in manifest.files.keys() {
            check_relative(name)?;
        }
        Ok(Bundle { dir: dir.to_owned(), manifest })
    }

    /// The bundle's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The absolute path of a file of the bundle.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    /// Files whose SHA-256 is not the one the manifest gives, or that are missing: each is
    /// `(path, what is wrong)`. An empty list means the copy is the one exported.
    pub fn check_files(&self) -> Vec<(String, String)> {
        let mut wrong = Vec::new();
        for (name, expected) in &self.manifest.files {
            match file_digest(&self.path(name)) {
                Ok(actual) if &actual == expected => {}
                Ok(actual) => wrong.push((name.clone(), format!("SHA-256 {actual}, the manifest says {expected}"))),
                Err(e) => wrong.push((name.clone(), e.message)),
            }
        }
        wrong
    }

    /// The ledger entries, streamed in order: `(index, line)`. A line that is not an entry is
    /// returned as `Err` with its index in the message; reading stops at an I/O error.
    pub fn entries(&self) -> Result<Entries> {
        let path = self.path(ENTRIES);
        let file = open_regular(&path).map_err(|e| unreadable(&path, e))?;
        Ok(Entries { reader: BufReader::with_capacity(256 << 10, file), path, index: 0, line: Vec::new() })
    }

    /// The signed tree heads, as the file lists them (compact JWS text).
    pub fn tree_heads(&self) -> Result<Vec<String>> {
        let text = read_text(&self.path(TREE_HEADS), 1 << 30)?;
        Ok(text.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect())
    }

    /// The envelope of entry `index`, or `None` when the bundle has none for it.
    pub fn envelope(&self, index: u64) -> Result<Option<Vec<u8>>> {
        read_optional(&self.path(&envelope_path(index)), medseal::seal::MAX_ENVELOPE_BYTES as u64 + 1)
    }

    /// The opened record of entry `index`, or `None`.
    pub fn opened(&self, index: u64) -> Result<Option<Vec<u8>>> {
        read_optional(&self.path(&opened_path(index)), 256 << 20)
    }

    /// `facilities.json`.
    pub fn facilities(&self) -> Result<Vec<Facility>> {
        let bytes = read_limited(&self.path(FACILITIES), 256 << 20)?;
        serde_json::from_slice(&bytes).map_err(|e| invalid(format!("{FACILITIES}: {e}")))
    }

    /// The hub's tree-head public key file's bytes.
    pub fn tree_head_key(&self) -> Result<Vec<u8>> {
        read_limited(&self.path(TREE_HEAD_KEY), 1 << 20)
    }

    /// The hub's receipt public key file's bytes.
    pub fn receipt_key(&self) -> Result<Vec<u8>> {
        read_limited(&self.path(RECEIPT_KEY), 1 << 20)
    }

    /// Every trust list, `(file name, bytes)`, by sequence.
    pub fn trust_lists(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.folder(TRUST_LISTS, ".jws")
    }

    /// Every trust-list public key, `(file name, bytes)`.
    pub fn trust_list_keys(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.folder(TRUST_LIST_KEYS, ".pub")
    }

    fn folder(&self, folder: &str, suffix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let path = self.path(folder);
        let listing = match fs::read_dir(&path) {
            Ok(listing) => listing,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(unreadable(&path, e)),
        };
        let mut names = Vec::new();
        for item in listing {
            let item = item.map_err(|e| unreadable(&path, e))?;
            let name = item.file_name().to_string_lossy().into_owned();
            if name.ends_with(suffix) && item.file_type().map_err(|e| unreadable(&path, e))?.is_file() {
                names.push(name);
            }
        }
        names.sort();
        names.into_iter().map(|name| Ok((name.clone(), read_limited(&path.join(&name), 64 << 20)?))).collect()
    }
}

/// The lines of `ledger/entries.jsonl`, read one at a time (memory does not grow with the
/// ledger).
pub struct Entries {
    reader: BufReader<File>,
    path: PathBuf,
    index: u64,
    line: Vec<u8>,
}

impl Entries {
    /// The bytes of the line last returned, without its newline: what the hub hashed for that
    /// leaf (also for a line that is not an entry, so the tree still rebuilds as the hub's).
    pub fn raw_line(&self) -> &[u8] {
        self.line.strip_suffix(b"\n").unwrap_or(&self.line)
    }
}

impl Iterator for Entries {
    type Item = Result<(u64, std::result::Result<EntryLine, String>)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.line.clear();
        let limit = (MAX_ENTRY_LINE + 1) as u64;
        match (&mut self.reader).take(limit).read_until(b'\n', &mut self.line) {
            Err(e) => return Some(Err(unreadable(&self.path, e))),
            Ok(0) => return None,
            Ok(_) => {}
        }
        let index = self.index;
        self.index += 1;
        let line = match self.line.strip_suffix(b"\n") {
            Some(line) => line,
            None if self.line.len() > MAX_ENTRY_LINE => {
                return Some(Err(invalid(format!("{ENTRIES}: line {} is longer than {MAX_ENTRY_LINE} bytes", index + 1))))
            }
            None => &self.line,
        };
        Some(Ok((index, EntryLine::parse(line))))
    }
}

fn check_relative(name: &str) -> Result<()> {
    let bad = name.is_empty()
        || name.starts_with('/')
        || name.split('/').any(|part| part.is_empty() || part == "." || part == "..")
        || name.contains('\\');
    if bad {
        return Err(invalid(format!("{MANIFEST} names the file {}, which is not a plain path inside the bundle", shown(name))));
    }
    Ok(())
}

/// Opens a file of the bundle for reading only if it is a regular file, not followed through a
/// symbolic link: a bundle naming `/dev/zero` or a FIFO must not hang the audit, nor a link
/// read a file outside the bundle.
fn open_regular(path: &Path) -> io::Result<File> {
    let kind = fs::symlink_metadata(path)?.file_type();
    if !kind.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file (a link, folder, device or pipe)"));
    }
    File::open(path)
}

fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>> {
    match read_optional(path, max)? {
        Some(bytes) => Ok(bytes),
        None => Err(BundleError { code: "BUNDLE_UNREADABLE", message: format!("{}: no such file", path.display()) }),
    }
}

fn read_text(path: &Path, max: u64) -> Result<String> {
    String::from_utf8(read_limited(path, max)?).map_err(|_| invalid(format!("{} is not UTF-8 text", path.display())))
}

fn read_optional(path: &Path, max: u64) -> Result<Option<Vec<u8>>> {
    let file = match open_regular(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(path, e)),
    };
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(|e| unreadable(path, e))?;
    if bytes.len() as u64 > max {
        return Err(invalid(format!("{} is larger than {max} bytes", path.display())));
    }
    Ok(Some(bytes))
}

/// Writes a bundle: everything goes to a temporary folder next to the output, which is renamed
/// into place only when complete, so an interrupted export leaves no half bundle behind.
pub struct BundleWriter {
    out: PathBuf,
    tmp: PathBuf,
    files: BTreeMap<String, String>,
    finished: bool,
}

impl BundleWriter {
    /// Starts a bundle at `out`, which must not exist (`BUNDLE_EXISTS`): an export never
    /// overwrites or mixes with an earlier one.
    pub fn create(out: &Path) -> Result<BundleWriter> {
        if out.exists() {
            return Err(BundleError { code: "BUNDLE_EXISTS", message: format!("{} exists; an export writes a new folder", out.display()) });
        }
        let name = out.file_name().ok_or_else(|| invalid(format!("{} is not a folder name", out.display())))?;
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let tmp = parent.join(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| unreadable(&tmp, e))?;
        }
        fs::create_dir_all(&tmp).map_err(|e| unreadable(&tmp, e))?;
        Ok(BundleWriter { out: out.to_owned(), tmp, files: BTreeMap::new(), finished: false })
    }

    /// Writes one file whole. Files outside `envelopes/` and `opened/` get their SHA-256 in
    /// the manifest.
    pub fn write(&mut self, relative: &str, bytes: &[u8]) -> Result<()> {
        let mut file = self.file(relative)?;
        file.write_all(bytes).map_err(|e| unreadable(&self.tmp.join(relative), e))?;
        self.close(file)
    }

    /// Opens one file for streaming writes; hand it back to [`BundleWriter::close`].
    pub fn file(&mut self, relative: &str) -> Result<BundleFile> {
        check_relative(relative)?;
        let path = self.tmp.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| unreadable(parent, e))?;
        }
        let file = File::create(&path).map_err(|e| unreadable(&path, e))?;
        let pinned = !(relative.starts_with("envelopes/") || relative.starts_with("opened/"));
        Ok(BundleFile {
            relative: relative.to_owned(),
            writer: BufWriter::with_capacity(256 << 10, file),
            digest: pinned.then(|| ring::digest::Context::new(&ring::digest::SHA256)),
        })
    }

    /// Flushes and syncs a file opened with [`BundleWriter::file`] and records its digest.
    pub fn close(&mut self, file: BundleFile) -> Result<()> {
        let path = self.tmp.join(&file.relative);
        let inner = file.writer.into_inner().map_err(|e| unreadable(&path, e.into_error()))?;
        inner.sync_all().map_err(|e| unreadable(&path, e))?;
        if let Some(digest) = file.digest {
            self.files.insert(file.relative, b64(digest.finish().as_ref()));
        }
        Ok(())
    }

    /// Writes the manifest (its `files` filled in here) and moves the bundle into place.
    pub fn finish(mut self, mut manifest: Manifest) -> Result<PathBuf> {
        manifest.files = std::mem::take(&mut self.files);
        let mut text = serde_json::to_vec_pretty(&manifest).map_err(|e| invalid(format!("the manifest: {e}")))?;
        text.push(b'\n');
        let path = self.tmp.join(MANIFEST);
        fs::write(&path, &text).map_err(|e| unreadable(&path, e))?;
        File::open(&path).and_then(|f| f.sync_all()).map_err(|e| unreadable(&path, e))?;
        fs::rename(&self.tmp, &self.out).map_err(|e| unreadable(&self.out, e))?;
        self.finished = true;
        Ok(self.out.clone())
    }
}

impl Drop for BundleWriter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// A file being written into a bundle.
pub struct BundleFile {
    relative: String,
    writer: BufWriter<File>,
    digest: Option<ring::digest::Context>,
}

impl Write for BundleFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = self.writer.write(bytes)?;
        if let Some(digest) = &mut self.digest {
            digest.update(&bytes[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sequence: u64) -> LedgerEntry {
        LedgerEntry {
            record_id: format!("r{sequence}"),
            source: "79001".into(),
            sequence,
            digest: [7; 32],
            received: 1_700_000_000,
            withdrawn: None,
        }
    }

    #[test]
    fn a_bundle_reads_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("bundle");
        let mut writer = BundleWriter::create(&out).unwrap();
        let mut file = writer.file(ENTRIES).unwrap();
        for line in [EntryLine::Entry(entry(1)), EntryLine::Redacted([9; 32]), EntryLine::Entry(entry(2))] {
            file.write_all(&line.to_line()).unwrap();
            file.write_all(b"\n").unwrap();
        }
        writer.close(file).unwrap();
        writer.write(&envelope_path(2), b"envelope").unwrap();
        let manifest = Manifest {
            format: FORMAT.into(),
            version: VERSION,
            exported: "2026-12-05T00:00:00Z".into(),
            tool: "test".into(),
            selection: Selection::default(),
            ledger: LedgerCounts::default(),
            files: BTreeMap::new(),
        };
        writer.finish(manifest).unwrap();

        let bundle = Bundle::open(&out).unwrap();
        assert_eq!(
            bundle.manifest().files.keys().collect::<Vec<_>>(),
            vec![ENTRIES],
            "envelopes are pinned by the ledger, not the manifest"
        );
        assert!(bundle.check_files().is_empty());
        let lines: Vec<_> = bundle.entries().unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1], (1, Ok(EntryLine::Redacted([9; 32]))));
        assert_eq!(lines[2].1.as_ref().unwrap().leaf_hash(), entry(2).leaf_hash());
        assert_eq!(bundle.envelope(2).unwrap().as_deref(), Some(&b"envelope"[..]));
        assert_eq!(bundle.envelope(1).unwrap(), None);

        fs::write(out.join(ENTRIES), b"changed\n").unwrap();
        assert_eq!(bundle.check_files().len(), 1, "a changed file is told apart");

        // Links, devices and pipes are not read (a hub naming /dev/zero or a FIFO must not hang
        // the audit): each is a finding or a refusal, at once.
        let fifo = out.join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        for (target, what) in
            [(Path::new("/dev/zero"), "a device"), (fifo.as_path(), "a pipe"), (Path::new("/etc/hostname"), "a file outside")]
        {
            fs::remove_file(out.join(ENTRIES)).unwrap();
            std::os::unix::fs::symlink(target, out.join(ENTRIES)).unwrap();
            let wrong = bundle.check_files();
            assert!(wrong.len() == 1 && wrong[0].1.contains("not a regular file"), "{what}: {wrong:?}");
            assert_eq!(bundle.entries().err().map(|e| e.code), Some("BUNDLE_UNREADABLE"), "{what}");
        }
        fs::remove_file(out.join(envelope_path(2))).unwrap();
        std::os::unix::fs::symlink(&fifo, out.join(envelope_path(2))).unwrap();
        assert!(bundle.envelope(2).is_err(), "an envelope that is a pipe is refused, not waited on");
    }

    #[test]
    fn an_export_never_overwrites_and_leaves_nothing_when_abandoned() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("bundle");
        fs::create_dir(&out).unwrap();
        assert_eq!(BundleWriter::create(&out).err().unwrap().code, "BUNDLE_EXISTS");
        let other = dir.path().join("other");
        let mut writer = BundleWriter::create(&other).unwrap();
        writer.write(ENTRIES, b"").unwrap();
        drop(writer);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "only the folder made by the test is left");
    }

    #[test]
    fn other_formats_and_paths_outside_the_bundle_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(MANIFEST), br#"{"format":"medseal-audit-bundle","version":2}"#).unwrap();
        assert!(Bundle::open(dir.path()).unwrap_err().message.contains("version 2"));
        fs::write(dir.path().join(MANIFEST), br#"{"format":"other"}"#).unwrap();
        assert_eq!(Bundle::open(dir.path()).unwrap_err().code, "BUNDLE_INVALID");
        let manifest = r#"{"format":"medseal-audit-bundle","version":1,"exported":"x","tool":"t","selection":{"facilities":[],"from":null,"to":null,"opened":false},"ledger":{"size":0,"entries":0,"redacted":0,"tree_heads":0,"envelopes":0,"opened":0},"files":{"../etc/passwd":"x"}}"#;
        fs::write(dir.path().join(MANIFEST), manifest).unwrap();
        assert!(Bundle::open(dir.path()).unwrap_err().message.contains("not a plain path"));
    }

    #[test]
    fn redacted_lines_are_exact() {
        assert!(EntryLine::parse(br#"{"leaf_hash":"AAAA"}"#).is_err());
        assert!(EntryLine::parse(br#"{"leaf_hash":"AAAA","x":1}"#).is_err());
        let line = EntryLine::Redacted([1; 32]).to_line();
        assert_eq!(EntryLine::parse(&line), Ok(EntryLine::Redacted([1; 32])));
    }
}
