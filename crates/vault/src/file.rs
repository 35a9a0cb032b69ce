//! [`Vault`]: the decrypted vault in memory, tied to its file.

use std::fmt;
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::entries::{Entries, EntryInfo};
use crate::format::{self, Header, SealedBody};
use crate::fsio;
use crate::wrap::{hex, key_check_ok, unwrap_key, wrap_key};
use crate::{KdfParams, SecretValue, VaultError, VaultKey};

/// The public part of a vault file, readable without any key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VaultHeader {
    /// Random 128-bit id in lowercase hex, fixed for the vault's life; it
    /// names the vault's key in the OS keychain.
    pub id: String,
    /// File format version.
    pub version: u32,
    /// The Argon2id parameters the passphrase is stretched with.
    pub kdf: KdfParams,
}

/// An open, decrypted vault.
pub struct Vault {
    path: PathBuf,
    header: Header,
    key: VaultKey,
    entries: Entries,
}

impl Vault {
    /// Creates a NEW vault file (error if it exists): a random [`VaultKey`]
    /// wrapped with Argon2id(passphrase). Returns the open vault so the
    /// caller can also store the key elsewhere (keychain, key file).
    ///
    /// Also refuses when `<path>.prev` exists: a new vault's first update
    /// would replace that older generation, which may be the only copy left
    /// of a lost vault.
    pub fn create(
        path: &Path,
        passphrase: &SecretValue,
        kdf: KdfParams,
    ) -> Result<Vault, VaultError> {
        kdf.validate()?;
        fsio::ensure_parent_dir(path)?;
        let lock = fsio::lock(path)?;
        for p in [path.to_path_buf(), fsio::sibling(path, ".prev")] {
            if fsio::exists(&p)? {
                return Err(VaultError::AlreadyExists { path: p });
            }
        }
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(VaultError::Random)?;
        let key = VaultKey::try_generate()?;
        let header = wrap_key(hex(&id), &key, passphrase, kdf)?;
        let vault = Vault {
            path: path.to_path_buf(),
            header,
            key,
            entries: Entries::default(),
        };
        fsio::replace_keeping_prev(path, &vault.encode()?, &lock)?;
        Ok(vault)
    }

    /// The id, format version and KDF parameters, without decrypting
    /// anything (to find the vault's key in the keychain, say).
    pub fn read_header(path: &Path) -> Result<VaultHeader, VaultError> {
        let (header, _) = format::decode(path, &fsio::read_vault(path)?)?;
        Ok(public_header(&header))
    }

    /// Opens with the vault key (keychain, key file). `WrongKey` if the key
    /// is not this vault's, `Corrupted` if the key fits but the body is damaged.
    pub fn open_with_key(path: &Path, key: &VaultKey) -> Result<Vault, VaultError> {
        let (header, body) = format::decode(path, &fsio::read_vault(path)?)?;
        if !key_check_ok(&header, key) {
            return Err(VaultError::WrongKey);
        }
        Self::decrypt(path, header, body, key.clone())
    }

    /// Opens with the passphrase (costs one Argon2id derivation).
    pub fn open_with_passphrase(
        path: &Path,
        passphrase: &SecretValue,
    ) -> Result<Vault, VaultError> {
        let (header, body) = format::decode(path, &fsio::read_vault(path)?)?;
        let key = unwrap_key(&header, passphrase)?;
        if !key_check_ok(&header, &key) {
            // The passphrase opened the wrap, so the header is authentic:
            // the key check itself was damaged.
            return Err(VaultError::corrupted(
                path,
                "the key check fails authentication",
            ));
        }
        Self::decrypt(path, header, body, key)
    }

    /// Seals other state under this vault's key (see [`crate::sealed`]).
    pub fn sealer(&self) -> crate::sealed::Sealer {
        crate::sealed::Sealer::new(self.key().clone(), self.id().to_string())
    }

    pub fn key(&self) -> &VaultKey {
        &self.key
    }

    pub fn id(&self) -> &str {
        &self.header.id
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn header(&self) -> VaultHeader {
        public_header(&self.header)
    }

    pub fn get(&self, name: &str) -> Option<&SecretValue> {
        self.entries.get(name)
    }

    /// Names, timestamps and lengths, sorted by name; never values.
    pub fn list(&self) -> Vec<EntryInfo> {
        self.entries.info()
    }

    /// Every (name, value), sorted by name: for building the scrubber.
    pub fn values(&self) -> impl Iterator<Item = (&str, &SecretValue)> {
        self.entries.values()
    }

    /// Read-modify-write under the exclusive lock: lock `<path>.lock`,
    /// re-read the file with this vault's key (so entries written meanwhile
    /// by another process are kept), apply `f`, write atomically (keeping
    /// `<path>.prev`), unlock. On success `self` is the saved state; if `f`
    /// or anything else fails, nothing is written and `self` is unchanged.
    pub fn update<F>(&mut self, f: F) -> Result<(), VaultError>
    where
        F: FnOnce(&mut Entries) -> Result<(), VaultError>,
    {
        let lock = fsio::lock(&self.path)?;
        let mut fresh = self.reread()?;
        f(&mut fresh.entries)?;
        fsio::replace_keeping_prev(&self.path, &fresh.encode()?, &lock)?;
        *self = fresh;
        Ok(())
    }

    /// Re-reads the file (picking up other processes' changes).
    pub fn reload(&mut self) -> Result<(), VaultError> {
        *self = self.reread()?;
        Ok(())
    }

    /// Checks a passphrase against this vault without changing anything
    /// (e.g. before revealing a value to the human who typed it).
    pub fn verify_passphrase(&self, passphrase: &SecretValue) -> Result<(), VaultError> {
        let key = unwrap_key(&self.header, passphrase)?;
        if bool::from(key.bytes()[..].ct_eq(&self.key.bytes()[..])) {
            Ok(())
        } else {
            Err(VaultError::WrongPassphrase)
        }
    }

    /// Rewraps the vault key under a new passphrase (new salt, `kdf`). The
    /// vault key and secrets are unchanged, so keychain copies stay valid.
    /// Note: `<path>.prev` then still opens with the OLD passphrase until the
    /// next update replaces it.
    pub fn change_passphrase(
        &mut self,
        new: &SecretValue,
        kdf: KdfParams,
    ) -> Result<(), VaultError> {
        kdf.validate()?;
        let lock = fsio::lock(&self.path)?;
        let mut fresh = self.reread()?;
        fresh.header = wrap_key(fresh.header.id.clone(), &fresh.key, new, kdf)?;
        fsio::replace_keeping_prev(&self.path, &fresh.encode()?, &lock)?;
        *self = fresh;
        Ok(())
    }

    fn reread(&self) -> Result<Vault, VaultError> {
        let fresh = Vault::open_with_key(&self.path, &self.key)?;
        if fresh.header.id != self.header.id {
            return Err(VaultError::corrupted(
                &self.path,
                "the file now holds a different vault (its id changed); reopen it",
            ));
        }
        Ok(fresh)
    }

    fn decrypt(
        path: &Path,
        header: Header,
        body: SealedBody,
        key: VaultKey,
    ) -> Result<Vault, VaultError> {
        let mut buf = Zeroizing::new(body.ciphertext);
        let ok = match format::split_tag(&mut buf) {
            Some((msg, tag)) => {
                format::open(key.bytes(), &body.nonce, &header.aad("body"), msg, &tag)
            }
            None => false,
        };
        if !ok {
            return Err(VaultError::corrupted(
                path,
                "the encrypted body fails authentication although the key is right (damaged or \
                 truncated); try the `.prev` file",
            ));
        }
        let plain_len = buf.len() - 16;
        let entries = Entries::from_plaintext(&buf[..plain_len])
            .map_err(|d| VaultError::corrupted(path, d))?;
        Ok(Vault {
            path: path.to_path_buf(),
            header,
            key,
            entries,
        })
    }

    /// Seals the entries under a fresh nonce and serialises the file.
    fn encode(&self) -> Result<Vec<u8>, VaultError> {
        let mut buf = self.entries.to_plaintext()?;
        let (nonce, tag) = format::seal(self.key.bytes(), &self.header.aad("body"), &mut buf)?;
        // `buf` now holds ciphertext; appending the tag may reallocate, which
        // is harmless now.
        let mut ciphertext = std::mem::take(&mut *buf);
        ciphertext.extend_from_slice(&tag);
        format::encode(&self.header, &SealedBody { nonce, ciphertext })
    }
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .field("id", &self.header.id)
            .field("key", &self.key)
            .field("entries", &self.entries)
            .finish()
    }
}

fn public_header(h: &Header) -> VaultHeader {
    VaultHeader {
        id: h.id.clone(),
        version: format::FORMAT_VERSION,
        kdf: h.kdf,
    }
}
