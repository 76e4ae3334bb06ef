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
    } else {
        ryu_js::Buffer::new().format_finite(value) == text
    }
}

fn write_number(value: f64, out: &mut Vec<u8>) {
    if value == 0.0 {
        out.push(b'0'); // both +0 and -0
    } else {
        out.extend_from_slice(ryu_js::Buffer::new().format_finite(value).as_bytes());
    }
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
    while let Some(offset) = bytes[run..].iter().position(|&b| NEEDS_ESCAPE[b as usize]) {
        let i = run + offset;
        out.extend_from_slice(&bytes[run..i]);
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
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
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
    fn strings_escape_minimally() {
        let mut out = Vec::new();
        write_string("a\"\\\u{8}\u{f}\n/€", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"\\\\\\b\\u000f\\n/€\"");
    }
}
