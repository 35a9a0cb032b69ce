//! The `run_command` tool: an allow-listed CLI tool, run without a shell —
//! route, policy, exec, scrub, record.

use std::path::PathBuf;
use std::time::Instant;

use keyward_audit::Event;
use keyward_connectors::exec::{ExecOutput, ExecSpec, run};
use keyward_policy::{Action, GrantScope, GrantTarget, evaluate_command};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::command_sandbox as sandbox;
use super::session::Session;
use super::{ToolOutcome, approval, audit};
use crate::Gateway;
use crate::approval::Ask;

/// Arguments of the `run_command` tool.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandArgs {
    /// Name of a command from `list_services`.
    pub command: String,
    /// Arguments, one string each; no shell interprets them.
    #[serde(default)]
    pub args: Vec<String>,
    /// Text written to the program's standard input.
    #[serde(default)]
    pub stdin: Option<String>,
    /// Absolute working directory; refused unless the command's config
    /// allows it. Without one the program runs in `/`.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Why you run this, in a sentence. Shown to the user when a rule asks
    /// for their confirmation; not passed to the program.
    #[serde(default)]
    pub reason: Option<String>,
}

pub async fn handle(
    gw: &Gateway,
    session: &Session,
    args: Option<Map<String, Value>>,
) -> ToolOutcome {
    let started = Instant::now();
    let mut event = Event {
        agent: session.agent.clone(),
        kind: "command".into(),
        ..Event::default()
    };

    // route: a configured command, well-formed arguments.
    let args: CommandArgs = match serde_json::from_value(Value::Object(args.unwrap_or_default())) {
        Ok(a) => a,
        Err(e) => {
            return audit::refuse(
                gw,
                event,
                "error",
                None,
                &format!("error: invalid arguments: {e}"),
            );
        }
    };
    event.target = audit::printable(&args.command, 64);
    event.args = Some(audit::printable(&args.args.join(" "), 256));
    let Some(rt) = gw.commands().get(&args.command) else {
        let names: Vec<&str> = gw.commands().keys().map(String::as_str).collect();
        let msg = format!(
            "error: unknown command `{}`; known commands: {}",
            audit::printable(&args.command, 64),
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        );
        return audit::refuse(gw, event, "error", None, &msg);
    };
    let requested = match args.cwd.as_deref().map(PathBuf::from) {
        Some(p) if !p.is_absolute() => {
            return audit::refuse(
                gw,
                event,
                "error",
                None,
                "error: `cwd` must be an absolute path",
            );
        }
        other => other,
    };

    // policy: may it, and within its rate?
    let verdict = evaluate_command(&rt.command.rules, &args.args);
    let rule = verdict.decision.rule.as_ref().map(|r| r.text.clone());
    let what = format!(
        "`{} {}`",
        args.command,
        audit::printable(&args.args.join(" "), 128)
    );
    match verdict.decision.action {
        Action::Deny => {
            return audit::refuse(gw, event, "deny", rule, &verdict.decision.explain(&what));
        }
        Action::Confirm | Action::Allow => {}
    }
    // The directory, HOME, PATH and program file are checked before anyone
    // is asked: a call that cannot run is not put to a human.
    let (cwd, ceiling) = match sandbox::cwd(&rt.command, requested.as_deref()) {
        Ok(c) => c,
        Err(msg) => {
            let rule = Some(format!("commands.{}.cwd", rt.command.name));
            return audit::refuse(gw, event, "deny", rule, &format!("denied: {msg}"));
        }
    };
    if let Err(msg) = sandbox::program(gw.exec(), &rt.command, path_var(gw)) {
        tracing::warn!(command = %rt.command.name, "{msg}");
        return audit::refuse(gw, event, "deny", None, &format!("denied: {msg}"));
    }
    if let Some(rate) = &rt.command.rate {
        let key = format!("command:{}", args.command);
        if let Err(retry) = gw.limiter().check(&session.agent, &key, rate) {
            let msg = format!(
                "rate limited: {rate} per agent for command {}; retry in {:.1}s",
                args.command,
                retry.0.as_secs_f64()
            );
            return audit::refuse(gw, event, "rate_limited", rule, &msg);
        }
    }
    event.rule = rule.clone();

    // approval: a human says yes (or a grant already did).
    if verdict.decision.action == Action::Confirm {
        let ask = ask_command(gw, session, &args, rule);
        let target = GrantTarget::Command {
            command: &args.command,
        };
        match approval::confirm(gw, session, target, ask, &event).await {
            Ok(approved) => approved.mark(&mut event),
            Err(held) => return held.into_outcome(),
        }
    }
    event.decision = "allow".into();

    // audit, ahead: a call that could not be recorded is not made.
    if audit::ready(gw).is_err() {
        return ToolOutcome::error(audit::AUDIT_FAILED);
    }

    // upstream: the process, no shell, clean environment, private HOME,
    // safe PATH, and the program checked again (a human may have taken
    // minutes to answer).
    let program = match sandbox::program(gw.exec(), &rt.command, path_var(gw)) {
        Ok(p) => p,
        Err(msg) => {
            tracing::warn!(command = %rt.command.name, "{msg}");
            return audit::refuse(gw, event, "deny", None, &format!("denied: {msg}"));
        }
    };
    let (home, _home_guard) = match sandbox::home(gw.exec(), &rt.command) {
        Ok(h) => h,
        Err(msg) => return audit::failed(gw, event, started, &msg, 0),
    };
    let env = gw.secrets().command_env(&args.command).to_vec();
    let spec = ExecSpec {
        program,
        args: args.args,
        inherit: sandbox::inherit(gw.inherit(), &home, ceiling.as_deref(), &env),
        env,
        stdin: args.stdin.map(String::into_bytes),
        cwd: Some(cwd),
        timeout: rt.command.timeout,
        max_output_bytes: rt.command.max_output_bytes,
    };
    event.bytes_sent = Some(spec.stdin.as_ref().map_or(0, |s| s.len() as u64));
    let out = match run(spec).await {
        Ok(o) => o,
        Err(e) => return audit::failed(gw, event, started, &e.to_string(), 0),
    };

    // redact + audit + answer.
    let (outcome, redactions) = render(gw, out, &mut event);
    event.latency_us = Some(started.elapsed().as_micros() as u64);
    event.redactions = redactions as u64;
    if audit::record(gw, event).is_err() {
        return ToolOutcome::error(audit::AUDIT_FAILED);
    }
    outcome
}

/// keyward's own PATH, which programs are resolved against.
fn path_var(gw: &Gateway) -> Option<&str> {
    gw.inherit()
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str())
}

fn render(gw: &Gateway, out: ExecOutput, event: &mut Event) -> (ToolOutcome, usize) {
    let (stdout, n1) = gw
        .scrubber()
        .scrub_str(&String::from_utf8_lossy(&out.stdout));
    let (stderr, n2) = gw
        .scrubber()
        .scrub_str(&String::from_utf8_lossy(&out.stderr));
    event.bytes_received = Some((out.stdout.len() + out.stderr.len()) as u64);
    let status = match (out.status, out.signal, out.timed_out) {
        (_, _, true) => "timed out and was killed".to_string(),
        (Some(code), _, _) => format!("exit {code}"),
        (None, Some(sig), _) => format!("killed by signal {sig}"),
        (None, None, _) => "ended".to_string(),
    };
    let failed = out.timed_out || out.status != Some(0);
    if failed {
        event.error = Some(status.clone());
    }
    let mut text = format!("{status}\n");
    if !stdout.is_empty() {
        text.push_str(&format!(
            "--- stdout{} ---\n{stdout}\n",
            if out.stdout_truncated {
                " (truncated)"
            } else {
                ""
            }
        ));
    }
    if !stderr.is_empty() {
        text.push_str(&format!(
            "--- stderr{} ---\n{stderr}\n",
            if out.stderr_truncated {
                " (truncated)"
            } else {
                ""
            }
        ));
    }
    let structured = json!({
        "exit_code": out.status,
        "signal": out.signal,
        "timed_out": out.timed_out,
        "stdout": stdout,
        "stderr": stderr,
        "stdout_truncated": out.stdout_truncated,
        "stderr_truncated": out.stderr_truncated,
    });
    let outcome = ToolOutcome {
        is_error: failed,
        text,
        structured: Some(structured),
        input_required: None,
    };
    (outcome, n1 + n2)
}

/// The question for a held command. "Allow for a while" grants this
/// command (its deny rules still hold).
fn ask_command(gw: &Gateway, session: &Session, args: &CommandArgs, rule: Option<String>) -> Ask {
    let argv = serde_json::to_string(&args.args).unwrap_or_default();
    let (shown, _) = super::redact::scrub_text(gw, &args.args.join(" "));
    let mut parts: Vec<&[u8]> = vec![b"command", args.command.as_bytes(), argv.as_bytes()];
    parts.push(args.stdin.as_deref().unwrap_or_default().as_bytes());
    parts.push(args.cwd.as_deref().unwrap_or_default().as_bytes());
    Ask {
        agent: session.agent.clone(),
        session: session.id.clone(),
        kind: "command",
        target: format!(
            "command: {} {}{}",
            args.command,
            approval::target_text(&shown),
            args.cwd
                .as_deref()
                .map(|c| format!(" (in {})", audit::printable(c, 200)))
                .unwrap_or_default()
        ),
        rule,
        preview: args
            .stdin
            .as_deref()
            .and_then(|s| approval::preview(gw, &Value::String(format!("stdin: {s}")))),
        reason: approval::reason(gw, args.reason.as_deref()),
        scope: GrantScope::Command {
            command: args.command.clone(),
        },
        digest: approval::digest(&parts),
        grant_on_once: None,
    }
}
