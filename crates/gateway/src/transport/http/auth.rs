//! Bearer authentication on `/mcp`: the token names the agent. The name is
//! put in the request's extensions, where the MCP handlers read it
//! ([`crate::pipeline::session::AuthenticatedAgent`]); the token itself is
//! taken off the request before anything else sees it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::agents::AgentStore;
use crate::pipeline::session::AuthenticatedAgent;

/// The token of an `Authorization: Bearer <token>` header, if there is
/// exactly one such header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (all.next(), all.next()) else {
        return None;
    };
    let bytes = value.as_bytes();
    let scheme = bytes.get(..7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let token = bytes[7..].trim_ascii();
    (!token.is_empty()).then_some(token)
}

pub(crate) async fn require_agent(
    State(agents): State<Arc<AgentStore>>,
    mut req: Request,
    next: Next,
) -> Response {
    let presented = bearer(req.headers()).map(<[u8]>::to_vec);
    let agent = presented.as_deref().and_then(|t| agents.authenticate(t));
    req.headers_mut().remove(header::AUTHORIZATION);
    match agent {
        Some(name) => {
            req.extensions_mut().insert(AuthenticatedAgent(name));
            next.run(req).await
        }
        None => unauthorized(presented.is_some()),
    }
}

fn unauthorized(had_token: bool) -> Response {
    let (challenge, body) = if had_token {
        (
            r#"Bearer realm="keyward", error="invalid_token""#,
            "unauthorized: this agent token is not known (revoked, or mistyped); `keyward agent add NAME` makes one\n",
        )
    } else {
        (
            r#"Bearer realm="keyward""#,
            "unauthorized: send `Authorization: Bearer <token>`; `keyward agent add NAME` makes a token\n",
        )
    };
    let mut resp = (StatusCode::UNAUTHORIZED, body).into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_one_bearer_header_counts() {
        assert_eq!(bearer(&with(&["Bearer kwa_x"])), Some(&b"kwa_x"[..]));
        assert_eq!(bearer(&with(&["bearer  kwa_x "])), Some(&b"kwa_x"[..]));
        assert_eq!(bearer(&with(&["Basic a3dhX3g="])), None);
        assert_eq!(bearer(&with(&["Bearer "])), None);
        assert_eq!(bearer(&with(&["Bearer"])), None);
        assert_eq!(bearer(&with(&["Bearer kwa_x", "Bearer kwa_y"])), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
