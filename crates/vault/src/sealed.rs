//! Data other than vault entries sealed under the vault key: `keyward
//! import` keeps its backups of client configs — which hold the plaintext
//! secrets it moved — this way, so that nothing keyward writes holds a
//! value in the clear.
//!
//! Format: `KWSEAL1\n` ‖ 24-byte nonce ‖ XChaCha20-Poly1305 ciphertext ‖
//! tag, with associated data binding the vault id and a caller's `purpose`
//! (e.g. the original file's path), so a sealed blob cannot be passed off
//! as another one.

use zeroize::Zeroizing;

use crate::format::{self, TAG_LEN};
use crate::{SecretValue, Vault, VaultError, VaultKey};

const MAGIC: &[u8] = b"KWSEAL1\n";

fn aad(vault_id: &str, purpose: &str) -> Vec<u8> {
    [
        b"keyward-sealed-v1\0".as_slice(),
        vault_id.as_bytes(),
        b"\0",
        purpose.as_bytes(),
    ]
    .concat()
}

/// `plaintext` sealed under the vault key for `purpose`.
pub fn seal(vault: &Vault, purpose: &str, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
    vault.sealer().seal(purpose, plaintext)
}

/// The plaintext of a blob made by [`seal`] with the same vault and
/// `purpose`; [`VaultError::Corrupted`] when it is damaged, was sealed for
/// another purpose or under another vault.
pub fn open(vault: &Vault, purpose: &str, sealed: &[u8]) -> Result<SecretValue, VaultError> {
    vault.sealer().open(purpose, sealed)
}

/// Seals and opens under one vault's key without holding the vault: for
/// state a running keyward keeps beside it (the tool pins). It holds a
/// copy of the key, zeroized on drop, and never prints it.
#[derive(Clone)]
pub struct Sealer {
    key: VaultKey,
    vault_id: String,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("vault_id", &self.vault_id)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    pub(crate) fn new(key: VaultKey, vault_id: String) -> Sealer {
        Sealer { key, vault_id }
    }

    /// `plaintext` sealed for `purpose` (see the module's format).
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let mut buf = Zeroizing::new(plaintext.to_vec());
        let (nonce, tag) = format::seal(
            self.key.bytes(),
            &aad(&self.vault_id, purpose),
            &mut buf[..],
        )?;
        Ok([MAGIC, &nonce[..], &buf[..], &tag[..]].concat())
    }

    /// The plaintext of a blob sealed for `purpose` under this vault.
    pub fn open(&self, purpose: &str, sealed: &[u8]) -> Result<SecretValue, VaultError> {
        let bad = || VaultError::Corrupted {
            detail: format!("sealed data for `{purpose}` does not open with this vault's key"),
        };
        let rest = sealed.strip_prefix(MAGIC).ok_or_else(bad)?;
        if rest.len() < 24 + TAG_LEN {
            return Err(bad());
        }
        let (nonce, body) = rest.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| bad())?;
        let mut buf = Zeroizing::new(body.to_vec());
        let (msg, tag) = format::split_tag(&mut buf[..]).ok_or_else(bad)?;
        if !format::open(
            self.key.bytes(),
            &nonce,
            &aad(&self.vault_id, purpose),
            msg,
            &tag,
        ) {
            return Err(bad());
        }
        Ok(SecretValue::new(msg.to_vec()))
    }
}
