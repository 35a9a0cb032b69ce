//! Crash-safe file handling for the vault: the writer lock, atomic
//! replacement keeping the previous generation, bounded reads, and 0600/0700
//! permissions. The writing itself is `keyward_fsio`'s; this module adds
//! the previous generation.
//!
//! The write sequence (SECURITY.md item 9, "no data lost"):
//! 1. write the new document to `.<name>.tmp-<random>` (created 0600, never
//!    an existing file), `fsync` it (`keyward_fsio::stage`);
//! 2. hard-link the current file to `<name>.prev.tmp` (copy if the file
//!    system has no hard links), rename it to `<name>.prev`;
//! 3. rename the temp file over `<name>`;
//! 4. `fsync` the directory so the renames are durable (3 and 4 are
//!    `keyward_fsio::Staged::commit`).
//!
//! A crash before 3 leaves the old vault in place; after 3 the new one.
//! Either way `<name>.prev` holds an intact earlier generation, and a
//! leftover temp file holds only ciphertext. Readers need no lock: they
//! always see a whole file, old or new, because rename is atomic.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

use keyward_fsio::Mode;

use crate::VaultError;

pub(crate) use keyward_fsio::sibling;

/// Largest vault file read (a vault is small; this bounds a hostile file).
const MAX_FILE_LEN: u64 = 64 * 1024 * 1024;

/// A `keyward_fsio` error as the vault's: the path the failed step acted on
/// and the OS error.
pub(crate) fn fs_error(e: keyward_fsio::Error) -> VaultError {
    let (path, source) = e.into_parts();
    VaultError::io(path, source)
}

/// An exclusive lock on `<vault>.lock`, released when dropped (closing the
/// descriptor releases the lock, also when the process dies). The lock file
/// is never deleted: deleting it would let two writers lock two different
/// inodes.
pub(crate) struct WriteLock {
    _lock: keyward_fsio::LockFile,
}

pub(crate) fn lock(vault: &Path) -> Result<WriteLock, VaultError> {
    let lock = keyward_fsio::lock_exclusive(&sibling(vault, ".lock")).map_err(fs_error)?;
    Ok(WriteLock { _lock: lock })
}

/// Creates the vault's directory (and missing parents) with mode 0700.
pub(crate) fn ensure_parent_dir(vault: &Path) -> Result<(), VaultError> {
    match vault.parent() {
        Some(dir) => keyward_fsio::create_private_dir(dir).map_err(fs_error),
        None => Ok(()),
    }
}

/// Reads a whole vault file, mapping a missing file to `NotFound`.
pub(crate) fn read_vault(path: &Path) -> Result<Vec<u8>, VaultError> {
    let file = File::open(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => VaultError::NotFound {
            path: path.to_path_buf(),
        },
        _ => VaultError::io(path, e),
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| VaultError::io(path, e))?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(VaultError::corrupted(
            path,
            "the file is larger than 64 MiB",
        ));
    }
    Ok(bytes)
}

/// Whether anything (even a dangling symlink) exists at `path`.
pub(crate) fn exists(path: &Path) -> Result<bool, VaultError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(VaultError::io(path, e)),
    }
}

/// Atomically replaces (or creates) `path` with `bytes`, first keeping the
/// current file as `<path>.prev`. Call with the [`WriteLock`] held.
pub(crate) fn replace_keeping_prev(
    path: &Path,
    bytes: &[u8],
    _lock: &WriteLock,
) -> Result<(), VaultError> {
    // Dropped on an error below, the staged temp file is removed.
    let staged = keyward_fsio::stage(path, bytes, Mode::Private).map_err(fs_error)?;
    if exists(path)? {
        keep_previous(path)?;
    }
    staged.commit().map_err(fs_error)
}

/// `<path>.prev` ← current `<path>`, replaced atomically.
fn keep_previous(path: &Path) -> Result<(), VaultError> {
    let prev = sibling(path, ".prev");
    let staging = sibling(path, ".prev.tmp");
    // A stale staging file from a crash is only a copy of some generation.
    match fs::remove_file(&staging) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(VaultError::io(&staging, e)),
        _ => {}
    }
    if fs::hard_link(path, &staging).is_err() {
        // No hard links here (some network/FUSE file systems): a copy,
        // written as any private file is.
        return keyward_fsio::write_private(&prev, &read_vault(path)?).map_err(fs_error);
    }
    // A hard link shares the vault's mode; tighten it in case someone
    // loosened the vault's (this tightens the vault too, which is fine).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&staging, fs::Permissions::from_mode(0o600))
            .map_err(|e| VaultError::io(&staging, e))?;
    }
    fs::rename(&staging, &prev).map_err(|e| VaultError::io(&prev, e))
}

/// Reads at most `limit` bytes of `file` into a zeroizing buffer; `None`
/// if the file is longer. Grows its buffer by hand (copy, then zero the old
/// one) because `Vec`'s own growth would free old copies unzeroed.
pub(crate) fn read_secret_bytes(
    file: File,
    limit: usize,
) -> io::Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
    let hint = file.metadata().map(|m| m.len()).unwrap_or(0);
    read_bounded(file, hint, limit)
}

/// [`read_secret_bytes`] for any reader (an HTTP answer); `hint` is the
/// expected length (0 when unknown).
pub(crate) fn read_bounded(
    mut file: impl Read,
    hint: u64,
    limit: usize,
) -> io::Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
    let first = usize::try_from(hint).unwrap_or(limit).min(limit) + 1;
    let mut buf = zeroize::Zeroizing::new(vec![0u8; first.max(64)]);
    let mut len = 0;
    loop {
        if len == buf.len() {
            if len > limit {
                return Ok(None);
            }
            let mut bigger = zeroize::Zeroizing::new(vec![0u8; (len * 2).min(limit + 1)]);
            bigger[..len].copy_from_slice(&buf[..len]);
            buf = bigger;
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if len > limit {
        return Ok(None);
    }
    buf.truncate(len);
    Ok(Some(buf))
}
