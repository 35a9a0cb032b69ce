//! Agent text as a human reads it (`keyward_audit::shown`, SECURITY.md's
//! "Trojan Source" item): for any text, the escaped form holds no hidden
//! character, decodes back to the text (so no two texts are shown alike and
//! an agent cannot write something that reads as an escape), commutes with
//! joining, and `shown`/`escape_bounded` keep those promises too.
#![no_main]

use keyward_audit::shown::{escape, escape_bounded, is_hidden, shown};
use libfuzzer_sys::fuzz_target;

/// The inverse of `escape` as its documentation defines the escapes;
/// `None` for text `escape` can never produce.
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
                if hex.is_empty() || hex.starts_with('0') && hex.len() > 1 {
                    return None; // one spelling per character
                }
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

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let e = escape(&text);
    assert!(!e.chars().any(is_hidden), "hidden character in {e:?}");
    assert_eq!(
        unescape(&e).as_deref(),
        Some(&*text),
        "escape is not reversible: {text:?} is shown as {e:?}"
    );
    // Commutes with joining, at a split point the input chooses.
    let at = data
        .first()
        .map_or(0, |&b| usize::from(b) % (text.len() + 1));
    if text.is_char_boundary(at) {
        let (a, b) = text.split_at(at);
        assert_eq!(
            escape(a) + &escape(b),
            e,
            "escaping pieces differs from the whole"
        );
    }
    // `shown` never lets a hidden character through and leaves escaped text alone.
    let s = shown(&text);
    assert!(
        !s.chars().any(is_hidden),
        "shown let a hidden character through"
    );
    assert_eq!(shown(&e), e.as_str(), "shown changed escaped text");
    // The bounded form is the escaped head and a plain note.
    let max = usize::from(data.last().copied().unwrap_or(0));
    let bounded = escape_bounded(&text, max);
    assert!(
        !bounded.chars().any(is_hidden),
        "escape_bounded let a hidden character through"
    );
    let head: String = text.chars().take(max).collect();
    assert!(
        bounded.starts_with(&escape(&head)),
        "escape_bounded cut inside an escape"
    );
});
