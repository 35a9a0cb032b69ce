//! route: what is configured, for every kind of call to be routed against.
//! Each kind's own routing (its arguments into a typed target) is in its
//! module under [`super::kind`].

use std::collections::BTreeMap;
use std::sync::Arc;

use keyward_config::{Limits, Service, Workflow};

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
