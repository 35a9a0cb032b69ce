//! New private files and directories, and the writers' lock file.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Step, at};
use crate::write::{create_exclusive, set_mode, split, sync_dir};

/// Creates `path` with `bytes`, mode 0600, failing with
/// [`std::io::ErrorKind::AlreadyExists`] if anything (even a dangling
/// symlink) is there. Written in place, with no temp file (for a secret
/// that must exist in one file only, such as a key file); on an error the
/// partial file is removed. The file and its directory are fsynced.
pub fn create_new_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let (dir, _) = split(path)?;
    let mut file = create_exclusive(path).map_err(at(Step::Create, path))?;
    let written = set_mode(&file, 0o600)
        .map_err(at(Step::SetMode, path))
        .and_then(|()| file.write_all(bytes).map_err(at(Step::Write, path)))
        .and_then(|()| file.sync_all().map_err(at(Step::Sync, path)));
    if written.is_err() {
        drop(file);
        let _ = fs::remove_file(path);
    }
    written?;
    sync_dir(&dir)
}

/// Creates `dir` and its missing parents with mode 0700 (less what the
/// umask removes); existing directories are left as they are.
pub fn create_private_dir(dir: &Path) -> Result<(), Error> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(at(Step::CreateDir, dir))
}

/// [`create_private_dir`], then sets `dir` itself to exactly 0700 even if
/// it existed with a looser mode.
pub fn ensure_private_dir(dir: &Path) -> Result<(), Error> {
    create_private_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(at(Step::SetMode, dir))?;
    }
    Ok(())
}

/// An exclusive OS lock (`flock` on unix) on a lock file, released when
/// dropped (closing the descriptor releases it, also when the process
/// dies).
#[derive(Debug)]
#[must_use = "the lock is released when this is dropped"]
pub struct LockFile {
    _file: File,
}

/// Opens (creating, mode 0600) the lock file `path` and waits for an
/// exclusive lock on it. The lock file is never deleted: deleting it would
/// let two writers lock two different inodes.
pub fn lock_exclusive(path: &Path) -> Result<LockFile, Error> {
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let file = opts.open(path).map_err(at(Step::Lock, path))?;
    file.lock().map_err(at(Step::Lock, path))?;
    Ok(LockFile { _file: file })
}
