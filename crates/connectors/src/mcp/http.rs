//! The transport of a remote upstream: Streamable HTTP over reqwest 0.13
//! (the same major version as the HTTP connector, so one reqwest in the
//! tree).

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

use super::HttpSpec;

/// Why the transport could not be built. Names the header, never its value.
pub(crate) fn transport(
    spec: &HttpSpec,
) -> Result<StreamableHttpClientTransport<reqwest::Client>, String> {
    let client = reqwest::Client::builder()
        // A redirect could carry the headers (credentials) to another
        // origin; an upstream that moved must be reconfigured instead.
        .redirect(reqwest::redirect::Policy::none())
        // A proxy from keyward's environment would see every credential.
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .tcp_nodelay(true)
        .user_agent(concat!("keyward/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {}", e.without_url()))?;

    let mut headers = HashMap::with_capacity(spec.headers.len());
    for (name, value) in &spec.headers {
        let hn = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{}` is not a valid header name", name.escape_debug()))?;
        // `from_bytes` refuses CR, LF and NUL: a value cannot add a header.
        let mut hv = HeaderValue::from_bytes(value.expose()).map_err(|_| {
            format!(
                "the value of header `{}` contains characters not allowed in a header",
                name.escape_debug()
            )
        })?;
        hv.set_sensitive(true);
        headers.insert(hn, hv);
    }
    let config =
        StreamableHttpClientTransportConfig::with_uri(spec.url.as_str()).custom_headers(headers);
    Ok(StreamableHttpClientTransport::with_client(client, config))
}
