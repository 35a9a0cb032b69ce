//! Errors of the encrypted vault and its key files.
//!
//! Every message is meant to be shown to a human as is: it says what went
//! wrong, where, and (when there is one) what to do about it. No message ever
//! contains a secret value, a key, a passphrase or decrypted bytes — only
//! paths, secret *names* and fixed texts. `tests/leaks.rs` checks this with
//! a canary.

use std::path::PathBuf;

/// Why a vault operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The passphrase did not unwrap the vault key. A modified header is
    /// indistinguishable from a wrong passphrase, by design of the AEAD.
    #[error("wrong passphrase (or the vault header was modified)")]
    WrongPassphrase,

    /// The vault key (from the keychain or a key file) is not this vault's.
    #[error(
        "wrong vault key: the key does not belong to this vault (or the vault header was \
         modified); unlock with the passphrase instead"
    )]
    WrongKey,

    /// The file could not be parsed or its body failed authentication even
    /// though the key was right. Nothing is overwritten on this error; the
    /// previous generation is kept next to the file as `<file>.prev`.
    #[error(
        "the vault file is corrupted: {detail} (nothing was overwritten; the previous \
         generation, if any, is in the `.prev` file next to it)"
    )]
    Corrupted {
        /// What exactly is wrong, naming the file.
        detail: String,
    },

    /// There is no vault at this path.
    #[error("no vault at {}: create one with `keyward init`", path.display())]
    NotFound { path: PathBuf },

    /// `create` refuses to replace anything.
    #[error("{} already exists; refusing to overwrite it", path.display())]
    AlreadyExists { path: PathBuf },

    /// A file written by a newer (or unknown) keyward.
    #[error(
        "the vault file format version {version} is not supported by this keyward (it reads \
         version {supported}); upgrade keyward"
    )]
    UnsupportedVersion { version: u64, supported: u32 },

    /// Reading, writing, locking or syncing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A secret name outside `[A-Za-z0-9_.-]{1,128}` (or starting with `.`/`-`).
    #[error("invalid secret name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },

    /// Empty values are refused: an empty credential is always a mistake, and
    /// an empty string cannot be scrubbed from output.
    #[error("the value for secret `{name}` is empty; refusing to store an empty secret")]
    EmptyValue { name: String },

    /// The secret is binary and the caller needed text.
    #[error("the secret value is not valid UTF-8 text")]
    NotUtf8,

    /// A vault key in its text form could not be decoded.
    #[error("invalid vault key: {reason}")]
    InvalidKey { reason: &'static str },

    /// A key file that group or others may access: its key may already be
    /// copied, so it is not used.
    #[error(
        "key file {} has mode {mode:04o}, so group/others can access it; refusing to use it. \
         Run `chmod 600 {}` (and consider the key exposed if other users share this machine)",
        path.display(),
        path.display()
    )]
    InsecureKeyFile { path: PathBuf, mode: u32 },

    /// KDF parameters out of the accepted range (from the caller or from a
    /// file header, which may be hostile: a huge `m_kib` would exhaust memory).
    #[error("invalid Argon2id parameters: {reason}")]
    InvalidKdfParams { reason: String },

    /// A bug or an impossible condition (serialising plain data failed).
    /// Nothing was written.
    #[error("internal error in the vault: {detail} (nothing was written)")]
    Internal { detail: String },

    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Random(getrandom::Error),
}

impl VaultError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        VaultError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupted(path: &std::path::Path, what: impl std::fmt::Display) -> Self {
        VaultError::Corrupted {
            detail: format!("{}: {what}", path.display()),
        }
    }
}
