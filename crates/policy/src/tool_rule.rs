//! Rules about the tools of an upstream MCP server: a name pattern, an
//! action, an optional rate. Same decision model as HTTP rules.

use crate::verdict::{Hit, fold};
use crate::{Action, NamePattern, Rate, Verdict};

/// One tool rule, e.g. `"create_issue" = { action = "confirm", rate =
/// "10/hour" }` in keyward.toml.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolRule {
    pub pattern: NamePattern,
    pub action: Action,
    /// Applies to calls this rule decides (see [`Verdict::rates`]).
    pub rate: Option<Rate>,
}

impl ToolRule {
    /// The rule as a human reads it: `confirm create_issue (10/hour)`, or
    /// `allow get_*` without a rate.
    pub fn text(&self) -> String {
        let mut s = format!("{} {}", self.action, self.pattern);
        if let Some(rate) = &self.rate {
            match rate.burst {
                Some(b) => s.push_str(&format!(" ({rate}, burst {b})")),
                None => s.push_str(&format!(" ({rate})")),
            }
        }
        s
    }
}

/// The decision for calling `tool` (the upstream's own name, without the
/// `SERVER__` prefix) under `rules`, and the rate limits that apply.
///
/// As for HTTP: no matching rule means deny (with no rule named); among
/// matching rules deny wins, then confirm, then allow, whatever their order.
/// Case: upstreams may treat `Delete_Repo` and `delete_repo` alike, so a
/// case variant may only be more restricted: deny rules match ignoring
/// ASCII case, allow rules match case exactly, confirm rules restrict an
/// allow whatever the case but grant only an exact match (see
/// [`crate::evaluate_http`] for the full reasoning, which is the same).
pub fn evaluate_tool(rules: &[ToolRule], tool: &str) -> Verdict {
    let hits: Vec<Hit> = rules
        .iter()
        .enumerate()
        .map(|(index, rule)| Hit {
            index,
            action: rule.action,
            rate: rule.rate,
            exact: rule.pattern.matches(tool, false),
            folded: rule.pattern.matches(tool, true),
        })
        .filter(|h| h.folded)
        .collect();
    fold(&hits, |i| {
        rules.get(i).map(ToolRule::text).unwrap_or_default()
    })
}
