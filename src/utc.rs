//! Time as medseal reads and writes it: Unix seconds inside, RFC 3339 UTC text outside.
//!
//! Every time medseal writes (a JWS `sigT`, an envelope's `created`, receipts, tree heads,
//! ledger entries, trust lists, outbox timestamps) is UTC with whole seconds,
//! `YYYY-MM-DDThh:mm:ssZ`, so one instant has one spelling and times compare as text. The
//! system clock is read here, and only here ([`now`]); signing reads its time through a
//! [`Clock`](crate::jws::Clock), which defaults to this one.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::{err, Result};

/// The system clock, Unix seconds (UTC). A clock set before 1970 reads as 0.
pub fn now() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// How long from now until Unix time `at` (zero if it is past), to the clock's precision.
pub fn until(at: i64) -> std::time::Duration {
    let target = std::time::UNIX_EPOCH + std::time::Duration::from_secs(at.max(0).unsigned_abs());
    target.duration_since(std::time::SystemTime::now()).unwrap_or(std::time::Duration::ZERO)
}

/// The system clock as RFC 3339 UTC text, e.g. `2026-01-31T08:00:00Z`.
pub fn now_text() -> String {
    format(now()).expect("the system clock is within years 1970 to 9999")
}

/// Writes Unix seconds as RFC 3339 UTC with whole seconds, `YYYY-MM-DDThh:mm:ssZ`. Times
/// outside years 0000 to 9999 (RFC 3339 has four-digit years) are `MEDSEAL_INVALID_ARGUMENT`.
pub fn format(unix_seconds: i64) -> Result<String> {
    let out_of_range = || err!(MEDSEAL_INVALID_ARGUMENT, "the time {unix_seconds} (Unix seconds) is not between years 0000 and 9999");
    let time = OffsetDateTime::from_unix_timestamp(unix_seconds).map_err(|_| out_of_range())?;
    if !(0..=9999).contains(&time.year()) {
        return Err(out_of_range());
    }
    time.format(&Rfc3339).map_err(|_| out_of_range())
}

/// A time for a message: its RFC 3339 text, or `<n> (Unix time)` when it has none.
pub fn show(unix_seconds: i64) -> String {
    format(unix_seconds).unwrap_or_else(|_| format!("{unix_seconds} (Unix time)"))
}

/// Reads an RFC 3339 time in UTC (`Z`; fractions of a second allowed and dropped), as Unix
/// seconds. `None` for anything else, including times with another offset.
pub fn parse(text: &str) -> Option<i64> {
    if !text.ends_with('Z') {
        return None;
    }
    OffsetDateTime::parse(text, &Rfc3339).ok().map(OffsetDateTime::unix_timestamp)
}

/// Reads a time written exactly as [`format`] writes it (`YYYY-MM-DDThh:mm:ssZ`), as Unix
/// seconds; `None` for any other spelling (for signed documents whose times must have one).
pub fn parse_exact(text: &str) -> Option<i64> {
    let t = parse(text)?;
    (format(t).ok()? == text).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_seconds_in_utc() {
        assert_eq!(format(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(format(1_767_225_600).unwrap(), "2026-01-01T00:00:00Z");
        assert_eq!(format(-62_167_219_200).unwrap(), "0000-01-01T00:00:00Z");
        assert_eq!(format(253_402_300_799).unwrap(), "9999-12-31T23:59:59Z");
        for t in [253_402_300_800, -62_167_219_201, i64::MAX, i64::MIN] {
            assert_eq!(format(t).unwrap_err().code(), crate::ResultCode::MEDSEAL_INVALID_ARGUMENT, "{t}");
            assert_eq!(show(t), format!("{t} (Unix time)"));
        }
        assert_eq!(show(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn reads_utc_only() {
        assert_eq!(parse("2026-01-01T00:00:00Z"), Some(1_767_225_600));
        assert_eq!(parse("2026-01-01T00:00:00.999Z"), Some(1_767_225_600));
        for bad in ["", "2026-01-01", "2026-01-01T00:00:00", "2026-01-01T07:00:00+07:00", "2026-02-30T00:00:00Z", "yesterday"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(parse_exact("2026-01-01T00:00:00Z"), Some(1_767_225_600));
        assert_eq!(parse_exact("2026-01-01T00:00:00.5Z"), None);
        assert_eq!(parse_exact("2026-01-01t00:00:00z"), None);
    }

    #[test]
    fn the_clock_is_now() {
        let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let t = now();
        assert!((before..=before + 5).contains(&t));
        assert_eq!(parse_exact(&now_text()).map(|n| (n - t).abs() <= 5), Some(true));
        assert_eq!(until(t - 10), std::time::Duration::ZERO);
        assert_eq!(until(i64::MIN), std::time::Duration::ZERO);
        let ahead = until(t + 100);
        assert!(ahead > std::time::Duration::from_secs(90) && ahead <= std::time::Duration::from_secs(100), "{ahead:?}");
    }
}
