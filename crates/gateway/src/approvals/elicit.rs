//! The question as an MCP elicitation (form mode), and the answer back.
//!
//! Both wire forms carry the same form: `elicitation/create` sent to the
//! client on 2025-06-18 and 2025-11-25 sessions, and an `input_required`
//! result that the client answers by retrying the call (SEP-2322) on
//! 2026-07-28 sessions. The human answers in the client's own UI.

use std::time::Duration;

use rmcp::model::{ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction};
use serde_json::{Value, json};

use super::question::{Answer, Question};

/// The key of keyward's request in an `input_required` result.
pub const INPUT_KEY: &str = "keyward_approval";

/// The choices offered, as (value, title).
const CHOICES: [(&str, &str); 5] = [
    ("deny", "Deny"),
    ("once", "Allow once"),
    ("5m", "Allow for 5 minutes"),
    ("1h", "Allow for 1 hour"),
    ("session", "Allow until the end of this session"),
];

fn schema() -> Value {
    let one_of: Vec<Value> = CHOICES
        .iter()
        .map(|(v, t)| json!({"const": v, "title": t}))
        .collect();
    json!({
        "type": "object",
        "properties": {
            "decision": {
                "type": "string",
                "title": "Your answer",
                "oneOf": one_of,
                "default": "deny",
            }
        },
        "required": ["decision"],
    })
}

/// The form for question `q`.
pub fn params(q: &Question) -> Result<ElicitRequestParams, serde_json::Error> {
    serde_json::from_value(json!({
        "mode": "form",
        "message": q.text(),
        "requestedSchema": schema(),
    }))
}

/// The same form as a request inside an `input_required` result.
pub fn request(q: &Question) -> Result<ElicitRequest, serde_json::Error> {
    serde_json::from_value(json!({
        "method": "elicitation/create",
        "params": serde_json::to_value(params(q)?)?,
    }))
}

/// The human's answer in the client's form. Declining or dismissing it is
/// a deny; so is anything but one of the offered choices.
pub fn answer_of(result: &ElicitResult) -> Answer {
    match result.action {
        ElicitationAction::Accept => {
            let choice = result
                .content
                .as_ref()
                .and_then(|c| c.get("decision"))
                .and_then(Value::as_str)
                .unwrap_or("deny");
            match choice {
                "once" => Answer::Once,
                "5m" => Answer::For(Duration::from_secs(300)),
                "1h" => Answer::For(Duration::from_secs(3600)),
                "session" => Answer::Session,
                _ => Answer::Deny,
            }
        }
        _ => Answer::Deny,
    }
}

/// The answer in a retried call's `inputResponses` entry.
pub fn answer_of_response(v: &Value) -> Answer {
    serde_json::from_value::<ElicitResult>(v.clone())
        .map(|r| answer_of(&r))
        .unwrap_or(Answer::Deny)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q() -> Question {
        Question {
            id: "q1".into(),
            agent: "claude".into(),
            kind: "http",
            target: "stripe: POST /v1/refunds".into(),
            rule: None,
            preview: None,
            reason: None,
            grants: "stripe: POST /v1/refunds".into(),
            asked: jiff::Timestamp::UNIX_EPOCH,
            deadline: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_form_is_a_valid_elicitation() {
        let p = params(&q()).expect("schema accepted by rmcp");
        let v = serde_json::to_value(&p).expect("serializes");
        assert_eq!(v["mode"], "form");
        assert!(
            v["message"]
                .as_str()
                .unwrap_or("")
                .contains("POST /v1/refunds")
        );
        let r = request(&q()).expect("request");
        assert_eq!(
            serde_json::to_value(&r).expect("v")["method"],
            "elicitation/create"
        );
    }

    /// The message the client shows the human holds no bidirectional,
    /// invisible or control character (its own line breaks aside).
    #[test]
    fn bidi_override_in_reason_is_escaped_in_the_elicitation_message() {
        use crate::approvals::question_tests::{assert_no_hidden, hostile_question};
        let q = hostile_question();
        for form in [
            serde_json::to_value(params(&q).expect("form")).expect("v"),
            serde_json::to_value(request(&q).expect("request")).expect("v")["params"].clone(),
        ] {
            let message = form["message"].as_str().unwrap_or_default().to_string();
            for line in message.lines() {
                assert_no_hidden(line);
            }
            assert!(message.contains("reasonx\\u{202e}"), "{message}");
        }
    }

    #[test]
    fn only_an_accepted_offered_choice_allows() {
        let accept =
            |d: &str| answer_of_response(&json!({"action": "accept", "content": {"decision": d}}));
        assert_eq!(accept("once"), Answer::Once);
        assert_eq!(accept("1h"), Answer::For(Duration::from_secs(3600)));
        assert_eq!(accept("session"), Answer::Session);
        assert_eq!(accept("deny"), Answer::Deny);
        assert_eq!(accept("forever"), Answer::Deny);
        assert_eq!(accept("100h"), Answer::Deny);
        assert_eq!(
            answer_of_response(&json!({"action": "decline"})),
            Answer::Deny
        );
        assert_eq!(
            answer_of_response(&json!({"action": "cancel"})),
            Answer::Deny
        );
        assert_eq!(answer_of_response(&json!({"nonsense": 1})), Answer::Deny);
    }
}
