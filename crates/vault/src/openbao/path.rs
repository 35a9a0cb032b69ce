//! From a `vault://MOUNT/PATH#FIELD` reference to a request URL.
//!
//! Every segment of the mount and the path is percent-encoded on its own
//! (everything but ASCII letters, digits and `-._~`), so a `/`, `?`, `#` or
//! `%` in a name can never change which API path is requested. Empty, `.`
//! and `..` segments are refused outright: no reference can climb out of
//! its mount (`vault://secret/../sys/...`) or land on another one.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

use super::OpenBaoError;

/// Encoded: everything except the RFC 3986 unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `ADDRESS/v1/MOUNT/data/PATH`: where KV v2 keeps the current version.
pub(crate) fn kv_data_url(address: &Url, mount: &str, path: &str) -> Result<Url, OpenBaoError> {
    let mount = segments(mount, "mount")?;
    if mount.len() != 1 {
        return Err(bad("the mount must be a single path segment"));
    }
    let path = segments(path, "path")?;
    let mut parts: Vec<&str> = Vec::with_capacity(path.len() + 2);
    parts.extend(mount);
    parts.push("data");
    parts.extend(path);
    api_url(address, &parts)
}

/// `ADDRESS/v1/SEG/SEG/...`, each segment encoded. For fixed API paths
/// (`auth/token/renew-self`) and for already-checked segments.
pub(crate) fn api_url(address: &Url, parts: &[&str]) -> Result<Url, OpenBaoError> {
    let mut text = address.as_str().trim_end_matches('/').to_string();
    text.push_str("/v1");
    for p in parts {
        text.push('/');
        text.extend(utf8_percent_encode(p, SEGMENT));
    }
    Url::parse(&text).map_err(|e| bad(&format!("cannot form a request URL: {e}")))
}

fn segments<'a>(s: &'a str, what: &str) -> Result<Vec<&'a str>, OpenBaoError> {
    let parts: Vec<&str> = s.split('/').collect();
    for p in &parts {
        if p.is_empty() {
            return Err(bad(&format!(
                "the {what} has an empty segment (`//` or a leading or trailing `/`)"
            )));
        }
        if *p == "." || *p == ".." {
            return Err(bad(&format!("the {what} has a `{p}` segment")));
        }
        if p.chars().any(char::is_control) {
            return Err(bad(&format!("the {what} contains control characters")));
        }
    }
    Ok(parts)
}

fn bad(reason: &str) -> OpenBaoError {
    OpenBaoError::BadPath {
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn addr(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn maps_reference_to_kv2_data_path() {
        let a = addr("http://127.0.0.1:8200");
        assert_eq!(
            kv_data_url(&a, "secret", "stripe").unwrap().as_str(),
            "http://127.0.0.1:8200/v1/secret/data/stripe"
        );
        assert_eq!(
            kv_data_url(&a, "kv", "team/app/prod").unwrap().as_str(),
            "http://127.0.0.1:8200/v1/kv/data/team/app/prod"
        );
        // An address with a path prefix (a reverse proxy) keeps it.
        assert_eq!(
            kv_data_url(&addr("https://h.example/bao/"), "secret", "x")
                .unwrap()
                .as_str(),
            "https://h.example/bao/v1/secret/data/x"
        );
    }

    #[test]
    fn encodes_every_special_character() {
        let a = addr("http://127.0.0.1:8200");
        let u = kv_data_url(&a, "secret", "a b/c?d=1&e#f/%2e%2e/ü").unwrap();
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:8200/v1/secret/data/a%20b/c%3Fd%3D1%26e%23f/%252e%252e/%C3%BC"
        );
        assert_eq!(u.query(), None);
        assert_eq!(u.fragment(), None);
    }

    #[test]
    fn refuses_segments_that_climb_or_vanish() {
        let a = addr("http://127.0.0.1:8200");
        for (mount, path) in [
            ("secret", "../sys/seal"),
            ("secret", "a/../../sys"),
            ("secret", "./x"),
            ("secret", "x/."),
            ("secret", "a//b"),
            ("secret", "/abs"),
            ("secret", "trailing/"),
            ("secret", ""),
            ("..", "x"),
            (".", "x"),
            ("a/b", "x"),
            ("", "x"),
        ] {
            assert!(
                matches!(
                    kv_data_url(&a, mount, path),
                    Err(OpenBaoError::BadPath { .. })
                ),
                "{mount} {path}"
            );
        }
    }

    proptest! {
        /// Whatever the segments, the URL has exactly the segments given
        /// (each decodes back to its original) under /v1/MOUNT/data/.
        #[test]
        fn segments_survive_intact(
            mount in "[^/\\p{Cc}]{1,12}",
            path in proptest::collection::vec("[^/\\p{Cc}]{1,12}", 1..4),
        ) {
            prop_assume!(mount != "." && mount != "..");
            prop_assume!(path.iter().all(|p| p != "." && p != ".."));
            let a = addr("http://127.0.0.1:8200/");
            let u = kv_data_url(&a, &mount, &path.join("/")).unwrap();
            prop_assert_eq!(u.host_str(), Some("127.0.0.1"));
            prop_assert_eq!(u.query(), None);
            prop_assert_eq!(u.fragment(), None);
            let segs: Vec<String> = u
                .path_segments()
                .unwrap()
                .map(|s| percent_encoding::percent_decode_str(s).decode_utf8().unwrap().into_owned())
                .collect();
            let mut want = vec!["v1".to_string(), mount.clone(), "data".to_string()];
            want.extend(path.iter().cloned());
            prop_assert_eq!(segs, want);
        }
    }
}
