use serde_json::Value;

/// What a tool call returns to the agent: text for the model, optional
/// structured content, and whether it is an error. Every string in here has
/// been through the scrubber.
#[derive(Clone, Debug)]
pub struct ToolOutcome {
    pub is_error: bool,
    pub text: String,
    pub structured: Option<Value>,
    /// Set instead of a result when the call waits for a human's answer
    /// that the client collects and brings back by retrying (2026-07-28).
    pub input_required: Option<rmcp::model::InputRequiredResult>,
}

impl ToolOutcome {
    pub fn error(text: impl Into<String>) -> Self {
        ToolOutcome {
            is_error: true,
            text: text.into(),
            structured: None,
            input_required: None,
        }
    }

    pub fn ok(text: String, structured: Option<Value>) -> Self {
        ToolOutcome {
            is_error: false,
            text,
            structured,
            input_required: None,
        }
    }
}
