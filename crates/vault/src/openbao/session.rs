//! The HTTP exchange with the server and keyward's token: login,
//! lookup, renewal before the lease runs out, and one re-login on a 403.

use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::Client;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde::Serialize;
use url::Url;
use zeroize::Zeroizing;

use super::OpenBaoError;
use super::client::{Answer, Creds, OpenBao, Setup, Token, lock, setup_err, status_error};
use super::error::server_errors;
use super::kv;
use super::path::api_url;
use crate::SecretValue;

/// Largest answer read (KV secrets are small).
const MAX_ANSWER: usize = 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

impl OpenBao {
    fn http(&self, setup: &Setup) -> Result<&Client, OpenBaoError> {
        let client = self.inner.http.get_or_init(|| {
            Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(REQUEST_TIMEOUT)
                // A redirect would carry X-Vault-Token to wherever it points.
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| root_cause(&e))
        });
        client.as_ref().map_err(|detail| OpenBaoError::Transport {
            address: setup.address_text(),
            detail: detail.clone(),
        })
    }

    pub(super) fn send(
        &self,
        setup: &Setup,
        method: Method,
        url: Url,
        token: Option<&SecretValue>,
        body: Option<&[u8]>,
    ) -> Result<Answer, OpenBaoError> {
        let address = setup.address_text();
        let mut req = self
            .http(setup)?
            .request(method, url)
            .header("X-Vault-Request", "true");
        if let Some(ns) = &setup.namespace {
            req = req.header("X-Vault-Namespace", ns.as_str());
        }
        if let Some(t) = token {
            let mut v = HeaderValue::from_bytes(t.expose())
                .map_err(|_| setup_err("the token has characters an HTTP header cannot carry"))?;
            v.set_sensitive(true);
            req = req.header("X-Vault-Token", v);
        }
        if let Some(b) = body {
            req = req
                .header(CONTENT_TYPE, "application/json")
                .body(b.to_vec());
        }
        let resp = req.send().map_err(|e| {
            if e.is_timeout() {
                OpenBaoError::Timeout {
                    address: address.clone(),
                }
            } else if e.is_connect() {
                OpenBaoError::Connect {
                    address: address.clone(),
                    detail: root_cause(&e),
                }
            } else {
                OpenBaoError::Transport {
                    address: address.clone(),
                    detail: root_cause(&e),
                }
            }
        })?;
        let status = resp.status().as_u16();
        let hint = resp.content_length().unwrap_or(0);
        let body = crate::fsio::read_bounded(resp, hint, MAX_ANSWER)
            .map_err(|e| OpenBaoError::Transport {
                address: address.clone(),
                detail: format!("reading the answer: {e}"),
            })?
            .ok_or_else(|| OpenBaoError::BadResponse {
                address,
                what: "a request".into(),
                detail: format!("the answer is larger than {MAX_ANSWER} bytes"),
            })?;
        Ok(Answer { status, body })
    }

    /// A request with keyward's token. With AppRole, a 403 may mean the
    /// token was revoked or expired early: log in again once and retry.
    pub(super) fn authed(
        &self,
        setup: &Setup,
        method: Method,
        url: Url,
        body: Option<&[u8]>,
        _what: &str,
    ) -> Result<Answer, OpenBaoError> {
        let token = self.token(setup)?;
        let a = self.send(setup, method.clone(), url.clone(), Some(&token), body)?;
        if a.status == 403 && matches!(setup.creds, Creds::AppRole { .. }) {
            *lock(&self.inner.token) = None;
            let token = self.token(setup)?;
            return self.send(setup, method, url, Some(&token), body);
        }
        Ok(a)
    }

    /// The token to use now, logging in, looking up or renewing first as
    /// its lease requires.
    fn token(&self, setup: &Setup) -> Result<SecretValue, OpenBaoError> {
        let mut slot = lock(&self.inner.token);
        let now = Instant::now();
        let fresh = match slot.take() {
            None => self.first_token(setup)?,
            Some(t) if near_end(&t, now) => {
                let renewed = if t.renewable {
                    self.renew(setup, &t).ok().filter(|r| !near_end(r, now))
                } else {
                    None
                };
                match (renewed, &setup.creds) {
                    (Some(r), _) => r,
                    (None, Creds::AppRole { role_id, secret_id }) => {
                        self.login(setup, role_id, secret_id)?
                    }
                    // A static token that cannot be renewed is used until
                    // the server refuses it (the error says it may have expired).
                    (None, Creds::Token(_)) => t,
                }
            }
            Some(t) => t,
        };
        let value = fresh.value.clone();
        *slot = Some(fresh);
        Ok(value)
    }

    fn first_token(&self, setup: &Setup) -> Result<Token, OpenBaoError> {
        match &setup.creds {
            Creds::AppRole { role_id, secret_id } => self.login(setup, role_id, secret_id),
            Creds::Token(value) => {
                // Learn the lease; if the lookup fails, go on without one
                // (the read then reports what is wrong with the token).
                let info = api_url(&setup.address, &["auth", "token", "lookup-self"])
                    .ok()
                    .and_then(|url| self.send(setup, Method::GET, url, Some(value), None).ok())
                    .filter(|a| a.status == 200)
                    .and_then(|a| kv::parse_lookup(&a.body).ok());
                Ok(match info {
                    Some(i) => lease_token(value.clone(), i.ttl, i.renewable),
                    None => lease_token(value.clone(), Duration::ZERO, false),
                })
            }
        }
    }

    fn login(
        &self,
        setup: &Setup,
        role_id: &SecretValue,
        secret_id: &SecretValue,
    ) -> Result<Token, OpenBaoError> {
        let address = setup.address_text();
        let login_err = |detail: String| OpenBaoError::Login {
            address: address.clone(),
            detail,
        };
        let (Ok(role), Ok(secret)) = (role_id.expose_str(), secret_id.expose_str()) else {
            return Err(login_err(
                "the role id or secret id is not UTF-8 text".into(),
            ));
        };
        #[derive(Serialize)]
        struct Login<'a> {
            role_id: &'a str,
            secret_id: &'a str,
        }
        let mut body = Zeroizing::new(Vec::with_capacity(6 * (role.len() + secret.len()) + 64));
        serde_json::to_writer(
            &mut *body,
            &Login {
                role_id: role,
                secret_id: secret,
            },
        )
        .map_err(|e| login_err(e.to_string()))?;
        let url = api_url(&setup.address, &["auth", "approle", "login"])?;
        let a = self.send(setup, Method::POST, url, None, Some(&body))?;
        match a.status {
            200 => {
                let auth = kv::parse_auth(&a.body).map_err(login_err)?;
                let token = auth
                    .token
                    .ok_or_else(|| login_err("the answer holds no token".into()))?;
                Ok(lease_token(token, auth.lease, auth.renewable))
            }
            400 | 403 => Err(login_err(format!(
                "the role id or secret id was refused{}",
                server_errors(&kv::parse_errors(&a.body))
            ))),
            _ => Err(status_error(setup, &a, "the AppRole login")),
        }
    }

    fn renew(&self, setup: &Setup, t: &Token) -> Result<Token, OpenBaoError> {
        let url = api_url(&setup.address, &["auth", "token", "renew-self"])?;
        let a = self.send(setup, Method::POST, url, Some(&t.value), Some(b"{}"))?;
        if a.status != 200 {
            return Err(status_error(setup, &a, "renewing keyward's token"));
        }
        let auth = kv::parse_auth(&a.body).map_err(|detail| OpenBaoError::BadResponse {
            address: setup.address_text(),
            what: "renewing keyward's token".into(),
            detail,
        })?;
        Ok(lease_token(
            auth.token.unwrap_or_else(|| t.value.clone()),
            auth.lease,
            auth.renewable,
        ))
    }
}

fn lease_token(value: SecretValue, lease: Duration, renewable: bool) -> Token {
    Token {
        value,
        renewable,
        lease,
        expires: (!lease.is_zero()).then(|| Instant::now() + lease),
    }
}

/// Whether a token's lease is close enough to its end to act: less than a
/// third of it left, or under 10 s (half the lease for very short ones).
fn near_end(t: &Token, now: Instant) -> bool {
    let Some(expires) = t.expires else {
        return false;
    };
    let margin = (t.lease / 3).max(Duration::from_secs(10).min(t.lease / 2));
    expires.saturating_duration_since(now) <= margin
}

/// The innermost error's text ("Connection refused (os error 111)"),
/// without reqwest's "error sending request for url (...)" wrapping.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(lease: u64, left: u64) -> (Token, Instant) {
        let now = Instant::now();
        (
            Token {
                value: SecretValue::from_str("t"),
                renewable: true,
                lease: Duration::from_secs(lease),
                expires: (lease > 0).then(|| now + Duration::from_secs(left)),
            },
            now,
        )
    }

    #[test]
    fn renewal_margin() {
        let (t, now) = token(0, 0);
        assert!(
            !near_end(&t, now),
            "a token without a lease never needs renewal"
        );
        let (t, now) = token(3600, 3000);
        assert!(!near_end(&t, now));
        let (t, now) = token(3600, 1100);
        assert!(near_end(&t, now), "under a third left");
        let (t, now) = token(20, 11);
        assert!(!near_end(&t, now));
        let (t, now) = token(20, 9);
        assert!(near_end(&t, now), "under 10 s left");
        let (t, now) = token(4, 3);
        assert!(!near_end(&t, now), "short leases: half");
        let (t, now) = token(4, 2);
        assert!(near_end(&t, now));
        let (t, now) = token(60, 0);
        assert!(near_end(&t, now), "expired");
    }
}
