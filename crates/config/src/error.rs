use std::path::PathBuf;

/// Why a configuration could not be used. Messages name the file and the
/// key at fault and never include secret values (the file holds none).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: `{at}`: {message}")]
    Invalid {
        path: PathBuf,
        at: String,
        message: String,
    },
    #[error("no home for keyward: set KEYWARD_HOME or HOME")]
    NoHome,
    #[error("service `{0}` already exists (remove it first with `keyward service rm {0}`)")]
    ServiceExists(String),
    #[error("no service named `{0}` (see `keyward service list`)")]
    NoSuchService(String),
    #[error("server `{0}` already exists (remove it first with `keyward servers rm {0}`)")]
    ServerExists(String),
    #[error("no server named `{0}` (see `keyward servers list`)")]
    NoSuchServer(String),
}
