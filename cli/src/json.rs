//! `--json` output, written the same way by every command (docs/CLI_JSON.md): one compact JSON
//! value per line with members in sorted order (RFC 8785 for the integers and strings the CLI
//! writes), snake_case member names, times as RFC 3339 UTC, and errors as
//! `{"code": "MEDSEAL_…", "message": …}` on standard output with the exit code of the text mode.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use crate::{io, Failure};

/// Whether the running command was asked for `--json`: then `main` writes its failure as a
/// JSON error object instead of the `medseal: error: …` line.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Called by a command at its start with its `--json` flag.
pub fn enable(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// One value and a newline. serde_json's map keeps members sorted and writes no blanks.
pub fn line(value: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec(value).expect("a JSON value serializes");
    out.push(b'\n');
    out
}

/// Writes one value as a line on standard output.
pub fn print(value: &Value) -> Result<(), Failure> {
    io::write_stdout(&line(value))
}

/// A time (Unix seconds) as RFC 3339 UTC with whole seconds; a time outside years 0000-9999
/// (never written by medseal) as its number of seconds.
pub fn time(unix_seconds: i64) -> Value {
    match medseal::utc::format(unix_seconds) {
        Ok(text) => Value::String(text),
        Err(_) => Value::from(unix_seconds),
    }
}

/// An optional time: `null` when absent.
pub fn time_or_null(unix_seconds: Option<i64>) -> Value {
    unix_seconds.map_or(Value::Null, time)
}

/// The members of an error: `code` (a `MEDSEAL_…` name) and `message` (without the code).
pub fn error_members(e: &medseal::Error) -> serde_json::Map<String, Value> {
    let mut members = serde_json::Map::new();
    members.insert("code".into(), Value::from(e.code().name()));
    members.insert("message".into(), Value::from(e.message()));
    members
}

/// A failure as the error object `main` prints with `--json`. Failures without a medseal
/// code (files, standard output) are `MEDSEAL_SYSTEM_ERROR`.
pub fn failure(failure: &Failure) -> Option<Value> {
    match failure {
        Failure::Medseal(e) | Failure::Invalid(e) => Some(Value::Object(error_members(e))),
        Failure::Other(message) => Some(serde_json::json!({ "code": "MEDSEAL_SYSTEM_ERROR", "message": message })),
        Failure::BrokenPipe | Failure::Reported | Failure::Exit(..) => None,
    }
}

/// base64url without padding (RFC 4648 section 5), as digests and hashes are written everywhere.
pub fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
