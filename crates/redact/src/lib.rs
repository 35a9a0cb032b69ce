//! The scrubber: replaces every known secret value, and the encodings it is
//! likely to travel in, with [`REDACTED`] in everything that goes back to the
//! agent (SECURITY.md item 1).
//!
//! Pure: no IO, no logging. Build a [`Scrubber`] once from the vault's current
//! values with [`ScrubberBuilder`], clone it cheaply into every connection, and
//! run bodies through [`Scrubber::scrub_bytes`] / [`Scrubber::scrub_str`], or
//! through a [`StreamScrubber`] when they arrive in chunks.
//!
//! ```
//! use keyward_redact::{REDACTED, ScrubberBuilder};
//!
//! let mut builder = ScrubberBuilder::new();
//! builder.add_secret(b"ghp_example_token").add_basic_auth(b"bot", b"hunter22");
//! let scrubber = builder.build();
//!
//! let (out, n) = scrubber.scrub_str("echo: ghp_example_token / Z2hwX2V4YW1wbGVfdG9rZW4=");
//! assert_eq!(out, format!("echo: {REDACTED} / {REDACTED}"));
//! assert_eq!(n, 2);
//!
//! // A secret split across reads is still caught.
//! let mut stream = scrubber.stream();
//! let mut body = stream.push(b"token=ghp_exam");
//! body.extend(stream.push(b"ple_token&x=1"));
//! let (tail, total) = stream.finish_counted();
//! body.extend(tail);
//! assert_eq!(body, format!("token={REDACTED}&x=1").into_bytes());
//! assert_eq!(total, 1);
//! ```
//!
//! # What is scrubbed, for each secret value `v`
//!
//! - `v` itself;
//! - base64 and base64url of `v`, padded and unpadded;
//! - the *stable cores* of `v` inside a larger base64 stream: how `v` encodes
//!   depends on its offset mod 3, so for each alignment we keep the characters
//!   fully determined by `v` (cores shorter than 8 characters are skipped: they
//!   would match ordinary text);
//! - hex (any case);
//! - percent-encoding (RFC 3986, `+` for space, WHATWG form-urlencoded,
//!   `encodeURIComponent`; any hex case), also of base64 of `v`;
//! - JSON string escaping as serde_json, Python, PHP (`\/`) and Go (`\u003c`)
//!   write it;
//! - for HTTP basic auth, base64 of `user:pass` (std and url alphabets).
//!
//! Matching is leftmost-longest over all patterns together, so the output
//! never contains a complete pattern that was present in the input.
//!
//! # Honest limits
//!
//! - Only the encodings above. A secret that was transformed in any other way
//!   (hashed, encrypted, compressed, reversed, split by line wrapping as in
//!   MIME base64, partially percent-encoded, re-encoded twice) passes through.
//! - Values shorter than [`MIN_SECRET_LEN`] are not scrubbed at all; they are
//!   counted in [`Scrubber::skipped_short`] so the caller can warn.
//! - Matching errs towards over-redaction: hex, percent and JSON forms are
//!   matched ignoring ASCII case.
//! - A secret that is itself a fragment of the text `[REDACTED]`, or that
//!   starts or ends with one, can reappear around a replacement.
//! - Pattern bytes are zeroed when the builder drops them, and the
//!   [`Scrubber`]'s copies of patterns of 16 bytes or more when it drops; but
//!   the `aho-corasick` automata that match the shorter patterns keep their
//!   own (unzeroed) copies for the life of the [`Scrubber`]; intermediate
//!   buffers of the encoders are zeroed best-effort.

mod builder;
mod encode;
mod escape;
mod generations;
mod matcher;
mod sampled;
mod scrubber;
mod stream;

pub use builder::{BuildError, ScrubberBuilder};
pub use generations::{Generations, SecretSet};
pub use scrubber::Scrubber;
pub use stream::StreamScrubber;

/// What every match is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Secret values shorter than this (in bytes) are not scrubbed: a 1–3 byte
/// pattern would shred ordinary text and still protect nothing.
pub const MIN_SECRET_LEN: usize = 4;

/// Base64 stable cores shorter than this (in characters) are not scrubbed:
/// short base64 runs occur by chance in ordinary base64 data.
pub const MIN_CORE_LEN: usize = 8;
