//! Text medseal did not write (record ids, sources, header values, a server's reasons, names
//! in certificates and lists) made safe to put into a message, a log line or a terminal.
//!
//! One rule everywhere: the text stays readable (Vietnamese names keep their letters), but
//! nothing in it can act on the reader. Control characters (newlines, escape sequences, NUL),
//! bidirectional overrides and isolates (which reorder what a terminal or log viewer shows,
//! "Trojan Source") and invisible format characters (zero-width spaces and joiners, the byte
//! order mark) are written as Rust escapes (`\n`, `\u{202e}`), and so is the backslash itself,
//! so an escape in the output always means an escaped character. Long text is cut at a
//! character boundary and marked with `…`.

/// The length [`shown`] cuts at, in characters: enough to recognise an id or a name.
const SHORT_CHARS: usize = 64;

/// `text` for a message: escaped (see the module documentation), at most 64 characters.
pub fn shown(text: &str) -> String {
    shown_max(text, SHORT_CHARS)
}

/// `text` for a message: escaped, at most `max_chars` characters of it (then `…`).
pub fn shown_max(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    let mut chars = text.chars();
    for c in chars.by_ref().take(max_chars) {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// Bytes that should be UTF-8 text, for a message: invalid sequences become U+FFFD, then as
/// [`shown_max`].
pub fn shown_bytes(bytes: &[u8], max_chars: usize) -> String {
    // Only what can be shown is decoded: 4 bytes per character at most.
    let head = &bytes[..bytes.len().min(max_chars.saturating_add(1).saturating_mul(4))];
    let mut out = shown_max(&String::from_utf8_lossy(head), max_chars);
    if head.len() < bytes.len() && !out.ends_with('…') {
        out.push('…');
    }
    out
}

/// Characters written as escapes: controls (Unicode category Cc), the backslash, and the
/// invisible format characters that change how the rest is displayed.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || c == '\\'
        || matches!(
            c,
            '\u{00AD}'                     // soft hyphen
            | '\u{061C}'                   // Arabic letter mark
            | '\u{180E}'                   // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'      // zero-width space, joiners, LRM, RLM
            | '\u{2028}'..='\u{202E}'      // line/paragraph separators, LRE, RLE, PDF, LRO, RLO
            | '\u{2060}'..='\u{206F}'      // word joiner, invisible operators, LRI, RLI, FSI, PDI, deprecated formats
            | '\u{FEFF}'                   // byte order mark / zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_text_is_kept() {
        assert_eq!(shown("Bệnh viện Chợ Rẫy"), "Bệnh viện Chợ Rẫy");
        assert_eq!(shown("rec-1 \"quoted\" 'x'"), "rec-1 \"quoted\" 'x'");
        assert_eq!(shown(""), "");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(shown("a\nb\r\tc"), "a\\nb\\r\\tc");
        assert_eq!(shown("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(shown("nul\0"), "nul\\u{0}");
        assert_eq!(shown("del\u{7f} c1\u{85}"), "del\\u{7f} c1\\u{85}");
        // An escape in the output always means an escaped character.
        assert_eq!(shown("a\\nb"), "a\\\\nb");
    }

    #[test]
    fn bidi_overrides_and_invisible_characters_are_escaped() {
        assert_eq!(shown("invoice\u{202E}fdp.exe"), "invoice\\u{202e}fdp.exe");
        assert_eq!(shown("\u{2066}a\u{2069}"), "\\u{2066}a\\u{2069}");
        assert_eq!(shown("a\u{200B}b\u{200D}c\u{FEFF}"), "a\\u{200b}b\\u{200d}c\\u{feff}");
        assert_eq!(shown("\u{200E}\u{200F}\u{061C}"), "\\u{200e}\\u{200f}\\u{61c}");
        assert_eq!(shown("line\u{2028}sep"), "line\\u{2028}sep");
        for c in shown("x\u{202A}\u{202B}\u{202C}\u{202D}\u{2067}\u{2068}").chars() {
            assert!(c.is_ascii(), "{c:?} left as is");
        }
    }

    #[test]
    fn long_text_is_cut_at_a_character() {
        let long = "ệ".repeat(1000);
        let out = shown(&long);
        assert_eq!(out.chars().count(), 65);
        assert!(out.ends_with('…'));
        assert_eq!(shown(&"a".repeat(64)), "a".repeat(64));
        assert_eq!(shown(&"a".repeat(65)), "a".repeat(64) + "…");
        assert_eq!(shown_max("abc", 0), "…");
        assert_eq!(shown_max(&"x".repeat(1 << 20), 500).chars().count(), 501);
        // Escapes do not count against the limit of characters taken.
        assert_eq!(shown_max("\n\n", 2), "\\n\\n");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(shown_bytes(b"ok\xff\xfe!", 64), "ok\u{FFFD}\u{FFFD}!");
        assert_eq!(shown_bytes(b"\xe1\xbb", 64), "\u{FFFD}");
        assert_eq!(shown_bytes("Chợ Rẫy\n".as_bytes(), 64), "Chợ Rẫy\\n");
        let big = vec![b'a'; 10 << 20];
        assert_eq!(shown_bytes(&big, 10), "a".repeat(10) + "…");
        // A cut inside a character is not shown as a bad byte.
        assert_eq!(shown_bytes("ệệệ".as_bytes(), 3), "ệệệ");
        assert_eq!(shown_bytes("ệệệệ".as_bytes(), 1), "ệ…");
    }
}
