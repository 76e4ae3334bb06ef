//! The hub's error: a message for the operator. Library errors keep their medseal code name.

use std::fmt;

/// Why a hub operation failed (setup, start, storage). Per-record refusals are not errors:
/// they are `REJECTED` results with a stable code (see [`crate::submit::Code`]).
#[derive(Debug)]
pub struct Error {
    message: String,
}

/// The hub's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with `message`.
    pub fn new(message: impl Into<String>) -> Error {
        Error { message: message.into() }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefixes the message with what was being done.
    pub fn context(self, what: impl fmt::Display) -> Error {
        Error { message: format!("{what}: {}", self.message) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<medseal::Error> for Error {
    fn from(e: medseal::Error) -> Self {
        // medseal's Display is "<message> (<CODE>)".
        Error::new(e.to_string())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::new(format!("database: {e}"))
    }
}

impl From<rcgen::Error> for Error {
    fn from(e: rcgen::Error) -> Self {
        Error::new(format!("certificate: {e}"))
    }
}

impl From<rustls::Error> for Error {
    fn from(e: rustls::Error) -> Self {
        Error::new(format!("TLS: {e}"))
    }
}

/// An I/O error about `path`, without Rust's " (os error N)" suffix.
pub fn io_error(what: &str, path: &std::path::Path, e: &std::io::Error) -> Error {
    let text = e.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_owned(),
        _ => text,
    };
    Error::new(format!("cannot {what} {}: {text}", path.display()))
}
