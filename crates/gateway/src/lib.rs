//! The gateway: the MCP server the agent talks to, and the pipeline every
//! call walks through.
//!
//! ```text
//! agent ─▶ session ─▶ route ─▶ policy ─▶ approval? ─▶ inject ─▶ upstream ─▶ redact ─▶ audit ─▶ agent
//! ```
//!
//! Every call is a [`pipeline::Call`] handed to [`pipeline::run`], which
//! walks the stages in that order; [`pipeline::kind`] holds what differs
//! between the kinds of call. Below the pipeline: the approval desk's
//! broker ([`approvals`]) and the upstream MCP servers' runtimes
//! ([`servers`]). Above it: [`Gateway`], which builds the stages, the
//! [`transport`]s and the [`dashboard`].

pub mod approvals;
pub mod cell;
pub mod dashboard;
mod error;
mod gateway;
pub mod pipeline;
pub mod servers;
pub mod transport;

pub use error::GatewayError;
pub use gateway::Gateway;
pub use pipeline::route::ServiceRuntime;
pub use transport::{
    KeywardServer, Shape, Started, serve_stdio, serve_stdio_as, serve_stdio_starting,
};
