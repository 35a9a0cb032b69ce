//! `vault://MOUNT/PATH#FIELD`: secrets kept in OpenBao or HashiCorp Vault,
//! KV version 2 (`GET /v1/MOUNT/data/PATH` → `data.data.FIELD`).
//!
//! # Why not `vaultrs`
//!
//! `vaultrs` 0.8 is async and pins reqwest 0.12, while the workspace (and
//! so the binary) uses reqwest 0.13: it would put a second reqwest/hyper/
//! rustls stack into keyward. What keyward needs is small — one KV v2 read,
//! one KV v2 read-modify-write, AppRole login, token renewal, a token
//! lookup, a mount lookup, a health check — so this is a small client over
//! the workspace's reqwest 0.13 (`blocking`, rustls). Blocking because
//! every caller is synchronous: `keyward serve` resolves references before
//! its runtime starts, CLI commands are sync, and refreshes in the running
//! gateway call [`Resolver::resolve`](crate::Resolver::resolve) from
//! `tokio::task::spawn_blocking` (never call it on an async worker thread).
//!
//! # Where the server and the credentials come from
//!
//! `[backends.vault]` in keyward.toml ([`OpenBaoSettings`]); each setting it
//! leaves out falls back to the environment keyward was given:
//! `VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_NAMESPACE`. The token, or AppRole's
//! role id and secret id, are themselves references (`keychain://`,
//! `env://`, `file://`, `keyward://`), resolved once when the client is
//! made. Plain `http://` is accepted only for loopback addresses: a token
//! must not cross a network in clear text.
//!
//! # Tokens
//!
//! A token's lease is learnt at first use (`auth/token/lookup-self`, or the
//! AppRole login answer). Before each request, a token with less than a
//! third of its lease left (or under 10 s) is renewed
//! (`auth/token/renew-self`) if renewable; if it cannot be renewed, AppRole
//! logs in again. A 403 with AppRole also logs in again once, then retries.
//!
//! # Cache
//!
//! A secret's fields are kept in memory (zeroized when dropped) for
//! `cache_ttl` (default 5 minutes) after they were fetched, so services
//! that share a path cost one request. [`OpenBao::forget`] and
//! [`Resolver::resolve_fresh`](crate::Resolver::resolve_fresh) force the
//! next read to go to the server (for "the upstream said 401: fetch again").
//!
//! # Limits
//!
//! Answers are read into zeroizing buffers and field values decoded into
//! [`SecretValue`]s, but reqwest/hyper's own buffers (answers in flight,
//! request bodies carrying a secret id or a written value) are not zeroed.

mod client;
mod error;
mod kv;
mod path;
mod session;

use std::time::Duration;

use url::Url;

use crate::SecretRef;

pub use client::OpenBao;
pub use error::OpenBaoError;

/// How long fetched values are kept unless `cache_ttl` says otherwise.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);

/// `[backends.vault]`, validated. `None` fields fall back to the
/// environment (`VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_NAMESPACE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenBaoSettings {
    pub address: Option<Url>,
    pub auth: Option<OpenBaoAuth>,
    pub namespace: Option<String>,
    pub cache_ttl: Duration,
}

impl Default for OpenBaoSettings {
    fn default() -> Self {
        OpenBaoSettings {
            address: None,
            auth: None,
            namespace: None,
            cache_ttl: DEFAULT_CACHE_TTL,
        }
    }
}

/// How keyward logs in. Every credential is a reference, never a literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpenBaoAuth {
    Token(SecretRef),
    AppRole {
        role_id: SecretRef,
        secret_id: SecretRef,
    },
}

impl OpenBaoAuth {
    /// `(key, reference)` for each credential, for messages and checks.
    pub fn refs(&self) -> Vec<(&'static str, &SecretRef)> {
        match self {
            OpenBaoAuth::Token(t) => vec![("token", t)],
            OpenBaoAuth::AppRole { role_id, secret_id } => {
                vec![("role_id", role_id), ("secret_id", secret_id)]
            }
        }
    }
}

/// Whether `url` may be a backend address: http(s), a host, nothing but an
/// optional path prefix, and `http` only for loopback hosts.
pub fn check_address(url: &Url) -> Result<(), String> {
    let shown = url.as_str();
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if !loopback {
                return Err(format!(
                    "`{shown}`: plain http sends the token in clear text; use https (http is \
                     accepted only for 127.0.0.1, ::1 and localhost)"
                ));
            }
        }
        other => return Err(format!("`{shown}`: scheme `{other}` is not http or https")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{shown}` has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{shown}` contains credentials; use `token` or AppRole"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{shown}` has a query or fragment"));
    }
    Ok(())
}

/// Parses and checks an address (from keyward.toml or `VAULT_ADDR`).
pub fn parse_address(s: &str) -> Result<Url, String> {
    let url = Url::parse(s.trim()).map_err(|e| format!("`{s}` is not a valid URL: {e}"))?;
    check_address(&url)?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ok in [
            "https://bao.example.com",
            "https://bao.example.com:8200/prefix",
            "http://127.0.0.1:8200",
            "http://localhost:8200",
            "http://[::1]:8200",
        ] {
            assert!(parse_address(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://bao.example.com:8200",
            "http://10.0.0.1:8200",
            "ftp://127.0.0.1",
            "https://user:pw@bao.example.com",
            "https://bao.example.com/?x=1",
            "https://bao.example.com/#f",
            "not a url",
        ] {
            assert!(parse_address(bad).is_err(), "{bad}");
        }
    }
}
