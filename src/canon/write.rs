//! RFC 8785 serialization: ECMAScript number text, minimal string escaping, no whitespace.

use super::value::Value;

/// The ECMAScript `Number.prototype.toString` text of a finite double (RFC 8785 §3.2.2.3).
/// `-0` serializes as `0`.
pub fn format_number(value: f64) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    let mut buffer = ryu_js::Buffer::new();
    buffer.format_finite(value).to_owned()
}

/// Appends the canonical bytes of `value` to `out`.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            let v = n.as_f64();
            if v == 0.0 {
                out.push(b'0');
            } else {
                let mut buffer = ryu_js::Buffer::new();
                out.extend_from_slice(buffer.format_finite(v).as_bytes());
            }
        }
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
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0A => b"\\n",
            0x0C => b"\\f",
            0x0D => b"\\r",
            0x00..=0x1F => &[],
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        if escape.is_empty() {
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        } else {
            out.extend_from_slice(escape);
        }
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

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
