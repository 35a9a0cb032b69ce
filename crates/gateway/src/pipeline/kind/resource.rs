//! A resource of an upstream server (`resources/read`), for the servers
//! whose config says `resources = "allow"` (closed by default): routed to
//! the server that listed the URI, read-only, scrubbed.

use std::sync::Arc;

use keyward_audit::{Decision, Event};
use keyward_config::Limits;
use keyward_policy::{Action, RuleRef, Rules, Target};
use keyward_redact::Scrubber;
use rmcp::model::{ReadResourceResult, Resource};

use super::Kind;
use super::listing::from_allowed;
use crate::approvals::Ask;
use crate::pipeline::approval::Approved;
use crate::pipeline::inject::Credential;
use crate::pipeline::route::Tables;
use crate::pipeline::session::Session;
use crate::pipeline::{Call, Stages, Stop, audit, redact};
use crate::servers::ServerRuntime;

/// `resources/read`.
pub struct ReadResource;

/// A routed read: the URI and the server that listed it.
pub struct ResourceCall {
    server: String,
    rt: Arc<ServerRuntime>,
    uri: String,
}

pub fn any_resources(tables: &Tables) -> bool {
    tables
        .servers
        .values()
        .any(|rt| rt.server.resources == Action::Allow)
}

/// What a read of a URI no server (that the session sees) passes on is
/// told.
const NO_RESOURCE: &str = "denied: no server whose resources keyward passes on has this URI";

/// Resources of every server `session` sees that allows them; URIs are
/// kept as the upstream gives them and remembered to route reads.
pub async fn list_resources(st: &Stages, session: &Session) -> Vec<Resource> {
    from_allowed(
        st,
        session,
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

impl Kind for ReadResource {
    const KIND: &'static str = "resource";
    type Routed = ResourceCall;
    type Response = ReadResourceResult;
    type Clean = ReadResourceResult;
    type Answer = ReadResourceResult;

    async fn route(st: &Stages, call: &Call, rec: &mut Event) -> Result<ResourceCall, Stop> {
        let uri = call.name.as_str();
        rec.path = Some(audit::printable(uri, 256));
        let servers = &st.tables.servers;
        if servers
            .values()
            .all(|rt| rt.resource_uris.lock().map_or(true, |u| u.is_empty()))
        {
            list_resources(st, &call.session).await;
        }
        let owner = servers.iter().find(|(_, rt)| {
            rt.server.resources == Action::Allow
                && rt.resource_uris.lock().is_ok_and(|u| u.contains(uri))
        });
        let Some((name, rt)) = owner else {
            return Err(Stop::refused(Decision::Deny, NO_RESOURCE));
        };
        rec.target = name.clone();
        Ok(ResourceCall {
            server: name.clone(),
            rt: rt.clone(),
            uri: uri.to_string(),
        })
    }

    fn unknown(_: &Call) -> (Decision, String) {
        (Decision::Deny, NO_RESOURCE.to_string())
    }

    fn target(r: &ResourceCall) -> Target<'_> {
        Target::Resource {
            server: &r.server,
            uri: &r.uri,
        }
    }

    fn rules<'t>(_: &'t Tables, r: &ResourceCall) -> Rules<'t> {
        Rules::Fixed(r.rt.server.resources)
    }

    fn describe(r: &ResourceCall) -> String {
        format!("resource {} of {}", r.uri, r.server)
    }

    fn question(_: &Stages, _: &Call, _: &ResourceCall, _: Option<&RuleRef>) -> Result<Ask, Stop> {
        Err(Stop::refused(
            Decision::Deny,
            "denied: resources are passed on or not; none waits for a confirmation",
        ))
    }

    async fn perform(
        _st: &Stages,
        r: &ResourceCall,
        _credential: &Credential,
        _approved: Option<&Approved>,
        _rec: &mut Event,
    ) -> Result<ReadResourceResult, Stop> {
        let up =
            r.rt.upstream
                .get()
                .await
                .map_err(|e| Stop::failed(e.to_string()))?;
        up.read_resource(&r.uri)
            .await
            .map_err(|e| Stop::failed(e.to_string()))
    }

    async fn redact(
        scrubber: &Scrubber,
        _limits: &Limits,
        result: ReadResourceResult,
    ) -> Result<(ReadResourceResult, usize), Stop> {
        redact::scrub_answer(scrubber, result, "resource")
    }

    fn render(result: ReadResourceResult, _rec: &mut Event) -> ReadResourceResult {
        result
    }
}
