//! [`Secrets`]: one consistent generation of every resolved value.

use std::collections::BTreeMap;

use keyward_connectors::http::Credential;
use keyward_redact::Scrubber;
use keyward_vault::SecretValue;

/// The credentials, command environments and scrubber of one generation.
/// Replaced whole; a call keeps the `Arc` it loaded.
pub struct Secrets {
    pub(crate) generation: u64,
    pub(crate) credentials: BTreeMap<String, Credential>,
    pub(crate) command_env: BTreeMap<String, Vec<(String, SecretValue)>>,
    pub(crate) scrubber: Scrubber,
}

impl Secrets {
    /// Counts up by one each time a value changed.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn credential(&self, service: &str) -> Option<&Credential> {
        self.credentials.get(service)
    }

    pub fn command_env(&self, command: &str) -> &[(String, SecretValue)] {
        self.command_env.get(command).map_or(&[], Vec::as_slice)
    }

    pub fn scrubber(&self) -> &Scrubber {
        &self.scrubber
    }
}

/// Names and counts only.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("generation", &self.generation)
            .field("credentials", &self.credentials.keys().collect::<Vec<_>>())
            .field("scrubber", &self.scrubber)
            .finish_non_exhaustive()
    }
}
