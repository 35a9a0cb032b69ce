//! The character and percent-encoding rules for one path segment, shared by
//! paths and patterns so that a pattern's literal text is canonicalised by
//! exactly the code that canonicalises the request it is matched against.

use crate::PathError;

/// RFC 3986 `unreserved`: the only characters whose encoded and literal
/// forms are equivalent everywhere, so the only ones we decode on the wire.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Characters allowed raw inside a segment: RFC 3986 `pchar` minus `;`
/// (path parameters), plus `%` (checked separately as an escape).
/// Everything else is rejected by an allow-list, not a deny-list, so an
/// oddity nobody thought of is refused rather than passed on.
fn is_allowed_raw(b: u8) -> bool {
    is_unreserved(b) || b"!$&'()*+,=:@%".contains(&b)
}

/// Rejects a character that may not appear raw in a path, naming the most
/// specific reason. `at` is the byte offset in the whole input.
pub(crate) fn check_char(at: usize, c: char) -> Result<(), PathError> {
    if !c.is_ascii() {
        return Err(PathError::NonAscii { at });
    }
    let b = c as u8;
    match b {
        0..=0x1F | 0x7F => Err(PathError::ControlChar { at, byte: b }),
        b'\\' => Err(PathError::Backslash { at }),
        b'#' => Err(PathError::Fragment { at }),
        b';' => Err(PathError::PathParameter { at }),
        b'?' => Err(PathError::QueryInPath { at }),
        b'/' => Ok(()),
        _ if is_allowed_raw(b) => Ok(()),
        _ => Err(PathError::ForbiddenChar { at, ch: c }),
    }
}

pub(crate) fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Reads the escape `%XY` starting at `i`, if well formed.
pub(crate) fn escape_at(bytes: &[u8], i: usize) -> Option<u8> {
    let hi = hex_val(*bytes.get(i + 1)?)?;
    let lo = hex_val(*bytes.get(i + 2)?)?;
    Some(hi << 4 | lo)
}

/// Canonicalises a run of segment text (a whole segment, or a literal piece
/// of a pattern segment). `raw` has passed [`check_char`]; `base` is its
/// byte offset in the whole input, for messages.
///
/// Encoded unreserved characters are decoded, other escapes keep their
/// encoding with upper-case hex, and escapes that would change the path's
/// structure at a server that decodes (or decodes twice) are rejected.
pub(crate) fn canonical_piece(raw: &str, base: usize) -> Result<String, PathError> {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'%' {
            out.push(char::from(b));
            i += 1;
            continue;
        }
        let at = base + i;
        let v = escape_at(bytes, i).ok_or(PathError::BadPercentEncoding { at })?;
        match v {
            b'/' => return Err(PathError::EncodedSlash { at }),
            b'\\' => return Err(PathError::EncodedBackslash { at }),
            b'%' => return Err(PathError::DoubleEncoding { at }),
            0..=0x1F | 0x7F => return Err(PathError::EncodedControl { at }),
            0x80..=0xFF => return Err(PathError::EncodedNonAscii { at }),
            b';' | b'#' | b'?' => {
                return Err(PathError::EncodedDelimiter {
                    at,
                    ch: char::from(v),
                });
            }
            _ if is_unreserved(v) => out.push(char::from(v)),
            _ => {
                out.push('%');
                out.push_str(&format!("{v:02X}"));
            }
        }
        i += 3;
    }
    Ok(out)
}

/// Canonicalises a whole segment and rejects dot segments, which are judged
/// after decoding so that `%2e%2E` is caught as `..`.
pub(crate) fn canonical_segment(raw: &str, base: usize) -> Result<String, PathError> {
    let seg = canonical_piece(raw, base)?;
    if seg == "." || seg == ".." {
        return Err(PathError::DotSegment { at: base });
    }
    Ok(seg)
}

/// Decodes a canonical segment for matching. After canonicalisation every
/// remaining escape is a printable ASCII character other than `/`, `\`, `%`,
/// `;`, `#`, `?`, so the decoded form is still one unambiguous segment.
///
/// Matching the decoded form means a rule written `/v1/users:delete` also
/// covers `/v1/users%3Adelete`, which most servers decode to the same thing:
/// an encoding variant can never dodge a deny rule.
pub(crate) fn decode(canonical: &str) -> String {
    let bytes = canonical.as_bytes();
    let mut out = String::with_capacity(canonical.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], escape_at(bytes, i)) {
            (b'%', Some(v)) if v.is_ascii() => {
                out.push(char::from(v));
                i += 3;
            }
            (b, _) => {
                out.push(char::from(b));
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_reverses_the_kept_escapes() {
        assert_eq!(decode("users%3Adelete"), "users:delete");
        assert_eq!(decode("a%20b%7Bc"), "a b{c");
        assert_eq!(decode("plain"), "plain");
    }

    #[test]
    fn piece_keeps_reserved_escapes_upper_cased() {
        assert_eq!(canonical_piece("a%3ab%2a", 0).as_deref(), Ok("a%3Ab%2A"));
        assert_eq!(canonical_piece("%7e%41", 0).as_deref(), Ok("~A"));
    }
}
