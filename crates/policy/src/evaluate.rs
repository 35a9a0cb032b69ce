//! Evaluating HTTP rules: which rules match a call (exactly, or with case
//! folded), folded into a [`Verdict`] by the shared [`crate::verdict`] fold.
//!
//! Case. Servers differ in whether `/Admin` and `/admin` are the same
//! resource, so a case variation must only ever make a request MORE
//! restricted. Hence a rule matches case-insensitively exactly where it can
//! only restrict, and case-sensitively where it grants:
//! - deny rules: case-insensitive, always;
//! - allow rules: case-sensitive (`allow /v1/charges` does not allow
//!   `/V1/Charges`);
//! - confirm rules: case-sensitive as a grant (a confirm rule alone does not
//!   open `/V1/Refunds`, that stays default-denied), but case-insensitive as
//!   a restriction of an allow (with `allow /**` and `confirm /v1/refunds`,
//!   `/V1/REFUNDS` needs confirmation instead of slipping through);
//! - rates: every rule of the decided action whose pattern matches
//!   case-insensitively contributes its rate, so a case variant cannot
//!   route around a rate-limited rule to an unlimited one.

use crate::verdict::{Hit, fold};
use crate::{HttpRule, Method, NormalizedPath, Verdict};

/// The decision for `method path` under `rules` (folded by
/// [`crate::combine`]), and the rate limits that apply to it.
pub fn evaluate_http(rules: &[HttpRule], method: &Method, path: &NormalizedPath) -> Verdict {
    let hits: Vec<Hit> = rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.covers_method(method))
        .map(|(index, rule)| Hit {
            index,
            action: rule.action,
            rate: rule.rate,
            exact: rule.matches_path(path, false),
            // Case-sensitive match implies case-insensitive match.
            folded: rule.matches_path(path, true),
        })
        .filter(|h| h.folded)
        .collect();
    fold(&hits, |i| {
        rules.get(i).map(HttpRule::text).unwrap_or_default()
    })
}
