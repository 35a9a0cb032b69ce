//! The process environment, read once at start-up. Library crates receive
//! what they need from here; none of them reads the environment itself.

use std::path::PathBuf;

use keyward_vault::{EnvSource, SecretValue};

pub(crate) struct ProcessEnv {
    pub(crate) home: Option<PathBuf>,
    pub(crate) key_file: Option<PathBuf>,
    pub(crate) passphrase: Option<SecretValue>,
    /// `KEYWARD_NO_KEYCHAIN=1`: never consult the OS credential store.
    pub(crate) no_keychain: bool,
    pub(crate) log: Option<String>,
}

impl ProcessEnv {
    pub(crate) fn capture() -> ProcessEnv {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        ProcessEnv {
            home: var("KEYWARD_HOME").map(PathBuf::from),
            key_file: var("KEYWARD_VAULT_KEY_FILE").map(PathBuf::from),
            passphrase: std::env::var("KEYWARD_PASSPHRASE")
                .ok()
                .filter(|p| !p.is_empty())
                .map(|p| SecretValue::new(p.into_bytes())),
            no_keychain: var("KEYWARD_NO_KEYCHAIN").is_some_and(|v| v != "0"),
            log: std::env::var("KEYWARD_LOG").ok(),
        }
    }
}

/// `env://` references resolve against the live process environment.
impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}
