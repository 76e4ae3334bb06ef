//! Strict I-JSON parser (RFC 8259 + RFC 7493) that applies the medseal policies as it goes.
//!
//! Written for canonicalization rather than taken from serde_json because it must see what a
//! general parser hides: the exact text of each number (lossy-number policy), duplicate keys,
//! escaped lone surrogates, and the position of every problem. Recursion is bounded by
//! `max_depth`, so hostile nesting gets an error, not a stack overflow.

use std::borrow::Cow;

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use super::value::{utf16_cmp, Number, Value};
use super::write::{number_text_is, plain_run};
use super::{CanonOptions, NfcPolicy};
use crate::error::{err, Error, Result, ResultCode};

/// Largest integer I-JSON allows exactly: 2^53 − 1.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Parses `input` as one strict I-JSON document under `options`.
pub fn parse<'a>(input: &'a [u8], options: &CanonOptions) -> Result<Value<'a>> {
    if input.len() > options.max_bytes {
        return Err(err!(MEDSEAL_JSON_TOO_LARGE, "JSON input is {} bytes; the limit is {} bytes", input.len(), options.max_bytes));
    }
    let text = std::str::from_utf8(input).map_err(|e| {
        let (line, column) = line_column(input, e.valid_up_to());
        err!(MEDSEAL_JSON_INVALID_UTF8, "invalid UTF-8 at line {line}, column {column}")
    })?;
    let mut parser = Parser { text, bytes: input, pos: 0, values: 0, options, items: Vec::new(), members: Vec::new() };
    // A byte-order mark is not JSON (RFC 8259 §8.1 lets parsers refuse it); say so clearly.
    if text.starts_with('\u{FEFF}') {
        return Err(parser.syntax("a byte-order mark (BOM) is not allowed"));
    }
    parser.skip_ws();
    let value = parser.value(0)?;
    parser.skip_ws();
    if parser.pos != input.len() {
        return Err(parser.syntax("unexpected data after the JSON value"));
    }
    Ok(value)
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_column(input: &[u8], offset: usize) -> (usize, usize) {
    let before = &input[..offset.min(input.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    // Count characters, not bytes: continuation bytes do not start a character.
    let column = before[line_start..].iter().filter(|&&b| (b & 0xC0) != 0x80).count() + 1;
    (line, column)
}

struct Parser<'a, 'o> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Values parsed so far, against `max_values`.
    values: usize,
    options: &'o CanonOptions,
    /// Scratch stacks for the items of the arrays and the members of the objects being
    /// parsed (nested ones above their parents'): each array or object then gets one
    /// allocation of its exact size instead of a growing `Vec` per container.
    items: Vec<Value<'a>>,
    members: Vec<(Cow<'a, str>, Value<'a>)>,
}

impl<'a> Parser<'a, '_> {
    fn error_at(&self, code: ResultCode, offset: usize, what: &str) -> Error {
        let (line, column) = line_column(self.bytes, offset);
        Error::new(code, format!("{what} at line {line}, column {column}"))
    }

    fn syntax(&self, what: &str) -> Error {
        self.error_at(ResultCode::MEDSEAL_JSON_SYNTAX, self.pos, what)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect_literal(&mut self, literal: &str, value: Value<'a>) -> Result<Value<'a>> {
        if self.bytes[self.pos..].starts_with(literal.as_bytes()) {
            self.pos += literal.len();
            Ok(value)
        } else {
            Err(self.syntax("invalid literal (expected true, false or null)"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>> {
        self.values += 1;
        if self.values > self.options.max_values {
            return Err(self.error_at(
                ResultCode::MEDSEAL_JSON_TOO_LARGE,
                self.pos,
                &format!("more than {} values in one document", self.options.max_values),
            ));
        }
        match self.peek() {
            None => Err(self.syntax("unexpected end of input, expected a value")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b't') => self.expect_literal("true", Value::Bool(true)),
            Some(b'f') => self.expect_literal("false", Value::Bool(false)),
            Some(b'n') => self.expect_literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.syntax("unexpected character, expected a value")),
        }
    }

    fn check_depth(&self, depth: usize) -> Result<()> {
        if depth > self.options.max_depth {
            return Err(self.error_at(
                ResultCode::MEDSEAL_JSON_TOO_DEEP,
                self.pos,
                &format!("nesting deeper than {} levels", self.options.max_depth),
            ));
        }
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<Value<'a>> {
        self.check_depth(depth)?;
        self.pos += 1; // '['
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(Vec::new()));
        }
        let base = self.items.len();
        loop {
            self.skip_ws();
            let item = self.value(depth)?;
            self.items.push(item);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(self.items.drain(base..).collect()));
                }
                _ => return Err(self.syntax("expected ',' or ']' in array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value<'a>> {
        self.check_depth(depth)?;
        let start = self.pos;
        self.pos += 1; // '{'
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(Vec::new()));
        }
        let base = self.members.len();
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.syntax("expected a string key in object"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.syntax("expected ':' after object key"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            self.members.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.syntax("expected ',' or '}' in object")),
            }
        }
        let mut members: Vec<(Cow<'a, str>, Value<'a>)> = self.members.drain(base..).collect();
        members.sort_by(|a, b| utf16_cmp(&a.0, &b.0));
        if let Some(pair) = members.windows(2).find(|w| w[0].0 == w[1].0) {
            let at = self.second_occurrence(start, depth, &pair[0].0);
            return Err(self.error_at(ResultCode::MEDSEAL_JSON_DUPLICATE_KEY, at, "duplicate object key"));
        }
        Ok(Value::Object(members))
    }

    /// Where `key` appears the second time in the (already parsed, valid) object at `start`.
    /// Only for the error message: keeping every key's offset while parsing would cost every
    /// document an allocation for this rare case.
    fn second_occurrence(&self, start: usize, depth: usize, key: &str) -> usize {
        let mut scan = Parser {
            text: self.text,
            bytes: self.bytes,
            pos: start + 1,
            values: 0,
            options: self.options,
            items: Vec::new(),
            members: Vec::new(),
        };
        let mut seen = 0;
        while scan.pos < self.pos {
            scan.skip_ws();
            let at = scan.pos;
            let Ok(k) = scan.string() else { break };
            if k == key {
                seen += 1;
                if seen == 2 {
                    return at;
                }
            }
            scan.skip_ws();
            scan.pos += 1; // ':'
            scan.skip_ws();
            if scan.value(depth).is_err() {
                break;
            }
            scan.skip_ws();
            scan.pos += 1; // ',' or '}'
        }
        start
    }

    fn string(&mut self) -> Result<Cow<'a, str>> {
        let start = self.pos;
        self.pos += 1; // opening quote
                       // Fast path: most strings have no escapes; borrow them from the input.
        let rest = &self.bytes[self.pos..];
        let end = plain_run(rest);
        if rest.get(end) == Some(&b'"') {
            let text: &'a str = self.text;
            let s = &text[self.pos..self.pos + end];
            self.pos += end + 1;
            return self.apply_nfc(Cow::Borrowed(s), start);
        }
        let mut out = String::new();
        let mut run_start = self.pos;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error_at(ResultCode::MEDSEAL_JSON_SYNTAX, start, "unterminated string"));
            };
            match b {
                b'"' => {
                    out.push_str(&self.text[run_start..self.pos]);
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    out.push_str(&self.text[run_start..self.pos]);
                    self.escape(&mut out)?;
                    run_start = self.pos;
                }
                0x00..=0x1F => return Err(self.syntax("unescaped control character in string")),
                _ => self.pos += 1,
            }
        }
        self.apply_nfc(Cow::Owned(out), start)
    }

    fn apply_nfc(&self, s: Cow<'a, str>, start: usize) -> Result<Cow<'a, str>> {
        if self.options.nfc == NfcPolicy::Ignore || s.is_ascii() {
            return Ok(s);
        }
        // Characters that are NFC starters (quick check Yes, combining class 0) are all the
        // same to the quick check, which skips its table lookups for ASCII: pass them as 'a'.
        let is_nfc = match is_nfc_quick(s.chars().map(|c| if is_nfc_starter(c) { 'a' } else { c })) {
            IsNormalized::Yes => true,
            IsNormalized::No => false,
            IsNormalized::Maybe => s.nfc().eq(s.chars()),
        };
        match (is_nfc, self.options.nfc) {
            (true, _) => Ok(s),
            (false, NfcPolicy::Normalize) => Ok(Cow::Owned(s.nfc().collect())),
            (false, _) => Err(self.error_at(
                ResultCode::MEDSEAL_JSON_NOT_NFC,
                start,
                "string is not in Unicode NFC (normalize it, or ask medseal to)",
            )),
        }
    }

    /// Decodes one escape sequence at `self.pos` (the backslash) into `out`.
    fn escape(&mut self, out: &mut String) -> Result<()> {
        let at = self.pos;
        let Some(&kind) = self.bytes.get(self.pos + 1) else {
            return Err(self.syntax("unterminated escape sequence"));
        };
        self.pos += 2;
        let ch = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                match first {
                    0xD800..=0xDBFF => {
                        // A high surrogate must be followed by an escaped low surrogate.
                        if self.bytes[self.pos..].starts_with(b"\\u") {
                            self.pos += 2;
                            let second = self.hex4()?;
                            if !(0xDC00..=0xDFFF).contains(&second) {
                                return Err(self.lone_surrogate(at));
                            }
                            let cp = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                            char::from_u32(cp).expect("valid supplementary code point")
                        } else {
                            return Err(self.lone_surrogate(at));
                        }
                    }
                    0xDC00..=0xDFFF => return Err(self.lone_surrogate(at)),
                    _ => char::from_u32(first).expect("BMP non-surrogate"),
                }
            }
            _ => {
                self.pos = at;
                return Err(self.syntax("invalid escape sequence"));
            }
        };
        out.push(ch);
        Ok(())
    }

    fn lone_surrogate(&self, at: usize) -> Error {
        self.error_at(ResultCode::MEDSEAL_JSON_LONE_SURROGATE, at, "lone UTF-16 surrogate escape")
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or_else(|| self.syntax("truncated \\u escape"))?;
        let mut v = 0u32;
        for &d in digits {
            let n = (d as char).to_digit(16).ok_or_else(|| self.syntax("invalid hex digit in \\u escape"))?;
            v = v * 16 + n;
        }
        self.pos += 4;
        Ok(v)
    }

    fn number(&mut self) -> Result<Value<'a>> {
        let start = self.pos;
        let mut is_integer = true;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.syntax("invalid number: expected a digit")),
        }
        if self.peek() == Some(b'.') {
            is_integer = false;
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.syntax("invalid number: expected a digit after '.'"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            is_integer = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.syntax("invalid number: expected a digit in the exponent"));
            }
            self.digits();
        }
        let raw = &self.text[start..self.pos];
        let value: f64 = match is_integer.then(|| short_integer(raw)).flatten() {
            Some(value) => value,
            None => raw.parse().map_err(|_| self.error_at(ResultCode::MEDSEAL_JSON_SYNTAX, start, "invalid number"))?,
        };
        let out_of_range = |what: &str| self.error_at(ResultCode::MEDSEAL_JSON_NUMBER_OUT_OF_RANGE, start, what);
        if !value.is_finite() {
            return Err(out_of_range("number too large for a double"));
        }
        let beyond_safe = value.abs() > MAX_SAFE_INTEGER;
        if is_integer && beyond_safe && !(self.options.allow_unsafe_integers && number_text_is(value, raw)) {
            // DESIGN 3.1 (I-JSON, RFC 7493 §2.2): an integer literal beyond ±(2^53−1) is not
            // carried exactly by a double. Plain mode accepts only the literals that are
            // exactly what RFC 8785 writes for their double, so its own output reads back.
            return Err(out_of_range(if self.options.allow_unsafe_integers {
                "integer outside ±(2^53−1) that a double cannot hold as written (I-JSON); send it as a string"
            } else {
                "integer outside ±(2^53−1) (I-JSON: a double cannot hold it exactly); send it as a string"
            }));
        }
        // Under the strict policy any other spelling of a value RFC 8785 writes as such an
        // integer (`1e20` → "100000000000000000000", `9007199254740992.0`) is refused too: the
        // rule above would refuse the canonical output when it is read back, and strict output
        // must always re-parse under the strict policy. Plain mode (`allow_unsafe_integers`)
        // reads them as doubles, as RFC 8785 does. From 1e21 up, values are written with an
        // exponent and accepted in every mode (RFC 8785's own `1E30` example).
        if !is_integer && beyond_safe && value.abs() < 1e21 && !self.options.allow_unsafe_integers {
            return Err(out_of_range(
                "number is an integer outside ±(2^53−1) that RFC 8785 would write as a bare integer, which the strict policy cannot read back (plain RFC 8785 mode accepts it)",
            ));
        }
        let number = Number::new(value).expect("finite");
        if !self.options.allow_lossy_numbers && !number_text_is(value, raw) {
            return Err(self.error_at(
                ResultCode::MEDSEAL_JSON_LOSSY_NUMBER,
                start,
                "number would change its text when canonicalized (write it as its canonical form, or allow lossy numbers)",
            ));
        }
        Ok(Value::Number(number))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }
}

/// The value of an integer literal (as the grammar above accepted it) of at most 15 digits,
/// computed directly: every such integer is a double exactly, so this is what `parse` gives.
fn short_integer(raw: &str) -> Option<f64> {
    let (negative, digits) = match raw.as_bytes() {
        [b'-', digits @ ..] => (true, digits),
        digits => (false, digits),
    };
    if digits.len() > 15 {
        return None;
    }
    let magnitude = digits.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')) as f64;
    Some(if negative { -magnitude } else { magnitude })
}

/// Whether `c` is certainly an NFC starter: canonical combining class 0 and NFC quick check
/// Yes, so no neighbour can change it. True below U+0300 (where the combining marks begin)
/// and for Latin Extended Additional (U+1E00..U+1EFF: the precomposed letters of Vietnamese
/// and other languages); the test `nfc_starter_ranges_are_starters` checks every one of them
/// against the Unicode tables.
#[inline]
fn is_nfc_starter(c: char) -> bool {
    c < '\u{300}' || ('\u{1E00}'..='\u{1EFF}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfc_starter_ranges_are_starters() {
        let mut checked = 0;
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32).filter(|&c| is_nfc_starter(c)) {
            assert_eq!(unicode_normalization::char::canonical_combining_class(c), 0, "{c:?}");
            assert_eq!(is_nfc_quick(std::iter::once(c)), IsNormalized::Yes, "{c:?}");
            checked += 1;
        }
        assert_eq!(checked, 0x300 + 0x100);
        assert!(!is_nfc_starter('\u{300}'));
        assert!(!is_nfc_starter('\u{1F00}'));
    }

    #[test]
    fn short_integers_parse_as_the_standard_parser_does() {
        for raw in ["0", "-0", "7", "-7", "118", "999999999999999", "-999999999999999", "100000000000000"] {
            let expected: f64 = raw.parse().unwrap();
            let got = short_integer(raw).unwrap();
            assert_eq!(got.to_bits(), expected.to_bits(), "{raw}");
        }
        assert_eq!(short_integer("1000000000000000"), None, "16 digits take the general parser");
        let nfd = "{\"a\":\"Nguye\u{302}\u{303}n\"}";
        assert_eq!(code(nfd, &CanonOptions::default()), ResultCode::MEDSEAL_JSON_NOT_NFC);
        let accents = "[\"\u{e9}\u{301}\", \"\u{1ec5}\u{301}\", \"a\u{1ec5}\u{323}\u{302}\"]";
        assert_eq!(code(accents, &CanonOptions::default()), ResultCode::MEDSEAL_JSON_NOT_NFC);
        assert!(parse("[\"Nguy\u{1ec5}n V\u{103}n B\u{ec}nh\", \"\u{1ec5}\u{20ac}\"]".as_bytes(), &CanonOptions::default()).is_ok());
    }

    fn code(input: &str, options: &CanonOptions) -> ResultCode {
        parse(input.as_bytes(), options).unwrap_err().code()
    }

    #[test]
    fn refuses_what_i_json_forbids() {
        let plain = CanonOptions::plain();
        assert_eq!(code(r#"{"a":1,"a":2}"#, &plain), ResultCode::MEDSEAL_JSON_DUPLICATE_KEY);
        assert_eq!(code(r#"["\ud800"]"#, &plain), ResultCode::MEDSEAL_JSON_LONE_SURROGATE);
        assert_eq!(code(r#"["\udc00\ud800"]"#, &plain), ResultCode::MEDSEAL_JSON_LONE_SURROGATE);
        assert_eq!(code(r#"["\ud800\u0041"]"#, &plain), ResultCode::MEDSEAL_JSON_LONE_SURROGATE);
        assert_eq!(code("9007199254740993", &plain), ResultCode::MEDSEAL_JSON_NUMBER_OUT_OF_RANGE);
        assert_eq!(code("-9007199254740993", &plain), ResultCode::MEDSEAL_JSON_NUMBER_OUT_OF_RANGE);
        assert_eq!(code("9007199254740992", &CanonOptions::default()), ResultCode::MEDSEAL_JSON_NUMBER_OUT_OF_RANGE);
        assert!(parse(b"9007199254740992", &plain).is_ok(), "RFC 8785 text of 2^53");
        assert_eq!(code("1e400", &plain), ResultCode::MEDSEAL_JSON_NUMBER_OUT_OF_RANGE);
        assert!(parse(b"9007199254740991", &plain).is_ok());
        assert_eq!(code("[1,]", &plain), ResultCode::MEDSEAL_JSON_SYNTAX);
        assert_eq!(code("01", &plain), ResultCode::MEDSEAL_JSON_SYNTAX);
        assert_eq!(code("\u{feff}{}", &plain), ResultCode::MEDSEAL_JSON_SYNTAX);
        assert_eq!(code("[\"a\u{1}\"]", &plain), ResultCode::MEDSEAL_JSON_SYNTAX);
        assert_eq!(parse(b"[\"\xff\"]", &plain).unwrap_err().code(), ResultCode::MEDSEAL_JSON_INVALID_UTF8);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse(b"{\n  \"a\": 1,\n  \"a\": 2\n}", &CanonOptions::plain()).unwrap_err();
        assert_eq!(e.code(), ResultCode::MEDSEAL_JSON_DUPLICATE_KEY);
        assert!(e.message().contains("line 3, column 3"), "{}", e.message());
        let e = parse("{\"tên\": tru}".as_bytes(), &CanonOptions::plain()).unwrap_err();
        assert!(e.message().contains("line 1, column 9"), "{}", e.message());
    }

    #[test]
    fn duplicate_key_error_points_at_the_second_key_of_the_right_object() {
        // The inner objects also have an "a", which must not be taken for the duplicate.
        let text = r#"{"x":{"a":[1,{"a":2}],"b":{"a":0},"a":3}}"#;
        let column = text.find(r#""a":3"#).unwrap() + 1;
        let e = parse(text.as_bytes(), &CanonOptions::plain()).unwrap_err();
        assert_eq!(e.code(), ResultCode::MEDSEAL_JSON_DUPLICATE_KEY);
        assert!(e.message().contains(&format!("line 1, column {column}")), "{}", e.message());
        // Keys equal only after NFC normalization are duplicates too.
        let nfd = "{\"Nguye\u{302}\u{303}n\":1,\"Nguy\u{1ec5}n\":2}";
        let normalize = CanonOptions { nfc: NfcPolicy::Normalize, ..CanonOptions::default() };
        assert_eq!(code(nfd, &normalize), ResultCode::MEDSEAL_JSON_DUPLICATE_KEY);
        assert!(parse(nfd.as_bytes(), &CanonOptions::plain()).is_ok(), "distinct code points without normalization");
    }

    #[test]
    fn depth_limit_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert_eq!(code(&deep, &CanonOptions::default()), ResultCode::MEDSEAL_JSON_TOO_DEEP);
        let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(parse(ok.as_bytes(), &CanonOptions::default()).is_ok());
        let too_deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert_eq!(code(&too_deep, &CanonOptions::default()), ResultCode::MEDSEAL_JSON_TOO_DEEP);
    }

    #[test]
    fn size_limit() {
        let options = CanonOptions { max_bytes: 4, ..CanonOptions::default() };
        assert_eq!(code("[1,2,3]", &options), ResultCode::MEDSEAL_JSON_TOO_LARGE);
        let options = CanonOptions { max_values: 3, ..CanonOptions::default() };
        assert!(parse(b"[1,2]", &options).is_ok());
        assert_eq!(code("[1,2,3]", &options), ResultCode::MEDSEAL_JSON_TOO_LARGE);
        assert_eq!(code(r#"{"a":{"b":[1]}}"#, &options), ResultCode::MEDSEAL_JSON_TOO_LARGE);
    }
}
