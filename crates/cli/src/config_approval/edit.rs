//! A CLI edit of keyward.toml and its approval (see
//! [`keyward_approved::edit`] for what an edit may approve): the
//! passphrase asked for when it could approve the edit, and the outcome
//! said.
//!
//! Use: [`begin`] before the file is written (a wrong passphrase stops the
//! command there, with nothing changed), [`ConfigEdit::finish`] after it
//! was written. Dropping the guard (the edit failed) approves nothing.

use keyward_approved::edit::{self as approved_edit, Begin, Finished};
use keyward_approved::record_refusal;
use keyward_config::Paths;

use super::{human_passphrase, is_wrong_passphrase, open_as_human, warn_not_pinned};
use crate::env::ProcessEnv;
use crate::error::CliError;

/// An edit of keyward.toml in progress.
#[must_use = "call finish() once the edit is written"]
pub(crate) struct ConfigEdit(approved_edit::ConfigEdit);

/// Before an edit by command `by` (`keyward service add`). Call it before
/// the edit reads keyward.toml.
pub(crate) fn begin(
    paths: &Paths,
    env: &ProcessEnv,
    by: &'static str,
) -> Result<ConfigEdit, CliError> {
    let asking = match approved_edit::begin(paths, by)? {
        Begin::Decided(edit) => return Ok(ConfigEdit(edit)),
        Begin::Ask(asking) => asking,
    };
    let edit = match human_passphrase(
        env,
        "Vault passphrase to approve this change to keyward.toml (Enter: leave it for `keyward config approve`): ",
    )? {
        None => asking.without_passphrase(),
        Some(pass) => {
            let vault = open_as_human(paths, env, &pass).inspect_err(|e| {
                if is_wrong_passphrase(e) {
                    record_refusal(paths, by);
                }
            })?;
            asking.with_vault(vault)
        }
    };
    Ok(ConfigEdit(edit))
}

impl ConfigEdit {
    /// keyward.toml as [`begin`] read it.
    pub(crate) fn before(&self) -> Option<&str> {
        self.0.before()
    }

    /// After the edit wrote `written` to keyward.toml, from `base` (the
    /// text it loaded): approves exactly `written`, or says why not.
    pub(crate) fn finish(self, base: &str, written: &str) -> Result<(), CliError> {
        let path_var = std::env::var("PATH").ok();
        match self.0.finish(base, written, path_var.as_deref())? {
            Finished::Unchanged => {}
            Finished::Approved { not_pinned } => {
                warn_not_pinned(&not_pinned);
                println!("approved: `keyward serve` uses this keyward.toml from its next start");
            }
            Finished::NotApproved(why) => eprintln!(
                "note: this change is NOT approved: {why}. The edit is written; the whole file now \
                 waits for review: `keyward config diff`, then `keyward config approve`"
            ),
            Finished::NoPassphrase => eprintln!(
                "note: this change is not approved yet (approving needs the vault passphrase: set \
                 KEYWARD_PASSPHRASE or run in a terminal); `keyward serve` keeps the last approved \
                 config until `keyward config approve`"
            ),
        }
        Ok(())
    }
}
