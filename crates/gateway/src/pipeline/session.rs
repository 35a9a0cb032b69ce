//! Who is calling. For the stdio transport that is what the client says in
//! `clientInfo`: a label for the audit log and the rate limiter, not an
//! authenticated identity (see the README's security model).
//!
//! One `keyward serve` on stdio serves one client, so the first name seen is
//! kept for the whole connection. On 2026-07-28 sessions `clientInfo` rides
//! on every request's `_meta`; without pinning, an agent could name itself
//! anew on each call and get a fresh rate budget every time.

use std::sync::{Arc, OnceLock};

use rmcp::RoleServer;
use rmcp::service::RequestContext;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub agent: String,
}

/// The identity of one connection, fixed by its first request.
#[derive(Clone, Debug, Default)]
pub struct ConnectionIdentity {
    agent: Arc<OnceLock<String>>,
}

impl ConnectionIdentity {
    pub fn session(&self, ctx: &RequestContext<RoleServer>) -> Session {
        let claimed = ctx
            .client_info()
            .map(|i| format!("{} {}", i.name, i.version));
        self.session_for(claimed.as_deref())
    }

    /// The session for a request claiming `claimed`; the first claim wins.
    pub fn session_for(&self, claimed: Option<&str>) -> Session {
        let agent = self
            .agent
            .get_or_init(|| sanitize(claimed.unwrap_or("unknown")));
        Session {
            agent: agent.clone(),
        }
    }
}

/// The name is the client's own words: keep it printable and short before it
/// reaches the audit log or a terminal.
pub fn sanitize(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).take(128).collect();
    let clean = clean.trim();
    if clean.is_empty() {
        "unknown".into()
    } else {
        clean.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{ConnectionIdentity, sanitize};

    #[test]
    fn the_first_name_sticks_for_the_connection() {
        let id = ConnectionIdentity::default();
        assert_eq!(id.session_for(Some("claude 1.0")).agent, "claude 1.0");
        assert_eq!(id.session_for(Some("someone-else 2")).agent, "claude 1.0");
        assert_eq!(id.session_for(None).agent, "claude 1.0");
    }

    #[test]
    fn control_characters_and_length_are_bounded() {
        assert_eq!(sanitize("claude\n\u{1b}[31m 1.0"), "claude[31m 1.0");
        assert_eq!(sanitize("   "), "unknown");
        assert_eq!(sanitize(&"a".repeat(500)).len(), 128);
    }
}
