//! What accepted paths turn into: the canonical form, its segments, the
//! trailing slash, and that the form is a fixed point.

use keyward_policy::NormalizedPath;

use crate::{canon, path};

#[test]
fn unreserved_escapes_are_decoded_others_upper_cased() {
    assert_eq!(canon("/%41%62c"), "/Abc");
    assert_eq!(canon("/v1/%63harges"), "/v1/charges");
    assert_eq!(canon("/a%2d%2E%5f%7e"), "/a-._~");
    assert_eq!(canon("/a%3ab%40c"), "/a%3Ab%40c");
    assert_eq!(canon("/files/my%20doc"), "/files/my%20doc");
}

#[test]
fn trailing_slash_is_kept_and_flagged() {
    let p = path("/v1/charges/");
    assert_eq!(p.as_str(), "/v1/charges/");
    assert!(p.has_trailing_slash());
    assert_eq!(p.segments().collect::<Vec<_>>(), ["v1", "charges"]);
    assert!(!path("/v1/charges").has_trailing_slash());
}

#[test]
fn root_has_no_segments() {
    let p = path("/");
    assert_eq!(p.as_str(), "/");
    assert_eq!(p.segments().count(), 0);
    assert!(!p.has_trailing_slash());
}

#[test]
fn case_is_preserved() {
    assert_eq!(canon("/V1/Charges"), "/V1/Charges");
}

#[test]
fn segments_are_canonical() {
    let p = path("/v1/ch%5f1/a%3a");
    assert_eq!(p.segments().collect::<Vec<_>>(), ["v1", "ch_1", "a%3A"]);
}

#[test]
fn canonical_form_is_a_fixed_point() {
    for raw in [
        "/",
        "/a",
        "/a/",
        "/%41%3a/%7e%20x/",
        "/v1/charges/ch_1",
        "/a!$&'()*+,=:@b",
    ] {
        let p = path(raw);
        assert_eq!(NormalizedPath::parse(p.as_str()), Ok(p.clone()), "{raw:?}");
        assert_eq!(p.to_string(), p.as_str());
    }
}

#[test]
fn equivalent_spellings_are_equal() {
    assert_eq!(path("/v1/%63harges"), path("/v1/charges"));
    assert_eq!(path("/a%3ab"), path("/a%3Ab"));
    assert_ne!(path("/a:b"), path("/a%3Ab"));
}
