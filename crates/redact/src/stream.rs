//! Scrubbing a body that arrives in chunks.
//!
//! The scrubber holds back the last `max_pattern_len - 1` bytes it has seen.
//! Any match starting before that hold-back boundary then lies wholly inside
//! the buffer, so it is found and replaced in full; a match starting inside
//! the held-back tail waits for the next chunk. Because no match can start
//! between the last committed position and the boundary without having been
//! seen, restarting the search at the boundary with the next chunk gives
//! exactly the one-shot result, whatever the chunking.

use std::fmt;

use zeroize::Zeroizing;

use crate::REDACTED;
use crate::scrubber::{Engine, Scrubber};

/// Scrubs a body fed in chunks; see [`Scrubber::stream`].
pub struct StreamScrubber {
    scrubber: Scrubber,
    /// Bytes not yet emitted: possibly the start of a secret, so zeroed on
    /// drop.
    pending: Zeroizing<Vec<u8>>,
    replacements: usize,
    /// Fail-closed mode only: whether anything was fed.
    saw_input: bool,
}

impl StreamScrubber {
    pub(crate) fn new(scrubber: Scrubber) -> Self {
        Self {
            scrubber,
            pending: Zeroizing::new(Vec::new()),
            replacements: 0,
            saw_input: false,
        }
    }

    /// Feeds a chunk and returns what can be safely emitted now. A secret
    /// split across chunk boundaries (any split point, any number of chunks,
    /// even 1-byte chunks) is still scrubbed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let matcher = match self.scrubber.engine() {
            Engine::Match(m) => m,
            Engine::RedactAll => {
                self.saw_input |= !chunk.is_empty();
                return Vec::new();
            }
        };
        let hold = matcher.max_len().saturating_sub(1);
        self.pending.extend_from_slice(chunk);
        if self.pending.len() <= hold {
            return Vec::new();
        }
        let commit_end = self.pending.len() - hold;
        let mut out = Vec::with_capacity(commit_end);
        let (consumed, count) = matcher.scrub_into(&self.pending, commit_end, &mut out);
        self.pending.drain(..consumed);
        self.replacements += count;
        out
    }

    /// Ends the body and returns the rest, scrubbed.
    pub fn finish(self) -> Vec<u8> {
        self.finish_counted().0
    }

    /// Like [`finish`](Self::finish), also returning the total number of
    /// replacements over the whole body (for the audit record).
    pub fn finish_counted(mut self) -> (Vec<u8>, usize) {
        let matcher = match self.scrubber.engine() {
            Engine::Match(m) => m,
            Engine::RedactAll if self.saw_input => return (REDACTED.as_bytes().to_vec(), 1),
            Engine::RedactAll => return (Vec::new(), 0),
        };
        let mut out = Vec::with_capacity(self.pending.len());
        let (_, count) = matcher.scrub_into(&self.pending, self.pending.len(), &mut out);
        self.replacements += count;
        (out, self.replacements)
    }

    /// Replacements made so far by [`push`](Self::push); the final total is
    /// returned by [`finish_counted`](Self::finish_counted).
    pub fn replacements(&self) -> usize {
        self.replacements
    }
}

impl fmt::Debug for StreamScrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamScrubber")
            .field("pending_bytes", &self.pending.len())
            .field("replacements", &self.replacements)
            .finish()
    }
}
