//! Collects secret values, expands them into their encodings and compiles
//! the matcher.

use std::fmt;

use crate::MIN_SECRET_LEN;
use crate::encode::{self, Pattern, Sink};
use crate::matcher::Matcher;
use crate::scrubber::Scrubber;

/// The matcher could not be compiled. Only happens when the patterns exceed
/// aho-corasick's internal limits (billions of states), never for a
/// realistic vault. The message names no pattern.
#[derive(Debug, thiserror::Error)]
#[error("could not compile the secret scrubber")]
pub struct BuildError(#[source] aho_corasick::BuildError);

/// Collects secret values. The patterns it holds are zeroed when it is
/// dropped or built; its `Debug` prints counts only.
#[derive(Default)]
pub struct ScrubberBuilder {
    sink: Sink,
    skipped_short: usize,
}

impl ScrubberBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret value and all its encodings. Values shorter than
    /// [`MIN_SECRET_LEN`] bytes are ignored (they would scrub ordinary text)
    /// and counted in [`Scrubber::skipped_short`].
    pub fn add_secret(&mut self, value: &[u8]) -> &mut Self {
        if value.len() < MIN_SECRET_LEN {
            self.skipped_short += 1;
        } else {
            encode::add_secret(value, &mut self.sink);
        }
        self
    }

    /// HTTP basic auth: adds base64 of `user:pass` (how it appears in an
    /// `Authorization` header) besides what `add_secret(pass)` adds. The
    /// joined form is added even when `pass` alone is too short, because the
    /// header value as a whole is long enough to match safely.
    pub fn add_basic_auth(&mut self, user: &[u8], pass: &[u8]) -> &mut Self {
        self.add_secret(pass);
        encode::add_basic_auth(user, pass, &mut self.sink);
        self
    }

    /// Compiles the scrubber. Never fails: if compilation is impossible (see
    /// [`BuildError`]) the result fails closed and redacts *everything*,
    /// because letting text through unscrubbed would be the worse failure.
    /// Use [`ScrubberBuilder::try_build`] to see the error instead.
    pub fn build(self) -> Scrubber {
        let skipped = self.skipped_short;
        let patterns = self.sink.exact.len() + self.sink.caseless.len();
        self.try_build()
            .unwrap_or_else(|_| Scrubber::redact_all(patterns, skipped))
    }

    /// Compiles the scrubber, reporting a failure instead of failing closed.
    pub fn try_build(self) -> Result<Scrubber, BuildError> {
        let Self {
            mut sink,
            skipped_short,
        } = self;
        dedup(&mut sink.exact);
        dedup(&mut sink.caseless);
        let matcher = Matcher::build(&sink.exact, &sink.caseless).map_err(BuildError)?;
        let count = sink.exact.len() + sink.caseless.len();
        // `sink` drops here and zeroes every pattern buffer.
        Ok(Scrubber::from_matcher(matcher, count, skipped_short))
    }
}

/// Sorts and removes duplicates; dropped duplicates are zeroed.
fn dedup(patterns: &mut Vec<Pattern>) {
    patterns.sort_unstable_by(|a, b| a.as_slice().cmp(b.as_slice()));
    patterns.dedup_by(|a, b| a.as_slice() == b.as_slice());
}

impl fmt::Debug for ScrubberBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScrubberBuilder")
            .field(
                "patterns",
                &(self.sink.exact.len() + self.sink.caseless.len()),
            )
            .field("skipped_short", &self.skipped_short)
            .finish()
    }
}
