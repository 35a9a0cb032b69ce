use serde_json::Value;

/// What a tool call returns to the agent: text for the model, optional
/// structured content, and whether it is an error. Every string in here has
/// been through the scrubber.
#[derive(Clone, Debug, PartialEq)]
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
