//! What a value looks like: the [`RULES`] table read in order against a
//! value and the name it sits under, with placeholders, references and
//! interpolations ruled out first.

mod keys;
mod mask;
mod placeholder;
mod rules;
mod split;

#[cfg(test)]
mod tests;

use std::sync::LazyLock;

use regex::Regex;

pub use mask::mask;
pub use placeholder::{Why, is_placeholder};
pub use rules::{Charset, KeyCond, Pattern, RULES, Rule, entropy};

/// A recognised kind of secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detection {
    /// Stable rule id, e.g. `github-pat`, `stripe-live-secret-key`, `generic-secret`.
    pub rule: &'static str,
    /// Human title, e.g. `GitHub personal access token (classic)`.
    pub title: &'static str,
}

/// A detection and where in the value the secret is (byte range), for a
/// preview: `mask(&value[m.start..m.end])`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    pub detection: Detection,
    pub start: usize,
    pub end: usize,
}

impl Match {
    /// The masked preview of the matched secret in `value` (the value this
    /// match was found in).
    pub fn preview(&self, value: &str) -> String {
        mask(value.get(self.start..self.end).unwrap_or(""))
    }
}

/// Values longer than this are only searched in their first part (a PEM
/// bundle, a pasted document); configs do not hold bigger secrets.
const MAX_VALUE: usize = 64 * 1024;

/// Whether `value`, found under `key` (an env var, header or JSON key name,
/// when there is one), looks like a secret.
pub fn detect(key: Option<&str>, value: &str) -> Option<Detection> {
    find(key, value).map(|m| m.detection)
}

/// [`detect`], and where the secret is in `value`.
pub fn find(key: Option<&str>, value: &str) -> Option<Match> {
    let value = truncate(value, MAX_VALUE);
    if is_placeholder(value) {
        return None;
    }
    find_in(key, value, Checks::Placeholders)
}

/// A value that [`find`] passes over only because it looks like a
/// placeholder or an example (a database URL on an `example.com` host,
/// `sk_live_` and an ascending run): the match it would have been, and
/// why it was skipped. Empty values, references and interpolations are
/// not skipped values: they hold no secret.
pub fn skipped(key: Option<&str>, value: &str) -> Option<(Match, &'static str)> {
    match verdict(key, value) {
        Verdict::Skipped(m, why) => Some((m, why)),
        Verdict::Found(_) | Verdict::Clean => None,
    }
}

/// What [`find`] and [`skipped`] say of a value, in one pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A secret ([`find`]).
    Found(Match),
    /// Would be one but for a placeholder or example mark ([`skipped`]).
    Skipped(Match, &'static str),
    Clean,
}

/// [`find`], else [`skipped`], reading the value once for each.
pub fn verdict(key: Option<&str>, value: &str) -> Verdict {
    let value = truncate(value, MAX_VALUE);
    let whole = placeholder::why(value);
    if whole == Some(Why::NotAValue) {
        return Verdict::Clean;
    }
    if whole.is_none()
        && let Some(m) = find_in(key, value, Checks::Placeholders)
    {
        return Verdict::Found(m);
    }
    match unchecked(key, value, whole) {
        Some((m, why)) => Verdict::Skipped(m, why),
        None => Verdict::Clean,
    }
}

/// The match the placeholder checks ruled out, and the mark that did.
fn unchecked(key: Option<&str>, value: &str, whole: Option<Why>) -> Option<(Match, &'static str)> {
    let m = find_in(key, value, Checks::None)?;
    let part = value.get(m.start..m.end).unwrap_or("");
    let reason = match whole {
        Some(Why::Placeholder(r)) => r,
        Some(Why::NotAValue) => return None,
        None => match placeholder::why(part) {
            Some(Why::Placeholder(r)) => r,
            Some(Why::NotAValue) => return None,
            None => placeholder::decoy_why(part).unwrap_or("looks like a placeholder"),
        },
    };
    Some((m, reason))
}

/// Whether the placeholder and decoy checks apply ([`skipped`] turns them
/// off to see what they ruled out).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Checks {
    Placeholders,
    None,
}

fn find_in(key: Option<&str>, value: &str, checks: Checks) -> Option<Match> {
    let views = split::views(key, value);
    for (i, rule) in RULES.iter().enumerate() {
        let found = if rule.key == KeyCond::Any {
            search(i, rule, value, checks)
        } else {
            views.iter().find_map(|v| named(rule, v, value, checks))
        };
        if let Some((start, end)) = found {
            return Some(Match {
                detection: Detection {
                    rule: rule.id,
                    title: rule.title,
                },
                start,
                end,
            });
        }
    }
    None
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Characters that glue onto a token: a match next to one is part of some
/// longer word, not a token.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn bounded(value: &str, start: usize, end: usize) -> bool {
    let before = value[..start].chars().next_back();
    let after = value[end..].chars().next();
    !before.is_some_and(is_token_char) && !after.is_some_and(is_token_char)
}

fn entropy_ok(rule: &Rule, s: &str) -> bool {
    rule.min_entropy.is_none_or(|min| entropy(s) >= min)
}

/// Regexes of the table, compiled once, by row (`None` for non-regex rows).
static COMPILED: LazyLock<Vec<Option<Regex>>> = LazyLock::new(|| {
    RULES
        .iter()
        .map(|r| match r.pattern {
            Pattern::Regex(re) => Regex::new(re).ok(),
            _ => None,
        })
        .collect()
});

/// A token-shaped rule anywhere in the value: the matched byte range.
fn search(index: usize, rule: &Rule, value: &str, checks: Checks) -> Option<(usize, usize)> {
    let strict = checks == Checks::Placeholders;
    match rule.pattern {
        Pattern::Prefix {
            prefixes,
            charset,
            min,
            max,
        } => prefixes
            .iter()
            .find_map(|p| search_prefix(rule, value, p, charset, min, max, strict)),
        Pattern::Regex(_) => {
            let re = COMPILED.get(index)?.as_ref()?;
            re.captures_iter(value).find_map(|c| {
                let m = c.get(0)?;
                let secret = c.name("s").map_or(m.as_str(), |s| s.as_str());
                // Rows without an entropy floor (PEM blocks, URLs) have
                // structure that decoy checks would trip on (`-----`,
                // `AAAAA` in DER); a named secret part is checked instead.
                let checked = rule.min_entropy.is_some() || c.name("s").is_some();
                let real = bounded(value, m.start(), m.end())
                    && entropy_ok(rule, secret)
                    && !(strict && checked && placeholder::is_decoy_token(secret))
                    && (!strict || c.name("s").is_none() || !is_placeholder(secret));
                real.then_some((m.start(), m.end()))
            })
        }
        Pattern::Whole { charset, min, max } => {
            let v = value.trim();
            let start = split::offset_in(value, v);
            whole(charset, min, max, v).then_some((start, start + v.len()))
        }
    }
}

fn search_prefix(
    rule: &Rule,
    value: &str,
    prefix: &str,
    charset: Charset,
    min: usize,
    max: usize,
    strict: bool,
) -> Option<(usize, usize)> {
    value.match_indices(prefix).find_map(|(start, _)| {
        let body_start = start + prefix.len();
        let rest = &value[body_start..];
        let body_bytes = rest
            .char_indices()
            .find(|&(_, c)| !charset.contains(c))
            .map_or(rest.len(), |(i, _)| i);
        let end = body_start + body_bytes;
        let body = &value[body_start..end];
        let body_len = body.chars().count();
        let real = (min..=max).contains(&body_len)
            && bounded(value, start, end)
            && entropy_ok(rule, body)
            && !(strict && placeholder::is_decoy_token(body));
        real.then_some((start, end))
    })
}

fn whole(charset: Charset, min: usize, max: usize, v: &str) -> bool {
    let n = v.chars().count();
    (min..=max).contains(&n) && v.chars().all(|c| charset.contains(c))
}

/// A name-conditioned rule on one view of the value.
fn named(
    rule: &Rule,
    view: &split::View<'_>,
    value: &str,
    checks: Checks,
) -> Option<(usize, usize)> {
    let strict = checks == Checks::Placeholders;
    if !keys::holds(rule.key, view.key, view.auth_form) {
        return None;
    }
    let cred = view.cred;
    match placeholder::why(cred) {
        Some(Why::NotAValue) => return None,
        Some(Why::Placeholder(_)) if strict => return None,
        _ => {}
    }
    if looks_ordinary(rule, cred) {
        return None;
    }
    // Name-based guesses need the value to look generated, and not like a
    // README's sample (`sk-1234567890abcdef…`).
    if matches!(rule.key, KeyCond::Secret | KeyCond::AuthHeader)
        && (!looks_random(cred) || (strict && placeholder::is_decoy_token(cred)))
    {
        return None;
    }
    let ok = match rule.pattern {
        Pattern::Whole { charset, min, max } => whole(charset, min, max, cred),
        Pattern::Prefix { .. } | Pattern::Regex(_) => return None,
    };
    let start = split::offset_in(value, cred);
    (ok && entropy_ok(rule, cred)).then_some((start, start + cred.len()))
}

/// Paths, URLs, flags and sentences are not secrets, whatever their name
/// says (a password may hold spaces: its rule allows them).
fn looks_ordinary(rule: &Rule, v: &str) -> bool {
    (rule.key != KeyCond::Password && v.contains(char::is_whitespace))
        || (looks_like_path_or_url(v) && !is_base64_token(rule, v))
}

/// A token of a base64 rule (an AWS secret access key) may start with `/`
/// without being a path: one in 64 of them does.
fn is_base64_token(rule: &Rule, v: &str) -> bool {
    matches!(
        rule.pattern,
        Pattern::Whole {
            charset: Charset::Base64,
            ..
        }
    ) && v.chars().all(|c| Charset::Base64.contains(c))
}

fn looks_like_path_or_url(v: &str) -> bool {
    v.starts_with('/')
        || v.starts_with("~/")
        || v.starts_with("./")
        || v.starts_with("../")
        || v.starts_with('-')
        || v.contains("://")
        || v.as_bytes().get(1..3) == Some(b":\\")
}

/// Generated secrets mix digits with letters, or both letter cases;
/// words and identifiers (`created_at_descending`) do not.
fn looks_random(v: &str) -> bool {
    let digit = v.chars().any(|c| c.is_ascii_digit());
    let lower = v.chars().filter(char::is_ascii_lowercase).count();
    let upper = v.chars().filter(char::is_ascii_uppercase).count();
    (digit && lower + upper > 0) || (lower >= 2 && upper >= 2 && !is_camel_words(v))
}

/// `MyProductionDatabase`: capitals only at the starts of words.
fn is_camel_words(v: &str) -> bool {
    let cs: Vec<char> = v.chars().collect();
    cs.iter().all(|c| c.is_ascii_alphabetic())
        && cs
            .windows(2)
            .all(|w| !(w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase()))
}
