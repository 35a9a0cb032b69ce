//! Performs the call through the connector.

use std::time::Duration;

use keyward_connectors::http::{Credential, HttpError, HttpRequest, HttpResponse, prepare};

use super::route::HttpTarget;
use crate::Gateway;

/// The upstream's answer, and what keyward removed from the request.
pub struct Sent {
    pub response: HttpResponse,
    pub dropped_headers: Vec<String>,
    pub bytes_sent: u64,
    /// The credential the request carried (to tell, after a 401, whether
    /// a refetch found a different one).
    pub credential: Credential,
    pub timeout: Duration,
}

/// Sends `target` with the service's current credential. The target is
/// borrowed so that a 401 can be retried once with a new credential.
pub async fn send_http(gw: &Gateway, target: &HttpTarget) -> Result<Sent, HttpError> {
    let svc = gw
        .services()
        .get(&target.service)
        .ok_or(HttpError::OriginEscape)?;
    let credential = gw
        .secrets()
        .credential(&target.service)
        .cloned()
        .ok_or(HttpError::OriginEscape)?;
    let bytes_sent = target.body.as_ref().map_or(0, |b| b.len() as u64);
    let req = HttpRequest {
        base_url: svc.service.base_url.clone(),
        method: target.method.clone(),
        path: target.path.clone(),
        query: target.query.clone(),
        query_params: target.query_params.clone(),
        headers: target.headers.clone(),
        body: target.body.clone(),
        json: target.json,
    };
    let prepared = prepare(req, &credential)?;
    let dropped_headers = prepared.dropped_headers.clone();
    let timeout = svc.service.timeout.unwrap_or(gw.limits().timeout);
    let response = gw.http().send(prepared, timeout).await?;
    Ok(Sent {
        response,
        dropped_headers,
        bytes_sent,
        credential,
        timeout,
    })
}
