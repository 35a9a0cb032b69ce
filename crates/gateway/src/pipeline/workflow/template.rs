//! A step's call, rendered: its templates filled in from the run's context
//! (the inputs and the earlier steps' results) into the very arguments the
//! agent would pass to `http_request`, `SERVER__TOOL` or `run_command`.
//!
//! Values go in as data: a value is never compiled as a template, whatever
//! it contains, and nothing is escaped or encoded on the way — the rendered
//! path then goes through the same routing (normalisation, dot segments
//! refused) and policy as a direct call.

use std::collections::BTreeMap;

use keyward_config::{ArgValue, MAX_RENDERED_BYTES, StepCall, Template};
use minijinja::Value;
use minijinja::value::ValueKind;
use serde_json::{Map, Number, Value as Json};

/// How deep a value may nest on its way between JSON and templates.
const MAX_DEPTH: usize = 64;

/// What the templates of a run can read: the inputs by name, and
/// `steps.ID` for each step that ran.
#[derive(Debug, Default)]
pub(crate) struct RunContext {
    inputs: BTreeMap<String, Value>,
    steps: BTreeMap<String, Value>,
}

impl RunContext {
    pub(crate) fn new(inputs: &Map<String, Json>) -> RunContext {
        RunContext {
            inputs: inputs
                .iter()
                .map(|(k, v)| (k.clone(), from_json(v, 0)))
                .collect(),
            steps: BTreeMap::new(),
        }
    }

    /// Adds the result of a step that ran (a JSON object of its fields).
    pub(crate) fn add_step(&mut self, id: &str, result: &Json) {
        self.steps.insert(id.to_string(), from_json(result, 0));
    }

    /// The context value templates are rendered with.
    pub(crate) fn value(&self) -> Value {
        let mut root = self.inputs.clone();
        root.insert("steps".into(), Value::from(self.steps.clone()));
        Value::from(root)
    }
}

/// A template that failed, and where (`call.path`, `call.args.text`).
#[derive(Debug)]
pub(crate) struct RenderError {
    pub(crate) at: String,
    pub(crate) message: String,
}

fn text(t: &Template, ctx: &Value, at: impl Into<String>) -> Result<String, RenderError> {
    if t.is_literal() {
        return Ok(t.source().to_string());
    }
    t.render(ctx).map_err(|e| RenderError {
        at: at.into(),
        message: e.to_string(),
    })
}

fn arg(a: &ArgValue, ctx: &Value, at: &str) -> Result<Json, RenderError> {
    Ok(match a {
        ArgValue::Bool(b) => Json::Bool(*b),
        ArgValue::Integer(n) => Json::from(*n),
        ArgValue::Float(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        ArgValue::Text(t) if t.is_literal() => Json::String(t.source().to_string()),
        ArgValue::Text(t) => {
            let v = t.eval(ctx).map_err(|e| RenderError {
                at: at.to_string(),
                message: e.to_string(),
            })?;
            to_json(&v, 0).map_err(|message| RenderError {
                at: at.to_string(),
                message,
            })?
        }
        ArgValue::List(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, a)| arg(a, ctx, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        ArgValue::Map(m) => Json::Object(
            m.iter()
                .map(|(k, a)| Ok((k.clone(), arg(a, ctx, &format!("{at}.{k}"))?)))
                .collect::<Result<_, RenderError>>()?,
        ),
    })
}

/// The arguments of the direct call this step makes. For a tool step,
/// the server and tool are the step's own (not part of the arguments).
pub(crate) fn render_call(call: &StepCall, ctx: &Value) -> Result<Map<String, Json>, RenderError> {
    let mut out = Map::new();
    match call {
        StepCall::Http {
            service,
            method,
            path,
            query,
            headers,
            body,
            json,
        } => {
            out.insert("service".into(), Json::String(service.clone()));
            out.insert("method".into(), Json::String(method.as_str().to_string()));
            out.insert("path".into(), Json::String(text(path, ctx, "call.path")?));
            if !query.is_empty() {
                let q = query
                    .iter()
                    .map(|(k, t)| {
                        Ok((
                            k.clone(),
                            Json::String(text(t, ctx, format!("call.query.{k}"))?),
                        ))
                    })
                    .collect::<Result<Map<_, _>, RenderError>>()?;
                out.insert("query".into(), Json::Object(q));
            }
            if !headers.is_empty() {
                let h = headers
                    .iter()
                    .map(|(k, t)| {
                        Ok((
                            k.clone(),
                            Json::String(text(t, ctx, format!("call.headers.{k}"))?),
                        ))
                    })
                    .collect::<Result<Map<_, _>, RenderError>>()?;
                out.insert("headers".into(), Json::Object(h));
            }
            if let Some(b) = body {
                out.insert("body".into(), Json::String(text(b, ctx, "call.body")?));
            }
            if let Some(j) = json {
                out.insert("json".into(), arg(j, ctx, "call.json")?);
            }
        }
        StepCall::Tool { args, .. } => {
            for (k, a) in args {
                out.insert(k.clone(), arg(a, ctx, &format!("call.args.{k}"))?);
            }
        }
        StepCall::Command {
            command,
            args,
            stdin,
        } => {
            out.insert("command".into(), Json::String(command.clone()));
            let argv = args
                .iter()
                .enumerate()
                .map(|(i, t)| text(t, ctx, format!("call.args[{i}]")).map(Json::String))
                .collect::<Result<Vec<_>, _>>()?;
            out.insert("args".into(), Json::Array(argv));
            if let Some(s) = stdin {
                out.insert("stdin".into(), Json::String(text(s, ctx, "call.stdin")?));
            }
        }
    }
    let size = serde_json::to_vec(&out).map_or(usize::MAX, |v| v.len());
    if size > MAX_RENDERED_BYTES {
        return Err(RenderError {
            at: "call".into(),
            message: format!(
                "the rendered arguments are over {} KiB",
                MAX_RENDERED_BYTES / 1024
            ),
        });
    }
    Ok(out)
}

/// A step's call rendered from the agent's `inputs` and the earlier
/// steps' results (`steps`, in order), exactly as a run renders it; the
/// error names the template that failed (`call.path: ...`). Pure; the fuzz
/// target `workflow_inputs` drives it with hostile inputs.
pub fn render_step(
    call: &StepCall,
    inputs: &Map<String, Json>,
    steps: &[(&str, &Json)],
) -> Result<Map<String, Json>, String> {
    let mut ctx = RunContext::new(inputs);
    for (id, result) in steps {
        ctx.add_step(id, result);
    }
    render_call(call, &ctx.value()).map_err(|e| format!("{}: {}", e.at, e.message))
}

/// JSON into a template value.
pub(crate) fn from_json(v: &Json, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::from(());
    }
    match v {
        Json::Null => Value::from(()),
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(u)) => Value::from(u),
            _ => Value::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::from(
            items
                .iter()
                .map(|i| from_json(i, depth + 1))
                .collect::<Vec<_>>(),
        ),
        Json::Object(m) => Value::from(
            m.iter()
                .map(|(k, v)| (k.clone(), from_json(v, depth + 1)))
                .collect::<BTreeMap<String, Value>>(),
        ),
    }
}

/// A template value (the result of a whole `{{ expression }}`) into JSON.
pub(crate) fn to_json(v: &Value, depth: usize) -> Result<Json, String> {
    if depth > MAX_DEPTH {
        return Err("the value nests too deep".into());
    }
    Ok(match v.kind() {
        ValueKind::Undefined => return Err("undefined value".into()),
        ValueKind::None => Json::Null,
        ValueKind::Bool => Json::Bool(v.is_true()),
        // An integer stays one: above i64::MAX it is a u64, not a float.
        ValueKind::Number => match (v.as_i64(), u64::try_from(v.clone())) {
            (Some(i), _) => Json::from(i),
            (None, Ok(u)) => Json::from(u),
            (None, Err(_)) => f64::try_from(v.clone())
                .ok()
                .and_then(Number::from_f64)
                .map_or_else(|| Json::String(v.to_string()), Json::Number),
        },
        ValueKind::String => Json::String(v.as_str().unwrap_or_default().to_string()),
        ValueKind::Bytes => {
            Json::String(String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned())
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let items = v.try_iter().map_err(|e| e.to_string())?;
            Json::Array(
                items
                    .map(|i| to_json(&i, depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        ValueKind::Map => {
            let keys = v.try_iter().map_err(|e| e.to_string())?;
            let mut m = Map::new();
            for k in keys {
                let item = v.get_item(&k).map_err(|e| e.to_string())?;
                let name = k.as_str().map_or_else(|| k.to_string(), str::to_string);
                m.insert(name, to_json(&item, depth + 1)?);
            }
            Json::Object(m)
        }
        ValueKind::Invalid => return Err("invalid value".into()),
        _ => Json::String(v.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_config::Config;
    use serde_json::json;

    fn workflow_call(call: &str) -> StepCall {
        let text = format!(
            r#"
[services.svc]
base_url = "https://svc.example"
[servers.srv]
command = "x"
[commands.gh]
program = "gh"
args = ["*"]
[workflows.w]
description = "d"
inputs = {{ incident = "string", n = "integer" }}
[[workflows.w.steps]]
id = "first"
call = {{ command = "gh" }}
[[workflows.w.steps]]
id = "second"
call = {call}
"#
        );
        let cfg = Config::parse(&text, std::path::Path::new("k.toml")).expect("valid");
        cfg.workflows["w"].steps[1].call.clone()
    }

    fn context(first_body: &str) -> Value {
        let mut ctx = RunContext::new(
            json!({"incident": "../../admin", "n": 3})
                .as_object()
                .expect("object"),
        );
        ctx.add_step(
            "first",
            &json!({"ok": true, "text": first_body, "json": {"id": 7, "items": [1, 2]}}),
        );
        ctx.value()
    }

    #[test]
    fn a_hostile_input_is_inserted_as_is_for_the_router_to_judge() {
        let call = workflow_call(
            r#"{ service = "svc", method = "GET", path = "/incidents/{{ incident }}/alerts", query = { q = "{{ incident }}" } }"#,
        );
        let args = render_call(&call, &context("")).expect("renders");
        assert_eq!(args["path"], "/incidents/../../admin/alerts");
        assert_eq!(args["query"]["q"], "../../admin");
        assert_eq!(args["method"], "GET");
    }

    #[test]
    fn template_looking_text_from_upstream_is_not_evaluated() {
        let call = workflow_call(
            r#"{ tool = "srv__t", args = { text = "got: {{ steps.first.text }}", raw = "{{ steps.first.text }}" } }"#,
        );
        let body = "{{ incident }}{% for x in range(9) %}x{% endfor %}";
        let args = render_call(&call, &context(body)).expect("renders");
        assert_eq!(args["text"], format!("got: {body}"));
        assert_eq!(args["raw"], body);
    }

    #[test]
    fn whole_expressions_keep_json_types() {
        let call = workflow_call(
            r#"{ tool = "srv__t", args = { id = "{{ steps.first.json.id }}", items = "{{ steps.first.json.items }}", n = "{{ n }}", lit = 2.5, nested = { l = ["{{ n + 1 }}", true] } } }"#,
        );
        let args = render_call(&call, &context("")).expect("renders");
        assert_eq!(
            Json::Object(args),
            json!({"id": 7, "items": [1, 2], "n": 3, "lit": 2.5, "nested": {"l": [4, true]}})
        );
    }

    #[test]
    fn an_integer_above_i64_max_keeps_its_value_in_a_whole_expression() {
        // Found by the fuzz target workflow_inputs: u64::MAX came back as
        // the float 1.8446744073709552e19.
        let call = workflow_call(r#"{ tool = "srv__t", args = { id = "{{ n }}" } }"#);
        let inputs = json!({"incident": "x", "n": u64::MAX});
        let args = render_step(&call, inputs.as_object().expect("object"), &[]).expect("renders");
        assert_eq!(args["id"], json!(u64::MAX));
        assert!(args["id"].is_u64());
    }

    #[test]
    fn command_args_and_missing_values() {
        let call = workflow_call(
            r#"{ command = "gh", args = ["issue", "view", "{{ steps.first.json.id }}"], stdin = "{{ incident }}" }"#,
        );
        let args = render_call(&call, &context("")).expect("renders");
        assert_eq!(
            Json::Object(args),
            json!({"command": "gh", "args": ["issue", "view", "7"], "stdin": "../../admin"})
        );
        let call =
            workflow_call(r#"{ command = "gh", args = ["{{ steps.first.json.missing }}"] }"#);
        let e = render_call(&call, &context("")).expect_err("strict");
        assert_eq!(e.at, "call.args[0]");
    }

    #[test]
    fn oversized_arguments_are_refused() {
        let call = workflow_call(r#"{ tool = "srv__t", args = { a = "{{ steps.first.text }}" } }"#);
        let big = "x".repeat(MAX_RENDERED_BYTES + 1);
        let e = render_call(&call, &context(&big)).expect_err("too big");
        assert_eq!(e.at, "call");
    }
}
