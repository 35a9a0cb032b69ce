//! The `http_request` tool: the whole pipeline for one HTTP call, top to
//! bottom.

use std::time::Instant;

use base64::Engine as _;
use keyward_audit::Event;
use keyward_connectors::http::Credential;
use serde_json::{Map, Value, json};

use super::redact::Scrubbed;
use super::session::Session;
use super::{ToolOutcome, approval, audit, policy, redact, route, upstream};
use crate::Gateway;
use crate::approval::Ask;
use crate::live::Refetch;
use keyward_policy::{GrantScope, GrantTarget};

pub async fn handle(
    gw: &Gateway,
    session: &Session,
    args: Option<Map<String, Value>>,
) -> ToolOutcome {
    let started = Instant::now();
    let mut event = Event {
        agent: session.agent.clone(),
        kind: "http".into(),
        ..Event::default()
    };

    // route: what does the call name?
    let target = match route::route_http(gw, args) {
        Ok(t) => t,
        Err(e) => {
            event.target = e.service.unwrap_or_default();
            event.method = e.method.map(|m| audit::printable(&m, 32));
            return audit::refuse(gw, event, "error", None, &format!("error: {}", e.message));
        }
    };
    event.target = target.service.clone();
    event.method = Some(target.method.as_str().to_string());
    event.path = Some(target.path.as_str().to_string());

    // policy: may it?
    let passed = match policy::check_http(gw, &session.agent, &target) {
        Ok(p) => p,
        Err(denial) => {
            return audit::refuse(gw, event, denial.decision, denial.rule, &denial.message);
        }
    };
    event.rule = passed.rule.clone();

    // approval: a human says yes (or a grant already did).
    if passed.confirm {
        let ask = match ask_http(gw, session, &target, &passed) {
            Ok(ask) => ask,
            Err(message) => {
                return audit::refuse(gw, event, "deny", passed.rule.clone(), &message);
            }
        };
        let grant_target = GrantTarget::Http {
            service: &target.service,
            method: &target.method,
            path: &target.path,
        };
        match approval::confirm(gw, session, grant_target, ask, &event).await {
            Ok(approved) => approved.mark(&mut event),
            Err(held) => return held.into_outcome(),
        }
    }
    event.decision = "allow".into();

    // audit, ahead: a call that could not be recorded is not made.
    if audit::ready(gw).is_err() {
        return ToolOutcome::error(audit::AUDIT_FAILED);
    }

    // inject + upstream: attach the credential and call.
    let mut sent = match upstream::send_http(gw, &target).await {
        Ok(s) => s,
        Err(e) => return audit::failed(gw, event, started, &e.to_string(), 0),
    };
    event.bytes_sent = Some(sent.bytes_sent);

    // inject, again: a 401 to a credentialed call may mean the value was
    // rotated at its source. Fetch it once, bypassing the cache; if it
    // changed, retry once with the new one.
    if sent.response.status == 401 && sent.credential != Credential::None {
        let refetch = gw
            .refetch_credential(&target.service, &sent.credential, sent.timeout)
            .await;
        event.refetch = Some(refetch.as_str().to_string());
        if refetch == Refetch::Changed {
            drop(sent);
            sent = match upstream::send_http(gw, &target).await {
                Ok(s) => s,
                Err(e) => return audit::failed(gw, event, started, &e.to_string(), 0),
            };
            event.bytes_sent = Some(event.bytes_sent.unwrap_or(0) + sent.bytes_sent);
        }
    }

    // redact: scrub all that comes back.
    let scrubbed = match redact::read_scrubbed(gw, sent.response).await {
        Ok(s) => s,
        Err((e, received)) => return audit::failed(gw, event, started, &e.to_string(), received),
    };

    // audit: record, then answer.
    event.status = Some(scrubbed.status);
    event.latency_us = Some(started.elapsed().as_micros() as u64);
    event.bytes_received = Some(scrubbed.bytes_received);
    event.redactions = scrubbed.redactions as u64;
    if audit::record(gw, event).is_err() {
        return ToolOutcome::error(audit::AUDIT_FAILED);
    }
    render(scrubbed, &sent.dropped_headers)
}

/// The question for a held HTTP call. "Allow for a while" grants this
/// method on the paths of the rule that asked. A call whose query
/// parameters are too long to show in full is not asked about: it is
/// refused, with the message returned.
fn ask_http(
    gw: &Gateway,
    session: &Session,
    target: &route::HttpTarget,
    passed: &policy::Passed,
) -> Result<Ask, String> {
    let rule = passed
        .rule_index
        .and_then(|i| gw.services().get(&target.service)?.service.rules.get(i));
    let scope = GrantScope::Http {
        service: target.service.clone(),
        methods: Some(vec![target.method.clone()]),
        paths: match rule {
            Some(r) => r.paths.clone(),
            None => keyward_policy::PathPattern::parse(target.path.as_str())
                .map(|p| vec![p])
                .unwrap_or_default(),
        },
    };
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
    let mut shown_args = String::new();
    if !target.headers.is_empty() {
        shown_args.push_str("headers: ");
        shown_args.push_str(&String::from_utf8_lossy(&headers).replace('\n', "; "));
        shown_args.push('\n');
    }
    match std::str::from_utf8(body) {
        Ok("") => {}
        Ok(text) => {
            shown_args.push_str(if target.json { "json body: " } else { "body: " });
            shown_args.push_str(text);
        }
        Err(_) => shown_args.push_str(&format!("[{} bytes of binary body]", body.len())),
    }
    let preview = approval::preview(gw, &Value::String(shown_args));
    let (path, _) = redact::scrub_text(gw, target.path.as_str());
    let (sent_query, _) = redact::scrub_text(gw, &sent_query);
    let shown = question_target(target.method.as_str(), &path, &sent_query).map_err(|n| {
        format!(
            "denied: this call's query parameters are too long to show in full to the human who \
             must confirm it ({n} characters; at most {QUERY_SHOWN}); send fewer or shorter \
             parameters, or put them in the body"
        )
    })?;
    Ok(Ask {
        agent: session.agent.clone(),
        session: session.id.clone(),
        kind: "http",
        target: format!("{}: {shown}", target.service),
        rule: passed.rule.clone(),
        preview,
        reason: approval::reason(gw, target.reason.as_deref()),
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
