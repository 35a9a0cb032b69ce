//! Splitting path from query, and what a query may not contain.

use keyward_policy::{MAX_QUERY_BYTES, PathError as E, split_path_and_query};

fn split(raw: &str) -> (String, Option<String>) {
    match split_path_and_query(raw) {
        Ok((p, q)) => (p.as_str().to_owned(), q),
        Err(e) => panic!("{raw:?} should be accepted, got: {e}"),
    }
}

fn reject(raw: &str) -> E {
    match split_path_and_query(raw) {
        Ok((p, q)) => panic!("{raw:?} should be rejected, got {p} {q:?}"),
        Err(e) => e,
    }
}

#[test]
fn splits_at_the_first_question_mark_and_keeps_the_query_verbatim() {
    assert_eq!(
        split("/v1/charges?limit=10&expand[]=customer"),
        (
            "/v1/charges".into(),
            Some("limit=10&expand[]=customer".into())
        )
    );
    assert_eq!(
        split("/x?a=1?b=/../c"),
        ("/x".into(), Some("a=1?b=/../c".into()))
    );
    assert_eq!(
        split("/x?q=%2e%2E%2f"),
        ("/x".into(), Some("q=%2e%2E%2f".into()))
    );
    assert_eq!(split("/x"), ("/x".into(), None));
    assert_eq!(split("/x?"), ("/x".into(), Some(String::new())));
    assert_eq!(split("/%41/?a"), ("/A/".into(), Some("a".into())));
}

#[test]
fn the_path_part_is_normalised_with_all_its_rules() {
    assert_eq!(reject("/v1/../admin?x=1"), E::DotSegment { at: 4 });
    assert_eq!(reject("?x=1"), E::Empty);
    assert_eq!(reject("evil.com?x=1"), E::NotAbsolute);
    assert_eq!(reject("//evil/?x"), E::NetworkPath);
    // An encoded `?` cannot move path text into the query or back.
    assert_eq!(
        reject("/v1/charges%3F/admin"),
        E::EncodedDelimiter { at: 11, ch: '?' }
    );
}

#[test]
fn query_too_long() {
    let q = "a".repeat(MAX_QUERY_BYTES + 1);
    assert_eq!(
        reject(&format!("/x?{q}")),
        E::QueryTooLong {
            len: MAX_QUERY_BYTES + 1,
            max: MAX_QUERY_BYTES
        }
    );
    let q = "a".repeat(MAX_QUERY_BYTES);
    assert_eq!(
        split(&format!("/x?{q}")).1.map(|q| q.len()),
        Some(MAX_QUERY_BYTES)
    );
}

#[test]
fn query_non_ascii() {
    assert_eq!(reject("/x?q=caf\u{e9}"), E::QueryNonAscii { at: 8 });
    assert_eq!(split("/x?q=caf%C3%A9").1.as_deref(), Some("q=caf%C3%A9"));
}

#[test]
fn query_control_char() {
    assert_eq!(
        reject("/x?a\r\nHost: evil"),
        E::QueryControlChar { at: 4, byte: 0x0D }
    );
    assert_eq!(reject("/x?a\0"), E::QueryControlChar { at: 4, byte: 0 });
    assert_eq!(
        reject("/x?a\x7f"),
        E::QueryControlChar { at: 4, byte: 0x7F }
    );
    // Encoded, they are data for the upstream, not part of the request line.
    assert_eq!(split("/x?a=%0D%0A").1.as_deref(), Some("a=%0D%0A"));
}

#[test]
fn query_space() {
    assert_eq!(reject("/x?a b"), E::QuerySpace { at: 4 });
    assert_eq!(split("/x?a+b").1.as_deref(), Some("a+b"));
}

#[test]
fn query_fragment() {
    assert_eq!(reject("/x?a#b"), E::QueryFragment { at: 4 });
    assert_eq!(split("/x?a=%23b").1.as_deref(), Some("a=%23b"));
}

#[test]
fn query_bad_percent_encoding() {
    assert_eq!(reject("/x?q=100%"), E::QueryBadPercentEncoding { at: 8 });
    assert_eq!(reject("/x?q=%zz"), E::QueryBadPercentEncoding { at: 5 });
    assert_eq!(split("/x?q=100%25").1.as_deref(), Some("q=100%25"));
}
