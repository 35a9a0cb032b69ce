//! What the agent sees of an upstream server's tools: the ones policy does
//! not deny, minus the ones whose definition changed since they were pinned.

use std::collections::BTreeMap;

use keyward_policy::{Action, ToolRule, evaluate_tool};
use rmcp::model::Tool;
use serde_json::Value;

use super::{PinCheck, PinError, PinStore};

/// Between server and tool in the names the agent sees: `github__get_issue`.
pub const TOOL_SEPARATOR: &str = "__";

pub fn exposed_name(server: &str, tool: &str) -> String {
    format!("{server}{TOOL_SEPARATOR}{tool}")
}

/// Splits at the first separator (server names cannot contain it).
pub fn split_tool_name(name: &str) -> Option<(&str, &str)> {
    name.split_once(TOOL_SEPARATOR)
        .filter(|(s, t)| !s.is_empty() && !t.is_empty())
}

#[derive(Clone, Debug)]
pub enum CatalogEntry {
    /// Listed for the agent, as the upstream defines it.
    Exposed(Tool),
    /// Changed since it was pinned: neither listed nor callable.
    Withheld { pinned: Value, current: Value },
}

/// One server's tools as of its last listing. Denied tools are not kept.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// False until listed (the runtime's `stale` flag says when it must be
    /// listed again).
    pub fresh: bool,
    pub tools: BTreeMap<String, CatalogEntry>,
}

impl Catalog {
    /// Builds the catalog from a fresh listing: drops denied tools, pins
    /// new ones, withholds changed ones.
    pub fn build(
        server: &str,
        rules: &[ToolRule],
        listed: Vec<Tool>,
        pins: &PinStore,
    ) -> Result<Catalog, PinError> {
        let mut tools = BTreeMap::new();
        for tool in listed {
            let verdict = evaluate_tool(rules, &tool.name);
            if verdict.decision.action == Action::Deny {
                continue;
            }
            let entry = match pins.check(server, &tool)? {
                PinCheck::New | PinCheck::Unchanged => CatalogEntry::Exposed(tool.clone()),
                PinCheck::Changed { pinned, current } => {
                    tracing::warn!(
                        server,
                        tool = %tool.name,
                        "tool definition changed since it was accepted; withheld until `keyward servers accept {server}`"
                    );
                    CatalogEntry::Withheld { pinned, current }
                }
            };
            tools.insert(tool.name.to_string(), entry);
        }
        Ok(Catalog { fresh: true, tools })
    }

    /// The agent-facing definitions of the exposed tools.
    pub fn exposed(&self, server: &str) -> Vec<Tool> {
        self.tools
            .values()
            .filter_map(|e| match e {
                CatalogEntry::Exposed(t) => {
                    let mut t = t.clone();
                    t.name = exposed_name(server, &t.name).into();
                    Some(t)
                }
                CatalogEntry::Withheld { .. } => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_at_the_first_separator() {
        assert_eq!(split_tool_name("gh__get__x"), Some(("gh", "get__x")));
        assert_eq!(split_tool_name("gh__"), None);
        assert_eq!(split_tool_name("__x"), None);
        assert_eq!(split_tool_name("http_request"), None);
        assert_eq!(exposed_name("gh", "get_issue"), "gh__get_issue");
    }
}
