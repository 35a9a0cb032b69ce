//! Crash-safe file handling for the vault: the writer lock, atomic
//! replacement keeping the previous generation, bounded reads, and 0600/0700
//! permissions.
//!
//! The write sequence (SECURITY.md item 9, "no data lost"):
//! 1. write the new document to `.<name>.tmp-<random>` (created 0600, never
//!    an existing file), `fsync` it;
//! 2. hard-link the current file to `<name>.prev.tmp` (copy if the file
//!    system has no hard links), `fsync` that copy, rename it to
//!    `<name>.prev`;
//! 3. rename the temp file over `<name>`;
//! 4. `fsync` the directory so the renames are durable.
//!
//! A crash before 3 leaves the old vault in place; after 3 the new one.
//! Either way `<name>.prev` holds an intact earlier generation, and a
//! leftover temp file holds only ciphertext. Readers need no lock: they
//! always see a whole file, old or new, because rename is atomic.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::VaultError;

/// Largest vault file read (a vault is small; this bounds a hostile file).
const MAX_FILE_LEN: u64 = 64 * 1024 * 1024;

/// `<path><suffix>` in the same directory.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Opens a new file for writing with mode 0600, failing if it exists.
pub(crate) fn create_private(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
}

/// An exclusive lock on `<vault>.lock`, released when dropped (closing the
/// descriptor releases the lock, also when the process dies). The lock file
/// is never deleted: deleting it would let two writers lock two different
/// inodes.
pub(crate) struct WriteLock {
    _file: File,
}

pub(crate) fn lock(vault: &Path) -> Result<WriteLock, VaultError> {
    let path = sibling(vault, ".lock");
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let file = opts.open(&path).map_err(|e| VaultError::io(&path, e))?;
    file.lock().map_err(|e| VaultError::io(&path, e))?;
    Ok(WriteLock { _file: file })
}

/// Creates the vault's directory (and missing parents) with mode 0700.
pub(crate) fn ensure_parent_dir(vault: &Path) -> Result<(), VaultError> {
    let Some(dir) = vault.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| VaultError::io(dir, e))
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
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], _lock: &WriteLock) -> Result<(), VaultError> {
    let tmp = temp_path(path)?;
    let written = write_synced(&tmp, bytes).and_then(|()| {
        if exists(path)? {
            keep_previous(path)?;
        }
        fs::rename(&tmp, path).map_err(|e| VaultError::io(path, e))
    });
    if written.is_err() {
        // Best effort: the temp file holds only ciphertext anyway.
        let _ = fs::remove_file(&tmp);
    }
    written?;
    sync_dir(path)
}

fn temp_path(path: &Path) -> Result<PathBuf, VaultError> {
    let mut rnd = [0u8; 6];
    getrandom::fill(&mut rnd).map_err(VaultError::Random)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let hex: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
    Ok(path.with_file_name(format!(".{name}.tmp-{hex}")))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), VaultError> {
    let io = |e| VaultError::io(path, e);
    let mut f = create_private(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)
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
        // No hard links here (some network/FUSE file systems): copy.
        let mut src = File::open(path).map_err(|e| VaultError::io(path, e))?;
        let mut dst = create_private(&staging).map_err(|e| VaultError::io(&staging, e))?;
        io::copy(&mut src, &mut dst).map_err(|e| VaultError::io(&staging, e))?;
        dst.sync_all().map_err(|e| VaultError::io(&staging, e))?;
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

/// Makes the directory entry changes (renames) durable.
fn sync_dir(path: &Path) -> Result<(), VaultError> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| VaultError::io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = path; // std cannot fsync a directory on Windows; NTFS journals the rename.
    Ok(())
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
