//! An `http_request`: routed to a configured service, sent by the HTTP
//! connector with the service's credential, the answer's headers and body
//! scrubbed as they stream in.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use keyward_audit::{Decision, Event};
use keyward_config::Limits;
use keyward_connectors::http::{HttpRequest, HttpResponse, is_refused_method, prepare};
use keyward_policy::{
    GrantScope, Method, NormalizedPath, RuleRef, Rules, Target, split_path_and_query,
};
use keyward_redact::Scrubber;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Kind;
use crate::approvals::Ask;
use crate::pipeline::approval::{self, Approved};
use crate::pipeline::inject::Credential;
use crate::pipeline::redact::{self, Scrubbed};
use crate::pipeline::route::{Tables, Unavailable, refuse_unavailable};
use crate::pipeline::{Call, Stages, Stop, ToolOutcome, audit};

/// The `http_request` tool.
pub struct Http;

/// The upstream's answer, and the request headers keyward dropped.
pub struct Sent {
    response: HttpResponse,
    dropped: Vec<String>,
}

impl Kind for Http {
    const KIND: &'static str = "http";
    type Routed = HttpTarget;
    type Response = Sent;
    type Clean = (Scrubbed, Vec<String>);
    type Answer = ToolOutcome;

    async fn route(st: &Stages, call: &Call, rec: &mut Event) -> Result<HttpTarget, Stop> {
        let routed = route_http_args(
            st.tables.services.keys().map(String::as_str),
            st.tables.limits.max_request_bytes,
            call.args.clone(),
        );
        match routed {
            Ok(t) => {
                rec.target = t.service.clone();
                rec.method = Some(t.method.as_str().to_string());
                rec.path = Some(t.path.as_str().to_string());
                if let Some(reason) = st
                    .tables
                    .services
                    .get(&t.service)
                    .and_then(Unavailable::unavailable)
                {
                    let what = format!("service `{}`", t.service);
                    return Err(refuse_unavailable(&what, reason));
                }
                Ok(t)
            }
            Err(e) => {
                rec.target = e.service.unwrap_or_default();
                rec.method = e.method.map(|m| audit::printable(&m, 32));
                Err(Stop::refused(
                    Decision::Error,
                    format!("error: {}", e.message),
                ))
            }
        }
    }

    fn target(t: &HttpTarget) -> Target<'_> {
        Target::Http {
            service: &t.service,
            method: &t.method,
            path: &t.path,
        }
    }

    fn rules<'t>(tables: &'t Tables, t: &HttpTarget) -> Rules<'t> {
        tables
            .services
            .get(&t.service)
            .map_or(Rules::Http(&[]), |rt| Rules::Http(&rt.service.rules))
    }

    fn describe(t: &HttpTarget) -> String {
        t.describe()
    }

    fn question(
        st: &Stages,
        call: &Call,
        t: &HttpTarget,
        rule: Option<&RuleRef>,
    ) -> Result<Ask, Stop> {
        ask_http(st, call, t, rule).map_err(|message| Stop::refused(Decision::Deny, message))
    }

    fn timeout(tables: &Tables, t: &HttpTarget) -> Duration {
        tables
            .services
            .get(&t.service)
            .and_then(|rt| rt.service.timeout)
            .unwrap_or(tables.limits.timeout)
    }

    async fn perform(
        st: &Stages,
        t: &HttpTarget,
        credential: &Credential,
        _approved: Option<&Approved>,
        rec: &mut Event,
    ) -> Result<Sent, Stop> {
        let (Some(svc), Credential::Http(credential)) =
            (st.tables.services.get(&t.service), credential)
        else {
            return Err(Stop::failed("the request would leave the service's origin"));
        };
        let req = HttpRequest {
            base_url: svc.service.base_url.clone(),
            method: t.method.clone(),
            path: t.path.clone(),
            query: t.query.clone(),
            query_params: t.query_params.clone(),
            headers: t.headers.clone(),
            body: t.body.clone(),
            json: t.json,
        };
        let prepared = prepare(req, credential).map_err(|e| Stop::failed(e.to_string()))?;
        rec.bytes_sent =
            Some(rec.bytes_sent.unwrap_or(0) + t.body.as_ref().map_or(0, |b| b.len() as u64));
        let dropped = prepared.dropped_headers.clone();
        let timeout = Self::timeout(&st.tables, t);
        let response = st
            .connectors
            .http
            .send(prepared, timeout)
            .await
            .map_err(|e| Stop::failed(e.to_string()))?;
        Ok(Sent { response, dropped })
    }

    fn credential_refused(sent: &Sent) -> bool {
        sent.response.status == 401
    }

    async fn redact(
        scrubber: &Scrubber,
        limits: &Limits,
        Sent { response, dropped }: Sent,
    ) -> Result<((Scrubbed, Vec<String>), usize), Stop> {
        match redact::read_scrubbed(scrubber, limits.max_response_bytes, response).await {
            Ok(s) => {
                let n = s.redactions;
                Ok(((s, dropped), n))
            }
            Err((e, received)) => Err(Stop::Failed {
                error: e.to_string(),
                received,
            }),
        }
    }

    fn render((s, dropped): (Scrubbed, Vec<String>), rec: &mut Event) -> ToolOutcome {
        rec.status = Some(s.status);
        rec.bytes_received = Some(s.bytes_received);
        render(s, &dropped)
    }
}

/// The question for a held HTTP call. "Allow for a while" grants this
/// method on the paths of the rule that asked. A call whose query
/// parameters are too long to show in full is not asked about: it is
/// refused, with the message returned.
fn ask_http(
    st: &Stages,
    call: &Call,
    target: &HttpTarget,
    decided: Option<&RuleRef>,
) -> Result<Ask, String> {
    let scope = grant_scope(st, target, decided);
    let body = target.body.as_deref().unwrap_or_default();
    let query = target.query.as_deref().unwrap_or_default();
    let params: Vec<u8> = target
        .query_params
        .iter()
        .flat_map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes(), b"&"].concat())
        .collect();
    // Everything after the `?` that will be sent: the agent's own query,
    // then the `query` object's parameters, added to the URL by keyward.
    let mut sent_query = query.to_string();
    for (k, v) in &target.query_params {
        if !sent_query.is_empty() {
            sent_query.push('&');
        }
        sent_query.push_str(&format!("{k}={v}"));
    }
    let headers: Vec<u8> = target
        .headers
        .iter()
        .flat_map(|(k, v)| [k.as_bytes(), b": ", v.as_bytes(), b"\n"].concat())
        .collect();
    let shown_args = shown_args(target, &headers, body);
    let preview = approval::preview(&st.scrubber(), &Value::String(shown_args));
    let (path, _) = redact::scrub_text(&st.scrubber(), target.path.as_str());
    let (sent_query, _) = redact::scrub_text(&st.scrubber(), &sent_query);
    let shown = question_target(target.method.as_str(), &path, &sent_query).map_err(|n| {
        format!(
            "denied: this call's query parameters are too long to show in full to the human who \
             must confirm it ({n} characters; at most {QUERY_SHOWN}); send fewer or shorter \
             parameters, or put them in the body"
        )
    })?;
    Ok(Ask {
        agent: call.session.agent.clone(),
        session: call.session.id.clone(),
        kind: "http",
        target: format!("{}: {shown}", target.service),
        rule: decided.map(|r| r.text.clone()),
        preview,
        reason: approval::reason(&st.scrubber(), target.reason.as_deref()),
        scope,
        digest: approval::digest(&[
            b"http",
            target.service.as_bytes(),
            target.method.as_str().as_bytes(),
            target.path.as_str().as_bytes(),
            query.as_bytes(),
            &params,
            &headers,
            if target.json { b"json" } else { b"raw" },
            body,
        ]),
        grant_on_once: None,
    })
}

/// "Allow for a while" grants this method on the paths of the rule that
/// asked (or on this one path, when no rule did).
fn grant_scope(st: &Stages, target: &HttpTarget, decided: Option<&RuleRef>) -> GrantScope {
    let rule = decided.and_then(|r| {
        st.tables
            .services
            .get(&target.service)?
            .service
            .rules
            .get(r.index)
    });
    GrantScope::Http {
        service: target.service.clone(),
        methods: Some(vec![target.method.clone()]),
        paths: match rule {
            Some(r) => r.paths.clone(),
            None => keyward_policy::PathPattern::parse(target.path.as_str())
                .map(|p| vec![p])
                .unwrap_or_default(),
        },
    }
}

/// The headers and body as the question's preview shows them.
fn shown_args(target: &HttpTarget, headers: &[u8], body: &[u8]) -> String {
    let mut shown = String::new();
    if !target.headers.is_empty() {
        shown.push_str("headers: ");
        shown.push_str(&String::from_utf8_lossy(headers).replace('\n', "; "));
        shown.push('\n');
    }
    match std::str::from_utf8(body) {
        Ok("") => {}
        Ok(text) => {
            shown.push_str(if target.json { "json body: " } else { "body: " });
            shown.push_str(text);
        }
        Err(_) => shown.push_str(&format!("[{} bytes of binary body]", body.len())),
    }
    shown
}

/// The query parameters a question shows in full, at most (escaped
/// characters). Larger than any query string the policy lets through
/// ([`keyward_policy::MAX_QUERY_BYTES`]), so only a call with very many or
/// very long `query` object parameters is refused for it.
const QUERY_SHOWN: usize = 16 * 1024;

/// A path longer than this many characters is shown shortened in the
/// question: its first [`PATH_HEAD`] and last [`PATH_TAIL`] characters, and
/// how many are left out between them.
const PATH_SHOWN: usize = 240;
const PATH_HEAD: usize = 160;
const PATH_TAIL: usize = 60;

/// `METHOD path?query` as the question shows it (scrubbed texts in; the
/// result escaped by the one escaping of agent text). Padding cannot push
/// a parameter out of view: every query parameter is shown in full, and
/// only a long path is shortened — in the middle, saying so. `Err` with
/// the query's shown length when even the parameters are longer than
/// [`QUERY_SHOWN`]: such a call is not asked about.
fn question_target(method: &str, path: &str, query: &str) -> Result<String, usize> {
    let query = keyward_audit::shown::escape(query);
    let query_len = query.chars().count();
    if query_len > QUERY_SHOWN {
        return Err(query_len);
    }
    let chars: Vec<char> = path.chars().collect();
    let path = if chars.len() > PATH_SHOWN {
        let head: String = chars[..PATH_HEAD].iter().collect();
        let tail: String = chars[chars.len() - PATH_TAIL..].iter().collect();
        format!(
            "{}…[{} characters of the path not shown]…{}",
            keyward_audit::shown::escape(&head),
            chars.len() - PATH_HEAD - PATH_TAIL,
            keyward_audit::shown::escape(&tail)
        )
    } else {
        keyward_audit::shown::escape(path)
    };
    let mut shown = format!("{} {path}", keyward_audit::shown::escape(method));
    if !query.is_empty() {
        shown.push('?');
        shown.push_str(&query);
    }
    Ok(shown)
}

fn render(s: Scrubbed, dropped: &[String]) -> ToolOutcome {
    let (body, is_base64) = match String::from_utf8(s.body) {
        Ok(text) => (text, false),
        Err(e) => (
            base64::engine::general_purpose::STANDARD.encode(e.as_bytes()),
            true,
        ),
    };
    let mut headers = Map::new();
    let mut text = format!("HTTP {}\n", s.status);
    for (name, value) in &s.headers {
        text.push_str(&format!("{name}: {value}\n"));
        match headers.get_mut(name) {
            Some(Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(value);
            }
            _ => {
                headers.insert(name.clone(), Value::String(value.clone()));
            }
        }
    }
    text.push('\n');
    if is_base64 {
        text.push_str("[binary body, base64-encoded]\n");
    }
    text.push_str(&body);
    if s.truncated {
        text.push_str("\n[body truncated at the response size limit]");
    }
    if !dropped.is_empty() {
        text.push_str(&format!(
            "\n[keyward dropped request headers: {}]",
            dropped.join(", ")
        ));
    }
    let mut structured = json!({
        "status": s.status,
        "headers": headers,
        "body": body,
    });
    if is_base64 {
        structured["body_base64"] = json!(true);
    }
    if s.truncated {
        structured["truncated"] = json!(true);
    }
    if !dropped.is_empty() {
        structured["dropped_headers"] = json!(dropped);
    }
    ToolOutcome::ok(text, Some(structured))
}

#[cfg(test)]
mod tests {
    use super::{PATH_SHOWN, QUERY_SHOWN, question_target};

    /// A 290-character path once cut the target at 300 characters, so
    /// `?note=…&amount=99999` read as `…`.
    #[test]
    fn padding_cannot_push_query_parameters_out_of_the_question() {
        let path = format!("/refunds/42/{}", "a".repeat(278));
        assert_eq!(path.len(), 290);
        let query = format!("note={}&amount=99999", "b".repeat(400));
        let shown = question_target("POST", &path, &query).expect("shown");
        assert!(shown.ends_with(&format!("?{query}")), "{shown}");
        assert!(shown.starts_with("POST /refunds/42/aaa"), "{shown}");
        assert!(
            shown.contains("…[70 characters of the path not shown]…"),
            "{shown}"
        );
    }

    #[test]
    fn a_short_target_is_shown_whole() {
        assert_eq!(
            question_target("POST", "/refunds/42", "scope=all").expect("shown"),
            "POST /refunds/42?scope=all"
        );
        assert_eq!(
            question_target("GET", &"/x".repeat(PATH_SHOWN / 2), "").expect("shown"),
            format!("GET {}", "/x".repeat(PATH_SHOWN / 2))
        );
        assert_eq!(
            question_target("POST", "/r", "note=\u{202e}x").expect("shown"),
            "POST /r?note=\\u{202e}x"
        );
    }

    /// Parameters too long to show are not cut: the call is refused.
    #[test]
    fn parameters_too_long_to_show_are_refused_not_cut() {
        let query = format!("a={}", "x".repeat(QUERY_SHOWN));
        assert_eq!(question_target("POST", "/r", &query), Err(QUERY_SHOWN + 2));
        let just = format!("a={}", "x".repeat(QUERY_SHOWN - 2));
        assert!(question_target("POST", "/r", &just).is_ok());
    }
}

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

/// Routes `http_request` arguments: the configured service names (in the
/// order the error message lists them) and the body limit are all it
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
                audit::printable(&args.service, 64),
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
