//! The verdict for one call, and the single fold that produces it from the
//! rules that match, for every kind of target (HTTP routes, upstream MCP
//! tools, commands). Each evaluator only decides which rules match and how
//! (exactly, or only when ASCII case is folded); what wins, and which rates
//! apply, is decided here once.

use crate::{Action, Budget, Decision, Rate, RuleRef, combine};

/// A decision together with the rate limits that apply to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    /// `(rule index, rate)` for every matching rule whose action is the
    /// decided action and that carries a rate; all of them must pass. A call
    /// allowed by two rate-limited rules is limited by both. For `confirm`
    /// the confirm rules' rates apply (check them before asking a human, so
    /// a looping agent cannot flood the human with prompts); for `deny`
    /// there is nothing to limit and the list is empty.
    pub rates: Vec<(usize, Rate)>,
    /// The rate budgets the call draws on, named for the limiter (set by
    /// [`crate::evaluate`]; all must have room).
    pub budgets: Vec<Budget>,
    /// Under `confirm`: the grant that answers for the human (set by
    /// [`crate::evaluate`]).
    pub grant: Option<String>,
}

impl Verdict {
    /// A decision without rates, budgets or grant.
    pub(crate) fn of(decision: Decision) -> Verdict {
        Verdict {
            decision,
            rates: Vec::new(),
            budgets: Vec::new(),
            grant: None,
        }
    }
}

/// The name the HTTP evaluator's verdict had before tools and commands
/// shared it; kept so that existing callers keep compiling.
pub type HttpVerdict = Verdict;

/// How one rule relates to the call being evaluated.
pub(crate) struct Hit {
    pub(crate) index: usize,
    pub(crate) action: Action,
    pub(crate) rate: Option<Rate>,
    /// The rule matches as written (case-sensitively).
    pub(crate) exact: bool,
    /// The rule matches with ASCII case folded. Implied by `exact`; for
    /// targets without a case question, evaluators set both the same.
    pub(crate) folded: bool,
}

/// Folds the rules that match (`hits`, those with neither flag set are
/// ignored) into a verdict. `text` renders rule `index` for the decision.
///
/// Case: a case variation must only ever make a call MORE restricted, so a
/// rule counts case-insensitively exactly where it can only restrict and
/// case-sensitively where it grants:
/// - deny: counts when it matches folded;
/// - allow: counts only when it matches exactly;
/// - confirm: counts when it matches exactly (as a grant), or folded when
///   some allow matches exactly (as a restriction of that allow: with
///   `allow *` and `confirm x`, `X` needs confirmation instead of slipping
///   through as a plain allow);
/// - rates: every rule of the decided action that matches folded
///   contributes its rate, so a case variant cannot route around a
///   rate-limited rule to an unlimited one.
pub(crate) fn fold(hits: &[Hit], text: impl Fn(usize) -> String) -> Verdict {
    let allowed = hits.iter().any(|h| h.action == Action::Allow && h.exact);
    let counts = |h: &Hit| match h.action {
        Action::Deny => h.folded || h.exact,
        Action::Confirm => h.exact || (allowed && h.folded),
        Action::Allow => h.exact,
    };
    let decision = combine(hits.iter().filter(|h| counts(h)).map(|h| {
        (
            h.action,
            RuleRef {
                index: h.index,
                text: text(h.index),
            },
        )
    }));
    let rates = if decision.action == Action::Deny {
        Vec::new()
    } else {
        hits.iter()
            .filter(|h| h.action == decision.action && (h.folded || h.exact))
            .filter_map(|h| h.rate.map(|rate| (h.index, rate)))
            .collect()
    };
    Verdict {
        decision,
        rates,
        budgets: Vec::new(),
        grant: None,
    }
}
