//! The one decision for every kind of call: [`evaluate`] reads the rules
//! that apply to the [`Target`], the grants in force and the time, and
//! returns the [`Verdict`] — the action, the rule that decided, the rate
//! budgets the call draws on, and the grant that answers a `confirm` for
//! the human, if one does.

use jiff::Timestamp;

use crate::verdict::Verdict;
use crate::{
    Action, CommandRule, Decision, Grants, HttpRule, Rate, Target, ToolRule, evaluate_command,
    evaluate_http, evaluate_tool,
};

/// The rules that apply to one call, as the config has them.
#[derive(Clone, Copy, Debug)]
pub enum Rules<'a> {
    /// `[[services.NAME.rules]]`.
    Http(&'a [HttpRule]),
    /// `[servers.NAME.tools]`.
    Tool(&'a [ToolRule]),
    /// `[commands.NAME]`: argv rules, and one rate for the whole command.
    Command {
        rules: &'a [CommandRule],
        rate: Option<Rate>,
    },
    /// One action for every call of the kind: a server's `resources` or
    /// `prompts`, a workflow step's own `confirm`, `request_access`.
    Fixed(Action),
}

/// Who calls: grants are for one agent, some for one session only.
#[derive(Clone, Copy, Debug)]
pub struct Caller<'a> {
    pub agent: &'a str,
    pub session: &'a str,
}

/// One rate budget a call draws on. `key` names the budget in the rate
/// limiter (per agent); `label` says it to the agent when it is spent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    pub key: String,
    pub rate: Rate,
    pub label: String,
}

/// The decision for `target` under `rules`. A grant is looked for only
/// when the rules say `confirm`: a grant never opens what a rule denies,
/// and an allowed call needs none.
pub fn evaluate(
    rules: Rules<'_>,
    target: &Target<'_>,
    caller: Caller<'_>,
    grants: &Grants,
    now: Timestamp,
) -> Verdict {
    let mut verdict = match_rules(rules, target);
    verdict.budgets = budgets(rules, target, &verdict);
    if verdict.decision.action == Action::Confirm {
        verdict.grant = grants
            .covering(caller.agent, caller.session, target, now)
            .map(|g| g.id.clone());
    }
    verdict
}

fn match_rules(rules: Rules<'_>, target: &Target<'_>) -> Verdict {
    match (rules, target) {
        (Rules::Http(r), Target::Http { method, path, .. }) => evaluate_http(r, method, path),
        (Rules::Tool(r), Target::Tool { tool, .. }) => evaluate_tool(r, tool),
        (Rules::Command { rules, .. }, Target::Command { argv, .. }) => {
            evaluate_command(rules, argv)
        }
        (Rules::Fixed(action), _) => Verdict::of(Decision { action, rule: None }),
        // Rules of one kind for a call of another: nothing matches.
        _ => Verdict::of(Decision {
            action: Action::Deny,
            rule: None,
        }),
    }
}

/// The budgets of the deciding action's rate-limited rules (an HTTP or
/// tool rule's own rate), or the command's one rate.
fn budgets(rules: Rules<'_>, target: &Target<'_>, verdict: &Verdict) -> Vec<Budget> {
    if verdict.decision.action == Action::Deny {
        return Vec::new();
    }
    match (rules, target) {
        (Rules::Http(_), Target::Http { service, .. }) => verdict
            .rates
            .iter()
            .map(|(index, rate)| Budget {
                key: format!("{service}#rule{}", index + 1),
                rate: *rate,
                label: format!("rule #{} allows {rate} per agent", index + 1),
            })
            .collect(),
        (Rules::Tool(_), Target::Tool { server, tool }) => verdict
            .rates
            .iter()
            .map(|(index, rate)| Budget {
                key: format!("{server}__{tool}#rule{}", index + 1),
                rate: *rate,
                label: format!("{rate} per agent for tool `{tool}` of {server}"),
            })
            .collect(),
        (
            Rules::Command {
                rate: Some(rate), ..
            },
            Target::Command { command, .. },
        ) => {
            vec![Budget {
                key: format!("command:{command}"),
                rate,
                label: format!("{rate} per agent for command {command}"),
            }]
        }
        _ => Vec::new(),
    }
}
