//! `cwd` patterns of a `[commands.NAME]` entry: the working directories a
//! human allowed the agent to choose (SECURITY.md item 10). The working
//! directory decides which configuration a program reads (`.git/config`
//! hooks such as `core.fsmonitor`), so none is allowed unless listed.
//!
//! A pattern is an absolute path whose components are literal names, `*`
//! (exactly one component, any name), or a final `**` (the directory
//! before it and everything below). Nothing else is special: `?`, `[`,
//! `{` and a `*` inside a name are refused rather than read in some way
//! the human did not mean. `.` and `..` components are refused too.
//!
//! Matching is pure: the caller canonicalises both the requested directory
//! and the pattern's literal prefix ([`CwdPattern::prefix`]) first, so a
//! symlink can neither escape a pattern nor be needed to match one.

use std::fmt;
use std::path::{Component, Path, PathBuf};

/// Longest pattern accepted, in bytes.
pub const MAX_CWD_PATTERN_LEN: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Name(String),
    Star,
}

/// One allowed working-directory pattern, e.g. `/home/me/src/**`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CwdPattern {
    text: String,
    /// The leading literal components (always at least `/`).
    prefix: PathBuf,
    /// What follows the prefix, up to an optional final `**`.
    rest: Vec<Seg>,
    /// Ends in `**`.
    subtree: bool,
}

/// Why a `cwd` pattern was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CwdPatternError {
    #[error("must be an absolute path, e.g. \"/home/me/src/**\"")]
    NotAbsolute,
    #[error("is longer than {MAX_CWD_PATTERN_LEN} bytes")]
    TooLong,
    #[error("must not contain control characters")]
    Control,
    #[error("must not contain empty components (`//`)")]
    Empty,
    #[error("must not contain `.` or `..` components")]
    Dots,
    #[error("`**` may only be the last component")]
    DoubleStarNotLast,
    #[error(
        "component `{0}`: `*` must be a whole component and `?`, `[`, `]`, `{{`, `}}` are not \
         allowed (write `*` for one directory level, a final `**` for a whole tree)"
    )]
    Wildcard(String),
}

impl CwdPattern {
    pub fn parse(text: &str) -> Result<CwdPattern, CwdPatternError> {
        if text.len() > MAX_CWD_PATTERN_LEN {
            return Err(CwdPatternError::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(CwdPatternError::Control);
        }
        let Some(body) = text.strip_prefix('/') else {
            return Err(CwdPatternError::NotAbsolute);
        };
        // `/` alone, and a trailing `/`, are fine; `//` inside is not.
        let body = body.strip_suffix('/').unwrap_or(body);
        let parts: Vec<&str> = if body.is_empty() {
            Vec::new()
        } else {
            body.split('/').collect()
        };
        let mut prefix = PathBuf::from("/");
        let mut rest = Vec::new();
        let mut subtree = false;
        for (i, part) in parts.iter().enumerate() {
            match *part {
                "" => return Err(CwdPatternError::Empty),
                "." | ".." => return Err(CwdPatternError::Dots),
                "**" if i + 1 == parts.len() => subtree = true,
                "**" => return Err(CwdPatternError::DoubleStarNotLast),
                "*" => rest.push(Seg::Star),
                p if p.contains(['*', '?', '[', ']', '{', '}']) => {
                    return Err(CwdPatternError::Wildcard(p.escape_debug().to_string()));
                }
                p if rest.is_empty() => prefix.push(p),
                p => rest.push(Seg::Name(p.to_string())),
            }
        }
        Ok(CwdPattern {
            text: text.to_string(),
            prefix,
            rest,
            subtree,
        })
    }

    /// The leading literal part: the caller canonicalises it (when it
    /// exists) and passes the result to [`CwdPattern::matches`].
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// Whether `dir` (canonical) matches, with the prefix read as
    /// `prefix` (the canonical form of [`CwdPattern::prefix`]).
    pub fn matches(&self, prefix: &Path, dir: &Path) -> bool {
        let Ok(below) = dir.strip_prefix(prefix) else {
            return false;
        };
        let mut names = Vec::new();
        for c in below.components() {
            match c {
                Component::Normal(n) => names.push(n),
                // A canonical path has none of these; refuse if one shows.
                _ => return false,
            }
        }
        if names.len() < self.rest.len() || (names.len() > self.rest.len() && !self.subtree) {
            return false;
        }
        self.rest.iter().zip(&names).all(|(seg, name)| match seg {
            Seg::Star => true,
            Seg::Name(want) => name.as_encoded_bytes() == want.as_bytes(),
        })
    }
}

impl fmt::Display for CwdPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, dir: &str) -> bool {
        let p = CwdPattern::parse(pattern).unwrap();
        p.matches(p.prefix(), Path::new(dir))
    }

    #[test]
    fn literal_star_and_subtree() {
        assert!(m("/home/me/src/keyward", "/home/me/src/keyward"));
        assert!(!m("/home/me/src/keyward", "/home/me/src/keyward/sub"));
        assert!(!m("/home/me/src/keyward", "/home/me/src"));
        assert!(m("/home/me/src/*", "/home/me/src/a"));
        assert!(!m("/home/me/src/*", "/home/me/src"));
        assert!(!m("/home/me/src/*", "/home/me/src/a/b"));
        assert!(m("/home/me/src/**", "/home/me/src"));
        assert!(m("/home/me/src/**", "/home/me/src/a/b/c"));
        assert!(!m("/home/me/src/**", "/home/me/srcx"));
        assert!(!m("/home/me/src/**", "/home/me"));
        assert!(m("/home/*/src/**", "/home/you/src/x"));
        assert!(!m("/home/*/src/**", "/home/you/other"));
        assert!(m("/", "/"));
        assert!(!m("/", "/tmp"));
        assert!(m("/**", "/tmp/x"));
    }

    #[test]
    fn a_dotdot_in_the_directory_never_matches_a_pattern() {
        // Callers canonicalise; a path that still has `..` is refused.
        assert!(!m("/home/me/src/**", "/home/me/src/../../../etc"));
        assert!(!m("/home/me/src/*", "/home/me/src/.."));
    }

    #[test]
    fn malformed_patterns_are_refused_with_a_reason() {
        for (bad, want) in [
            ("src/**", CwdPatternError::NotAbsolute),
            ("", CwdPatternError::NotAbsolute),
            ("/a//b", CwdPatternError::Empty),
            ("/a/../b", CwdPatternError::Dots),
            ("/a/./b", CwdPatternError::Dots),
            ("/a/**/b", CwdPatternError::DoubleStarNotLast),
            ("/a/b*", CwdPatternError::Wildcard("b*".into())),
            ("/a/[ab]", CwdPatternError::Wildcard("[ab]".into())),
            ("/a/b?", CwdPatternError::Wildcard("b?".into())),
            ("/a/\nb", CwdPatternError::Control),
        ] {
            assert_eq!(CwdPattern::parse(bad), Err(want), "{bad:?}");
        }
        assert_eq!(
            CwdPattern::parse(&format!("/{}", "a".repeat(MAX_CWD_PATTERN_LEN))),
            Err(CwdPatternError::TooLong)
        );
    }

    #[test]
    fn the_prefix_is_the_literal_part() {
        let p = CwdPattern::parse("/home/me/src/*/x/**").unwrap();
        assert_eq!(p.prefix(), Path::new("/home/me/src"));
        assert_eq!(p.to_string(), "/home/me/src/*/x/**");
        assert_eq!(CwdPattern::parse("/").unwrap().prefix(), Path::new("/"));
    }
}
