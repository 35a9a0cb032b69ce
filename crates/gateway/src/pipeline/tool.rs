//! A tool of an upstream MCP server (`SERVER__TOOL`): the pipeline top to
//! bottom — route, policy, pin check, upstream call, scrub, record.

use std::time::Instant;

use futures::future::join_all;
use keyward_audit::Event;
use keyward_policy::{Action, GrantScope, GrantTarget, NamePattern, evaluate_tool};
use rmcp::model::{CallToolResult, ContentBlock, Tool};
use serde_json::{Map, Value};

use super::session::Session;
use super::{ToolOutcome, audit};
use crate::Gateway;
use crate::approval::Ask;
use crate::upstream::{Catalog, CatalogEntry, ServerRuntime, route_tool_name, unprefixed_collides};

/// Lists (again, if stale) every upstream's tools; a server that cannot be
/// started is left out of the list, with a warning in keyward's log.
pub async fn list_all(gw: &Gateway) -> Vec<Tool> {
    // Locked means no traffic at all: no server is started or asked.
    if gw.approvals().is_locked() {
        return Vec::new();
    }
    let lists = join_all(gw.servers().iter().map(|(name, rt)| async move {
        match ensure_catalog(gw, rt).await {
            Ok(()) if rt.server.prefix => rt.catalog().exposed(name),
            Ok(()) => rt
                .catalog()
                .exposed_unprefixed(name, |t| unprefixed_taken(gw, t)),
            Err(e) => {
                // The error quotes the child's last stderr lines, scrubbed
                // only of its own values so far.
                let (e, _) = super::redact::scrub_text(gw, &e);
                tracing::warn!(server = %name, error = %e, "upstream unavailable; its tools are not listed");
                Vec::new()
            }
        }
    }))
    .await;
    lists.into_iter().flatten().collect()
}

/// The server and tool an agent-facing tool name means (see
/// [`route_tool_name`]): `SERVER__TOOL`, or a tool of the server mounted
/// without a prefix.
pub fn route<'g, 'n>(gw: &'g Gateway, name: &'n str) -> Option<(&'g str, &'n str)> {
    route_tool_name(
        name,
        gw.servers()
            .iter()
            .map(|(n, rt)| (n.as_str(), rt.server.prefix)),
    )
}

/// Whether a tool of the unprefixed server may not be listed under `name`:
/// keyward's own tool, a workflow, or another server's `SERVER__TOOL`.
fn unprefixed_taken(gw: &Gateway, name: &str) -> bool {
    unprefixed_collides(
        name,
        |n| keyward_config::RESERVED_TOOL_NAMES.contains(&n) || gw.workflows().contains_key(n),
        |s| gw.servers().get(s).is_some_and(|rt| rt.server.prefix),
    )
}

/// Lists the server's tools if its catalog was never built or went stale.
async fn ensure_catalog(gw: &Gateway, rt: &ServerRuntime) -> Result<(), String> {
    let stale = rt.take_stale();
    if rt.catalog().fresh && !stale {
        return Ok(());
    }
    let listed = rt.upstream.tools().await.map_err(|e| e.to_string())?;
    let listed = super::redact::scrub_tools(&gw.scrubber(), listed);
    let catalog = Catalog::build(&rt.server.name, &rt.server.tools, listed, gw.pins())
        .map_err(|e| e.to_string())?;
    *rt.catalog() = catalog;
    Ok(())
}

/// Runs `tool` of `server` for the agent.
pub async fn handle(
    gw: &Gateway,
    session: &Session,
    server: &str,
    tool: &str,
    args: Option<Map<String, Value>>,
) -> Result<CallToolResult, ToolOutcome> {
    let started = Instant::now();
    let mut event = Event {
        agent: session.agent.clone(),
        kind: "tool".into(),
        target: server.to_string(),
        tool: Some(audit::printable(tool, 128)),
        ..Event::default()
    };

    // route: a server keyward knows.
    let Some(rt) = gw.servers().get(server) else {
        return Err(audit::refuse(
            gw,
            event,
            "error",
            None,
            "error: unknown tool",
        ));
    };

    // policy: may it, and within its rate?
    let verdict = evaluate_tool(&rt.server.tools, tool);
    let rule = verdict.decision.rule.as_ref().map(|r| r.text.clone());
    let what = format!("tool `{tool}` of {server}");
    match verdict.decision.action {
        Action::Deny => {
            let msg = verdict.decision.explain(&what);
            return Err(audit::refuse(gw, event, "deny", rule, &msg));
        }
        Action::Confirm | Action::Allow => {}
    }
    let confirm = verdict.decision.action == Action::Confirm;
    for (index, rate) in &verdict.rates {
        let key = format!("{server}__{tool}#rule{}", index + 1);
        if let Err(retry) = gw.limiter().check(&session.agent, &key, rate) {
            let msg = format!(
                "rate limited: {rate} per agent for {what}; retry in {:.1}s",
                retry.0.as_secs_f64()
            );
            return Err(audit::refuse(gw, event, "rate_limited", rule, &msg));
        }
    }

    // pins: only a tool whose definition is the accepted one.
    if let Err(e) = ensure_catalog(gw, rt).await {
        return Err(audit::failed(
            gw,
            event,
            started,
            &format!("upstream unavailable: {e}"),
            0,
        ));
    }
    let entry = rt.catalog().tools.get(tool).cloned();
    match entry {
        None => {
            let msg = format!(
                "error: {server} has no tool `{}`",
                audit::printable(tool, 64)
            );
            return Err(audit::refuse(gw, event, "error", rule, &msg));
        }
        Some(CatalogEntry::Withheld { .. }) => {
            let msg = format!(
                "denied: {what} changed its definition since it was accepted, or keyward's record of what was accepted was removed or changed; the user must review it with `keyward servers accept {server}`"
            );
            return Err(audit::refuse(gw, event, "deny", rule, &msg));
        }
        Some(CatalogEntry::Exposed(_)) => {}
    }
    event.rule = rule.clone();

    // approval: a human says yes (or a grant already did).
    if confirm {
        let ask = match ask_tool(gw, session, server, tool, rule.clone(), args.as_ref()) {
            Ok(a) => a,
            Err(msg) => return Err(audit::refuse(gw, event, "error", rule, &msg)),
        };
        let target = GrantTarget::Tool { server, tool };
        match super::approval::confirm(gw, session, target, ask, &event).await {
            Ok(approved) => approved.mark(&mut event),
            Err(held) => return Err(held.into_outcome()),
        }
    }
    event.decision = "allow".into();

    // audit, ahead: a call that could not be recorded is not made.
    if audit::ready(gw).is_err() {
        return Err(ToolOutcome::error(audit::AUDIT_FAILED));
    }

    // upstream: the call itself.
    let timeout = rt.server.timeout.unwrap_or(gw.limits().timeout);
    let result = match rt.upstream.call_tool(tool, args, timeout).await {
        Ok(r) => r,
        Err(e) => return Err(audit::failed(gw, event, started, &e.to_string(), 0)),
    };

    // redact: every string in the result.
    let (result, redactions) = super::redact::scrub_result(&gw.scrubber(), result);

    // audit: record, then answer.
    event.latency_us = Some(started.elapsed().as_micros() as u64);
    event.redactions = redactions as u64;
    if result.is_error == Some(true) {
        let text = first_text(&result).unwrap_or_default();
        event.error = Some(audit::printable(&format!("upstream error: {text}"), 512));
    }
    if audit::record(gw, event).is_err() {
        return Err(ToolOutcome::error(audit::AUDIT_FAILED));
    }
    Ok(result)
}

/// The question for a held tool call. "Allow for a while" grants this one
/// tool of this server.
fn ask_tool(
    gw: &Gateway,
    session: &Session,
    server: &str,
    tool: &str,
    rule: Option<String>,
    args: Option<&Map<String, Value>>,
) -> Result<Ask, String> {
    let args_text = args
        .map(|a| Value::Object(a.clone()).to_string())
        .unwrap_or_default();
    // A grant covers exactly this tool: a name with glob characters (or
    // one no pattern can spell) cannot be confirmed.
    let tools = match NamePattern::parse(tool) {
        Ok(p) if !tool.contains(['*', '?']) => p,
        _ => {
            return Err(format!(
                "error: the tool name `{}` cannot be confirmed",
                audit::printable(tool, 64)
            ));
        }
    };
    Ok(Ask {
        agent: session.agent.clone(),
        session: session.id.clone(),
        kind: "tool",
        target: format!("{server}: tool {}", audit::printable(tool, 128)),
        rule,
        preview: super::approval::preview(gw, &Value::String(args_text.clone())),
        reason: args
            .and_then(|a| a.get("reason"))
            .and_then(Value::as_str)
            .and_then(|r| super::approval::reason(gw, Some(r))),
        scope: GrantScope::Tool {
            server: server.to_string(),
            tools,
        },
        digest: super::approval::digest(&[
            b"tool",
            server.as_bytes(),
            tool.as_bytes(),
            args_text.as_bytes(),
        ]),
        grant_on_once: None,
    })
}

fn first_text(r: &CallToolResult) -> Option<String> {
    r.content.iter().find_map(|c| match c {
        ContentBlock::Text(t) => Some(t.text.clone()),
        _ => None,
    })
}
