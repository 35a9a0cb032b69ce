//! Every `PathError` variant of the path itself: each test shows inputs that
//! must hit the variant and near misses that must not (SECURITY.md item 3).

use keyward_policy::{MAX_PATH_BYTES, MAX_SEGMENTS, NormalizedPath, PathError as E};

use crate::{canon, reject};

#[test]
fn empty() {
    assert_eq!(reject(""), E::Empty);
    assert_eq!(canon("/"), "/");
}

#[test]
fn too_long() {
    let long = format!("/{}", "a".repeat(MAX_PATH_BYTES));
    assert_eq!(
        reject(&long),
        E::TooLong {
            len: MAX_PATH_BYTES + 1,
            max: MAX_PATH_BYTES
        }
    );
    let fits = format!("/{}", "a".repeat(MAX_PATH_BYTES - 1));
    assert_eq!(canon(&fits), fits);
}

#[test]
fn too_many_segments() {
    let many = "/a".repeat(MAX_SEGMENTS + 1);
    assert_eq!(
        reject(&many),
        E::TooManySegments {
            count: MAX_SEGMENTS + 1,
            max: MAX_SEGMENTS
        }
    );
    let fits = "/a".repeat(MAX_SEGMENTS);
    assert_eq!(canon(&fits), fits);
    // The trailing slash is not a segment.
    assert_eq!(canon(&format!("{fits}/")), format!("{fits}/"));
}

#[test]
fn absolute_url() {
    for raw in [
        "https://evil/",
        "http://evil.com/v1/charges",
        "HTTPS://evil",
        "javascript:alert(1)",
        "git+ssh://evil/x",
    ] {
        assert_eq!(reject(raw), E::AbsoluteUrl, "{raw:?}");
    }
    // A colon inside a segment is an ordinary path character.
    assert_eq!(canon("/v1/https:x"), "/v1/https:x");
}

#[test]
fn not_absolute() {
    for raw in [
        "evil.com/x",
        "@evil",
        "@evil/x",
        "\\\\evil",
        "v1/charges",
        "./x",
        "%2Fx",
        " /x",
    ] {
        assert_eq!(reject(raw), E::NotAbsolute, "{raw:?}");
    }
    assert_eq!(canon("/@evil"), "/@evil");
}

#[test]
fn network_path() {
    for raw in ["//evil/x", "//evil", "//", "///x"] {
        assert_eq!(reject(raw), E::NetworkPath, "{raw:?}");
    }
    assert_eq!(canon("/evil/x"), "/evil/x");
}

#[test]
fn non_ascii() {
    // Fullwidth solidus and fullwidth full stops: look-alikes of `/` and `.`.
    assert_eq!(reject("/v1\u{FF0F}admin"), E::NonAscii { at: 3 });
    assert_eq!(reject("/v1/\u{FF0E}\u{FF0E}/x"), E::NonAscii { at: 4 });
    assert_eq!(reject("/caf\u{e9}"), E::NonAscii { at: 4 });
    assert_eq!(canon("/cafe"), "/cafe");
}

#[test]
fn control_char() {
    assert_eq!(
        reject("/a\r\nHost: evil"),
        E::ControlChar { at: 2, byte: 0x0D }
    );
    assert_eq!(reject("/a\nb"), E::ControlChar { at: 2, byte: 0x0A });
    assert_eq!(reject("/a\tb"), E::ControlChar { at: 2, byte: 0x09 });
    assert_eq!(reject("/a\0"), E::ControlChar { at: 2, byte: 0x00 });
    assert_eq!(reject("/a\x7f"), E::ControlChar { at: 2, byte: 0x7F });
    assert_eq!(canon("/a~b"), "/a~b");
}

#[test]
fn backslash() {
    assert_eq!(reject("/a\\b"), E::Backslash { at: 2 });
    assert_eq!(reject("/\\\\evil"), E::Backslash { at: 1 });
    assert_eq!(reject("/v1/..\\admin"), E::Backslash { at: 6 });
}

#[test]
fn fragment() {
    assert_eq!(reject("/v1/charges#x"), E::Fragment { at: 11 });
    assert_eq!(reject("/#"), E::Fragment { at: 1 });
}

#[test]
fn path_parameter() {
    assert_eq!(reject("/admin;jsessionid=abc"), E::PathParameter { at: 6 });
    assert_eq!(reject("/v1/charges;/x"), E::PathParameter { at: 11 });
    assert_eq!(reject("/..;/admin"), E::PathParameter { at: 3 });
}

#[test]
fn query_in_path() {
    assert_eq!(reject("/v1/charges?x=1"), E::QueryInPath { at: 11 });
}

#[test]
fn forbidden_char() {
    for (raw, ch) in [
        ("/a b", ' '),
        ("/a\"b", '"'),
        ("/a<b", '<'),
        ("/a>b", '>'),
        ("/a`b", '`'),
        ("/a{b", '{'),
        ("/a}b", '}'),
        ("/a|b", '|'),
        ("/a^b", '^'),
        ("/a[b", '['),
        ("/a]b", ']'),
    ] {
        assert_eq!(reject(raw), E::ForbiddenChar { at: 2, ch }, "{raw:?}");
    }
    // RFC 3986 sub-delims (except `;`), `:` and `@` are fine raw.
    assert_eq!(canon("/a!$&'()*+,=:@b"), "/a!$&'()*+,=:@b");
}

#[test]
fn empty_segment() {
    assert_eq!(reject("/a//b"), E::EmptySegment { at: 3 });
    assert_eq!(reject("/a//"), E::EmptySegment { at: 3 });
    assert_eq!(reject("/v1/charges//../admin"), E::EmptySegment { at: 12 });
    assert_eq!(canon("/a/b/"), "/a/b/");
}

#[test]
fn bad_percent_encoding() {
    for raw in ["/a%", "/a%2", "/a%zz", "/a%%41", "/a%2g", "/%"] {
        assert!(
            matches!(reject(raw), E::BadPercentEncoding { .. }),
            "{raw:?}"
        );
    }
    assert_eq!(reject("/ab%2"), E::BadPercentEncoding { at: 3 });
    assert_eq!(canon("/a%2a"), "/a%2A");
}

#[test]
fn encoded_slash() {
    assert_eq!(reject("/a%2fb"), E::EncodedSlash { at: 2 });
    assert_eq!(reject("/v1/..%2F..%2Fadmin"), E::EncodedSlash { at: 6 });
    assert_eq!(reject("/a/%2F"), E::EncodedSlash { at: 3 });
}

#[test]
fn encoded_backslash() {
    assert_eq!(reject("/a%5cb"), E::EncodedBackslash { at: 2 });
    assert_eq!(reject("/..%5C..%5Cadmin"), E::EncodedBackslash { at: 3 });
}

#[test]
fn double_encoding() {
    assert_eq!(reject("/%252e%252e/admin"), E::DoubleEncoding { at: 1 });
    assert_eq!(reject("/a%252fb"), E::DoubleEncoding { at: 2 });
    assert_eq!(reject("/100%25"), E::DoubleEncoding { at: 4 });
}

#[test]
fn encoded_control() {
    assert_eq!(reject("/a%0d%0aHost:evil"), E::EncodedControl { at: 2 });
    for raw in ["/a%00", "/a%09", "/a%1F", "/a%7f", "/a%0A"] {
        assert!(matches!(reject(raw), E::EncodedControl { .. }), "{raw:?}");
    }
    assert_eq!(canon("/a%20b"), "/a%20b");
}

#[test]
fn encoded_non_ascii() {
    // Overlong UTF-8 for `.`, the fullwidth solidus, lone high bytes.
    assert_eq!(reject("/%c0%ae%c0%ae/admin"), E::EncodedNonAscii { at: 1 });
    assert_eq!(reject("/v1%EF%BC%8Fadmin"), E::EncodedNonAscii { at: 3 });
    assert_eq!(reject("/%80"), E::EncodedNonAscii { at: 1 });
    assert_eq!(reject("/%ff"), E::EncodedNonAscii { at: 1 });
    assert_eq!(canon("/%7E"), "/~");
}

#[test]
fn encoded_delimiter() {
    assert_eq!(
        reject("/v1/charges%3F/admin"),
        E::EncodedDelimiter { at: 11, ch: '?' }
    );
    assert_eq!(reject("/admin%3bx"), E::EncodedDelimiter { at: 6, ch: ';' });
    assert_eq!(reject("/admin%23x"), E::EncodedDelimiter { at: 6, ch: '#' });
}

#[test]
fn dot_segment() {
    for (raw, at) in [
        ("/..", 1),
        ("/.", 1),
        ("/a/../b", 3),
        ("/a/./b", 3),
        ("/a/..", 3),
        ("/a/../", 3),
        ("/%2e%2e/x", 1),
        ("/v1/%2E%2e/", 4),
        ("/.%2e/x", 1),
        ("/%2e", 1),
        ("/v1/charges/%2e%2e/%2e%2e/admin", 12),
    ] {
        assert_eq!(reject(raw), E::DotSegment { at }, "{raw:?}");
    }
    // Only whole `.`/`..` segments are special.
    assert_eq!(canon("/.../x"), "/.../x");
    assert_eq!(canon("/..a/b.."), "/..a/b..");
    assert_eq!(canon("/.well-known/x"), "/.well-known/x");
}

#[test]
fn messages_do_not_echo_the_input() {
    // Long, but under the length limit, so each input reaches its own check.
    let tail = "X".repeat(1500);
    let inputs = [
        format!("/{tail}{tail}"),
        format!("/a b{tail}"),
        format!("/a\r\n{tail}"),
        format!("https://evil/{tail}"),
        format!("/%c0{tail}"),
        format!("/../{tail}"),
        format!("/a?{tail}"),
    ];
    for raw in &inputs {
        let msg = NormalizedPath::parse(raw)
            .expect_err("rejected")
            .to_string();
        assert!(msg.len() < 120, "{msg}");
        assert!(!msg.contains("XXXX"), "{msg}");
        assert!(!msg.contains('\r') && !msg.contains('\n'), "{msg}");
    }
    // A control character is named, not printed.
    let msg = reject("/a\x1b[31m").to_string();
    assert!(!msg.contains('\x1b'), "{msg}");
}
