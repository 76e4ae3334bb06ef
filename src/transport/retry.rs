//! The retry policy of docs/SUBMISSION.md (DESIGN 3.4): exponential backoff from 1 s, doubling,
//! capped at 5 minutes, with full jitter; `Retry-After` (seconds or an HTTP date) overrides it
//! when later; certificate errors wait the full cap.

use ring::rand::{SecureRandom, SystemRandom};

/// The first backoff window, in milliseconds.
pub(crate) const BACKOFF_BASE_MS: u64 = 1_000;
/// The largest backoff, in seconds (5 minutes). Certificate errors always wait this long.
pub(crate) const BACKOFF_CAP_SECS: i64 = 300;
/// The longest wait a `Retry-After` may impose (a day): a larger value is taken as this.
pub(crate) const RETRY_AFTER_MAX_SECS: i64 = 86_400;

/// How long to wait before the next attempt of a failed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backoff {
    /// Exponential with full jitter, by number of failed attempts.
    Exponential,
    /// The cap, without jitter: certificate and configuration problems, which a quick retry
    /// will not fix.
    Cap,
}

/// The backoff window after `failures` failed attempts (1 = the first failure): 1 s, 2 s, 4 s,
/// ... capped at 5 minutes, in milliseconds.
pub(crate) fn window_ms(failures: u32) -> u64 {
    let doublings = failures.saturating_sub(1).min(20);
    (BACKOFF_BASE_MS << doublings).min(BACKOFF_CAP_SECS as u64 * 1000)
}

/// A random draw for full jitter, shared by the records of one batch so that a batch that
/// failed together is retried together (jitter spreads facilities, not records).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Jitter(u32);

impl Jitter {
    /// A fresh draw from the system random generator (the top of the window if it fails:
    /// never a shorter wait than asked).
    pub(crate) fn draw() -> Jitter {
        let mut bytes = [0u8; 4];
        match SystemRandom::new().fill(&mut bytes) {
            Ok(()) => Jitter(u32::from_le_bytes(bytes)),
            Err(_) => Jitter(u32::MAX),
        }
    }

    /// A point in `0..=window_ms`.
    fn within(self, window_ms: u64) -> u64 {
        ((u128::from(window_ms) * u128::from(self.0)) / u128::from(u32::MAX)) as u64
    }
}

/// When to try again (Unix seconds), after `failures` failed attempts at `now`: full jitter in
/// the window (at least 1 s, rounded up to whole seconds), or the cap; a later `not_before`
/// (from `Retry-After`) wins.
pub(crate) fn next_attempt_at(now: i64, failures: u32, backoff: Backoff, not_before: Option<i64>, jitter: Jitter) -> i64 {
    let delay = match backoff {
        Backoff::Cap => BACKOFF_CAP_SECS,
        Backoff::Exponential => (jitter.within(window_ms(failures)).div_ceil(1000) as i64).max(1),
    };
    let at = now.saturating_add(delay);
    match not_before {
        Some(t) if t > at => t,
        _ => at,
    }
}

/// Reads a `Retry-After` value (RFC 9110 §10.2.3): delay seconds, or an HTTP date in any of the
/// three formats (IMF-fixdate, RFC 850, asctime). Returns the Unix time it names, at most a day
/// after `now`; `None` if it is not valid.
pub(crate) fn parse_retry_after(value: &str, now: i64) -> Option<i64> {
    let value = value.trim();
    let at = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: i64 = value.parse().unwrap_or(i64::MAX);
        now.saturating_add(seconds.min(RETRY_AFTER_MAX_SECS))
    } else {
        parse_http_date(value)?
    };
    Some(at.min(now.saturating_add(RETRY_AFTER_MAX_SECS)))
}

/// Parses an HTTP date (RFC 9110 §5.6.7) to Unix seconds.
pub(crate) fn parse_http_date(text: &str) -> Option<i64> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (day, month, year, clock) = match words.as_slice() {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        [weekday, day, month, year, clock, "GMT"] if weekday.ends_with(',') && year.len() == 4 => {
            (day.parse::<u8>().ok()?, *month, year.parse::<i32>().ok()?, *clock)
        }
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        [weekday, date, clock, "GMT"] if weekday.ends_with(',') => {
            let mut parts = date.split('-');
            let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || year.len() != 2 {
                return None;
            }
            // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
            let yy: i32 = year.parse().ok()?;
            let year = if yy >= 70 { 1900 + yy } else { 2000 + yy };
            (day.parse::<u8>().ok()?, month, year, *clock)
        }
        // asctime: Sun Nov  6 08:49:37 1994
        [_weekday, month, day, clock, year] if year.len() == 4 => (day.parse::<u8>().ok()?, *month, year.parse::<i32>().ok()?, *clock),
        _ => return None,
    };
    let month = match month {
        "Jan" => time::Month::January,
        "Feb" => time::Month::February,
        "Mar" => time::Month::March,
        "Apr" => time::Month::April,
        "May" => time::Month::May,
        "Jun" => time::Month::June,
        "Jul" => time::Month::July,
        "Aug" => time::Month::August,
        "Sep" => time::Month::September,
        "Oct" => time::Month::October,
        "Nov" => time::Month::November,
        "Dec" => time::Month::December,
        _ => return None,
    };
    let mut hms = clock.split(':');
    let (h, m, s) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() || h.len() != 2 || m.len() != 2 || s.len() != 2 {
        return None;
    }
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let clock = time::Time::from_hms(h.parse().ok()?, m.parse().ok()?, s.parse().ok()?).ok()?;
    Some(time::PrimitiveDateTime::new(date, clock).assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_double_and_cap() {
        assert_eq!(window_ms(0), 1_000);
        assert_eq!(window_ms(1), 1_000);
        assert_eq!(window_ms(2), 2_000);
        assert_eq!(window_ms(3), 4_000);
        assert_eq!(window_ms(9), 256_000);
        assert_eq!(window_ms(10), 300_000);
        assert_eq!(window_ms(u32::MAX), 300_000);
    }

    #[test]
    fn jitter_stays_in_the_window() {
        let now = 1_700_000_000;
        for failures in 1..15 {
            let top = (window_ms(failures) / 1000) as i64;
            for _ in 0..50 {
                let at = next_attempt_at(now, failures, Backoff::Exponential, None, Jitter::draw());
                assert!(at > now && at <= now + top.max(1), "{failures}: {}", at - now);
            }
        }
        // Full jitter: over many draws in a 5-minute window, both halves are hit.
        let draws: Vec<i64> = (0..200).map(|_| next_attempt_at(now, 12, Backoff::Exponential, None, Jitter::draw()) - now).collect();
        assert!(draws.iter().any(|d| *d < 150) && draws.iter().any(|d| *d > 150));
        let j = Jitter::draw();
        assert_eq!(next_attempt_at(now, 1, Backoff::Cap, None, j), now + 300);
        assert_eq!(next_attempt_at(now, 1, Backoff::Exponential, Some(now + 1000), j), now + 1000);
        assert_eq!(next_attempt_at(now, 1, Backoff::Cap, Some(now + 10), j), now + 300);
        // The extremes of a draw: the window's bottom (1 s at least) and top.
        assert_eq!(next_attempt_at(now, 9, Backoff::Exponential, None, Jitter(0)), now + 1);
        assert_eq!(next_attempt_at(now, 9, Backoff::Exponential, None, Jitter(u32::MAX)), now + 256);
        assert_eq!(next_attempt_at(now, 30, Backoff::Exponential, None, Jitter(u32::MAX)), now + 300);
        // One draw, one time for records with the same number of failures.
        assert_eq!(next_attempt_at(now, 5, Backoff::Exponential, None, j), next_attempt_at(now, 5, Backoff::Exponential, None, j));
    }

    #[test]
    fn retry_after_values() {
        let now = 1_000_000;
        assert_eq!(parse_retry_after("120", now), Some(now + 120));
        assert_eq!(parse_retry_after(" 0 ", now), Some(now));
        assert_eq!(parse_retry_after("99999999999999999999999", now), Some(now + RETRY_AFTER_MAX_SECS));
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
        let t = 784_111_777; // 1994-11-06T08:49:37Z
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(t));
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"), None);
        assert_eq!(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 8:49:37 GMT"), None);
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t - 10), Some(t));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t + 10), Some(t));
    }
}
