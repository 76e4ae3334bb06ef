//! Strict base64url (RFC 4648 §5, no padding), as JOSE requires: padding, whitespace and
//! non-zero trailing bits are all refused, so one value has exactly one encoding.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Appends the base64url of `bytes` to `out`.
pub fn encode_into(bytes: &[u8], out: &mut String) {
    URL_SAFE_NO_PAD.encode_string(bytes, out)
}

/// Decodes strict base64url; `None` when the text is not exactly one canonical encoding.
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Whether `text` is strict base64url, exactly as [`decode`] judges it, without decoding it
/// (for text that must not be copied in clear, such as a record's payload).
pub fn is_strict(text: &[u8]) -> bool {
    let mut last = 0u8;
    for &c in text {
        last = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return false,
        };
    }
    // The last character of a partial group carries unused low bits, which must be zero.
    match text.len() % 4 {
        0 => true,
        1 => false,
        2 => last & 0x0f == 0,
        _ => last & 0x03 == 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict() {
        assert_eq!(decode(b"QQ").unwrap(), b"A");
        assert!(decode(b"QQ==").is_none(), "padding refused");
        assert!(decode(b"QR").is_none(), "non-zero trailing bits refused");
        assert!(decode(b"Q+").is_none(), "standard alphabet refused");
        assert!(decode(b"Q Q").is_none(), "whitespace refused");
        assert_eq!(encode(b"\xfb\xff"), "-_8");
    }

    #[test]
    fn is_strict_agrees_with_decode() {
        let mut texts: Vec<Vec<u8>> = ["", "QQ", "QQ==", "QR", "Q+", "Q Q", "-_8", "-_9", "A", "AAAA", "AAAAB", "QUI", "QUJ", "QUJD"]
            .iter()
            .map(|t| t.as_bytes().to_vec())
            .collect();
        for len in 0..6 {
            for c in [b'A', b'B', b'P', b'Q', b'g', b'w', b'-', b'_', b'=', b'.', b'/', b'+'] {
                texts.push([vec![b'Q'; len], vec![c]].concat());
            }
        }
        for n in 0..40u8 {
            texts.push(encode(&(0..n).collect::<Vec<u8>>()).into_bytes());
        }
        for text in texts {
            assert_eq!(is_strict(&text), decode(&text).is_some(), "{:?}", String::from_utf8_lossy(&text));
        }
    }
}
