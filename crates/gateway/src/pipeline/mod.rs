//! The request pipeline, one module a stage, in the order a call walks it.

pub mod access;
pub mod approval;
pub mod audit;
pub mod inject;
pub mod inject_upstreams;
pub mod policy;
pub mod redact;
pub mod route;
pub mod session;
pub mod upstream;

pub mod command;
pub mod command_sandbox;
pub mod http;
mod outcome;
pub mod passthrough;
pub mod tool;
pub mod workflow;

pub use outcome::ToolOutcome;
