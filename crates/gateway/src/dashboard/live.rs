//! Live updates: `GET /events` is a server-sent event stream that sends the
//! live part of the page, rendered again, whenever the approval state
//! changes (a question asked or answered, a grant made or revoked, the
//! lock) — fed by [`Approvals::subscribe`](crate::approvals::Approvals::subscribe)
//! — and every few seconds, for grants that expire and the session. The
//! stream does not keep the session alive; when the session ends it sends
//! `expired` and closes, and the page goes to the login.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use tokio::sync::watch;

use super::Dash;
use super::security::login_required;
use super::sessions::{Current, Touch};
use super::view::{self, Snapshot};

/// How many audit records the page shows.
const AUDIT_LINES: usize = 12;

/// Re-render at least this often (expiring grants, new audit records, the
/// session's end). Only a change is sent.
const TICK: Duration = Duration::from_secs(5);

impl Dash {
    /// The state the live part shows, now.
    pub(super) async fn snapshot(&self) -> Snapshot {
        let gw = &self.inner.gw;
        let approvals = gw.approvals();
        let path = gw.audit().path().to_path_buf();
        let audit =
            tokio::task::spawn_blocking(move || keyward_audit::read_last(&path, AUDIT_LINES))
                .await
                .ok()
                .and_then(Result::ok);
        Snapshot {
            locked: approvals.is_locked(),
            notice: gw.config_notice().map(str::to_string),
            can_unlock: gw.passphrase().is_some(),
            pending: approvals.pending(),
            grants: approvals.grants(),
            audit,
        }
    }

    /// The live part, rendered for a session with CSRF token `csrf`.
    pub(super) async fn live_html(&self, csrf: &str) -> String {
        view::live(&self.snapshot().await, csrf)
    }
}

/// `GET /events`.
/// `h` is the [`view::hash`] of what the page shows already.
pub(super) async fn events(State(dash): State<Dash>, headers: HeaderMap, uri: Uri) -> Response {
    let Some(current) = dash.session(&headers, Touch::Passive) else {
        return login_required();
    };
    let shown = uri
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("h=")))
        .map(str::to_string);
    let changes = dash.inner.gw.approvals().subscribe();
    Sse::new(stream(dash, current, changes, shown))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

struct Feed {
    dash: Dash,
    current: Current,
    changes: watch::Receiver<u64>,
    last: Option<String>,
    /// The hash of what the page showed when it opened the stream.
    shown: Option<String>,
    ended: bool,
}

fn stream(
    dash: Dash,
    current: Current,
    changes: watch::Receiver<u64>,
    shown: Option<String>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let feed = Feed {
        dash,
        current,
        changes,
        last: None,
        shown,
        ended: false,
    };
    futures::stream::unfold(feed, |mut f| async move {
        if f.ended {
            return None;
        }
        loop {
            if f.last.is_some() {
                let shutdown = f.dash.inner.shutdown.clone();
                tokio::select! {
                    () = shutdown.cancelled() => return None,
                    changed = f.changes.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                    }
                    () = tokio::time::sleep(TICK) => {}
                }
            }
            if !f.dash.inner.sessions.still_valid(&f.current) {
                f.ended = true;
                return Some((Ok(Event::default().event("expired").data("")), f));
            }
            let html = f.dash.live_html(f.current.csrf()).await;
            if f.last.is_none() && f.shown.take() == Some(view::hash(&html)) {
                // The page shows this already.
                f.last = Some(html);
                continue;
            }
            if f.last.as_deref() != Some(html.as_str()) {
                // `esc` keeps carriage returns out; one more guard, as an
                // event's data must not hold one.
                let data = html.replace('\r', "");
                f.last = Some(html);
                return Some((Ok(Event::default().event("state").data(data)), f));
            }
        }
    })
}
