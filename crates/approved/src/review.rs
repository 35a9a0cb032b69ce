//! What keyward.toml is compared with when the human reviews it (`keyward
//! config diff`, `keyward config approve`): the approved text only when it
//! can be trusted. An approved copy that fails its seal is no base at all
//! — the whole file is shown as new — since the agent could have edited
//! the copy to hide its change from the diff.

use keyward_vault::Vault;

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
