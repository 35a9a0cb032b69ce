//! A tool of an upstream MCP server (`SERVER__TOOL`): routed by name,
//! admitted only when its definition is the one the human accepted,
//! performed by the server's supervised connection, its whole result
//! scrubbed.

use std::time::Duration;

use futures::future::join_all;
use keyward_audit::{Decision, Event};
use keyward_config::Limits;
use keyward_policy::{GrantScope, NamePattern, RuleRef, Rules, Target};
use keyward_redact::Scrubber;
use rmcp::model::{CallToolResult, ContentBlock, Tool};
use serde_json::Value;

use super::Kind;
use crate::approvals::Ask;
use crate::pipeline::approval::{self, Approved};
use crate::pipeline::inject::Credential;
use crate::pipeline::route::{Tables, Unavailable, unknown_tool};
use crate::pipeline::session::Session;
use crate::pipeline::{Call, Stages, Stop, audit, redact};
use crate::servers::{Catalog, CatalogEntry, ServerRuntime, unprefixed_collides};

/// A tool of an upstream server.
pub struct UpstreamTool;

/// A routed tool call.
pub struct ToolCall {
    server: String,
    rt: std::sync::Arc<ServerRuntime>,
    tool: String,
    args: Option<serde_json::Map<String, Value>>,
}

impl Kind for UpstreamTool {
    const KIND: &'static str = "tool";
    type Routed = ToolCall;
    type Response = CallToolResult;
    type Clean = CallToolResult;
    type Answer = CallToolResult;

    async fn route(st: &Stages, call: &Call, rec: &mut Event) -> Result<ToolCall, Stop> {
        let routed = match &call.server {
            Some(server) => Some((server.as_str(), call.name.as_str())),
            None => st.tables.route_name(&call.name),
        };
        let Some((server, tool)) = routed else {
            return Err(Stop::refused(Decision::Error, "error: unknown tool"));
        };
        rec.target = server.to_string();
        rec.tool = Some(audit::printable(tool, 128));
        let Some(rt) = st.tables.servers.get(server) else {
            return Err(Stop::refused(Decision::Error, "error: unknown tool"));
        };
        // Whether this client sees the server, and then whether it is
        // available: `route::reach`, for every kind.
        Ok(ToolCall {
            server: server.to_string(),
            rt: rt.clone(),
            tool: tool.to_string(),
            args: call.args.clone(),
        })
    }

    fn unknown(call: &Call) -> (Decision, String) {
        (Decision::Error, unknown_tool(&call.name))
    }

    fn target(c: &ToolCall) -> Target<'_> {
        Target::Tool {
            server: &c.server,
            tool: &c.tool,
        }
    }

    fn rules<'t>(tables: &'t Tables, c: &ToolCall) -> Rules<'t> {
        tables
            .servers
            .get(&c.server)
            .map_or(Rules::Tool(&[]), |rt| Rules::Tool(&rt.server.tools))
    }

    fn describe(c: &ToolCall) -> String {
        format!("tool `{}` of {}", c.tool, c.server)
    }

    /// Only a tool whose definition is the accepted one.
    async fn admit(st: &Stages, c: &ToolCall) -> Result<(), Stop> {
        if let Err(e) = ensure_catalog(st, &c.rt).await {
            return Err(Stop::failed(format!("upstream unavailable: {e}")));
        }
        let entry = c.rt.catalog().tools.get(&c.tool).cloned();
        match entry {
            None => Err(Stop::refused(
                Decision::Error,
                format!(
                    "error: {} has no tool `{}`",
                    c.server,
                    audit::printable(&c.tool, 64)
                ),
            )),
            Some(CatalogEntry::Withheld { .. }) => Err(Stop::refused(
                Decision::Deny,
                format!(
                    "denied: {} changed its definition since it was accepted, or keyward's record of what was accepted was removed or changed; the user must review it with `keyward servers accept {}`",
                    Self::describe(c),
                    c.server
                ),
            )),
            Some(CatalogEntry::Exposed(_)) => Ok(()),
        }
    }

    /// "Allow for a while" grants this one tool of this server.
    fn question(
        st: &Stages,
        call: &Call,
        c: &ToolCall,
        rule: Option<&RuleRef>,
    ) -> Result<Ask, Stop> {
        let args_text = c
            .args
            .as_ref()
            .map(|a| Value::Object(a.clone()).to_string())
            .unwrap_or_default();
        // A grant covers exactly this tool: a name with glob characters (or
        // one no pattern can spell) cannot be confirmed.
        let tools = match NamePattern::parse(&c.tool) {
            Ok(p) if !c.tool.contains(['*', '?']) => p,
            _ => {
                return Err(Stop::refused(
                    Decision::Error,
                    format!(
                        "error: the tool name `{}` cannot be confirmed",
                        audit::printable(&c.tool, 64)
                    ),
                ));
            }
        };
        let scrubber = st.scrubber();
        Ok(Ask {
            agent: call.session.agent.clone(),
            session: call.session.id.clone(),
            kind: "tool",
            target: format!("{}: tool {}", c.server, audit::printable(&c.tool, 128)),
            rule: rule.map(|r| r.text.clone()),
            preview: approval::preview(&scrubber, &Value::String(args_text.clone())),
            reason: c
                .args
                .as_ref()
                .and_then(|a| a.get("reason"))
                .and_then(Value::as_str)
                .and_then(|r| approval::reason(&scrubber, Some(r))),
            scope: GrantScope::Tool {
                server: c.server.clone(),
                tools,
            },
            digest: approval::digest(&[
                b"tool",
                c.server.as_bytes(),
                c.tool.as_bytes(),
                args_text.as_bytes(),
            ]),
            grant_on_once: None,
        })
    }

    fn timeout(tables: &Tables, c: &ToolCall) -> Duration {
        c.rt.server.timeout.unwrap_or(tables.limits.timeout)
    }

    async fn perform(
        st: &Stages,
        c: &ToolCall,
        _credential: &Credential,
        _approved: Option<&Approved>,
        _rec: &mut Event,
    ) -> Result<CallToolResult, Stop> {
        let timeout = Self::timeout(&st.tables, c);
        c.rt.upstream
            .call_tool(&c.tool, c.args.clone(), timeout)
            .await
            .map_err(|e| Stop::failed(e.to_string()))
    }

    async fn redact(
        scrubber: &Scrubber,
        _limits: &Limits,
        result: CallToolResult,
    ) -> Result<(CallToolResult, usize), Stop> {
        Ok(redact::scrub_result(scrubber, result))
    }

    fn render(result: CallToolResult, rec: &mut Event) -> CallToolResult {
        if result.is_error == Some(true) {
            let text = first_text(&result).unwrap_or_default();
            rec.error = Some(audit::printable(&format!("upstream error: {text}"), 512));
        }
        result
    }
}

fn first_text(r: &CallToolResult) -> Option<String> {
    r.content.iter().find_map(|c| match c {
        ContentBlock::Text(t) => Some(t.text.clone()),
        _ => None,
    })
}

/// Lists (again, if stale) the tools of every upstream `session` sees; a
/// server that cannot be started is left out of the list, with a warning
/// in keyward's log. Locked means no traffic at all: no server is started
/// or asked.
pub async fn list_all(st: &Stages, session: &Session) -> Vec<Tool> {
    if st.desk.approvals.is_locked() {
        return Vec::new();
    }
    let tables = &st.tables;
    let available = tables
        .servers_for(session)
        .filter(|(_, rt)| rt.unavailable().is_none());
    let lists = join_all(available.map(|(name, rt)| async move {
        match ensure_catalog(st, rt).await {
            Ok(()) if rt.server.prefix => rt.catalog().exposed(name),
            Ok(()) => rt
                .catalog()
                .exposed_unprefixed(name, |t| unprefixed_taken(tables, t)),
            Err(e) => {
                // The error quotes the child's last stderr lines, scrubbed
                // only of its own values so far.
                let (e, _) = st.scrubber().scrub_str(&e);
                tracing::warn!(server = %name, error = %e, "upstream unavailable; its tools are not listed");
                Vec::new()
            }
        }
    }))
    .await;
    lists.into_iter().flatten().collect()
}

/// Whether a tool of the unprefixed server may not be listed under `name`:
/// keyward's own tool, a workflow, or another server's `SERVER__TOOL`.
fn unprefixed_taken(tables: &Tables, name: &str) -> bool {
    unprefixed_collides(
        name,
        |n| keyward_config::RESERVED_TOOL_NAMES.contains(&n) || tables.workflows.contains_key(n),
        |s| tables.servers.get(s).is_some_and(|rt| rt.server.prefix),
    )
}

/// Lists the server's tools if its catalog was never built or went stale.
async fn ensure_catalog(st: &Stages, rt: &ServerRuntime) -> Result<(), String> {
    // An unavailable server is never started.
    if let Some(why) = rt.unavailable() {
        return Err(why.to_string());
    }
    let stale = rt.take_stale();
    if rt.catalog().fresh && !stale {
        return Ok(());
    }
    let listed = rt.upstream.tools().await.map_err(|e| e.to_string())?;
    let listed = redact::scrub_tools(&st.scrubber(), listed);
    let catalog = Catalog::build(&rt.server.name, &rt.server.tools, listed, &st.tables.pins)
        .map_err(|e| e.to_string())?;
    *rt.catalog() = catalog;
    Ok(())
}
