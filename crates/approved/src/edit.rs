//! The CLI's own edits of keyward.toml (`service add/rm`, `servers
//! add/rm`, `import`, `import --undo`) approve themselves when the human
//! gives the passphrase — but only when the file before the edit was the
//! approved one. An edit on top of unapproved changes is written, and the
//! whole file then waits for `keyward config approve`: a CLI edit never
//! launders what someone else changed.
//!
//! Use: [`begin`] before the edit reads keyward.toml. When it answers
//! [`Begin::Ask`], the passphrase can approve the edit: the caller asks
//! for it and opens the vault with it ([`Asking::with_vault`]; a wrong
//! passphrase stops the command there, with nothing changed), or goes on
//! without ([`Asking::without_passphrase`]). [`ConfigEdit::finish`] comes
//! after the edit was written. Dropping the edit (it failed) approves
//! nothing.

use keyward_config::{Config, Paths};
use keyward_vault::Vault;

use crate::error::ApprovedError;
use crate::programs::{self, NotPinned};
use crate::record::record;
use crate::store::{Approved, SealProblem, Store};

/// An edit of keyward.toml in progress.
#[must_use = "call finish() once the edit is written"]
pub struct ConfigEdit {
    paths: Paths,
    by: &'static str,
    /// keyward.toml before the edit.
    before: Option<String>,
    state: State,
}

enum State {
    /// The file was the approved one and the passphrase is right.
    Approving(Box<Vault>),
    /// The file already had changes nobody approved.
    Unapproved(NotApproved),
    /// No passphrase: the edit is written, approval waits.
    NoPassphrase,
}

/// Why an edit is not approved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotApproved {
    #[error("nothing was ever approved in this keyward home")]
    NothingApproved,
    #[error("keyward.toml already differed from the approved config")]
    AlreadyDiffered,
    #[error("the approved copy is not trusted: {0}")]
    Untrusted(SealProblem),
    #[error("keyward.toml changed while the passphrase was asked for")]
    ChangedWhileAsking,
    #[error("keyward.toml changed while this command ran")]
    ChangedWhileRunning,
}

/// What [`begin`] found.
#[must_use]
pub enum Begin {
    /// keyward.toml is the approved config: the passphrase would approve
    /// the edit.
    Ask(Asking),
    /// The edit will not be approved, whatever happens.
    Decided(ConfigEdit),
}

/// An edit that the passphrase can approve.
#[must_use]
pub struct Asking {
    edit: ConfigEdit,
    /// The approved copy, as [`begin`] found it equal to keyward.toml.
    approved: Approved,
}

/// What [`ConfigEdit::finish`] did. Exhaustive: the binary says each.
#[derive(Debug)]
pub enum Finished {
    /// The edit wrote what was there already.
    Unchanged,
    /// What the edit wrote is approved; these commands' programs could
    /// not be pinned (they will be refused).
    Approved { not_pinned: Vec<NotPinned> },
    /// The edit is written, not approved.
    NotApproved(NotApproved),
    /// No passphrase was given: the edit is written, approval waits.
    NoPassphrase,
}

fn read(paths: &Paths) -> Option<String> {
    std::fs::read_to_string(paths.config_file()).ok()
}

/// Before an edit by command `by` (`keyward service add`). Call it before
/// the edit reads keyward.toml.
pub fn begin(paths: &Paths, by: &'static str) -> Result<Begin, ApprovedError> {
    let before = read(paths);
    let edit = |state| ConfigEdit {
        paths: paths.clone(),
        by,
        before: before.clone(),
        state,
    };
    Ok(match Store::new(paths).read()? {
        None => Begin::Decided(edit(State::Unapproved(NotApproved::NothingApproved))),
        Some(a) if before.as_deref() == Some(a.text.as_str()) => Begin::Ask(Asking {
            edit: edit(State::NoPassphrase),
            approved: a,
        }),
        Some(_) => Begin::Decided(edit(State::Unapproved(NotApproved::AlreadyDiffered))),
    })
}

impl Asking {
    /// No passphrase was given: the edit is written, approval waits.
    pub fn without_passphrase(self) -> ConfigEdit {
        self.edit
    }

    /// `vault` was opened by the human's passphrase (checked by the
    /// caller): the edit is approved if the approved copy is trusted and
    /// keyward.toml did not change while the passphrase was asked for.
    pub fn with_vault(self, vault: Vault) -> ConfigEdit {
        let mut edit = self.edit;
        edit.state = match self.approved.check(&vault) {
            Err(problem) => State::Unapproved(NotApproved::Untrusted(problem)),
            // Asking may have taken a while: read it again.
            Ok(()) if read(&edit.paths) != edit.before => {
                State::Unapproved(NotApproved::ChangedWhileAsking)
            }
            Ok(()) => State::Approving(Box::new(vault)),
        };
        edit
    }
}

impl ConfigEdit {
    /// keyward.toml as [`begin`] read it.
    pub fn before(&self) -> Option<&str> {
        self.before.as_deref()
    }

    /// After the edit wrote `written` to keyward.toml: approves exactly
    /// that text (not what the file holds by now), with its new programs
    /// looked up on `path_var`, or says why not. `base` is the text the
    /// edit started from (as it loaded the file): if that is not what was
    /// checked as approved, someone changed the file in between, and
    /// nothing is approved.
    pub fn finish(
        mut self,
        base: &str,
        written: &str,
        path_var: Option<&str>,
    ) -> Result<Finished, ApprovedError> {
        if self.before.as_deref() == Some(written) {
            return Ok(Finished::Unchanged);
        }
        if matches!(self.state, State::Approving(_)) && self.before.as_deref() != Some(base) {
            self.state = State::Unapproved(NotApproved::ChangedWhileRunning);
        }
        match self.state {
            State::Approving(vault) => {
                // Every edit validates the whole file before writing it;
                // checked again because this is what gets approved.
                Config::parse(written, &self.paths.config_file())?;
                // Commands whose program is unchanged keep their pins: an
                // edit does not accept a changed binary unseen.
                let previous = Store::new(&self.paths)
                    .read()?
                    .and_then(|a| a.programs(&vault).ok());
                let (pins, not_pinned) = programs::pin(written, previous.as_ref(), path_var);
                record(&self.paths, &vault, written, self.by, &pins)?;
                Ok(Finished::Approved { not_pinned })
            }
            State::Unapproved(why) => Ok(Finished::NotApproved(why)),
            State::NoPassphrase => Ok(Finished::NoPassphrase),
        }
    }
}
