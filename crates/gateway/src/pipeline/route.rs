//! Which target the call names. Turns the agent's arguments into a typed,
//! normalised request, or says precisely what was wrong with them.

use std::collections::BTreeMap;

use keyward_connectors::http::is_refused_method;
use keyward_policy::{Method, NormalizedPath, split_path_and_query};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::Gateway;

/// Arguments of the `http_request` tool.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpArgs {
    /// Name of a service from `list_services`.
    pub service: String,
    /// HTTP method, e.g. GET or POST.
    pub method: String,
    /// Path relative to the service's base URL, starting with `/`; may end with `?query`.
    pub path: String,
    /// Extra query parameters, URL-encoded by keyward.
    #[serde(default)]
    pub query: Option<BTreeMap<String, String>>,
    /// Request headers. Credentials, cookies, Host and forwarding headers are dropped.
    #[serde(default)]
    pub headers: Option<BTreeMap<String, String>>,
    /// Raw request body (text).
    #[serde(default)]
    pub body: Option<String>,
    /// JSON request body; sent with `Content-Type: application/json`.
    #[serde(default)]
    pub json: Option<Value>,
    /// Why you make this call, in a sentence. Shown to the user when a rule
    /// asks for their confirmation; never sent upstream.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A routed HTTP call: the service exists, the method is a method, the path
/// is normalised.
#[derive(Debug)]
pub struct HttpTarget {
    pub service: String,
    pub method: Method,
    pub path: NormalizedPath,
    pub query: Option<String>,
    pub query_params: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub json: bool,
    /// The agent's stated reason (for a confirmation question only).
    pub reason: Option<String>,
}

impl HttpTarget {
    /// `POST /v1/charges on stripe`, for messages and the audit log.
    pub fn describe(&self) -> String {
        format!(
            "{} {} on {}",
            self.method.as_str(),
            self.path.as_str(),
            self.service
        )
    }
}

/// A call that could not be routed; `partial` carries what was understood,
/// so that the audit record says as much as can be said.
#[derive(Debug)]
pub struct RouteError {
    pub message: String,
    pub service: Option<String>,
    pub method: Option<String>,
}

pub fn route_http(
    gw: &Gateway,
    args: Option<Map<String, Value>>,
) -> Result<HttpTarget, RouteError> {
    route_http_args(
        gw.services().keys().map(String::as_str),
        gw.limits().max_request_bytes,
        args,
    )
}

/// [`route_http`] without the gateway: the configured service names (in
/// the order the error message lists them) and the body limit are all it
/// reads. Pure; the fuzz target `tool_args` drives it with hostile input.
pub fn route_http_args<'s>(
    services: impl Iterator<Item = &'s str> + Clone,
    max_request_bytes: usize,
    args: Option<Map<String, Value>>,
) -> Result<HttpTarget, RouteError> {
    let err = |message: String| RouteError {
        message,
        service: None,
        method: None,
    };
    let args: HttpArgs = serde_json::from_value(Value::Object(args.unwrap_or_default()))
        .map_err(|e| err(format!("invalid arguments: {e}")))?;
    let known = || RouteError {
        message: String::new(),
        service: Some(args.service.clone()),
        method: Some(args.method.clone()),
    };
    if !services.clone().any(|s| s == args.service) {
        let names: Vec<&str> = services.collect();
        return Err(RouteError {
            message: format!(
                "unknown service `{}`; known services: {}",
                super::audit::printable(&args.service, 64),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
            service: None,
            ..known()
        });
    }
    let method = Method::parse(&args.method).map_err(|e| RouteError {
        message: format!("invalid method: {e}"),
        ..known()
    })?;
    if is_refused_method(method.as_str()) {
        return Err(RouteError {
            message: format!("keyward does not send {} requests", method.as_str()),
            ..known()
        });
    }
    let (path, query) = split_path_and_query(&args.path).map_err(|e| RouteError {
        message: format!("path rejected: {e}"),
        ..known()
    })?;
    let (body, json) = match (args.body, args.json) {
        (Some(_), Some(_)) => {
            return Err(RouteError {
                message: "give either `body` or `json`, not both".into(),
                ..known()
            });
        }
        (Some(b), None) => (Some(b.into_bytes()), false),
        (None, Some(j)) => (Some(j.to_string().into_bytes()), true),
        (None, None) => (None, false),
    };
    let limit = max_request_bytes;
    if let Some(b) = body.as_ref().filter(|b| b.len() > limit) {
        return Err(RouteError {
            message: format!(
                "request body is {} bytes, over the limit of {limit}",
                b.len()
            ),
            ..known()
        });
    }
    Ok(HttpTarget {
        service: args.service,
        method,
        path,
        query,
        query_params: args.query.unwrap_or_default().into_iter().collect(),
        headers: args.headers.unwrap_or_default().into_iter().collect(),
        body,
        json,
        reason: args.reason,
    })
}
