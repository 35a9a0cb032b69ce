//! Glob patterns on the names of upstream MCP tools: `get_*`, `list_*`,
//! `create_issue`, `delete_?`.
//!
//! Tool names are flat (no segments), so the glob is the plain one: `*` any
//! run of characters (including none), `?` exactly one character, every
//! other character literal. Patterns are short printable ASCII without
//! whitespace, so what a rule covers can be read off the config file, and a
//! stray space or invisible character cannot quietly make a deny match
//! nothing.

use std::fmt;
use std::str::FromStr;

use crate::wildcard::{self, Element};

/// The longest pattern accepted, in characters.
pub const MAX_NAME_PATTERN_LEN: usize = 128;

/// One element of a compiled name pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Elem {
    Star,
    AnyOne,
    Lit(char),
}

/// A validated glob on a tool name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamePattern {
    text: String,
    elems: Vec<Elem>,
}

/// Why a name pattern was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NamePatternError {
    #[error("empty tool-name pattern; `*` matches every tool")]
    Empty,
    #[error("tool-name pattern is {len} characters long; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error(
        "tool-name pattern contains {ch:?} at byte {at}; use printable ASCII without \
         whitespace (`*` any run, `?` one character)"
    )]
    InvalidChar { at: usize, ch: char },
}

impl NamePattern {
    /// Validates `s` (1 to 128 printable ASCII characters, no whitespace)
    /// and compiles it.
    pub fn parse(s: &str) -> Result<NamePattern, NamePatternError> {
        if s.is_empty() {
            return Err(NamePatternError::Empty);
        }
        if let Some((at, ch)) = s.char_indices().find(|&(_, c)| !c.is_ascii_graphic()) {
            return Err(NamePatternError::InvalidChar { at, ch });
        }
        // All ASCII from here on, so bytes == chars.
        if s.len() > MAX_NAME_PATTERN_LEN {
            return Err(NamePatternError::TooLong {
                len: s.len(),
                max: MAX_NAME_PATTERN_LEN,
            });
        }
        let elems = s
            .chars()
            .map(|c| match c {
                '*' => Elem::Star,
                '?' => Elem::AnyOne,
                c => Elem::Lit(c),
            })
            .collect();
        Ok(NamePattern {
            text: s.to_owned(),
            elems,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the whole of `name` matches. `case_insensitive` folds ASCII
    /// case; [`crate::evaluate_tool`] uses it where a rule can only
    /// restrict. `?` matches one character (not one byte) of any name.
    pub fn matches(&self, name: &str, case_insensitive: bool) -> bool {
        let chars: Vec<char> = name.chars().collect();
        if case_insensitive {
            wildcard::matches(&self.folded(), &chars)
        } else {
            wildcard::matches(&self.elems, &chars)
        }
    }

    fn folded(&self) -> Vec<Folded> {
        self.elems.iter().copied().map(Folded).collect()
    }
}

impl Element<char> for Elem {
    fn is_star(&self) -> bool {
        *self == Elem::Star
    }

    fn matches_one(&self, c: &char) -> bool {
        match self {
            Elem::Star | Elem::AnyOne => true,
            Elem::Lit(l) => l == c,
        }
    }
}

/// An element compared with ASCII case folded.
struct Folded(Elem);

impl Element<char> for Folded {
    fn is_star(&self) -> bool {
        self.0.is_star()
    }

    fn matches_one(&self, c: &char) -> bool {
        match self.0 {
            Elem::Star | Elem::AnyOne => true,
            Elem::Lit(l) => l.eq_ignore_ascii_case(c),
        }
    }
}

impl fmt::Display for NamePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for NamePattern {
    type Err = NamePatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NamePattern::parse(s)
    }
}
