//! Opening the vault. Order: OS credential store, `KEYWARD_VAULT_KEY_FILE`,
//! `KEYWARD_PASSPHRASE`, a prompt on the terminal. Only the last two pay for
//! the passphrase KDF.

use keyward_config::Paths;
use keyward_vault::{KeyStoreError, Vault, VaultError, key_file_read, keychain_find};

use crate::env::ProcessEnv;
use crate::error::{CliError, Keychain};
use crate::prompt;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prompt {
    /// A human may be asked on the terminal.
    IfTerminal,
    /// Never ask (`keyward serve`: the terminal, if any, belongs to the MCP client).
    Never,
}

pub(crate) fn unlock(paths: &Paths, env: &ProcessEnv, ask: Prompt) -> Result<Vault, CliError> {
    let path = paths.vault_file();
    let header = match Vault::read_header(&path) {
        Ok(h) => h,
        Err(VaultError::NotFound { .. }) => {
            return Err(CliError::NotInitialised(paths.data_dir.clone()));
        }
        Err(e) => return Err(e.into()),
    };
    let mut keychain = Keychain::NoEntry;
    if !env.no_keychain {
        match keychain_find(&header.id) {
            Ok(Some(key)) => match Vault::open_with_key(&path, &key) {
                Ok(v) => return Ok(v),
                Err(VaultError::WrongKey) => {
                    tracing::warn!(
                        "the OS credential store holds a key that does not open this vault; trying other ways"
                    );
                }
                Err(e) => return Err(e.into()),
            },
            Ok(None) => {}
            Err(KeyStoreError::NoStore) => {
                keychain = Keychain::Unreachable {
                    bus_var: env.session_bus_var,
                };
            }
            Err(e) => {
                tracing::warn!(error = %e, "OS credential store unavailable; trying other ways");
                keychain = Keychain::Failed(e.to_string());
            }
        }
    }
    if let Some(file) = &env.key_file {
        let key = key_file_read(file)?;
        return Ok(Vault::open_with_key(&path, &key)?);
    }
    if let Some(pass) = &env.passphrase {
        return Ok(Vault::open_with_passphrase(&path, pass)?);
    }
    if ask == Prompt::IfTerminal && prompt::can_prompt() {
        let pass = prompt::passphrase("Vault passphrase: ")?;
        return Ok(Vault::open_with_passphrase(&path, &pass)?);
    }
    Err(CliError::CannotUnlock(keychain))
}
