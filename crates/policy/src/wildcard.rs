//! The one wildcard matcher behind [`crate::NamePattern`] (over the
//! characters of a tool name) and [`crate::ArgvPattern`] (over whole
//! arguments, and over the bytes inside one argument).
//!
//! A pattern is a sequence of elements, each either a star (any run of
//! input elements, including none) or a single-element matcher (exactly one
//! input element for which a predicate holds). Patterns are written by the
//! human but input comes from the agent, so matching must not blow up on
//! many stars: a naive backtracking matcher is exponential in the number of
//! stars. This is the classic two-pointer algorithm, O(pattern x input)
//! in the worst case and linear in the common one.
//!
//! Why it is exact. Split the pattern at its stars: `S0 * S1 * ... * Sk`,
//! each `Si` a fixed-length run of single-element matchers. A match places
//! `S0` at the start, `Sk` at the end and `S1..Sk-1` in order in between.
//! Taking the leftmost place for each `Si` leaves the longest rest of the
//! input for the ones after it, so if any placement works the leftmost one
//! does; only the most recent star ever needs to be retried. This holds for
//! any per-element predicate, not just equality, since whether `Si` fits at
//! a place depends only on the elements under it.

/// One pattern element.
pub(crate) trait Element<T: ?Sized> {
    /// A star: any run of input elements, including none.
    fn is_star(&self) -> bool;
    /// For a non-star: whether it matches the single input element `input`.
    fn matches_one(&self, input: &T) -> bool;
}

/// Whether `pattern` matches the whole of `input`.
pub(crate) fn matches<P, T>(pattern: &[P], input: &[T]) -> bool
where
    P: Element<T>,
{
    let (mut p, mut i) = (0, 0);
    // The pattern position just after the most recent star, and the input
    // position from which that star's run is being tried.
    let mut retry: Option<(usize, usize)> = None;
    while i < input.len() {
        match pattern.get(p) {
            Some(e) if e.is_star() => {
                p += 1;
                retry = Some((p, i));
            }
            Some(e) if e.matches_one(&input[i]) => {
                p += 1;
                i += 1;
            }
            _ => match retry {
                // Let the star swallow one more element, start over after it.
                Some((after_star, from)) => {
                    p = after_star;
                    i = from + 1;
                    retry = Some((after_star, from + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(Element::is_star)
}

/// A glob where only `*` is special, used inside one argument of an
/// [`crate::ArgvPattern`]. It runs over bytes, which for this glob is the
/// same as over characters: UTF-8 is self-synchronising, so a literal run
/// of whole characters can only match at character boundaries, and the
/// stars between such runs therefore swallow whole characters too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ByteGlob {
    Star,
    Lit(u8),
}

impl Element<u8> for ByteGlob {
    fn is_star(&self) -> bool {
        *self == ByteGlob::Star
    }

    fn matches_one(&self, b: &u8) -> bool {
        *self == ByteGlob::Lit(*b)
    }
}

impl ByteGlob {
    /// `*` is a star, every other byte is literal.
    pub(crate) fn compile(text: &str) -> Vec<ByteGlob> {
        text.bytes()
            .map(|b| {
                if b == b'*' {
                    ByteGlob::Star
                } else {
                    ByteGlob::Lit(b)
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(p: &str, s: &str) -> bool {
        matches(&ByteGlob::compile(p), s.as_bytes())
    }

    #[test]
    fn stars_and_literals() {
        assert!(glob("", ""));
        assert!(!glob("", "a"));
        assert!(glob("*", ""));
        assert!(glob("*", "abc"));
        assert!(glob("a*c", "abbbc"));
        assert!(glob("a*c", "ac"));
        assert!(!glob("a*c", "acb"));
        assert!(glob("*a*b*", "xxaxxbxx"));
        assert!(!glob("*a*b*", "xxbxxaxx"));
        assert!(glob("a*b*b", "abbb"));
        assert!(!glob("a*b*b", "ab"));
        assert!(glob("**", "x"));
        assert!(glob("é*ü", "éxyü"));
        assert!(!glob("*é", "e"));
    }

    #[test]
    fn many_stars_do_not_blow_up() {
        let p = format!("{}b", "*a".repeat(40));
        let s = "a".repeat(5000);
        assert!(!glob(&p, &s));
        assert!(glob(&p, &format!("{s}b")));
    }
}
