/// Why an HTTP call could not be made. Messages are safe to show the agent:
/// they never contain a credential or a URL carrying one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    #[error("the request would leave the service's origin or path prefix")]
    OriginEscape,
    #[error("keyward does not send {0} requests")]
    RefusedMethod(String),
    #[error("invalid header `{name}`: {reason}")]
    BadHeader { name: String, reason: &'static str },
    #[error(
        "the credential for this service cannot be sent in a header (it contains characters not allowed there)"
    )]
    BadCredential,
    #[error("request body is {size} bytes, over the limit of {limit}")]
    RequestTooLarge { size: usize, limit: usize },
    #[error("upstream timed out after {0:?}")]
    Timeout(std::time::Duration),
    #[error("cannot connect to the upstream: {0}")]
    Connect(String),
    #[error("upstream error: {0}")]
    Upstream(String),
}

impl HttpError {
    /// Maps a reqwest error to a message without the URL, which may hold a
    /// query-string credential.
    pub(crate) fn from_reqwest(e: reqwest::Error, timeout: std::time::Duration) -> HttpError {
        let e = e.without_url();
        if e.is_timeout() {
            HttpError::Timeout(timeout)
        } else if e.is_connect() {
            HttpError::Connect(root_cause(&e))
        } else {
            HttpError::Upstream(root_cause(&e))
        }
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
