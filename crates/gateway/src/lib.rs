//! The gateway: the MCP server the agent talks to, and the pipeline every
//! call walks through.
//!
//! ```text
//! agent ─▶ session ─▶ route ─▶ policy ─▶ approval? ─▶ inject ─▶ upstream ─▶ redact ─▶ audit ─▶ agent
//! ```
//!
//! Each stage is one module under [`pipeline`]; [`pipeline::http::handle`]
//! reads top to bottom in that order.

pub mod approval;
pub mod control;
pub mod dashboard;
mod error;
mod gateway;
pub mod http;
pub mod live;
pub mod pipeline;
mod server;
mod tools;
pub mod upstream;

pub use error::GatewayError;
pub use gateway::{Gateway, ServiceRuntime};
pub use server::{KeywardServer, Shape, serve_stdio, serve_stdio_starting};
