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

/// The audit record's `channel` for an answer that came from `c`.
impl From<Channel> for keyward_audit::Channel {
    fn from(c: Channel) -> keyward_audit::Channel {
        match c {
            Channel::Elicitation => keyward_audit::Channel::Elicitation,
            Channel::Dashboard => keyward_audit::Channel::Dashboard,
            Channel::Cli => keyward_audit::Channel::Cli,
            Channel::Timeout => keyward_audit::Channel::Timeout,
            Channel::Lock => keyward_audit::Channel::Lock,
            Channel::Replay => keyward_audit::Channel::Replay,
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

    /// The answer as the audit record's `decision`: `deny`, or `allow
    /// once`, `allow for the session`, `allow for 5m`, followed by
    /// ` (grant ID)` when the answer created a grant.
    pub fn decision(&self) -> keyward_audit::Decision {
        use keyward_audit::{Allowance, Decision};
        let allowance = match self.answer {
            Answer::Deny => return Decision::Deny,
            Answer::Once => Allowance::Once,
            Answer::Session => Allowance::Session,
            Answer::For(d) => Allowance::For(human_duration(d)),
        };
        Decision::Allowed {
            allowance,
            grant: self.grant.clone(),
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

    /// The audit record of an answer is built from its text (`Answer`'s
    /// `Display` and ` (grant ID)`): if that text drifted from the audit
    /// vocabulary, answers would be logged as unknown decisions.
    #[test]
    fn every_answer_is_recorded_as_a_known_decision() {
        use keyward_audit::Decision;
        let answers = [
            Answer::Deny,
            Answer::Once,
            Answer::Session,
            Answer::For(Duration::from_secs(300)),
            Answer::For(Duration::from_secs(90)),
            Answer::For(Duration::from_secs(7200)),
        ];
        for answer in answers {
            for grant in [None, Some("09525d9371260351".to_string())] {
                if answer == Answer::Deny && grant.is_some() {
                    continue;
                }
                let r = Resolution {
                    answer,
                    grant,
                    ..Resolution::deny(Channel::Cli)
                };
                // As `pipeline::approval::record_answer` writes it.
                let mut text = r.answer.to_string();
                if let Some(g) = &r.grant {
                    text.push_str(&format!(" (grant {g})"));
                }
                let parsed = Decision::from(text.as_str());
                assert!(!matches!(parsed, Decision::Other(_)), "{text}");
                assert_eq!(parsed, r.decision(), "{text}");
                assert_eq!(r.decision().to_string(), text);
            }
        }
    }

    #[test]
    fn every_channel_is_recorded_as_its_word() {
        for c in [
            Channel::Elicitation,
            Channel::Dashboard,
            Channel::Cli,
            Channel::Timeout,
            Channel::Lock,
            Channel::Replay,
        ] {
            let audit = keyward_audit::Channel::from(c);
            assert_eq!(audit.to_string(), c.as_str());
            assert_eq!(audit, keyward_audit::Channel::from(c.as_str()));
        }
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
