//! Leftmost-longest search for the long patterns that never reads most of
//! the haystack: a q-gram filter sampled every `step` bytes (the idea of
//! Wu–Manber), then an exact check of the few candidate positions.
//!
//! Why not aho-corasick for these: every one of its automata reads every
//! byte. Its DFA does so in ~18 instructions a byte but needs 36 MB for 100
//! secrets with their encodings (≈800 patterns, ≈90k states); past 100
//! patterns it builds a contiguous NFA, ~80 instructions a byte; and its
//! prefilters (rare bytes, start bytes, Teddy) are chosen by heuristics that
//! fail on hex- and digit-heavy bodies or are limited to a few dozen
//! patterns. Patterns are long (secrets of 16 bytes and more in all their
//! encodings), so a sample every `step` bytes is enough to see each
//! occurrence, and the cost does not grow with the patterns' length.
//! Short patterns stay with aho-corasick (see `matcher.rs`).
//!
//! How: let `m` be the shortest long pattern and `step = m - GRAM + 1`.
//! Every pattern registers the `GRAM`-byte words at offsets `0..step` of its
//! first `m` bytes. An occurrence starting at `s` contains exactly one
//! sample position `i` (a multiple of `step`) with `s <= i < s + step`, and
//! the word at `i` is one it registered at offset `i - s`. So reading the
//! word at each sample position, looking it up, and checking the patterns
//! registered under it at `s = i - offset` finds every occurrence whose
//! start lies in `(i - step, i]`. These windows do not overlap and grow with
//! `i`, so the first window holding a match holds the leftmost match; the
//! longest one starting there wins.

use std::ops::Range;

use zeroize::Zeroizing;

use crate::encode::Pattern;

/// Width of the sampled words: one `u64`.
pub(crate) const GRAM: usize = 8;

/// Patterns at least this long are searched here; shorter ones would make
/// `step` too small to be worth it.
pub(crate) const LONG: usize = 16;

/// Words are compared with bit 5 of every byte set: this folds ASCII case
/// (and merges a few non-letters, which only adds candidates that the exact
/// check then rejects).
const FOLD: u64 = 0x2020_2020_2020_2020;

pub(crate) struct Sampled {
    step: usize,
    /// Bloom-like bitmap of the registered words (one hash), so that most
    /// samples cost one load and one bit test.
    bits: Vec<u64>,
    shift: u32,
    /// `[folded word, pattern index << 32 | offset]`, sorted by word.
    entries: Zeroizing<Vec<[u64; 2]>>,
    /// The patterns and whether each ignores ASCII case (stored lower-case).
    patterns: Vec<(Pattern, bool)>,
}

fn word(bytes: &[u8; GRAM]) -> u64 {
    u64::from_le_bytes(*bytes) | FOLD
}

impl Sampled {
    /// `patterns`: (bytes, ignores case), every one at least [`LONG`] bytes.
    /// `None` when there are none.
    pub(crate) fn build(patterns: Vec<(Pattern, bool)>) -> Option<Self> {
        let m = patterns.iter().map(|(p, _)| p.len()).min()?;
        debug_assert!(m >= LONG);
        let step = m - GRAM + 1;
        let mut entries = Zeroizing::new(Vec::with_capacity(patterns.len() * step));
        for (index, (p, _)) in patterns.iter().enumerate() {
            for offset in 0..step {
                if let Some(w) = p.get(offset..).and_then(|t| t.first_chunk::<GRAM>()) {
                    entries.push([word(w), (index as u64) << 32 | offset as u64]);
                }
            }
        }
        entries.sort_unstable();
        entries.dedup();
        // About 16 bits per word: ~6% of the bits set, so a sample that is
        // no word of a pattern passes the bitmap rarely.
        let nbits = (entries.len() * 16)
            .next_power_of_two()
            .clamp(1 << 12, 1 << 24);
        let mut s = Self {
            step,
            bits: vec![0; nbits / 64],
            shift: 64 - nbits.trailing_zeros(),
            entries,
            patterns,
        };
        for i in 0..s.entries.len() {
            let h = s.hash(s.entries[i][0]);
            s.bits[h >> 6] |= 1 << (h & 63);
        }
        Some(s)
    }

    fn hash(&self, w: u64) -> usize {
        (w.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    pub(crate) fn memory_usage(&self) -> usize {
        self.bits.len() * 8
            + self.entries.len() * 16
            + self
                .patterns
                .iter()
                .map(|(p, _)| p.capacity() + std::mem::size_of::<(Pattern, bool)>())
                .sum::<usize>()
    }

    /// The leftmost-longest match starting at or after `pos`.
    pub(crate) fn find(&self, hay: &[u8], pos: usize) -> Option<Range<usize>> {
        let step = self.step;
        let mut i = pos.div_ceil(step) * step;
        while let Some(w) = hay.get(i..).and_then(|t| t.first_chunk::<GRAM>()) {
            let w = word(w);
            let h = self.hash(w);
            if self.bits[h >> 6] >> (h & 63) & 1 != 0
                && let Some(m) = self.check(hay, w, i, pos)
            {
                return Some(m);
            }
            i += step;
        }
        None
    }

    /// The longest match among the earliest-starting ones that the word `w`
    /// sampled at `i` points to, starting at or after `pos`.
    fn check(&self, hay: &[u8], w: u64, i: usize, pos: usize) -> Option<Range<usize>> {
        let first = self.entries.partition_point(|e| e[0] < w);
        let mut best: Option<Range<usize>> = None;
        for e in self.entries[first..].iter().take_while(|e| e[0] == w) {
            let index = (e[1] >> 32) as usize;
            let offset = (e[1] & 0xffff_ffff) as usize;
            let Some(start) = i.checked_sub(offset).filter(|&s| s >= pos) else {
                continue;
            };
            let (p, caseless) = &self.patterns[index];
            let end = start + p.len();
            let Some(candidate) = hay.get(start..end) else {
                continue;
            };
            let hit = if *caseless {
                candidate.eq_ignore_ascii_case(p)
            } else {
                candidate == p.as_slice()
            };
            let better = match &best {
                None => true,
                Some(b) => start < b.start || (start == b.start && end > b.end),
            };
            if hit && better {
                best = Some(start..end);
            }
        }
        best
    }
}
