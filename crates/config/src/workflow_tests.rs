//! `[workflows.*]`: what valid files turn into, and every kind of mistake
//! named by its key.

use std::path::Path;

use crate::{ArgValue, Config, ConfigError, InputKind, StepCall};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("keyward.toml"))
}

const TARGETS: &str = r#"
[services.pagerduty]
base_url = "https://api.pagerduty.example"
rules = [{ action = "allow", methods = ["GET"], paths = ["/incidents/**"] }]

[servers.slack]
command = "slack-mcp"
tools = { post_message = "allow" }

[commands.gh]
program = "gh"
args = ["issue *"]
"#;

/// The example from the issue, with the targets it needs.
const ISSUE: &str = r##"
[workflows.incident_triage]
description = "Collect alerts and logs for an incident, then post a summary"
inputs = { incident = "string" }
[[workflows.incident_triage.steps]]
id = "alerts"
call = { service = "pagerduty", method = "GET", path = "/incidents/{{incident}}/alerts" }
[[workflows.incident_triage.steps]]
id = "post"
call = { tool = "slack__post_message", args = { channel = "#incidents", text = "{{steps.alerts.summary}}" } }
confirm = true
"##;

fn with_targets(workflows: &str) -> String {
    format!("{TARGETS}\n{workflows}")
}

#[test]
fn the_issue_example_parses() {
    let cfg = parse(&with_targets(ISSUE)).expect("valid");
    let wf = &cfg.workflows["incident_triage"];
    assert_eq!(wf.name, "incident_triage");
    assert_eq!(wf.inputs["incident"].kind, InputKind::String);
    assert_eq!(wf.steps.len(), 2);
    assert_eq!(wf.steps[0].id, "alerts");
    assert!(!wf.steps[0].confirm);
    match &wf.steps[0].call {
        StepCall::Http {
            service,
            method,
            path,
            ..
        } => {
            assert_eq!(service, "pagerduty");
            assert_eq!(method.as_str(), "GET");
            assert_eq!(path.source(), "/incidents/{{incident}}/alerts");
        }
        other => panic!("not http: {other:?}"),
    }
    assert!(wf.steps[1].confirm);
    match &wf.steps[1].call {
        StepCall::Tool { server, tool, args } => {
            assert_eq!((server.as_str(), tool.as_str()), ("slack", "post_message"));
            assert!(
                matches!(&args["text"], ArgValue::Text(t) if t.source() == "{{steps.alerts.summary}}")
            );
        }
        other => panic!("not a tool: {other:?}"),
    }
}

#[test]
fn full_inputs_commands_and_typed_args() {
    let cfg = parse(&with_targets(
        r#"
[workflows.issue_report]
description = "x"
inputs = { repo = { type = "string", description = "owner/name" }, n = "integer", dry = "boolean", r = "number" }
[[workflows.issue_report.steps]]
id = "list"
call = { command = "gh", args = ["issue", "list", "-R", "{{ repo }}", "--limit", "{{ n }}"], stdin = "" }
[[workflows.issue_report.steps]]
id = "post"
call = { tool = "slack__post_message", args = { count = "{{ n }}", nested = { list = [1, 2.5, true, "{{ steps.list.stdout }}"] } } }
"#,
    ))
    .expect("valid");
    let wf = &cfg.workflows["issue_report"];
    assert_eq!(wf.inputs["repo"].description.as_deref(), Some("owner/name"));
    assert_eq!(wf.inputs["n"].kind, InputKind::Integer);
    assert_eq!(wf.inputs["dry"].kind, InputKind::Boolean);
    assert_eq!(wf.inputs["r"].kind, InputKind::Number);
    assert!(
        matches!(&wf.steps[0].call, StepCall::Command { command, args, .. } if command == "gh" && args.len() == 6)
    );
}

/// Each bad workflow, and the key its error must name.
#[test]
fn mistakes_name_their_key() {
    let step = |call: &str| {
        format!(
            "[workflows.w]\ndescription = \"d\"\ninputs = {{ x = \"string\" }}\n[[workflows.w.steps]]\nid = \"a\"\ncall = {call}\n"
        )
    };
    let cases: Vec<(String, &str, &str)> = vec![
        (
            "[workflows.http_request]\ndescription = \"d\"\n[[workflows.http_request.steps]]\nid = \"a\"\ncall = { command = \"gh\" }\n".into(),
            "workflows.http_request",
            "keyward's own tools",
        ),
        (
            "[workflows.a__b]\ndescription = \"d\"\n[[workflows.a__b.steps]]\nid = \"a\"\ncall = { command = \"gh\" }\n".into(),
            "workflows.a__b",
            "__",
        ),
        (
            "[workflows.w]\n[[workflows.w.steps]]\nid = \"a\"\ncall = { command = \"gh\" }\n".into(),
            "workflows.w.description",
            "description",
        ),
        (
            "[workflows.w]\ndescription = \"d\"\n".into(),
            "workflows.w.steps",
            "at least one step",
        ),
        (
            "[workflows.w]\ndescription = \"d\"\ninputs = { x = \"text\" }\n[[workflows.w.steps]]\nid = \"a\"\ncall = { command = \"gh\" }\n".into(),
            "workflows.w.inputs.x",
            "unknown type",
        ),
        (
            "[workflows.w]\ndescription = \"d\"\ninputs = { steps = \"string\" }\n[[workflows.w.steps]]\nid = \"a\"\ncall = { command = \"gh\" }\n".into(),
            "workflows.w.inputs.steps",
            "reserved",
        ),
        (
            "[workflows.w]\ndescription = \"d\"\n[[workflows.w.steps]]\nid = \"a\"\ncall = { command = \"gh\" }\n[[workflows.w.steps]]\nid = \"a\"\ncall = { command = \"gh\" }\n".into(),
            "workflows.w.steps[1].id",
            "used twice",
        ),
        (
            "[workflows.w]\ndescription = \"d\"\n[[workflows.w.steps]]\nid = \"Bad-Id\"\ncall = { command = \"gh\" }\n".into(),
            "workflows.w.steps[0].id",
            "invalid step id",
        ),
        (step("{ service = \"nope\", method = \"GET\", path = \"/\" }"), "workflows.w.steps[0].call.service", "no service"),
        (step("{ tool = \"nope__x\" }"), "workflows.w.steps[0].call.tool", "no server"),
        (step("{ tool = \"slack\" }"), "workflows.w.steps[0].call.tool", "SERVER__TOOL"),
        (step("{ command = \"nope\" }"), "workflows.w.steps[0].call.command", "no command"),
        (step("{ command = \"gh\", tool = \"slack__x\" }"), "workflows.w.steps[0].call", "exactly one"),
        (step("{ service = \"pagerduty\", path = \"/\" }"), "workflows.w.steps[0].call.method", "needs a method"),
        (step("{ service = \"pagerduty\", method = \"G T\", path = \"/\" }"), "workflows.w.steps[0].call.method", ""),
        (step("{ service = \"pagerduty\", method = \"GET\", path = \"/\", args = [] }"), "workflows.w.steps[0].call.args", "does not belong"),
        (step("{ command = \"gh\", path = \"/\" }"), "workflows.w.steps[0].call.path", "does not belong"),
        (step("{ tool = \"slack__x\", args = [\"a\"] }"), "workflows.w.steps[0].call.args", "a table"),
        (step("{ command = \"gh\", args = { a = \"b\" } }"), "workflows.w.steps[0].call.args", "list of strings"),
        (step("{ command = \"gh\", args = [1] }"), "workflows.w.steps[0].call.args[0]", "strings"),
        (step("{ service = \"pagerduty\", method = \"GET\", path = \"/{{ x\" }"), "workflows.w.steps[0].call.path", "template"),
        (step("{ service = \"pagerduty\", method = \"GET\", path = \"/{{ y }}\" }"), "workflows.w.steps[0].call.path", "neither an input"),
        (step("{ service = \"pagerduty\", method = \"GET\", path = \"/\", query = { q = \"{{ steps.a.text }}\" } }"), "workflows.w.steps[0].call.query.q", "not run yet"),
        (step("{ service = \"pagerduty\", method = \"GET\", path = \"/\", headers = { X-A = \"{{ steps.zz.text }}\" } }"), "workflows.w.steps[0].call.headers.X-A", "no step `zz`"),
        (step("{ tool = \"slack__x\", args = { a = { b = [\"{{ nope }}\"] } } }"), "workflows.w.steps[0].call.args.a.b[0]", "neither an input"),
        (step("{ command = \"gh\", args = [\"{% include 'x' %}\"] }"), "workflows.w.steps[0].call.args[0]", "template"),
        (step("{ service = \"pagerduty\", method = \"GET\", path = \"/\", body = \"a\", json = { a = 1 } }"), "workflows.w.steps[0].call.json", "either"),
        (step("{ command = \"gh\", stdin = \"{{ steps }}\" }"), "workflows.w.steps[0].call.stdin", "steps.ID.FIELD"),
        (step("{ command = \"gh\", shell = true }"), "shell", "unknown field"),
    ];
    for (text, at, needle) in cases {
        let e = parse(&with_targets(&text)).expect_err(&text).to_string();
        assert!(e.contains(at), "{text}\n=> {e}\n(wanted key {at})");
        assert!(e.contains(needle), "{text}\n=> {e}\n(wanted {needle:?})");
    }
}

#[test]
fn a_later_step_reads_only_fields_an_earlier_one_has() {
    let base = |read: &str| {
        with_targets(&format!(
            r#"
[workflows.w]
description = "d"
[[workflows.w.steps]]
id = "first"
call = {{ command = "gh", args = ["issue"] }}
[[workflows.w.steps]]
id = "second"
call = {{ service = "pagerduty", method = "GET", path = "/incidents/{read}" }}
"#
        ))
    };
    assert!(parse(&base("{{ steps.first.exit_code }}")).is_ok());
    assert!(parse(&base("{{ steps.first.json.items[0].id }}")).is_ok());
    assert!(parse(&base("{{ steps.first | tojson | urlencode }}")).is_ok());
    let e = parse(&base("{{ steps.first.status }}"))
        .expect_err("a command has no status")
        .to_string();
    assert!(
        e.contains("workflows.w.steps[1].call.path") && e.contains("has no field `status`"),
        "{e}"
    );
}
