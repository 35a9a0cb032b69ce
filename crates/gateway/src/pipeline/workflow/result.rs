//! What a step's call returned, as later steps read it (`steps.ID.*`, the
//! fields [`keyward_config::result_fields`] lists) and as the run's report
//! shows it. Built only from what the handlers return, which is already
//! scrubbed: a step never sees more than the agent would have.

use keyward_config::SUMMARY_CHARS;
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Map, Value, json};

use crate::pipeline::ToolOutcome;

/// One step's outcome.
#[derive(Debug)]
pub(crate) struct StepOutput {
    /// The step succeeded: the call was made and did not fail (an HTTP
    /// status below 400, a tool result that is not an error, exit 0).
    pub(crate) ok: bool,
    /// `steps.ID`: the fields later templates read.
    pub(crate) fields: Value,
    /// For the report: `text` cut to [`SUMMARY_CHARS`], or why it failed.
    pub(crate) summary: String,
}

/// `s` cut to `chars` characters, with a mark when it was cut.
pub(crate) fn bounded(s: &str, chars: usize) -> String {
    match s.char_indices().nth(chars) {
        None => s.to_string(),
        Some((i, _)) => format!("{}… [cut at {chars} characters]", &s[..i]),
    }
}

fn refused(outcome: &ToolOutcome) -> StepOutput {
    StepOutput {
        ok: false,
        fields: json!({ "ok": false }),
        summary: bounded(&outcome.text, SUMMARY_CHARS),
    }
}

/// `text` parsed as JSON, if it is JSON.
fn parsed(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

fn with_common(mut fields: Map<String, Value>, ok: bool, text: &str, json: Option<Value>) -> Value {
    fields.insert("ok".into(), Value::Bool(ok));
    fields.insert("text".into(), Value::String(text.to_string()));
    fields.insert(
        "summary".into(),
        Value::String(bounded(text, SUMMARY_CHARS)),
    );
    if let Some(j) = json {
        fields.insert("json".into(), j);
    }
    Value::Object(fields)
}

/// The answer of an `http_request` step (`run::<Http>`).
pub(crate) fn of_http(outcome: &ToolOutcome) -> StepOutput {
    let Some(s) = outcome.structured.as_ref().filter(|_| !outcome.is_error) else {
        return refused(outcome);
    };
    let status = s.get("status").and_then(Value::as_u64).unwrap_or(0);
    let body = s.get("body").and_then(Value::as_str).unwrap_or_default();
    let ok = (200..400).contains(&status);
    let mut fields = Map::new();
    fields.insert("status".into(), json!(status));
    fields.insert(
        "headers".into(),
        s.get("headers").cloned().unwrap_or_else(|| json!({})),
    );
    fields.insert("body".into(), Value::String(body.to_string()));
    let summary = if ok {
        bounded(body, SUMMARY_CHARS)
    } else {
        bounded(&format!("HTTP {status}: {body}"), SUMMARY_CHARS)
    };
    StepOutput {
        ok,
        fields: with_common(fields, ok, body, parsed(body)),
        summary,
    }
}

/// The answer of an upstream tool step (`run::<UpstreamTool>`).
pub(crate) fn of_tool(result: &Result<CallToolResult, ToolOutcome>) -> StepOutput {
    let r = match result {
        Ok(r) => r,
        Err(outcome) => return refused(outcome),
    };
    let text: Vec<&str> = r
        .content
        .iter()
        .filter_map(|c| match c {
            ContentBlock::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect();
    let text = text.join("\n");
    let ok = r.is_error != Some(true);
    let json = r.structured_content.clone().or_else(|| parsed(&text));
    StepOutput {
        ok,
        fields: with_common(Map::new(), ok, &text, json),
        summary: bounded(&text, SUMMARY_CHARS),
    }
}

/// The answer of a `run_command` step (`run::<RunCommand>`). A command that ran but failed (exit
/// code not 0, killed, timed out) is an error outcome with structured
/// content; one that was refused has none.
pub(crate) fn of_command(outcome: &ToolOutcome) -> StepOutput {
    let Some(s) = outcome.structured.as_ref() else {
        return refused(outcome);
    };
    let ok = !outcome.is_error;
    let stdout = s.get("stdout").and_then(Value::as_str).unwrap_or_default();
    let mut fields = Map::new();
    fields.insert(
        "exit_code".into(),
        s.get("exit_code").cloned().unwrap_or(Value::Null),
    );
    fields.insert("stdout".into(), Value::String(stdout.to_string()));
    fields.insert(
        "stderr".into(),
        s.get("stderr").cloned().unwrap_or_else(|| json!("")),
    );
    let summary = if ok {
        bounded(stdout, SUMMARY_CHARS)
    } else {
        bounded(&outcome.text, SUMMARY_CHARS)
    };
    StepOutput {
        ok,
        fields: with_common(fields, ok, stdout, parsed(stdout)),
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_config::result_fields;

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    }

    fn sorted(fields: &[&str]) -> Vec<String> {
        let mut f: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
        f.sort();
        f
    }

    /// The fields built here are exactly those the config checks templates
    /// against.
    #[test]
    fn fields_match_what_the_config_validates() {
        let http = of_http(&ToolOutcome::ok(
            String::new(),
            Some(json!({"status": 200, "headers": {}, "body": "{\"a\":1}"})),
        ));
        assert!(http.ok);
        assert_eq!(keys(&http.fields), sorted(result_fields("http")));
        let tool = of_tool(&Ok(CallToolResult::success(vec![ContentBlock::text(
            "[1]",
        )])));
        assert_eq!(keys(&tool.fields), sorted(result_fields("tool")));
        let mut cmd = ToolOutcome::ok(
            String::new(),
            Some(json!({"exit_code": 0, "stdout": "{}", "stderr": ""})),
        );
        cmd.is_error = false;
        assert_eq!(
            keys(&of_command(&cmd).fields),
            sorted(result_fields("command"))
        );
    }

    #[test]
    fn failures_stop_and_say_why() {
        let denied = of_http(&ToolOutcome::error("denied: no rule allows DELETE /x"));
        assert!(!denied.ok);
        assert!(denied.summary.starts_with("denied:"));
        let not_found = of_http(&ToolOutcome::ok(
            String::new(),
            Some(json!({"status": 404, "headers": {}, "body": "nope"})),
        ));
        assert!(!not_found.ok);
        assert_eq!(not_found.summary, "HTTP 404: nope");
        let tool_error = of_tool(&Ok(CallToolResult::error(vec![ContentBlock::text("boom")])));
        assert!(!tool_error.ok);
        let mut exit1 = ToolOutcome::error("exit 1\n");
        exit1.structured = Some(json!({"exit_code": 1, "stdout": "", "stderr": "bad"}));
        assert!(!of_command(&exit1).ok);
    }

    #[test]
    fn summaries_are_bounded() {
        let long = "é".repeat(SUMMARY_CHARS + 10);
        let s = bounded(&long, SUMMARY_CHARS);
        assert!(s.starts_with(&"é".repeat(SUMMARY_CHARS)));
        assert!(s.ends_with("[cut at 2000 characters]"));
        assert_eq!(bounded("short", 10), "short");
    }
}
