//! The `request_access` tool: the agent asks ahead for a time-limited
//! grant ("GitHub, read-only, 5 minutes, to triage issue 42"); a human
//! answers as for any confirmation. A grant only lets calls through rules
//! that say `confirm`; it never opens what a rule denies.

use std::time::Duration;

use keyward_audit::Event;
use keyward_policy::{GrantScope, Method, NamePattern, PathPattern};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::session::Session;
use super::{ToolOutcome, approval, audit};
use crate::Gateway;
use crate::approval::Ask;
use crate::upstream::split_tool_name;

/// The longest grant an agent may ask for.
pub const MAX_ACCESS: Duration = Duration::from_secs(8 * 3600);

/// Arguments of `request_access`. Name exactly one of `service`, `tool`
/// or `command`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessArgs {
    /// An HTTP service from `list_services`.
    #[serde(default)]
    pub service: Option<String>,
    /// With `service`: the methods, e.g. ["GET", "HEAD"] (default: GET only).
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// With `service`: path patterns, e.g. ["/repos/**"] (default: ["/**"]).
    #[serde(default)]
    pub paths: Option<Vec<String>>,
    /// Tools of an upstream server: `SERVER__PATTERN`, e.g. `slack__post_*`.
    #[serde(default)]
    pub tool: Option<String>,
    /// An allow-listed command.
    #[serde(default)]
    pub command: Option<String>,
    /// How long: `5m`, `1h` (at most 8h).
    pub duration: String,
    /// Why, in a sentence: the user reads it.
    pub reason: String,
}

pub async fn handle(
    gw: &Gateway,
    session: &Session,
    args: Option<Map<String, Value>>,
) -> ToolOutcome {
    let mut event = Event {
        agent: session.agent.clone(),
        kind: "access".into(),
        ..Event::default()
    };
    let args: AccessArgs = match serde_json::from_value(Value::Object(args.unwrap_or_default())) {
        Ok(a) => a,
        Err(e) => {
            let msg = format!("error: invalid arguments: {e}");
            return audit::refuse(gw, event, "error", None, &msg);
        }
    };
    let (scope, duration) = match scope_of(gw, &args) {
        Ok(s) => s,
        Err(msg) => return audit::refuse(gw, event, "error", None, &format!("error: {msg}")),
    };
    let shown = scope.to_string();
    event.target = audit::printable(&shown, 200);
    let reason = approval::reason(gw, Some(&args.reason));
    let span = crate::approval::human_duration(duration);
    let ask = Ask {
        agent: session.agent.clone(),
        session: session.id.clone(),
        kind: "access",
        target: format!("{shown} for {span} (access request; \"allow once\" grants it as asked)"),
        rule: None,
        preview: None,
        reason,
        scope: scope.clone(),
        digest: approval::digest(&[
            b"access",
            shown.as_bytes(),
            span.as_bytes(),
            args.reason.as_bytes(),
        ]),
        grant_on_once: Some(duration),
    };
    // A retry (2026-07-28) repeats the same request: fine, it is one question.
    match approval::ask_human(gw, session, None, ask, &event).await {
        Ok(approved) => {
            approved.mark(&mut event);
            event.decision = "allow".into();
            let grant = approved.grant.as_deref().and_then(|id| granted(gw, id));
            if audit::record(gw, event).is_err() {
                return ToolOutcome::error(audit::AUDIT_FAILED);
            }
            let text = format!(
                "granted: {shown}{} — calls it covers that a rule would hold for confirmation now go through; calls the rules deny stay denied",
                grant
                    .as_ref()
                    .map(|(_, until)| format!(" until {until}"))
                    .unwrap_or_default()
            );
            ToolOutcome::ok(
                text,
                Some(json!({
                    "granted": true,
                    "grant": grant.as_ref().map(|(id, _)| id),
                    "until": grant.as_ref().map(|(_, u)| u),
                })),
            )
        }
        Err(held) => held.into_outcome(),
    }
}

/// Grant `id`, as (id, until).
fn granted(gw: &Gateway, id: &str) -> Option<(String, String)> {
    gw.approvals()
        .grants()
        .into_iter()
        .find(|g| g.id == id)
        .map(|g| {
            let until = match &g.expiry {
                keyward_policy::Expiry::Time { at } => at.to_string(),
                keyward_policy::Expiry::Session { .. } => "the end of this session".to_string(),
            };
            (g.id, until)
        })
}

fn scope_of(gw: &Gateway, a: &AccessArgs) -> Result<(GrantScope, Duration), String> {
    let duration =
        keyward_config::parse_duration(&a.duration).map_err(|e| format!("duration: {e}"))?;
    if duration > MAX_ACCESS {
        return Err("duration: at most 8h may be asked for".into());
    }
    let named = [a.service.is_some(), a.tool.is_some(), a.command.is_some()];
    if named.iter().filter(|n| **n).count() != 1 {
        return Err("name exactly one of `service`, `tool` or `command`".into());
    }
    if a.service.is_none() && (a.methods.is_some() || a.paths.is_some()) {
        return Err("`methods` and `paths` go with `service`".into());
    }
    let scope = if let Some(service) = &a.service {
        if !gw.services().contains_key(service) {
            return Err(format!(
                "unknown service `{}`",
                audit::printable(service, 64)
            ));
        }
        let methods = a
            .methods
            .clone()
            .unwrap_or_else(|| vec!["GET".into()])
            .iter()
            .map(|m| Method::parse(m).map_err(|e| format!("methods: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        if methods.is_empty() {
            return Err("methods: name at least one".into());
        }
        let paths = a
            .paths
            .clone()
            .unwrap_or_else(|| vec!["/**".into()])
            .iter()
            .map(|p| PathPattern::parse(p).map_err(|e| format!("paths: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        if paths.is_empty() {
            return Err("paths: name at least one".into());
        }
        GrantScope::Http {
            service: service.clone(),
            methods: Some(methods),
            paths,
        }
    } else if let Some(tool) = &a.tool {
        let (server, pattern) = split_tool_name(tool)
            .ok_or_else(|| "tool: write SERVER__PATTERN, e.g. slack__post_*".to_string())?;
        if !gw.servers().contains_key(server) {
            return Err(format!("unknown server `{}`", audit::printable(server, 64)));
        }
        GrantScope::Tool {
            server: server.to_string(),
            tools: NamePattern::parse(pattern).map_err(|e| format!("tool: {e}"))?,
        }
    } else {
        let command = a.command.clone().unwrap_or_default();
        if !gw.commands().contains_key(&command) {
            return Err(format!(
                "unknown command `{}`",
                audit::printable(&command, 64)
            ));
        }
        GrantScope::Command { command }
    };
    Ok((scope, duration))
}
