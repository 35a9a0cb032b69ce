//! `keyward_fsio` (the one way keyward writes a file) in the CLI's words:
//! the messages name the path the user knows, then the OS error.

use std::path::Path;

use crate::error::CliError;

/// `cannot write PATH: <OS error>`.
pub(crate) fn cannot_write(path: &Path) -> impl FnOnce(keyward_fsio::Error) -> CliError + '_ {
    move |e| CliError::msg(format!("cannot write {}: {}", path.display(), e.into_io()))
}

/// Creates `dir` (and parents) with mode 0700 if it is missing.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    keyward_fsio::create_private_dir(dir)
        .map_err(|e| CliError::msg(format!("cannot create {}: {}", dir.display(), e.into_io())))
}

/// Replaces `path` atomically with `bytes`, mode 0600.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    keyward_fsio::write_private(path, bytes).map_err(cannot_write(path))
}
