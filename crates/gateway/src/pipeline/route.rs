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
