//! The requests and answers of the control socket.

use keyward_policy::Grant;
use serde::{Deserialize, Serialize};

use crate::approvals::Question;

/// One request. `passphrase` travels only over the 0600 socket, to a
/// listener the CLI verified; it is never printed (`Debug` shows the
/// operation only).
#[derive(Deserialize, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Status,
    Pending,
    Answer {
        id: String,
        /// `deny`, `once`, `session` or a duration (`5m`, `1h`).
        answer: String,
        #[serde(default)]
        passphrase: Option<String>,
    },
    Grants,
    Revoke {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        all: bool,
    },
    Lock,
    Unlock {
        #[serde(default)]
        passphrase: Option<String>,
    },
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Request::{}", self.redacted_op())
    }
}

impl Request {
    /// The passphrase is never printed.
    pub fn redacted_op(&self) -> &'static str {
        match self {
            Request::Status => "status",
            Request::Pending => "pending",
            Request::Answer { .. } => "answer",
            Request::Grants => "grants",
            Request::Revoke { .. } => "revoke",
            Request::Lock => "lock",
            Request::Unlock { .. } => "unlock",
        }
    }
}

/// A grant as listed.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct GrantView {
    pub id: String,
    pub agent: String,
    pub scope: String,
    /// An RFC 3339 instant, or `end of session`.
    pub until: String,
    pub created_by: String,
    pub reason: Option<String>,
}

impl From<&Grant> for GrantView {
    fn from(g: &Grant) -> GrantView {
        GrantView {
            id: g.id.clone(),
            agent: g.agent.clone(),
            scope: g.scope.to_string(),
            until: match &g.expiry {
                keyward_policy::Expiry::Time { at } => at.to_string(),
                keyward_policy::Expiry::Session { .. } => "end of session".to_string(),
            },
            created_by: g.created_by.clone(),
            reason: g.reason.clone(),
        }
    }
}

/// The answer.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Reply {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub locked: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pending: Option<Vec<QuestionView>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub grants: Option<Vec<GrantView>>,
    /// Set when the id named is not known to this keyward (another may
    /// know it).
    #[serde(default)]
    pub unknown: bool,
}

/// A question as listed (the same fields as [`Question`], owned strings).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct QuestionView {
    pub id: String,
    pub agent: String,
    pub kind: String,
    pub target: String,
    pub rule: Option<String>,
    pub preview: Option<String>,
    pub reason: Option<String>,
    pub grants: String,
    pub asked: String,
    pub deadline: String,
}

impl From<&Question> for QuestionView {
    fn from(q: &Question) -> QuestionView {
        QuestionView {
            id: q.id.clone(),
            agent: q.agent.clone(),
            kind: q.kind.to_string(),
            target: q.target.clone(),
            rule: q.rule.clone(),
            preview: q.preview.clone(),
            reason: q.reason.clone(),
            grants: q.grants.clone(),
            asked: q.asked.to_string(),
            deadline: q.deadline.to_string(),
        }
    }
}

impl Reply {
    pub fn ok() -> Reply {
        Reply {
            ok: true,
            ..Reply::default()
        }
    }

    pub fn error(e: impl Into<String>) -> Reply {
        Reply {
            ok: false,
            error: Some(e.into()),
            ..Reply::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Request;

    #[test]
    fn debug_never_shows_the_passphrase() {
        let r = Request::Unlock {
            passphrase: Some("kw_canary_passphrase".into()),
        };
        assert_eq!(format!("{r:?}"), "Request::unlock");
    }
}
