//! The `PATH` a command sees and is found in (SECURITY.md item 10): only
//! directories the user cannot write without privileges, so that the
//! agent, running as the same user, cannot put a `git` of its own ahead of
//! the real one (`~/.local/bin`, `~/.cargo/bin`, a shim directory).
//!
//! A directory is kept when its canonical path, and every directory above
//! it, is owned by root or by another user than keyward's, and is neither
//! group- nor world-writable. The kept entries are passed on in their
//! canonical form, so a symlink in a writable place cannot be re-pointed
//! after the check. ACLs are not read: a directory opened to this user
//! only through an ACL counts as safe.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use super::ExecError;
use super::resolve::{is_executable_file, resolve_program};

/// Used when keyward itself has no `PATH`.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The `PATH` entries that survived, in order, canonical and without
/// duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SafePath {
    pub dirs: Vec<PathBuf>,
}

impl SafePath {
    /// The entries of `path_var` (or [`DEFAULT_PATH`]) that are safe.
    pub fn of(path_var: Option<&str>) -> SafePath {
        let mut dirs: Vec<PathBuf> = Vec::new();
        for entry in path_var.unwrap_or(DEFAULT_PATH).split(':') {
            let entry = Path::new(entry);
            if !entry.is_absolute() {
                continue;
            }
            if let Ok(dir) = safe_dir(entry)
                && !dirs.contains(&dir)
            {
                dirs.push(dir);
            }
        }
        SafePath { dirs }
    }

    /// The value for the child's `PATH`.
    pub fn joined(&self) -> String {
        self.dirs
            .iter()
            .map(|d| d.to_string_lossy())
            .collect::<Vec<_>>()
            .join(":")
    }
}

/// Resolves a command's program: a bare name only in the safe part of
/// `path_var`, an absolute path as given (the human wrote it; its hash is
/// pinned). A bare name found only in a directory the user can write is
/// [`ExecError::OnlyInWritableDir`], which says how to name it instead.
pub fn resolve_command_program(name: &str, path_var: Option<&str>) -> Result<PathBuf, ExecError> {
    if name.contains('/') {
        return resolve_program(name, None);
    }
    let safe = SafePath::of(path_var);
    match resolve_program(name, Some(&safe.joined())) {
        Ok(p) => Ok(p),
        Err(ExecError::NotFound(_)) => {
            // Say where it is, so the human can name it by absolute path.
            match resolve_program(name, path_var) {
                Ok(found) if is_executable_file(&found) => {
                    Err(ExecError::OnlyInWritableDir { found })
                }
                _ => Err(ExecError::NotFound(name.escape_debug().to_string())),
            }
        }
        Err(e) => Err(e),
    }
}

/// Why a directory is not safe, or its canonical path.
pub fn safe_dir(dir: &Path) -> Result<PathBuf, &'static str> {
    let canonical = std::fs::canonicalize(dir).map_err(|_| "does not exist")?;
    let me = nix::unistd::geteuid().as_raw();
    for (i, d) in canonical.ancestors().enumerate() {
        let meta = std::fs::metadata(d).map_err(|_| "cannot be read")?;
        if i == 0 && !meta.is_dir() {
            return Err("is not a directory");
        }
        if meta.uid() == me && me != 0 {
            return Err("is owned by this user");
        }
        if meta.mode() & 0o022 != 0 {
            return Err("is writable by its group or by everyone");
        }
    }
    Ok(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn is_root() -> bool {
        nix::unistd::geteuid().is_root()
    }

    #[test]
    fn system_directories_are_kept_and_writable_ones_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        // Under /tmp (world-writable) or owned by this user: unsafe.
        assert!(safe_dir(tmp.path()).is_err());
        let open = tmp.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(safe_dir(&open).is_err());
        if Path::new("/usr/bin").exists() {
            let kept = SafePath::of(Some(&format!(
                "{}:relative:/usr/bin:/no/such/dir:/usr/bin",
                tmp.path().display()
            )));
            assert_eq!(kept.dirs, [std::fs::canonicalize("/usr/bin").unwrap()]);
        }
        if !is_root() {
            let home = std::env::var("HOME").unwrap_or_default();
            if !home.is_empty() {
                assert!(safe_dir(Path::new(&home)).is_err(), "the user's own home");
            }
        }
    }

    #[test]
    fn a_user_writable_path_dir_cannot_shadow_a_program() {
        let tmp = tempfile::tempdir().unwrap();
        let fake = tmp.path().join("sh");
        std::fs::write(&fake, "#!/bin/sh\necho shadowed\n").unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = format!("{}:/usr/bin:/bin", tmp.path().display());
        let got = resolve_command_program("sh", Some(&path)).unwrap();
        assert_ne!(got.parent(), Some(tmp.path()));
        // Only there: refused, saying where it is.
        let only = std::fs::canonicalize(tmp.path()).unwrap();
        let only = only.join("kw-only-here");
        std::fs::write(&only, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&only, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = resolve_command_program("kw-only-here", Some(&path)).unwrap_err();
        assert!(
            matches!(&err, ExecError::OnlyInWritableDir { found } if *found == tmp.path().join("kw-only-here")),
            "{err}"
        );
        assert!(err.to_string().contains("absolute path"), "{err}");
        // Named by absolute path, it is the human's choice.
        assert_eq!(
            resolve_command_program(only.to_str().unwrap(), Some("/usr/bin")).unwrap(),
            only
        );
    }
}
