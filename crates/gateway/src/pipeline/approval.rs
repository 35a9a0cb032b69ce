//! approval?: a call a `confirm` rule holds waits here for a human.
//!
//! In order: the kill switch; a grant that covers the call; on a
//! 2026-07-28 retry, the answer the client brings back; otherwise a new
//! question, asked on every channel at once (elicitation on this client, the
//! dashboard, `keyward approvals`, a desktop notification), first answer
//! wins, no answer within `[approvals] timeout` is a deny. Every question
//! and every answer is audited ([`settle`]).

use std::sync::{Arc, OnceLock};

use keyward_audit::{AuditLog, Decision, Event, Kind};
use keyward_policy::Target;
use keyward_redact::Scrubber;
use rmcp::RoleServer;
use rmcp::model::{
    InputRequest, InputRequests, InputRequiredResult, InputResponses, ProtocolVersion,
};
use rmcp::service::{Peer, RequestContext};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::session::Session;
use super::{Call, Stages, Stop, Stopped, audit};
use crate::approvals::{
    Answer, AnswerError, Approvals, Ask, Channel, Lookup, Question, Resolution, elicit,
    notify_desktop,
};

/// The approval stage's part of the gateway: the queue, grants and lock,
/// where questions and answers are recorded, and how humans are reached.
#[derive(Clone)]
pub struct Desk {
    pub approvals: Approvals,
    pub audit: Arc<AuditLog>,
    /// `[approvals] elicitation`: whether a confirm may ask the calling
    /// client.
    pub elicitation: bool,
    /// `[approvals] notify`: questions also go out as desktop
    /// notifications.
    pub notify: bool,
    /// Where the dashboard is, when `keyward serve --http` runs one.
    pub dashboard_url: Arc<OnceLock<String>>,
}

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
pub fn preview(scrubber: &Scrubber, value: &Value) -> Option<String> {
    let text = match value {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    if text.is_empty() {
        return None;
    }
    let (text, _) = scrubber.scrub_str(&text);
    Some(shown_bounded(&text, PREVIEW_CHARS))
}

/// The agent's stated reason, scrubbed and bounded.
pub fn reason(scrubber: &Scrubber, reason: Option<&str>) -> Option<String> {
    let r = reason?.trim();
    if r.is_empty() {
        return None;
    }
    let (r, _) = scrubber.scrub_str(r);
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

/// What a call is told while keyward is locked.
pub const LOCKED: &str =
    "denied: keyward is locked by the user; every call is refused until they run `keyward unlock`";

/// The kill switch, checked before anything else a call does.
pub fn locked(approvals: &Approvals) -> Option<Stop> {
    approvals
        .is_locked()
        .then(|| Stop::refused_by(Decision::Deny, None, LOCKED))
}

/// Holds the call described by `ask` until a human answers, or lets it
/// through at once when the policy stage found a `grant` that covers it
/// and a grant still covers it now.
/// `target` `None`: no grant can answer for the human (a `request_access`
/// question, or a workflow step's own `confirm`). A refusal marks `rec`
/// with the question and the channel that answered; the pipeline records
/// it.
pub async fn confirm(
    st: &Stages,
    call: &Call,
    target: Option<Target<'_>>,
    grant: Option<String>,
    ask: Ask,
    rec: &mut Event,
) -> Result<Approved, Stop> {
    let desk = &st.desk;
    if let Some(stop) = locked(&desk.approvals) {
        return Err(stop);
    }
    // The grant the policy stage found is looked up again now: the checks
    // in between (a tool's pin check may start its server) take time, and
    // a grant revoked or expired meanwhile must not answer for the human.
    if grant.is_some()
        && let Some(approved) = granted(desk, &call.session, target.as_ref())
    {
        return Ok(approved);
    }
    // `[approvals] elicitation = false`: the client is never asked (an
    // agent that can run its own MCP client could answer there).
    let asker = if desk.elicitation {
        &call.session.asker
    } else {
        &Asker::Nobody
    };
    let rule = ask.rule.clone();
    let what = ask.target.clone();
    let outcome = match retried(desk, &call.session, asker, target.as_ref(), &ask).await {
        Some(found) => found,
        None => ask_anew(desk, call, asker, ask).await,
    };
    match outcome {
        Asked::Through(approved) => Ok(approved),
        Asked::Settled(id, r) => finish(desk, r.clone(), Some(&id), &what).map_err(|(lock, m)| {
            let r = lock.unwrap_or(r);
            rec.approval = Some(id);
            rec.channel = Some(r.channel.into());
            Stop::refused_by(Decision::Deny, rule, m)
        }),
        Asked::Stopped(stop) => {
            if let Stop::Refused { .. } = &stop {
                rec.channel = Some(Channel::Lock.into());
            }
            Err(stop)
        }
        Asked::Replayed(id) => {
            rec.approval = Some(id);
            rec.channel = Some(Channel::Replay.into());
            Err(Stop::refused_by(
                Decision::Deny,
                rule,
                "denied: the answer to this confirmation was already used by another call",
            ))
        }
    }
}

/// How asking ended.
enum Asked {
    /// Let through without a new answer (a grant made by the answer a
    /// retry brought).
    Through(Approved),
    /// Question `id` was answered, once, for this call.
    Settled(String, Resolution),
    /// Question `id` was answered, and the answer was used by another
    /// call that named it.
    Replayed(String),
    /// Not asked, or asked through the client, which retries.
    Stopped(Stop),
}

/// A 2026-07-28 client retrying with the human's answer: how the
/// question it names was settled, if it names one for this very call.
async fn retried(
    desk: &Desk,
    session: &Session,
    asker: &Asker,
    target: Option<&Target<'_>>,
    ask: &Ask,
) -> Option<Asked> {
    let Asker::Retry {
        state: Some(id),
        responses,
    } = asker
    else {
        return None;
    };
    match desk.approvals.lookup(id, &session.agent, &ask.digest) {
        Lookup::Settled(_) => {}
        Lookup::Pending(mut asked) => {
            match responses.as_ref().and_then(|r| r.get(elicit::INPUT_KEY)) {
                Some(v) => {
                    let answer = elicit::answer_of_response(v);
                    settled_or_first(desk, id, answer, Channel::Elicitation);
                }
                // A retry without the answer: wait for the other channels.
                None => {
                    asked.settled().await;
                }
            }
        }
        // Unknown or for another call: ask anew.
        Lookup::Unknown => return None,
    }
    if let Some(r) = desk.approvals.take(id) {
        return Some(Asked::Settled(id.clone(), r));
    }
    // Another retry with the same `requestState` took this answer first:
    // one answer, one call. A grant the answer made may cover this one;
    // otherwise it is asked anew.
    granted(desk, session, target).map(Asked::Through)
}

/// A new question, asked on every channel at once; the first answer wins.
async fn ask_anew(desk: &Desk, call: &Call, asker: &Asker, ask: Ask) -> Asked {
    let asked_rule = ask.rule.clone();
    let Ok(mut asked) = desk.approvals.ask_in_run(ask, call.run.clone()) else {
        return Asked::Stopped(Stop::refused(
            Decision::Deny,
            "denied: keyward is locked by the user",
        ));
    };
    let id = asked.question.id.clone();
    if record_question(desk, &asked.question, asked_rule, call.run.clone()).is_err() {
        let _ = desk.approvals.answer(&id, Answer::Deny, Channel::Timeout);
        return Asked::Stopped(Stop::AuditFailed);
    }
    spawn_timeout(desk, &id);
    if desk.notify {
        notify_desktop(
            &asked.question,
            desk.dashboard_url.get().map(String::as_str),
        );
    }
    let resolution = match asker {
        Asker::Retry { .. } => match elicit::request(&asked.question) {
            Ok(r) => {
                let mut requests = InputRequests::new();
                requests.insert(elicit::INPUT_KEY.to_string(), InputRequest::Elicitation(r));
                let mut held = Stopped::new(None, "denied: this call needs a human's confirmation");
                held.input_required = Some(InputRequiredResult::new(Some(requests), Some(id)));
                return Asked::Stopped(Stop::Recorded(Box::new(held)));
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot build the elicitation form; waiting for the other channels");
                asked.settled().await
            }
        },
        Asker::Elicit(peer) => elicited(desk, &id, &mut asked, peer).await,
        Asker::Nobody => asked.settled().await,
    };
    match desk.approvals.take(&id) {
        Some(r) => Asked::Settled(id, r),
        // Settled, but the answer was taken by another call that named
        // this question (a retry carrying its id): it let that call
        // through. A deny stays a deny.
        None if !resolution.answer.allows() => Asked::Settled(id, resolution),
        None => Asked::Replayed(id),
    }
}

/// Asks the client (MCP elicitation) while the other channels wait too.
async fn elicited(
    desk: &Desk,
    id: &str,
    asked: &mut crate::approvals::Asked,
    peer: &Peer<RoleServer>,
) -> Resolution {
    let form = elicit::params(&asked.question);
    let ask_client = async {
        match form {
            Ok(p) => peer
                .create_elicitation_with_timeout(p, Some(desk.approvals.timeout()))
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    };
    tokio::select! {
        r = asked.settled() => r,
        answered = ask_client => match answered {
            Ok(result) => settled_or_first(desk, id, elicit::answer_of(&result), Channel::Elicitation),
            Err(e) => {
                tracing::info!(error = %e, "the client could not be asked; waiting for the other channels");
                asked.settled().await
            }
        },
    }
}

/// A grant that answers for the human, if one covers the call.
fn granted(desk: &Desk, session: &Session, target: Option<&Target<'_>>) -> Option<Approved> {
    let g = desk
        .approvals
        .covering(&session.agent, &session.id, target?)?;
    Some(by_grant(&g.id))
}

/// Let through by grant `id`, which a human made earlier.
fn by_grant(id: &str) -> Approved {
    Approved {
        approval: None,
        channel: format!("grant {id}"),
        grant: None,
    }
}

/// Settles `id` with `answer` from `channel`, or — when another channel was
/// first — returns how it was settled.
fn settled_or_first(desk: &Desk, id: &str, answer: Answer, channel: Channel) -> Resolution {
    match settle(desk, id, answer, channel) {
        Ok((_, r)) => r,
        Err(AnswerError::AlreadySettled(r, _)) => r,
        Err(AnswerError::Unknown(_)) => Resolution::deny(Channel::Timeout),
    }
}

/// The resolution as "go on" or the message of a refusal.
/// On a deny: the lock's resolution when the lock came after a yes, and
/// the message.
type Refusal = (Option<Resolution>, String);

fn finish(desk: &Desk, r: Resolution, id: Option<&str>, what: &str) -> Result<Approved, Refusal> {
    let timeout = desk.approvals.timeout();
    // Locked while the human was answering: the lock wins.
    if r.answer.allows() && desk.approvals.is_locked() {
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
                crate::approvals::human_duration(timeout)
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
    desk: &Desk,
    id: &str,
    answer: Answer,
    channel: Channel,
) -> Result<(Question, Resolution), AnswerError> {
    let (q, r) = desk.approvals.answer(id, answer, channel)?;
    record_answer(desk, &q, &r);
    Ok((q, r))
}

fn record_question(
    desk: &Desk,
    q: &Question,
    rule: Option<String>,
    run: Option<String>,
) -> Result<(), keyward_audit::AuditError> {
    audit::record(
        &desk.audit,
        Event {
            agent: q.agent.clone(),
            kind: "approval".into(),
            target: q.target.clone(),
            decision: "asked".into(),
            rule,
            approval: Some(q.id.clone()),
            args: q.reason.as_ref().map(|r| format!("reason: {r}")),
            run,
            ..Event::default()
        },
    )
}

fn record_answer(desk: &Desk, q: &Question, r: &Resolution) {
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
    if audit::record(&desk.audit, event).is_err() {
        tracing::error!(approval = %q.id, "could not record an approval answer");
    }
}

/// No answer within the timeout is a deny, whether or not anyone is still
/// waiting (an `input_required` client may never retry).
fn spawn_timeout(desk: &Desk, id: &str) {
    let (desk, id) = (desk.clone(), id.to_string());
    let timeout = desk.approvals.timeout();
    tokio::spawn(async move {
        tokio::time::sleep(timeout).await;
        let _ = settle(&desk, &id, Answer::Deny, Channel::Timeout);
    });
}

/// Locks keyward: every call is refused, every question waiting is denied
/// (and recorded).
pub fn lock(desk: &Desk, by: &str) -> usize {
    let denied = desk.approvals.lock();
    for (q, r) in &denied {
        record_answer(desk, q, r);
    }
    record_admin(desk, by, Decision::Lock, None);
    denied.len()
}

/// Lifts the lock (the caller checked the passphrase).
pub fn unlock(desk: &Desk, by: &str) {
    desk.approvals.unlock();
    record_admin(desk, by, Decision::Unlock, None);
}

/// The human's own act on keyward (`rule`: what it acted on), recorded
/// best effort: the act holds whether or not its record could be written.
pub fn record_admin(desk: &Desk, by: &str, decision: Decision, rule: Option<String>) {
    let _ = audit::record(
        &desk.audit,
        Event {
            agent: by.to_string(),
            kind: Kind::Admin,
            target: "keyward".into(),
            decision,
            rule,
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
