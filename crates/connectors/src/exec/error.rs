use std::path::PathBuf;

use super::command::EnvError;

/// Why a command could not be run. Messages name the program and variable
/// names, never an environment value or stdin.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    #[error("program name is empty")]
    EmptyProgram,
    #[error("program `{0}` must be an absolute path")]
    NotAbsolute(PathBuf),
    #[error("program `{0}` not found in PATH")]
    NotFound(String),
    #[error(
        "found only as {found}, in a directory this user can write (so the agent could replace \
         it): give the program as an absolute path, e.g. `program = \"{found}\"`, if you trust it"
    )]
    OnlyInWritableDir { found: PathBuf },
    #[error("`{0}` is not an executable file")]
    NotExecutable(PathBuf),
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error("cannot start `{program}`: {reason}")]
    Spawn { program: PathBuf, reason: String },
    #[error("error while running `{program}`: {reason}")]
    Io { program: PathBuf, reason: String },
}
