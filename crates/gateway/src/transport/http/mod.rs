//! `keyward serve --http`: one long-running service per user. MCP over
//! Streamable HTTP at `/mcp` (rmcp's `StreamableHttpService`), for any
//! number of agents at once, all on one [`Gateway`] — one set of upstream
//! servers, one rate limiter, one audit log.
//!
//! ```text
//! request ─▶ guard (Host/Origin, 403) ─▶ /mcp: bearer token (401) ─▶ session owner (404) ─▶ rmcp ─▶ KeywardServer
//!                                     ─▶ /healthz
//!                                     ─▶ the caller's extra routes (the dashboard at /)
//! ```
//!
//! - Sessions: clients that `initialize` (2025-03-26 … 2025-11-25) get a
//!   session (`Mcp-Session-Id`), with server-to-client requests and
//!   notifications on its streams; 2026-07-28 requests are served
//!   statelessly, each on its own, with their `Mcp-Method`/`Mcp-Name`
//!   headers checked against the body by rmcp.
//! - Identity: each request's agent is the name of its bearer token
//!   ([`agents`]), never what the client says about itself.
//! - A session is its agent's: another token naming it gets 404, and one
//!   agent holds at most `[http] max_sessions_per_agent` ([`sessions`]).

pub mod agents;
mod auth;
pub mod bridge;
pub mod guard;
pub mod runfile;
mod sessions;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::serve::ListenerExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::{Gateway, KeywardServer};
pub use agents::{AgentError, AgentInfo, AgentStore};
/// For callers that build the extra routes and own the shutdown token.
pub use axum::Router;
pub use guard::Guard;
pub use keyward_config::HttpSettings;
pub use tokio_util::sync::CancellationToken;

/// Where `keyward serve --http` listens unless told otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8717";

/// An initialized session with no request for this long is closed (its
/// client then initializes again).
pub const SESSION_IDLE: Duration = Duration::from_secs(60 * 60);

/// After a shutdown was asked for, open connections get this long to end.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Largest request body (an MCP message) accepted.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// The service's routes. `extra` is merged at the root (the dashboard's
/// router, answering at `/`); the [`Guard`] covers it too, and it gets the
/// guard (with the bound port) to check its own forms' `Origin` as it
/// needs. `shutdown` ends every MCP session and stream when cancelled.
/// `settings` is keyward.toml's `[http]`.
pub fn app(
    gateway: Gateway,
    agents: Arc<AgentStore>,
    guard: Guard,
    shutdown: CancellationToken,
    extra: Router,
    settings: &HttpSettings,
) -> Router {
    let template = KeywardServer::authenticated(gateway);
    let config = StreamableHttpServerConfig::default()
        // Checked by our own guard first; rmcp's own check stays on, with
        // the same lists, as a second line.
        .with_allowed_hosts(guard.authorities())
        .with_allowed_origins(guard.origins())
        .enforce_origin_validation()
        .with_cancellation_token(shutdown)
        .with_max_request_body_bytes(MAX_BODY)
        // Sessions for clients that initialize; 2026-07-28 requests are
        // stateless whatever this says.
        .with_legacy_session_mode(true);
    let mut local = LocalSessionManager::default();
    local.session_config.keep_alive = Some(SESSION_IDLE);
    let owners = Arc::new(sessions::Registry::new(settings.max_sessions_per_agent));
    let mcp = StreamableHttpService::new(
        move || Ok(template.for_session()),
        Arc::new(sessions::BoundSessions::new(local, owners.clone())),
        config,
    );
    // Layers run last-added first: the token, then the session's owner.
    let mcp = Router::new()
        .route_service("/mcp", mcp)
        .layer(axum::middleware::from_fn_with_state(
            owners,
            sessions::check,
        ))
        .layer(axum::middleware::from_fn_with_state(
            agents,
            auth::require_agent,
        ));
    Router::new()
        .route("/healthz", get(|| async { runfile::HEALTH_BODY }))
        .merge(mcp)
        .merge(extra)
        .layer(axum::middleware::from_fn_with_state(guard, guard::enforce))
}

/// Serves `app` on `listener` (TCP_NODELAY on every accepted socket: an SSE
/// answer is a small write that Nagle would hold back ~40 ms) until
/// `shutdown` completes, then gives open connections [`SHUTDOWN_GRACE`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "cannot set TCP_NODELAY on an accepted connection");
        }
    });
    let (asked_tx, asked_rx) = tokio::sync::oneshot::channel::<()>();
    // The peer's address: the dashboard login's back-off is per client.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = asked_tx.send(());
    });
    let grace = async move {
        if asked_rx.await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        done = server => done,
        () = grace => {
            tracing::warn!("connections still open after the shutdown grace period; closing them");
            Ok(())
        }
    }
}

/// Whether `addr` is a loopback address (what the service binds to unless
/// `--allow-remote` says otherwise).
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// The guard for a service bound to `addr`: loopback names on its port,
/// plus its own IP when that is not loopback (and not the unspecified
/// address), plus `extra_hosts`.
pub fn guard_for(addr: &SocketAddr, extra_hosts: &[String]) -> Guard {
    let mut g = Guard::loopback(addr.port());
    if !addr.ip().is_loopback() && !addr.ip().is_unspecified() {
        g = g.with_host(&addr.ip().to_string());
    }
    for h in extra_hosts {
        g = g.with_host(h);
    }
    g
}
