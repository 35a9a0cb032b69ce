//! `keyward init` and approval: the config written (or found) when the
//! vault is created is approved then, by the human who just chose the
//! passphrase. An existing vault is never a reason to approve anything.

use keyward_config::{Config, Paths};
use keyward_vault::Vault;

use super::{Store, diff, record};
use crate::error::CliError;

/// Right after `vault` was created: approves keyward.toml as it is, if it
/// is valid.
pub(crate) fn approve_initial(paths: &Paths, vault: &Vault) -> Result<(), CliError> {
    let file = paths.config_file();
    let text = std::fs::read_to_string(&file).map_err(|source| {
        CliError::Config(keyward_config::ConfigError::Read {
            path: file.clone(),
            source,
        })
    })?;
    if let Err(e) = Config::parse(&text, &file) {
        println!(
            "note: keyward.toml is not valid, so it is not approved: {}; fix it, then `keyward config approve`",
            diff::printable(&e.to_string())
        );
        return Ok(());
    }
    let pins = super::pin_programs(&text, None);
    record(paths, vault, &text, "keyward init", &pins)?;
    println!(
        "approved keyward.toml: `keyward serve` runs it; later changes take effect after `keyward config approve`"
    );
    Ok(())
}

/// `keyward init` in a home whose vault exists: only says when nothing
/// has been approved yet (a home made before config approval).
pub(crate) fn note_unapproved(paths: &Paths) -> Result<(), CliError> {
    if Store::new(paths).read()?.is_none() {
        println!(
            "note: keyward.toml has not been approved in this keyward home yet, so `keyward serve` \
             refuses to start: review it, then run `keyward config approve`"
        );
    }
    Ok(())
}
