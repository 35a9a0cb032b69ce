//! The queue of questions, the grants and the lock: one per keyward
//! process, shared by all its sessions. No IO: callers audit and notify.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use keyward_policy::{Expiry, Grant, Grants, Target, expiry_after};
use tokio::sync::watch;

use super::clock::Clock;
use super::question::{Answer, Ask, Channel, Question, Resolution};

/// How many settled questions are remembered, so that a client retrying
/// with its answer (or a late second channel) learns how it was settled.
const KEEP_SETTLED: usize = 256;

/// The approval state of one keyward. Cheap to clone: the state is shared.
#[derive(Clone)]
pub struct Approvals {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Approvals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approvals")
            .field("timeout", &self.shared.timeout)
            .finish_non_exhaustive()
    }
}

struct Shared {
    state: Mutex<State>,
    changes: watch::Sender<u64>,
    clock: Arc<dyn Clock>,
    timeout: Duration,
}

#[derive(Default)]
struct State {
    pending: BTreeMap<String, Pending>,
    settled: VecDeque<Settled>,
    grants: Grants,
    locked: bool,
}

struct Pending {
    question: Question,
    ask: Ask,
    run: Option<String>,
    done: watch::Sender<Option<Resolution>>,
}

#[derive(Clone)]
struct Settled {
    id: String,
    agent: String,
    digest: String,
    resolution: Resolution,
}

/// A question asked; [`Asked::settled`] waits for its answer.
#[derive(Debug)]
pub struct Asked {
    pub question: Question,
    rx: watch::Receiver<Option<Resolution>>,
}

impl Asked {
    /// The answer, whichever channel gives it first. If the queue is gone
    /// (keyward is shutting down) that is a deny.
    pub async fn settled(&mut self) -> Resolution {
        match self.rx.wait_for(Option::is_some).await {
            Ok(r) => r.clone().unwrap_or_else(timeout_deny),
            Err(_) => timeout_deny(),
        }
    }
}

fn timeout_deny() -> Resolution {
    Resolution::deny(Channel::Timeout)
}

/// What is known about a question id, seen from one session and call.
#[derive(Debug)]
pub enum Lookup {
    Pending(Asked),
    Settled(Resolution),
    /// Never asked, long forgotten, or asked by another session or for
    /// another call.
    Unknown,
}

/// Why an answer was not taken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("no pending question `{0}` (it may have timed out; see `keyward approvals`)")]
    Unknown(String),
    #[error("question `{id}` was already answered: {answer} (via {channel})", answer = .0.answer, channel = .0.channel.as_str(), id = .1)]
    AlreadySettled(Resolution, String),
}

/// Asking while locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("keyward is locked")]
pub struct Locked;

impl Approvals {
    pub fn new(timeout: Duration, clock: Arc<dyn Clock>) -> Approvals {
        let (changes, _) = watch::channel(0);
        Approvals {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                changes,
                clock,
                timeout,
            }),
        }
    }

    pub fn timeout(&self) -> Duration {
        self.shared.timeout
    }

    pub fn now(&self) -> jiff::Timestamp {
        self.shared.clock.now()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) {
        self.shared.changes.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// A receiver that changes whenever a question, answer, grant or the
    /// lock changes (the dashboard's live updates).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.changes.subscribe()
    }

    /// Queues a question. Refused while locked.
    pub fn ask(&self, ask: Ask) -> Result<Asked, Locked> {
        self.ask_in_run(ask, None)
    }

    /// Like [`Approvals::ask`], for a step of the workflow run `run`.
    pub fn ask_in_run(&self, ask: Ask, run: Option<String>) -> Result<Asked, Locked> {
        let now = self.now();
        let question = Question {
            id: new_id(),
            agent: ask.agent.clone(),
            kind: ask.kind,
            target: ask.target.clone(),
            rule: ask.rule.clone(),
            preview: ask.preview.clone(),
            reason: ask.reason.clone(),
            grants: ask.scope.to_string(),
            asked: now,
            deadline: expiry_after(now, self.shared.timeout),
        };
        let (done, rx) = watch::channel(None);
        {
            let mut st = self.state();
            if st.locked {
                return Err(Locked);
            }
            st.pending.insert(
                question.id.clone(),
                Pending {
                    question: question.clone(),
                    ask,
                    run,
                    done,
                },
            );
        }
        self.changed();
        Ok(Asked { question, rx })
    }

    /// Settles question `id` with `answer`; the first answer wins. An
    /// answer "for a while" adds a grant for the question's scope.
    pub fn answer(
        &self,
        id: &str,
        answer: Answer,
        channel: Channel,
    ) -> Result<(Question, Resolution), AnswerError> {
        let now = self.now();
        let settled = {
            let mut st = self.state();
            let Some(p) = st.pending.remove(id) else {
                return Err(match st.settled.iter().find(|s| s.id == id) {
                    Some(s) => AnswerError::AlreadySettled(s.resolution.clone(), id.to_string()),
                    None => AnswerError::Unknown(id.to_string()),
                });
            };
            let expiry = match answer {
                Answer::For(d) => Some(Expiry::Time {
                    at: expiry_after(now, d),
                }),
                Answer::Session => Some(Expiry::Session {
                    session: p.ask.session.clone(),
                }),
                Answer::Once => p.ask.grant_on_once.map(|d| Expiry::Time {
                    at: expiry_after(now, d),
                }),
                Answer::Deny => None,
            };
            let grant = expiry.map(|expiry| {
                let g = Grant {
                    id: new_id(),
                    agent: p.ask.agent.clone(),
                    scope: p.ask.scope.clone(),
                    expiry,
                    created: now,
                    created_by: format!("human via {}", channel.as_str()),
                    reason: p.ask.reason.clone(),
                };
                let id = g.id.clone();
                st.grants.add(g);
                id
            });
            let resolution = Resolution {
                answer,
                channel,
                grant,
                run: p.run.clone(),
            };
            st.settled.push_back(Settled {
                id: id.to_string(),
                agent: p.ask.agent.clone(),
                digest: p.ask.digest.clone(),
                resolution: resolution.clone(),
            });
            while st.settled.len() > KEEP_SETTLED {
                st.settled.pop_front();
            }
            let _ = p.done.send(Some(resolution.clone()));
            (p.question, resolution)
        };
        self.changed();
        Ok(settled)
    }

    /// Question `id` as seen by `agent` retrying the call `digest`. Bound
    /// to the agent, not the connection: a 2026-07-28 client over HTTP may
    /// retry on a new connection (the protocol is stateless there).
    pub fn lookup(&self, id: &str, agent: &str, digest: &str) -> Lookup {
        let st = self.state();
        if let Some(p) = st.pending.get(id) {
            if p.ask.agent == agent && p.ask.digest == digest {
                return Lookup::Pending(Asked {
                    question: p.question.clone(),
                    rx: p.done.subscribe(),
                });
            }
            return Lookup::Unknown;
        }
        match st
            .settled
            .iter()
            .find(|s| s.id == id && s.agent == agent && s.digest == digest)
        {
            Some(s) => Lookup::Settled(s.resolution.clone()),
            None => Lookup::Unknown,
        }
    }

    /// Takes the answer to question `id` for the call that goes on with
    /// it. An answer that lets a call through does so exactly once: the
    /// first caller takes it, under the lock that settled it, and every
    /// other caller waiting on the same question (a client holding several
    /// retries open with one `requestState`) gets `None` and must be asked
    /// anew. A deny is not used up: every waiter is denied.
    pub fn take(&self, id: &str) -> Option<Resolution> {
        let mut st = self.state();
        let i = st.settled.iter().position(|s| s.id == id)?;
        if st.settled[i].resolution.answer.allows() {
            st.settled.remove(i).map(|s| s.resolution)
        } else {
            Some(st.settled[i].resolution.clone())
        }
    }

    /// The questions waiting for an answer, oldest first.
    pub fn pending(&self) -> Vec<Question> {
        let mut qs: Vec<Question> = self
            .state()
            .pending
            .values()
            .map(|p| p.question.clone())
            .collect();
        qs.sort_by_key(|q| q.asked);
        qs
    }

    /// Runs `f` on the grants in force now (the policy stage's decision).
    pub fn with_grants<T>(&self, f: impl FnOnce(&Grants, jiff::Timestamp) -> T) -> T {
        let now = self.now();
        let mut st = self.state();
        st.grants.prune(now);
        f(&st.grants, now)
    }

    /// The grant that lets this call through a `confirm`, if any.
    pub fn covering(&self, agent: &str, session: &str, target: &Target<'_>) -> Option<Grant> {
        let now = self.now();
        let mut st = self.state();
        st.grants.prune(now);
        st.grants.covering(agent, session, target, now).cloned()
    }

    /// The grants in force.
    pub fn grants(&self) -> Vec<Grant> {
        let now = self.now();
        let mut st = self.state();
        st.grants.prune(now);
        st.grants.current(now)
    }

    pub fn revoke(&self, id: &str) -> bool {
        let found = self.state().grants.revoke(id);
        if found {
            self.changed();
        }
        found
    }

    pub fn revoke_all(&self) -> usize {
        let n = self.state().grants.revoke_all();
        self.changed();
        n
    }

    /// The agent's session ended: its session grants go.
    pub fn end_session(&self, session: &str) {
        self.state().grants.end_session(session);
        self.changed();
    }

    /// The kill switch: from now on every call is denied, and every
    /// question waiting is answered "deny". Returns what it denied.
    pub fn lock(&self) -> Vec<(Question, Resolution)> {
        let ids: Vec<String> = {
            let mut st = self.state();
            st.locked = true;
            st.pending.keys().cloned().collect()
        };
        let denied = ids
            .iter()
            .filter_map(|id| self.answer(id, Answer::Deny, Channel::Lock).ok())
            .collect();
        self.changed();
        denied
    }

    pub fn unlock(&self) {
        self.state().locked = false;
        self.changed();
    }

    pub fn is_locked(&self) -> bool {
        self.state().locked
    }
}

/// A random id: 16 hex digits, for questions, grants, workflow runs and
/// connections. Ids are not secrets (an answer needs the passphrase or the
/// client's UI), but unguessable ids keep one session from naming
/// another's question.
pub(crate) fn new_id() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        // Practically unreachable; a time-based id is still unique enough.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        b = t.to_le_bytes();
    }
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approvals::FakeClock;
    use keyward_policy::{GrantScope, Method, NormalizedPath, PathPattern};

    fn start() -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_800_000_000).expect("ts")
    }

    fn approvals() -> (Approvals, Arc<FakeClock>) {
        let clock = Arc::new(FakeClock::new(start()));
        (
            Approvals::new(Duration::from_secs(120), clock.clone()),
            clock,
        )
    }

    fn ask(session: &str) -> Ask {
        Ask {
            agent: "claude".into(),
            session: session.into(),
            kind: "http",
            target: "stripe: POST /v1/refunds".into(),
            rule: Some("confirm POST /v1/refunds".into()),
            preview: None,
            reason: Some("refund order 42".into()),
            scope: GrantScope::Http {
                service: "stripe".into(),
                methods: Some(vec![Method::parse("POST").expect("m")]),
                paths: vec![PathPattern::parse("/v1/refunds").expect("p")],
            },
            digest: "d1".into(),
            grant_on_once: None,
        }
    }

    fn refund<'a>(m: &'a Method, p: &'a NormalizedPath) -> Target<'a> {
        Target::Http {
            service: "stripe",
            method: m,
            path: p,
        }
    }

    #[tokio::test]
    async fn the_first_answer_wins_and_the_waiter_learns_it() {
        let (a, _) = approvals();
        let mut asked = a.ask(ask("s1")).expect("not locked");
        assert_eq!(a.pending().len(), 1);
        let (_, r) = a
            .answer(&asked.question.id, Answer::Once, Channel::Cli)
            .expect("answered");
        assert_eq!(r.channel, Channel::Cli);
        let second = a.answer(&asked.question.id, Answer::Deny, Channel::Dashboard);
        assert!(matches!(second, Err(AnswerError::AlreadySettled(..))));
        assert_eq!(asked.settled().await.answer, Answer::Once);
        assert!(a.pending().is_empty());
        assert!(a.grants().is_empty(), "once creates no grant");
    }

    #[tokio::test]
    async fn a_duration_answer_grants_until_the_injected_clock_passes_it() {
        let (a, clock) = approvals();
        let asked = a.ask(ask("s1")).expect("asked");
        a.answer(
            &asked.question.id,
            Answer::For(Duration::from_secs(300)),
            Channel::Dashboard,
        )
        .expect("answered");
        let post = Method::parse("POST").expect("m");
        let path = NormalizedPath::parse("/v1/refunds").expect("p");
        let g = a.covering("claude", "s2", &refund(&post, &path));
        assert_eq!(
            g.as_ref().map(|g| g.created_by.as_str()),
            Some("human via dashboard")
        );
        assert!(a.covering("cursor", "s1", &refund(&post, &path)).is_none());
        clock.advance(Duration::from_secs(299));
        assert!(a.covering("claude", "s1", &refund(&post, &path)).is_some());
        clock.advance(Duration::from_secs(1));
        assert!(a.covering("claude", "s1", &refund(&post, &path)).is_none());
        assert!(a.grants().is_empty(), "expired grants are pruned");
    }

    #[tokio::test]
    async fn lock_denies_what_waits_and_refuses_new_questions() {
        let (a, _) = approvals();
        let mut asked = a.ask(ask("s1")).expect("asked");
        let denied = a.lock();
        assert_eq!(denied.len(), 1);
        let r = asked.settled().await;
        assert_eq!((r.answer, r.channel), (Answer::Deny, Channel::Lock));
        assert!(a.ask(ask("s1")).is_err());
        a.unlock();
        assert!(a.ask(ask("s1")).is_ok());
    }

    #[tokio::test]
    async fn lookup_is_bound_to_the_agent_and_the_call() {
        let (a, _) = approvals();
        let asked = a.ask(ask("s1")).expect("asked");
        let id = asked.question.id.clone();
        assert!(matches!(a.lookup(&id, "claude", "d1"), Lookup::Pending(_)));
        assert!(matches!(a.lookup(&id, "cursor", "d1"), Lookup::Unknown));
        assert!(matches!(a.lookup(&id, "claude", "other"), Lookup::Unknown));
        a.answer(&id, Answer::Session, Channel::Elicitation)
            .expect("answered");
        assert!(matches!(a.lookup(&id, "claude", "d1"), Lookup::Settled(_)));
        assert!(matches!(a.lookup(&id, "cursor", "d1"), Lookup::Unknown));
        // A session grant ends with its session.
        let post = Method::parse("POST").expect("m");
        let path = NormalizedPath::parse("/v1/refunds").expect("p");
        assert!(a.covering("claude", "s1", &refund(&post, &path)).is_some());
        assert!(a.covering("claude", "s2", &refund(&post, &path)).is_none());
        a.end_session("s1");
        assert!(a.covering("claude", "s1", &refund(&post, &path)).is_none());
    }

    #[tokio::test]
    async fn an_allow_once_is_taken_by_exactly_one_of_six_waiters() {
        let (a, _) = approvals();
        let asked = a.ask(ask("s1")).expect("asked");
        let id = asked.question.id.clone();
        let mut waiters: Vec<Asked> = (0..6)
            .map(|_| match a.lookup(&id, "claude", "d1") {
                Lookup::Pending(w) => w,
                other => panic!("not pending: {other:?}"),
            })
            .collect();
        a.answer(&id, Answer::Once, Channel::Cli).expect("answered");
        let mut taken = 0;
        for w in &mut waiters {
            assert_eq!(w.settled().await.answer, Answer::Once);
            if a.take(&id).is_some() {
                taken += 1;
            }
        }
        assert_eq!(taken, 1, "one answer, one call");
        assert!(matches!(a.lookup(&id, "claude", "d1"), Lookup::Unknown));
    }

    #[tokio::test]
    async fn a_deny_is_not_used_up_every_waiter_is_denied() {
        let (a, _) = approvals();
        let asked = a.ask(ask("s1")).expect("asked");
        let id = asked.question.id.clone();
        a.answer(&id, Answer::Deny, Channel::Cli).expect("answered");
        for _ in 0..3 {
            assert_eq!(a.take(&id).map(|r| r.answer), Some(Answer::Deny));
        }
    }

    #[test]
    fn revoke_one_or_all() {
        let (a, _) = approvals();
        for _ in 0..2 {
            let q = a.ask(ask("s")).expect("asked");
            a.answer(&q.question.id, Answer::Session, Channel::Cli)
                .expect("ok");
        }
        let gs = a.grants();
        assert_eq!(gs.len(), 2);
        assert!(a.revoke(&gs[0].id));
        assert!(!a.revoke(&gs[0].id));
        assert_eq!(a.revoke_all(), 1);
    }
}
