//! THE path normaliser (SECURITY.md item 3).
//!
//! Normalise once, match the normalised form, send exactly what was matched;
//! reject what cannot be normalised unambiguously. Nothing here resolves or
//! repairs a suspicious path: `..` is an error, not a step up, because any
//! repair is a guess about how the upstream server would have read it.

use std::fmt;

use crate::PathError;
use crate::segment::{canonical_segment, check_char, decode};

/// The longest path accepted, in bytes of the raw input.
pub const MAX_PATH_BYTES: usize = 2048;
/// The most segments a path (or pattern) may have.
pub const MAX_SEGMENTS: usize = 64;

/// A path in canonical form: it starts with `/`, has no empty, `.` or `..`
/// segments, only ASCII, and percent-escapes in one spelling (upper-case
/// hex, unreserved characters decoded). Parsing its [`as_str`] again gives
/// an equal value.
///
/// [`as_str`]: NormalizedPath::as_str
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NormalizedPath {
    canonical: String,
    segments: Vec<String>,
    /// Segments with their remaining escapes decoded; what rules match.
    decoded: Vec<String>,
    trailing_slash: bool,
}

/// A raw path split into raw segments, after every whole-string check.
pub(crate) struct RawSegments<'a> {
    /// Each segment with its byte offset in the input.
    pub(crate) segments: Vec<(usize, &'a str)>,
    pub(crate) trailing_slash: bool,
}

/// `scheme:` at the start, as in RFC 3986: a letter, then letters, digits,
/// `+`, `-` or `.`, then `:`.
fn starts_with_scheme(raw: &str) -> bool {
    let mut chars = raw.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars
            .take_while(|&c| c != ':')
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && raw.contains(':')
}

/// The checks on the whole string, and the split into segments. Shared with
/// patterns, whose only extra is that `*` means something.
pub(crate) fn split_raw(raw: &str) -> Result<RawSegments<'_>, PathError> {
    if raw.is_empty() {
        return Err(PathError::Empty);
    }
    if raw.len() > MAX_PATH_BYTES {
        return Err(PathError::TooLong {
            len: raw.len(),
            max: MAX_PATH_BYTES,
        });
    }
    if !raw.starts_with('/') {
        return Err(if starts_with_scheme(raw) {
            PathError::AbsoluteUrl
        } else {
            PathError::NotAbsolute
        });
    }
    if raw.starts_with("//") {
        return Err(PathError::NetworkPath);
    }
    for (at, c) in raw.char_indices() {
        check_char(at, c)?;
    }
    // From here on the input is ASCII, so byte offsets are char offsets.
    let body = &raw[1..];
    if body.is_empty() {
        return Ok(RawSegments {
            segments: Vec::new(),
            trailing_slash: false,
        });
    }
    let (body, trailing_slash) = match body.strip_suffix('/') {
        Some(b) => (b, true),
        None => (body, false),
    };
    let count = body.split('/').count();
    if count > MAX_SEGMENTS {
        return Err(PathError::TooManySegments {
            count,
            max: MAX_SEGMENTS,
        });
    }
    let mut segments = Vec::with_capacity(count);
    let mut at = 1;
    for seg in body.split('/') {
        if seg.is_empty() {
            return Err(PathError::EmptySegment { at });
        }
        segments.push((at, seg));
        at += seg.len() + 1;
    }
    Ok(RawSegments {
        segments,
        trailing_slash,
    })
}

impl NormalizedPath {
    /// Normalises the agent's path. `raw` is the path WITHOUT its query (see
    /// [`crate::split_path_and_query`]); a `?` in it is an error.
    pub fn parse(raw: &str) -> Result<NormalizedPath, PathError> {
        let split = split_raw(raw)?;
        let mut segments = Vec::with_capacity(split.segments.len());
        for (at, seg) in split.segments {
            segments.push(canonical_segment(seg, at)?);
        }
        let mut canonical = String::with_capacity(raw.len());
        for seg in &segments {
            canonical.push('/');
            canonical.push_str(seg);
        }
        if segments.is_empty() || split.trailing_slash {
            canonical.push('/');
        }
        let decoded = segments.iter().map(|s| decode(s)).collect();
        Ok(NormalizedPath {
            canonical,
            segments,
            decoded,
            trailing_slash: split.trailing_slash,
        })
    }

    /// The canonical wire form, e.g. `/v1/charges/ch_1`. This exact string
    /// is what rules were matched against and what must be sent upstream.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The canonical (still percent-encoded) segments. The root has none.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().map(String::as_str)
    }

    /// Whether the path ended in a single `/` (kept on the wire, ignored by
    /// matching). Always false for the root.
    pub fn has_trailing_slash(&self) -> bool {
        self.trailing_slash
    }

    /// The decoded segments that patterns match against.
    pub(crate) fn decoded_segments(&self) -> &[String] {
        &self.decoded
    }
}

impl fmt::Display for NormalizedPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}
