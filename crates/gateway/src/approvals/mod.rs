//! Approvals: the human in the loop.
//!
//! A call that a `confirm` rule holds becomes a [`Question`] in the
//! [`Approvals`] queue, shared by every session of one keyward. The
//! question is asked on every channel at once — MCP elicitation on the
//! calling client, the dashboard, `keyward approvals` on a terminal, a
//! desktop notification — and the first answer wins. No answer within the
//! timeout is a deny. An answer "allow for a while" also creates a
//! [`keyward_policy::Grant`], which satisfies later `confirm`s it covers;
//! grants never override a deny. [`Approvals::lock`] is the kill switch.
//!
//! Only a human may answer: the channels other than elicitation take the
//! vault passphrase ([`PassphraseCheck`]), and elicitation is answered in
//! the client's own UI, which the model does not drive.

mod broker;
mod clock;
pub mod elicit;
mod notify;
mod passphrase;
mod question;

pub(crate) use broker::new_id;
pub use broker::{AnswerError, Approvals, Asked, Lookup};
pub use clock::{Clock, FakeClock, SystemClock};
pub use notify::notify_desktop;
pub use passphrase::{PassphraseCheck, PassphraseError};
pub(crate) use question::human_duration;
/// Questions for the channels' tests.
#[cfg(test)]
pub(crate) use question::tests as question_tests;
pub use question::{Answer, Ask, Channel, Question, Resolution};
