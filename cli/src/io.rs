//! Files and streams: inputs read with messages that name the file, stdout that tolerates a
//! closed pipe, and the atomic owner-only write that private keys need.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
#[cfg(unix)]
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::Failure;

/// Whether an input means standard input: no file given, or `-`.
pub fn is_stdin(path: Option<&Path>) -> bool {
    path.is_none() || path == Some(Path::new("-"))
}

/// The name an input goes by in messages.
pub fn name(path: Option<&Path>) -> String {
    match path {
        Some(p) if !is_stdin(Some(p)) => p.display().to_string(),
        _ => "standard input".to_owned(),
    }
}

/// Reads at most `limit` bytes of an input. Callers pass one byte more than they accept, so
/// an oversized input is detected without reading all of a hostile stream.
pub fn read_input(path: Option<&Path>, limit: u64) -> Result<Vec<u8>, Failure> {
    let cannot = |e: io::Error| Failure::Other(format!("cannot read {}: {}", name(path), reason(&e)));
    let mut bytes = Vec::new();
    match path {
        Some(p) if !is_stdin(path) => {
            File::open(p).and_then(|f| f.take(limit).read_to_end(&mut bytes)).map_err(cannot)?;
        }
        _ => {
            io::stdin().lock().take(limit).read_to_end(&mut bytes).map_err(cannot)?;
        }
    }
    Ok(bytes)
}

/// Writes everything to stdout. A reader that went away (`| head`) ends the command quietly.
pub fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).map_err(|e| match e.kind() {
        io::ErrorKind::BrokenPipe => Failure::BrokenPipe,
        _ => Failure::Other(format!("cannot write to standard output: {}", reason(&e))),
    })
}

/// An I/O error without Rust's " (os error N)" suffix, which says nothing to a user.
pub fn reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_owned(),
        _ => text,
    }
}

/// Writes `bytes` to `path` as an owner-only (0600) file, atomically: the bytes go to a fresh
/// temporary file in the same directory, are flushed to disk, and only then take the final
/// name, so a crash or a full disk never leaves a truncated key behind. Without `force` an
/// existing `path` is never replaced, not even one created while the key was being written.
pub fn write_private_file(path: &Path, bytes: &[u8], force: bool) -> Result<(), Failure> {
    let shown = path.display();
    if !force && fs::symlink_metadata(path).is_ok() {
        return Err(Failure::Other(format!("{shown} already exists; use --force to replace it")));
    }
    let Some(file_name) = path.file_name() else {
        return Err(Failure::Other(format!("{shown} does not name a file")));
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let cannot = |e: io::Error| Failure::Other(format!("cannot write {shown}: {}", reason(&e)));
    let (temp_path, mut file) = create_temp(dir, file_name).map_err(cannot)?;
    let mut temp = TempFile(Some(temp_path));
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(cannot)?;
    drop(file);
    let temp_path = temp.path().to_path_buf();
    if force {
        fs::rename(&temp_path, path).map_err(cannot)?;
        temp.keep();
    } else {
        // link(2) refuses an existing target atomically, which rename(2) cannot.
        match fs::hard_link(&temp_path, path) {
            Ok(()) => {} // the temporary name is removed on drop
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Failure::Other(format!("{shown} already exists; use --force to replace it")));
            }
            Err(_) => {
                // File systems without hard links: check, then rename (a narrow race remains).
                if fs::symlink_metadata(path).is_ok() {
                    return Err(Failure::Other(format!("{shown} already exists; use --force to replace it")));
                }
                fs::rename(&temp_path, path).map_err(cannot)?;
                temp.keep();
            }
        }
    }
    // Make the new name itself durable. Best effort: some file systems cannot sync a directory,
    // and the key is already complete under its name.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Creates a new, owner-only temporary file next to where the key will live.
fn create_temp(dir: &Path, file_name: &std::ffi::OsStr) -> io::Result<(PathBuf, File)> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let mut last_error = None;
    for attempt in 0..16u32 {
        let mut temp_name = OsString::from(".");
        temp_name.push(file_name);
        temp_name.push(format!(".{}-{}.tmp", std::process::id(), nanos.wrapping_add(attempt)));
        let temp_path = dir.join(temp_name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        match options.open(&temp_path) {
            Ok(file) => {
                // The umask may have narrowed the mode; owner read-write is what is wanted.
                #[cfg(unix)]
                if let Err(e) = file.set_permissions(fs::Permissions::from_mode(0o600)) {
                    let _ = fs::remove_file(&temp_path);
                    return Err(e);
                }
                return Ok((temp_path, file));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

/// A temporary file removed on drop unless kept, so failures leave nothing behind.
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn path(&self) -> &Path {
        self.0.as_deref().expect("not yet kept")
    }

    fn keep(&mut self) {
        self.0 = None;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

/// Left-aligned columns two spaces apart; the last column is not padded, and no line ends in
/// blanks.
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if c + 1 < columns {
                out.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        let trimmed = out.trim_end_matches(' ').len();
        out.truncate(trimmed);
        out.push('\n');
    }
    out
}

/// Writes `bytes` to `path` whole or not at all: a temporary file beside it, synced, then
/// renamed over it (a report or export is never left half written).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path.file_name().ok_or_else(|| format!("{} is not a file name", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let written = std::fs::File::create(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    let result = written.and_then(|()| std::fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {}", path.display(), reason(&e))
    })
}
