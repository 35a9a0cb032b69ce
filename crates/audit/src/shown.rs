//! Agent text as a human reads it: the one escaping every place that shows
//! an agent's words to the human uses — the approval question on every
//! channel (`keyward approvals`, the MCP client's elicitation form, the
//! dashboard), the audit records, and `keyward config diff`.
//!
//! Text from an agent (a `reason`, a path, a tool argument, a body) can
//! carry characters that change how a line *reads* without showing
//! themselves: bidirectional overrides and isolates (U+202E, U+2066…),
//! zero-width characters (U+200B, U+2060, U+FEFF), line and paragraph
//! separators (U+2028/9) and other control and invisible format
//! characters. A question could then read differently from the call that
//! will run ("Trojan Source"). [`escape`] replaces each of them with a
//! visible escape:
//!
//! | in the text | shown as |
//! |---|---|
//! | line feed, carriage return | `\n`, `\r` |
//! | any other hidden character ([`is_hidden`]) | `\u{HEX}`, e.g. `\u{202e}` |
//! | a backslash | `\\` |
//! | anything else (tabs included) | itself |
//!
//! Escaping the backslash makes the escapes unforgeable: every `\` in the
//! output starts an escape, so an agent that writes the six characters
//! `\u{202e}` is shown `\\u{202e}`, never what a real U+202E is shown as.
//! The mapping is per character and prefix-free, hence injective (two
//! different texts are never shown alike) and it commutes with
//! concatenation (escaping pieces and joining them is escaping the join).
//!
//! Escape text once, where it enters what is shown (the question, the
//! audit record); a channel that prints such text passes it through
//! [`shown`], which leaves escaped text as it is and escapes anything that
//! still holds a hidden character (text from an older keyward, or from a
//! peer that is not keyward at all).

use std::borrow::Cow;

/// `s` as a human may read it: every hidden character escaped (see the
/// module documentation). Pure and total, for any `&str`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// [`escape`], appending to `out`.
pub fn escape_into(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// Text bound for a human: unchanged when it holds no hidden character
/// (text [`escape`]d already is never changed again), else [`escape`]d.
/// The output never holds a hidden character.
pub fn shown(s: &str) -> Cow<'_, str> {
    if s.chars().any(is_hidden) {
        Cow::Owned(escape(s))
    } else {
        Cow::Borrowed(s)
    }
}

/// The first `max_chars` characters of `s`, [`escape`]d, and when `s` was
/// longer, a plain note of how much is not shown.
pub fn escape_bounded(s: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(max_chars).collect();
    escape_into(&mut out, &head);
    let rest = chars.count();
    if rest > 0 {
        out.push_str(&format!("… [{rest} more characters not shown]"));
    }
    out
}

/// A character that is not seen, or that changes how the text around it
/// reads: control characters (C0, DEL, C1) but the tab; bidirectional
/// marks, embeddings, overrides and isolates; zero-width and other
/// invisible format characters; line and paragraph separators; variation
/// selectors, fillers and tag characters.
pub fn is_hidden(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{00ad}'                      // soft hyphen
            | '\u{034f}'                    // combining grapheme joiner
            | '\u{061c}'                    // Arabic letter mark
            | '\u{115f}' | '\u{1160}'       // Hangul fillers
            | '\u{17b4}' | '\u{17b5}'       // Khmer inherent vowels
            | '\u{180b}'..='\u{180f}'       // Mongolian selectors, vowel separator
            | '\u{200b}'..='\u{200f}'       // zero-width space/joiners, LRM, RLM
            | '\u{2028}'..='\u{202e}'       // separators, embeddings, overrides
            | '\u{2060}'..='\u{206f}'       // word joiner, invisible operators, isolates
            | '\u{3164}'                    // Hangul filler
            | '\u{fe00}'..='\u{fe0f}'       // variation selectors
            | '\u{feff}'                    // zero-width no-break space (BOM)
            | '\u{ffa0}'                    // halfwidth Hangul filler
            | '\u{fff9}'..='\u{fffb}'       // interlinear annotation
            | '\u{1bca0}'..='\u{1bca3}'     // shorthand format controls
            | '\u{1d173}'..='\u{1d17a}'     // musical formatting
            | '\u{e0000}'..='\u{e007f}'     // tags
            | '\u{e0100}'..='\u{e01ef}' // variation selectors supplement
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reverses [`escape`]; `None` for text `escape` never produces. Only
    /// for the tests: a round trip proves the escaping injective.
    fn unescape(s: &str) -> Option<String> {
        let mut out = String::new();
        let mut it = s.chars();
        while let Some(c) = it.next() {
            if c != '\\' {
                if is_hidden(c) {
                    return None;
                }
                out.push(c);
                continue;
            }
            match it.next()? {
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                'u' => {
                    if it.next()? != '{' {
                        return None;
                    }
                    let hex: String = it.by_ref().take_while(|&c| c != '}').collect();
                    let c = char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?;
                    if !is_hidden(c) || matches!(c, '\n' | '\r') {
                        return None;
                    }
                    out.push(c);
                }
                _ => return None,
            }
        }
        Some(out)
    }

    /// The characters the issue names, and more of their kind.
    const DANGEROUS: &[char] = &[
        '\u{202e}',
        '\u{202a}',
        '\u{202b}',
        '\u{202c}',
        '\u{202d}',
        '\u{2066}',
        '\u{2067}',
        '\u{2068}',
        '\u{2069}',
        '\u{200e}',
        '\u{200f}',
        '\u{061c}',
        '\u{200b}',
        '\u{200c}',
        '\u{200d}',
        '\u{2060}',
        '\u{feff}',
        '\u{2028}',
        '\u{2029}',
        '\u{0}',
        '\u{7}',
        '\u{8}',
        '\u{1b}',
        '\u{7f}',
        '\u{85}',
        '\u{9b}',
        '\n',
        '\r',
        '\u{e0041}',
    ];

    fn hostile() -> impl Strategy<Value = String> {
        let c = prop_oneof![
            3 => any::<char>(),
            2 => prop::sample::select(DANGEROUS),
            2 => prop::sample::select(&['\\', 'u', '{', '}', '2', 'e', 'a', '\t'][..]),
        ];
        prop::collection::vec(c, 0..40).prop_map(|v| v.into_iter().collect())
    }

    #[test]
    fn bidi_override_in_reason_is_escaped() {
        let reason = "refund \u{202e}0001\u{202c} EUR\u{200b}\u{2028}approved by finance";
        let shown = escape(reason);
        assert_eq!(
            shown,
            "refund \\u{202e}0001\\u{202c} EUR\\u{200b}\\u{2028}approved by finance"
        );
        for c in DANGEROUS {
            assert!(is_hidden(*c), "{c:?}");
            assert!(!escape(&format!("a{c}b")).contains(*c), "{c:?}");
        }
    }

    #[test]
    fn an_escape_written_by_the_agent_is_not_shown_as_one() {
        // Six characters that look like the escape of U+202E.
        assert_eq!(escape("\\u{202e}"), "\\\\u{202e}");
        assert_ne!(escape("\\u{202e}"), escape("\u{202e}"));
        assert_eq!(escape("C:\\tmp\\new"), "C:\\\\tmp\\\\new");
        assert_ne!(escape("\\n"), escape("\n"));
    }

    #[test]
    fn ordinary_text_is_shown_as_it_is() {
        for s in [
            "",
            "POST /refunds/42?amount=5",
            "a\tb",
            "Grüße, 日本語, emoji 🙂",
            "&<>\"'",
        ] {
            assert_eq!(escape(s), s);
            assert!(matches!(shown(s), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn shown_leaves_escaped_text_alone() {
        let e = escape("x\\y\u{202e}z\n");
        assert_eq!(shown(&e), e.as_str());
        assert_eq!(shown("a\u{2066}b"), "a\\u{2066}b");
    }

    #[test]
    fn bounded_text_says_how_much_was_cut() {
        assert_eq!(escape_bounded("abc", 3), "abc");
        assert_eq!(
            escape_bounded("ab\u{202e}cdef", 3),
            "ab\\u{202e}… [4 more characters not shown]"
        );
    }

    proptest! {
        #[test]
        fn the_output_never_holds_a_hidden_character(s in hostile()) {
            let e = escape(&s);
            prop_assert!(!e.chars().any(is_hidden), "{:?}", e);
            for c in DANGEROUS {
                prop_assert!(!e.contains(*c));
            }
            prop_assert!(!shown(&s).chars().any(is_hidden));
            prop_assert!(!escape_bounded(&s, 7).chars().any(is_hidden));
        }

        #[test]
        fn distinct_texts_are_shown_distinctly(a in hostile(), b in hostile()) {
            prop_assert_eq!(unescape(&escape(&a)), Some(a.clone()));
            if a != b {
                prop_assert_ne!(escape(&a), escape(&b));
            }
        }

        #[test]
        fn escaping_commutes_with_joining(a in hostile(), b in hostile()) {
            prop_assert_eq!(escape(&format!("{a}{b}")), escape(&a) + &escape(&b));
        }

        #[test]
        fn shown_is_idempotent(s in hostile()) {
            let once = shown(&s).into_owned();
            prop_assert_eq!(shown(&once), once.as_str());
            let e = escape(&s);
            prop_assert_eq!(shown(&e), e.as_str());
        }
    }
}
