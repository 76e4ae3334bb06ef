//! RFC 8785 serialization: ECMAScript number text, minimal string escaping, no whitespace.

use super::value::Value;

/// The ECMAScript `Number.prototype.toString` text of a finite double (RFC 8785 §3.2.2.3).
/// `-0` serializes as `0`.
pub fn format_number(value: f64) -> String {
    let mut out = Vec::new();
    write_number(value, &mut out);
    String::from_utf8(out).expect("ASCII digits")
}

/// Whether `text` is exactly the canonical text of `value` (the lossy-number check), without
/// allocating.
pub(super) fn number_text_is(value: f64, text: &str) -> bool {
    if value == 0.0 {
        text == "0"
    } else if let Some(integer) = safe_integer(value) {
        integer_text(integer, &mut [0u8; 20]) == text.as_bytes()
    } else {
        ryu_js::Buffer::new().format_finite(value) == text
    }
}

fn write_number(value: f64, out: &mut Vec<u8>) {
    if value == 0.0 {
        out.push(b'0'); // both +0 and -0
    } else if let Some(integer) = safe_integer(value) {
        // ECMAScript writes an integral double below 1e21 as its plain digits; for the
        // common |value| <= 2^53 − 1 that is the integer's decimal text, without Ryū.
        let mut digits = [0u8; 20];
        out.extend_from_slice(integer_text(integer, &mut digits));
    } else {
        out.extend_from_slice(ryu_js::Buffer::new().format_finite(value).as_bytes());
    }
}

/// `value` as an i64 when it is an integer of magnitude at most 2^53 − 1 (exactly
/// representable both ways), else `None`.
#[inline]
pub(super) fn safe_integer(value: f64) -> Option<i64> {
    const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
    if value.abs() <= MAX_SAFE_INTEGER && value.trunc() == value {
        Some(value as i64)
    } else {
        None
    }
}

/// The decimal text of `n` (with a leading `-` when negative), written into `buf`.
#[inline]
pub(super) fn integer_text(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut magnitude = n.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Appends the canonical bytes of `value` to `out`.
pub fn write_canonical(value: &Value<'_>, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n.as_f64(), out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(members) => {
            out.push(b'{');
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
    }
}

/// Minimal JSON escaping (RFC 8785 §3.2.2.2): only `"`, `\` and control characters.
fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0;
    loop {
        let i = run + plain_run(&bytes[run..]);
        out.extend_from_slice(&bytes[run..i]);
        if i == bytes.len() {
            break;
        }
        let b = bytes[i];
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0A => out.extend_from_slice(b"\\n"),
            0x0C => out.extend_from_slice(b"\\f"),
            0x0D => out.extend_from_slice(b"\\r"),
            _ => out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]),
        }
        run = i + 1;
    }
    out.push(b'"');
}

/// Length of the longest prefix of `bytes` without a byte JCS escapes ([`NEEDS_ESCAPE`]):
/// the index of the first `"`, `\` or control character, or `bytes.len()`. Checks eight
/// bytes per step (SWAR); the parser and the writer both use it to skip plain text.
#[inline]
pub(super) fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Per byte b, the high bit of each term is set when b < 0x20, b == '"', b == '\\' (the
    // classic "has zero/less byte" tricks). A term can also flag a byte above one it flags
    // correctly (a borrow), never below one, so the lowest flagged byte is exact.
    let first_flagged = |chunk: &[u8]| -> Option<usize> {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let flagged =
            (word.wrapping_sub(ONES * 0x20) & !word | quote.wrapping_sub(ONES) & !quote | backslash.wrapping_sub(ONES) & !backslash)
                & HIGHS;
        (flagged != 0).then(|| (flagged.trailing_zeros() / 8) as usize)
    };
    if bytes.len() < 8 {
        return bytes.iter().position(|&b| NEEDS_ESCAPE[b as usize]).unwrap_or(bytes.len());
    }
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        if let Some(i) = first_flagged(chunk) {
            return offset + i;
        }
        offset += 8;
    }
    if chunks.remainder().is_empty() {
        return bytes.len();
    }
    // The last, partial word: check the final eight bytes instead. The ones they share with
    // the previous word are plain (checked), so the first flagged byte is a new one.
    let last = bytes.len() - 8;
    first_flagged(&bytes[last..]).map_or(bytes.len(), |i| last + i)
}

/// Bytes JCS escapes: `"`, `\` and U+0000..U+001F. The parser uses the same set: they are
/// the bytes that end a plain run inside a JSON string.
pub(super) const NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_ecmascript() {
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(1e30), "1e+30");
        assert_eq!(format_number(4.5), "4.5");
        assert_eq!(format_number(0.002), "0.002");
        assert_eq!(format_number(1e-27), "1e-27");
        assert_eq!(format_number(333333333.3333333), "333333333.3333333");
        assert_eq!(format_number(1e21), "1e+21");
        assert_eq!(format_number(1e20), "100000000000000000000");
    }

    #[test]
    fn integers_skip_ryu_but_match_it() {
        for v in [1.0, -1.0, 7.0, 10.0, 118.0, -4096.0, 9_007_199_254_740_991.0, -9_007_199_254_740_991.0, 1e15] {
            assert_eq!(format_number(v), ryu_js::Buffer::new().format_finite(v), "{v}");
            assert!(number_text_is(v, &format_number(v)));
        }
        assert!(safe_integer(9_007_199_254_740_992.0).is_none());
        assert!(safe_integer(0.5).is_none());
        assert!(!number_text_is(6.0, "6.0"));
        assert!(!number_text_is(-6.0, "6"));
        assert!(!number_text_is(6.0, "06"));
        assert_eq!(format_number(9_007_199_254_740_992.0), "9007199254740992");
        assert_eq!(format_number(-1e20), "-100000000000000000000");
    }

    #[test]
    fn plain_run_finds_the_first_escapable_byte() {
        // Every position in the SWAR words and the tail, every escapable byte, and bytes
        // that a careless bit trick would confuse with them (0x20, '#', ']', 0x80, 0xA2, 0xDC).
        for len in 0..40 {
            for special in [b'"', b'\\', 0x00, 0x01, 0x1F] {
                for at in 0..len {
                    for filler in [b'a', b' ', b'#', b']', 0x80, 0xA2, 0xDC, 0xFF] {
                        let mut text = vec![filler; len];
                        text[at] = special;
                        if at + 1 < len {
                            text[at + 1] = b'"';
                        }
                        assert_eq!(plain_run(&text), at, "len {len} at {at} byte {special:#x} filler {filler:#x}");
                    }
                }
            }
            let clean: Vec<u8> = (0..len).map(|i| [0x20u8, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xFF][i % 8]).collect();
            assert_eq!(plain_run(&clean), len);
        }
        for b in 0..=255u8 {
            let text = [b'x', b'x', b'x', b, b'x', b'x', b'x', b'x', b'x'];
            assert_eq!(plain_run(&text), if NEEDS_ESCAPE[b as usize] { 3 } else { 9 }, "byte {b:#x}");
        }
    }

    #[test]
    fn strings_escape_minimally() {
        let mut out = Vec::new();
        write_string("a\"\\\u{8}\u{f}\n/€", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"\\\\\\b\\u000f\\n/€\"");
    }
}
