//! The pages and the buttons. Every button is a plain form POST followed by
//! a redirect to `/` (the page works without its script); what happened is
//! told by a fixed message chosen by a code in the redirect, so nothing a
//! request sends is reflected into the page.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use keyward_audit::{Decision, Event, Kind};
use keyward_vault::SecretValue;

use super::Dash;
use super::backoff::client_key;
use super::security::{Action, Fields};
use super::sessions::Touch;
use super::view;
use crate::Gateway;
use crate::approvals::{Answer, AnswerError, Channel, PassphraseError};
use crate::pipeline::approval::{lock as lock_all, settle, unlock as unlock_all};

/// The messages a redirect may name: (code, class, text).
const FLASHES: &[(&str, &str, &str)] = &[
    ("answered", "ok", "Answered."),
    (
        "gone",
        "warn",
        "That question is no longer waiting (answered elsewhere, or it timed out).",
    ),
    ("bad-answer", "error", "That is not one of the answers."),
    ("revoked", "ok", "Grant revoked."),
    ("revoked-all", "ok", "Every grant revoked."),
    ("no-grant", "warn", "That grant is gone already."),
    ("locked", "ok", "Locked: every call is denied."),
    ("unlocked", "ok", "Unlocked."),
    (
        "wrong-passphrase",
        "error",
        "Wrong passphrase: keyward stays locked.",
    ),
    (
        "no-passphrase",
        "error",
        "This keyward cannot check a passphrase.",
    ),
];

/// Texts of the login page.
const EXPIRED: &str = "Your session ended (logged out, or idle for 15 minutes). Log in again.";
const WRONG: &str = "Wrong passphrase.";
const MISSING: &str = "Type the vault passphrase.";
const UNAVAILABLE: &str = "The passphrase cannot be checked right now; see keyward's log.";
const TOO_MANY: &str = "Too many wrong passphrases from here: wait a little, then try again \
                        (`keyward approve` and `keyward unlock` in a terminal are not held up).";

fn flash_of(uri: &Uri) -> Option<(&'static str, &'static str)> {
    let code = uri
        .query()?
        .split('&')
        .find_map(|kv| kv.strip_prefix("m="))?;
    FLASHES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, class, text)| (*class, *text))
}

fn back(code: &str) -> Response {
    Redirect::to(&format!("/?m={code}")).into_response()
}

/// `GET /`: the dashboard, or the way to the login.
pub(super) async fn page(State(dash): State<Dash>, headers: HeaderMap, uri: Uri) -> Response {
    let Some(current) = dash.session(&headers, Touch::Active) else {
        return Redirect::to("/login").into_response();
    };
    let live = dash.live_html(current.csrf()).await;
    Html(view::page(&live, current.csrf(), flash_of(&uri))).into_response()
}

/// `GET /login`.
pub(super) async fn login_page(State(dash): State<Dash>, headers: HeaderMap, uri: Uri) -> Response {
    if dash.session(&headers, Touch::Passive).is_some() {
        return Redirect::to("/").into_response();
    }
    let expired = uri
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "m=expired"));
    let can = dash.inner.gw.passphrase().is_some();
    Html(view::login(expired.then_some(EXPIRED), can)).into_response()
}

fn login_failed(dash: &Dash, status: StatusCode, message: &str) -> Response {
    let can = dash.inner.gw.passphrase().is_some();
    (status, Html(view::login(Some(message), can))).into_response()
}

/// `POST /login`: the passphrase makes a session. A client whose last
/// passphrases were wrong waits first ([`super::backoff`]): until then it
/// is answered 429 at once, without a check.
pub(super) async fn login(
    State(dash): State<Dash>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(mut fields): Form<Fields>,
) -> Response {
    let gw = &dash.inner.gw;
    let Some(check) = dash.inner.check.as_ref() else {
        return login_failed(&dash, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
    };
    let passphrase = SecretValue::from_string(fields.passphrase.take().unwrap_or_default());
    if passphrase.expose().is_empty() {
        return login_failed(&dash, StatusCode::BAD_REQUEST, MISSING);
    }
    let client = client_key(peer.map(|Extension(ConnectInfo(a))| a.ip()));
    let attempt = match dash.inner.backoff.admit(client) {
        Ok(a) => a,
        Err(wait) => {
            tracing::debug!(
                retry_after = wait.as_secs(),
                "dashboard: a login attempt came too soon after wrong ones"
            );
            let mut resp = login_failed(&dash, StatusCode::TOO_MANY_REQUESTS, TOO_MANY);
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs()));
            return resp;
        }
    };
    match check.verify(&passphrase).await {
        Ok(()) => attempt.right(),
        Err(PassphraseError::Missing) => {
            attempt.not_checked();
            return login_failed(&dash, StatusCode::BAD_REQUEST, MISSING);
        }
        Err(PassphraseError::Wrong) => {
            // The check already paused before saying so; the attempt
            // counts as wrong when dropped.
            drop(attempt);
            let _ = admin(gw, "dashboard", Decision::LoginFailed);
            return login_failed(&dash, StatusCode::UNAUTHORIZED, WRONG);
        }
        Err(PassphraseError::Unavailable(e)) => {
            attempt.not_checked();
            tracing::warn!(error = %e, "dashboard: the passphrase cannot be checked");
            return login_failed(&dash, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
        }
    }
    drop(passphrase);
    // A login that cannot be recorded does not happen.
    if admin(gw, "dashboard", Decision::Login).is_err() {
        return login_failed(&dash, StatusCode::INTERNAL_SERVER_ERROR, UNAVAILABLE);
    }
    let (token, _) = match dash.inner.sessions.create() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "dashboard: cannot make a session");
            return login_failed(&dash, StatusCode::INTERNAL_SERVER_ERROR, UNAVAILABLE);
        }
    };
    let mut resp = Redirect::to("/").into_response();
    if let Some(cookie) = dash.set_cookie(&token) {
        resp.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    resp
}

/// `POST /logout`.
pub(super) async fn logout(State(dash): State<Dash>, action: Action) -> Response {
    dash.inner.sessions.end(&action.current);
    let _ = admin(&dash.inner.gw, "dashboard", Decision::Logout);
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, dash.clear_cookie());
    resp
}

/// The answers the buttons send.
fn answer_of(s: &str) -> Option<Answer> {
    Some(match s {
        "deny" => Answer::Deny,
        "once" => Answer::Once,
        "5m" => Answer::For(Duration::from_secs(5 * 60)),
        "1h" => Answer::For(Duration::from_secs(60 * 60)),
        "session" => Answer::Session,
        _ => return None,
    })
}

/// `POST /answer`: id, answer.
pub(super) async fn answer(State(dash): State<Dash>, action: Action) -> Response {
    let f = &action.fields;
    let (Some(id), Some(answer)) = (f.id.as_deref(), f.answer.as_deref().and_then(answer_of))
    else {
        return back("bad-answer");
    };
    match settle(dash.inner.gw.desk(), id, answer, Channel::Dashboard) {
        Ok(_) => back("answered"),
        Err(AnswerError::AlreadySettled(..) | AnswerError::Unknown(_)) => back("gone"),
    }
}

/// `POST /revoke`: id, or all.
pub(super) async fn revoke(State(dash): State<Dash>, action: Action) -> Response {
    let gw = &dash.inner.gw;
    let approvals = gw.approvals();
    if action.fields.all.is_some() {
        let n = approvals.revoke_all();
        let _ = admin(gw, "dashboard", Decision::RevokeAll(n));
        return back("revoked-all");
    }
    match action.fields.id.as_deref() {
        Some(id) if approvals.revoke(id) => {
            let _ = admin(gw, "dashboard", Decision::RevokeGrant(id.into()));
            back("revoked")
        }
        _ => back("no-grant"),
    }
}

/// `POST /lock`: the kill switch, as `keyward lock`.
pub(super) async fn lock(State(dash): State<Dash>, _action: Action) -> Response {
    lock_all(dash.inner.gw.desk(), "dashboard");
    if let Some(marker) = &dash.inner.lock_marker
        && let Err(e) = crate::transport::control::write_marker(marker, "dashboard")
    {
        tracing::warn!(error = %e, path = %marker.display(), "dashboard: locked, but the lock will not survive a restart");
    }
    back("locked")
}

/// `POST /unlock`: passphrase again, as `keyward unlock`.
pub(super) async fn unlock(State(dash): State<Dash>, mut action: Action) -> Response {
    let gw = &dash.inner.gw;
    let Some(check) = dash.inner.check.as_ref() else {
        return back("no-passphrase");
    };
    let passphrase = SecretValue::from_string(action.fields.passphrase.take().unwrap_or_default());
    match check.verify(&passphrase).await {
        Ok(()) => {}
        Err(PassphraseError::Wrong | PassphraseError::Missing) => {
            let _ = admin(gw, "dashboard", Decision::WrongPassphrase);
            return back("wrong-passphrase");
        }
        Err(PassphraseError::Unavailable(e)) => {
            tracing::warn!(error = %e, "dashboard: the passphrase cannot be checked");
            return back("no-passphrase");
        }
    }
    // The marker first: this keyward's marker watch must not lock it
    // again between the unlock and the removal.
    if let Some(marker) = &dash.inner.lock_marker {
        let _ = std::fs::remove_file(marker);
    }
    unlock_all(gw.desk(), "dashboard");
    back("unlocked")
}

/// An audit record of something done on the dashboard.
fn admin(gw: &Gateway, target: &str, decision: Decision) -> Result<(), keyward_audit::AuditError> {
    crate::pipeline::audit::record(
        gw.audit(),
        Event {
            agent: "dashboard".into(),
            kind: Kind::Admin,
            target: target.into(),
            decision,
            channel: Some(Channel::Dashboard.into()),
            ..Event::default()
        },
    )
}
