//! Why the approved config could not be read, checked or written. Each
//! message names the file and, where the human has something to do, what
//! (the binary adds hints of its own for the vault's and the config's
//! errors, which pass through unchanged).

use std::io;
use std::path::PathBuf;

use crate::store::SealProblem;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovedError {
    #[error(transparent)]
    Config(#[from] keyward_config::ConfigError),
    #[error(transparent)]
    Vault(#[from] keyward_vault::VaultError),
    #[error(transparent)]
    Audit(#[from] keyward_audit::AuditError),

    /// `keyward serve` found nothing approved in this home.
    #[error(
        "no approved config in {}: keyward serves only a keyward.toml a human approved (this \
         keyward home was made before config approval, or the approved copy was removed); \
         review it with `keyward config diff`, then run `keyward config approve`",
        data_dir.display()
    )]
    NothingApproved { data_dir: PathBuf },
    /// The approved copy fails its seal: keyward does not start.
    #[error(
        "refusing to serve: the approved copy of keyward.toml cannot be trusted: {0}; review \
         keyward.toml with `keyward config diff`, then run `keyward config approve`"
    )]
    Untrusted(SealProblem),

    #[error(
        "{} is not UTF-8 text: it was changed outside keyward; review keyward.toml and run `keyward config approve`",
        path.display()
    )]
    NotUtf8 { path: PathBuf },
    #[error(
        "{} is larger than {max} bytes: it was changed outside keyward; review keyward.toml and run `keyward config approve`",
        path.display()
    )]
    TooLarge { path: PathBuf, max: u64 },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot create {}: {source}", path.display())]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot encode the program pins: {0}")]
    EncodePins(serde_json::Error),
}
