//! The approvals dashboard, served by `keyward serve --http` at `/`: the
//! questions waiting for a human, the grants in force, the lock, the
//! config banner and the last audit records, updated live.
//!
//! ```text
//! GET  /login, POST /login (passphrase)  ─▶ session cookie + CSRF token
//! GET  /                                  the page (login required)
//! GET  /events                            server-sent events: the live part, re-rendered
//! POST /answer /revoke /lock /unlock /logout   (session + CSRF token)
//! GET  /assets/dashboard.{css,js}         the page's own style and script
//! ```
//!
//! Who may do what: everything but the login page needs a session, and a
//! session needs the vault passphrase — an agent running as the same user
//! can reach this page but cannot log in. Within a session, approving,
//! denying, revoking and locking take one click; unlocking asks for the
//! passphrase again (as `keyward unlock` does). Wrong login passphrases
//! are slowed per client ([`backoff`]: 429 with `Retry-After`, no KDF run),
//! and the dashboard checks passphrases on a queue of its own, so guesses
//! here never delay the terminal's `keyward approve`/`unlock`. Answers go through
//! [`settle`](crate::pipeline::approval::settle), which audits them with
//! the channel `dashboard`.
//!
//! The browser side: the cookie is `HttpOnly; SameSite=Strict; Path=/`,
//! without `Secure` (the service is plain HTTP on loopback); every
//! state-changing request carries the session's CSRF token; every response
//! has a CSP of `default-src 'self'` (the page's script and style are files
//! of this service, nothing inline, nothing external) and refuses framing.
//! The HTTP service's Host/Origin guard (DNS rebinding) runs before all of
//! this.

mod actions;
mod backoff;
mod live;
mod security;
mod sessions;
mod view;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;

use crate::Gateway;
use crate::approvals::{Clock, PassphraseCheck, SystemClock};
pub use sessions::{IDLE, MAX_AGE};

/// Largest form accepted (a passphrase and a few ids).
const MAX_FORM: usize = 16 * 1024;

/// How the dashboard is set up by the service that serves it.
#[derive(Clone, Debug)]
pub struct Options {
    /// The service's port: it names the session cookie, so that two
    /// keywards on one host (cookies ignore the port) keep their own.
    pub port: u16,
    /// The file that keeps keyward locked across restarts (`keyward
    /// lock`'s marker): the Lock button writes it, Unlock removes it.
    pub lock_marker: Option<PathBuf>,
    /// Cancelled at shutdown: open live streams end.
    pub shutdown: CancellationToken,
}

impl Options {
    pub fn new(port: u16) -> Options {
        Options {
            port,
            lock_marker: None,
            shutdown: CancellationToken::new(),
        }
    }
}

/// The dashboard's state, shared by its handlers.
#[derive(Clone)]
struct Dash {
    inner: Arc<Inner>,
}

struct Inner {
    gw: Gateway,
    sessions: sessions::Sessions,
    /// The gateway's passphrase check on the dashboard's own queue.
    check: Option<PassphraseCheck>,
    /// The login's back-off per client.
    backoff: Arc<backoff::Backoff>,
    cookie: String,
    lock_marker: Option<PathBuf>,
    shutdown: CancellationToken,
}

/// The dashboard's routes, to merge at the root of the HTTP service.
pub fn router(gw: Gateway, options: Options) -> Router {
    router_with_clock(gw, options, Arc::new(SystemClock))
}

/// Like [`router`], with the clock that sessions expire by (tests).
pub fn router_with_clock(gw: Gateway, options: Options, clock: Arc<dyn Clock>) -> Router {
    let check = gw.passphrase().map(PassphraseCheck::own_queue);
    let dash = Dash {
        inner: Arc::new(Inner {
            gw,
            sessions: sessions::Sessions::new(clock.clone(), IDLE),
            check,
            backoff: Arc::new(backoff::Backoff::new(clock)),
            cookie: format!("keyward_session_{}", options.port),
            lock_marker: options.lock_marker,
            shutdown: options.shutdown,
        }),
    };
    Router::new()
        .route("/", get(actions::page))
        .route("/login", get(actions::login_page).post(actions::login))
        .route("/logout", post(actions::logout))
        .route("/answer", post(actions::answer))
        .route("/revoke", post(actions::revoke))
        .route("/lock", post(actions::lock))
        .route("/unlock", post(actions::unlock))
        .route("/events", get(live::events))
        .route("/assets/dashboard.css", get(security::css))
        .route("/assets/dashboard.js", get(security::js))
        .layer(DefaultBodyLimit::max(MAX_FORM))
        .with_state(dash)
        .layer(axum::middleware::from_fn(security::headers))
}
