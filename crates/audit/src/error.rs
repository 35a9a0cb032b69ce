//! Typed errors. Messages name the file, the line and the kind of problem,
//! never the content of a record: a record is not supposed to hold secrets,
//! but an error message is the wrong place to find out that one did.

use std::io;
use std::path::PathBuf;

/// Failure to open, append to or read the log. On any of these the gateway
/// fails the call (fail closed).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// An IO operation failed (`op` says which).
    #[error("audit log {}: cannot {op}: {source}", .path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A line is not a record.
    #[error("audit log {}, line {line}: {detail}", .path.display())]
    Malformed {
        path: PathBuf,
        line: u64,
        detail: String,
    },
    /// The file does not end with a newline: a write was torn (crash, full
    /// disk) or the file was edited. Appending would glue a record to the
    /// fragment, so we refuse until a human looks (`keyward audit verify`).
    #[error("audit log {} ends with an incomplete line; refusing to extend it", .path.display())]
    TornTail { path: PathBuf },
    /// The file got shorter since our last append: someone truncated or
    /// replaced it. Continuing silently would hide that.
    #[error("audit log {} shrank from {expected} to {found} bytes since the last append", .path.display())]
    Shrunk {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    /// The log ends before the record its head file names: records were cut
    /// off the end (or the log was replaced by an older copy). Extending it
    /// would overwrite the evidence, so keyward refuses until a human looks.
    #[error(
        "audit log {} ends at record {last} but its head file says {head}: records were removed \
         or the log was replaced. keyward will not extend it; check it with `keyward audit \
         verify`, keep a copy, then move the log away to start a new one",
        .path.display()
    )]
    Cut { path: PathBuf, last: u64, head: u64 },
    /// The record could not be encoded as JSON (not expected to happen).
    #[error("cannot encode an audit record")]
    Encode(#[source] serde_json::Error),
}

impl AuditError {
    pub(crate) fn io(op: &'static str, path: &std::path::Path) -> impl Fn(io::Error) -> Self {
        move |source| Self::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Why [`crate::verify`] rejected the log.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The file could not be read.
    #[error("audit log {}: cannot read: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The first bad record: its 1-based line number, its `seq` when the line
    /// could be parsed, and what is wrong with it.
    #[error("audit chain broken at line {line}{}: {problem}", seq_suffix(*.seq))]
    Broken {
        line: u64,
        seq: Option<u64>,
        problem: Problem,
    },
    /// The chain is intact but does not end where the head file says.
    #[error("audit log head: {problem}")]
    Head { problem: HeadProblem },
}

/// What the head file (`<log>.head`) says is wrong with an intact chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadProblem {
    /// Records were cut off the end.
    #[error(
        "the log ends at record {last} but the head file says {head}: records {} to {head} were removed",
        last + 1
    )]
    Truncated { last: u64, head: u64 },
    /// The record the head names is not the one that was written.
    #[error("record {seq} is not the one the head file recorded (the log was rewritten)")]
    Mismatch { seq: u64 },
    #[error("the head file is missing: records may have been cut off the end")]
    Missing,
    #[error("the head file is not readable as a head record")]
    Unreadable,
}

impl VerifyError {
    /// Line number of the first bad record, if the chain is broken.
    pub fn line(&self) -> Option<u64> {
        match self {
            Self::Broken { line, .. } => Some(*line),
            Self::Io { .. } | Self::Head { .. } => None,
        }
    }
}

fn seq_suffix(seq: Option<u64>) -> String {
    seq.map(|s| format!(" (seq {s})")).unwrap_or_default()
}

/// What is wrong with a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Not JSON, or not a record (garbled, truncated).
    #[error("not a valid record: {0}")]
    Unparsable(String),
    /// The last line has no newline: a torn write or a truncated file.
    #[error("incomplete last line (torn write or truncation)")]
    Unterminated,
    /// The bytes do not hash to the record's `hash`: the record was edited.
    #[error("content does not match its hash (record edited)")]
    HashMismatch,
    /// `prev` is not the hash of the line before: a record was removed,
    /// reordered or inserted just before this one.
    #[error(
        "prev does not match the previous record's hash (record removed, reordered or inserted)"
    )]
    PrevMismatch,
    /// The chain links are intact but `seq` does not follow on.
    #[error("seq {found} where {expected} was expected")]
    SeqGap { expected: u64, found: u64 },
}

/// Describes a JSON error without quoting the input (serde_json messages may
/// include the offending value).
pub(crate) fn describe_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "read error",
        Category::Syntax => "invalid JSON",
        Category::Data => "JSON that is not a record",
        Category::Eof => "truncated JSON",
    };
    format!("{what} at column {}", e.column())
}
