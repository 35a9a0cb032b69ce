//! The exec connector: runs an allow-listed CLI program for the agent.
//!
//! No shell, ever: the program is an absolute path resolved once at load
//! ([`resolve_program`]), argv entries are passed one by one, and the
//! environment is built from scratch (an allow-list plus the declared,
//! possibly secret, values). The program runs in its own process group, so
//! a timeout kills everything it spawned.
//!
//! What the program reads besides its argv is kept out of the agent's
//! reach (SECURITY.md item 10): [`SafePath`] (a `PATH` of directories the
//! user cannot write), [`PrivateHome`] (an empty `HOME` per run) and
//! [`ProgramPin`] (path and SHA-256 approved with the config).
//!
//! Group kills use `nix::sys::signal::killpg` (safe API; the workspace
//! forbids unsafe code), with `CommandExt::process_group(0)` at spawn.

pub(crate) mod command;
mod error;
mod home;
mod pin;
mod resolve;
mod run;
mod safe_path;

pub use command::EnvError;
pub use error::ExecError;
pub use home::PrivateHome;
pub use pin::{MAX_PROGRAM_BYTES, PinMismatch, ProgramPin, hash_file, pin_program, verify_pin};
pub use resolve::resolve_program;
pub use run::{ExecOutput, ExecSpec, run};
pub use safe_path::{DEFAULT_PATH, SafePath, resolve_command_program, safe_dir};
