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

/// The server and tool an agent-facing `name` means, given every server
/// as (name, prefixed): `SERVER__TOOL` of a prefixed server first, else the
/// tool `name` of the unprefixed server (`prefix = false`; the config allows
/// at most one), else nothing.
pub fn route_tool_name<'s, 'n>(
    name: &'n str,
    servers: impl IntoIterator<Item = (&'s str, bool)>,
) -> Option<(&'s str, &'n str)> {
    let split = split_tool_name(name);
    let mut unprefixed = None;
    for (server, prefixed) in servers {
        match split {
            Some((s, tool)) if prefixed && s == server => return Some((server, tool)),
            _ if !prefixed => unprefixed = unprefixed.or(Some(server)),
            _ => {}
        }
    }
    unprefixed.map(|server| (server, name))
}

/// Whether a tool (or prompt) of the unprefixed server, listed as `name`,
/// would be mistaken for something else: one of keyward's own names
/// (`taken`: its tools, the workflows) or another server's `SERVER__TOOL`.
/// Such a name is withheld: never listed, never routed to that server.
pub fn unprefixed_collides(
    name: &str,
    taken: impl Fn(&str) -> bool,
    is_prefixed_server: impl Fn(&str) -> bool,
) -> bool {
    taken(name) || split_tool_name(name).is_some_and(|(s, _)| is_prefixed_server(s))
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
                PinCheck::Unreviewed { current } => {
                    tracing::warn!(
                        server,
                        tool = %tool.name,
                        "tool withheld: the tool pins were found missing or changed outside keyward; review with `keyward servers accept {server}`"
                    );
                    CatalogEntry::Withheld {
                        pinned: Value::Null,
                        current,
                    }
                }
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

    /// The exposed tools of an unprefixed server, under their own names,
    /// less those that [`unprefixed_collides`] (each one logged).
    pub fn exposed_unprefixed(&self, server: &str, collides: impl Fn(&str) -> bool) -> Vec<Tool> {
        self.tools
            .values()
            .filter_map(|e| match e {
                CatalogEntry::Exposed(t) if collides(&t.name) => {
                    tracing::warn!(
                        server,
                        tool = %t.name,
                        "tool withheld: with `prefix = false` its name collides with keyward's own tool, a workflow, or another server's SERVER__TOOL"
                    );
                    None
                }
                CatalogEntry::Exposed(t) => Some(t.clone()),
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

    #[test]
    fn unprefixed_names_route_to_the_unprefixed_server_unless_another_server_is_named() {
        let servers = [("gh", true), ("conf", false), ("fs", true)];
        let route = |n| route_tool_name(n, servers.iter().copied());
        assert_eq!(route("gh__get_issue"), Some(("gh", "get_issue")));
        assert_eq!(
            route("test_simple_text"),
            Some(("conf", "test_simple_text"))
        );
        // `x__y` where x is no prefixed server is the unprefixed server's.
        assert_eq!(route("nope__y"), Some(("conf", "nope__y")));
        // The unprefixed server is never reached through a prefix.
        assert_eq!(
            route("conf__test_simple_text"),
            Some(("conf", "conf__test_simple_text"))
        );
        // Without an unprefixed server nothing changes.
        let prefixed = [("gh", true)];
        assert_eq!(route_tool_name("gh__x", prefixed), Some(("gh", "x")));
        assert_eq!(route_tool_name("test_simple_text", prefixed), None);
        assert_eq!(route_tool_name("other__x", prefixed), None);
    }

    #[test]
    fn colliding_unprefixed_names_are_detected() {
        let taken = |n: &str| ["http_request", "triage"].contains(&n);
        let prefixed = |s: &str| s == "gh";
        assert!(unprefixed_collides("http_request", taken, prefixed));
        assert!(unprefixed_collides("triage", taken, prefixed));
        assert!(unprefixed_collides("gh__get_issue", taken, prefixed));
        assert!(!unprefixed_collides("nope__y", taken, prefixed));
        assert!(!unprefixed_collides("test_simple_text", taken, prefixed));
    }
}
