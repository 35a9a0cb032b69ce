//! The path normaliser and pattern matcher (SECURITY.md item 3). Input:
//! `PATTERN\nPATH[?QUERY]`. Checked:
//! - a normalised path parses again to itself, and what a server that
//!   percent-decodes (once or twice) and resolves dot segments sees is the
//!   path that was matched: no dot segment, no empty segment, no `\`, `;`,
//!   `?` or `#`, no escape left after one decoding;
//! - a valid query is ASCII with no space, control character or `#`;
//! - a pattern parses again to itself, and matches a path exactly when a
//!   plain reference matcher says so, with and without case folding
//!   (folding only ever adds matches);
//! - the pattern made of the path's own text matches the path, and `/**`
//!   matches every path.
#![no_main]

use keyward_fuzz::reference::{path_matches, percent_decode};
use keyward_policy::{NormalizedPath, PathPattern, split_path_and_query};
use libfuzzer_sys::fuzz_target;

fn check_server_view(p: &NormalizedPath) {
    let wire = p.as_str();
    assert!(wire.starts_with('/') && !wire.starts_with("//"), "{wire:?}");
    assert!(wire.is_ascii(), "{wire:?}");
    assert_eq!(
        NormalizedPath::parse(wire).as_ref(),
        Ok(p),
        "not idempotent"
    );
    let once = percent_decode(wire);
    assert_eq!(
        percent_decode(&String::from_utf8_lossy(&once)),
        once,
        "double decoding changes {wire:?}"
    );
    for c in [b'\\', b';', b'?', b'#', b'%'] {
        assert!(
            !once.contains(&c),
            "{wire:?} decodes to a {:?}",
            char::from(c)
        );
    }
    let body = &once[1..];
    let body = body.strip_suffix(b"/").unwrap_or(body);
    if !body.is_empty() {
        for seg in body.split(|&b| b == b'/') {
            assert!(
                seg != b"." && seg != b".." && !seg.is_empty(),
                "{wire:?} has a dot or empty segment"
            );
            assert!(
                seg.iter().all(|b| (0x20..0x7f).contains(b)),
                "{wire:?} decodes to a control or non-ASCII byte"
            );
        }
    }
    for seg in p.segments() {
        assert!(seg != "." && seg != ".." && !seg.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, raw) = text.split_once('\n').unwrap_or(("/**", text));
    let path = match split_path_and_query(raw) {
        Ok((path, query)) => {
            if let Some(q) = query {
                assert!(q.is_ascii() && !q.contains([' ', '#']), "{q:?}");
                assert!(!q.chars().any(|c| c.is_ascii_control()), "{q:?}");
            }
            check_server_view(&path);
            Some(path)
        }
        Err(_) => None,
    };
    let pat = PathPattern::parse(pattern).ok();
    if let Some(pat) = &pat {
        assert_eq!(
            PathPattern::parse(pat.as_str()).as_ref(),
            Ok(pat),
            "pattern not idempotent"
        );
    }
    let Some(path) = path else {
        return;
    };
    if let Some(pat) = &pat {
        let exact = pat.matches(&path, false);
        let folded = pat.matches(&path, true);
        assert_eq!(
            exact,
            path_matches(pat.as_str(), path.as_str(), false),
            "{pat} vs {path}"
        );
        assert_eq!(
            folded,
            path_matches(pat.as_str(), path.as_str(), true),
            "{pat} vs {path}, folded"
        );
        assert!(
            !exact || folded,
            "case folding lost a match: {pat} vs {path}"
        );
    }
    if let Ok(own) = PathPattern::parse(path.as_str()) {
        assert!(own.matches(&path, false), "{path} does not match itself");
    }
    let all = PathPattern::parse("/**").expect("valid");
    assert!(all.matches(&path, false));
});
