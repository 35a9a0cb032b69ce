//! One started upstream MCP server: how it starts, and how it stops.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use keyward_redact::Scrubber;
use rmcp::ServiceExt as _;
use rmcp::model::ServerPeerInfo;
use rmcp::service::{
    ClientCacheConfig, ClientInitializeError, Peer, RoleClient, RunningServiceCancellationToken,
};

use super::child::{self, ChildControl};
use super::handler::Handler;
use super::life::Life;
use super::{McpError, UpstreamEvents, UpstreamSpec};

/// How long `start` waits for the `initialize` handshake by default. Long,
/// because `npx -y` may first download the server.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a start that failed waits for the child's last stderr lines.
const LAST_WORDS: Duration = Duration::from_millis(500);
/// Upper bound of `shutdown()` (the polite stop takes two steps of 2 s).
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(6);

/// A running upstream. Cheap to clone; the process (or HTTP session) ends
/// when `shutdown()` is called or the last clone is dropped.
#[derive(Clone)]
pub struct Upstream {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) name: String,
    pub(super) peer: Peer<RoleClient>,
    cancel: Mutex<Option<RunningServiceCancellationToken>>,
    pub(super) life: Arc<Life>,
    child: Option<ChildControl>,
    pub(super) scrubber: Scrubber,
    started_at: Instant,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.life.mark_stopping();
        self.cancel_session();
        if let Some(child) = &self.child {
            child.terminate();
        }
    }
}

impl Inner {
    fn cancel_session(&self) {
        let ct = self
            .cancel
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(ct) = ct {
            ct.cancel();
        }
    }
}

impl Upstream {
    /// Starts the upstream (spawn + `initialize`), waiting up to
    /// [`DEFAULT_START_TIMEOUT`].
    pub async fn start(
        name: &str,
        spec: UpstreamSpec,
        events: UpstreamEvents,
    ) -> Result<Upstream, McpError> {
        Upstream::start_with_timeout(name, spec, events, DEFAULT_START_TIMEOUT).await
    }

    /// Starts the upstream. For a stdio server the child gets a clean
    /// environment (see `exec::command::clean_command`): only `inherit` and
    /// `env`, nothing else of keyward's; its stderr is read line by line
    /// into `events.on_stderr`. If the handshake fails, the child is stopped
    /// and the error carries its last (scrubbed) stderr lines.
    pub async fn start_with_timeout(
        name: &str,
        spec: UpstreamSpec,
        events: UpstreamEvents,
        timeout: Duration,
    ) -> Result<Upstream, McpError> {
        let scrubber = spec.own_scrubber();
        let life = Life::new(events.on_exit.clone());
        let handler = Handler {
            on_tools_changed: events.on_tools_changed.clone(),
        };
        let (child, running) = match &spec {
            UpstreamSpec::Stdio(s) => {
                let (child, pipes) =
                    child::spawn(name, s, scrubber.clone(), events.on_stderr, life.clone())?;
                match handshake(handler.serve(pipes), &life, timeout).await {
                    Ok(running) => (Some(child), running),
                    Err(reason) => {
                        life.mark_stopping();
                        child.terminate();
                        child.wait_stderr_done(LAST_WORDS).await;
                        return Err(McpError::Initialize {
                            server: name.to_string(),
                            reason: scrubber.scrub_str(&reason).0,
                            stderr: child.tail.snapshot(),
                        });
                    }
                }
            }
            UpstreamSpec::Http(h) => {
                let transport =
                    super::http::transport(h).map_err(|reason| McpError::InvalidSpec {
                        server: name.to_string(),
                        reason,
                    })?;
                match handshake(handler.serve(transport), &life, timeout).await {
                    Ok(running) => (None, running),
                    Err(reason) => {
                        return Err(McpError::Initialize {
                            server: name.to_string(),
                            reason: scrubber.scrub_str(&reason).0,
                            stderr: Vec::new(),
                        });
                    }
                }
            }
        };
        let peer = running.peer().clone();
        // rmcp caches list results (SEP-2549) and may serve a stale copy
        // when a re-fetch fails. keyward must see every change (tool
        // pinning) and every failure (a crashed upstream), so: no cache.
        peer.set_response_cache_config(ClientCacheConfig::disabled())
            .await;
        let cancel = running.cancellation_token();
        let watcher_life = life.clone();
        tokio::spawn(async move {
            // The session loop ends when the pipe or connection closes.
            let _ = running.waiting().await;
            watcher_life.mark_gone();
        });
        life.mark_started();
        Ok(Upstream {
            inner: Arc::new(Inner {
                name: name.to_string(),
                peer,
                cancel: Mutex::new(Some(cancel)),
                life,
                child,
                scrubber,
                started_at: Instant::now(),
            }),
        })
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The upstream's `initialize` answer: capabilities, server info,
    /// instructions (text from the upstream: scrub before showing).
    pub fn peer_info(&self) -> Option<Arc<ServerPeerInfo>> {
        self.inner.peer.peer_info()
    }

    /// Whether the upstream can still answer (false once its process
    /// exited or its session closed, for whatever reason).
    pub fn is_alive(&self) -> bool {
        !self.inner.life.is_gone() && !self.inner.peer.is_transport_closed()
    }

    /// The pid of a stdio upstream's child (also its process group id).
    pub fn child_pid(&self) -> Option<u32> {
        self.inner.child.as_ref().map(|c| c.pid)
    }

    /// The child's last stderr lines (at most 20), scrubbed of this
    /// upstream's injected values. Empty for HTTP upstreams.
    pub fn recent_stderr(&self) -> Vec<String> {
        self.inner
            .child
            .as_ref()
            .map(|c| c.tail.snapshot())
            .unwrap_or_default()
    }

    /// When it started, and when it was found gone (for the supervisor's
    /// backoff).
    pub(crate) fn started_at(&self) -> Instant {
        self.inner.started_at
    }

    pub(crate) fn gone_at(&self) -> Option<Instant> {
        self.inner.life.gone_at()
    }

    /// Ends the session and stops the child: close its stdin, then SIGTERM
    /// and SIGKILL to its process group if it lingers. Returns once the
    /// child is reaped (at most about 6 s). `on_exit` is not called.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        inner.life.mark_stopping();
        inner.cancel_session();
        if let Some(child) = &inner.child {
            child.terminate();
            child.wait_exited(SHUTDOWN_LIMIT).await;
        } else {
            let _ = tokio::time::timeout(SHUTDOWN_LIMIT, inner.life.wait_gone()).await;
        }
    }
}

/// The `initialize` handshake, bounded in time and abandoned at once if
/// the child dies. The error is text: it is scrubbed by the caller.
async fn handshake<S>(
    init: impl Future<Output = Result<S, ClientInitializeError>>,
    life: &Life,
    timeout: Duration,
) -> Result<S, String> {
    tokio::select! {
        r = tokio::time::timeout(timeout, init) => match r {
            Ok(Ok(running)) => Ok(running),
            Ok(Err(ClientInitializeError::TransportError { error, context })) => {
                // Without rmcp's transport type name, which means nothing
                // to a user.
                Err(format!("{context}: {}", error.error))
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {timeout:?}")),
        },
        () = life.wait_gone() => Err("the process exited".to_string()),
    }
}
