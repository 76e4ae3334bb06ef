//! The hub directory's files: fixed names, private keys owner-only, writes atomic.

use std::fs::{self, OpenOptions};
use std::io::Write;
#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{io_error, Error, Result};

/// Where everything of one hub lives.
#[derive(Clone, Debug)]
pub struct HubPaths {
    dir: PathBuf,
}

impl HubPaths {
    /// The paths inside `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> HubPaths {
        HubPaths { dir: dir.into() }
    }

    /// The hub directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `hub.json`: the hub's configuration.
    pub fn config(&self) -> PathBuf {
        self.dir.join("hub.json")
    }

    /// `hub.sqlite`: records, ledger, tree heads, enrolled facilities.
    pub fn database(&self) -> PathBuf {
        self.dir.join("hub.sqlite")
    }

    /// `ca.pem`: the hub CA certificate (client certificates must chain to it).
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// `ca.key`: the hub CA's private key (P-256, PKCS#8 PEM).
    pub fn ca_key(&self) -> PathBuf {
        self.dir.join("ca.key")
    }

    /// `server.pem`: the server certificate followed by the CA certificate.
    pub fn server_cert(&self) -> PathBuf {
        self.dir.join("server.pem")
    }

    /// `server.key`: the server certificate's private key.
    pub fn server_key(&self) -> PathBuf {
        self.dir.join("server.key")
    }

    /// `receipt.key`: the receipt signing key.
    pub fn receipt_key(&self) -> PathBuf {
        self.dir.join("receipt.key")
    }

    /// `receipt.pub`: its public key (SPKI PEM).
    pub fn receipt_pub(&self) -> PathBuf {
        self.dir.join("receipt.pub")
    }

    /// `tree-head.key`: the tree-head signing key.
    pub fn tree_head_key(&self) -> PathBuf {
        self.dir.join("tree-head.key")
    }

    /// `tree-head.pub`: its public key (SPKI PEM).
    pub fn tree_head_pub(&self) -> PathBuf {
        self.dir.join("tree-head.pub")
    }

    /// `recipient.key`: the hub's X25519 key that envelopes are sealed to.
    pub fn recipient_key(&self) -> PathBuf {
        self.dir.join("recipient.key")
    }

    /// `recipient.pub`: its public key (SPKI PEM), what facilities seal to.
    pub fn recipient_pub(&self) -> PathBuf {
        self.dir.join("recipient.pub")
    }

    /// Every file `init` writes, in the order it writes them.
    pub fn all(&self) -> Vec<PathBuf> {
        vec![
            self.ca_cert(),
            self.ca_key(),
            self.server_cert(),
            self.server_key(),
            self.receipt_key(),
            self.receipt_pub(),
            self.tree_head_key(),
            self.tree_head_pub(),
            self.recipient_key(),
            self.recipient_pub(),
            self.database(),
            self.config(),
        ]
    }
}

/// Reads a file of at most `limit` bytes (keys, certificates, configuration are small).
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let meta = fs::metadata(path).map_err(|e| io_error("read", path, &e))?;
    if meta.len() > limit {
        return Err(Error::new(format!("{} is {} bytes, more than the {limit} expected", path.display(), meta.len())));
    }
    fs::read(path).map_err(|e| io_error("read", path, &e))
}

/// Whether `dir` exists and holds anything.
pub fn non_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir).map(|mut entries| entries.next().is_some()).unwrap_or(false)
}

/// Creates `dir` (and its parents), owner-only on Unix when it is new.
pub fn create_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| io_error("create", dir, &e))
}

/// Writes a private file (mode 0600).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, bytes, 0o600)
}

/// Writes a public file (mode 0644).
pub fn write_public(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, bytes, 0o644)
}

/// Writes `bytes` to a fresh temporary file next to `path`, flushes it to disk, then renames
/// it over `path`: a crash never leaves a truncated key or certificate behind.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| Error::new(format!("{} does not name a file", path.display())))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".tmp{}", std::process::id()));
    let temp = dir.join(temp_name);
    let _ = fs::remove_file(&temp);
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(mode);
        #[cfg(not(unix))]
        let _ = mode;
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(io_error("write", path, &e));
    }
    // The rename is durable once the directory is synced (best effort: not every system allows it).
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
