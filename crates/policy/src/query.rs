//! Splitting the agent's path from its query.
//!
//! The split is at the FIRST `?`, and an encoded `?` (`%3F`) in the path is
//! rejected by the path rules, so a query can never smuggle path text past
//! the matcher. Rules do not look at the query, so it is passed on verbatim;
//! it is only checked for what would make the request line itself
//! ambiguous (spaces, control characters, a fragment, raw non-ASCII,
//! malformed escapes) and bounded in size.

use crate::segment::escape_at;
use crate::{NormalizedPath, PathError};

/// The longest query accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 8192;

/// Splits `raw` at its first `?`, normalises the path and validates the
/// query. The query is returned verbatim, without the `?`; `/x?` gives
/// `Some("")` and `/x` gives `None`.
pub fn split_path_and_query(raw: &str) -> Result<(NormalizedPath, Option<String>), PathError> {
    let (path, query) = match raw.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (raw, None),
    };
    let path = NormalizedPath::parse(path)?;
    let query = match query {
        Some(q) => {
            // Offsets in messages count from the start of the whole input.
            check_query(q, raw.len() - q.len())?;
            Some(q.to_owned())
        }
        None => None,
    };
    Ok((path, query))
}

fn check_query(q: &str, base: usize) -> Result<(), PathError> {
    if q.len() > MAX_QUERY_BYTES {
        return Err(PathError::QueryTooLong {
            len: q.len(),
            max: MAX_QUERY_BYTES,
        });
    }
    let bytes = q.as_bytes();
    for (i, c) in q.char_indices() {
        let at = base + i;
        match c {
            _ if !c.is_ascii() => return Err(PathError::QueryNonAscii { at }),
            '\0'..='\x1F' | '\x7F' => {
                return Err(PathError::QueryControlChar { at, byte: c as u8 });
            }
            ' ' => return Err(PathError::QuerySpace { at }),
            '#' => return Err(PathError::QueryFragment { at }),
            '%' if escape_at(bytes, i).is_none() => {
                return Err(PathError::QueryBadPercentEncoding { at });
            }
            _ => {}
        }
    }
    Ok(())
}
