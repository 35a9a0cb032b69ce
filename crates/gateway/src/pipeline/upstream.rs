//! Performs the call through the connector.

use keyward_connectors::http::{HttpError, HttpRequest, HttpResponse, prepare};

use super::route::HttpTarget;
use crate::Gateway;

/// The upstream's answer, and what keyward removed from the request.
pub struct Sent {
    pub response: HttpResponse,
    pub dropped_headers: Vec<String>,
    pub bytes_sent: u64,
}

pub async fn send_http(gw: &Gateway, target: HttpTarget) -> Result<Sent, HttpError> {
    let svc = gw
        .services()
        .get(&target.service)
        .ok_or(HttpError::OriginEscape)?;
    let bytes_sent = target.body.as_ref().map_or(0, |b| b.len() as u64);
    let req = HttpRequest {
        base_url: svc.service.base_url.clone(),
        method: target.method,
        path: target.path,
        query: target.query,
        query_params: target.query_params,
        headers: target.headers,
        body: target.body,
        json: target.json,
    };
    let prepared = prepare(req, &svc.credential)?;
    let dropped_headers = prepared.dropped_headers.clone();
    let timeout = svc.service.timeout.unwrap_or(gw.limits().timeout);
    let response = gw.http().send(prepared, timeout).await?;
    Ok(Sent {
        response,
        dropped_headers,
        bytes_sent,
    })
}
