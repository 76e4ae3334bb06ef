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
}
