//! What is asked, what can be answered, and who answered.

use std::fmt;
use std::time::Duration;

use jiff::Timestamp;
use keyward_audit::shown::shown;
use keyward_policy::GrantScope;
use serde::Serialize;

/// A human's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Deny,
    /// This call only.
    Once,
    /// This call, and a grant for the same scope for a while.
    For(Duration),
    /// This call, and a grant until the agent's session ends.
    Session,
}

impl Answer {
    /// `deny`, `once`, `session`, or a duration: `5m`, `1h`, `90s`.
    pub fn parse(s: &str) -> Result<Answer, String> {
        match s.trim() {
            "deny" | "no" => Ok(Answer::Deny),
            "once" | "yes" | "allow" => Ok(Answer::Once),
            "session" => Ok(Answer::Session),
            other => keyward_config::parse_duration(other)
                .map(Answer::For)
                .map_err(|e| {
                    format!("`{other}` is not an answer (deny, once, session, or a duration such as 5m, 1h): {e}")
                }),
        }
    }

    pub fn allows(&self) -> bool {
        !matches!(self, Answer::Deny)
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Deny => f.write_str("deny"),
            Answer::Once => f.write_str("allow once"),
            Answer::Session => f.write_str("allow for the session"),
            Answer::For(d) => write!(f, "allow for {}", human_duration(*d)),
        }
    }
}

pub(crate) fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// Where an answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// The human answered in the calling MCP client's own UI.
    Elicitation,
    Dashboard,
    Cli,
    /// Nobody answered in time.
    Timeout,
    /// `keyward lock` denied everything waiting.
    Lock,
    /// The answer was already used by another call (one answer, one call).
    Replay,
}

impl Channel {
    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Elicitation => "elicitation",
            Channel::Dashboard => "dashboard",
            Channel::Cli => "cli",
            Channel::Timeout => "timeout",
            Channel::Lock => "lock",
            Channel::Replay => "replay",
        }
    }
}

/// How a question was settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    pub answer: Answer,
    pub channel: Channel,
    /// The grant the answer created, if it was "for a while".
    pub grant: Option<String>,
    /// The workflow step (`RUN_ID/STEP_ID`) the question was asked for.
    pub run: Option<String>,
}

impl Resolution {
    /// A deny that no human gave (the timeout, the lock, a replay).
    pub fn deny(channel: Channel) -> Resolution {
        Resolution {
            answer: Answer::Deny,
            channel,
            grant: None,
            run: None,
        }
    }
}

/// What the pipeline asks about one held call.
#[derive(Clone, Debug)]
pub struct Ask {
    pub agent: String,
    /// The agent's session (connection); session grants end with it.
    pub session: String,
    /// `http`, `tool`, `command`, `workflow` or `access`.
    pub kind: &'static str,
    /// What the call does, for a human: `stripe: POST /v1/refunds`.
    pub target: String,
    /// The rule that said `confirm`.
    pub rule: Option<String>,
    /// A bounded, scrubbed preview of the body or arguments.
    pub preview: Option<String>,
    /// The agent's stated reason, if it gave one (scrubbed, bounded).
    pub reason: Option<String>,
    /// What an "allow for a while" answer grants.
    pub scope: GrantScope,
    /// Binds the answer to this exact call: an MCP client that retries with
    /// the answer (2026-07-28) must retry the same call.
    pub digest: String,
    /// For a `request_access` question: "allow once" grants the scope for
    /// this long (what the agent asked for).
    pub grant_on_once: Option<Duration>,
}

/// A question as the channels show it. Free of secrets: every text in it
/// was scrubbed before it was asked. Free of hidden characters: every text
/// from the agent was escaped once when it was asked
/// ([`keyward_audit::shown`]), so every channel shows the same text; a
/// channel still passes each text through [`shown`] before a human sees it
/// (which changes nothing in escaped text, and escapes what is not).
#[derive(Clone, Debug, Serialize)]
pub struct Question {
    pub id: String,
    pub agent: String,
    pub kind: &'static str,
    pub target: String,
    pub rule: Option<String>,
    pub preview: Option<String>,
    pub reason: Option<String>,
    /// What "allow for a while" would grant, as text.
    pub grants: String,
    pub asked: Timestamp,
    pub deadline: Timestamp,
}

impl Question {
    /// The question as one paragraph, for a terminal, a notification or an
    /// elicitation message.
    pub fn text(&self) -> String {
        let mut s = format!(
            "keyward: agent `{}` wants to call {} ({})",
            shown(&self.agent),
            shown(&self.target),
            shown(self.kind)
        );
        if let Some(r) = &self.rule {
            s.push_str(&format!("\nrule: {}", shown(r)));
        }
        if let Some(r) = &self.reason {
            s.push_str(&format!("\nreason given by the agent: {}", shown(r)));
        }
        if let Some(p) = &self.preview {
            s.push_str(&format!("\narguments: {}", shown(p)));
        }
        s.push_str(&format!(
            "\nAn answer \"for a while\" grants: {}\nNo answer by {} means deny.",
            shown(&self.grants),
            self.deadline.strftime("%H:%M:%S UTC")
        ));
        s
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn answers_parse() {
        assert_eq!(Answer::parse("deny"), Ok(Answer::Deny));
        assert_eq!(Answer::parse("once"), Ok(Answer::Once));
        assert_eq!(Answer::parse("session"), Ok(Answer::Session));
        assert_eq!(
            Answer::parse("5m"),
            Ok(Answer::For(Duration::from_secs(300)))
        );
        assert!(Answer::parse("forever").is_err());
        assert!(Answer::parse("0s").is_err());
        assert_eq!(
            Answer::For(Duration::from_secs(3600)).to_string(),
            "allow for 1h"
        );
    }

    /// A question whose texts hold hidden characters: as if escaping at
    /// the question's making were forgotten, or the question came from an
    /// older keyward.
    pub(crate) fn hostile_question() -> Question {
        let now = Timestamp::from_second(1_800_000_000).unwrap_or_default();
        let bad = "x\u{202e}\u{2066}\u{200b}\u{2028}\u{1b}[2K\u{2069}y";
        Question {
            id: "q1".into(),
            agent: format!("agent{bad}"),
            kind: "http",
            target: format!("pay: POST /refunds/42?note={bad}"),
            rule: Some(format!("rule{bad}")),
            preview: Some(format!("body: {bad}")),
            reason: Some(format!("reason{bad}")),
            grants: format!("pay: POST {bad}"),
            asked: now,
            deadline: now,
        }
    }

    pub(crate) fn assert_no_hidden(text: &str) {
        assert!(
            !text.chars().any(keyward_audit::shown::is_hidden),
            "a hidden character reaches the human: {text:?}"
        );
    }

    #[test]
    fn bidi_override_in_reason_is_escaped_in_the_question_text() {
        let text = hostile_question().text();
        // The question's own lines stay; nothing hidden is in them.
        for line in text.lines() {
            assert_no_hidden(line);
        }
        assert!(
            text.contains("reason given by the agent: reasonx\\u{202e}\\u{2066}\\u{200b}\\u{2028}\\u{1b}[2K\\u{2069}y\n"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 6, "{text}");
    }

    /// Text escaped when the question was asked is shown as it is: its
    /// backslashes are not doubled by the channel.
    #[test]
    fn escaped_text_is_not_escaped_twice() {
        let mut q = hostile_question();
        q.reason = Some(keyward_audit::shown::escape("a\\b \u{202e}"));
        assert!(
            q.text().contains("agent: a\\\\b \\u{202e}\n"),
            "{}",
            q.text()
        );
    }
}
