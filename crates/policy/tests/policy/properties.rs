//! Properties of the normaliser and matcher, over generated hostile input.
//!
//! The generators mix the tricks of SECURITY.md item 3 (dots, encoded dots
//! and slashes, `%25`, `;`, `?`, `#`, backslashes, look-alikes, control
//! characters) with ordinary path text, so that a good share of inputs is
//! accepted and the properties about accepted paths are really exercised;
//! `generators_reach_both_outcomes` checks that share.

use keyward_policy::{NormalizedPath, PathPattern, split_path_and_query};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

const TOKENS: &[&str] = &[
    "/",
    "/",
    "/",
    ".",
    "..",
    "%2e",
    "%2E",
    "%2f",
    "%2F",
    "%25",
    "%5c",
    "%41",
    "%3a",
    "%3F",
    "%23",
    "%3b",
    "%20",
    "%7e",
    "%c0%ae",
    "%EF%BC%8F",
    "%0d%0a",
    "%00",
    "%",
    "%2",
    "%zz",
    "a",
    "B",
    "v1",
    "admin",
    "ADMIN",
    "*",
    "**",
    ";",
    "?",
    "#",
    "\\",
    " ",
    "\u{FF0F}",
    "\u{FF0E}",
    "\0",
    "\r\n",
    "~",
    ":",
    "@",
    "https:",
    "//",
    "[",
    "|",
];

/// One piece of a segment: mostly ordinary text and escapes of printable
/// ASCII, sometimes a trick.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => "[a-zA-Z0-9_~:@!$&'()*+,=-]{1,5}",
        3 => "%[2-7][0-9a-fA-F]",
        1 => "%[0-9a-fA-F]{2}",
        1 => "[.]{1,3}",
        2 => select(TOKENS).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ]
}

/// Path-like strings: mostly `/`-separated segments of pieces, sometimes
/// without the leading `/` or with a trailing one.
pub(crate) fn raw_path() -> impl Strategy<Value = String> {
    let segment = prop::collection::vec(piece(), 1..4).prop_map(|p| p.concat());
    (
        prop::bool::weighted(0.95),
        prop::collection::vec(segment, 0..7),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(lead, segs, trail)| {
            let mut s = if lead { "/".to_owned() } else { String::new() };
            s.push_str(&segs.join("/"));
            if trail {
                s.push('/');
            }
            s
        })
}

/// Checks everything an accepted path's canonical form promises.
fn assert_clean(p: &NormalizedPath) -> Result<(), TestCaseError> {
    let s = p.as_str();
    prop_assert!(s.starts_with('/'), "{s}");
    prop_assert!(!s.contains("//"), "{s}");
    prop_assert!(s.is_ascii(), "{s}");
    prop_assert!(!s.bytes().any(|b| b.is_ascii_control()), "{s:?}");
    prop_assert!(
        !s.contains([
            ' ', '\\', '#', ';', '?', '"', '<', '>', '`', '{', '}', '|', '^'
        ]),
        "{s}"
    );
    for bad in [
        "%2F", "%25", "%5C", "%2E", "%3F", "%23", "%3B", "%C0", "%EF", "%0D", "%00",
    ] {
        prop_assert!(!s.to_ascii_uppercase().contains(bad), "{s} contains {bad}");
    }
    for seg in p.segments() {
        prop_assert!(!seg.is_empty() && seg != "." && seg != "..", "{s}");
    }
    // Every escape is `%` + two upper-case hex digits of a kept character.
    let b = s.as_bytes();
    for (i, _) in s.match_indices('%') {
        let hex = b.get(i + 1..i + 3).unwrap_or_default();
        prop_assert!(
            hex.len() == 2
                && hex
                    .iter()
                    .all(|h| h.is_ascii_digit() || (b'A'..=b'F').contains(h)),
            "{s}"
        );
        let v = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("zz"), 16).unwrap_or(0);
        prop_assert!(
            !(v.is_ascii_alphanumeric() || b"-._~".contains(&v)),
            "{s}: unreserved kept encoded"
        );
    }
    Ok(())
}

/// `pre` (`/a/b`) as a path prefix of `c`: `c` is `pre`, `pre/` or below.
fn under(c: &str, pre: &str) -> bool {
    c == pre
        || c.strip_prefix(pre)
            .is_some_and(|rest| rest.starts_with('/'))
}

proptest! {
    #[test]
    fn normalisation_is_idempotent(raw in raw_path()) {
        if let Ok(p) = NormalizedPath::parse(&raw) {
            prop_assert_eq!(NormalizedPath::parse(p.as_str()), Ok(p.clone()));
        }
    }

    #[test]
    fn accepted_paths_are_clean(raw in raw_path()) {
        if let Ok(p) = NormalizedPath::parse(&raw) {
            assert_clean(&p)?;
        }
        if let Ok((p, _)) = split_path_and_query(&raw) {
            assert_clean(&p)?;
        }
    }

    #[test]
    fn patterns_are_idempotent(raw in raw_path()) {
        if let Ok(p) = PathPattern::parse(&raw) {
            prop_assert_eq!(PathPattern::parse(p.as_str()), Ok(p.clone()));
        }
    }

    /// A `/prefix/**` pattern matches exactly the paths whose canonical form
    /// is the prefix or below it: the agent cannot climb out with any
    /// trick, and nothing below is missed.
    #[test]
    fn a_prefix_cannot_be_escaped(
        prefix in prop::collection::vec("[a-zA-Z0-9_-]{1,4}", 1..3),
        tail in raw_path(),
        glue in select(&["", "/", "/../", "/./", "%2f", "/%2e%2e/", "/x/.."][..]),
        lower in any::<bool>(),
    ) {
        let pre = format!("/{}", prefix.join("/"));
        let raw = format!("{pre}{glue}{tail}");
        let raw = if lower { raw.to_lowercase() } else { raw };
        let pattern = PathPattern::parse(&format!("{pre}/**")).expect("valid prefix pattern");
        if let Ok(p) = NormalizedPath::parse(&raw) {
            let c = p.as_str();
            prop_assert_eq!(pattern.matches(&p, false), under(c, &pre), "{} vs {}", c, pre);
            prop_assert_eq!(
                pattern.matches(&p, true),
                under(&c.to_ascii_lowercase(), &pre.to_ascii_lowercase()),
                "{} vs {} (case-insensitive)", c, pre
            );
        }
    }

    /// Percent-encoding an unreserved character never changes the path.
    #[test]
    fn unreserved_escapes_are_the_same_path(
        segs in prop::collection::vec("[a-zA-Z0-9._~-]{1,6}", 1..5),
        pick in any::<prop::sample::Index>(),
        upper in any::<bool>(),
    ) {
        let plain = format!("/{}", segs.join("/"));
        let Ok(p) = NormalizedPath::parse(&plain) else { return Ok(()) };
        let positions: Vec<usize> = plain.char_indices().filter(|(_, c)| *c != '/').map(|(i, _)| i).collect();
        let i = positions[pick.index(positions.len())];
        let hex = format!("%{:02x}", plain.as_bytes()[i]);
        let hex = if upper { hex.to_ascii_uppercase() } else { hex };
        let encoded = format!("{}{}{}", &plain[..i], hex, &plain[i + 1..]);
        prop_assert_eq!(NormalizedPath::parse(&encoded), Ok(p));
    }

    #[test]
    fn no_input_panics(s in any::<String>(), t in raw_path()) {
        for input in [&s, &t] {
            let path = NormalizedPath::parse(input);
            let _ = split_path_and_query(input);
            let pattern = PathPattern::parse(input);
            let _ = keyward_policy::Method::parse(input);
            let _ = input.parse::<keyward_policy::Rate>();
            let _ = keyward_policy::HttpRule::parse_short(keyward_policy::Action::Deny, input);
            if let (Ok(p), Ok(pat)) = (path, pattern) {
                // A path read as a pattern matches itself.
                prop_assert!(pat.matches(&p, false) || input.contains('*'));
            }
        }
    }
}

/// Guards the properties above against passing vacuously: over a fixed
/// seed, the generator must produce plenty of accepted and of rejected
/// paths, and the prefix property must see matches and non-matches.
#[test]
fn generators_reach_both_outcomes() {
    let mut runner = TestRunner::deterministic();
    let strategy = raw_path();
    let (mut ok, mut err) = (0, 0);
    for _ in 0..2000 {
        let raw = strategy.new_tree(&mut runner).expect("tree").current();
        match NormalizedPath::parse(&raw) {
            Ok(p) if p.segments().count() >= 2 => ok += 1,
            Ok(_) => {}
            Err(_) => err += 1,
        }
    }
    assert!(ok >= 200, "only {ok} multi-segment paths accepted");
    assert!(err >= 200, "only {err} paths rejected");
}
