//! approval?: a call a `confirm` rule holds waits here for a human.
//!
//! In order: the kill switch; a grant that covers the call; on a
//! 2026-07-28 retry, the answer the client brings back; otherwise a new
//! question, asked on every channel at once (elicitation on this client, the
//! dashboard, `keyward approvals`, a desktop notification), first answer
//! wins, no answer within `[approvals] timeout` is a deny. Every question
//! and every answer is audited ([`settle`]).

use keyward_audit::Event;
use keyward_policy::GrantTarget;
use rmcp::RoleServer;
use rmcp::model::{
    InputRequest, InputRequests, InputRequiredResult, InputResponses, ProtocolVersion,
};
use rmcp::service::{Peer, RequestContext};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::ToolOutcome;
use super::audit;
use super::session::Session;
use crate::Gateway;
use crate::approval::{
    Answer, AnswerError, Ask, Channel, Lookup, Question, Resolution, elicit, notify_desktop,
};

/// How the calling client can be asked.
#[derive(Clone, Debug, Default)]
pub enum Asker {
    /// Send `elicitation/create` (2025-06-18 and 2025-11-25 sessions whose
    /// client declared form elicitation).
    Elicit(Peer<RoleServer>),
    /// Answer `input_required`; the client retries the call with the
    /// human's answer (2026-07-28 sessions whose client declared
    /// elicitation). `state` and `responses` are what this request brought
    /// back, if it is such a retry.
    Retry {
        state: Option<String>,
        responses: Option<InputResponses>,
    },
    /// The client cannot be asked: only the other channels.
    #[default]
    Nobody,
}

impl Asker {
    /// What the client of this request can do.
    pub fn of(ctx: &RequestContext<RoleServer>) -> Asker {
        let elicits = ctx
            .client_capabilities()
            .and_then(|c| c.elicitation)
            .is_some_and(|e| e.form.is_some() || e.url.is_none());
        if !elicits {
            return Asker::Nobody;
        }
        if ctx
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28)
        {
            Asker::Retry {
                state: None,
                responses: None,
            }
        } else {
            Asker::Elicit(ctx.peer.clone())
        }
    }

    /// The same asker for a `tools/call` that may be a retry.
    pub fn with_retry(self, state: Option<String>, responses: Option<InputResponses>) -> Asker {
        match self {
            Asker::Retry { .. } => Asker::Retry { state, responses },
            other => other,
        }
    }

    /// For calls that cannot be retried as a whole (the steps of a
    /// workflow: a retry would run the earlier steps again), the client is
    /// not asked through `input_required`; the other channels still are.
    pub fn without_retry(&self) -> Asker {
        match self {
            Asker::Retry { .. } => Asker::Nobody,
            other => other.clone(),
        }
    }
}

/// A held call that may go on.
#[derive(Clone, Debug)]
pub struct Approved {
    /// The question's id, when a human answered one now.
    pub approval: Option<String>,
    /// How: `elicitation`, `dashboard`, `cli`, or `grant ID`.
    pub channel: String,
    /// The grant the human's answer created, if any.
    pub grant: Option<String>,
}

impl Approved {
    /// Marks the call's audit record with how it was approved.
    pub fn mark(&self, event: &mut Event) {
        event.approval = self.approval.clone();
        event.channel = Some(self.channel.as_str().into());
    }
}

/// What the agent is sent while a call cannot go on.
#[derive(Debug)]
pub enum Held {
    /// Denied (already recorded).
    Denied(ToolOutcome),
    /// Asked through the client: answer `input_required`, wait for the
    /// retry.
    InputRequired(InputRequiredResult),
}

impl Held {
    /// The refusal as a tool outcome (the input-required form, for a
    /// caller that cannot pass it on, becomes a deny).
    pub fn into_outcome(self) -> ToolOutcome {
        match self {
            Held::Denied(o) => o,
            Held::InputRequired(r) => {
                let mut o = ToolOutcome::error("denied: this call needs a human's confirmation");
                o.input_required = Some(r);
                o
            }
        }
    }
}

/// Binds an approval to one exact call (an `input_required` retry must be
/// the same call).
pub fn digest(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// A bounded, scrubbed preview of arguments, for the question.
pub fn preview(gw: &Gateway, value: &Value) -> Option<String> {
    let text = match value {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    if text.is_empty() {
        return None;
    }
    let (text, _) = super::redact::scrub_text(gw, &text);
    Some(shown_bounded(&text, PREVIEW_CHARS))
}

/// The agent's stated reason, scrubbed and bounded.
pub fn reason(gw: &Gateway, reason: Option<&str>) -> Option<String> {
    let r = reason?.trim();
    if r.is_empty() {
        return None;
    }
    let (r, _) = super::redact::scrub_text(gw, r);
    Some(shown_bounded(&r, REASON_CHARS))
}

/// Agent text for the question: escaped once, here, by the one escaping
/// ([`keyward_audit::shown`]: bidirectional, invisible and control
/// characters as `\u{..}`, a backslash as `\\`), so that every channel
/// shows the same text and none of it can make the question read
/// differently from the call. A cut says plainly how much is not shown.
fn shown_bounded(text: &str, max_chars: usize) -> String {
    keyward_audit::shown::escape_bounded(text, max_chars)
}

/// A call's description for the question's target line (a command's
/// arguments, a workflow step): escaped, and bounded generously enough that
/// padding cannot push an argument out of view; a cut says so plainly.
pub fn target_text(text: &str) -> String {
    shown_bounded(text, TARGET_CHARS)
}

const TARGET_CHARS: usize = 4000;

/// Long enough that padding cannot push what matters far out of view; a
/// cut preview ends with `… [N more characters not shown]`.
const PREVIEW_CHARS: usize = 2000;
const REASON_CHARS: usize = 300;

/// The kill switch, checked before anything else a call does.
pub fn locked(gw: &Gateway, event: Event) -> Option<ToolOutcome> {
    gw.approvals().is_locked().then(|| {
        audit::refuse(
            gw,
            event,
            "deny",
            None,
            "denied: keyward is locked by the user; every call is refused until they run `keyward unlock`",
        )
    })
}

/// Holds the call described by `ask` (for `target`) until a human answers,
/// or lets it through at once when a grant covers it. `event` is the call's
/// audit record so far: a refusal is recorded with it.
pub async fn confirm(
    gw: &Gateway,
    session: &Session,
    target: GrantTarget<'_>,
    ask: Ask,
    event: &Event,
) -> Result<Approved, Held> {
    ask_human(gw, session, Some(target), ask, event).await
}

/// Like [`confirm`]; with `target` `None` no grant can answer for the human
/// (a `request_access` question, or a workflow step's own `confirm`).
pub async fn ask_human(
    gw: &Gateway,
    session: &Session,
    target: Option<GrantTarget<'_>>,
    ask: Ask,
    event: &Event,
) -> Result<Approved, Held> {
    let what = ask.target.clone();
    let rule = ask.rule.clone();
    let deny = |event: &Event, r: &Resolution, id: Option<&str>, message: String| {
        let mut event = event.clone();
        event.approval = id.map(str::to_string);
        event.channel = Some(r.channel.into());
        Held::Denied(audit::refuse(gw, event, "deny", rule.clone(), &message))
    };

    if let Some(o) = locked(gw, event.clone()) {
        return Err(Held::Denied(o));
    }
    // `[approvals] elicitation = false`: the client is never asked (an
    // agent that can run its own MCP client could answer there).
    let nobody = Session {
        asker: Asker::Nobody,
        ..session.clone()
    };
    let session = if gw.elicitation() { session } else { &nobody };
    if let Some(ok) = granted(gw, session, target.as_ref()) {
        return Ok(ok);
    }

    // A 2026-07-28 client retrying with the human's answer.
    if let Asker::Retry {
        state: Some(id),
        responses,
    } = &session.asker
    {
        let resolution = match gw.approvals().lookup(id, &session.agent, &ask.digest) {
            Lookup::Settled(r) => Some(r),
            Lookup::Pending(mut asked) => {
                match responses.as_ref().and_then(|r| r.get(elicit::INPUT_KEY)) {
                    Some(v) => {
                        let answer = elicit::answer_of_response(v);
                        Some(settled_or_first(gw, id, answer, Channel::Elicitation))
                    }
                    // A retry without the answer: wait for the other channels.
                    None => Some(asked.settled().await),
                }
            }
            // Unknown or for another call: ask anew, below.
            Lookup::Unknown => None,
        };
        if resolution.is_some() {
            if let Some(r) = gw.approvals().take(id) {
                let seen = r.clone();
                return finish(gw, r, Some(id), &what)
                    .map_err(|(r, m)| deny(event, r.as_ref().unwrap_or(&seen), Some(id), m));
            }
            // Another retry with the same `requestState` took this answer
            // first: one answer, one call. A grant the answer made may
            // cover this one; otherwise it is asked anew, below.
            if let Some(ok) = granted(gw, session, target.as_ref()) {
                return Ok(ok);
            }
        }
    }

    // A new question.
    let asked_rule = ask.rule.clone();
    let mut asked = match gw
        .approvals()
        .ask_in_run(ask, super::workflow::current_run())
    {
        Ok(a) => a,
        Err(_) => {
            let r = Resolution::deny(Channel::Lock);
            return Err(deny(
                event,
                &r,
                None,
                "denied: keyward is locked by the user".into(),
            ));
        }
    };
    let id = asked.question.id.clone();
    if record_question(gw, &asked.question, asked_rule).is_err() {
        let _ = gw.approvals().answer(&id, Answer::Deny, Channel::Timeout);
        return Err(Held::Denied(ToolOutcome::error(audit::AUDIT_FAILED)));
    }
    spawn_timeout(gw, &id);
    if gw.notify() {
        notify_desktop(&asked.question, gw.dashboard_url().as_deref());
    }

    let resolution = match &session.asker {
        Asker::Retry { .. } => {
            let mut requests = InputRequests::new();
            match elicit::request(&asked.question) {
                Ok(r) => {
                    requests.insert(elicit::INPUT_KEY.to_string(), InputRequest::Elicitation(r));
                    return Err(Held::InputRequired(InputRequiredResult::new(
                        Some(requests),
                        Some(id),
                    )));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot build the elicitation form; waiting for the other channels");
                    asked.settled().await
                }
            }
        }
        Asker::Elicit(peer) => {
            let question = asked.question.clone();
            let form = elicit::params(&question);
            let ask_client = async {
                match form {
                    Ok(p) => peer
                        .create_elicitation_with_timeout(p, Some(gw.approvals().timeout()))
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            };
            tokio::select! {
                r = asked.settled() => r,
                answered = ask_client => match answered {
                    Ok(result) => settled_or_first(gw, &id, elicit::answer_of(&result), Channel::Elicitation),
                    Err(e) => {
                        tracing::info!(error = %e, "the client could not be asked; waiting for the other channels");
                        asked.settled().await
                    }
                },
            }
        }
        Asker::Nobody => asked.settled().await,
    };
    let Some(resolution) = gw.approvals().take(&id).or_else(|| {
        // Settled, but the answer was taken by another call that named this
        // question (a retry carrying its id): it let that call through.
        (!resolution.answer.allows()).then_some(resolution)
    }) else {
        let r = Resolution::deny(Channel::Replay);
        return Err(deny(
            event,
            &r,
            Some(&id),
            "denied: the answer to this confirmation was already used by another call".into(),
        ));
    };
    let r = resolution.clone();
    finish(gw, resolution, Some(&id), &what)
        .map_err(|(lock, m)| deny(event, lock.as_ref().unwrap_or(&r), Some(&id), m))
}

/// A grant that answers for the human, if one covers the call.
fn granted(gw: &Gateway, session: &Session, target: Option<&GrantTarget<'_>>) -> Option<Approved> {
    let g = gw
        .approvals()
        .covering(&session.agent, &session.id, target?)?;
    Some(Approved {
        approval: None,
        channel: format!("grant {}", g.id),
        grant: None,
    })
}

/// Settles `id` with `answer` from `channel`, or — when another channel was
/// first — returns how it was settled.
fn settled_or_first(gw: &Gateway, id: &str, answer: Answer, channel: Channel) -> Resolution {
    match settle(gw, id, answer, channel) {
        Ok((_, r)) => r,
        Err(AnswerError::AlreadySettled(r, _)) => r,
        Err(AnswerError::Unknown(_)) => Resolution::deny(Channel::Timeout),
    }
}

/// The resolution as "go on" or the message of a refusal.
/// On a deny: the lock's resolution when the lock came after a yes, and
/// the message.
type Refusal = (Option<Resolution>, String);

fn finish(gw: &Gateway, r: Resolution, id: Option<&str>, what: &str) -> Result<Approved, Refusal> {
    let timeout = gw.approvals().timeout();
    // Locked while the human was answering: the lock wins.
    if r.answer.allows() && gw.approvals().is_locked() {
        return Err((
            Some(Resolution::deny(Channel::Lock)),
            "denied: keyward was locked by the user while the call waited".to_string(),
        ));
    }
    if r.answer.allows() {
        return Ok(Approved {
            approval: id.map(str::to_string),
            channel: r.channel.as_str().to_string(),
            grant: r.grant,
        });
    }
    Err((
        None,
        match r.channel {
            Channel::Timeout => format!(
                "denied: nobody answered the confirmation for {what} within {}; the call was not made",
                crate::approval::human_duration(timeout)
            ),
            Channel::Lock => {
                "denied: keyward was locked by the user while the call waited".to_string()
            }
            c => format!(
                "denied: the user declined {what} (answered via {})",
                c.as_str()
            ),
        },
    ))
}

/// Answers question `id` and records the answer; the one way every channel
/// (elicitation, dashboard, CLI, the timeout, the lock) settles a question.
pub fn settle(
    gw: &Gateway,
    id: &str,
    answer: Answer,
    channel: Channel,
) -> Result<(Question, Resolution), AnswerError> {
    let (q, r) = gw.approvals().answer(id, answer, channel)?;
    record_answer(gw, &q, &r);
    Ok((q, r))
}

fn record_question(
    gw: &Gateway,
    q: &Question,
    rule: Option<String>,
) -> Result<(), keyward_audit::AuditError> {
    audit::record(
        gw,
        Event {
            agent: q.agent.clone(),
            kind: "approval".into(),
            target: q.target.clone(),
            decision: "asked".into(),
            rule,
            approval: Some(q.id.clone()),
            args: q.reason.as_ref().map(|r| format!("reason: {r}")),
            ..Event::default()
        },
    )
}

fn record_answer(gw: &Gateway, q: &Question, r: &Resolution) {
    let mut decision = r.answer.to_string();
    if let Some(g) = &r.grant {
        decision.push_str(&format!(" (grant {g})"));
    }
    let event = Event {
        agent: q.agent.clone(),
        kind: "approval".into(),
        target: q.target.clone(),
        decision: decision.into(),
        approval: Some(q.id.clone()),
        channel: Some(r.channel.into()),
        run: r.run.clone(),
        ..Event::default()
    };
    // The held call fails closed on its own record; an answer that cannot
    // be recorded is still logged here.
    if audit::record(gw, event).is_err() {
        tracing::error!(approval = %q.id, "could not record an approval answer");
    }
}

/// No answer within the timeout is a deny, whether or not anyone is still
/// waiting (an `input_required` client may never retry).
fn spawn_timeout(gw: &Gateway, id: &str) {
    let (gw, id) = (gw.clone(), id.to_string());
    let timeout = gw.approvals().timeout();
    tokio::spawn(async move {
        tokio::time::sleep(timeout).await;
        let _ = settle(&gw, &id, Answer::Deny, Channel::Timeout);
    });
}

/// Locks keyward: every call is refused, every question waiting is denied
/// (and recorded).
pub fn lock(gw: &Gateway, by: &str) -> usize {
    let denied = gw.approvals().lock();
    for (q, r) in &denied {
        record_answer(gw, q, r);
    }
    let _ = audit::record(
        gw,
        Event {
            agent: by.to_string(),
            kind: "admin".into(),
            target: "keyward".into(),
            decision: "lock".into(),
            ..Event::default()
        },
    );
    denied.len()
}

/// Lifts the lock (the caller checked the passphrase).
pub fn unlock(gw: &Gateway, by: &str) {
    gw.approvals().unlock();
    let _ = audit::record(
        gw,
        Event {
            agent: by.to_string(),
            kind: "admin".into(),
            target: "keyward".into(),
            decision: "unlock".into(),
            ..Event::default()
        },
    );
}

#[cfg(test)]
mod tests {
    use super::target_text;

    /// A command's arguments (or a workflow step's description) were cut
    /// at 300 characters: padding pushed the last argument out of view.
    #[test]
    fn padding_cannot_push_command_arguments_out_of_the_question() {
        let argv = format!("log {} --output=/tmp/x", "a".repeat(290));
        assert_eq!(target_text(&argv), argv);
        let long = "a".repeat(5000);
        assert!(target_text(&long).ends_with("… [1000 more characters not shown]"));
        assert_eq!(target_text("x\u{202e}"), "x\\u{202e}");
    }
}
