//! keyward's vault: the encrypted local secret store, typed secrets, secret
//! references and their resolution, and the places a vault key can be kept
//! (OS keychain, key file).
//!
//! It knows nothing of MCP (DESIGN.md, "Parts"); its only HTTP is the
//! small OpenBao / HashiCorp Vault client behind `vault://` ([`openbao`]).
//!
//! # Keys
//!
//! A vault has a random 256-bit [`VaultKey`] that encrypts its body. The key
//! is stored in the file wrapped under a key derived from the passphrase
//! with Argon2id ([`KdfParams`]), and may additionally be kept in the OS
//! keychain ([`keychain_store`]) or a 0600 key file ([`key_file_write`]), so
//! `keyward serve` can start unattended while changing the passphrase only
//! rewraps 32 bytes.
//!
//! # File format (version 1)
//!
//! One pretty-printed JSON document, mode 0600:
//!
//! ```json
//! {
//!   "format": "keyward-vault",
//!   "version": 1,
//!   "id": "<32 lowercase hex: random 128-bit vault id>",
//!   "kdf": { "alg": "argon2id-v19", "m_kib": 65536, "t": 3, "p": 1, "salt": "<b64, 16 bytes>" },
//!   "cipher": "xchacha20poly1305",
//!   "wrapped_key": { "nonce": "<b64, 24 bytes>", "ciphertext": "<b64: 32-byte key ‖ 16-byte tag>" },
//!   "key_check":   { "nonce": "<b64, 24 bytes>", "ciphertext": "<b64: 16-byte tag>" },
//!   "body":        { "nonce": "<b64, 24 bytes>", "ciphertext": "<b64: body ‖ 16-byte tag>" }
//! }
//! ```
//!
//! - `wrapped_key`: the vault key, XChaCha20-Poly1305 under
//!   Argon2id(passphrase, salt).
//! - `key_check`: the empty message under the vault key. It lets a vault key
//!   from the keychain or a key file be told apart as wrong (`WrongKey`)
//!   rather than the body being damaged (`Corrupted`).
//! - `body`: under the vault key, a fresh random 24-byte nonce on every
//!   write. Plaintext: `{"entries":{NAME:{"value":<b64>,"created":<RFC 3339>,
//!   "updated":<RFC 3339>}}}`.
//! - Associated data: all three AEADs bind `format`, `version`, `id`, the KDF
//!   algorithm, parameters and salt, and the cipher; `key_check` and `body`
//!   also bind the wrapped key. Changing any header byte makes decryption
//!   fail (`WrongPassphrase` / `WrongKey`), never silently succeed.
//!
//! Unknown fields are rejected. A different `version` gives
//! [`VaultError::UnsupportedVersion`]. KDF parameters read from a file are
//! bounded (≤ 2 GiB, ≤ 64 passes, ≤ 16 lanes) so a hostile header cannot
//! exhaust memory.
//!
//! # Files next to the vault
//!
//! - `<vault>.lock`: the writers' lock (std `File::lock`), never deleted.
//! - `<vault>.prev`: the previous generation, openable like the vault (with
//!   the passphrase it had then).
//! - `.<vault>.tmp-<hex>`: only left behind by a crash mid-write; ciphertext.
//!
//! See `fsio.rs` for the crash-safety argument.
//!
//! # Limits (said plainly)
//!
//! - A process running as the same user can read the key file, ask an
//!   unlocked Secret Service / Keychain for the vault key, or read keyward's
//!   memory. The passphrase alone protects the vault only when the key is
//!   kept nowhere else (no keychain entry, no key file).
//! - Anyone who can write the vault's directory can roll the vault back to
//!   `.prev` or delete it; authentication detects modification, not
//!   replacement by an older genuine generation.
//! - Zeroing covers keyward's own buffers. Copies made by the OS (page cache,
//!   swap), by the keychain libraries (D-Bus messages) or by callers who
//!   `expose()` and copy are outside this crate's reach.
//! - A bare reference that is a valid secret name is echoed in errors as a
//!   name. Strings that look like tokens are refused as bare names (see
//!   [`RefError::LooksLikeSecretValue`]) but the heuristic cannot catch all.

mod entries;
mod error;
mod file;
mod format;
mod fsio;
mod kdf;
pub mod keystore;
mod name;
pub mod openbao;
pub mod reference;
mod resolve;
pub mod sealed;
pub mod secret;
mod wrap;

pub use entries::{Entries, EntryInfo};
pub use error::VaultError;
pub use file::{Vault, VaultHeader};
pub use kdf::KdfParams;
pub use keystore::{
    KeyStoreError, key_file_read, key_file_write, keychain_delete, keychain_find, keychain_load,
    keychain_probe, keychain_remove, keychain_set, keychain_store,
};
pub use name::{MAX_SECRET_NAME_LEN, validate_secret_name};
pub use openbao::{OpenBao, OpenBaoAuth, OpenBaoError, OpenBaoSettings};
pub use reference::{RefError, SECRET_SCHEMES, SecretRef, has_secret_scheme};
pub use resolve::{EnvSource, ResolveError, Resolver};
pub use secret::{SecretValue, VaultKey};
