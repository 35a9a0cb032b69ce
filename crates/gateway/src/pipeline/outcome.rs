//! What a call ends with: an answer for the agent ([`ToolOutcome`] for
//! keyward's own tools, the upstream's result for the others), or a
//! [`Stop`] on the way, which the audit stage turns into [`Stopped`].

use keyward_audit::Decision;
use rmcp::model::InputRequiredResult;
use serde_json::Value;

/// What one of keyward's own tools returns to the agent: text for the
/// model, optional structured content, and whether it is an error. Every
/// string in here has been through the scrubber.
#[derive(Clone, Debug)]
pub struct ToolOutcome {
    pub is_error: bool,
    pub text: String,
    pub structured: Option<Value>,
}

impl ToolOutcome {
    pub fn error(text: impl Into<String>) -> Self {
        ToolOutcome {
            is_error: true,
            text: text.into(),
            structured: None,
        }
    }

    pub fn ok(text: String, structured: Option<Value>) -> Self {
        ToolOutcome {
            is_error: false,
            text,
            structured,
        }
    }
}

/// Why a call stopped before its answer, as a stage says it. Only the
/// audit stage turns it into what the agent is told ([`Stopped`]), after
/// recording it.
#[derive(Debug)]
pub enum Stop {
    /// Not made: `decision` is `deny`, `error` or `rate_limited`. The rule
    /// already in the record stays, unless `rule` replaces it.
    Refused {
        decision: Decision,
        message: String,
        rule: Option<Option<String>>,
    },
    /// Allowed, and failed on the way (connect, timeout, a bad header, a
    /// program that would not start). `received` bytes came back first.
    Failed { error: String, received: u64 },
    /// The record could not be written: nothing more is done or said.
    AuditFailed,
    /// Stopped and already recorded (by the approval stage).
    Recorded(Box<Stopped>),
}

impl Stop {
    pub fn refused(decision: Decision, message: impl Into<String>) -> Stop {
        Stop::Refused {
            decision,
            message: message.into(),
            rule: None,
        }
    }

    /// Refused, naming `rule` (or none) as the reason instead of the rule
    /// that decided.
    pub fn refused_by(
        decision: Decision,
        rule: Option<String>,
        message: impl Into<String>,
    ) -> Stop {
        Stop::Refused {
            decision,
            message: message.into(),
            rule: Some(rule),
        }
    }

    pub fn failed(error: impl Into<String>) -> Stop {
        Stop::Failed {
            error: error.into(),
            received: 0,
        }
    }
}

/// A call that stopped, recorded: what the agent is told.
#[derive(Clone, Debug)]
pub struct Stopped {
    /// The record's decision: `deny`, `error`, `rate_limited`, or `allow`
    /// for an allowed call that failed; `None` when nothing was recorded.
    pub decision: Option<Decision>,
    /// Scrubbed, for the agent.
    pub text: String,
    /// Set instead of a refusal when the call waits for a human's answer
    /// that the client collects and brings back by retrying (2026-07-28).
    pub input_required: Option<InputRequiredResult>,
}

impl Stopped {
    pub fn new(decision: Option<Decision>, text: impl Into<String>) -> Stopped {
        Stopped {
            decision,
            text: text.into(),
            input_required: None,
        }
    }

    /// The stop as one of keyward's own tools answers it.
    pub fn into_outcome(self) -> ToolOutcome {
        ToolOutcome::error(self.text)
    }
}
