//! Leftmost-longest matching over three searchers as if they were one: the
//! long patterns (the sampled filter of `sampled.rs`), and the short ones in
//! two aho-corasick automata (case-sensitive and ASCII case-insensitive);
//! and the scrubbing loop shared by the one-shot and the streaming scrubber
//! so that both give identical output.

use std::ops::Range;

use aho_corasick::{AhoCorasick, Input, MatchKind};

use crate::REDACTED;
use crate::encode::Pattern;
use crate::sampled::{LONG, Sampled};

/// The compiled patterns. Any searcher may be absent (no patterns of that
/// kind).
pub(crate) struct Matcher {
    /// Patterns shorter than [`LONG`], matched byte for byte.
    exact: Option<AhoCorasick>,
    /// Patterns shorter than [`LONG`], ignoring ASCII case.
    caseless: Option<AhoCorasick>,
    /// Patterns of [`LONG`] bytes or more, either kind.
    long: Option<Sampled>,
    max_len: usize,
}

impl Matcher {
    /// Matches nothing.
    pub(crate) fn none() -> Self {
        Self {
            exact: None,
            caseless: None,
            long: None,
            max_len: 0,
        }
    }

    /// Compiles the patterns. The automata keep their own copies of the
    /// short patterns, which are not zeroed on drop (aho-corasick offers no
    /// way to); the long patterns are kept in zeroing buffers, and the
    /// `Pattern` buffers passed in are zeroed by their owner.
    pub(crate) fn build(
        exact: &[Pattern],
        caseless: &[Pattern],
    ) -> Result<Self, aho_corasick::BuildError> {
        let compile = |patterns: &[Pattern], ignore_case: bool| {
            let short: Vec<&[u8]> = patterns
                .iter()
                .map(|p| p.as_slice())
                .filter(|p| p.len() < LONG)
                .collect();
            if short.is_empty() {
                return Ok(None);
            }
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .ascii_case_insensitive(ignore_case)
                // The case-insensitive patterns are hex and percent forms:
                // their start and rare bytes are digits and `%`, which are
                // everywhere in JSON, so a prefilter on them stops every few
                // bytes (6x slower than none for one secret).
                .prefilter(!ignore_case)
                .build(short)
                .map(Some)
        };
        let long = exact
            .iter()
            .map(|p| (p, false))
            .chain(caseless.iter().map(|p| (p, true)))
            .filter(|(p, _)| p.len() >= LONG)
            .map(|(p, caseless)| (Pattern::new(p.to_vec()), caseless))
            .collect();
        let max_len = exact
            .iter()
            .chain(caseless)
            .map(|p| p.len())
            .max()
            .unwrap_or(0);
        Ok(Self {
            exact: compile(exact, false)?,
            caseless: compile(caseless, true)?,
            long: Sampled::build(long),
            max_len,
        })
    }

    /// Length of the longest pattern: the streaming scrubber holds back one
    /// byte less than this.
    pub(crate) fn max_len(&self) -> usize {
        self.max_len
    }

    /// Heap bytes held by the compiled searchers.
    pub(crate) fn memory_usage(&self) -> usize {
        [&self.exact, &self.caseless]
            .into_iter()
            .flatten()
            .map(AhoCorasick::memory_usage)
            .sum::<usize>()
            + self.long.as_ref().map_or(0, Sampled::memory_usage)
    }

    /// Non-overlapping matches, leftmost first and longest among those that
    /// start at the same place, over all searchers together.
    pub(crate) fn matches<'h>(&'h self, hay: &'h [u8]) -> Matches<'h> {
        Matches {
            searchers: [
                self.long.as_ref().map(Searcher::Sampled),
                self.exact.as_ref().map(Searcher::Ac),
                self.caseless.as_ref().map(Searcher::Ac),
            ],
            hay,
            pos: 0,
            next: [Slot::Stale; 3],
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

/// One of the matcher's searchers.
#[derive(Clone, Copy)]
enum Searcher<'h> {
    Ac(&'h AhoCorasick),
    Sampled(&'h Sampled),
}

impl Searcher<'_> {
    fn find(self, hay: &[u8], pos: usize) -> Option<Range<usize>> {
        match self {
            Searcher::Ac(ac) => ac
                .find(Input::new(hay).range(pos..))
                .map(|m| m.start()..m.end()),
            Searcher::Sampled(s) => s.find(hay, pos),
        }
    }
}

/// The next match of one searcher at or after the iterator's position.
#[derive(Clone, Copy)]
enum Slot {
    /// Must be searched (again).
    Stale,
    Found(usize, usize),
    /// No match in the rest of the haystack.
    Done,
}

/// Iterator behind [`Matcher::matches`]. Each searcher's next match is
/// cached: it remains the leftmost-longest one for any later position that
/// does not pass its start, so a dense run of matches of one kind does not
/// make the other searchers rescan the same bytes over and over.
pub(crate) struct Matches<'h> {
    searchers: [Option<Searcher<'h>>; 3],
    hay: &'h [u8],
    pos: usize,
    next: [Slot; 3],
}

impl Iterator for Matches<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        let mut best: Option<Range<usize>> = None;
        for (searcher, slot) in self.searchers.iter().zip(self.next.iter_mut()) {
            let Some(searcher) = searcher else { continue };
            if let Slot::Found(start, _) = *slot
                && start < self.pos
            {
                *slot = Slot::Stale;
            }
            if let Slot::Stale = *slot {
                *slot = match searcher.find(self.hay, self.pos) {
                    Some(m) => Slot::Found(m.start, m.end),
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Leftmost-longest by brute force: at each position, the longest
    /// pattern that matches there.
    fn naive(exact: &[Pattern], caseless: &[Pattern], hay: &[u8]) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < hay.len() {
            let at = &hay[pos..];
            let longest = exact
                .iter()
                .filter(|p| at.starts_with(p))
                .chain(
                    caseless
                        .iter()
                        .filter(|p| at.len() >= p.len() && at[..p.len()].eq_ignore_ascii_case(p)),
                )
                .map(|p| p.len())
                .max();
            match longest {
                Some(len) => {
                    out.push(pos..pos + len);
                    pos += len;
                }
                None => pos += 1,
            }
        }
        out
    }

    /// Patterns over a tiny alphabet around the short/long boundary, so that
    /// they overlap, share prefixes and words, and occur in the haystack.
    fn patterns() -> impl Strategy<Value = Vec<Vec<u8>>> {
        prop::collection::vec("[abAB%0]{4,40}".prop_map(String::into_bytes), 0..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn matches_are_leftmost_longest(
            exact in patterns(),
            caseless in patterns(),
            noise in prop::collection::vec("[abAB%0x]{0,12}".prop_map(String::into_bytes), 0..12),
            picks in prop::collection::vec(any::<usize>(), 0..12),
        ) {
            let exact: Vec<Pattern> = exact.into_iter().map(Pattern::new).collect();
            let caseless: Vec<Pattern> = caseless
                .into_iter()
                .map(|p| Pattern::new(p.to_ascii_lowercase()))
                .collect();
            // Noise with patterns (some in flipped case) planted between.
            let all: Vec<&Pattern> = exact.iter().chain(&caseless).collect();
            let mut hay = Vec::new();
            for (i, n) in noise.iter().enumerate() {
                hay.extend_from_slice(n);
                if let (Some(pick), false) = (picks.get(i), all.is_empty()) {
                    let p = all[pick % all.len()];
                    if pick % 3 == 0 {
                        hay.extend(p.iter().map(u8::to_ascii_uppercase));
                    } else {
                        hay.extend_from_slice(p);
                    }
                }
            }
            let m = Matcher::build(&exact, &caseless).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let got: Vec<Range<usize>> = m.matches(&hay).collect();
            prop_assert_eq!(got, naive(&exact, &caseless, &hay));
        }
    }
}
