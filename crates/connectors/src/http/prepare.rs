//! Builds the exact request that will be sent, from parts the policy stage
//! has already normalised and judged.

use base64::Engine as _;
use keyward_policy::{Method, NormalizedPath};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::headers::{is_dropped_request_header, is_refused_method};
use super::{Credential, HttpError};

/// What the gateway asks the connector to send.
#[derive(Debug)]
pub struct HttpRequest {
    pub base_url: Url,
    pub method: Method,
    /// Relative to the base URL's path prefix; already normalised.
    pub path: NormalizedPath,
    /// The raw query the agent put after `?`, already validated.
    pub query: Option<String>,
    /// Extra query parameters, form-encoded here.
    pub query_params: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Set when the body came from a JSON value.
    pub json: bool,
}

/// A request ready for the wire, and the agent headers that were dropped.
/// Its `Debug` shows no query and no header values: either may hold the
/// credential.
pub struct Prepared {
    pub method: reqwest::Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    pub dropped_headers: Vec<String>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("method", &self.method)
            .field("url", &self.display_url())
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("dropped_headers", &self.dropped_headers)
            .finish()
    }
}

impl Prepared {
    /// The URL without any query, safe to show or record.
    pub fn display_url(&self) -> String {
        let mut u = self.url.clone();
        u.set_query(None);
        u.to_string()
    }
}

/// Joins base and path, attaches the credential and filters headers.
///
/// The final URL is checked against the base: same scheme, host and port,
/// and a path under the base's prefix. Anything else is refused before a
/// byte is sent, whatever the path looked like.
pub fn prepare(req: HttpRequest, cred: &Credential) -> Result<Prepared, HttpError> {
    if is_refused_method(req.method.as_str()) {
        return Err(HttpError::RefusedMethod(req.method.as_str().to_string()));
    }
    let prefix = req.base_url.path().trim_end_matches('/');
    let mut url = req.base_url.clone();
    url.set_path(&format!("{prefix}{}", req.path.as_str()));
    url.set_query(None);
    url.set_fragment(None);

    // The agent's query goes out as written (policy validated it), unless
    // a query-string credential must displace a parameter of the same name:
    // only then is it decoded and re-encoded.
    url.set_query(req.query.as_deref().filter(|q| !q.is_empty()));
    if let Credential::Query { name, .. } = cred {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| !k.eq_ignore_ascii_case(name))
            .collect();
        url.set_query(None);
        if !kept.is_empty() {
            url.query_pairs_mut().extend_pairs(kept);
        }
    }
    let params = req.query_params.into_iter().filter(|(k, _)| match cred {
        Credential::Query { name, .. } => !k.eq_ignore_ascii_case(name),
        _ => true,
    });
    let mut params = params.peekable();
    if params.peek().is_some() || matches!(cred, Credential::Query { .. }) {
        let mut qp = url.query_pairs_mut();
        qp.extend_pairs(params);
        if let Credential::Query { name, value } = cred {
            let v = value.expose_str().map_err(|_| HttpError::BadCredential)?;
            qp.append_pair(name, v);
        }
    }

    if !same_origin(&url, &req.base_url) || !url.path().starts_with(prefix) {
        return Err(HttpError::OriginEscape);
    }

    let (mut headers, dropped_headers) = agent_headers(req.headers, cred)?;
    if req.json && !headers.contains_key(reqwest::header::CONTENT_TYPE) {
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    attach_header_credential(&mut headers, cred)?;
    let method = reqwest::Method::from_bytes(req.method.as_str().as_bytes()).map_err(|_| {
        HttpError::BadHeader {
            name: "method".into(),
            reason: "not a valid HTTP method",
        }
    })?;
    Ok(Prepared {
        method,
        url,
        headers,
        body: req.body,
        dropped_headers,
    })
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

fn agent_headers(
    raw: Vec<(String, String)>,
    cred: &Credential,
) -> Result<(HeaderMap, Vec<String>), HttpError> {
    // Compared as the dropped headers are: a CGI-style server reads
    // `X_Api_Key` as `X-Api-Key` (SECURITY.md item 4).
    let cgi = |n: &str| n.to_ascii_lowercase().replace('_', "-");
    let cred_header = cred.header_name().map(|h| cgi(&h));
    let mut map = HeaderMap::new();
    let mut dropped = Vec::new();
    for (name, value) in raw {
        let lower = name.to_ascii_lowercase();
        if is_dropped_request_header(&lower) || cred_header.as_deref() == Some(cgi(&name).as_str())
        {
            dropped.push(lower);
            continue;
        }
        let hn = HeaderName::from_bytes(name.as_bytes()).map_err(|_| HttpError::BadHeader {
            name: truncate(&name),
            reason: "not a valid header name",
        })?;
        // from_str rejects CR, LF, NUL and other control bytes, so a value
        // cannot smuggle a second header line.
        let hv = HeaderValue::from_str(&value).map_err(|_| HttpError::BadHeader {
            name: truncate(&name),
            reason: "value contains control characters or non-ASCII bytes",
        })?;
        map.append(hn, hv);
    }
    Ok((map, dropped))
}

fn attach_header_credential(headers: &mut HeaderMap, cred: &Credential) -> Result<(), HttpError> {
    let (name, mut value) = match cred {
        Credential::None | Credential::Query { .. } => return Ok(()),
        Credential::Bearer(token) => {
            let mut v = b"Bearer ".to_vec();
            v.extend_from_slice(token.expose());
            (reqwest::header::AUTHORIZATION, v)
        }
        Credential::Basic { username, password } => {
            let mut plain = zeroize::Zeroizing::new(format!("{username}:").into_bytes());
            plain.extend_from_slice(password.expose());
            let enc =
                zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*plain));
            let mut v = b"Basic ".to_vec();
            v.extend_from_slice(enc.as_bytes());
            (reqwest::header::AUTHORIZATION, v)
        }
        Credential::Header { name, value } => (
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| HttpError::BadCredential)?,
            value.expose().to_vec(),
        ),
    };
    // The header map keeps its own copy (in `bytes::Bytes`, which does not
    // zeroize); ours is wiped now, and the map is dropped with the request.
    let hv = HeaderValue::from_bytes(&value);
    zeroize::Zeroize::zeroize(&mut value);
    let mut hv = hv.map_err(|_| HttpError::BadCredential)?;
    hv.set_sensitive(true);
    headers.insert(name, hv);
    Ok(())
}

fn truncate(s: &str) -> String {
    s.chars()
        .take(64)
        .collect::<String>()
        .escape_debug()
        .to_string()
}

#[cfg(test)]
#[path = "prepare_tests.rs"]
mod tests;
