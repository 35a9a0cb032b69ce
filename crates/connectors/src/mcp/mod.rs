//! The MCP connector: keyward as an MCP *client* of one upstream server,
//! either a child process over stdio or a remote Streamable HTTP endpoint.
//!
//! - [`Upstream`] is one started server: spawn (clean environment, own
//!   process group, stderr captured) + `initialize` pinned to protocol
//!   2025-11-25, then tools, resources and prompts. A call in flight when
//!   the upstream dies ends at once with [`McpError::UpstreamGone`].
//! - [`Supervised`] starts an upstream lazily and restarts it after a crash,
//!   with exponential backoff.
//!
//! The connector does not decide anything (policy) and does not show
//! anything to the agent: it returns upstream results raw, and the gateway
//! scrubs them. What the connector itself puts in errors and stderr lines
//! is scrubbed of the values injected into that upstream, as a second line
//! of defence.

mod child;
mod error;
mod handler;
mod http;
mod life;
mod requests;
mod spec;
mod stderr;
mod supervisor;
mod upstream;

pub use error::McpError;
pub use requests::LIST_TIMEOUT;
pub use spec::{Arg, HttpSpec, StdioSpec, UpstreamEvents, UpstreamSpec};
pub use supervisor::{Backoff, Supervised};
pub use upstream::{DEFAULT_START_TIMEOUT, Upstream};
