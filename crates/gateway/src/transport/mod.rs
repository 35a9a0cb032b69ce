//! The transports above the pipeline: the MCP face ([`KeywardServer`],
//! shared by both MCP transports), stdio, Streamable HTTP ([`http`], with
//! its agent tokens and sessions), and the control socket ([`control`])
//! through which `keyward approvals` and `keyward lock` reach a running
//! keyward. Each turns what arrives into a [`crate::pipeline::Call`] (or
//! an answer at the approval desk); none decides anything itself.

pub mod control;
pub mod http;
mod mcp;
pub mod stdio;
mod tools;

pub use mcp::{KeywardServer, Shape};
pub use stdio::{Started, serve_stdio, serve_stdio_as, serve_stdio_starting};
