//! Whose each Streamable HTTP session is, and how many one agent may hold
//! (SECURITY.md item 12).
//!
//! A session belongs to the agent whose token sent its `initialize`. Every
//! later request naming it (`Mcp-Session-Id`: POST, the GET stream,
//! DELETE) must carry that agent's token; any other token gets the 404 of
//! an unknown session, so another agent can neither use, read nor end it,
//! nor learn that it exists.
//!
//! One agent holds at most `[http] max_sessions_per_agent` sessions. An
//! `initialize` beyond that closes the agent's least recently used idle
//! session (no call in flight), or, when every one of them has a call in
//! flight, its least recently used one — the cap holds either way. A
//! closed session ends as on `DELETE`: its streams close and its session
//! grants end.
//!
//! ```text
//! request ─▶ auth (agent) ─▶ [`check`]: Mcp-Session-Id owned by the agent? (else 404) ─▶ rmcp
//!                                                          rmcp ─▶ [`BoundSessions`] ─▶ LocalSessionManager
//! ```
//!
//! [`BoundSessions`] sees every session begin (`initialize`, where the
//! message carries the request's agent) and end (DELETE, idle timeout,
//! eviction, shutdown: rmcp closes through it), so the registry never
//! names a session that is gone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::Stream;
use http_body_util::BodyExt as _;
use rmcp::model::{ClientJsonRpcMessage, GetExtensions, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{
    EventStore, ServerSseMessage, SessionId, SessionManager,
};

use crate::pipeline::session::AuthenticatedAgent;

/// The header that names a session.
const SESSION_HEADER: &str = "mcp-session-id";

/// What rmcp answers for a session it does not know; a session of another
/// agent gets exactly this.
const NOT_FOUND_BODY: &str = "Not Found: Session not found";

/// The sessions' owners.
#[derive(Debug)]
pub(crate) struct Registry {
    cap: usize,
    state: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    /// Bumped on every use: orders sessions by how recently they were used.
    tick: u64,
    sessions: HashMap<SessionId, Entry>,
}

#[derive(Debug)]
struct Entry {
    /// `None` from `create_session` until its `initialize` names the agent:
    /// such a session is nobody's (404 for every token).
    agent: Option<String>,
    /// The tick of its last request.
    used: u64,
    /// Its POSTs whose answers are still being sent.
    calls: usize,
}

/// Whether a request may name a session.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Owner,
    /// Unknown, ended, not initialized yet, or another agent's.
    NotFound,
}

impl Registry {
    pub(crate) fn new(cap: usize) -> Registry {
        Registry {
            cap: cap.max(1),
            state: Mutex::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, Table> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn open(&self, id: &SessionId) {
        let mut s = self.state();
        s.tick += 1;
        let used = s.tick;
        s.sessions.insert(
            id.clone(),
            Entry {
                agent: None,
                used,
                calls: 0,
            },
        );
    }

    /// Binds `id` to `agent` and returns the sessions to close so that the
    /// agent holds at most the cap (they are already forgotten here).
    fn bind(&self, id: &SessionId, agent: &str) -> Vec<SessionId> {
        let mut s = self.state();
        s.tick += 1;
        let used = s.tick;
        match s.sessions.get_mut(id) {
            Some(e) => {
                e.agent = Some(agent.to_string());
                e.used = used;
            }
            None => return Vec::new(),
        }
        let mut victims = Vec::new();
        loop {
            let theirs: Vec<(&SessionId, &Entry)> = s
                .sessions
                .iter()
                .filter(|(k, e)| *k != id && e.agent.as_deref() == Some(agent))
                .collect();
            if theirs.len() < self.cap {
                break;
            }
            // Idle sessions first, then the least recently used.
            let Some(oldest) = theirs
                .iter()
                .min_by_key(|(_, e)| (e.calls > 0, e.used))
                .map(|(k, _)| (*k).clone())
            else {
                break;
            };
            s.sessions.remove(&oldest);
            victims.push(oldest);
        }
        victims
    }

    fn forget(&self, id: &SessionId) {
        self.state().sessions.remove(id);
    }

    /// Checks that `agent` owns `id`, and counts the request as a use.
    pub(crate) fn access(&self, id: &SessionId, agent: &str) -> Access {
        let mut s = self.state();
        s.tick += 1;
        let used = s.tick;
        match s.sessions.get_mut(id) {
            Some(e) if e.agent.as_deref() == Some(agent) => {
                e.used = used;
                Access::Owner
            }
            _ => Access::NotFound,
        }
    }

    fn call_started(self: &Arc<Self>, id: &SessionId) -> CallGuard {
        if let Some(e) = self.state().sessions.get_mut(id) {
            e.calls += 1;
        }
        CallGuard {
            registry: self.clone(),
            id: id.clone(),
        }
    }

    /// How many sessions `agent` holds now.
    #[cfg(test)]
    fn count(&self, agent: &str) -> usize {
        self.state()
            .sessions
            .values()
            .filter(|e| e.agent.as_deref() == Some(agent))
            .count()
    }
}

/// A POST in flight on a session; dropped with its answer's body.
struct CallGuard {
    registry: Arc<Registry>,
    id: SessionId,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if let Some(e) = self.registry.state().sessions.get_mut(&self.id) {
            e.calls = e.calls.saturating_sub(1);
        }
    }
}

/// The middleware (after authentication): a request naming a session that
/// is not its agent's gets the 404 of an unknown session, whatever its
/// method.
pub(crate) async fn check(
    State(registry): State<Arc<Registry>>,
    req: Request,
    next: Next,
) -> Response {
    // Read as rmcp reads it: the first value, if it is text.
    let Some(id) = req
        .headers()
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(SessionId::from)
    else {
        return next.run(req).await;
    };
    let agent = req
        .extensions()
        .get::<AuthenticatedAgent>()
        .map(|a| a.0.as_str());
    let owned = agent.is_some_and(|a| registry.access(&id, a) == Access::Owner);
    if !owned {
        return (StatusCode::NOT_FOUND, NOT_FOUND_BODY).into_response();
    }
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let guard = registry.call_started(&id);
    let resp = next.run(req).await;
    resp.map(|body| {
        Body::new(body.map_frame(move |frame| {
            let _in_flight = &guard;
            frame
        }))
    })
}

/// rmcp's in-memory session manager, with each session's agent kept in a
/// [`Registry`] (see the module docs).
pub(crate) struct BoundSessions {
    inner: LocalSessionManager,
    registry: Arc<Registry>,
}

impl BoundSessions {
    pub(crate) fn new(inner: LocalSessionManager, registry: Arc<Registry>) -> BoundSessions {
        BoundSessions { inner, registry }
    }
}

/// Why a session could not be served.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BoundError {
    #[error(transparent)]
    Local(#[from] LocalSessionManagerError),
    #[error("an initialize without an authenticated agent")]
    NoAgent,
}

/// The agent the HTTP front authenticated for the request `message` came
/// in (rmcp puts the request's parts in the message's extensions).
fn agent_of(message: &ClientJsonRpcMessage) -> Option<String> {
    let extensions = match message {
        ClientJsonRpcMessage::Request(r) => r.request.extensions(),
        ClientJsonRpcMessage::Notification(n) => n.notification.extensions(),
        _ => return None,
    };
    let parts = extensions.get::<axum::http::request::Parts>()?;
    Some(parts.extensions.get::<AuthenticatedAgent>()?.0.clone())
}

impl SessionManager for BoundSessions {
    type Error = BoundError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let (id, transport) = self.inner.create_session().await?;
        self.registry.open(&id);
        Ok((id, transport))
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        let Some(agent) = agent_of(&message) else {
            self.close_session(id).await?;
            return Err(BoundError::NoAgent);
        };
        for old in self.registry.bind(id, &agent) {
            tracing::info!(
                agent = %agent,
                cap = self.registry.cap,
                "an agent opened one session more than `[http] max_sessions_per_agent`: its least recently used one is closed"
            );
            self.inner.close_session(&old).await?;
        }
        Ok(self.inner.initialize_session(id, message).await?)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        let bound = self
            .registry
            .state()
            .sessions
            .get(id)
            .is_some_and(|e| e.agent.is_some());
        Ok(bound && self.inner.has_session(id).await?)
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.registry.forget(id);
        Ok(self.inner.close_session(id).await?)
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_stream(id, message).await?)
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        Ok(self.inner.accept_message(id, message).await?)
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_standalone_stream(id).await?)
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.resume(id, last_event_id).await?)
    }

    fn event_store(&self) -> Option<Arc<dyn EventStore>> {
        self.inner.event_store()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> SessionId {
        SessionId::from(s)
    }

    fn opened(r: &Registry, s: &str, agent: &str) -> Vec<SessionId> {
        r.open(&id(s));
        r.bind(&id(s), agent)
    }

    #[test]
    fn a_session_answers_only_to_the_agent_that_initialized_it() {
        let r = Registry::new(4);
        r.open(&id("s1"));
        assert_eq!(
            r.access(&id("s1"), "alice"),
            Access::NotFound,
            "not bound yet"
        );
        assert!(r.bind(&id("s1"), "alice").is_empty());
        assert_eq!(r.access(&id("s1"), "alice"), Access::Owner);
        assert_eq!(r.access(&id("s1"), "bob"), Access::NotFound);
        assert_eq!(r.access(&id("nope"), "alice"), Access::NotFound);
        r.forget(&id("s1"));
        assert_eq!(r.access(&id("s1"), "alice"), Access::NotFound);
    }

    #[test]
    fn the_cap_closes_the_least_recently_used_idle_session_of_that_agent_only() {
        let r = Arc::new(Registry::new(3));
        for s in ["a1", "a2", "a3"] {
            assert!(opened(&r, s, "alice").is_empty());
        }
        assert!(opened(&r, "b1", "bob").is_empty());
        // a1 is used again, a2 has a call in flight: a3 is the oldest idle.
        assert_eq!(r.access(&id("a1"), "alice"), Access::Owner);
        let call = r.call_started(&id("a2"));
        assert_eq!(opened(&r, "a4", "alice"), [id("a3")]);
        assert_eq!(r.count("alice"), 3);
        assert_eq!(r.count("bob"), 1);
        assert_eq!(r.access(&id("a3"), "alice"), Access::NotFound);
        // Now a1 (used before a4) goes; a2 is still busy.
        assert_eq!(opened(&r, "a5", "alice"), [id("a1")]);
        // Every one busy: the least recently used goes all the same.
        let _c4 = r.call_started(&id("a4"));
        let _c5 = r.call_started(&id("a5"));
        assert_eq!(opened(&r, "a6", "alice"), [id("a2")]);
        drop(call);
        assert_eq!(r.count("alice"), 3);
    }

    #[test]
    fn a_lower_cap_after_a_restart_is_reached_in_one_initialize() {
        let r = Registry::new(1);
        r.open(&id("x"));
        r.open(&id("y"));
        r.bind(&id("x"), "alice");
        // Forced in by hand: two sessions of alice already.
        r.state().sessions.get_mut(&id("y")).unwrap().agent = Some("alice".into());
        let mut gone = opened(&r, "z", "alice");
        gone.sort();
        assert_eq!(gone, [id("x"), id("y")]);
        assert_eq!(r.count("alice"), 1);
    }
}
