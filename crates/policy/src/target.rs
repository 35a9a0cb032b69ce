//! One call the agent can make, as policy sees it. Every entry point turns
//! what the agent sent into a [`Target`] before anything is decided; rules,
//! grants and rate budgets are all read against it.

use crate::{Method, NormalizedPath};

/// The call, typed: an HTTP request, a tool of an upstream MCP server, a
/// command, a resource or prompt of an upstream, a workflow's own step
/// confirmation, or a request for a grant.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    Http {
        service: &'a str,
        method: &'a Method,
        path: &'a NormalizedPath,
    },
    /// `tool` is the upstream's own name, without the `SERVER__` prefix.
    Tool {
        server: &'a str,
        tool: &'a str,
    },
    /// `argv` is the arguments after the program name.
    Command {
        command: &'a str,
        argv: &'a [String],
    },
    Resource {
        server: &'a str,
        uri: &'a str,
    },
    Prompt {
        server: &'a str,
        prompt: &'a str,
    },
    /// The `confirm = true` of a step of `workflow`.
    Workflow {
        workflow: &'a str,
    },
    /// `request_access`: the agent asks for a grant. Only a human answers
    /// it; no grant covers it.
    Access,
}

impl Target<'_> {
    /// The kind's word, as the audit log spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Http { .. } => "http",
            Target::Tool { .. } => "tool",
            Target::Command { .. } => "command",
            Target::Resource { .. } => "resource",
            Target::Prompt { .. } => "prompt",
            Target::Workflow { .. } => "workflow",
            Target::Access => "access",
        }
    }
}
