//! route: what is configured, for every kind of call to be routed against.
//! Each kind's own routing (its arguments into a typed target) is in its
//! module under [`super::kind`].
//!
//! What a session may see of it is decided here too: a server whose
//! `clients` list leaves the session's client out is, for that session,
//! not configured. Listings show only [`Tables::servers_for`], and
//! [`reach`] refuses, once for every kind, a routed call whose target is
//! such a server, the way the kind refuses a name it does not know —
//! before anything else is said of the server (that it is unavailable,
//! and why, is said only to the clients that see it).

use std::collections::BTreeMap;
use std::sync::Arc;

use keyward_audit::Decision;
use keyward_config::{Limits, Service, StepCall, Workflow};
use keyward_policy::Target;

use super::kind::Kind;
use super::session::Session;
use super::{Call, Stop};

use crate::servers::{CommandRuntime, ListChanged, PinStore, ServerRuntime, route_tool_name};

/// A configured HTTP service. Its credential is part of the live secrets
/// ([`super::inject::Inject`]).
#[derive(Debug)]
pub struct ServiceRuntime {
    pub service: Service,
    /// Why it cannot be called (its secret did not resolve at start-up),
    /// see [`Unavailable`]. The other services serve.
    pub unavailable: Option<String>,
}

/// A target (service, server, command) whose reference did not resolve at
/// start-up is kept in the tables, listed with the reason, and refused
/// with it by its kind's `route`: one missing secret takes down only its
/// own target. The reason names the reference, never a value.
pub trait Unavailable {
    fn unavailable(&self) -> Option<&str>;
}

impl Unavailable for ServiceRuntime {
    fn unavailable(&self) -> Option<&str> {
        self.unavailable.as_deref()
    }
}

impl Unavailable for ServerRuntime {
    fn unavailable(&self) -> Option<&str> {
        self.unavailable.as_deref()
    }
}

impl Unavailable for CommandRuntime {
    fn unavailable(&self) -> Option<&str> {
        self.unavailable.as_deref()
    }
}

/// The refusal of a call to an unavailable target: `what` is e.g.
/// `service `stripe``.
pub fn refuse_unavailable(what: &str, reason: &str) -> super::Stop {
    super::Stop::refused(
        keyward_audit::Decision::Error,
        format!("error: {what} is unavailable: {reason}"),
    )
}

/// The validated config, as the stages read it.
pub struct Tables {
    pub services: BTreeMap<String, ServiceRuntime>,
    pub servers: BTreeMap<String, Arc<ServerRuntime>>,
    pub commands: BTreeMap<String, CommandRuntime>,
    /// `[workflows.*]`, each one tool for the agent.
    pub workflows: BTreeMap<String, Workflow>,
    pub limits: Limits,
    /// What the human accepted of each server's tools.
    pub pins: PinStore,
    /// Tells the agents when a tool list changed.
    pub list_changed: ListChanged,
}

impl Tables {
    /// The server and tool (or prompt) an agent-facing name means (see
    /// [`route_tool_name`]): `SERVER__TOOL`, or a tool of the server
    /// mounted without a prefix.
    pub fn route_name<'t, 'n>(&'t self, name: &'n str) -> Option<(&'t str, &'n str)> {
        route_tool_name(
            name,
            self.servers
                .iter()
                .map(|(n, rt)| (n.as_str(), rt.server.prefix)),
        )
    }
}

impl Tables {
    /// Whether `session` sees server `name` ([`keyward_config::Server::visible_to`]
    /// its client); a server that is not configured is not seen.
    pub fn sees(&self, session: &Session, name: &str) -> bool {
        self.servers
            .get(name)
            .is_some_and(|rt| rt.server.visible_to(session.client.as_deref()))
    }

    /// The servers `session` sees: what its listings show.
    pub fn servers_for<'a>(
        &'a self,
        session: &'a Session,
    ) -> impl Iterator<Item = (&'a String, &'a Arc<ServerRuntime>)> + 'a {
        self.servers
            .iter()
            .filter(|(_, rt)| rt.server.visible_to(session.client.as_deref()))
    }

    /// Whether `session` sees workflow `wf`: it does when it sees every
    /// server the workflow's steps call, so that a run never stops half-way
    /// at a server it cannot see.
    pub fn sees_workflow(&self, session: &Session, wf: &Workflow) -> bool {
        wf.steps.iter().all(|step| match &step.call {
            StepCall::Tool { server, .. } => self.sees(session, server),
            StepCall::Http { .. } | StepCall::Command { .. } => true,
        })
    }
}

/// What the agent is told of a tool name that names nothing it can call,
/// whether nothing has the name or a server it cannot see has it.
pub fn unknown_tool(name: &str) -> String {
    format!(
        "error: unknown tool `{}`; call list_services, or list the tools again",
        super::audit::printable(name, 64)
    )
}

/// The server a target is a call to, if it is one.
fn server_of<'t>(target: &Target<'t>) -> Option<&'t str> {
    match target {
        Target::Tool { server, .. }
        | Target::Resource { server, .. }
        | Target::Prompt { server, .. } => Some(server),
        Target::Http { .. } | Target::Command { .. } | Target::Workflow { .. } | Target::Access => {
            None
        }
    }
}

/// route, for every kind (right after `Kind::route`), when the target is
/// a call to an upstream server (a tool, a resource, a prompt, a workflow
/// step's tool): a server the session does not see is refused as the kind
/// refuses a name it does not know ([`Kind::unknown`]), so the agent
/// learns nothing of it; the record names the server and, as its rule,
/// the `clients` list that left this client out. Then a server whose
/// reference did not resolve is refused with the reason ([`Unavailable`]).
pub fn reach<K: Kind>(tables: &Tables, call: &Call, target: &Target<'_>) -> Result<(), Stop> {
    let Some(server) = server_of(target) else {
        return Ok(());
    };
    if !tables.sees(&call.session, server) {
        let (decision, message) = K::unknown(call);
        return Err(Stop::refused_by(
            decision,
            Some(hidden_rule(tables, &call.session, server)),
            message,
        ));
    }
    match tables.servers.get(server).and_then(|rt| rt.unavailable()) {
        Some(reason) => Err(refuse_unavailable(&format!("server `{server}`"), reason)),
        None => Ok(()),
    }
}

/// The audit record's rule of a call to a server this client does not
/// see: `clients = ["claude-desktop"] (this session: cursor)`.
pub fn hidden_rule(tables: &Tables, session: &Session, server: &str) -> String {
    let list = tables
        .servers
        .get(server)
        .and_then(|rt| rt.server.clients.as_ref())
        .map(|c| {
            let names: Vec<String> = c.iter().map(|n| format!("{n:?}")).collect();
            format!("clients = [{}]", names.join(", "))
        })
        .unwrap_or_else(|| "not configured".to_string());
    let this = match &session.client {
        Some(c) => super::audit::printable(c, 64),
        None => "no --client".to_string(),
    };
    format!("{list} (this session: {this})")
}

/// The refusal of a workflow the session does not see
/// ([`Tables::sees_workflow`]): as for an unknown tool.
pub fn refuse_hidden_workflow(tables: &Tables, session: &Session, wf: &Workflow) -> Stop {
    let server = wf
        .steps
        .iter()
        .find_map(|step| match &step.call {
            StepCall::Tool { server, .. } if !tables.sees(session, server) => Some(server.as_str()),
            _ => None,
        })
        .unwrap_or_default();
    Stop::refused_by(
        Decision::Error,
        Some(hidden_rule(tables, session, server)),
        unknown_tool(&wf.name),
    )
}
