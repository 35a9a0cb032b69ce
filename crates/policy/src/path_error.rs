//! Every way a path can fail to normalise, each its own variant so that
//! tests (and callers) can tell them apart.
//!
//! Messages name the problem and its byte offset, and echo at most one
//! (escaped) character of the input: the input is hostile and may be huge or
//! carry control characters meant for a log or terminal.

/// Why a path (or its query) was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    #[error("empty path; it must start with `/`")]
    Empty,
    #[error("path is {len} bytes long; at most {max} are allowed")]
    TooLong { len: usize, max: usize },
    #[error("path has {count} segments; at most {max} are allowed")]
    TooManySegments { count: usize, max: usize },
    /// `https://evil/`, `javascript:...`: a URL, not a path. The credential
    /// must only ever go to the service's own origin.
    #[error("path is a URL (it starts with a scheme); give only the path, starting with `/`")]
    AbsoluteUrl,
    /// `evil.com/x`, `@evil`, `\\evil`: not rooted at the service's base.
    #[error("path must start with `/`")]
    NotAbsolute,
    /// `//evil/x` is a network-path reference: a URL parser reads `evil` as
    /// the host.
    #[error("path starts with `//`, which names a host; use a single `/`")]
    NetworkPath,
    #[error("path contains a non-ASCII character at byte {at}; percent-encode it")]
    NonAscii { at: usize },
    #[error("path contains control character 0x{byte:02X} at byte {at}")]
    ControlChar { at: usize, byte: u8 },
    /// Some servers treat `\` as `/`.
    #[error("path contains a backslash at byte {at}")]
    Backslash { at: usize },
    #[error("path contains `#` (a fragment) at byte {at}")]
    Fragment { at: usize },
    /// `;jsessionid=...`-style path parameters: servers strip them before
    /// routing, which would let `/admin;x` dodge a rule for `/admin`.
    #[error("path contains `;` (a path parameter) at byte {at}")]
    PathParameter { at: usize },
    /// [`crate::NormalizedPath::parse`] takes the path without its query;
    /// use [`crate::split_path_and_query`] for a path with a query.
    #[error("path contains `?` at byte {at}; split the query off first")]
    QueryInPath { at: usize },
    #[error("path contains {ch:?} at byte {at}, which is not allowed in a path; percent-encode it")]
    ForbiddenChar { at: usize, ch: char },
    #[error("path has an empty segment (`//`) at byte {at}")]
    EmptySegment { at: usize },
    #[error("`%` at byte {at} is not followed by two hex digits")]
    BadPercentEncoding { at: usize },
    /// `%2F` would be one segment here and two at a server that decodes it.
    #[error("path contains an encoded `/` (%2F) at byte {at}")]
    EncodedSlash { at: usize },
    #[error("path contains an encoded backslash (%5C) at byte {at}")]
    EncodedBackslash { at: usize },
    /// `%25` is how double encoding (`%252e%252e`) starts: a server that
    /// decodes twice would see something other than what was matched.
    #[error("path contains an encoded `%` (%25, double encoding) at byte {at}")]
    DoubleEncoding { at: usize },
    #[error("path contains an encoded control character at byte {at}")]
    EncodedControl { at: usize },
    /// Encoded bytes >= 0x80: overlong UTF-8 (`%C0%AE`) and look-alikes
    /// (`%EF%BC%8F`, a fullwidth solidus) that some servers fold to ASCII.
    #[error("path contains an encoded non-ASCII byte at byte {at}")]
    EncodedNonAscii { at: usize },
    /// `%3B`, `%23`, `%3F`: a server that decodes before routing would see a
    /// path parameter, fragment or query that was never matched.
    #[error("path contains an encoded {ch:?} at byte {at}")]
    EncodedDelimiter { at: usize, ch: char },
    /// `.` and `..` (also as `%2e`) are rejected, never resolved: the agent
    /// can then never climb out of the service's base path.
    #[error("path contains a `.` or `..` segment at byte {at}")]
    DotSegment { at: usize },
    #[error("query is {len} bytes long; at most {max} are allowed")]
    QueryTooLong { len: usize, max: usize },
    #[error("query contains a non-ASCII character at byte {at}; percent-encode it")]
    QueryNonAscii { at: usize },
    #[error("query contains control character 0x{byte:02X} at byte {at}")]
    QueryControlChar { at: usize, byte: u8 },
    #[error("query contains a space at byte {at}; encode it as %20 or `+`")]
    QuerySpace { at: usize },
    #[error("query contains `#` (a fragment) at byte {at}")]
    QueryFragment { at: usize },
    #[error("`%` at byte {at} of the query is not followed by two hex digits")]
    QueryBadPercentEncoding { at: usize },
}
