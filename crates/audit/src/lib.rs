//! The tamper-evident audit log: one JSON line per call (denied calls
//! included), each chained to the previous one by SHA-256.
//!
//! # Format
//!
//! Each line is a [`Record`]: `seq` (1, 2, 3, …), `ts` (RFC 3339, UTC),
//! `prev`, the [`Event`] fields, and `hash`, in that order, exactly as
//! serde_json serialises a `Record` (compact, no spaces; absent options are
//! omitted). Agent-supplied strings are JSON-escaped, so they cannot start a
//! new line.
//!
//! # What the fields say
//!
//! `kind`, `decision` and `channel` are a fixed vocabulary ([`Kind`],
//! [`Decision`], [`Channel`]), written as plain strings:
//!
//! - `kind`: `http`, `tool`, `command`, `resource`, `prompt`, `workflow`,
//!   `access` (a call the agent made), `approval` (a question asked or
//!   answered), `admin` (the human acting on keyward: lock, unlock,
//!   revoke, dashboard log-in), `config` (keyward.toml pending, approved,
//!   or an approval refused).
//! - `decision`: for a call `allow`, `deny`, `rate_limited`, `error`; for
//!   an approval `asked`, then `deny` or `allow once`, `allow for the
//!   session`, `allow for 5m`, each followed by ` (grant ID)` when the
//!   answer created a grant; for `admin` `lock`, `unlock`,
//!   `wrong_passphrase`, `revoke`, `revoke grant ID`, `revoke all (N
//!   grant(s))`, `login`, `login_failed`, `logout`; for `config`
//!   `pending`, `approved`, `deny`.
//! - `channel` (approvals): `elicitation`, `dashboard`, `cli`, `timeout`,
//!   `lock`, `replay`, or `grant ID` when a grant let the call through.
//!
//! A reader must accept other strings too (a newer keyward may add
//! words): they parse as `Other` and are written back unchanged.
//!
//! # Hash definition
//!
//! `hash` is the lowercase hex SHA-256 of the line's own bytes with the
//! trailing `,"hash":"<64 hex>"` removed — that is, the compact serde_json
//! serialisation of the record without its `hash` field, fields in
//! declaration order, ending in `}`. `prev` of record *n* is `hash` of
//! record *n − 1*; the first record has 64 zeros.
//!
//! The verifier hashes the raw line bytes, not a re-serialisation of the
//! parsed record, so *any* change to a line (an added field, changed
//! whitespace, a different escape) breaks its hash; it never depends on
//! serde round-tripping. To check a log without keyward:
//!
//! ```sh
//! prev=0000000000000000000000000000000000000000000000000000000000000000
//! n=0
//! while IFS= read -r line; do
//!   n=$((n+1))
//!   h=$(printf '%s' "$line" | sed -E 's/,"hash":"[0-9a-f]{64}"}$/}/' | sha256sum | cut -d' ' -f1)
//!   stored=$(printf '%s' "$line" | jq -r .hash)
//!   [ "$h" = "$stored" ] || echo "line $n: edited"
//!   [ "$prev" = "$(printf '%s' "$line" | jq -r .prev)" ] || echo "line $n: chain broken"
//!   prev=$stored
//! done < audit.jsonl
//! ```
//!
//! (`jq -cj 'del(.hash)' | sha256sum` gives the same bytes for ordinary
//! records, but jq's escaping of unusual characters may differ from
//! serde_json's; the `sed` form is exact.)
//!
//! # What the chain does and does not prove
//!
//! [`verify`] detects an edited record, a removed, reordered or inserted
//! record, and a garbled or torn line, and names the first bad line. It does
//! **not** stop someone who can write the file from recomputing the whole
//! chain after an edit. Records cut off the end leave a valid chain, so
//! every append also rewrites `<log>.head` with the last record's `seq` and
//! `hash`; [`verify`] fails when the chain ends before the head, when the
//! record the head names differs, or when the head file of a non-empty log
//! is missing. Someone who can write both files can still cut both
//! consistently: anchoring the head where the writer cannot reach (another
//! user, another host) is what stops that.
//!
//! # Writing
//!
//! [`AuditLog::append`] takes an exclusive OS lock on the file around each
//! append, so several keyward processes can share one log; when another
//! process has appended since, the chain continues from its record. The
//! record is handed to the OS before `append` returns (no fsync). A file that
//! ends in a torn line, or that shrank, is refused rather than extended.
//! Records must not contain secrets: the gateway scrubs `error` and the
//! other strings before calling `append`.

mod describe;
mod error;
mod fields;
mod head;
mod log;
mod read;
mod record;
pub mod shown;
mod tail;

pub use describe::ARGS_PREVIEW_CHARS;
pub use error::{AuditError, HeadProblem, Problem, VerifyError};
pub use fields::{Allowance, Channel, Decision, Kind};
pub use log::AuditLog;
pub use read::{VerifyReport, read_from, read_last, read_records, verify};
pub use record::{Event, GENESIS_PREV, Record};
