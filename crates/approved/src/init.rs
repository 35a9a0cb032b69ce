//! `keyward init` and approval: the config written (or found) when the
//! vault is created is approved then, by the human who just chose the
//! passphrase. An existing vault is never a reason to approve anything.

use keyward_config::{Config, ConfigError, Paths};
use keyward_vault::Vault;

use crate::error::ApprovedError;
use crate::programs::{self, NotPinned};
use crate::record::record;

/// What [`approve_initial`] did. Exhaustive: the binary says each.
#[derive(Debug)]
pub enum Initial {
    /// keyward.toml is approved; these commands' programs could not be
    /// pinned (they will be refused).
    Approved { not_pinned: Vec<NotPinned> },
    /// keyward.toml is not valid, so it is not approved.
    Invalid(ConfigError),
}

/// Right after `vault` was created: approves keyward.toml as it is, if it
/// is valid, with its programs looked up on `path_var`.
pub fn approve_initial(
    paths: &Paths,
    vault: &Vault,
    path_var: Option<&str>,
) -> Result<Initial, ApprovedError> {
    let file = paths.config_file();
    let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Read {
        path: file.clone(),
        source,
    })?;
    if let Err(e) = Config::parse(&text, &file) {
        return Ok(Initial::Invalid(e));
    }
    let (pins, not_pinned) = programs::pin(&text, None, path_var);
    record(paths, vault, &text, "keyward init", &pins)?;
    Ok(Initial::Approved { not_pinned })
}
