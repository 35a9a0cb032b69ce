//! Leftmost-longest matching over two automata (case-sensitive and ASCII
//! case-insensitive) as if they were one, and the scrubbing loop shared by the
//! one-shot and the streaming scrubber so that both give identical output.

use std::ops::Range;

use aho_corasick::{AhoCorasick, Input, MatchKind};

use crate::REDACTED;
use crate::encode::Pattern;

/// The compiled patterns. Either automaton may be absent (no patterns of that
/// kind).
pub(crate) struct Matcher {
    exact: Option<AhoCorasick>,
    caseless: Option<AhoCorasick>,
    max_len: usize,
}

impl Matcher {
    /// Matches nothing.
    pub(crate) fn none() -> Self {
        Self {
            exact: None,
            caseless: None,
            max_len: 0,
        }
    }

    /// Compiles the patterns. The automata keep their own copies of the
    /// pattern bytes, which are not zeroed on drop (aho-corasick offers no
    /// way to); the `Pattern` buffers passed in are.
    pub(crate) fn build(
        exact: &[Pattern],
        caseless: &[Pattern],
    ) -> Result<Self, aho_corasick::BuildError> {
        let compile = |patterns: &[Pattern], ignore_case: bool| {
            if patterns.is_empty() {
                return Ok(None);
            }
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .ascii_case_insensitive(ignore_case)
                .build(patterns.iter().map(|p| p.as_slice()))
                .map(Some)
        };
        let max_len = exact
            .iter()
            .chain(caseless)
            .map(|p| p.len())
            .max()
            .unwrap_or(0);
        Ok(Self {
            exact: compile(exact, false)?,
            caseless: compile(caseless, true)?,
            max_len,
        })
    }

    /// Length of the longest pattern: the streaming scrubber holds back one
    /// byte less than this.
    pub(crate) fn max_len(&self) -> usize {
        self.max_len
    }

    /// Non-overlapping matches, leftmost first and longest among those that
    /// start at the same place, over both automata together.
    pub(crate) fn matches<'h>(&'h self, hay: &'h [u8]) -> Matches<'h> {
        Matches {
            automata: [self.exact.as_ref(), self.caseless.as_ref()],
            hay,
            pos: 0,
            next: [Slot::Stale; 2],
        }
    }

    /// Copies `hay` into `out` with every match that starts before
    /// `commit_end` replaced by [`REDACTED`]. Stops at `commit_end`, or past
    /// it if a committed match runs further. Returns (bytes consumed,
    /// replacements). A match that starts before `commit_end` is complete as
    /// long as `hay.len() >= commit_end + max_len - 1`, which the streaming
    /// scrubber guarantees by holding bytes back.
    pub(crate) fn scrub_into(
        &self,
        hay: &[u8],
        commit_end: usize,
        out: &mut Vec<u8>,
    ) -> (usize, usize) {
        let mut pos = 0;
        let mut count = 0;
        for m in self.matches(hay) {
            if m.start >= commit_end {
                break;
            }
            out.extend_from_slice(&hay[pos..m.start]);
            out.extend_from_slice(REDACTED.as_bytes());
            pos = m.end;
            count += 1;
        }
        let keep_from = pos.max(commit_end.min(hay.len()));
        out.extend_from_slice(&hay[pos..keep_from]);
        (keep_from, count)
    }
}

/// The next match of one automaton at or after the iterator's position.
#[derive(Clone, Copy)]
enum Slot {
    /// Must be searched (again).
    Stale,
    Found(usize, usize),
    /// No match in the rest of the haystack.
    Done,
}

/// Iterator behind [`Matcher::matches`]. Each automaton's next match is
/// cached: it remains the leftmost-longest one for any later position that
/// does not pass its start, so a dense run of matches of one kind does not
/// make the other automaton rescan the same bytes over and over.
pub(crate) struct Matches<'h> {
    automata: [Option<&'h AhoCorasick>; 2],
    hay: &'h [u8],
    pos: usize,
    next: [Slot; 2],
}

impl Iterator for Matches<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        let mut best: Option<Range<usize>> = None;
        for (automaton, slot) in self.automata.iter().zip(self.next.iter_mut()) {
            let Some(ac) = automaton else { continue };
            if let Slot::Found(start, _) = *slot
                && start < self.pos
            {
                *slot = Slot::Stale;
            }
            if let Slot::Stale = *slot {
                let input = Input::new(self.hay).range(self.pos..);
                *slot = match ac.find(input) {
                    Some(m) => Slot::Found(m.start(), m.end()),
                    None => Slot::Done,
                };
            }
            if let Slot::Found(start, end) = *slot {
                let better = match &best {
                    None => true,
                    Some(b) => start < b.start || (start == b.start && end > b.end),
                };
                if better {
                    best = Some(start..end);
                }
            }
        }
        if let Some(m) = &best {
            self.pos = m.end;
        }
        best
    }
}
