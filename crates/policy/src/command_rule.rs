//! Rules about the arguments of an allow-listed command: allowed argv
//! patterns (`args` in keyward.toml) and denied ones (`deny_args`). Same
//! decision model as HTTP and tool rules.

use crate::verdict::{Hit, fold};
use crate::{Action, ArgvPattern, Verdict};

/// One command rule: an action and an argv pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRule {
    pub action: Action,
    pub pattern: ArgvPattern,
}

impl CommandRule {
    /// The rule as a human reads it: `allow issue *`, `deny * --repo* *`,
    /// `allow (no arguments)` for the empty pattern.
    pub fn text(&self) -> String {
        if self.pattern.as_str().is_empty() {
            format!("{} (no arguments)", self.action)
        } else {
            format!("{} {}", self.action, self.pattern)
        }
    }
}

/// The decision for running a command with `argv` (the arguments after the
/// program name) under `rules`.
///
/// No matching rule means deny; among matching rules deny wins, then
/// confirm, then allow. Matching is case-sensitive for every action: an
/// argv is passed to the program exactly, and programs do tell `-C` from
/// `-c`. The verdict carries no rates: a command's rate is set on the
/// command as a whole, not per pattern.
pub fn evaluate_command(rules: &[CommandRule], argv: &[String]) -> Verdict {
    let hits: Vec<Hit> = rules
        .iter()
        .enumerate()
        .filter(|(_, rule)| rule.pattern.matches(argv))
        .map(|(index, rule)| Hit {
            index,
            action: rule.action,
            rate: None,
            exact: true,
            folded: true,
        })
        .collect();
    fold(&hits, |i| {
        rules.get(i).map(CommandRule::text).unwrap_or_default()
    })
}
