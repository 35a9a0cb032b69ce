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
        "cannot unlock the vault: {}, no KEYWARD_VAULT_KEY_FILE, no KEYWARD_PASSPHRASE, and no terminal to ask on",
        .0.cause()
    )]
    CannotUnlock(Keychain),
    #[error("cannot read from the terminal: {0}")]
    Prompt(std::io::Error),
    #[error("{0}")]
    Msg(String),
}

/// What the OS credential store said when the vault was to be unlocked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Keychain {
    /// It answered and holds no key for this vault (or it was not
    /// consulted: `KEYWARD_NO_KEYCHAIN`).
    NoEntry,
    /// Nothing answered: no session bus, or no Secret Service on it.
    /// `bus_var`: whether `DBUS_SESSION_BUS_ADDRESS` was set.
    Unreachable { bus_var: bool },
    /// It answered and failed (locked, access refused, ...).
    Failed(String),
}

impl Keychain {
    fn cause(&self) -> String {
        match self {
            Keychain::NoEntry => "no OS credential store entry".into(),
            Keychain::Unreachable { bus_var: false } => {
                "the OS credential store is unreachable (no session bus: \
                 DBUS_SESSION_BUS_ADDRESS is not set for this process, and no bus is at \
                 $XDG_RUNTIME_DIR/bus)"
                    .into()
            }
            Keychain::Unreachable { bus_var: true } => {
                "the OS credential store is unreachable (no Secret Service answers on the \
                 session bus DBUS_SESSION_BUS_ADDRESS names)"
                    .into()
            }
            Keychain::Failed(e) => format!("the OS credential store did not give the key ({e})"),
        }
    }
}

/// The fix when the store was unreachable: most often an MCP client that
/// starts keyward with a trimmed environment.
const UNREACHABLE_FIX: &str = "the vault key may well be in the credential store, but this keyward cannot reach it; an MCP client that trims the environment (passing only PATH, HOME, ...) causes this. Either set KEYWARD_VAULT_KEY_FILE in the client's config for keyward to a key file made by `keyward init --write-key-file`; or pass DBUS_SESSION_BUS_ADDRESS in the client's config (the value `echo $DBUS_SESSION_BUS_ADDRESS` prints in your desktop session); or start `keyward serve --http` in the desktop session (a systemd user unit: docs/serve-http-systemd.md) and have the client run `keyward connect`";

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
            CliError::CannotUnlock(Keychain::Unreachable { .. }) => UNREACHABLE_FIX.into(),
            CliError::CannotUnlock(_) => "run `keyward init` on a desktop with a keychain, set KEYWARD_VAULT_KEY_FILE to a key file made by `keyward init --write-key-file`, or set KEYWARD_PASSPHRASE".into(),
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

/// The error as the user reads it on stderr: the cause, then the fix.
/// `keyward serve` also gives this text to every MCP call when it could
/// not start.
pub(crate) fn report(e: &CliError) -> String {
    match e.hint() {
        Some(hint) => format!("keyward: {e}\n  hint: {hint}"),
        None => format!("keyward: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_store_is_told_apart_from_a_missing_entry_each_with_its_fix() {
        let unreachable = CliError::CannotUnlock(Keychain::Unreachable { bus_var: false });
        let text = report(&unreachable);
        assert!(
            text.contains(
                "the OS credential store is unreachable (no session bus: DBUS_SESSION_BUS_ADDRESS is not set for this process"
            ),
            "{text}"
        );
        for fix in [
            "KEYWARD_VAULT_KEY_FILE",
            "pass DBUS_SESSION_BUS_ADDRESS",
            "keyward connect",
        ] {
            assert!(text.contains(fix), "{fix}: {text}");
        }
        let on_bus = report(&CliError::CannotUnlock(Keychain::Unreachable {
            bus_var: true,
        }));
        assert!(on_bus.contains("no Secret Service answers"), "{on_bus}");
        let none = report(&CliError::CannotUnlock(Keychain::NoEntry));
        assert!(none.contains("no OS credential store entry") && !none.contains("unreachable"));
        assert!(none.contains("\n  hint: run `keyward init`"), "{none}");
    }
}
