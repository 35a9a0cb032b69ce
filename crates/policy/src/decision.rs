//! One decision model for every kind of target (HTTP routes, upstream MCP
//! tools, commands; workflows later), so that "what wins" is defined
//! exactly once.

use serde::Serialize;

use crate::Action;

/// The outcome of evaluating a call against a rule list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub action: Action,
    /// The rule that decided; `None` only for the default deny (no rule
    /// matched).
    pub rule: Option<RuleRef>,
}

/// Which rule decided, for messages and the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// Zero-based index into the rule list. Messages show it one-based
    /// (`#1` is index 0), because they are read by people.
    pub index: usize,
    /// The rule as a human reads it, e.g. `allow GET /v1/charges/**`.
    pub text: String,
}

/// Folds the matching rules into a decision.
///
/// No match is a deny (default deny). Otherwise the most restrictive action
/// wins: deny, then confirm, then allow. Neither the order of the rules nor
/// how specific their patterns are matters; a broad deny cannot be punched
/// through by a narrow allow. Among rules with the winning action the lowest
/// index is reported, so the reported rule does not depend on iteration
/// order either.
pub fn combine<I: IntoIterator<Item = (Action, RuleRef)>>(matches: I) -> Decision {
    let mut best: Option<(Action, RuleRef)> = None;
    for (action, rule) in matches {
        let replace = match &best {
            None => true,
            Some((a, r)) => {
                action.strictness() > a.strictness()
                    || (action.strictness() == a.strictness() && rule.index < r.index)
            }
        };
        if replace {
            best = Some((action, rule));
        }
    }
    match best {
        Some((action, rule)) => Decision {
            action,
            rule: Some(rule),
        },
        None => Decision {
            action: Action::Deny,
            rule: None,
        },
    }
}

impl Decision {
    /// A one-line explanation for the agent and the human. `what` names the
    /// call, e.g. `POST /v1/charges on stripe`.
    pub fn explain(&self, what: &str) -> String {
        match (&self.action, &self.rule) {
            (Action::Deny, None) => format!("denied: no rule allows {what}"),
            (Action::Deny, Some(r)) => format!("denied by rule #{} `{}`", r.index + 1, r.text),
            (Action::Allow, Some(r)) => format!("allowed by rule #{} `{}`", r.index + 1, r.text),
            (Action::Allow, None) => format!("allowed: {what}"),
            (Action::Confirm, Some(r)) => {
                format!("needs confirmation (rule #{} `{}`)", r.index + 1, r.text)
            }
            (Action::Confirm, None) => format!("needs confirmation: {what}"),
        }
    }
}
