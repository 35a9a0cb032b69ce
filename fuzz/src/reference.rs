//! Matchers by dynamic programming (not the crates' two-pointer and
//! reachability algorithms), and the percent-decoding a server does.

use std::path::{Component, Path};

/// Whether `input` matches `pattern` as a whole, where a star element
/// matches any run of input elements (none included) and any other element
/// exactly one input element for which `one` holds.
pub fn seq_match<P, T>(
    pattern: &[P],
    input: &[T],
    is_star: impl Fn(&P) -> bool,
    one: impl Fn(&P, &T) -> bool,
) -> bool {
    // reach[j]: the pattern so far matches input[..j].
    let mut reach = vec![false; input.len() + 1];
    reach[0] = true;
    for p in pattern {
        let mut next = vec![false; input.len() + 1];
        if is_star(p) {
            let mut any = false;
            for (j, r) in reach.iter().enumerate() {
                any |= *r;
                next[j] = any;
            }
        } else {
            for (j, t) in input.iter().enumerate() {
                next[j + 1] = reach[j] && one(p, t);
            }
        }
        reach = next;
    }
    reach[input.len()]
}

/// A glob over bytes where only `*` is special.
pub fn byte_glob(pattern: &[u8], text: &[u8]) -> bool {
    seq_match(pattern, text, |p| *p == b'*', |p, t| p == t)
}

/// An argv pattern's meaning (see `keyward_policy::ArgvPattern`): tokens
/// split on ASCII white space; `*` any number of whole arguments; a token
/// with a `*` a glob over one argument; any other token one exact argument.
pub fn argv_matches(pattern: &str, argv: &[String]) -> bool {
    let tokens: Vec<&str> = pattern.split_ascii_whitespace().collect();
    seq_match(
        &tokens,
        argv,
        |t| *t == "*",
        |t, a| byte_glob(t.as_bytes(), a.as_bytes()),
    )
}

/// Percent-decodes every `%XY` (as a server that decodes would), leaving
/// malformed escapes as they are.
pub fn percent_decode(s: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(s).collect()
}

/// One element of a path pattern, from its canonical text.
enum PathSeg {
    One,
    Many,
    /// Bytes and stars, with the literal bytes decoded.
    Glob(Vec<GlobByte>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum GlobByte {
    Star,
    Lit(u8),
}

fn path_segs(canonical_pattern: &str) -> Vec<PathSeg> {
    let body = canonical_pattern
        .strip_prefix('/')
        .unwrap_or(canonical_pattern);
    let body = body.strip_suffix('/').unwrap_or(body);
    if body.is_empty() {
        return Vec::new();
    }
    body.split('/')
        .map(|seg| match seg {
            "**" => PathSeg::Many,
            "*" => PathSeg::One,
            seg => {
                let mut out = Vec::new();
                for (n, piece) in seg.split('*').enumerate() {
                    if n > 0 {
                        out.push(GlobByte::Star);
                    }
                    out.extend(percent_decode(piece).into_iter().map(GlobByte::Lit));
                }
                PathSeg::Glob(out)
            }
        })
        .collect()
}

/// Whether a canonical path matches a canonical path pattern (see
/// `keyward_policy::PathPattern`): whole decoded segments, `*` exactly one
/// segment, `**` any number, `*` inside a segment any run of characters; a
/// trailing slash is ignored on both sides.
pub fn path_matches(canonical_pattern: &str, canonical_path: &str, fold_case: bool) -> bool {
    let decode = |s: &str| {
        let mut d = percent_decode(s);
        if fold_case {
            d.make_ascii_lowercase();
        }
        d
    };
    let body = canonical_path.strip_prefix('/').unwrap_or(canonical_path);
    let body = body.strip_suffix('/').unwrap_or(body);
    let segs: Vec<Vec<u8>> = if body.is_empty() {
        Vec::new()
    } else {
        body.split('/').map(decode).collect()
    };
    let pattern = path_segs(canonical_pattern);
    seq_match(
        &pattern,
        &segs,
        |p| matches!(p, PathSeg::Many),
        |p, s| match p {
            PathSeg::One => !s.is_empty(),
            PathSeg::Many => true,
            PathSeg::Glob(g) => {
                let g: Vec<GlobByte> = g
                    .iter()
                    .map(|b| match *b {
                        GlobByte::Lit(c) if fold_case => GlobByte::Lit(c.to_ascii_lowercase()),
                        other => other,
                    })
                    .collect();
                seq_match(
                    &g,
                    s,
                    |b| *b == GlobByte::Star,
                    |b, c| *b == GlobByte::Lit(*c),
                )
            }
        },
    )
}

/// Whether a canonical directory matches a `cwd` pattern's text (see
/// `keyward_policy::CwdPattern`), the pattern's prefix taken literally:
/// `*` one component, a final `**` the directory before it and everything
/// below, anything else a literal name.
pub fn cwd_matches(pattern: &str, dir: &Path) -> bool {
    let body = pattern.strip_prefix('/').unwrap_or(pattern);
    let body = body.strip_suffix('/').unwrap_or(body);
    let mut parts: Vec<&str> = if body.is_empty() {
        Vec::new()
    } else {
        body.split('/').collect()
    };
    let subtree = parts.last() == Some(&"**");
    if subtree {
        parts.pop();
    }
    let mut names = Vec::new();
    for c in dir.components() {
        match c {
            Component::RootDir => {}
            Component::Normal(n) => names.push(n.as_encoded_bytes()),
            _ => return false,
        }
    }
    if names.len() < parts.len() || (names.len() > parts.len() && !subtree) {
        return false;
    }
    parts
        .iter()
        .zip(&names)
        .all(|(p, n)| *p == "*" || p.as_bytes() == *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_references_agree_with_the_documented_examples() {
        assert!(byte_glob(b"--upload-pack*", b"--upload-pack=x"));
        assert!(!byte_glob(b"a*c", b"acb"));
        let argv = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert!(argv_matches(
            "issue *",
            &argv(&["issue", "list", "--limit", "5"])
        ));
        assert!(argv_matches("issue *", &argv(&["issue"])));
        assert!(!argv_matches("", &argv(&["x"])));
        assert!(argv_matches("* -c *", &argv(&["a", "-c", "b"])));
        assert!(path_matches(
            "/v1/charges/**",
            "/v1/charges/ch_1/refunds",
            false
        ));
        assert!(path_matches("/v1/ch_*/refunds", "/v1/ch_9/refunds/", false));
        assert!(!path_matches("/v1/*", "/v1/", false));
        assert!(path_matches(
            "/v1/users:delete",
            "/v1/users%3Adelete",
            false
        ));
        assert!(path_matches("/V1/**", "/v1/x", true));
        assert!(cwd_matches("/home/*/src/**", Path::new("/home/you/src/x")));
        assert!(!cwd_matches("/home/me/src/*", Path::new("/home/me/src")));
        assert!(cwd_matches("/", Path::new("/")));
    }
}
