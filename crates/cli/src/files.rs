//! `keyward_fsio` (the one way keyward writes a file) in the CLI's words:
//! the messages name the path the user knows, then the OS error.

use std::path::Path;

use crate::error::CliError;

/// Creates `dir` (and parents) with mode 0700 if it is missing.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    keyward_fsio::create_private_dir(dir)
        .map_err(|e| CliError::msg(format!("cannot create {}: {}", dir.display(), e.into_io())))
}
