//! The gateway: the MCP server the agent talks to, and the pipeline every
//! call walks through.
//!
//! ```text
//! agent ─▶ session ─▶ route ─▶ policy ─▶ approval? ─▶ inject ─▶ upstream ─▶ redact ─▶ audit ─▶ agent
//! ```
//!
//! Every call is a [`pipeline::Call`] handed to [`pipeline::run`], which
//! walks the stages in that order; [`pipeline::kind`] holds what differs
//! between the kinds of call. [`Gateway`] builds the stages; the
//! transports (stdio and Streamable HTTP in [`server`] and [`http`], the
//! control socket in [`control`]) and the [`dashboard`] sit above them.

pub mod approval;
pub mod control;
pub mod dashboard;
mod error;
mod gateway;
pub mod http;
pub mod pipeline;
mod server;
mod tools;
pub mod upstream;

pub use error::GatewayError;
pub use gateway::Gateway;
pub use pipeline::route::ServiceRuntime;
pub use server::{KeywardServer, Shape, serve_stdio, serve_stdio_starting};
