//! What keyward.toml is compared with when the human reviews it (`keyward
//! config diff`, `keyward config approve`): the approved text only when it
//! can be trusted. An approved copy that fails its seal is no base at all
//! — the whole file is shown as new — since the agent could have edited
//! the copy to hide its change from the diff.
//!
//! [`Proposal`]: what `keyward config approve` would record, shown before
//! the passphrase is asked for.

use keyward_vault::Vault;

use crate::programs::{self, NotPinned, Programs};
use crate::store::{Approved, SealProblem};

/// The base of a review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base<'a> {
    /// Nothing was ever approved here: everything is new.
    NothingApproved,
    /// The approved copy fails its seal: everything is new.
    Untrusted(SealProblem),
    /// The approved text, its seal checked.
    Trusted(&'a str),
    /// The approved text; the vault is locked, so its seal was not checked.
    Unchecked(&'a str),
}

impl<'a> Base<'a> {
    /// The base for `approved`; `vault` is `None` when it is locked.
    pub fn of(approved: Option<&'a Approved>, vault: Option<&Vault>) -> Base<'a> {
        let Some(a) = approved else {
            return Base::NothingApproved;
        };
        match vault.map(|v| a.check(v)) {
            Some(Err(problem)) => Base::Untrusted(problem),
            Some(Ok(())) => Base::Trusted(&a.text),
            None => Base::Unchecked(&a.text),
        }
    }

    /// The text to compare with (empty when there is none).
    pub fn text(&self) -> &'a str {
        match self {
            Base::NothingApproved | Base::Untrusted(_) => "",
            Base::Trusted(t) | Base::Unchecked(t) => t,
        }
    }
}

/// Whether keyward.toml is the config `keyward serve` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// keyward.toml is the approved text (its seal checked, or the vault
    /// locked so that it could not be).
    Approved,
    /// keyward.toml differs from the approved text by these lines: the
    /// difference is not served until `keyward config approve`.
    Changed(crate::diff::Stats),
    /// Nothing was ever approved here: `keyward serve` refuses to start.
    NothingApproved,
    /// The approved copy fails its seal: `keyward serve` refuses to start.
    Untrusted(SealProblem),
}

impl Standing {
    /// The standing of `current` (keyward.toml's text) against `approved`;
    /// `vault` is `None` when it is locked.
    pub fn of(approved: Option<&Approved>, vault: Option<&Vault>, current: &str) -> Standing {
        match Base::of(approved, vault) {
            Base::NothingApproved => Standing::NothingApproved,
            Base::Untrusted(problem) => Standing::Untrusted(problem),
            Base::Trusted(text) | Base::Unchecked(text) if text == current => Standing::Approved,
            Base::Trusted(text) | Base::Unchecked(text) => {
                Standing::Changed(crate::diff::unified(text, current, "", "").1)
            }
        }
    }
}

/// Approving `current` as `keyward config approve` does: the base it is
/// shown against, and its programs pinned now (a changed or shadowing
/// binary is accepted here, so the pins are shown before the passphrase).
#[derive(Debug)]
pub struct Proposal<'a> {
    pub base: Base<'a>,
    /// The pins that approving records.
    pub pins: Programs,
    /// Commands whose program could not be pinned (they will be refused).
    pub not_pinned: Vec<NotPinned>,
    /// The pins approved with the base, when it is trusted and they are.
    old_pins: Option<Programs>,
}

impl<'a> Proposal<'a> {
    /// `vault` is open; the programs are looked up on `path_var`.
    pub fn new(
        approved: Option<&'a Approved>,
        vault: &Vault,
        current: &str,
        path_var: Option<&str>,
    ) -> Proposal<'a> {
        let base = Base::of(approved, Some(vault));
        let old_pins = approved
            .filter(|_| matches!(base, Base::Trusted(_)))
            .and_then(|a| a.programs(vault).ok());
        let (pins, not_pinned) = programs::pin(current, None, path_var);
        Proposal {
            base,
            pins,
            not_pinned,
            old_pins,
        }
    }

    /// One line per command whose pin changes (escaped for the terminal).
    pub fn pin_changes(&self) -> Vec<String> {
        programs::changes(self.old_pins.as_ref(), &self.pins)
    }

    /// The pins are the trusted ones approved before.
    pub fn pins_same(&self) -> bool {
        self.old_pins.as_ref() == Some(&self.pins)
    }

    /// `current` is the trusted approved text, with the same pins:
    /// there is nothing to approve.
    pub fn nothing_to_approve(&self, current: &str) -> bool {
        matches!(self.base, Base::Trusted(t) if t == current) && self.pins_same()
    }
}
