//! Who is calling. For the stdio transport that is what the client says in
//! `clientInfo`: a label for the audit log and the rate limiter, not an
//! authenticated identity (see the README's security model).
//!
//! One `keyward serve` on stdio serves one client, so the first name seen is
//! kept for the whole connection. On 2026-07-28 sessions `clientInfo` rides
//! on every request's `_meta`; without pinning, an agent could name itself
//! anew on each call and get a fresh rate budget every time.
//!
//! On `keyward serve --http` the agent is authenticated: each request
//! carries a bearer token, and the HTTP front puts the token's agent name
//! ([`AuthenticatedAgent`]) in the request's extensions. That name is the
//! session's agent; `clientInfo` is not consulted at all.
//!
//! The session's client ([`Session::client`]) is what the servers'
//! `clients` lists name: on stdio the `--client NAME` keyward was started
//! with (by the MCP client's own config: not something the agent says over
//! MCP), over HTTP the token's agent name. `clientInfo` never counts.

use std::sync::{Arc, OnceLock};

use rmcp::RoleServer;
use rmcp::service::RequestContext;

pub use super::approval::Asker;
use crate::approvals::Approvals;

#[derive(Clone, Debug)]
pub struct Session {
    pub agent: String,
    /// This connection (an MCP session): grants "until the end of the
    /// session" are bound to it.
    pub id: String,
    /// How a `confirm` can ask the human at this client.
    pub asker: Asker,
    /// The MCP client this session is, for the servers' `clients` lists
    /// (see [`keyward_config::Server::visible_to`]): `keyward serve
    /// --client NAME` on stdio, the token's agent name over HTTP. `None`
    /// (stdio without `--client`): only the servers without a list.
    pub client: Option<String>,
}

/// The agent an HTTP request authenticated as: the name of its bearer
/// token. Only the HTTP front inserts it (into the request's
/// `http::request::Parts` extensions, which rmcp hands to the handler).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticatedAgent(pub String);

/// The identity of one connection, fixed by its first request — or, for
/// an authenticated connection, by each request's token.
#[derive(Clone, Debug, Default)]
pub struct ConnectionIdentity {
    agent: Arc<OnceLock<String>>,
    authenticated: bool,
    /// `keyward serve --client NAME` (stdio; never set when authenticated).
    client: Option<String>,
    id: SessionId,
}

/// A random id per connection. When the last handle of a connection goes
/// (rmcp drops the service when the session ends), its "until the end of
/// the session" grants end with it.
#[derive(Clone, Debug)]
struct SessionId(Arc<SessionEnd>);

#[derive(Debug)]
struct SessionEnd {
    id: String,
    approvals: OnceLock<Approvals>,
}

impl Drop for SessionEnd {
    fn drop(&mut self) {
        if let Some(a) = self.approvals.get() {
            a.end_session(&self.id);
        }
    }
}

impl Default for SessionId {
    fn default() -> Self {
        SessionId(Arc::new(SessionEnd {
            id: crate::approvals::new_id(),
            approvals: OnceLock::new(),
        }))
    }
}

/// The name a request of an authenticated connection carries when it has
/// none (never, behind the HTTP front's 401; a fixed label, not a budget
/// the client can choose).
pub const UNAUTHENTICATED: &str = "unauthenticated";

impl ConnectionIdentity {
    /// For `keyward serve --http`: the agent is the request's
    /// [`AuthenticatedAgent`], whatever `clientInfo` says.
    pub fn authenticated() -> ConnectionIdentity {
        ConnectionIdentity {
            agent: Arc::default(),
            authenticated: true,
            client: None,
            id: SessionId::default(),
        }
    }

    /// For `keyward serve --client NAME` on stdio: every session of the
    /// connection is `client`.
    pub fn for_client(client: Option<String>) -> ConnectionIdentity {
        ConnectionIdentity {
            client,
            ..ConnectionIdentity::default()
        }
    }

    /// The same kind of identity, with nothing pinned yet (for a new
    /// connection).
    pub fn fresh(&self) -> ConnectionIdentity {
        ConnectionIdentity {
            agent: Arc::default(),
            authenticated: self.authenticated,
            client: self.client.clone(),
            id: SessionId::default(),
        }
    }

    pub fn session(&self, ctx: &RequestContext<RoleServer>) -> Session {
        let mut session = if self.authenticated {
            let parts = ctx.extensions.get::<axum::http::request::Parts>();
            let agent = parts.and_then(|p| p.extensions.get::<AuthenticatedAgent>());
            // A 2026-07-28 request has no session (and gets a server value
            // of its own): its "session" is its agent's, for as long as the
            // service runs, so that an input_required retry finds its
            // question.
            let stateless = parts.is_some_and(|p| !p.headers.contains_key("mcp-session-id"));
            self.authenticated_session(agent, stateless)
        } else {
            let claimed = ctx
                .client_info()
                .map(|i| format!("{} {}", i.name, i.version));
            self.session_for(claimed.as_deref())
        };
        session.asker = Asker::of(ctx);
        session
    }

    /// This connection's id.
    pub fn id(&self) -> &str {
        &self.id.0.id
    }

    /// Ends this connection's session grants in `approvals` when the
    /// connection ends.
    pub fn bind(&self, approvals: &Approvals) {
        let _ = self.id.0.approvals.set(approvals.clone());
    }

    fn authenticated_session(
        &self,
        agent: Option<&AuthenticatedAgent>,
        stateless: bool,
    ) -> Session {
        // Over HTTP the token's agent name is the client name: checked by
        // the token, never taken from the request.
        let client = agent.map(|a| a.0.clone());
        let agent = agent.map_or_else(|| UNAUTHENTICATED.to_string(), |a| sanitize(&a.0));
        let id = if stateless {
            format!("agent:{agent}")
        } else {
            self.id.0.id.clone()
        };
        Session {
            agent,
            id,
            asker: Asker::Nobody,
            client,
        }
    }

    /// The session for a request claiming `claimed`; the first claim wins.
    pub fn session_for(&self, claimed: Option<&str>) -> Session {
        let agent = self
            .agent
            .get_or_init(|| sanitize(claimed.unwrap_or("unknown")));
        Session {
            agent: agent.clone(),
            id: self.id.0.id.clone(),
            asker: Asker::Nobody,
            client: self.client.clone(),
        }
    }
}

/// The name is the client's own words: keep it printable and short before it
/// reaches the audit log, a question or a terminal. Control characters are
/// dropped; bidirectional and invisible characters are escaped
/// ([`keyward_audit::shown`]), so a name cannot make a question read
/// differently from what it asks.
pub fn sanitize(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).take(128).collect();
    let clean = clean.trim();
    if clean.is_empty() {
        "unknown".into()
    } else {
        keyward_audit::shown::escape(clean)
    }
}

#[cfg(test)]
mod tests {
    use super::{AuthenticatedAgent, ConnectionIdentity, UNAUTHENTICATED, sanitize};

    #[tokio::test]
    async fn session_grants_end_when_the_connection_does() {
        use crate::approvals::{Answer, Approvals, Ask, Channel, SystemClock};
        use keyward_policy::{GrantScope, Target};
        use std::sync::Arc;

        let approvals = Approvals::new(std::time::Duration::from_secs(60), Arc::new(SystemClock));
        let conn = ConnectionIdentity::default();
        conn.bind(&approvals);
        let other = ConnectionIdentity::default();
        assert_ne!(conn.id(), other.id(), "each connection has its own id");
        let session = conn.session_for(Some("claude"));
        let asked = approvals
            .ask(Ask {
                agent: session.agent.clone(),
                session: session.id.clone(),
                kind: "command",
                target: "command: gh".into(),
                rule: None,
                preview: None,
                reason: None,
                scope: GrantScope::Command {
                    command: "gh".into(),
                },
                digest: "d".into(),
                grant_on_once: None,
            })
            .expect("asked");
        approvals
            .answer(&asked.question.id, Answer::Session, Channel::Cli)
            .expect("answered");
        let gh = Target::Command {
            command: "gh",
            argv: &[],
        };
        assert!(approvals.covering("claude", &session.id, &gh).is_some());
        let kept = conn.clone();
        drop(conn);
        assert_eq!(
            approvals.grants().len(),
            1,
            "a clone still holds the connection"
        );
        drop(kept);
        assert!(approvals.grants().is_empty());
    }

    #[test]
    fn the_first_name_sticks_for_the_connection() {
        let id = ConnectionIdentity::default();
        assert_eq!(id.session_for(Some("claude 1.0")).agent, "claude 1.0");
        assert_eq!(id.session_for(Some("someone-else 2")).agent, "claude 1.0");
        assert_eq!(id.session_for(None).agent, "claude 1.0");
    }

    #[test]
    fn the_client_is_the_one_keyward_was_started_as_or_the_tokens_agent() {
        let stdio = ConnectionIdentity::for_client(Some("cursor".into()));
        assert_eq!(
            stdio
                .session_for(Some("claude-desktop 1.0"))
                .client
                .as_deref(),
            Some("cursor")
        );
        assert_eq!(
            stdio.fresh().session_for(None).client.as_deref(),
            Some("cursor")
        );
        assert_eq!(
            ConnectionIdentity::default()
                .session_for(Some("cursor"))
                .client,
            None
        );
        let http = ConnectionIdentity::authenticated();
        let a = AuthenticatedAgent("claude-desktop".into());
        assert_eq!(
            http.authenticated_session(Some(&a), false)
                .client
                .as_deref(),
            Some("claude-desktop")
        );
        assert_eq!(http.authenticated_session(None, false).client, None);
    }

    #[test]
    fn an_authenticated_connection_takes_each_requests_agent() {
        let id = ConnectionIdentity::authenticated();
        let a = AuthenticatedAgent("claude".into());
        let b = AuthenticatedAgent("cursor".into());
        assert_eq!(id.authenticated_session(Some(&a), false).agent, "claude");
        assert_eq!(id.authenticated_session(Some(&b), false).agent, "cursor");
        assert_eq!(id.authenticated_session(None, false).agent, UNAUTHENTICATED);
        // A session's requests share its id; stateless requests share their agent's.
        assert_eq!(id.authenticated_session(Some(&a), false).id, id.id());
        assert_eq!(id.authenticated_session(Some(&a), true).id, "agent:claude");
        assert_eq!(
            id.fresh().authenticated_session(Some(&a), true).id,
            "agent:claude"
        );
        assert_ne!(
            id.fresh().authenticated_session(Some(&a), false).id,
            id.id()
        );
        assert!(id.fresh().authenticated);
        assert!(!ConnectionIdentity::default().fresh().authenticated);
    }

    #[test]
    fn control_characters_and_length_are_bounded() {
        assert_eq!(sanitize("claude\n\u{1b}[31m 1.0"), "claude[31m 1.0");
        assert_eq!(sanitize("   "), "unknown");
        assert_eq!(sanitize(&"a".repeat(500)).len(), 128);
        assert_eq!(sanitize("claude\u{202e}edoc"), "claude\\u{202e}edoc");
    }
}
