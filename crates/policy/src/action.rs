//! The three things a rule can say about a call.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a rule (or the final [`crate::Decision`]) says about a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Allow,
    Confirm,
    Deny,
}

impl Action {
    /// How restrictive the action is. [`crate::combine`] keeps the most
    /// restrictive action among the matching rules, so that adding a rule
    /// can never make a stricter rule weaker.
    pub(crate) fn strictness(self) -> u8 {
        match self {
            Action::Allow => 0,
            Action::Confirm => 1,
            Action::Deny => 2,
        }
    }

    /// The lowercase word used in config files, rule texts and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Confirm => "confirm",
            Action::Deny => "deny",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
