use std::time::Duration;

/// Why an upstream MCP server could not be reached or used.
///
/// Messages are meant to be shown (after the gateway's scrubber): they name
/// the server and its command, never an environment or header value. Text
/// that comes from the upstream itself (its error messages, its stderr) has
/// already been scrubbed of the values injected into that upstream.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    #[error("upstream `{server}`: invalid configuration: {reason}")]
    InvalidSpec { server: String, reason: String },
    #[error("upstream `{server}`: cannot start `{command}`: {reason}")]
    Spawn {
        server: String,
        command: String,
        reason: String,
    },
    #[error(
        "upstream `{server}` did not complete the MCP handshake: {reason}{}",
        tail(stderr)
    )]
    Initialize {
        server: String,
        reason: String,
        /// Its last stderr lines, scrubbed.
        stderr: Vec<String>,
    },
    #[error(
        "upstream MCP server `{server}` is not running (it exited or crashed); the call did not complete and may or may not have taken effect"
    )]
    UpstreamGone { server: String },
    #[error("upstream `{server}` did not answer within {after:?}")]
    Timeout { server: String, after: Duration },
    #[error("upstream `{server}` returned an error ({code}): {message}")]
    Protocol {
        server: String,
        code: i32,
        message: String,
    },
    #[error("upstream `{server}`: {reason}")]
    Transport { server: String, reason: String },
    #[error("upstream `{server}` has been shut down")]
    Closed { server: String },
}

impl McpError {
    /// The configured name of the upstream this error is about.
    pub fn server(&self) -> &str {
        match self {
            McpError::InvalidSpec { server, .. }
            | McpError::Spawn { server, .. }
            | McpError::Initialize { server, .. }
            | McpError::UpstreamGone { server }
            | McpError::Timeout { server, .. }
            | McpError::Protocol { server, .. }
            | McpError::Transport { server, .. }
            | McpError::Closed { server } => server,
        }
    }
}

fn tail(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!("; its last stderr lines:\n{}", lines.join("\n"))
    }
}
