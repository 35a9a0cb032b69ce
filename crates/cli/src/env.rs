//! The process environment, read once at start-up. Library crates receive
//! what they need from here; none of them reads the environment itself.

use std::ffi::OsString;
use std::path::PathBuf;

use keyward_vault::{EnvSource, SecretValue};

/// keyward's own variables that hold the vault passphrase or lead to the
/// vault key. `keyward run` never passes them on to the program it starts.
pub(crate) const OWN_SECRET_VARS: &[&str] = &["KEYWARD_PASSPHRASE", "KEYWARD_VAULT_KEY_FILE"];

pub(crate) struct ProcessEnv {
    pub(crate) home: Option<PathBuf>,
    pub(crate) key_file: Option<PathBuf>,
    pub(crate) passphrase: Option<SecretValue>,
    /// `KEYWARD_NO_KEYCHAIN=1`: never consult the OS credential store.
    pub(crate) no_keychain: bool,
    /// Whether `DBUS_SESSION_BUS_ADDRESS` is set (only to say why the OS
    /// credential store was unreachable).
    pub(crate) session_bus_var: bool,
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
            session_bus_var: var("DBUS_SESSION_BUS_ADDRESS").is_some(),
            log: std::env::var("KEYWARD_LOG").ok(),
        }
    }

    /// The whole environment, for `keyward run`, which passes it on to the
    /// program it starts (with references resolved).
    pub(crate) fn vars(&self) -> Vec<(OsString, OsString)> {
        std::env::vars_os().collect()
    }
}

/// `env://` references resolve against the live process environment.
impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}
