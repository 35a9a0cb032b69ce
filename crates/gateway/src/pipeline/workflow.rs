//! A workflow run: one tool for the agent, its steps in order, each step
//! the very call the agent could make directly.
//!
//! ```text
//! inputs checked ─▶ for each step: render ─▶ step confirm? ─▶ http/tool/command::handle ─▶ result
//!                                      (stop at the first denied, failed or unanswered step)
//!                ─▶ one audit record for the run ─▶ report
//! ```
//!
//! Each step's arguments are rendered from the templates in keyward.toml
//! ([`template`]) and handed to the handler of the matching direct call,
//! so routing, policy (rules, rate limits, `confirm` rules and grants),
//! credential injection, scrubbing and audit are the ones a direct call
//! gets. The step's own `confirm = true` adds a human's confirmation where
//! the rules would allow the call without one; where the rules already say
//! `confirm` the handler asks (one question, not two), and where they deny
//! nobody is asked. Every record a step writes carries `run =
//! RUN_ID/STEP_ID` ([`context`]); the run itself gets one record, `kind =
//! "workflow"`, `run = RUN_ID`.

mod context;
mod result;
mod template;

use std::sync::Arc;

use keyward_audit::Event;
use keyward_config::{InputKind, StepCall, Workflow};
use keyward_policy::{
    Action, GrantScope, GrantTarget, evaluate_command, evaluate_http, evaluate_tool,
};
use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

pub(crate) use context::{current_run, observe};
pub use template::render_step;

use self::context::StepContext;
use self::result::{StepOutput, bounded};
use self::template::{RunContext, render_call};
use super::session::Session;
use super::{ToolOutcome, approval, audit, command, http, redact, route, tool};
use crate::Gateway;
use crate::approval::Ask;

/// How much of the reason a step stopped the run is kept.
const REASON_CHARS: usize = 1000;

/// The tools the agent sees for the configured workflows.
pub fn definitions(gw: &Gateway) -> Vec<Tool> {
    gw.workflows()
        .values()
        .map(|wf| {
            let mut properties = Map::new();
            for (name, input) in &wf.inputs {
                let mut p = json!({ "type": input.kind.as_str() });
                if let Some(d) = &input.description {
                    p["description"] = json!(d);
                }
                properties.insert(name.clone(), p);
            }
            let required: Vec<&String> = wf.inputs.keys().collect();
            let schema = json!({
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false,
            });
            let schema = match schema {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            let steps: Vec<String> = wf
                .steps
                .iter()
                .map(|s| {
                    format!(
                        "{} ({}{})",
                        s.id,
                        s.call.describe(),
                        if s.confirm { ", asks the user" } else { "" }
                    )
                })
                .collect();
            let description = format!(
                "{}\n\nA keyward workflow; its steps run in order, each under the same rules as a \
                 direct call, and the run stops at the first step that is denied or fails: {}.",
                wf.description,
                steps.join(", then ")
            );
            let (description, _) = gw.scrubber().scrub_str(&description);
            Tool::new(wf.name.clone(), description, Arc::new(schema))
                .with_annotations(ToolAnnotations::new().open_world(true))
        })
        .collect()
}

/// How one step ended, for the report.
struct Ran {
    id: String,
    call: String,
    output: StepOutput,
}

/// Why the run stopped early.
struct Stop {
    step: String,
    decision: String,
    reason: String,
}

/// Runs workflow `name` with the agent's `args`.
pub async fn run(
    gw: &Gateway,
    session: &Session,
    name: &str,
    args: Option<Map<String, Value>>,
) -> ToolOutcome {
    let Some(wf) = gw.workflows().get(name) else {
        return ToolOutcome::error(format!(
            "error: unknown workflow `{}`",
            audit::printable(name, 64)
        ));
    };
    let run_id = crate::approval::new_id();
    let event = Event {
        agent: session.agent.clone(),
        kind: "workflow".into(),
        target: wf.name.clone(),
        run: Some(run_id.clone()),
        ..Event::default()
    };
    let inputs = match check_inputs(wf, args.unwrap_or_default()) {
        Ok(i) => i,
        Err(m) => return audit::refuse(gw, event, "error", None, &format!("error: {m}")),
    };
    // A step cannot be retried on its own through the client (a retry
    // would run the earlier steps again): questions go to the other
    // channels, or to the client's elicitation.
    let session = Session {
        asker: session.asker.without_retry(),
        ..session.clone()
    };

    let mut ctx = RunContext::new(&inputs);
    let mut ran: Vec<Ran> = Vec::new();
    let mut stop: Option<Stop> = None;
    for (index, step) in wf.steps.iter().enumerate() {
        let here = StepContext::new(&run_id, &step.id);
        let finished = here
            .scope(run_step(gw, &session, wf, index, &run_id, &ctx))
            .await;
        match finished {
            Err(reason) => {
                stop = Some(Stop {
                    step: step.id.clone(),
                    decision: here.decision().unwrap_or_else(|| "error".into()),
                    reason,
                });
                break;
            }
            Ok(output) if !output.ok => {
                let decision = match here.decision() {
                    Some(d) if d != "allow" => d,
                    _ => "error".into(),
                };
                stop = Some(Stop {
                    step: step.id.clone(),
                    decision,
                    reason: output.summary.clone(),
                });
                ran.push(Ran {
                    id: step.id.clone(),
                    call: step.call.describe(),
                    output,
                });
                break;
            }
            Ok(output) => {
                ctx.add_step(&step.id, &output.fields);
                ran.push(Ran {
                    id: step.id.clone(),
                    call: step.call.describe(),
                    output,
                });
            }
        }
    }
    finish(gw, wf, event, &run_id, ran, stop)
}

/// Renders, confirms and calls step `index`. `Err` when the step stopped
/// before it reached its handler (a template failed, the human said no);
/// the handler's refusals are an output that is not `ok`.
async fn run_step(
    gw: &Gateway,
    session: &Session,
    wf: &Workflow,
    index: usize,
    run_id: &str,
    ctx: &RunContext,
) -> Result<StepOutput, String> {
    let step = &wf.steps[index];
    let event = Event {
        agent: session.agent.clone(),
        kind: "workflow".into(),
        target: wf.name.clone(),
        tool: Some(step.id.clone()),
        ..Event::default()
    };
    // The kill switch, between steps too.
    if let Some(o) = approval::locked(gw, event.clone()) {
        return Err(o.text);
    }
    let args = match render_call(&step.call, &ctx.value()) {
        Ok(a) => a,
        Err(e) => {
            let message = format!(
                "error: step `{}`: the template at workflows.{}.steps[{index}].{} failed: {}",
                step.id, wf.name, e.at, e.message
            );
            return Err(audit::refuse(gw, event, "error", None, &message).text);
        }
    };
    if step.confirm && rules_would_allow(gw, &step.call, &args) {
        let ask = step_question(gw, session, wf, index, run_id, &args);
        let target = GrantTarget::Workflow { workflow: &wf.name };
        match approval::confirm(gw, session, target, ask, &event).await {
            Ok(_) => {}
            Err(held) => return Err(held.into_outcome().text),
        }
    }
    Ok(match &step.call {
        StepCall::Http { .. } => result::of_http(&http::handle(gw, session, Some(args)).await),
        StepCall::Tool { server, tool, .. } => {
            result::of_tool(&tool::handle(gw, session, server, tool, Some(args)).await)
        }
        StepCall::Command { .. } => {
            result::of_command(&command::handle(gw, session, Some(args)).await)
        }
    })
}

/// Whether the rules let this call through without a human: then the
/// step's own `confirm` must ask. Where they say `confirm`, the handler
/// asks; where they deny (or the call cannot be routed), nobody is asked
/// and the handler refuses. The same pure functions as the handlers, on
/// the same arguments.
fn rules_would_allow(gw: &Gateway, call: &StepCall, args: &Map<String, Value>) -> bool {
    let action = match call {
        StepCall::Http { .. } => {
            let Ok(target) = route::route_http(gw, Some(args.clone())) else {
                return false;
            };
            let Some(svc) = gw.services().get(&target.service) else {
                return false;
            };
            evaluate_http(&svc.service.rules, &target.method, &target.path)
                .decision
                .action
        }
        StepCall::Tool { server, tool, .. } => match gw.servers().get(server) {
            Some(rt) => evaluate_tool(&rt.server.tools, tool).decision.action,
            None => return false,
        },
        StepCall::Command { command, .. } => {
            let argv: Vec<String> = args
                .get("args")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            match gw.commands().get(command) {
                Some(rt) => evaluate_command(&rt.command.rules, &argv).decision.action,
                None => return false,
            }
        }
    };
    action == Action::Allow
}

/// The question for a step's own `confirm`. "Allow for a while" grants the
/// workflow's step confirmations (never its rules' `confirm`s, which ask
/// on their own scope).
fn step_question(
    gw: &Gateway,
    session: &Session,
    wf: &Workflow,
    index: usize,
    run_id: &str,
    args: &Map<String, Value>,
) -> Ask {
    let step = &wf.steps[index];
    let what = match &step.call {
        StepCall::Http {
            service, method, ..
        } => format!(
            "{} {service} {}",
            method.as_str(),
            args.get("path").and_then(Value::as_str).unwrap_or_default()
        ),
        StepCall::Tool { server, tool, .. } => format!("tool {server}__{tool}"),
        StepCall::Command { command, .. } => {
            let argv: Vec<&str> = args
                .get("args")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            format!("command {command} {}", argv.join(" "))
        }
    };
    let (what, _) = redact::scrub_text(gw, &what);
    let shown = Value::Object(args.clone());
    let rendered = serde_json::to_vec(&shown).unwrap_or_default();
    Ask {
        agent: session.agent.clone(),
        session: session.id.clone(),
        kind: "workflow",
        target: format!(
            "workflow {}, step {} of {} `{}`: {}",
            wf.name,
            index + 1,
            wf.steps.len(),
            step.id,
            approval::target_text(&what)
        ),
        rule: Some(format!(
            "workflows.{}.steps[{index}] confirm = true",
            wf.name
        )),
        preview: approval::preview(gw, &shown),
        reason: None,
        scope: GrantScope::Workflow {
            workflow: wf.name.clone(),
        },
        digest: approval::digest(&[
            b"workflow",
            wf.name.as_bytes(),
            run_id.as_bytes(),
            step.id.as_bytes(),
            &rendered,
        ]),
        grant_on_once: None,
    }
}

/// The agent's arguments against the declared inputs: each one given,
/// with its type, and nothing else.
fn check_inputs(wf: &Workflow, args: Map<String, Value>) -> Result<Map<String, Value>, String> {
    if let Some(extra) = args.keys().find(|k| !wf.inputs.contains_key(*k)) {
        return Err(format!(
            "`{}` is not an input of workflow {} (inputs: {})",
            audit::printable(extra, 64),
            wf.name,
            input_list(wf)
        ));
    }
    for (name, input) in &wf.inputs {
        let Some(v) = args.get(name) else {
            return Err(format!(
                "missing input `{name}` of workflow {} (inputs: {})",
                wf.name,
                input_list(wf)
            ));
        };
        let fits = match input.kind {
            InputKind::String => v.is_string(),
            InputKind::Number => v.is_number(),
            InputKind::Integer => v.is_i64() || v.is_u64(),
            InputKind::Boolean => v.is_boolean(),
        };
        if !fits {
            return Err(format!("input `{name}` must be a {}", input.kind.as_str()));
        }
    }
    Ok(args)
}

fn input_list(wf: &Workflow) -> String {
    if wf.inputs.is_empty() {
        return "none".into();
    }
    wf.inputs
        .iter()
        .map(|(n, i)| format!("{n}: {}", i.kind.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records the run and builds the report.
fn finish(
    gw: &Gateway,
    wf: &Workflow,
    mut event: Event,
    run_id: &str,
    ran: Vec<Ran>,
    stop: Option<Stop>,
) -> ToolOutcome {
    let not_run: Vec<&str> = match &stop {
        None => Vec::new(),
        Some(s) => wf
            .steps
            .iter()
            .skip_while(|step| step.id != s.step)
            .skip(1)
            .map(|step| step.id.as_str())
            .collect(),
    };
    let mut text = match &stop {
        None => format!(
            "workflow {} (run {run_id}): completed, {} of {} steps\n",
            wf.name,
            ran.len(),
            wf.steps.len()
        ),
        Some(s) => format!(
            "workflow {} (run {run_id}): stopped at step `{}` ({}); {} of {} steps completed\n",
            wf.name,
            s.step,
            s.decision,
            ran.iter().filter(|r| r.output.ok).count(),
            wf.steps.len()
        ),
    };
    let mut steps = Vec::new();
    for r in &ran {
        let status = if r.output.ok { "ok" } else { "stopped" };
        text.push_str(&format!(
            "\n## {} ({}): {status}\n{}\n",
            r.id, r.call, r.output.summary
        ));
        steps.push(json!({
            "id": r.id,
            "call": r.call,
            "status": status,
            "summary": r.output.summary,
        }));
    }
    let stopped = stop.as_ref().map(|s| {
        let reason = bounded(&s.reason, REASON_CHARS);
        if !ran.iter().any(|r| r.id == s.step) {
            text.push_str(&format!("\n## {}: stopped\n{reason}\n", s.step));
        }
        json!({ "step": s.step, "decision": s.decision, "reason": reason })
    });
    if !not_run.is_empty() {
        text.push_str(&format!("\nnot run: {}\n", not_run.join(", ")));
    }
    let structured = json!({
        "workflow": wf.name,
        "run": run_id,
        "completed": stop.is_none(),
        "steps": steps,
        "stopped": stopped,
        "not_run": not_run,
    });

    event.decision = stop
        .as_ref()
        .map_or_else(|| "allow".to_string(), |s| s.decision.clone())
        .into();
    if let Some(s) = &stop {
        let (reason, n) =
            redact::scrub_text(gw, &format!("stopped at step `{}`: {}", s.step, s.reason));
        event.redactions = n as u64;
        event.error = Some(audit::printable(&reason, 512));
    }
    if audit::record(gw, event).is_err() {
        return ToolOutcome::error(audit::AUDIT_FAILED);
    }
    let (text, _) = redact::scrub_text(gw, &text);
    let mut outcome = ToolOutcome::ok(text, Some(structured));
    outcome.is_error = stop.is_some();
    outcome
}
