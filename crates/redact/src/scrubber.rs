//! The compiled, shareable scrubber.

use std::fmt;
use std::sync::Arc;

use crate::REDACTED;
use crate::matcher::Matcher;
use crate::stream::StreamScrubber;

/// Replaces every known secret (and its encodings) with [`REDACTED`].
///
/// Cheap to clone (one `Arc`), `Send + Sync`. Its `Debug` prints counts only,
/// never a pattern.
#[derive(Clone)]
pub struct Scrubber {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    pattern_count: usize,
    skipped_short: usize,
}

/// How matching is done.
pub(crate) enum Engine {
    Match(Matcher),
    /// Fail-closed fallback when the matcher could not be compiled: all
    /// output is replaced by a single [`REDACTED`].
    RedactAll,
}

impl Scrubber {
    /// A scrubber with no secrets: everything passes through unchanged.
    pub fn empty() -> Self {
        Self::new(Engine::Match(Matcher::none()), 0, 0)
    }

    pub(crate) fn from_matcher(
        matcher: Matcher,
        pattern_count: usize,
        skipped_short: usize,
    ) -> Self {
        Self::new(Engine::Match(matcher), pattern_count, skipped_short)
    }

    pub(crate) fn redact_all(pattern_count: usize, skipped_short: usize) -> Self {
        Self::new(Engine::RedactAll, pattern_count, skipped_short)
    }

    fn new(engine: Engine, pattern_count: usize, skipped_short: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                engine,
                pattern_count,
                skipped_short,
            }),
        }
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Scrubs a string; returns (scrubbed, number of replacements).
    ///
    /// A match that begins or ends inside a multi-byte character (possible
    /// with non-UTF-8 secrets) is widened to whole characters, so the output
    /// is always valid UTF-8; this can only redact more, never less.
    pub fn scrub_str(&self, s: &str) -> (String, usize) {
        let matcher = match self.engine() {
            Engine::Match(m) => m,
            Engine::RedactAll => return redact_all_str(s),
        };
        let mut out = String::with_capacity(s.len());
        let mut pos = 0;
        let mut count = 0;
        for m in matcher.matches(s.as_bytes()) {
            if m.start < pos {
                // Starts inside the previous (widened) replacement.
                pos = pos.max(ceil_char_boundary(s, m.end));
                continue;
            }
            let start = floor_char_boundary(s, m.start);
            out.push_str(&s[pos..start]);
            out.push_str(REDACTED);
            pos = ceil_char_boundary(s, m.end);
            count += 1;
        }
        out.push_str(&s[pos..]);
        (out, count)
    }

    /// Scrubs bytes; returns (scrubbed, number of replacements).
    pub fn scrub_bytes(&self, b: &[u8]) -> (Vec<u8>, usize) {
        match self.engine() {
            Engine::Match(m) => {
                let mut out = Vec::with_capacity(b.len());
                let (_, count) = m.scrub_into(b, b.len(), &mut out);
                (out, count)
            }
            Engine::RedactAll if b.is_empty() => (Vec::new(), 0),
            Engine::RedactAll => (REDACTED.as_bytes().to_vec(), 1),
        }
    }

    /// A scrubber for a body read in chunks.
    pub fn stream(&self) -> StreamScrubber {
        StreamScrubber::new(self.clone())
    }

    /// Number of distinct patterns (secrets × encodings) being matched.
    pub fn pattern_count(&self) -> usize {
        self.inner.pattern_count
    }

    /// Heap bytes the compiled scrubber holds (shared by its clones), for
    /// memory budgets and benchmarks.
    pub fn memory_usage(&self) -> usize {
        let engine = match self.engine() {
            Engine::Match(m) => m.memory_usage(),
            Engine::RedactAll => 0,
        };
        std::mem::size_of::<Inner>() + engine
    }

    /// Number of secret values ignored because they were shorter than
    /// [`crate::MIN_SECRET_LEN`]; the caller should warn about them.
    pub fn skipped_short(&self) -> usize {
        self.inner.skipped_short
    }
}

fn redact_all_str(s: &str) -> (String, usize) {
    if s.is_empty() {
        (String::new(), 0)
    } else {
        (REDACTED.to_owned(), 1)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

impl Default for Scrubber {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scrubber")
            .field("patterns", &self.inner.pattern_count)
            .field("skipped_short", &self.inner.skipped_short)
            .field(
                "fail_closed",
                &matches!(self.inner.engine, Engine::RedactAll),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn scrubber_is_send_sync() {
        assert_send_sync::<Scrubber>();
        assert_send_sync::<StreamScrubber>();
    }

    #[test]
    fn redact_all_fails_closed() {
        let s = Scrubber::redact_all(3, 1);
        assert_eq!(s.scrub_str("anything"), (REDACTED.to_owned(), 1));
        assert_eq!(s.scrub_bytes(b""), (Vec::new(), 0));
        let mut st = s.stream();
        assert!(st.push(b"some").is_empty());
        assert!(st.push(b" body").is_empty());
        assert_eq!(st.finish(), REDACTED.as_bytes());
    }

    #[test]
    fn char_boundaries() {
        let s = "aé😀";
        assert_eq!(floor_char_boundary(s, 2), 1);
        assert_eq!(ceil_char_boundary(s, 2), 3);
        assert_eq!(ceil_char_boundary(s, 4), 7);
        assert_eq!(ceil_char_boundary(s, 7), 7);
    }
}
