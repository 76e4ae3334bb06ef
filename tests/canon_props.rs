//! Property tests for the canonicalizer.
//!
//! A random JSON tree is rendered as deliberately non-canonical text (random whitespace,
//! member order, string escapes and, where the mode allows it, number spellings) and compared
//! with an independent RFC 8785 serialization of the same tree written here. Then, per mode:
//! plain output re-parses in plain mode to itself (every finite double is accepted there, as
//! RFC 8785 requires), strict output re-parses under the strict policy (and plain) to itself
//! (the strict default refuses the values RFC 8785 writes as bare integers beyond ±(2^53 − 1),
//! and nothing else), and serde_json reads the canonical output and the rendered input as the
//! same value.

use std::cmp::Ordering;

use medseal::canon::format_number;
use medseal::{canonicalize, CanonOptions, NfcPolicy, ResultCode};
use proptest::prelude::*;
use unicode_normalization::{is_nfc, UnicodeNormalization};

/// Largest integer I-JSON allows exactly: 2^53 − 1.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

#[derive(Clone, Debug)]
enum J {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<J>),
    /// Keys unique.
    Obj(Vec<(String, J)>),
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range(' ', '~'),
        1 => proptest::char::range('\u{0}', '\u{1f}'),
        1 => prop::sample::select(vec!['"', '\\', '/', '\u{7f}', '\u{80}', '\u{2028}', '\u{2029}', '\u{feff}', '\u{fb33}', '\u{fffd}', '\u{ffff}', '\u{e000}', 'é', 'ễ', 'ă', 'Ä', 'Å', 'ﬁ']),
        1 => proptest::char::range('\u{300}', '\u{36f}'), // combining marks: NFD material
        1 => proptest::char::range('\u{a0}', '\u{24f}'),
        1 => proptest::char::range('\u{1e00}', '\u{1eff}'), // Vietnamese and other precomposed Latin
        1 => proptest::char::range('\u{ac00}', '\u{d7a3}'), // Hangul syllables (compose/decompose)
        1 => proptest::char::range('\u{e000}', '\u{ffff}'), // sorts after surrogates in UTF-16
        1 => proptest::char::range('\u{10000}', '\u{10ffff}'),
    ]
}

fn string() -> impl Strategy<Value = String> {
    prop::collection::vec(interesting_char(), 0..8).prop_map(|cs| cs.into_iter().collect())
}

/// Finite doubles, weighted towards values that records carry.
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<f64>().prop_filter("finite", |v| v.is_finite()),
        2 => (-100_000i64..100_000).prop_map(|i| i as f64),
        2 => (any::<i32>(), 0u32..8).prop_map(|(m, k)| m as f64 / 10f64.powi(k as i32)),
        1 => prop::sample::select(vec![
            0.0, -0.0, 5e-324, -5e-324, f64::MIN_POSITIVE, f64::MAX, f64::MIN, 1e21, 1e-6, 1e-7,
            MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0.1, 1.5, 4.5, 333333333.3333333, 1e300,
        ]),
        // Integral values beyond 2^53 − 1 that ECMAScript writes without an exponent.
        1 => prop::sample::select(vec![9_007_199_254_740_992.0, 1e20, -1e20, 295147905179352830000.0, 1.5e16, 123456789012345680000.0]),
    ]
}

fn tree() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![Just(J::Null), any::<bool>().prop_map(J::Bool), number().prop_map(J::Num), string().prop_map(J::Str),];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(J::Arr),
            prop::collection::vec((string(), inner), 0..6).prop_map(|members| J::Obj(dedupe(members))),
        ]
    })
}

fn dedupe(members: Vec<(String, J)>) -> Vec<(String, J)> {
    let mut out: Vec<(String, J)> = Vec::new();
    for (k, v) in members {
        if !out.iter().any(|(seen, _)| *seen == k) {
            out.push((k, v));
        }
    }
    out
}

/// The tree with every string and key in NFC; `None` when two keys of one object become equal.
fn nfc_tree(j: &J) -> Option<J> {
    Some(match j {
        J::Str(s) => J::Str(s.nfc().collect()),
        J::Arr(items) => J::Arr(items.iter().map(nfc_tree).collect::<Option<_>>()?),
        J::Obj(members) => {
            let normalized: Vec<(String, J)> =
                members.iter().map(|(k, v)| Some((k.nfc().collect(), nfc_tree(v)?))).collect::<Option<_>>()?;
            let deduped = dedupe(normalized.clone());
            if deduped.len() != normalized.len() {
                return None;
            }
            J::Obj(deduped)
        }
        other => other.clone(),
    })
}

/// The tree with every key and string in NFC, dropping members whose key collides.
fn nfc_tree_deduped(j: &J) -> J {
    match j {
        J::Str(s) => J::Str(s.nfc().collect()),
        J::Arr(items) => J::Arr(items.iter().map(nfc_tree_deduped).collect()),
        J::Obj(members) => J::Obj(dedupe(members.iter().map(|(k, v)| (k.nfc().collect(), nfc_tree_deduped(v))).collect())),
        other => other.clone(),
    }
}

fn all_nfc(j: &J) -> bool {
    match j {
        J::Str(s) => is_nfc(s),
        J::Arr(items) => items.iter().all(all_nfc),
        J::Obj(members) => members.iter().all(|(k, v)| is_nfc(k) && all_nfc(v)),
        _ => true,
    }
}

/// Whether ECMAScript writes this number as a plain integer beyond ±(2^53 − 1), which
/// medseal's strict policy refuses to read (plain mode reads it).
fn is_big_integer_text(v: f64) -> bool {
    let text = format_number(v);
    v.abs() > MAX_SAFE_INTEGER && !text.contains(['.', 'e'])
}

fn has_big_integer(j: &J) -> bool {
    match j {
        J::Num(v) => is_big_integer_text(*v),
        J::Arr(items) => items.iter().any(has_big_integer),
        J::Obj(members) => members.iter().any(|(_, v)| has_big_integer(v)),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Independent RFC 8785 serialization (the oracle)
// ---------------------------------------------------------------------------------------------

fn utf16_order(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn oracle_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn oracle(j: &J, out: &mut String) {
    match j {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Num(v) => out.push_str(&format_number(*v)),
        J::Str(s) => oracle_string(s, out),
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                oracle(item, out);
            }
            out.push(']');
        }
        J::Obj(members) => {
            let mut sorted: Vec<&(String, J)> = members.iter().collect();
            sorted.sort_by(|a, b| utf16_order(&a.0, &b.0));
            out.push('{');
            for (i, (k, v)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                oracle_string(k, out);
                out.push(':');
                oracle(v, out);
            }
            out.push('}');
        }
    }
}

fn canonical_text(j: &J) -> String {
    let mut out = String::new();
    oracle(j, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// Non-canonical rendering
// ---------------------------------------------------------------------------------------------

/// A tiny deterministic generator for rendering choices (xorshift64*).
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

struct Render {
    dice: Dice,
    /// Spell numbers in other ways that denote the same double (`1.50`, `1E2`, `-0`).
    respell_numbers: bool,
}

impl Render {
    fn ws(&mut self, out: &mut String) {
        for _ in 0..self.dice.roll(3) {
            out.push([' ', '\t', '\n', '\r'][self.dice.roll(4) as usize]);
        }
    }

    fn number(&mut self, v: f64) -> String {
        let canonical = format_number(v);
        if !self.respell_numbers {
            return canonical;
        }
        let (mantissa, exponent) = match canonical.split_once('e') {
            Some((m, e)) => (m.to_owned(), Some(e.trim_start_matches('+').to_owned())),
            None => (canonical.clone(), None),
        };
        let mut mantissa = mantissa;
        if v == 0.0 && self.dice.roll(2) == 0 {
            mantissa = "-0".to_owned();
        }
        match self.dice.roll(3) {
            0 => {}
            1 => {
                // Trailing zeros in the fraction.
                if !mantissa.contains('.') {
                    mantissa.push('.');
                }
                mantissa.push_str(&"0".repeat(1 + self.dice.roll(3) as usize));
            }
            _ => {}
        }
        let e = if self.dice.roll(2) == 0 { "e" } else { "E" };
        match (exponent, self.dice.roll(3)) {
            (Some(x), _) => format!("{mantissa}{e}{}{x}", if !x.starts_with('-') && self.dice.roll(2) == 0 { "+" } else { "" }),
            (None, 0) => format!("{mantissa}{e}0"),
            (None, 1) => format!("{mantissa}{e}-0"),
            (None, _) => mantissa,
        }
    }

    fn string(&mut self, s: &str, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            let must_escape = c == '"' || c == '\\' || (c as u32) < 0x20;
            let choice = self.dice.roll(4);
            if !must_escape && choice != 0 {
                out.push(c);
                continue;
            }
            let short = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '/' => Some("\\/"),
                '\u{8}' => Some("\\b"),
                '\t' => Some("\\t"),
                '\n' => Some("\\n"),
                '\u{c}' => Some("\\f"),
                '\r' => Some("\\r"),
                _ => None,
            };
            match short {
                Some(esc) if self.dice.roll(2) == 0 => out.push_str(esc),
                _ => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        if self.dice.roll(2) == 0 {
                            out.push_str(&format!("\\u{:04x}", unit));
                        } else {
                            out.push_str(&format!("\\u{:04X}", unit));
                        }
                    }
                }
            }
        }
        out.push('"');
    }

    fn value(&mut self, j: &J, out: &mut String) {
        match j {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Num(v) => {
                let text = self.number(*v);
                out.push_str(&text)
            }
            J::Str(s) => self.string(s, out),
            J::Arr(items) => {
                out.push('[');
                self.ws(out);
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                        self.ws(out);
                    }
                    self.value(item, out);
                    self.ws(out);
                }
                out.push(']');
            }
            J::Obj(members) => {
                // Shuffle the member order (Fisher-Yates).
                let mut order: Vec<usize> = (0..members.len()).collect();
                for i in (1..order.len()).rev() {
                    let j = self.dice.roll(i as u64 + 1) as usize;
                    order.swap(i, j);
                }
                out.push('{');
                self.ws(out);
                for (n, &i) in order.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                        self.ws(out);
                    }
                    let (k, v) = &members[i];
                    self.string(k, out);
                    self.ws(out);
                    out.push(':');
                    self.ws(out);
                    self.value(v, out);
                    self.ws(out);
                }
                out.push('}');
            }
        }
    }
}

fn render(j: &J, seed: u64, respell_numbers: bool) -> String {
    let mut r = Render { dice: Dice(seed | 1), respell_numbers };
    let mut out = String::new();
    r.ws(&mut out);
    r.value(j, &mut out);
    r.ws(&mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// serde_json comparison
// ---------------------------------------------------------------------------------------------

/// serde_json's default float parser is "best effort" (its `float_roundtrip` feature is what
/// makes it exact): it was seen 2 ULPs off, in either direction, for long spellings such as
/// `-9.682221863775499e-172`. So serde-parsed numbers are compared to within 8 ULPs. medseal
/// itself is held to exact equality by the oracle comparison in each property.
fn close(a: f64, b: f64) -> bool {
    if a == b {
        return true;
    }
    if a.signum() != b.signum() {
        return false;
    }
    (a.to_bits() as i64 - b.to_bits() as i64).abs() <= 8
}

fn same_serde(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as S;
    match (a, b) {
        (S::Null, S::Null) => true,
        (S::Bool(x), S::Bool(y)) => x == y,
        (S::Number(x), S::Number(y)) => close(x.as_f64().unwrap(), y.as_f64().unwrap()),
        (S::String(x), S::String(y)) => x == y,
        (S::Array(x), S::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_serde(p, q)),
        (S::Object(x), S::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_serde(v, w))),
        _ => false,
    }
}

fn serde_matches_tree(s: &serde_json::Value, j: &J) -> bool {
    use serde_json::Value as S;
    match (s, j) {
        (S::Null, J::Null) => true,
        (S::Bool(x), J::Bool(y)) => x == y,
        (S::Number(x), J::Num(y)) => close(x.as_f64().unwrap(), *y),
        (S::String(x), J::Str(y)) => x == y,
        (S::Array(x), J::Arr(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| serde_matches_tree(p, q)),
        (S::Object(x), J::Obj(y)) => x.len() == y.len() && y.iter().all(|(k, v)| x.get(k).is_some_and(|w| serde_matches_tree(w, v))),
        _ => false,
    }
}

fn check_serde(input: &str, canonical: &[u8], j: &J) -> Result<(), TestCaseError> {
    let from_canonical: serde_json::Value =
        serde_json::from_slice(canonical).map_err(|e| TestCaseError::fail(format!("serde canonical: {e}")))?;
    prop_assert!(serde_matches_tree(&from_canonical, j), "canonical output does not denote the generated tree");
    match serde_json::from_str::<serde_json::Value>(input) {
        Ok(from_input) => prop_assert!(same_serde(&from_input, &from_canonical), "serde values differ"),
        // serde_json's best-effort float parser overflows on some valid respellings of values
        // next to f64::MAX (`1.79769313486231570e308`); medseal and std read them exactly.
        // The canonical text was read above, so only this input-side comparison is lost.
        Err(e) if e.to_string().starts_with("number out of range") => {}
        Err(e) => return Err(TestCaseError::fail(format!("serde input: {e}"))),
    }
    Ok(())
}

/// Replaces numbers the strict policy refuses (see `is_big_integer_text`) by 0.5.
fn tame(j: &J) -> J {
    match j {
        J::Num(v) if is_big_integer_text(*v) => J::Num(0.5),
        J::Arr(items) => J::Arr(items.iter().map(tame).collect()),
        J::Obj(members) => J::Obj(members.iter().map(|(k, v)| (k.clone(), tame(v))).collect()),
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/// 256 cases per property (proptest's default; `PROPTEST_CASES` overrides it for a longer
/// run). No regression files: this suite must not write into the source tree.
fn config() -> ProptestConfig {
    ProptestConfig { failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    /// Plain RFC 8785: any spelling of any tree is accepted (big integers included), the
    /// output is the oracle's, and plain output re-parses in plain mode to itself. The strict
    /// default reads that output unchanged too, unless it holds a big integer.
    #[test]
    fn plain_mode_is_rfc8785_and_a_fixed_point(j in tree(), seed in any::<u64>()) {
        let input = render(&j, seed, true);
        let expected = canonical_text(&j);
        let canonical = match canonicalize(input.as_bytes(), &CanonOptions::plain()) {
            Ok(canonical) => canonical,
            Err(e) => return Err(TestCaseError::fail(format!("plain mode refused {input}: {e}"))),
        };
        prop_assert_eq!(String::from_utf8(canonical.clone()).unwrap(), expected.clone(), "input: {}", input);
        let again = canonicalize(&canonical, &CanonOptions::plain());
        prop_assert_eq!(again.as_ref().map_err(|e| e.code()), Ok(&canonical), "plain output does not re-parse in plain mode; input: {}", input);
        check_serde(&input, &canonical, &j)?;
        if all_nfc(&j) {
            let strict = canonicalize(&canonical, &CanonOptions::default()).map_err(|e| e.code());
            if has_big_integer(&j) {
                prop_assert_eq!(strict, Err(ResultCode::MEDSEAL_JSON_NUMBER_OUT_OF_RANGE));
            } else {
                prop_assert_eq!(strict, Ok(canonical));
            }
        }
    }

    /// The strict default over NFC strings and canonical number spellings: strict output
    /// re-parses under the strict policy (and in plain mode) to itself; a document is refused
    /// only for a value RFC 8785 would write as a bare integer beyond ±(2^53 − 1).
    #[test]
    fn default_mode_is_a_fixed_point(j in tree(), seed in any::<u64>()) {
        let j = nfc_tree_deduped(&j);
        let input = render(&j, seed, false);
        let expected = canonical_text(&j);
        let strict = CanonOptions::default();
        match canonicalize(input.as_bytes(), &strict) {
            Ok(canonical) => {
                prop_assert_eq!(String::from_utf8(canonical.clone()).unwrap(), expected, "input: {}", input);
                prop_assert_eq!(canonicalize(&canonical, &strict).map_err(|e| e.code()), Ok(canonical.clone()));
                prop_assert_eq!(canonicalize(&canonical, &CanonOptions::plain()).map_err(|e| e.code()), Ok(canonical.clone()));
                check_serde(&input, &canonical, &j)?;
            }
            Err(e) => {
                prop_assert_eq!(e.code(), ResultCode::MEDSEAL_JSON_NUMBER_OUT_OF_RANGE, "input: {} ({})", input, e);
                prop_assert!(has_big_integer(&j), "refused without a big integer: {}", input);
            }
        }
    }

    /// Non-NFC strings: refused by default, normalized on request (or reported as duplicate
    /// keys when normalization makes two keys equal), left alone by plain.
    #[test]
    fn nfc_policies(j in tree(), seed in any::<u64>()) {
        let j = tame(&j);
        let input = render(&j, seed, false);
        let strict = CanonOptions::default();
        let normalize = CanonOptions { nfc: NfcPolicy::Normalize, ..strict };
        let plain_out = canonicalize(input.as_bytes(), &CanonOptions::plain()).map_err(|e| e.code());
        prop_assert_eq!(plain_out, Ok(canonical_text(&j).into_bytes()));
        if all_nfc(&j) {
            prop_assert_eq!(canonicalize(input.as_bytes(), &strict).map_err(|e| e.code()), Ok(canonical_text(&j).into_bytes()));
        } else {
            prop_assert_eq!(canonicalize(input.as_bytes(), &strict).map_err(|e| e.code()), Err(ResultCode::MEDSEAL_JSON_NOT_NFC));
        }
        let normalized = canonicalize(input.as_bytes(), &normalize).map_err(|e| e.code());
        match nfc_tree(&j) {
            Some(n) => {
                let expected = canonical_text(&n).into_bytes();
                prop_assert_eq!(normalized, Ok(expected.clone()));
                // Normalized output is NFC, so the strict default accepts it unchanged.
                prop_assert_eq!(canonicalize(&expected, &strict).map_err(|e| e.code()), Ok(expected));
            }
            None => prop_assert_eq!(normalized, Err(ResultCode::MEDSEAL_JSON_DUPLICATE_KEY)),
        }
    }

    /// Every finite double: its canonical text is read back unchanged in plain mode, and in
    /// strict mode either read back unchanged or refused as a big integer; never read as
    /// something else. Its shortest exponent spelling (`1e20`) canonicalizes to it in plain.
    #[test]
    fn number_texts_round_trip(v in number()) {
        let text = format_number(v);
        prop_assert_eq!(text.parse::<f64>().unwrap(), v, "format_number must round-trip");
        let plain = canonicalize(text.as_bytes(), &CanonOptions::plain()).map_err(|e| e.code());
        prop_assert_eq!(plain, Ok(text.clone().into_bytes()));
        let spelled = format!("{v:e}");
        prop_assert_eq!(canonicalize(spelled.as_bytes(), &CanonOptions::plain()).map_err(|e| e.code()), Ok(text.clone().into_bytes()));
        match canonicalize(text.as_bytes(), &CanonOptions::default()) {
            Ok(out) => prop_assert_eq!(String::from_utf8(out).unwrap(), text.clone()),
            Err(e) => {
                prop_assert_eq!(e.code(), ResultCode::MEDSEAL_JSON_NUMBER_OUT_OF_RANGE);
                prop_assert!(is_big_integer_text(v), "{} refused", text);
            }
        }
    }
}

#[test]
fn oracle_sanity() {
    // The oracle agrees with RFC 8785's own example ordering (UTF-16, not code points).
    let j = J::Obj(vec![
        ("\u{fb33}".into(), J::Null),
        ("\u{1f602}".into(), J::Null),
        ("\r".into(), J::Null),
        ("é".into(), J::Num(1.0)),
        ("1".into(), J::Num(-0.0)),
    ]);
    assert_eq!(canonical_text(&j), "{\"\\r\":null,\"1\":0,\"é\":1,\"\u{1f602}\":null,\"\u{fb33}\":null}");
    let input = render(&j, 7, true);
    assert_eq!(canonicalize(input.as_bytes(), &CanonOptions::plain()).unwrap(), canonical_text(&j).into_bytes());
}
