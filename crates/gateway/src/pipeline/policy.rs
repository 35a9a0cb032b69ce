//! policy: may it? The one [`keyward_policy::evaluate`] for every kind of
//! call, against the grants in force; then the rate budgets the decision
//! names. No IO here.

use keyward_audit::Decision;
use std::sync::atomic::{AtomicU64, Ordering};

use keyward_policy::{Budget, Caller, RateLimiter, Rules, Target, Verdict, evaluate};

use super::Stages;
use super::Stop;
use super::session::Session;

/// The decision for `target` under `rules`, grants included.
pub fn decide(st: &Stages, session: &Session, rules: Rules<'_>, target: &Target<'_>) -> Verdict {
    let caller = Caller {
        agent: &session.agent,
        session: &session.id,
    };
    st.desk
        .approvals
        .with_grants(|grants, now| evaluate(rules, target, caller, grants, now))
}

/// Draws on every budget the decision names; the first one spent stops
/// the call. A `confirm` call is held against its budget before anyone is
/// asked, so a looping agent cannot flood the human with questions.
pub fn spend(limiter: &Limiter, agent: &str, budgets: &[Budget]) -> Result<(), Stop> {
    for b in budgets {
        if let Err(retry) = limiter.get().check(agent, &b.key, &b.rate) {
            let message = format!(
                "rate limited: {}; retry in {:.1}s",
                b.label,
                retry.0.as_secs_f64()
            );
            return Err(Stop::refused(Decision::RateLimited, message));
        }
    }
    Ok(())
}

/// The rate limiter, pruned of idle keys every [`PRUNE_EVERY`] uses.
#[derive(Default)]
pub struct Limiter {
    limiter: RateLimiter,
    checks: AtomicU64,
}

/// How often the limiter drops budgets that have refilled completely
/// (otherwise its key map only grows).
const PRUNE_EVERY: u64 = 4096;

impl Limiter {
    pub fn get(&self) -> &RateLimiter {
        let n = self.checks.fetch_add(1, Ordering::Relaxed);
        if n % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.limiter.retain_recent();
        }
        &self.limiter
    }
}
