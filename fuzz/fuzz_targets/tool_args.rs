//! A tool call as the agent sends it, `{"name": ..., "arguments": {...}}`,
//! into the typed target keyward decides on: `http_request` through
//! `route_http_args`, `run_command` through `CommandArgs`, any other name
//! through the upstream tool router. Checked:
//! - a routed HTTP call names a configured service, a method keyward sends,
//!   a normalised path (idempotent, no dot segment) and a body within the
//!   limit; and a path under `/v1/admin`, in any spelling or case, is
//!   denied by the `deny * /v1/admin/**` rule;
//! - a command whose arguments hold `--repo…` or `-R…` is denied by the
//!   deny rules, whatever the allow rules say;
//! - an upstream tool routes to `SERVER__TOOL` of a prefixed server or to
//!   the unprefixed server's tool of that very name, and a `delete_*`
//!   tool in any case is denied.
#![no_main]

use keyward_gateway::pipeline::kind::command::CommandArgs;
use keyward_gateway::pipeline::kind::http::route_http_args;
use keyward_gateway::servers::route_tool_name;
use keyward_policy::{
    Action, ArgvPattern, CommandRule, HttpRule, NamePattern, NormalizedPath, ToolRule,
    evaluate_command, evaluate_http, evaluate_tool,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

const SERVICES: &[&str] = &["github", "stripe"];
const MAX_BODY: usize = 4096;
const SERVERS: &[(&str, bool)] = &[("gh", true), ("fs", false), ("db", true)];

fn http(args: Option<Map<String, Value>>) {
    let Ok(t) = route_http_args(SERVICES.iter().copied(), MAX_BODY, args) else {
        return;
    };
    assert!(SERVICES.contains(&t.service.as_str()));
    assert!(!keyward_connectors::http::is_refused_method(
        t.method.as_str()
    ));
    assert_eq!(NormalizedPath::parse(t.path.as_str()).as_ref(), Ok(&t.path));
    assert!(t.path.segments().all(|s| s != "." && s != ".."));
    assert!(t.body.as_ref().is_none_or(|b| b.len() <= MAX_BODY));

    let rules = [
        HttpRule::parse_short(Action::Allow, "GET,HEAD,POST /v1/**").expect("rule"),
        HttpRule::parse_short(Action::Confirm, "POST /v1/charges/*").expect("rule"),
        HttpRule::parse_short(Action::Deny, "/v1/admin/**").expect("rule"),
    ];
    let verdict = evaluate_http(&rules, &t.method, &t.path);
    let seen: Vec<u8> = percent_encoding::percent_decode_str(t.path.as_str())
        .collect::<Vec<u8>>()
        .to_ascii_lowercase();
    let seen = seen.strip_suffix(b"/").unwrap_or(&seen);
    if seen == b"/v1/admin" || seen.starts_with(b"/v1/admin/") {
        assert_eq!(
            verdict.decision.action,
            Action::Deny,
            "{} was not denied",
            t.path
        );
    }
}

fn command(args: Option<Map<String, Value>>) {
    let Ok(args) = serde_json::from_value::<CommandArgs>(Value::Object(args.unwrap_or_default()))
    else {
        return;
    };
    let rule = |action, p: &str| CommandRule {
        action,
        pattern: ArgvPattern::parse(p).expect("pattern"),
    };
    let rules = [
        rule(Action::Allow, "issue *"),
        rule(Action::Allow, "*"),
        rule(Action::Confirm, "pr *"),
        rule(Action::Deny, "* --repo* *"),
        rule(Action::Deny, "* -R* *"),
    ];
    let verdict = evaluate_command(&rules, &args.args);
    if args
        .args
        .iter()
        .any(|a| a.starts_with("--repo") || a.starts_with("-R"))
    {
        assert_eq!(
            verdict.decision.action,
            Action::Deny,
            "{:?} was not denied",
            args.args
        );
    }
}

fn tool(name: &str) {
    let Some((server, tool)) = route_tool_name(name, SERVERS.iter().copied()) else {
        return;
    };
    let prefixed = SERVERS
        .iter()
        .find(|(s, _)| *s == server)
        .map(|(_, p)| *p)
        .expect("a configured server");
    if prefixed {
        assert_eq!(name, format!("{server}__{tool}"));
        assert!(!tool.is_empty());
    } else {
        assert_eq!(name, tool);
    }
    let rules = [
        ToolRule {
            pattern: NamePattern::parse("*").expect("pattern"),
            action: Action::Allow,
            rate: None,
        },
        ToolRule {
            pattern: NamePattern::parse("delete_*").expect("pattern"),
            action: Action::Deny,
            rate: None,
        },
    ];
    let verdict = evaluate_tool(&rules, tool);
    if tool.to_ascii_lowercase().starts_with("delete_") {
        assert_eq!(
            verdict.decision.action,
            Action::Deny,
            "{tool:?} was not denied"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(mut call)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Some(Value::String(name)) = call.remove("name") else {
        return;
    };
    let args = match call.remove("arguments") {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    };
    match name.as_str() {
        "http_request" => http(args),
        "run_command" => command(args),
        other => tool(other),
    }
});
