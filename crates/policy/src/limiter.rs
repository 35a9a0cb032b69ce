//! The in-memory rate limiter (SECURITY.md item 5), built on `governor`'s
//! keyed GCRA limiter, which is exact under concurrency: every check is one
//! compare-and-swap on the key's state, so N threads racing for the last
//! cell let exactly one through.
//!
//! A governor limiter has one quota for all its keys, while every rule may
//! carry its own rate, so there is one keyed limiter per distinct quota,
//! created on first use. The same (agent, target) checked under two
//! different rates (say, after a config reload changed the rule) has two
//! independent budgets.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;

use crate::Rate;

/// Who is calling (the agent) and what it calls (e.g. `stripe#rule1`).
type Key = (String, String);
type Keyed<C> = governor::RateLimiter<
    Key,
    DefaultKeyedStateStore<Key>,
    C,
    NoOpMiddleware<<C as Clock>::Instant>,
>;
/// A quota's identity: (replenish interval, burst).
type QuotaId = (Duration, u32);

/// A call was refused by a rate limit; it may be retried after the duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("rate limit reached; retry in {:.1}s", .0.as_secs_f64())]
pub struct RetryAfter(pub Duration);

/// Rate limits keyed by (agent, target). `Send + Sync`; share it behind an
/// `Arc`. Generic over the clock so tests drive it with
/// [`crate::clock::FakeRelativeClock`] instead of sleeping.
pub struct RateLimiter<C: Clock = DefaultClock> {
    clock: C,
    limiters: RwLock<HashMap<QuotaId, Arc<Keyed<C>>>>,
}

impl RateLimiter {
    /// A limiter on the real monotonic clock.
    pub fn new() -> Self {
        RateLimiter::with_clock(DefaultClock::default())
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new()
    }
}

impl<C: Clock> fmt::Debug for RateLimiter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quotas = self
            .limiters
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("RateLimiter")
            .field("quotas", &quotas)
            .finish_non_exhaustive()
    }
}

impl<C: Clock + Clone> RateLimiter<C> {
    /// A limiter on the given clock.
    pub fn with_clock(clock: C) -> Self {
        RateLimiter {
            clock,
            limiters: RwLock::new(HashMap::new()),
        }
    }

    /// `Ok(())` if the call may proceed (and consumes one cell of the
    /// budget of `(agent, target)` under `rate`), `Err(RetryAfter)`
    /// otherwise.
    ///
    /// An invalid rate (zero count or zero burst, see [`Rate::validate`])
    /// lets nothing through: failing closed is the safe reading of a limit
    /// that cannot be enforced as written.
    pub fn check(&self, agent: &str, target: &str, rate: &Rate) -> Result<(), RetryAfter> {
        let Some(limiter) = self.limiter_for(rate) else {
            return Err(RetryAfter(rate.per.as_duration()));
        };
        limiter
            .check_key(&(agent.to_owned(), target.to_owned()))
            .map_err(|not_until| RetryAfter(not_until.wait_time_from(self.clock.now())))
    }

    /// Forgets keys whose budget is full again, so memory stays bounded by
    /// the keys active within one refill period. Call it now and then.
    pub fn retain_recent(&self) {
        let limiters = self.limiters.read().unwrap_or_else(PoisonError::into_inner);
        for limiter in limiters.values() {
            limiter.retain_recent();
        }
    }

    fn limiter_for(&self, rate: &Rate) -> Option<Arc<Keyed<C>>> {
        let quota = rate.quota()?;
        let id = (quota.replenish_interval(), quota.burst_size().get());
        // The map only ever grows by inserting complete values, so a panic
        // elsewhere while a lock was held cannot leave it inconsistent:
        // recovering from poisoning is sound.
        if let Some(l) = self
            .limiters
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            return Some(Arc::clone(l));
        }
        let mut limiters = self
            .limiters
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let limiter = limiters.entry(id).or_insert_with(|| {
            Arc::new(governor::RateLimiter::new(
                quota,
                DefaultKeyedStateStore::default(),
                self.clock.clone(),
            ))
        });
        Some(Arc::clone(limiter))
    }
}
