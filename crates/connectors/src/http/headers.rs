//! Which headers the agent may not set, and which upstream headers it never
//! sees (SECURITY.md item 4).

/// Request headers dropped from what the agent asks for: credentials it
/// could use to replace or add to the injected one, host and forwarding
/// headers that change routing, method overrides, and hop-by-hop framing.
const DROPPED_REQUEST: &[&str] = &[
    "authorization",
    "cookie",
    "cookie2",
    "host",
    "forwarded",
    "x-real-ip",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "expect",
    "via",
    // Compression is negotiated by keyward itself: a body the scrubber cannot
    // read (compressed with an encoding keyward does not decode) could carry
    // a secret past it.
    "accept-encoding",
    // Path and method overrides honoured by IIS URL Rewrite, Symfony, Zend
    // and friends: they would make the upstream serve another resource
    // than the one the rules matched.
    "x-original-url",
    "x-rewrite-url",
    "x-override-url",
    "x-original-method",
];

/// Names are compared case-insensitively and with `_` read as `-`: CGI-style
/// servers (WSGI, PHP, Rack) turn both `X-HTTP-Method-Override` and
/// `X_HTTP_METHOD_OVERRIDE` into the same `HTTP_X_HTTP_METHOD_OVERRIDE`.
pub fn is_dropped_request_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('_', "-");
    DROPPED_REQUEST.contains(&n.as_str())
        || n.starts_with("proxy-")
        || n.starts_with("x-forwarded-")
        || n.starts_with(':')
}

/// Methods keyward never sends. `CONNECT` makes the HTTP stack rewrite the
/// request target to `host:port`, so the path that was matched is not the
/// one sent (and the base path prefix is lost); `TRACE`/`TRACK` exist to
/// echo the request, credential included.
pub fn is_refused_method(method: &str) -> bool {
    matches!(
        method.to_ascii_uppercase().as_str(),
        "CONNECT" | "TRACE" | "TRACK"
    )
}

/// Response headers the agent does not get: session cookies the service
/// hands out, and hop-by-hop framing that means nothing past keyward.
pub fn is_dropped_response_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "set-cookie"
            | "set-cookie2"
            | "connection"
            | "keep-alive"
            | "transfer-encoding"
            | "proxy-authenticate"
            | "proxy-connection"
            | "upgrade"
            | "trailer"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangerous_request_headers_are_dropped_in_any_case() {
        for h in [
            "Authorization",
            "AUTHORIZATION",
            "Cookie",
            "Proxy-Authorization",
            "proxy-anything",
            "Host",
            "X-Forwarded-Host",
            "x-forwarded-for",
            "Forwarded",
            "X-HTTP-Method-Override",
            "X-Method-Override",
            "Transfer-Encoding",
            "Connection",
            "Content-Length",
            ":authority",
            "X_HTTP_METHOD_OVERRIDE",
            "x_forwarded_host",
            "Proxy_Authorization",
            "X-Original-URL",
            "X-Rewrite-Url",
            "ACCEPT-ENCODING",
        ] {
            assert!(is_dropped_request_header(h), "{h}");
        }
        for h in ["Accept", "Content-Type", "Stripe-Version", "X-Request-Id"] {
            assert!(!is_dropped_request_header(h), "{h}");
        }
    }

    #[test]
    fn cookies_never_reach_the_agent() {
        assert!(is_dropped_response_header("Set-Cookie"));
        assert!(!is_dropped_response_header("Content-Type"));
    }
}
