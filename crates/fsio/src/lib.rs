//! keyward's one way to write a file: the vault, the approved config and
//! its seal, tool pins, agent tokens, the run file, the lock marker,
//! keyward.toml edits and import's rewrites of client configs all go
//! through here.
//!
//! [`write`] (and [`write_private`], mode 0600):
//! 1. create `.<name>.tmp-<12 hex>` beside the target with `O_EXCL`, mode
//!    0600 from the start (never an existing file, never through a
//!    symlink), then set its final mode on the open file, so the umask
//!    cannot change it;
//! 2. write the bytes and `fsync` the file;
//! 3. rename it over the target (a symlink there is replaced, not
//!    followed);
//! 4. `fsync` the directory, so the rename survives a crash.
//!
//! Readers need no lock: rename is atomic, so they see the old file or the
//! new one, never a part (SECURITY.md item 9). On an error before the
//! rename the old file is untouched and the temp file is removed; a crash
//! can leave a temp file, which holds only the new contents.
//!
//! [`stage`] and [`Staged::commit`] split the write for a caller with a
//! step of its own before the rename (the vault keeps its previous
//! generation). [`create_new_private`] writes a file that must not exist
//! yet, in place; [`create_private_dir`] makes 0700 directories;
//! [`lock_exclusive`] is the writers' lock file.
//!
//! This crate depends on no other keyward crate; each caller maps [`Error`]
//! (the step, the path, the OS error) into its own error type.

mod create;
mod error;
mod write;

#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use create::{
    LockFile, create_new_private, create_private_dir, ensure_private_dir, lock_exclusive,
};
pub use error::{Error, Step};
pub use write::{Mode, Staged, stage, write, write_private};

/// `<path><suffix>`, in the same directory (`vault.kw` → `vault.kw.lock`).
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
