//! The request pipeline: every call the agent makes walks [`run`], one
//! stage a module, in this order:
//!
//! ```text
//! session ─▶ route ─▶ policy ─▶ approval? ─▶ inject ─▶ upstream ─▶ redact ─▶ audit
//! ```
//!
//! A kind of call ([`kind`]: an HTTP request, an upstream tool, a command,
//! a resource, a prompt, a request for access) differs only in how it is
//! routed, which connector performs it and how its answer is scrubbed and
//! shown; the order of the stages, the one policy decision, the rate
//! budgets, the human's confirmation, the credential and the record are
//! the same for all. Workflow steps ([`workflow`]) are calls of those
//! kinds, each run through [`run`].
//!
//! Nothing here knows the gateway: each stage takes the part of
//! [`Stages`] it uses.

pub mod approval;
pub mod audit;
pub mod inject;
pub mod kind;
pub mod policy;
pub mod redact;
pub mod route;
pub mod session;
pub mod upstream;
pub mod workflow;

pub use self::kind::command_sandbox;

mod outcome;
mod stages;

use std::time::Instant;

use keyward_audit::{Decision, Event};
use keyward_policy::Action;
use serde_json::{Map, Value};

pub use self::kind::Kind;
pub use self::outcome::{Stop, Stopped, ToolOutcome};
use self::session::Session;
pub use self::stages::Stages;

/// One call: who makes it, what it names, and the arguments it carries.
#[derive(Clone, Debug)]
pub struct Call {
    pub session: Session,
    /// The agent-facing name: a tool name, a prompt name, a resource URI.
    pub name: String,
    pub args: Option<Map<String, Value>>,
    /// The upstream server, when the caller names it apart from the tool
    /// (a workflow step's `tool = "SERVER__TOOL"` in keyward.toml): then
    /// `name` is the server's own name for the tool, and the call is not
    /// routed by the agent-facing name (which, for a server mounted with
    /// `prefix = false`, is not `SERVER__TOOL`).
    pub server: Option<String>,
    /// `RUN_ID/STEP_ID` when the call is a step of a workflow run: every
    /// record it writes names the step.
    pub run: Option<String>,
}

impl Call {
    pub fn new(session: &Session, name: &str, args: Option<Map<String, Value>>) -> Call {
        Call {
            session: session.clone(),
            name: name.to_string(),
            args,
            server: None,
            run: None,
        }
    }

    /// The call's audit record, before anything is known of it.
    fn record(&self, kind: &str) -> Event {
        Event {
            agent: self.session.agent.clone(),
            kind: kind.into(),
            run: self.run.clone(),
            ..Event::default()
        }
    }
}

/// Walks `call` through every stage as a call of kind `K`. `Err` is a
/// call that stopped on the way: recorded, and with the text the agent is
/// told.
pub async fn run<K: Kind>(st: &Stages, call: &Call) -> Result<K::Answer, Stopped> {
    let started = Instant::now();
    let mut rec = call.record(K::KIND);
    match walk::<K>(st, call, &mut rec, started).await {
        Ok(answer) => Ok(answer),
        Err(stop) => Err(audit::stopped(
            &st.audit,
            &st.scrubber(),
            rec,
            started,
            stop,
        )),
    }
}

async fn walk<K: Kind>(
    st: &Stages,
    call: &Call,
    rec: &mut Event,
    started: Instant,
) -> Result<K::Answer, Stop> {
    // route: what does the call name; may this client reach it?
    let routed = K::route(st, call, rec).await?;
    let target = K::target(&routed);
    route::reach::<K>(&st.tables, call, &target)?;

    // policy: may it, within its rate budget?
    let verdict = policy::decide(st, &call.session, K::rules(&st.tables, &routed), &target);
    rec.rule = verdict.decision.rule.as_ref().map(|r| r.text.clone());
    if verdict.decision.action == Action::Deny {
        let message = verdict.decision.explain(&K::describe(&routed));
        return Err(Stop::refused(Decision::Deny, message));
    }
    K::admit(st, &routed).await?;
    policy::spend(&st.limiter, &call.session.agent, &verdict.budgets)?;

    // approval: a human says yes (or a grant already did).
    let approved = match verdict.decision.action {
        Action::Confirm => {
            let ask = K::question(st, call, &routed, verdict.decision.rule.as_ref())?;
            let approved =
                approval::confirm(st, call, Some(target), verdict.grant, ask, rec).await?;
            approved.mark(rec);
            Some(approved)
        }
        _ => None,
    };
    rec.decision = Decision::Allow;

    // audit, ahead: a call that could not be recorded is not made.
    audit::ready(&st.audit)?;

    // inject + upstream: the credential, and the call itself.
    let timeout = K::timeout(&st.tables, &routed);
    let mut credential = inject::credential(&st.inject, &target);
    let mut response = K::perform(st, &routed, &credential, approved.as_ref(), rec).await?;
    // A credential the upstream refused may have been rotated at its
    // source: fetched once more, and if it changed, the call is made once
    // more with the new one.
    if K::credential_refused(&response) && !credential.is_none() {
        let refetch = inject::refetch(st, &target, &credential, timeout).await;
        rec.refetch = Some(refetch.as_str().to_string());
        if refetch == inject::Refetch::Changed {
            drop(response);
            credential = inject::credential(&st.inject, &target);
            response = K::perform(st, &routed, &credential, approved.as_ref(), rec).await?;
        }
    }
    drop(credential);

    // redact: everything that goes back, scrubbed with the newest values.
    let (clean, redactions) = K::redact(&st.scrubber(), &st.tables.limits, response).await?;
    rec.redactions += redactions as u64;

    // audit: record, then answer.
    let answer = K::render(clean, rec);
    rec.latency_us = Some(started.elapsed().as_micros() as u64);
    audit::record(&st.audit, std::mem::take(rec)).map_err(|_| Stop::AuditFailed)?;
    Ok(answer)
}

/// What the rules would say of `call` as a call of kind `K`, without
/// asking, spending or recording anything (a workflow step's own
/// `confirm` asks only where the rules would let the call through).
pub async fn would_allow<K: Kind>(st: &Stages, call: &Call) -> bool {
    let mut scratch = call.record(K::KIND);
    let Ok(routed) = K::route(st, call, &mut scratch).await else {
        return false;
    };
    if route::reach::<K>(&st.tables, call, &K::target(&routed)).is_err() {
        return false;
    }
    let verdict = policy::decide(
        st,
        &call.session,
        K::rules(&st.tables, &routed),
        &K::target(&routed),
    );
    verdict.decision.action == Action::Allow
}
