//! Scrubbers across secret changes. When a value is rotated, an upstream may
//! still echo the old one for a while (caches, logs, a slow replica), so a
//! rebuilt scrubber keeps matching the values of the last few generations.

use std::collections::VecDeque;
use std::fmt;

use zeroize::Zeroizing;

use crate::{Scrubber, ScrubberBuilder};

/// One value to scrub, as [`ScrubberBuilder`] takes it.
#[derive(Clone, PartialEq, Eq)]
enum Secret {
    Plain(Zeroizing<Vec<u8>>),
    Basic {
        user: Vec<u8>,
        pass: Zeroizing<Vec<u8>>,
    },
}

/// The values of one generation. Buffers are zeroed on drop; `Debug` prints
/// the count only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretSet {
    items: Vec<Secret>,
}

impl SecretSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// See [`ScrubberBuilder::add_secret`].
    pub fn add_secret(&mut self, value: &[u8]) -> &mut Self {
        self.push(Secret::Plain(Zeroizing::new(value.to_vec())));
        self
    }

    /// See [`ScrubberBuilder::add_basic_auth`].
    pub fn add_basic_auth(&mut self, user: &[u8], pass: &[u8]) -> &mut Self {
        self.push(Secret::Basic {
            user: user.to_vec(),
            pass: Zeroizing::new(pass.to_vec()),
        });
        self
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn push(&mut self, s: Secret) {
        if !self.items.contains(&s) {
            self.items.push(s);
        }
    }

    /// The values in `self` that `next` no longer has.
    fn minus(&self, next: &SecretSet) -> SecretSet {
        SecretSet {
            items: self
                .items
                .iter()
                .filter(|s| !next.items.contains(s))
                .cloned()
                .collect(),
        }
    }

    fn add_to(&self, b: &mut ScrubberBuilder) {
        for s in &self.items {
            match s {
                Secret::Plain(v) => {
                    b.add_secret(v);
                }
                Secret::Basic { user, pass } => {
                    b.add_basic_auth(user, pass);
                }
            }
        }
    }
}

impl fmt::Debug for SecretSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretSet")
            .field("values", &self.items.len())
            .finish()
    }
}

/// The current values and those retired by the last `keep` changes.
pub struct Generations {
    current: SecretSet,
    retired: VecDeque<SecretSet>,
    keep: usize,
}

impl Generations {
    /// Starts at `current`; values it loses stay scrubbed for `keep`
    /// further changes.
    pub fn new(current: SecretSet, keep: usize) -> Self {
        Generations {
            current,
            retired: VecDeque::new(),
            keep,
        }
    }

    /// Moves to `next`. The values `next` lost are retired as one
    /// generation (a change that retires nothing does not age the older
    /// ones); the oldest retired generation beyond `keep` is forgotten.
    /// Returns whether anything changed.
    pub fn advance(&mut self, next: SecretSet) -> bool {
        if next == self.current {
            return false;
        }
        let gone = self.current.minus(&next);
        self.current = next;
        if !gone.is_empty() {
            self.retired.push_front(gone);
            self.retired.truncate(self.keep);
        }
        true
    }

    /// A scrubber for the current values and every retained old one.
    pub fn scrubber(&self) -> Scrubber {
        let mut b = ScrubberBuilder::new();
        self.current.add_to(&mut b);
        for set in &self.retired {
            set.add_to(&mut b);
        }
        b.build()
    }

    /// How many retired generations are kept now.
    pub fn retired_generations(&self) -> usize {
        self.retired.len()
    }
}

impl fmt::Debug for Generations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generations")
            .field("current", &self.current)
            .field("retired", &self.retired.len())
            .field("keep", &self.keep)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::REDACTED;

    fn set(values: &[&str]) -> SecretSet {
        let mut s = SecretSet::new();
        for v in values {
            s.add_secret(v.as_bytes());
        }
        s
    }

    fn scrubbed(g: &Generations, text: &str) -> bool {
        g.scrubber().scrub_str(text).0 == REDACTED
    }

    #[test]
    fn a_rotated_value_stays_scrubbed_for_keep_changes() {
        let mut g = Generations::new(set(&["kw_canary_v0_aaaa"]), 2);
        assert!(g.advance(set(&["kw_canary_v1_bbbb"])));
        assert!(scrubbed(&g, "kw_canary_v0_aaaa"), "previous value");
        assert!(scrubbed(&g, "kw_canary_v1_bbbb"), "current value");
        assert!(g.advance(set(&["kw_canary_v2_cccc"])));
        assert!(scrubbed(&g, "kw_canary_v0_aaaa"));
        assert!(g.advance(set(&["kw_canary_v3_dddd"])));
        // v0 retired three changes ago: forgotten; v1, v2 kept.
        assert!(!scrubbed(&g, "kw_canary_v0_aaaa"));
        assert!(scrubbed(&g, "kw_canary_v1_bbbb"));
        assert!(scrubbed(&g, "kw_canary_v2_cccc"));
        assert_eq!(g.retired_generations(), 2);
    }

    #[test]
    fn unchanged_or_growing_sets_do_not_age_retired_values() {
        let mut g = Generations::new(set(&["kw_canary_old_1"]), 1);
        assert!(g.advance(set(&["kw_canary_new_1"])));
        assert!(!g.advance(set(&["kw_canary_new_1"])), "same set: no change");
        assert!(g.advance(set(&["kw_canary_new_1", "kw_canary_extra"])));
        assert!(
            scrubbed(&g, "kw_canary_old_1"),
            "adding a value retires nothing"
        );
    }

    #[test]
    fn basic_auth_pairs_are_retired_as_pairs() {
        use base64::Engine as _;
        let mut first = SecretSet::new();
        first.add_basic_auth(b"bot", b"kw_canary_pass_0");
        let mut g = Generations::new(first, 3);
        let mut second = SecretSet::new();
        second.add_basic_auth(b"bot", b"kw_canary_pass_1");
        g.advance(second);
        let old = base64::engine::general_purpose::STANDARD.encode("bot:kw_canary_pass_0");
        assert!(scrubbed(&g, &old));
    }

    #[test]
    fn debug_shows_counts_only() {
        let g = Generations::new(set(&["kw_canary_debug_1"]), 3);
        let text = format!("{g:?}");
        assert!(!text.contains("kw_canary"), "{text}");
    }
}
