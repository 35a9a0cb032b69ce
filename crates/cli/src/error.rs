//! Errors as the user at the terminal sees them: the cause, then a hint.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error(transparent)]
    Config(#[from] keyward_config::ConfigError),
    #[error(transparent)]
    Vault(#[from] keyward_vault::VaultError),
    #[error(transparent)]
    Gateway(#[from] keyward_gateway::GatewayError),
    #[error(transparent)]
    Audit(#[from] keyward_audit::AuditError),
    #[error(transparent)]
    Approved(keyward_approved::ApprovedError),
    #[error(transparent)]
    Backup(keyward_migrate::backup::BackupError),
    #[error("keyward is not set up in {0}")]
    NotInitialised(PathBuf),
    #[error(
        "cannot unlock the vault: no OS credential store entry, no KEYWARD_VAULT_KEY_FILE, no KEYWARD_PASSPHRASE, and no terminal to ask on"
    )]
    CannotUnlock,
    #[error("cannot read from the terminal: {0}")]
    Prompt(std::io::Error),
    #[error("{0}")]
    Msg(String),
}

/// The vault's, the config's and the audit log's errors keep their own
/// variants (and so their hints) whichever library passed them on.
impl From<keyward_approved::ApprovedError> for CliError {
    fn from(e: keyward_approved::ApprovedError) -> CliError {
        use keyward_approved::ApprovedError as E;
        match e {
            E::Config(e) => CliError::Config(e),
            E::Vault(e) => CliError::Vault(e),
            E::Audit(e) => CliError::Audit(e),
            e => CliError::Approved(e),
        }
    }
}

impl From<keyward_migrate::backup::BackupError> for CliError {
    fn from(e: keyward_migrate::backup::BackupError) -> CliError {
        match e {
            keyward_migrate::backup::BackupError::Vault(e) => CliError::Vault(e),
            e => CliError::Backup(e),
        }
    }
}

impl CliError {
    pub(crate) fn msg(s: impl Into<String>) -> CliError {
        CliError::Msg(s.into())
    }

    /// What to do about it.
    pub(crate) fn hint(&self) -> Option<String> {
        Some(match self {
            CliError::NotInitialised(_) => "run `keyward init` (set KEYWARD_HOME to use another directory)".into(),
            CliError::CannotUnlock => "run `keyward init` on a desktop with a keychain, set KEYWARD_VAULT_KEY_FILE to a key file made by `keyward init --write-key-file`, or set KEYWARD_PASSPHRASE".into(),
            CliError::Vault(keyward_vault::VaultError::WrongPassphrase) => {
                "check the passphrase (KEYWARD_PASSPHRASE, or what you typed); the vault is unchanged".into()
            }
            CliError::Config(keyward_config::ConfigError::Parse { .. } | keyward_config::ConfigError::Invalid { .. }) => {
                "fix keyward.toml; nothing was served or changed".into()
            }
            _ => return None,
        })
    }
}
