//! The exec connector: runs an allow-listed CLI program for the agent.
//!
//! No shell, ever: the program is an absolute path resolved once at load
//! ([`resolve_program`]), argv entries are passed one by one, and the
//! environment is built from scratch (an allow-list plus the declared,
//! possibly secret, values). The program runs in its own process group, so
//! a timeout kills everything it spawned.
//!
//! Group kills use `nix::sys::signal::killpg` (safe API; the workspace
//! forbids unsafe code), with `CommandExt::process_group(0)` at spawn.

pub(crate) mod command;
mod error;
mod resolve;
mod run;

pub use command::EnvError;
pub use error::ExecError;
pub use resolve::resolve_program;
pub use run::{ExecOutput, ExecSpec, run};
