//! Resources and prompts of upstream servers, for the servers whose config
//! says `resources = "allow"` / `prompts = "allow"` (closed by default).
//! Read-only, scrubbed, and recorded like tool calls.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use futures::future::join_all;
use keyward_audit::Event;
use keyward_policy::Action;
use rmcp::ErrorData as McpError;
use rmcp::model::{GetPromptResult, Prompt, ReadResourceResult, Resource};
use serde_json::{Map, Value};

use super::audit;
use super::session::Session;
use crate::Gateway;
use crate::upstream::{ServerRuntime, exposed_name, route_tool_name, unprefixed_collides};
use keyward_connectors::mcp::Upstream;

pub fn any_resources(gw: &Gateway) -> bool {
    gw.servers()
        .values()
        .any(|rt| rt.server.resources == Action::Allow)
}

pub fn any_prompts(gw: &Gateway) -> bool {
    gw.servers()
        .values()
        .any(|rt| rt.server.prompts == Action::Allow)
}

/// Fetches a list from every server that `allows` it, concurrently; a
/// server that fails is left out (with a warning). The result is scrubbed.
async fn from_allowed<T, F, Fut>(
    gw: &Gateway,
    allows: fn(&ServerRuntime) -> bool,
    what: &str,
    fetch: F,
) -> Vec<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
    F: Fn(String, Upstream, Arc<ServerRuntime>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, keyward_connectors::mcp::McpError>>,
{
    // Locked means no traffic at all: no server is started or asked.
    if gw.approvals().is_locked() {
        return Vec::new();
    }
    let lists = join_all(
        gw.servers()
            .iter()
            .filter(|(_, rt)| allows(rt))
            .map(|(name, rt)| {
                let fetch = &fetch;
                async move {
                    let listed = match rt.upstream.get().await {
                        Ok(up) => fetch(name.clone(), up, rt.clone()).await,
                        Err(e) => Err(e),
                    };
                    listed.unwrap_or_else(|e| {
                        let (e, _) = super::redact::scrub_text(gw, &e.to_string());
                        tracing::warn!(server = %name, error = %e, "{what} unavailable");
                        Vec::new()
                    })
                }
            }),
    )
    .await;
    let all: Vec<T> = lists.into_iter().flatten().collect();
    super::redact::scrub_serde(&gw.scrubber(), all).map_or_else(Vec::new, |(v, _)| v)
}

/// Resources of every server that allows them; URIs are kept as the
/// upstream gives them and remembered to route reads.
pub async fn list_resources(gw: &Gateway) -> Vec<Resource> {
    from_allowed(
        gw,
        |rt| rt.server.resources == Action::Allow,
        "resources",
        |_, up, rt| async move {
            let list = up.resources().await?;
            *rt.resource_uris.lock().unwrap_or_else(|p| p.into_inner()) =
                list.iter().map(|r| r.uri.clone()).collect();
            Ok(list)
        },
    )
    .await
}

pub async fn read_resource(
    gw: &Gateway,
    session: &Session,
    uri: &str,
) -> Result<ReadResourceResult, McpError> {
    let started = Instant::now();
    if gw
        .servers()
        .values()
        .all(|rt| rt.resource_uris.lock().map_or(true, |u| u.is_empty()))
    {
        list_resources(gw).await;
    }
    let owner = gw.servers().iter().find(|(_, rt)| {
        rt.server.resources == Action::Allow
            && rt.resource_uris.lock().is_ok_and(|u| u.contains(uri))
    });
    let mut event = Event {
        agent: session.agent.clone(),
        kind: "resource".into(),
        path: Some(audit::printable(uri, 256)),
        ..Event::default()
    };
    let Some((name, rt)) = owner else {
        event.decision = "deny".into();
        event.error = Some("no server that allows resources listed this URI".into());
        let _ = audit::record(gw, event);
        return Err(McpError::invalid_params(
            "denied: no server whose resources keyward passes on has this URI",
            None,
        ));
    };
    event.target = name.clone();
    event.decision = "allow".into();
    audit::ready(gw).map_err(|_| McpError::internal_error(audit::AUDIT_FAILED, None))?;
    let result = rt
        .upstream
        .get()
        .await
        .map_err(|e| McpError::internal_error(scrubbed(gw, &e.to_string()), None))?
        .read_resource(uri)
        .await
        .map_err(|e| McpError::internal_error(scrubbed(gw, &e.to_string()), None))?;
    let (result, n) = super::redact::scrub_serde(&gw.scrubber(), result)
        .ok_or_else(|| McpError::internal_error("keyward could not scrub the resource", None))?;
    event.redactions = n as u64;
    event.latency_us = Some(started.elapsed().as_micros() as u64);
    audit::record(gw, event).map_err(|_| McpError::internal_error(audit::AUDIT_FAILED, None))?;
    Ok(result)
}

/// Prompts of every server that allows them, named `SERVER__PROMPT` (a
/// server mounted with `prefix = false`: by their own names, less those
/// that would read as another server's `SERVER__PROMPT`).
pub async fn list_prompts(gw: &Gateway) -> Vec<Prompt> {
    from_allowed(
        gw,
        |rt| rt.server.prompts == Action::Allow,
        "prompts",
        |name, up, rt| async move {
            let list = up.prompts().await?;
            let prefixed = rt.server.prefix;
            Ok(list
                .into_iter()
                .filter(|p| prefixed || !prompt_collides(gw, &name, &p.name))
                .map(|mut p| {
                    if prefixed {
                        p.name = exposed_name(&name, &p.name);
                    }
                    p
                })
                .collect())
        },
    )
    .await
}

fn prompt_collides(gw: &Gateway, server: &str, prompt: &str) -> bool {
    let collides = unprefixed_collides(
        prompt,
        |_| false,
        |s| gw.servers().get(s).is_some_and(|rt| rt.server.prefix),
    );
    if collides {
        tracing::warn!(
            server,
            prompt,
            "prompt withheld: with `prefix = false` its name reads as another server's SERVER__PROMPT"
        );
    }
    collides
}

pub async fn get_prompt(
    gw: &Gateway,
    session: &Session,
    name: &str,
    args: Option<Map<String, Value>>,
) -> Result<GetPromptResult, McpError> {
    let started = Instant::now();
    let mut event = Event {
        agent: session.agent.clone(),
        kind: "prompt".into(),
        tool: Some(audit::printable(name, 128)),
        ..Event::default()
    };
    let found = route_tool_name(
        name,
        gw.servers()
            .iter()
            .map(|(n, rt)| (n.as_str(), rt.server.prefix)),
    )
    .and_then(|(server, prompt)| gw.servers().get(server).map(|rt| (server, prompt, rt)))
    .filter(|(_, _, rt)| rt.server.prompts == Action::Allow);
    let Some((server, prompt, rt)) = found else {
        event.decision = "deny".into();
        let _ = audit::record(gw, event);
        return Err(McpError::invalid_params(
            "denied: no server whose prompts keyward passes on has this prompt",
            None,
        ));
    };
    event.target = server.to_string();
    event.decision = "allow".into();
    audit::ready(gw).map_err(|_| McpError::internal_error(audit::AUDIT_FAILED, None))?;
    let result = rt
        .upstream
        .get()
        .await
        .map_err(|e| McpError::internal_error(scrubbed(gw, &e.to_string()), None))?
        .get_prompt(prompt, args)
        .await
        .map_err(|e| McpError::internal_error(scrubbed(gw, &e.to_string()), None))?;
    let (result, n) = super::redact::scrub_serde(&gw.scrubber(), result)
        .ok_or_else(|| McpError::internal_error("keyward could not scrub the prompt", None))?;
    event.redactions = n as u64;
    event.latency_us = Some(started.elapsed().as_micros() as u64);
    audit::record(gw, event).map_err(|_| McpError::internal_error(audit::AUDIT_FAILED, None))?;
    Ok(result)
}

fn scrubbed(gw: &Gateway, s: &str) -> String {
    gw.scrubber().scrub_str(s).0
}
