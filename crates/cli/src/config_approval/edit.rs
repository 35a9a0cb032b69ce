//! The CLI's own edits of keyward.toml (`service add/rm`, `servers
//! add/rm`, `import`, `import --undo`) approve themselves when the human
//! gives the passphrase — but only when the file before the edit was the
//! approved one. An edit on top of unapproved changes is written, and the
//! whole file then waits for `keyward config approve`: a CLI edit never
//! launders what someone else changed.
//!
//! Use: [`begin`] before the file is written (a wrong passphrase stops the
//! command there, with nothing changed), [`ConfigEdit::finish`] after it
//! was written. Dropping the guard (the edit failed) approves nothing.

use keyward_config::Paths;
use keyward_vault::Vault;

use super::{Store, human_passphrase, is_wrong_passphrase, open_as_human, record, record_refusal};
use crate::env::ProcessEnv;
use crate::error::CliError;

/// An edit of keyward.toml in progress.
#[must_use = "call finish() once the edit is written"]
pub(crate) struct ConfigEdit {
    paths: Paths,
    by: &'static str,
    /// keyward.toml before the edit.
    before: Option<String>,
    state: State,
}

enum State {
    /// The file was the approved one and the passphrase is right.
    Approving(Box<Vault>),
    /// The file already had changes nobody approved (why, for the user).
    Unapproved(String),
    /// No passphrase: the edit is written, approval waits.
    NoPassphrase,
}

/// Before an edit by command `by` (`keyward service add`). Call it before
/// the edit reads keyward.toml.
pub(crate) fn begin(
    paths: &Paths,
    env: &ProcessEnv,
    by: &'static str,
) -> Result<ConfigEdit, CliError> {
    let read = || std::fs::read_to_string(paths.config_file()).ok();
    let before = read();
    let state = match Store::new(paths).read()? {
        None => State::Unapproved("nothing was ever approved in this keyward home".into()),
        Some(a) if before.as_deref() == Some(a.text.as_str()) => {
            match human_passphrase(
                env,
                "Vault passphrase to approve this change to keyward.toml (Enter: leave it for `keyward config approve`): ",
            )? {
                None => State::NoPassphrase,
                Some(pass) => {
                    let vault = open_as_human(paths, env, &pass).inspect_err(|e| {
                        if is_wrong_passphrase(e) {
                            record_refusal(paths, by);
                        }
                    })?;
                    match a.check(&vault) {
                        Err(problem) => State::Unapproved(format!(
                            "the approved copy is not trusted: {problem}"
                        )),
                        // Asking may have taken a while: read it again.
                        Ok(()) if read() != before => State::Unapproved(
                            "keyward.toml changed while the passphrase was asked for".into(),
                        ),
                        Ok(()) => State::Approving(Box::new(vault)),
                    }
                }
            }
        }
        Some(_) => {
            State::Unapproved("keyward.toml already differed from the approved config".into())
        }
    };
    Ok(ConfigEdit {
        paths: paths.clone(),
        by,
        before,
        state,
    })
}

impl ConfigEdit {
    /// keyward.toml as [`begin`] read it.
    pub(crate) fn before(&self) -> Option<&str> {
        self.before.as_deref()
    }

    /// After the edit wrote `written` to keyward.toml: approves exactly
    /// that text (not what the file holds by now), or says why not. `base`
    /// is the text the edit started from (as it loaded the file): if that
    /// is not what was checked as approved, someone changed the file in
    /// between, and nothing is approved.
    pub(crate) fn finish(mut self, base: &str, written: &str) -> Result<(), CliError> {
        if self.before.as_deref() == Some(written) {
            return Ok(());
        }
        if matches!(self.state, State::Approving(_)) && self.before.as_deref() != Some(base) {
            self.state = State::Unapproved("keyward.toml changed while this command ran".into());
        }
        match self.state {
            State::Approving(vault) => {
                // Every edit validates the whole file before writing it;
                // checked again because this is what gets approved.
                keyward_config::Config::parse(written, &self.paths.config_file())?;
                // Commands whose program is unchanged keep their pins: an
                // edit does not accept a changed binary unseen.
                let previous = Store::new(&self.paths)
                    .read()?
                    .and_then(|a| a.programs(&vault).ok());
                let pins = super::pin_programs(written, previous.as_ref());
                record(&self.paths, &vault, written, self.by, &pins)?;
                println!("approved: `keyward serve` uses this keyward.toml from its next start");
            }
            State::Unapproved(why) => eprintln!(
                "note: this change is NOT approved: {why}. The edit is written; the whole file now \
                 waits for review: `keyward config diff`, then `keyward config approve`"
            ),
            State::NoPassphrase => eprintln!(
                "note: this change is not approved yet (approving needs the vault passphrase: set \
                 KEYWARD_PASSPHRASE or run in a terminal); `keyward serve` keeps the last approved \
                 config until `keyward config approve`"
            ),
        }
        Ok(())
    }
}
