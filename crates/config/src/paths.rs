use std::path::{Path, PathBuf};

use crate::ConfigError;

/// Where keyward keeps its files. `KEYWARD_HOME` puts all of them in one
/// directory; otherwise the platform's config and data directories are used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
}

impl Paths {
    /// `home` is the value of `KEYWARD_HOME`, passed in by the binary so
    /// that library code never reads the process environment.
    pub fn resolve(home: Option<PathBuf>) -> Result<Paths, ConfigError> {
        if let Some(home) = home.filter(|h| !h.as_os_str().is_empty()) {
            return Ok(Paths::in_dir(&home));
        }
        let dirs = directories::ProjectDirs::from("", "", "keyward").ok_or(ConfigError::NoHome)?;
        Ok(Paths {
            config_dir: dirs.config_dir().to_path_buf(),
            data_dir: dirs.data_dir().to_path_buf(),
        })
    }

    pub fn in_dir(dir: &Path) -> Paths {
        Paths {
            config_dir: dir.to_path_buf(),
            data_dir: dir.to_path_buf(),
        }
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("keyward.toml")
    }

    pub fn vault_file(&self) -> PathBuf {
        self.data_dir.join("vault.kw")
    }

    pub fn audit_file(&self) -> PathBuf {
        self.data_dir.join("audit.jsonl")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyward_home_holds_everything() {
        let p = Paths::resolve(Some(PathBuf::from("/tmp/kw"))).unwrap();
        assert_eq!(p.config_file(), PathBuf::from("/tmp/kw/keyward.toml"));
        assert_eq!(p.vault_file(), PathBuf::from("/tmp/kw/vault.kw"));
        assert_eq!(p.audit_file(), PathBuf::from("/tmp/kw/audit.jsonl"));
    }

    #[test]
    fn empty_home_falls_back_to_platform_dirs() {
        let p = Paths::resolve(Some(PathBuf::new())).unwrap();
        assert!(p.config_file().ends_with("keyward.toml"));
        assert_ne!(p.config_dir, PathBuf::new());
    }
}
