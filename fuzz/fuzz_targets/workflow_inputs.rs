//! Workflow steps rendered from the agent's inputs and an upstream's
//! answer (`keyward_gateway::pipeline::workflow::render_step`), with the
//! templates of a fixed keyward.toml. Input: any JSON value `v`; the
//! inputs are `incident` (a string: `v` if it is one, else its JSON text)
//! and `data` (`v`), the first step's result is `{"text": incident,
//! "json": v}`. Checked: values are data — inserted as they are, never
//! evaluated, escaped or encoded — and a whole `{{ expression }}` keeps the
//! value's JSON type and value.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use keyward_config::{Config, StepCall};
use keyward_gateway::pipeline::workflow::render_step;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const CONFIG: &str = r#"
[services.svc]
base_url = "https://svc.example"
[servers.srv]
command = "x"
[commands.gh]
program = "gh"
args = ["*"]
[workflows.w]
description = "d"
inputs = { incident = "string", data = "string" }
[[workflows.w.steps]]
id = "first"
call = { command = "gh" }
[[workflows.w.steps]]
id = "http"
call = { service = "svc", method = "POST", path = "/incidents/{{ incident }}/alerts", query = { q = "{{ incident }}" }, headers = { X-Note = "note: {{ steps.first.text }}" }, json = { echo = "{{ data }}", id = "{{ steps.first.json }}" } }
[[workflows.w.steps]]
id = "tool"
call = { tool = "srv__t", args = { raw = "{{ data }}", text = "got: {{ incident }}!", list = ["{{ steps.first.json }}", "x{{ incident }}"] } }
[[workflows.w.steps]]
id = "command"
call = { command = "gh", args = ["issue", "view", "{{ incident }}"], stdin = "{{ steps.first.text }}" }
"#;

static STEPS: LazyLock<Vec<StepCall>> = LazyLock::new(|| {
    let cfg = Config::parse(CONFIG, Path::new("keyward.toml")).expect("valid config");
    cfg.workflows["w"].steps[1..]
        .iter()
        .map(|s| s.call.clone())
        .collect()
});

/// How deep `v` nests (the gateway bounds the depth of values it carries).
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Whether `b` is the JSON value `a` (the original): a float may come back
/// as an equal integer, an integer must come back as the same integer.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_i64() || x.is_u64() {
                x.as_i64() == y.as_i64() && x.as_u64() == y.as_u64()
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let v: Value = match serde_json::from_slice(data) {
        Ok(v) => v,
        Err(_) => Value::String(String::from_utf8_lossy(data).into_owned()),
    };
    let incident = match &v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut inputs = Map::new();
    inputs.insert("incident".into(), Value::String(incident.clone()));
    inputs.insert("data".into(), v.clone());
    let first = json!({"ok": true, "text": incident, "json": v});
    let steps = [("first", &first)];
    let typed = depth(&v) < 60;

    let [http, tool, command] = &STEPS[..] else {
        panic!("three steps");
    };
    // A value nested past the gateway's bound is refused, not rendered.
    let render = |call| match render_step(call, &inputs, &steps) {
        Ok(out) => Some(out),
        Err(e) => {
            assert!(!typed, "a step failed: {e}");
            None
        }
    };
    let Some(out) = render(http) else {
        return;
    };
    assert_eq!(out["path"], format!("/incidents/{incident}/alerts"));
    assert_eq!(out["query"]["q"], incident.as_str());
    assert_eq!(out["headers"]["X-Note"], format!("note: {incident}"));
    if typed {
        assert!(
            same(&v, &out["json"]["echo"]),
            "{:?} came back as {:?}",
            v,
            out["json"]["echo"]
        );
        assert!(same(&v, &out["json"]["id"]));
    }

    let Some(out) = render(tool) else {
        return;
    };
    assert_eq!(out["text"], format!("got: {incident}!"));
    assert_eq!(out["list"][1], format!("x{incident}"));
    if typed {
        assert!(
            same(&v, &out["raw"]),
            "{:?} came back as {:?}",
            v,
            out["raw"]
        );
        assert!(same(&v, &out["list"][0]));
    }

    let out = render_step(command, &inputs, &steps).expect("the command step renders");
    assert_eq!(out["args"], json!(["issue", "view", incident]));
    assert_eq!(out["stdin"], incident.as_str());
});
