//! "Is this the human?": the vault passphrase, checked by the keyward that
//! holds the vault, for answers that come from outside the MCP client (the
//! dashboard, `keyward approve`, `keyward unlock`).
//!
//! A same-user process can reach the control socket and the dashboard; it
//! does not know the passphrase. Guessing is slowed by Argon2id (the KDF of
//! the vault header) and by a pause after every wrong answer, and the
//! attempts of one queue are serialised, so parallel guessing gains
//! nothing. The dashboard checks on a queue of its own
//! ([`PassphraseCheck::own_queue`], behind a per-client back-off): wrong
//! guesses there never wait ahead of the terminal's `keyward approve` or
//! `unlock`, which hold the pause of their own queue only.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use keyward_vault::{SecretValue, Vault, VaultError, VaultKey};
use tokio::sync::Mutex;

/// The pause after a wrong passphrase, before the next attempt is checked.
const WRONG_PASSPHRASE_PAUSE: Duration = Duration::from_secs(1);

/// Checks passphrases against the vault keyward serves from.
#[derive(Clone)]
pub struct PassphraseCheck {
    path: PathBuf,
    key: VaultKey,
    turn: Arc<Mutex<()>>,
}

impl std::fmt::Debug for PassphraseCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassphraseCheck")
            .field("vault", &self.path)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PassphraseError {
    #[error("wrong passphrase")]
    Wrong,
    #[error("a passphrase is required")]
    Missing,
    #[error("the passphrase cannot be checked: {0}")]
    Unavailable(String),
}

impl PassphraseCheck {
    pub fn new(vault: &Vault) -> PassphraseCheck {
        PassphraseCheck {
            path: vault.path().to_path_buf(),
            key: vault.key().clone(),
            turn: Arc::new(Mutex::new(())),
        }
    }

    /// The same check on a queue of its own: its attempts (and the pause
    /// after each wrong one) are serialised with each other, not with this
    /// one's.
    pub fn own_queue(&self) -> PassphraseCheck {
        PassphraseCheck {
            path: self.path.clone(),
            key: self.key.clone(),
            turn: Arc::new(Mutex::new(())),
        }
    }

    /// Whether `passphrase` unlocks the vault. The file is read again each
    /// time, so a passphrase changed meanwhile is the one that counts.
    pub async fn verify(&self, passphrase: &SecretValue) -> Result<(), PassphraseError> {
        if passphrase.expose().is_empty() {
            return Err(PassphraseError::Missing);
        }
        let _turn = self.turn.lock().await;
        let (path, key, p) = (self.path.clone(), self.key.clone(), passphrase.clone());
        let checked = tokio::task::spawn_blocking(move || {
            Vault::open_with_key(&path, &key).and_then(|v| v.verify_passphrase(&p))
        })
        .await
        .map_err(|e| PassphraseError::Unavailable(e.to_string()))?;
        match checked {
            Ok(()) => Ok(()),
            Err(VaultError::WrongPassphrase) => {
                tokio::time::sleep(WRONG_PASSPHRASE_PAUSE).await;
                Err(PassphraseError::Wrong)
            }
            Err(e) => Err(PassphraseError::Unavailable(e.to_string())),
        }
    }
}

#[cfg(test)]
impl PassphraseCheck {
    /// Takes this queue's turn, as a check in progress does (tests).
    pub(crate) async fn hold_turn(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.turn.clone().lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use keyward_vault::KdfParams;

    #[tokio::test]
    async fn a_wrong_dashboard_guess_does_not_hold_the_lock_the_terminals_check_needs() {
        let dir = tempfile::tempdir().unwrap();
        let pass = SecretValue::from_str("right passphrase");
        let vault = Vault::create(&dir.path().join("v.kw"), &pass, KdfParams::for_tests()).unwrap();
        let terminal = PassphraseCheck::new(&vault);
        let dashboard = terminal.own_queue();
        // A dashboard check in progress (a wrong one pauses holding this).
        let _busy = dashboard.hold_turn().await;
        let answered = tokio::time::timeout(Duration::from_secs(10), terminal.verify(&pass)).await;
        assert_eq!(
            answered,
            Ok(Ok(())),
            "the terminal's check waited for the dashboard's"
        );
        let wrong = SecretValue::from_str("wrong");
        let answered = tokio::time::timeout(Duration::from_secs(10), terminal.verify(&wrong)).await;
        assert_eq!(answered, Ok(Err(PassphraseError::Wrong)));
    }
}
