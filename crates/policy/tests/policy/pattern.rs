//! Path patterns: literals, `*`, `**`, in-segment `*`, the root, and that
//! pattern text is canonicalised like paths.

use keyward_policy::{PathError, PathPattern, PatternError};

use crate::path;

fn pat(s: &str) -> PathPattern {
    match PathPattern::parse(s) {
        Ok(p) => p,
        Err(e) => panic!("{s:?} should parse, got: {e}"),
    }
}

/// Asserts which of `paths` the pattern matches (case-sensitively).
fn check(pattern: &str, yes: &[&str], no: &[&str]) {
    let p = pat(pattern);
    for y in yes {
        assert!(p.matches(&path(y), false), "{pattern} should match {y}");
    }
    for n in no {
        assert!(
            !p.matches(&path(n), false),
            "{pattern} should not match {n}"
        );
    }
}

#[test]
fn literal_matches_only_itself_trailing_slash_aside() {
    check(
        "/v1/charges",
        &["/v1/charges", "/v1/charges/", "/v1/%63harges"],
        &[
            "/v1/charges/x",
            "/v1",
            "/v1/chargesx",
            "/v1/charge",
            "/",
            "/V1/charges",
        ],
    );
    // A trailing slash in the pattern is ignored the same way.
    check(
        "/v1/charges/",
        &["/v1/charges", "/v1/charges/"],
        &["/v1/charges/x"],
    );
}

#[test]
fn star_is_exactly_one_segment() {
    check(
        "/v1/charges/*",
        &["/v1/charges/ch_1", "/v1/charges/ch_1/"],
        &["/v1/charges", "/v1/charges/", "/v1/charges/a/b"],
    );
    check("/*", &["/a"], &["/", "/a/b"]);
}

#[test]
fn double_star_is_zero_or_more_segments() {
    check(
        "/v1/charges/**",
        &[
            "/v1/charges",
            "/v1/charges/",
            "/v1/charges/a",
            "/v1/charges/a/b/c",
        ],
        &[
            "/v1/chargesx",
            "/v1/chargesx/a",
            "/v1/refunds/a",
            "/v1",
            "/",
        ],
    );
    check(
        "/v1/**/refunds",
        &["/v1/refunds", "/v1/a/refunds", "/v1/a/b/refunds"],
        &["/v1/a/refundsx", "/v1/a/refunds/x", "/v2/refunds"],
    );
    check(
        "/**/x/**/y",
        &["/x/y", "/a/x/b/y", "/x/x/y/y"],
        &["/y/x", "/x"],
    );
}

#[test]
fn star_inside_a_segment_stays_inside_it() {
    check(
        "/v1/ch_*/refunds",
        &["/v1/ch_123/refunds", "/v1/ch_/refunds"],
        &[
            "/v1/cus_1/refunds",
            "/v1/ch_1/x/refunds",
            "/v1/xch_1/refunds",
        ],
    );
    check(
        "/files/*.json",
        &["/files/a.json", "/files/.json"],
        &["/files/a.jsonx", "/files/a/b.json"],
    );
    check(
        "/a/x*y*z",
        &["/a/xyz", "/a/x1y2z", "/a/xyyz"],
        &["/a/xzy", "/a/xy"],
    );
    // The pieces may not overlap: `ab*ba` needs at least `abba`.
    check("/a/ab*ba", &["/a/abba", "/a/ab-ba"], &["/a/aba", "/a/ab"]);
}

#[test]
fn root_and_everything() {
    check("/", &["/"], &["/a", "/a/"]);
    check("/**", &["/", "/a", "/a/b/c/", "/%2A"], &[]);
}

#[test]
fn case_insensitive_matching_is_opt_in() {
    let p = pat("/admin/**");
    assert!(p.matches(&path("/ADMIN/x"), true));
    assert!(p.matches(&path("/Admin"), true));
    assert!(!p.matches(&path("/ADMIN/x"), false));
    let g = pat("/v1/CH_*");
    assert!(g.matches(&path("/v1/ch_1"), true));
    assert!(!g.matches(&path("/v1/ch_1"), false));
}

#[test]
fn literals_match_on_decoded_text() {
    // Reserved characters keep their encoding on the wire, but an encoding
    // variant is the same text to every rule.
    check(
        "/v1/users:delete",
        &[
            "/v1/users:delete",
            "/v1/users%3Adelete",
            "/v1/users%3adelete",
        ],
        &[],
    );
    check("/a%3Ab", &["/a:b"], &["/a%3Db", "/a%3A"]);
    // A literal `*` is written `%2A` in a pattern.
    check("/a/%2A", &["/a/*", "/a/%2a"], &["/a/b"]);
}

#[test]
fn pattern_text_is_canonical_and_a_fixed_point() {
    for (raw, canonical) in [
        ("/v1/%63harges/**", "/v1/charges/**"),
        ("/v1/ch_%2a*", "/v1/ch_%2A*"),
        ("/a%3ab/*/", "/a%3Ab/*/"),
        ("/", "/"),
        ("/**", "/**"),
    ] {
        let p = pat(raw);
        assert_eq!(p.as_str(), canonical);
        assert_eq!(p.to_string(), canonical);
        assert_eq!(pat(p.as_str()), p);
    }
}

#[test]
fn pattern_errors() {
    assert_eq!(
        PathPattern::parse("/a/**b"),
        Err(PatternError::DoubleStarInSegment { at: 3 })
    );
    assert_eq!(
        PathPattern::parse("/a/***"),
        Err(PatternError::DoubleStarInSegment { at: 3 })
    );
    assert_eq!(
        PathPattern::parse("/x/a**"),
        Err(PatternError::DoubleStarInSegment { at: 4 })
    );
    for (raw, err) in [
        ("/a/../b", PathError::DotSegment { at: 3 }),
        ("/a/%2e%2E/**", PathError::DotSegment { at: 3 }),
        ("a/b", PathError::NotAbsolute),
        ("//evil/**", PathError::NetworkPath),
        ("/a//b", PathError::EmptySegment { at: 3 }),
        ("/a;b/*", PathError::PathParameter { at: 2 }),
        ("/a%2f*", PathError::EncodedSlash { at: 2 }),
        ("/a/x*%2", PathError::BadPercentEncoding { at: 5 }),
        ("", PathError::Empty),
    ] {
        assert_eq!(
            PathPattern::parse(raw),
            Err(PatternError::Path(err)),
            "{raw:?}"
        );
    }
}
