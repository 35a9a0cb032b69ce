//! DNS-rebinding protection: every request must name the service by an
//! address it is bound to (`Host`), and a browser request must come from a
//! page of the service itself (`Origin`). A web page on some other site
//! that resolves its own name to 127.0.0.1 sends its own name as `Host`
//! and its own origin as `Origin`: both are refused with 403.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The names the service answers to, all on one port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guard {
    port: u16,
    /// Lower-case host names as they appear in a `Host` header (IPv6 in
    /// brackets).
    hosts: Vec<String>,
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Host,
    Origin,
}

impl Guard {
    /// The loopback names: `127.0.0.1`, `localhost`, `[::1]`, on `port`.
    pub fn loopback(port: u16) -> Guard {
        Guard {
            port,
            hosts: vec!["127.0.0.1".into(), "localhost".into(), "[::1]".into()],
        }
    }

    /// Also answers to `host` (a name or an IP address, without port).
    pub fn with_host(mut self, host: &str) -> Guard {
        let host = host.trim().to_ascii_lowercase();
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host
        };
        if !host.is_empty() && !self.hosts.contains(&host) {
            self.hosts.push(host);
        }
        self
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port` for every name (what `Host` may say).
    pub fn authorities(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|h| format!("{h}:{}", self.port))
            .collect()
    }

    /// `http://host:port` for every name (what `Origin` may say).
    pub fn origins(&self) -> Vec<String> {
        self.authorities()
            .into_iter()
            .map(|a| format!("http://{a}"))
            .collect()
    }

    fn names(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.to_ascii_lowercase();
        // A missing port means the scheme's default (80 for http).
        port.unwrap_or(80) == self.port && self.hosts.contains(&host)
    }

    /// Whether a `Host` value names this service.
    pub fn host_allowed(&self, host: &str) -> bool {
        match host.parse::<axum::http::uri::Authority>() {
            Ok(a) if !a.as_str().contains('@') => self.names(a.host(), a.port_u16()),
            _ => false,
        }
    }

    /// Whether an `Origin` value is a page of this service. `null` (a
    /// sandboxed or file page) is not.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        let Ok(uri) = origin.parse::<Uri>() else {
            return false;
        };
        let path_ok = matches!(uri.path_and_query().map(|p| p.as_str()), None | Some("/"))
            && !origin.ends_with('/');
        match (uri.scheme_str(), uri.authority()) {
            (Some("http"), Some(a)) if path_ok && !a.as_str().contains('@') => {
                self.names(a.host(), a.port_u16())
            }
            _ => false,
        }
    }

    /// Checks a request's headers: exactly one `Host` naming this service;
    /// no `Origin`, or exactly one that is this service.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let mut hosts = headers.get_all(header::HOST).iter();
        let host_ok = match (hosts.next(), hosts.next()) {
            (Some(h), None) => h.to_str().is_ok_and(|h| self.host_allowed(h)),
            _ => false,
        };
        if !host_ok {
            return Err(Refusal::Host);
        }
        let mut origins = headers.get_all(header::ORIGIN).iter();
        match (origins.next(), origins.next()) {
            (None, _) => Ok(()),
            (Some(o), None) if o.to_str().is_ok_and(|o| self.origin_allowed(o)) => Ok(()),
            _ => Err(Refusal::Origin),
        }
    }
}

/// The middleware: 403 for a request [`Guard::check`] refuses.
pub(crate) async fn enforce(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    match guard.check(req.headers()) {
        Ok(()) => next.run(req).await,
        Err(why) => {
            let what = match why {
                Refusal::Host => "Host",
                Refusal::Origin => "Origin",
            };
            tracing::warn!(
                header = what,
                "refused a request whose {what} header does not name this keyward service (DNS rebinding?)"
            );
            (
                StatusCode::FORBIDDEN,
                format!(
                    "forbidden: the {what} header does not name this keyward service ({})\n",
                    guard.authorities().join(", ")
                ),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn loopback_names_on_the_bound_port_pass() {
        let g = Guard::loopback(8717);
        for host in [
            "127.0.0.1:8717",
            "localhost:8717",
            "LOCALHOST:8717",
            "[::1]:8717",
        ] {
            assert_eq!(g.check(&headers(&[("host", host)])), Ok(()), "{host}");
        }
        for origin in ["http://127.0.0.1:8717", "http://localhost:8717"] {
            let h = headers(&[("host", "127.0.0.1:8717"), ("origin", origin)]);
            assert_eq!(g.check(&h), Ok(()), "{origin}");
        }
    }

    #[test]
    fn other_hosts_ports_and_missing_hosts_are_refused() {
        let g = Guard::loopback(8717);
        for host in [
            "evil.example:8717",
            "127.0.0.1:8718",
            "127.0.0.1",
            "localhost",
            "127.0.0.2:8717",
            "localhost.evil.example:8717",
            "user@127.0.0.1:8717",
            "",
            "127.0.0.1:8717/x",
        ] {
            assert_eq!(
                g.check(&headers(&[("host", host)])),
                Err(Refusal::Host),
                "{host}"
            );
        }
        assert_eq!(g.check(&HeaderMap::new()), Err(Refusal::Host));
        let two = headers(&[("host", "127.0.0.1:8717"), ("host", "evil.example")]);
        assert_eq!(g.check(&two), Err(Refusal::Host));
    }

    #[test]
    fn foreign_origins_are_refused() {
        let g = Guard::loopback(8717);
        for origin in [
            "http://evil.example",
            "http://evil.example:8717",
            "https://127.0.0.1:8717",
            "http://127.0.0.1:8718",
            "http://127.0.0.1",
            "null",
            "http://127.0.0.1:8717/",
            "http://127.0.0.1:8717/path",
            "file://",
            "",
        ] {
            let h = headers(&[("host", "127.0.0.1:8717"), ("origin", origin)]);
            assert_eq!(g.check(&h), Err(Refusal::Origin), "{origin:?}");
        }
        let two = headers(&[
            ("host", "127.0.0.1:8717"),
            ("origin", "http://127.0.0.1:8717"),
            ("origin", "http://evil.example"),
        ]);
        assert_eq!(g.check(&two), Err(Refusal::Origin));
    }

    #[test]
    fn extra_hosts_and_port_80() {
        let g = Guard::loopback(80)
            .with_host("Box.LAN")
            .with_host("fe80::1");
        assert!(g.host_allowed("box.lan"));
        assert!(g.host_allowed("box.lan:80"));
        assert!(g.host_allowed("[fe80::1]:80"));
        assert!(g.origin_allowed("http://box.lan"));
        assert!(!g.host_allowed("other.lan"));
        assert_eq!(
            g.authorities(),
            [
                "127.0.0.1:80",
                "localhost:80",
                "[::1]:80",
                "box.lan:80",
                "[fe80::1]:80"
            ]
        );
    }
}
