//! The approved config (SECURITY.md item 6): a change to keyward.toml
//! takes effect only once a human approved it with the vault passphrase.
//! `keyward serve` runs the last approved config, kept and sealed under
//! the vault key by [`store`], and says so when keyward.toml differs from
//! it.
//!
//! - [`Serving`]: the config `keyward serve` (stdio or HTTP) runs; its
//!   seal is checked by [`Serving::confirm`] once the vault is open, before
//!   any call is served.
//! - [`record`]: makes a text the approved config (and audits it);
//!   [`record_refusal`]: audits a refused approval.
//! - [`edit`]: what the CLI's own edits of keyward.toml do about approval;
//!   [`approve_initial`]: what `keyward init` does.
//! - [`diff`], [`effect`], [`review`]: what changed since the approval, as
//!   the human reads it before approving.
//! - [`programs`]: the program pins approved with the config.
//!
//! There is no trust on first use: a home without an approved copy (made
//! before this existed, or whose copy was deleted) refuses to serve until
//! `keyward config approve`, since deleting the copy is something the
//! agent could do to get its edit trusted.
//!
//! This crate decides and writes; it never prints, prompts or reads the
//! environment (the caller passes `PATH` and the open vault). It knows
//! nothing of MCP, HTTP or the terminal: how the vault was unlocked, how
//! the passphrase was asked for and how an outcome is shown are the
//! binary's.

pub mod diff;
pub mod edit;
pub mod effect;
mod error;
mod init;
pub mod programs;
mod record;
pub mod review;
mod serving;
pub mod store;

pub use error::ApprovedError;
pub use init::{Initial, approve_initial};
pub use programs::{NotPinned, PinsProblem, Programs};
pub use record::{record, record_refusal};
pub use serving::{Confirmed, PENDING_NOTICE, Serving};
pub use store::{Approved, SealProblem, Store, short_hash};

#[cfg(test)]
mod tests;
