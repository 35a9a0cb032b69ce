//! redact: scrubs everything that goes back to the agent: status text,
//! headers, body (chunk by chunk, so a secret split across reads is still
//! caught), MCP results and error messages.

use keyward_connectors::http::{HttpError, HttpResponse};
use serde_json::Value;

use keyward_redact::Scrubber;

use super::Stop;

/// A response fit for the agent's eyes.
#[derive(Debug)]
pub struct Scrubbed {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body was longer than the limit and was cut.
    pub truncated: bool,
    pub bytes_received: u64,
    pub redactions: usize,
}

pub fn scrub_text(scrubber: &Scrubber, text: &str) -> (String, usize) {
    scrubber.scrub_str(text)
}

/// Scrubs every string (and object key) in a JSON value. Applied to every
/// tool result in one place, whatever produced it.
pub fn scrub_json(scrubber: &Scrubber, v: Value) -> (Value, usize) {
    match v {
        Value::String(s) => {
            let (s, n) = scrubber.scrub_str(&s);
            (Value::String(s), n)
        }
        Value::Array(items) => {
            let mut total = 0;
            let items = items
                .into_iter()
                .map(|i| {
                    let (i, n) = scrub_json(scrubber, i);
                    total += n;
                    i
                })
                .collect();
            (Value::Array(items), total)
        }
        Value::Object(map) => {
            let mut total = 0;
            let map = map
                .into_iter()
                .map(|(k, v)| {
                    let (k, nk) = scrubber.scrub_str(&k);
                    let (v, nv) = scrub_json(scrubber, v);
                    total += nk + nv;
                    (k, v)
                })
                .collect();
            (Value::Object(map), total)
        }
        other => (other, 0),
    }
}

/// Reads and scrubs an HTTP answer, cut at `limit` bytes. One scrubber
/// generation for the whole answer (it knows the previous values too).
pub async fn read_scrubbed(
    scrubber: &Scrubber,
    limit: usize,
    mut resp: HttpResponse,
) -> Result<Scrubbed, (HttpError, u64)> {
    let mut redactions = 0;
    let mut headers = Vec::with_capacity(resp.headers.len());
    for (name, value) in std::mem::take(&mut resp.headers) {
        // A secret in a header's name: drop the header.
        let (_, in_name) = scrubber.scrub_str(&name);
        if in_name > 0 {
            redactions += in_name;
            continue;
        }
        let (value, n) = scrubber.scrub_str(&value);
        redactions += n;
        headers.push((name, value));
    }
    if let Some(enc) = &resp.undecoded_encoding {
        return Err((
            HttpError::Upstream(format!(
                "the upstream sent a body with Content-Encoding `{}`, which keyward cannot scrub; it was not passed on",
                enc.escape_debug()
            )),
            0,
        ));
    }
    let mut stream = scrubber.stream();
    let mut body = Vec::new();
    let mut received: u64 = 0;
    let mut truncated = false;
    loop {
        let chunk = match resp.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => return Err((e, received)),
        };
        received += chunk.len() as u64;
        body.extend_from_slice(&stream.push(&chunk));
        if received > limit as u64 {
            // Stop reading. The scrubber's held-back tail is dropped, not
            // flushed: it may be the first half of a secret.
            truncated = true;
            body.truncate(limit);
            break;
        }
    }
    if truncated {
        redactions += stream.replacements();
    } else {
        let (tail, total) = stream.finish_counted();
        redactions += total;
        body.extend_from_slice(&tail);
    }
    Ok(Scrubbed {
        status: resp.status,
        headers,
        body,
        truncated,
        bytes_received: received,
        redactions,
    })
}

/// Scrubs any MCP result (text, structured content, embedded resources,
/// `_meta`) by way of its JSON form. `None` when it cannot be re-read after
/// scrubbing: the caller withholds it rather than pass it raw.
pub fn scrub_serde<T>(scrubber: &Scrubber, value: T) -> Option<(T, usize)>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let json = serde_json::to_value(&value).ok()?;
    let (json, n) = scrub_json(scrubber, json);
    serde_json::from_value(json).ok().map(|v| (v, n))
}

/// [`scrub_serde`] for an answer: one that cannot be scrubbed fails the
/// call (`what` names it in the error) rather than pass raw.
pub fn scrub_answer<T>(scrubber: &Scrubber, value: T, what: &str) -> Result<(T, usize), Stop>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    scrub_serde(scrubber, value)
        .ok_or_else(|| Stop::failed(format!("keyward could not scrub the {what}")))
}

/// Scrubs upstream tool definitions (names, descriptions, schemas) before
/// they are listed to the agent, pinned or shown by `servers accept`: a
/// server can print a secret into a description as easily as into a
/// result. A definition that cannot be re-read after scrubbing is
/// withheld.
pub fn scrub_tools(scrubber: &Scrubber, tools: Vec<rmcp::model::Tool>) -> Vec<rmcp::model::Tool> {
    tools
        .into_iter()
        .filter_map(|t| match scrub_serde(scrubber, t) {
            Some((t, _)) => Some(t),
            None => {
                tracing::warn!("an upstream tool definition could not be scrubbed; it is withheld");
                None
            }
        })
        .collect()
}

/// Scrubs a whole MCP tool result; one that cannot be re-read is replaced
/// by an error, never passed raw.
pub fn scrub_result(
    scrubber: &Scrubber,
    result: rmcp::model::CallToolResult,
) -> (rmcp::model::CallToolResult, usize) {
    scrub_serde(scrubber, result).unwrap_or_else(|| (unreadable(), 0))
}

fn unreadable() -> rmcp::model::CallToolResult {
    rmcp::model::CallToolResult::error(vec![rmcp::model::ContentBlock::text(
        "error: keyward could not scrub this result, so it is withheld",
    )])
}
