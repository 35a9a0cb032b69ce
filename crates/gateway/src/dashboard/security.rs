//! The browser-facing rules: response headers, the session cookie, and the
//! check every state-changing request passes (session, then CSRF token).

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use zeroize::Zeroize;

use super::Dash;
use super::sessions::{Current, SessionToken, Touch};

/// Only this service's own files; no framing, no plugins, forms post here.
pub(super) const CSP: &str = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
                              form-action 'self'; object-src 'none'";

/// The header a script may send the CSRF token in (forms use a field).
pub(super) const CSRF_HEADER: &str = "x-csrf-token";

const CSS: &str = include_str!("assets/dashboard.css");
const JS: &str = include_str!("assets/dashboard.js");

/// Adds the security headers to every dashboard response.
pub(super) async fn headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Not `no-referrer`: under it browsers send `Origin: null` with a
        // form POST, which the rebinding guard (rightly) refuses.
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in set {
        h.insert(name, HeaderValue::from_static(value));
    }
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    resp
}

pub(super) async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

pub(super) async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        JS,
    )
        .into_response()
}

impl Dash {
    /// The request's session, if its cookie names a valid one.
    pub(super) fn session(&self, headers: &HeaderMap, touch: Touch) -> Option<Current> {
        cookie_values(headers, &self.inner.cookie)
            .into_iter()
            .find_map(|v| self.inner.sessions.check(v, touch))
    }

    /// `Set-Cookie` for a new session.
    pub(super) fn set_cookie(&self, token: &SessionToken) -> Option<HeaderValue> {
        // No `Secure`: plain HTTP on loopback (see the module docs).
        HeaderValue::from_str(&format!(
            "{}={}; HttpOnly; SameSite=Strict; Path=/",
            self.inner.cookie,
            token.expose()
        ))
        .ok()
    }

    /// `Set-Cookie` that removes the session cookie.
    pub(super) fn clear_cookie(&self) -> HeaderValue {
        HeaderValue::from_str(&format!(
            "{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
            self.inner.cookie
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("keyward_session=; Max-Age=0"))
    }
}

/// Every value of cookie `name` in the request's `Cookie` headers.
fn cookie_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The fields of the dashboard's forms (each form uses some).
#[derive(Default, Deserialize)]
pub(super) struct Fields {
    pub csrf: Option<String>,
    pub id: Option<String>,
    pub answer: Option<String>,
    pub all: Option<String>,
    /// Unlock and login only; zeroed on drop.
    pub passphrase: Option<String>,
}

impl Drop for Fields {
    fn drop(&mut self) {
        if let Some(p) = &mut self.passphrase {
            p.zeroize();
        }
    }
}

/// A state-changing request that passed the checks: a valid session
/// (else 401), a readable form (else 400), the session's CSRF token in the
/// form or the `X-CSRF-Token` header (else 403).
pub(super) struct Action {
    pub current: Current,
    pub fields: Fields,
}

impl FromRequest<Dash> for Action {
    type Rejection = Response;

    async fn from_request(req: Request, dash: &Dash) -> Result<Action, Response> {
        let Some(current) = dash.session(req.headers(), Touch::Active) else {
            return Err(login_required());
        };
        let header_token = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let fields = if req.headers().contains_key(header::CONTENT_TYPE) {
            match axum::Form::<Fields>::from_request(req, dash).await {
                Ok(axum::Form(f)) => f,
                Err(_) => {
                    return Err((
                        StatusCode::BAD_REQUEST,
                        "bad request: not a dashboard form\n",
                    )
                        .into_response());
                }
            }
        } else {
            Fields::default()
        };
        let presented = fields.csrf.as_deref().or(header_token.as_deref());
        if !presented.is_some_and(|t| current.csrf_matches(t)) {
            tracing::warn!("dashboard: refused a request without this session's CSRF token");
            return Err((
                StatusCode::FORBIDDEN,
                "forbidden: missing or wrong CSRF token; reload the dashboard and try again\n",
            )
                .into_response());
        }
        Ok(Action { current, fields })
    }
}

/// 401 for a request that needs a session and has none.
pub(super) fn login_required() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        "unauthorized: log in to the dashboard first (/login)\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cookie_values_are_found_in_every_cookie_header() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; keyward_session_9=xyz ; b=2"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("keyward_session_9=second"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("keyward_session_90=other"),
        );
        assert_eq!(cookie_values(&h, "keyward_session_9"), ["xyz", "second"]);
        assert!(cookie_values(&h, "keyward_session_8").is_empty());
    }
}
