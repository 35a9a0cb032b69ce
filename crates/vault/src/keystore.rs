//! Where the vault key can live besides the passphrase: the OS credential
//! store (keychain) or a key file.
//!
//! The keychain goes through `keyring` 4 (`v1` feature): macOS Keychain,
//! Windows Credential Manager, and on Linux/BSD the Secret Service over
//! pure-Rust zbus. The key is stored as its text form
//! (`keyward-vault-key-1:…`) under service `keyward`, account
//! `vault-key-<vault id>`, so `secret-tool lookup service keyward username
//! vault-key-<id>` finds it.
//!
//! Honest limits: the keyring/zbus stack copies the secret into D-Bus
//! messages and a plain `Vec` we do not control, so those copies are not
//! zeroed; and any process of the same user with session-bus access can
//! read an unlocked Secret Service collection. The calls are blocking (zbus
//! runs its own executor thread); call them from `spawn_blocking` in async
//! code. The store is chosen once per process: if no session bus or Secret
//! Service was reachable at the first call, it stays unreachable for the
//! life of the process.

use std::fs::File;
use std::path::Path;

use crate::fsio::read_secret_bytes;
use crate::{SecretValue, VaultError, VaultKey};

const SERVICE: &str = "keyward";

/// Why the OS credential store could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    #[error(
        "no OS credential store is reachable (on Linux: a Secret Service such as gnome-keyring \
         or KeePassXC must run on the session D-Bus)"
    )]
    NoStore,
    #[error("the OS credential store refused access (is it locked?): {detail}")]
    Access { detail: String },
    #[error("the OS credential store failed: {detail}")]
    Platform { detail: String },
    #[error(
        "{count} entries match this service/account in the OS credential store; delete the extra ones"
    )]
    Ambiguous { count: usize },
    #[error("invalid credential store entry: {detail}")]
    Invalid { detail: String },
    #[error("the credential store entry {SERVICE}/{account} does not hold a valid vault key")]
    BadStoredKey { account: String },
}

fn account(vault_id: &str) -> String {
    format!("vault-key-{vault_id}")
}

/// Stores the vault key in the OS credential store (replacing an older one).
pub fn keychain_store(vault_id: &str, key: &VaultKey) -> Result<(), KeyStoreError> {
    let entry = entry(SERVICE, &account(vault_id))?;
    entry
        .set_secret(key.to_encoded().as_bytes())
        .map_err(map_err)
}

/// The vault key from the OS credential store. `Ok(None)` when there is no
/// entry or no store is reachable (no session bus, no Secret Service, an
/// unsupported platform): the caller falls back to the passphrase. `Err`
/// means a store exists but failed or refused (e.g. locked, prompt
/// dismissed); callers usually warn and fall back too.
pub fn keychain_load(vault_id: &str) -> Result<Option<VaultKey>, KeyStoreError> {
    match keychain_find(vault_id) {
        Err(KeyStoreError::NoStore) => Ok(None),
        other => other,
    }
}

/// Like [`keychain_load`], but tells "no store is reachable"
/// (`Err(NoStore)`) from "the store has no entry" (`Ok(None)`), so that
/// the user hears which one it was and its fix.
pub fn keychain_find(vault_id: &str) -> Result<Option<VaultKey>, KeyStoreError> {
    let account = account(vault_id);
    match keychain_get(SERVICE, &account) {
        Ok(Some(value)) => {
            let text = value
                .expose_str()
                .map_err(|_| KeyStoreError::BadStoredKey {
                    account: account.clone(),
                })?;
            VaultKey::from_encoded(text)
                .map(Some)
                .map_err(|_| KeyStoreError::BadStoredKey { account })
        }
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Deletes the stored vault key. Deleting a key that is not there is not
/// an error; having no store at all is (`NoStore`).
pub fn keychain_delete(vault_id: &str) -> Result<(), KeyStoreError> {
    keychain_remove(SERVICE, &account(vault_id)).map(|_| ())
}

/// Any secret from the OS store (for `keychain://` references).
pub(crate) fn keychain_get(
    service: &str,
    account: &str,
) -> Result<Option<SecretValue>, KeyStoreError> {
    match entry(service, account)?.get_secret() {
        Ok(bytes) => Ok(Some(SecretValue::new(bytes))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(map_err(e)),
    }
}

/// Stores any secret in the OS store under `service`/`account` (replacing
/// an older value), for `keyward secret set --backend keychain`; it then
/// resolves as `keychain://SERVICE/ACCOUNT`.
pub fn keychain_set(
    service: &str,
    account: &str,
    value: &SecretValue,
) -> Result<(), KeyStoreError> {
    entry(service, account)?
        .set_secret(value.expose())
        .map_err(map_err)
}

/// Removes a secret `keychain_set` stored under `service`/`account`, for
/// `keyward secret rm`. `Ok(false)` when there was no such entry.
pub fn keychain_remove(service: &str, account: &str) -> Result<bool, KeyStoreError> {
    match entry(service, account)?.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(map_err(e)),
    }
}

/// Whether an OS credential store answers (a lookup of an entry that need
/// not exist), for `keyward doctor`.
pub fn keychain_probe() -> Result<(), KeyStoreError> {
    keychain_get(SERVICE, "keyward-doctor-probe").map(|_| ())
}

fn entry(service: &str, account: &str) -> Result<keyring::Entry, KeyStoreError> {
    keyring::Entry::new(service, account).map_err(map_err)
}

/// Maps keyring's errors to ours by hand: some of theirs carry the secret's
/// bytes (`BadEncoding`, `BadDataFormat`), which must never reach a message.
fn map_err(e: keyring::Error) -> KeyStoreError {
    use keyring::Error as E;
    match e {
        E::NoDefaultStore => KeyStoreError::NoStore,
        E::NoStorageAccess(inner) => KeyStoreError::Access {
            detail: inner.to_string(),
        },
        E::PlatformFailure(inner) => KeyStoreError::Platform {
            detail: inner.to_string(),
        },
        E::Ambiguous(entries) => KeyStoreError::Ambiguous {
            count: entries.len(),
        },
        E::Invalid(what, reason) => KeyStoreError::Invalid {
            detail: format!("{what}: {reason}"),
        },
        E::TooLong(what, limit) => KeyStoreError::Invalid {
            detail: format!("{what} is longer than the store's limit of {limit}"),
        },
        E::BadEncoding(_) | E::BadDataFormat(..) => KeyStoreError::Platform {
            detail: "the stored data is malformed".to_string(),
        },
        E::BadStoreFormat(reason) | E::NotSupportedByStore(reason) => {
            KeyStoreError::Platform { detail: reason }
        }
        E::NoEntry => KeyStoreError::Platform {
            detail: "no matching entry".to_string(),
        },
        _ => KeyStoreError::Platform {
            detail: "unexpected credential store error".to_string(),
        },
    }
}

/// Largest key file read: a key is 63 characters plus whitespace.
const MAX_KEY_FILE: usize = 4096;

/// Writes the vault key to a new file (mode 0600 on unix). Refuses to
/// overwrite an existing file: that might be another vault's only key.
pub fn key_file_write(path: &Path, key: &VaultKey) -> Result<(), VaultError> {
    let encoded = key.to_encoded();
    // Sized up front so the newline never reallocates (which would free an
    // unzeroed copy of the key).
    let mut line = zeroize::Zeroizing::new(Vec::with_capacity(encoded.len() + 1));
    line.extend_from_slice(encoded.as_bytes());
    line.push(b'\n');
    keyward_fsio::create_new_private(path, &line).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => VaultError::AlreadyExists {
            path: path.to_path_buf(),
        },
        _ => crate::fsio::fs_error(e),
    })
}

/// Reads a key file. On unix, refuses one that group or others can access
/// (checked on the opened file, so it cannot be swapped in between).
pub fn key_file_read(path: &Path) -> Result<VaultKey, VaultError> {
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => VaultError::NotFound {
            path: path.to_path_buf(),
        },
        _ => VaultError::io(path, e),
    };
    let file = File::open(path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(io)?.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(VaultError::InsecureKeyFile {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    let bytes =
        read_secret_bytes(file, MAX_KEY_FILE)
            .map_err(io)?
            .ok_or(VaultError::InvalidKey {
                reason: "the key file is too large to be a key file",
            })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| VaultError::InvalidKey {
        reason: "the key file is not text",
    })?;
    VaultKey::from_encoded(text)
}
