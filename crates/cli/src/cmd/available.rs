//! Whether a configured target's secret references resolve now: what
//! `keyward serve` would find at start-up, for the listings (`service
//! list`, `servers list`) and the warnings of `service add` / `servers
//! add`. A reference that does not resolve makes only its own service,
//! server or command unavailable. Never prompts: without a way to open
//! the vault unasked, nothing is said.

use keyward_config::{Config, ServerTransport};
use keyward_vault::{Resolver, SecretRef, Vault};

use crate::env::ProcessEnv;
use crate::unlock::{Prompt, unlock};

/// The vault, if it opens without asking anyone.
pub(crate) fn open_vault(paths: &keyward_config::Paths, env: &ProcessEnv) -> Option<Vault> {
    unlock(paths, env, Prompt::Never).ok()
}

/// The references each kind of target uses.
pub(crate) fn service_refs<'c>(config: &'c Config, name: &str) -> Vec<&'c SecretRef> {
    config
        .services
        .get(name)
        .and_then(|s| s.auth.secret())
        .into_iter()
        .collect()
}

pub(crate) fn server_refs<'c>(config: &'c Config, name: &str) -> Vec<&'c SecretRef> {
    match config.servers.get(name).map(|s| &s.transport) {
        Some(ServerTransport::Stdio { args, env, .. }) => args
            .iter()
            .chain(env.values())
            .filter_map(|v| v.secret())
            .collect(),
        Some(ServerTransport::Http { headers, .. }) => {
            headers.values().filter_map(|v| v.secret()).collect()
        }
        None => Vec::new(),
    }
}

/// Why the first of `refs` that does not resolve does not, with the fix
/// (the reference is named, its value never shown).
pub(crate) fn unresolved(
    config: &Config,
    vault: &Vault,
    env: &ProcessEnv,
    refs: &[&SecretRef],
) -> Option<String> {
    let resolver = Resolver::new(Some(vault), env).with_backends(config.backends.vault.as_ref());
    refs.iter()
        .find_map(|r| resolver.resolve(r).err().map(|e| e.to_string()))
}
