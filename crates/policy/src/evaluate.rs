//! Evaluating HTTP rules: which rules match a call, folded by the shared
//! [`combine`], plus which rate limits apply to the outcome.
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

use crate::{Action, Decision, HttpRule, Method, NormalizedPath, Rate, RuleRef, combine};

/// A decision together with the rate limits that apply to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpVerdict {
    pub decision: Decision,
    /// `(rule index, rate)` for every matching rule whose action is the
    /// decided action and that carries a rate; all of them must pass. A call
    /// allowed by two rate-limited rules is limited by both. For `confirm`
    /// the confirm rules' rates apply (check them before asking a human, so
    /// a looping agent cannot flood the human with prompts); for `deny`
    /// there is nothing to limit and the list is empty.
    pub rates: Vec<(usize, Rate)>,
}

/// How one rule relates to the call.
struct Hit<'a> {
    index: usize,
    rule: &'a HttpRule,
    exact: bool,
    folded: bool,
}

/// The decision for `method path` under `rules` (folded by [`combine`]),
/// and the rate limits that apply to it.
pub fn evaluate_http(rules: &[HttpRule], method: &Method, path: &NormalizedPath) -> HttpVerdict {
    let hits: Vec<Hit<'_>> = rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.covers_method(method))
        .map(|(index, rule)| Hit {
            index,
            rule,
            exact: rule.matches_path(path, false),
            // Case-sensitive match implies case-insensitive match.
            folded: rule.matches_path(path, true),
        })
        .filter(|h| h.folded)
        .collect();
    let allowed = hits
        .iter()
        .any(|h| h.rule.action == Action::Allow && h.exact);
    let counts = |h: &Hit<'_>| match h.rule.action {
        Action::Deny => true,
        Action::Confirm => h.exact || allowed,
        Action::Allow => h.exact,
    };
    let decision = combine(hits.iter().filter(|h| counts(h)).map(|h| {
        (
            h.rule.action,
            RuleRef {
                index: h.index,
                text: h.rule.text(),
            },
        )
    }));
    let rates = if decision.action == Action::Deny {
        Vec::new()
    } else {
        hits.iter()
            .filter(|h| h.rule.action == decision.action)
            .filter_map(|h| h.rule.rate.map(|rate| (h.index, rate)))
            .collect()
    };
    HttpVerdict { decision, rates }
}
