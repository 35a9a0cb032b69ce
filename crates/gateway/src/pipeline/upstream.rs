//! upstream: the connectors that perform a call — the HTTP client, the
//! upstream MCP servers (in [`crate::servers`], each started with its own
//! secrets), and the exec of an allow-listed command. Each kind's
//! `perform` (in [`super::kind`]) hands its routed call to one of them
//! with the credential inject made.

use std::sync::OnceLock;

use keyward_connectors::http::HttpConnector;

use super::kind::command_sandbox::ExecSetup;

/// The connectors of one gateway.
pub struct Connectors {
    pub http: HttpConnector,
    /// Program pins and the private-HOME root: set once before serving;
    /// until then no command runs.
    pub exec: OnceLock<ExecSetup>,
    /// The allow-listed part of keyward's environment children get.
    pub inherit: Vec<(String, String)>,
}

impl Connectors {
    /// keyward's own PATH, which programs are resolved against.
    pub fn path_var(&self) -> Option<&str> {
        self.inherit
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_str())
    }
}
