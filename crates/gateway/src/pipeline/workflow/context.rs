//! Which workflow step a call belongs to, for its audit record.
//!
//! The runner calls the same handlers the agent's direct calls go through
//! (`http::handle`, `tool::handle`, `command::handle`); each builds and
//! writes its own [`Event`]. Rather than thread a run id through every
//! handler and every refusal path, the runner runs each step inside a
//! task-local [`StepContext`], and [`audit::record`](super::super::audit::record)
//! — the one function every record goes through — stamps the record with
//! `run = RUN_ID/STEP_ID` ([`observe`]). A record written outside a step
//! (an ordinary call, or a task spawned off by a step, such as the approval
//! timeout's answer) is left as it is.

use std::sync::{Arc, Mutex};

use keyward_audit::Event;

tokio::task_local! {
    static STEP: Arc<StepContext>;
}

/// One step of one run, while it runs.
#[derive(Debug)]
pub(crate) struct StepContext {
    /// `RUN_ID/STEP_ID`.
    run: String,
    /// The decision of the step's last call record (`allow`, `deny`,
    /// `rate_limited`, `error`, ...): why a step stopped the run.
    decision: Mutex<Option<String>>,
}

impl StepContext {
    pub(crate) fn new(run: &str, step: &str) -> Arc<StepContext> {
        Arc::new(StepContext {
            run: format!("{run}/{step}"),
            decision: Mutex::new(None),
        })
    }

    /// Runs `f` as this step: every record it writes names the step.
    pub(crate) async fn scope<F: Future>(self: &Arc<Self>, f: F) -> F::Output {
        STEP.scope(self.clone(), f).await
    }

    /// The decision of the last call record the step wrote, if any.
    pub(crate) fn decision(&self) -> Option<String> {
        self.decision
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// `RUN_ID/STEP_ID` of the workflow step running now, if any (a question
/// asked for it is answered by another task: its record names the run too).
pub(crate) fn current_run() -> Option<String> {
    STEP.try_with(|step| step.run.clone()).ok()
}

/// Marks `event` with the step it belongs to, if it is written by a
/// workflow step; remembers its decision (approval questions and answers
/// excepted: the call's own record says how the step ended).
pub(crate) fn observe(event: &mut Event) {
    let _ = STEP.try_with(|step| {
        if event.run.is_none() {
            event.run = Some(step.run.clone());
        }
        if event.kind != "approval" {
            *step.decision.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(event.decision.to_string());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_inside_a_step_name_it_and_others_do_not() {
        let step = StepContext::new("r1", "alerts");
        let mut inside = Event {
            decision: "deny".into(),
            ..Event::default()
        };
        step.scope(async { observe(&mut inside) }).await;
        assert_eq!(inside.run.as_deref(), Some("r1/alerts"));
        assert_eq!(step.decision().as_deref(), Some("deny"));

        let mut outside = Event::default();
        observe(&mut outside);
        assert_eq!(outside.run, None);

        let mut question = Event {
            kind: "approval".into(),
            decision: "asked".into(),
            ..Event::default()
        };
        step.scope(async { observe(&mut question) }).await;
        assert_eq!(question.run.as_deref(), Some("r1/alerts"));
        assert_eq!(
            step.decision().as_deref(),
            Some("deny"),
            "questions do not count"
        );
    }
}
