//! Finding the program to run, without ever letting the current directory
//! decide it.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use super::ExecError;

/// Resolves a configured program name to an absolute path.
///
/// - A name containing `/` must be absolute and name an executable regular
///   file; it is returned as given (symlinks are not resolved, so the path
///   the user wrote is the one that is audited).
/// - Otherwise each `PATH` entry is tried in order. Only absolute entries
///   count: empty and relative entries (`.`, `bin`, the empty string, which
///   POSIX reads as the cwd) are skipped, so a file planted in whatever
///   directory keyward runs from can never shadow a real program.
/// - The first executable regular file wins; directories and files without
///   any execute bit are skipped.
pub fn resolve_program(name: &str, path_var: Option<&str>) -> Result<PathBuf, ExecError> {
    if name.is_empty() {
        return Err(ExecError::EmptyProgram);
    }
    if name.contains('/') {
        let path = PathBuf::from(name);
        if !path.is_absolute() {
            return Err(ExecError::NotAbsolute(path));
        }
        return if is_executable_file(&path) {
            Ok(path)
        } else {
            Err(ExecError::NotExecutable(path))
        };
    }
    path_var
        .unwrap_or("")
        .split(':')
        .map(Path::new)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable_file(candidate))
        .ok_or_else(|| ExecError::NotFound(name.escape_debug().to_string()))
}

/// A regular file (after following symlinks) with at least one execute bit.
/// Whether *this* user may execute it is left to the spawn, which reports a
/// clear permission error.
pub(crate) fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
