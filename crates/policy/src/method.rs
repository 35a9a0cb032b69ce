//! HTTP methods, validated and upper-cased once so that `get`, `Get` and
//! `GET` are the same method to every rule (SECURITY.md item 4).

use std::fmt;
use std::str::FromStr;

/// The longest method accepted; real methods are short, and a bound keeps
/// hostile input out of messages and logs.
const MAX_METHOD_LEN: usize = 20;

/// A validated, upper-cased HTTP method.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Method(String);

/// Why a method was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MethodError {
    #[error("empty HTTP method")]
    Empty,
    #[error("HTTP method is {len} characters long; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error("HTTP method contains {ch:?} at byte {at}; only RFC 9110 token characters are allowed")]
    InvalidChar { at: usize, ch: char },
    /// `*` is a valid token, but no server implements it; in a rule it would
    /// look like "every method" while matching none, silently narrowing a
    /// deny. Every method is spelled by leaving the method list out.
    #[error("`*` is not an HTTP method; leave the method out to mean every method")]
    Wildcard,
}

/// RFC 9110 `tchar`.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

impl Method {
    /// Validates `s` (1 to 20 token characters) and upper-cases it.
    pub fn parse(s: &str) -> Result<Method, MethodError> {
        if s.is_empty() {
            return Err(MethodError::Empty);
        }
        if let Some((at, ch)) = s.char_indices().find(|&(_, c)| !is_tchar(c)) {
            return Err(MethodError::InvalidChar { at, ch });
        }
        // All ASCII from here on, so bytes == chars.
        if s.len() > MAX_METHOD_LEN {
            return Err(MethodError::TooLong {
                len: s.len(),
                max: MAX_METHOD_LEN,
            });
        }
        if s == "*" {
            return Err(MethodError::Wildcard);
        }
        Ok(Method(s.to_ascii_uppercase()))
    }

    /// The upper-cased method, e.g. `GET`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Method {
    type Err = MethodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::parse(s)
    }
}
