//! The private `HOME` a command runs with (SECURITY.md item 10): a fresh
//! directory for each run, created empty (mode 0700, a random name, so it
//! cannot be prepared ahead) and removed when the run ends. Dotfiles the
//! agent wrote in the real home (`~/.gitconfig`, `~/.npmrc`,
//! `~/.config/gh/`) are never read by it.

use std::path::{Path, PathBuf};

/// One run's home; removed (with whatever the program left there) on drop.
#[derive(Debug)]
pub struct PrivateHome(tempfile::TempDir);

impl PrivateHome {
    /// A new, empty directory under `root` (created 0700 if missing).
    pub fn create(root: &Path, command: &str) -> std::io::Result<PrivateHome> {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(root)?;
        let prefix: String = command
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        tempfile::Builder::new()
            .prefix(&format!("{prefix}."))
            .rand_bytes(12)
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir_in(root)
            .map(PrivateHome)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn to_path_buf(&self) -> PathBuf {
        self.0.path().to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn each_run_gets_an_empty_private_home_that_is_removed_after() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().join("exec-home");
        let a = PrivateHome::create(&root, "git").unwrap();
        let b = PrivateHome::create(&root, "git").unwrap();
        assert_ne!(a.path(), b.path());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(a.path()), 0o700);
        assert_eq!(std::fs::read_dir(a.path()).unwrap().count(), 0);
        std::fs::write(a.path().join(".gitconfig"), "x").unwrap();
        let gone = a.to_path_buf();
        drop(a);
        assert!(!gone.exists());
        assert!(b.path().exists());
    }
}
