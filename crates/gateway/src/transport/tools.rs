//! The tools keyward offers the agent, and the `list_services` answer.

use std::sync::Arc;

use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Value, json};

use crate::pipeline::kind::http::HttpArgs;
use crate::pipeline::session::Session;
use crate::pipeline::{Stages, ToolOutcome};

pub(crate) const LIST_SERVICES: &str = "list_services";
pub(crate) const HTTP_REQUEST: &str = "http_request";
pub(crate) const RUN_COMMAND: &str = "run_command";
pub(crate) const REQUEST_ACCESS: &str = "request_access";

pub(crate) fn definitions(with_commands: bool) -> Vec<Tool> {
    let empty = json!({"type": "object", "properties": {}, "additionalProperties": false});
    let empty = match empty {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    vec![
        Tool::new(
            LIST_SERVICES,
            "List the HTTP services keyward can call for you, with their base URLs and the rules \
             that say which methods and paths are allowed. Credentials are attached by keyward; \
             you never see or send them.",
            Arc::new(empty),
        )
        .with_annotations(ToolAnnotations::new().read_only(true)),
        Tool::new(
            HTTP_REQUEST,
            "Call an HTTP service through keyward. keyward checks the service's rules, attaches \
             the credential, and returns status, headers and body with secrets removed. A call \
             no rule allows is denied (default deny).",
            Arc::new(schema_of::<HttpArgs>()),
        )
        .with_annotations(ToolAnnotations::new().open_world(true)),
        Tool::new(
            REQUEST_ACCESS,
            "Ask the user ahead for time-limited access: an HTTP service's methods and paths, \
             tools of an upstream server (SERVER__PATTERN), or a command, for a duration, with \
             your reason. The user approves or denies; while the grant lasts, calls it covers \
             that the user's rules hold for confirmation go through without asking again. \
             Calls the rules deny stay denied.",
            Arc::new(schema_of::<crate::pipeline::kind::access::AccessArgs>()),
        ),
    ]
    .into_iter()
    .chain(with_commands.then(|| {
        Tool::new(
            RUN_COMMAND,
            "Run one of the user's allow-listed command-line tools (see list_services) with \
             arguments you choose, checked against its allowed patterns. No shell: each \
             argument is passed as is. Returns the exit code and the output, secrets removed.",
            Arc::new(schema_of::<crate::pipeline::kind::command::CommandArgs>()),
        )
        .with_annotations(ToolAnnotations::new().open_world(true))
    }))
    .collect()
}

fn schema_of<T: schemars::JsonSchema>() -> serde_json::Map<String, Value> {
    let schema = schemars::schema_for!(T);
    match serde_json::to_value(schema) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

pub(crate) fn list_services(st: &Stages, session: &Session) -> ToolOutcome {
    let mut text = String::new();
    let mut list = Vec::new();
    for (name, rt) in &st.tables.services {
        let svc = &rt.service;
        let rules: Vec<String> = svc.rules.iter().map(|r| r.text()).collect();
        text.push_str(&format!("{name}: {}\n", svc.base_url));
        if let Some(reason) = &rt.unavailable {
            text.push_str(&format!("  UNAVAILABLE: {reason}\n"));
        }
        if let Some(d) = &svc.description {
            text.push_str(&format!("  {d}\n"));
        }
        if rules.is_empty() {
            text.push_str("  (no rules: every call is denied)\n");
        }
        for r in &rules {
            text.push_str(&format!("  {r}\n"));
        }
        list.push(json!({
            "name": name,
            "description": svc.description,
            "base_url": svc.base_url.as_str(),
            "rules": rules,
            "unavailable": rt.unavailable,
        }));
    }
    let mut others = Vec::new();
    for (name, rt) in st.tables.servers_for(session) {
        if let Some(reason) = &rt.unavailable {
            others.push(json!({"server": name, "unavailable": reason}));
            text.push_str(&format!(
                "server {name} (tools {name}__*): UNAVAILABLE: {reason}\n"
            ));
        }
    }
    for (name, rt) in &st.tables.commands {
        if let Some(reason) = &rt.unavailable {
            others.push(json!({"command": name, "unavailable": reason}));
            text.push_str(&format!("command {name}: UNAVAILABLE: {reason}\n"));
        }
    }
    if list.is_empty() {
        text.push_str(
            "No services are configured. The user adds them with `keyward service add`.\n",
        );
    }
    text.push_str("Anything no rule allows is denied.");
    let (text, _) = st.scrubber().scrub_str(&text);
    let mut structured = json!({ "services": list });
    if !others.is_empty() {
        structured["unavailable"] = json!(others);
    }
    ToolOutcome::ok(text, Some(structured))
}
