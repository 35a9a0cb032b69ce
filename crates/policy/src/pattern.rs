//! Path patterns: `/v1/charges`, `/v1/charges/*`, `/v1/charges/**`,
//! `/v1/ch_*/refunds`.
//!
//! A pattern is parsed by the path normaliser's own rules, so its literal
//! text is canonicalised exactly like the requests it will be matched
//! against; only `*` means something more. Matching works on whole decoded
//! segments, never on substrings of the path, so no pattern can reach across
//! a `/`.

use std::fmt;
use std::str::FromStr;

use crate::path::split_raw;
use crate::segment::{canonical_piece, canonical_segment, decode};
use crate::{NormalizedPath, PathError};

/// One segment of a pattern. Literal text is kept decoded (see
/// [`crate::segment::decode`]), the form paths are matched in.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    /// `*`: exactly one (non-empty) segment.
    One,
    /// `**`: zero or more segments.
    Many,
    Literal(String),
    /// `a*b*c`: at least two pieces, any run of characters between them,
    /// all inside one segment.
    Glob(Vec<String>),
}

/// A validated path pattern. `/` alone matches only the root; `/**` matches
/// every path. A trailing slash in a pattern is kept in its text and, like a
/// trailing slash in a path, ignored by matching.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathPattern {
    text: String,
    segs: Vec<Seg>,
}

/// Why a pattern was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    #[error("invalid pattern: {0}")]
    Path(#[from] PathError),
    #[error("invalid pattern: `**` must be a whole segment (at byte {at})")]
    DoubleStarInSegment { at: usize },
}

impl PathPattern {
    /// Parses and canonicalises a pattern.
    pub fn parse(s: &str) -> Result<PathPattern, PatternError> {
        let split = split_raw(s)?;
        let mut segs = Vec::with_capacity(split.segments.len());
        let mut text = String::with_capacity(s.len());
        for (at, raw) in split.segments {
            text.push('/');
            let seg = if raw == "**" {
                text.push_str("**");
                Seg::Many
            } else if raw == "*" {
                text.push('*');
                Seg::One
            } else if let Some(i) = raw.find("**") {
                return Err(PatternError::DoubleStarInSegment { at: at + i });
            } else if raw.contains('*') {
                let mut pieces = Vec::new();
                let mut offset = at;
                for (n, piece) in raw.split('*').enumerate() {
                    let canonical = canonical_piece(piece, offset)?;
                    if n > 0 {
                        text.push('*');
                    }
                    text.push_str(&canonical);
                    pieces.push(decode(&canonical));
                    offset += piece.len() + 1;
                }
                Seg::Glob(pieces)
            } else {
                let canonical = canonical_segment(raw, at)?;
                text.push_str(&canonical);
                Seg::Literal(decode(&canonical))
            };
            segs.push(seg);
        }
        if segs.is_empty() || split.trailing_slash {
            text.push('/');
        }
        Ok(PathPattern { text, segs })
    }

    /// The canonical text of the pattern; parsing it again gives an equal
    /// pattern.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `path` matches. `case_insensitive` folds ASCII case; the rule
    /// evaluation uses it for deny rules only, so that a case variation can
    /// only make a request more denied, never more allowed.
    pub fn matches(&self, path: &NormalizedPath, case_insensitive: bool) -> bool {
        let segs = path.decoded_segments();
        // reach[j]: the pattern so far matches exactly the first j path
        // segments. Linear in pattern x path length, however many `**`.
        let mut reach = vec![false; segs.len() + 1];
        reach[0] = true;
        for p in &self.segs {
            let mut next = vec![false; segs.len() + 1];
            if *p == Seg::Many {
                let mut any = false;
                for (j, r) in reach.iter().enumerate() {
                    any |= *r;
                    next[j] = any;
                }
            } else {
                for (j, s) in segs.iter().enumerate() {
                    next[j + 1] = reach[j] && seg_matches(p, s, case_insensitive);
                }
            }
            reach = next;
        }
        reach[segs.len()]
    }
}

fn seg_matches(p: &Seg, s: &str, ci: bool) -> bool {
    match p {
        Seg::One | Seg::Many => true,
        Seg::Literal(l) if ci => l.eq_ignore_ascii_case(s),
        Seg::Literal(l) => l == s,
        Seg::Glob(pieces) if ci => {
            let pieces: Vec<String> = pieces.iter().map(|p| p.to_ascii_lowercase()).collect();
            glob(&pieces, &s.to_ascii_lowercase())
        }
        Seg::Glob(pieces) => glob(pieces, s),
    }
}

/// `pieces` joined by `*` matches `s`. Leftmost matching of the middle
/// pieces is exact for globs whose only wildcard is `*`.
fn glob(pieces: &[String], s: &str) -> bool {
    let (Some((first, rest_pieces)), Some(last)) = (pieces.split_first(), pieces.last()) else {
        return false;
    };
    let Some(mut rest) = s.strip_prefix(first.as_str()) else {
        return false;
    };
    if rest_pieces.is_empty() {
        return rest.is_empty();
    }
    for m in &rest_pieces[..rest_pieces.len() - 1] {
        match rest.find(m.as_str()) {
            Some(i) => rest = &rest[i + m.len()..],
            None => return false,
        }
    }
    rest.ends_with(last.as_str())
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for PathPattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PathPattern::parse(s)
    }
}
