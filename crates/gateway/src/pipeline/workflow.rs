//! A workflow run: one tool for the agent, its steps in order, each step
//! the very call the agent could make directly.
//!
//! ```text
//! inputs checked ─▶ for each step: render ─▶ step confirm? ─▶ pipeline::run ─▶ result
//!                                      (stop at the first denied, failed or unanswered step)
//!                ─▶ one audit record for the run ─▶ report
//! ```
//!
//! Each step's arguments are rendered from the templates in keyward.toml
//! ([`template`]) and walk [`super::run`] as a call of the matching kind,
//! so routing, policy (rules, rate limits, `confirm` rules and grants),
//! credential injection, scrubbing and audit are the ones a direct call
//! gets. The step's own `confirm = true` adds a human's confirmation where
//! the rules would allow the call without one; where the rules already say
//! `confirm` the pipeline asks (one question, not two), and where they deny
//! nobody is asked. Every record a step writes carries `run =
//! RUN_ID/STEP_ID` (the step's [`Call::run`]); the run itself gets one
//! record, `kind = "workflow"`, `run = RUN_ID`.

mod result;
mod template;

use std::sync::Arc;

use std::time::Instant;

use keyward_audit::{Decision, Event};
use keyward_config::{InputKind, StepCall, Workflow};
use keyward_policy::{Action, GrantScope, Rules, Target};
use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};

pub use template::render_step;

use self::result::{StepOutput, bounded};
use self::template::{RunContext, render_call};
use super::kind::command::RunCommand;
use super::kind::http::Http;
use super::kind::tool::UpstreamTool;
use super::session::Session;
use super::{Call, Stages, Stop, ToolOutcome, approval, audit, policy, run, would_allow};
use crate::approvals::Ask;

/// How much of the reason a step stopped the run is kept.
const REASON_CHARS: usize = 1000;

/// The tools the agent sees for the configured workflows (those whose
/// servers `session` sees, [`super::route::Tables::sees_workflow`]).
pub fn definitions(st: &Stages, session: &Session) -> Vec<Tool> {
    st.tables
        .workflows
        .values()
        .filter(|wf| st.tables.sees_workflow(session, wf))
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
            let (description, _) = st.scrubber().scrub_str(&description);
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
struct Stop_ {
    step: String,
    decision: Decision,
    reason: String,
}

/// Runs workflow `name` with the agent's `args`.
pub async fn run_workflow(
    st: &Stages,
    session: &Session,
    name: &str,
    args: Option<Map<String, Value>>,
) -> ToolOutcome {
    let Some(wf) = st.tables.workflows.get(name) else {
        return ToolOutcome::error(format!(
            "error: unknown workflow `{}`",
            audit::printable(name, 64)
        ));
    };
    let run_id = crate::approvals::new_id();
    let event = Event {
        agent: session.agent.clone(),
        kind: "workflow".into(),
        target: wf.name.clone(),
        run: Some(run_id.clone()),
        ..Event::default()
    };
    if !st.tables.sees_workflow(session, wf) {
        let stop = super::route::refuse_hidden_workflow(&st.tables, session, wf);
        return audit::stopped(&st.audit, &st.scrubber(), event, Instant::now(), stop)
            .into_outcome();
    }
    let inputs = match check_inputs(wf, args.unwrap_or_default()) {
        Ok(i) => i,
        Err(m) => return refuse(st, event, &format!("error: {m}")).into_outcome(),
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
    let mut stop: Option<Stop_> = None;
    for (index, step) in wf.steps.iter().enumerate() {
        let (decision, output) = match run_step(st, &session, wf, index, &run_id, &ctx).await {
            Err(stopped) => {
                stop = Some(Stop_ {
                    step: step.id.clone(),
                    decision: stopped.decision.unwrap_or(Decision::Error),
                    reason: stopped.text,
                });
                break;
            }
            Ok(done) => done,
        };
        if !output.ok {
            stop = Some(Stop_ {
                step: step.id.clone(),
                decision: match decision {
                    None | Some(Decision::Allow) => Decision::Error,
                    Some(d) => d,
                },
                reason: output.summary.clone(),
            });
            ran.push(Ran {
                id: step.id.clone(),
                call: step.call.describe(),
                output,
            });
            break;
        }
        ctx.add_step(&step.id, &output.fields);
        ran.push(Ran {
            id: step.id.clone(),
            call: step.call.describe(),
            output,
        });
    }
    finish(st, wf, event, &run_id, ran, stop)
}

/// A refusal of the run itself (its inputs), recorded.
fn refuse(st: &Stages, event: Event, message: &str) -> super::Stopped {
    audit::stopped(
        &st.audit,
        &st.scrubber(),
        event,
        Instant::now(),
        Stop::refused(Decision::Error, message),
    )
}

/// Renders, confirms and runs step `index` through the pipeline: the
/// decision its call was recorded with, and its output. `Err` when the
/// step stopped before its call was made (a template failed, the human
/// said no to the step's own `confirm`, the rules refused the call).
async fn run_step(
    st: &Stages,
    session: &Session,
    wf: &Workflow,
    index: usize,
    run_id: &str,
    ctx: &RunContext,
) -> Result<(Option<Decision>, StepOutput), super::Stopped> {
    let step = &wf.steps[index];
    let started = Instant::now();
    let mut event = Event {
        agent: session.agent.clone(),
        kind: "workflow".into(),
        target: wf.name.clone(),
        tool: Some(step.id.clone()),
        run: Some(format!("{run_id}/{}", step.id)),
        ..Event::default()
    };
    let stopped =
        |event: Event, stop: Stop| audit::stopped(&st.audit, &st.scrubber(), event, started, stop);
    // The kill switch, between steps too.
    if let Some(stop) = approval::locked(&st.desk.approvals) {
        return Err(stopped(event, stop));
    }
    let args = match render_call(&step.call, &ctx.value()) {
        Ok(a) => a,
        Err(e) => {
            let message = format!(
                "error: step `{}`: the template at workflows.{}.steps[{index}].{} failed: {}",
                step.id, wf.name, e.at, e.message
            );
            return Err(stopped(event, Stop::refused(Decision::Error, message)));
        }
    };
    let (server, name) = match &step.call {
        StepCall::Tool { server, tool, .. } => (Some(server.clone()), tool.clone()),
        _ => (None, String::new()),
    };
    let call = Call {
        session: session.clone(),
        name,
        args: Some(args),
        server,
        run: event.run.clone(),
    };
    if step.confirm && rules_would_allow(st, &step.call, &call).await {
        let ask = step_question(st, session, wf, index, run_id, call.args.as_ref());
        let target = Target::Workflow { workflow: &wf.name };
        let verdict = policy::decide(st, session, Rules::Fixed(Action::Confirm), &target);
        if let Err(stop) =
            approval::confirm(st, &call, Some(target), verdict.grant, ask, &mut event).await
        {
            return Err(stopped(event, stop));
        }
    }
    Ok(match &step.call {
        StepCall::Http { .. } => decided(run::<Http>(st, &call).await, |r| {
            result::of_http(r.as_ref().unwrap_or_else(|o| o))
        }),
        StepCall::Tool { .. } => decided(run::<UpstreamTool>(st, &call).await, result::of_tool),
        StepCall::Command { .. } => decided(run::<RunCommand>(st, &call).await, |r| {
            result::of_command(r.as_ref().unwrap_or_else(|o| o))
        }),
    })
}

/// A step's call as it ended: its recorded decision and its output.
fn decided<A>(
    answer: Result<A, super::Stopped>,
    of: fn(&Result<A, ToolOutcome>) -> StepOutput,
) -> (Option<Decision>, StepOutput) {
    match answer {
        Ok(a) => (Some(Decision::Allow), of(&Ok(a))),
        Err(s) => (s.decision.clone(), of(&Err(s.into_outcome()))),
    }
}

/// Whether the rules let this call through without a human: then the
/// step's own `confirm` must ask. Where they say `confirm`, the pipeline
/// asks; where they deny (or the call cannot be routed), nobody is asked
/// and the pipeline refuses.
async fn rules_would_allow(st: &Stages, step: &StepCall, call: &Call) -> bool {
    match step {
        StepCall::Http { .. } => would_allow::<Http>(st, call).await,
        StepCall::Tool { .. } => would_allow::<UpstreamTool>(st, call).await,
        StepCall::Command { .. } => would_allow::<RunCommand>(st, call).await,
    }
}

/// The question for a step's own `confirm`. "Allow for a while" grants the
/// workflow's step confirmations (never its rules' `confirm`s, which ask
/// on their own scope).
fn step_question(
    st: &Stages,
    session: &Session,
    wf: &Workflow,
    index: usize,
    run_id: &str,
    args: Option<&Map<String, Value>>,
) -> Ask {
    let step = &wf.steps[index];
    let empty = Map::new();
    let args = args.unwrap_or(&empty);
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
    let scrubber = st.scrubber();
    let (what, _) = scrubber.scrub_str(&what);
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
        preview: approval::preview(&scrubber, &shown),
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

/// The run's report: text for the model, and the same as structured
/// content.
fn report(wf: &Workflow, run_id: &str, ran: &[Ran], stop: Option<&Stop_>) -> (String, Value) {
    let not_run: Vec<&str> = match stop {
        None => Vec::new(),
        Some(s) => wf
            .steps
            .iter()
            .skip_while(|step| step.id != s.step)
            .skip(1)
            .map(|step| step.id.as_str())
            .collect(),
    };
    let mut text = match stop {
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
    for r in ran {
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
    let stopped = stop.map(|s| {
        let reason = bounded(&s.reason, REASON_CHARS);
        if !ran.iter().any(|r| r.id == s.step) {
            text.push_str(&format!("\n## {}: stopped\n{reason}\n", s.step));
        }
        json!({ "step": s.step, "decision": s.decision.to_string(), "reason": reason })
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
    (text, structured)
}

/// Records the run and builds the report.
fn finish(
    st: &Stages,
    wf: &Workflow,
    mut event: Event,
    run_id: &str,
    ran: Vec<Ran>,
    stop: Option<Stop_>,
) -> ToolOutcome {
    let (text, structured) = report(wf, run_id, &ran, stop.as_ref());
    event.decision = stop
        .as_ref()
        .map_or(Decision::Allow, |s| s.decision.clone());
    if let Some(s) = &stop {
        let (reason, n) = st
            .scrubber()
            .scrub_str(&format!("stopped at step `{}`: {}", s.step, s.reason));
        event.redactions = n as u64;
        event.error = Some(audit::printable(&reason, 512));
    }
    if audit::record(&st.audit, event).is_err() {
        return ToolOutcome::error(audit::AUDIT_FAILED);
    }
    let (text, _) = st.scrubber().scrub_str(&text);
    let mut outcome = ToolOutcome::ok(text, Some(structured));
    outcome.is_error = stop.is_some();
    outcome
}
