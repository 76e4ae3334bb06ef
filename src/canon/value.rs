//! The parsed JSON tree. Objects keep their members sorted in RFC 8785 order (UTF-16 code
//! units), so serialization is a straight walk and lookups can binary-search. Strings borrow
//! from the input when it holds them verbatim (no escapes, no normalization), which saves an
//! allocation per key and string.

use std::borrow::Cow;
use std::cmp::Ordering;

/// A JSON number as RFC 8785 sees it: an IEEE-754 double. Never NaN or infinite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Number(f64);

impl Number {
    /// A finite number; `None` for NaN and infinities, which JSON cannot carry.
    pub fn new(value: f64) -> Option<Number> {
        value.is_finite().then_some(Number(value))
    }

    /// The double value.
    pub fn as_f64(self) -> f64 {
        self.0
    }
}

/// A JSON value, borrowing from the text it was parsed from (`'static` when built in code).
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    /// Members sorted by key in UTF-16 code unit order, keys unique.
    Object(Vec<(Cow<'a, str>, Value<'a>)>),
}

/// RFC 8785 key order: compare as UTF-16 code units, not as code points or bytes.
pub fn utf16_cmp(a: &str, b: &str) -> Ordering {
    // UTF-8 byte order equals code point order; it differs from UTF-16 order only when a
    // supplementary character meets one in U+E000..U+FFFF, so take the fast path otherwise.
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    match ab.iter().zip(bb).position(|(x, y)| x != y) {
        // One is a prefix of the other (or they are equal): the shorter sorts first.
        None => ab.len().cmp(&bb.len()),
        Some(i) if ab[i] >= 0xEE || bb[i] >= 0xEE => a[char_start(a, i)..].encode_utf16().cmp(b[char_start(b, i)..].encode_utf16()),
        Some(i) => ab[i].cmp(&bb[i]),
    }
}

fn char_start(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl<'a> Value<'a> {
    /// Builds an object from members in any order. Keys must be unique (callers build
    /// headers and JWKs from fixed names).
    pub fn object<K: Into<Cow<'a, str>>>(members: impl IntoIterator<Item = (K, Value<'a>)>) -> Value<'a> {
        let mut members: Vec<(Cow<'a, str>, Value<'a>)> = members.into_iter().map(|(k, v)| (k.into(), v)).collect();
        members.sort_by(|a, b| utf16_cmp(&a.0, &b.0));
        debug_assert!(members.windows(2).all(|w| w[0].0 != w[1].0), "duplicate key");
        Value::Object(members)
    }

    /// A string value.
    pub fn string(s: impl Into<Cow<'a, str>>) -> Value<'a> {
        Value::String(s.into())
    }

    /// The member `key` of an object, if this is an object and has it.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Object(members) => members.binary_search_by(|(k, _)| utf16_cmp(k, key)).ok().map(|i| &members[i].1),
            _ => None,
        }
    }

    /// Removes the member `key` of an object; returns whether it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        match self {
            Value::Object(members) => match members.binary_search_by(|(k, _)| utf16_cmp(k, key)) {
                Ok(i) => {
                    members.remove(i);
                    true
                }
                Err(_) => false,
            },
            _ => false,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The canonical RFC 8785 bytes of this value.
    pub fn to_canonical(&self) -> Vec<u8> {
        let mut out = Vec::new();
        super::write_canonical(self, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_order_differs_from_code_point_order() {
        // U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FB01 (FB01) even though its
        // code point is larger.
        assert_eq!(utf16_cmp("\u{1F600}", "\u{FB01}"), Ordering::Less);
        assert_eq!(utf16_cmp("a\u{1F600}", "a\u{FB01}"), Ordering::Less);
        assert_eq!(utf16_cmp("abc", "abd"), Ordering::Less);
        assert_eq!(utf16_cmp("ab", "abc"), Ordering::Less);
        assert_eq!(utf16_cmp("\u{e9}", "\u{e9}"), Ordering::Equal);
        assert_eq!(utf16_cmp("\u{10000}", "\u{FFFF}"), Ordering::Less);
    }
}
