//! The credential part of a value and the name it really sits under:
//! `Bearer X`, `Basic X`, `token X` (header forms), `NAME=X` (`docker -e`,
//! `--api-key=X`) and `Name: X` (`--header "Authorization: Bearer X"`).

/// A value seen through its wrapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct View<'a> {
    /// The name the credential sits under: the caller's key, or the one
    /// written inside the value.
    pub(crate) key: Option<&'a str>,
    /// The credential itself, a sub-slice of the value.
    pub(crate) cred: &'a str,
    /// The value was written as `SCHEME credential`.
    pub(crate) auth_form: bool,
}

const AUTH_SCHEMES: &[&str] = &["bearer", "basic", "token", "bot", "apikey", "api-key"];

/// How a value may be read: as itself under the caller's key, and, when it
/// is written as an assignment or a header, as its right-hand side under
/// the name written in it. Both are tried: `"X": "abc=="` stays under `X`.
pub(crate) fn views<'a>(key: Option<&'a str>, value: &'a str) -> Vec<View<'a>> {
    let v = value.trim();
    let mut out = vec![unwrap_scheme(key, v)];
    if let Some((k, rest)) = assignment(v) {
        out.push(unwrap_scheme(Some(k), rest.trim()));
    }
    out
}

fn unwrap_scheme<'a>(key: Option<&'a str>, v: &'a str) -> View<'a> {
    match auth_scheme(v) {
        Some(cred) => View {
            key,
            cred,
            auth_form: true,
        },
        None => View {
            key,
            cred: v,
            auth_form: false,
        },
    }
}

/// `NAME=rest`, `--flag=rest` or `Header-Name: rest`.
fn assignment(v: &str) -> Option<(&str, &str)> {
    let body = v.trim_start_matches('-');
    let at = body.find(['=', ':'])?;
    let (name, rest) = (&body[..at], &body[at + 1..]);
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !name_ok || rest.trim().is_empty() {
        return None;
    }
    if body.as_bytes()[at] == b':' {
        // `https://…` and `host:port` are not headers: a header's colon is
        // followed by a space (or the name says it is one).
        let header = rest.starts_with(' ') || super::keys::is_auth_header(name);
        if !header || rest.starts_with("//") {
            return None;
        }
    }
    Some((name, rest))
}

/// `Bearer X` → `X`.
fn auth_scheme(v: &str) -> Option<&str> {
    let (scheme, rest) = v.split_once(' ')?;
    let cred = rest.trim();
    let known = AUTH_SCHEMES.iter().any(|s| scheme.eq_ignore_ascii_case(s));
    (known && !cred.is_empty() && !cred.contains(char::is_whitespace)).then_some(cred)
}

/// Byte offset of `sub` inside `base` (`sub` must be a sub-slice of it).
pub(crate) fn offset_in(base: &str, sub: &str) -> usize {
    let (b, s) = (base.as_ptr() as usize, sub.as_ptr() as usize);
    if s >= b && s + sub.len() <= b + base.len() {
        s - b
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Seen = (Option<&'static str>, &'static str, bool);

    /// The last (innermost) view.
    fn v(key: Option<&'static str>, value: &'static str) -> Seen {
        let x = *views(key, value).last().unwrap();
        (x.key, x.cred, x.auth_form)
    }

    #[test]
    fn header_schemes_are_taken_off() {
        assert_eq!(
            v(Some("Authorization"), "Bearer abc"),
            (Some("Authorization"), "abc", true)
        );
        assert_eq!(v(None, "token abc"), (None, "abc", true));
        assert_eq!(v(None, "Basic dXNlcjpwYXNz"), (None, "dXNlcjpwYXNz", true));
        assert_eq!(
            v(None, "Bearer two words"),
            (None, "Bearer two words", false)
        );
    }

    #[test]
    fn names_inside_values() {
        assert_eq!(
            v(Some("args"), "GITHUB_TOKEN=abc"),
            (Some("GITHUB_TOKEN"), "abc", false)
        );
        assert_eq!(v(None, "--api-key=abc"), (Some("api-key"), "abc", false));
        assert_eq!(
            v(None, "Authorization: Bearer abc"),
            (Some("Authorization"), "abc", true)
        );
        assert_eq!(
            v(None, "Authorization:Bearer abc"),
            (Some("Authorization"), "abc", true)
        );
    }

    #[test]
    fn urls_and_ports_are_not_headers() {
        assert_eq!(v(None, "https://x/y"), (None, "https://x/y", false));
        assert_eq!(v(None, "localhost:5432"), (None, "localhost:5432", false));
        assert_eq!(
            v(None, "postgres://u:p@h/db"),
            (None, "postgres://u:p@h/db", false)
        );
    }

    #[test]
    fn the_outer_view_is_kept() {
        let all = views(Some("X"), "abc==");
        assert_eq!((all[0].key, all[0].cred), (Some("X"), "abc=="));
    }

    #[test]
    fn offsets() {
        let s = "Bearer abc";
        let x = views(None, s)[0];
        assert_eq!(offset_in(s, x.cred), 7);
        assert_eq!(offset_in(s, "elsewhere"), 0);
    }
}
