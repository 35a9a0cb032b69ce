use std::time::Duration;

use bytes::Bytes;

use super::headers::is_dropped_response_header;
use super::{HttpError, Prepared};

/// Sends prepared requests. One per gateway: it pools connections.
#[derive(Clone, Debug)]
pub struct HttpConnector {
    client: reqwest::Client,
}

/// Status and headers of an upstream answer, with the body still to read.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// Headers as text (lossy for non-UTF-8 values), minus cookies and
    /// hop-by-hop headers.
    pub headers: Vec<(String, String)>,
    /// A `Content-Encoding` that keyward did not decode: the body is opaque
    /// to the scrubber and must not be passed on.
    pub undecoded_encoding: Option<String>,
    inner: reqwest::Response,
    timeout: Duration,
}

impl HttpConnector {
    pub fn new() -> Result<HttpConnector, HttpError> {
        let client = reqwest::Client::builder()
            // Redirects go back to the agent as they are; following one could
            // carry the credential to another origin (SECURITY.md item 2).
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would see every credential.
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("keyward/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Upstream(e.without_url().to_string()))?;
        Ok(HttpConnector { client })
    }

    pub async fn send(&self, req: Prepared, timeout: Duration) -> Result<HttpResponse, HttpError> {
        let mut builder = self
            .client
            .request(req.method, req.url)
            .headers(req.headers)
            .timeout(timeout);
        if let Some(body) = req.body {
            builder = builder.body(body);
        }
        let inner = builder
            .send()
            .await
            .map_err(|e| HttpError::from_reqwest(e, timeout))?;
        let status = inner.status().as_u16();
        let mut headers = Vec::with_capacity(inner.headers().len());
        let mut undecoded_encoding = None;
        for (name, value) in inner.headers() {
            let name = name.as_str();
            if name == "content-encoding" && value.as_bytes() != b"identity" {
                undecoded_encoding = Some(String::from_utf8_lossy(value.as_bytes()).into_owned());
            }
            if is_dropped_response_header(name) {
                continue;
            }
            headers.push((
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            ));
        }
        Ok(HttpResponse {
            status,
            headers,
            undecoded_encoding,
            inner,
            timeout,
        })
    }
}

impl HttpResponse {
    /// The next piece of the body, as the network delivered it.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, HttpError> {
        let timeout = self.timeout;
        self.inner
            .chunk()
            .await
            .map_err(|e| HttpError::from_reqwest(e, timeout))
    }
}
