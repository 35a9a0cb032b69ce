//! The validated configuration. Built only by [`Config::parse`], so every
//! value here has passed validation.

use std::collections::BTreeMap;
use std::time::Duration;

use keyward_policy::HttpRule;
use keyward_vault::SecretRef;
use url::Url;

use crate::backends::{Backends, SecretsPolicy};
use crate::upstream::{Command, Server};

#[derive(Clone, Debug)]
pub struct Config {
    pub services: BTreeMap<String, Service>,
    pub limits: Limits,
    /// Upstream MCP servers (`[servers.NAME]`).
    pub servers: BTreeMap<String, Server>,
    /// Allow-listed commands (`[commands.NAME]`).
    pub commands: BTreeMap<String, Command>,
    /// Where secrets live besides the local vault (`[backends.*]`).
    pub backends: Backends,
    /// `[secrets]`: how old a vault value may get before doctor warns.
    pub secrets: SecretsPolicy,
    /// `[approvals]`: how `confirm` rules ask a human.
    pub approvals: crate::ApprovalSettings,
    /// `[http]`: bounds for `keyward serve --http`.
    pub http: crate::HttpSettings,
    /// `[workflows.NAME]`: sequences of calls the agent starts as one tool.
    pub workflows: BTreeMap<String, crate::Workflow>,
}

/// An HTTP service the agent may call through keyward.
#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    /// Scheme, host, port and an optional path prefix; never a query,
    /// fragment or userinfo.
    pub base_url: Url,
    pub description: Option<String>,
    pub auth: Auth,
    pub rules: Vec<HttpRule>,
    pub timeout: Option<Duration>,
}

/// How the credential is attached to an outgoing request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    None,
    Bearer { secret: SecretRef },
    Basic { username: String, secret: SecretRef },
    Header { name: String, secret: SecretRef },
    Query { name: String, secret: SecretRef },
}

impl Auth {
    pub fn secret(&self) -> Option<&SecretRef> {
        match self {
            Auth::None => None,
            Auth::Bearer { secret }
            | Auth::Basic { secret, .. }
            | Auth::Header { secret, .. }
            | Auth::Query { secret, .. } => Some(secret),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Bearer { .. } => "bearer",
            Auth::Basic { .. } => "basic",
            Auth::Header { .. } => "header",
            Auth::Query { .. } => "query",
        }
    }
}

/// Bounds on what one call may cost (SECURITY.md item 5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    pub timeout: Duration,
    pub max_request_bytes: usize,
    pub max_response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(30),
            max_request_bytes: 1024 * 1024,
            max_response_bytes: 10 * 1024 * 1024,
        }
    }
}
