//! The rate limiter, on a fake clock: no test sleeps.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use keyward_policy::clock::FakeRelativeClock;
use keyward_policy::{Rate, RateLimiter, RetryAfter};

fn fake() -> (FakeRelativeClock, RateLimiter<FakeRelativeClock>) {
    let clock = FakeRelativeClock::default();
    (clock.clone(), RateLimiter::with_clock(clock))
}

fn rate(s: &str) -> Rate {
    s.parse().unwrap()
}

#[test]
fn is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RateLimiter>();
    assert_send_sync::<RateLimiter<FakeRelativeClock>>();
}

#[test]
fn exact_under_concurrency() {
    let (_clock, limiter) = fake();
    let limiter = Arc::new(limiter);
    let r = rate("100/minute");
    let ok = AtomicUsize::new(0);
    let denied = AtomicUsize::new(0);
    let start = Barrier::new(16);
    std::thread::scope(|s| {
        for _ in 0..16 {
            s.spawn(|| {
                start.wait();
                for _ in 0..50 {
                    match limiter.check("agent", "stripe#rule1", &r) {
                        Ok(()) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(_) => denied.fetch_add(1, Ordering::Relaxed),
                    };
                }
            });
        }
    });
    assert_eq!(ok.into_inner(), 100);
    assert_eq!(denied.into_inner(), 700);
}

#[test]
fn refills_as_the_clock_advances() {
    let (clock, limiter) = fake();
    let r = rate("100/minute"); // one cell every 600 ms
    for _ in 0..100 {
        assert_eq!(limiter.check("a", "t", &r), Ok(()));
    }
    assert_eq!(
        limiter.check("a", "t", &r),
        Err(RetryAfter(Duration::from_millis(600)))
    );
    clock.advance(Duration::from_millis(599));
    assert_eq!(
        limiter.check("a", "t", &r),
        Err(RetryAfter(Duration::from_millis(1)))
    );
    clock.advance(Duration::from_millis(1));
    assert_eq!(limiter.check("a", "t", &r), Ok(()));
    assert!(limiter.check("a", "t", &r).is_err());
    // A long quiet spell refills the whole burst, and no more.
    clock.advance(Duration::from_secs(600));
    let passed = (0..150)
        .filter(|_| limiter.check("a", "t", &r).is_ok())
        .count();
    assert_eq!(passed, 100);
}

#[test]
fn retry_after_counts_down() {
    let (clock, limiter) = fake();
    let r = rate("10/minute");
    for _ in 0..10 {
        limiter.check("a", "t", &r).unwrap();
    }
    assert_eq!(
        limiter.check("a", "t", &r),
        Err(RetryAfter(Duration::from_secs(6)))
    );
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        limiter.check("a", "t", &r),
        Err(RetryAfter(Duration::from_secs(4)))
    );
    assert_eq!(
        RetryAfter(Duration::from_millis(4500)).to_string(),
        "rate limit reached; retry in 4.5s"
    );
}

#[test]
fn keys_are_independent() {
    let (_clock, limiter) = fake();
    let r = rate("2/hour");
    assert!(limiter.check("a", "stripe#rule1", &r).is_ok());
    assert!(limiter.check("a", "stripe#rule1", &r).is_ok());
    assert!(limiter.check("a", "stripe#rule1", &r).is_err());
    assert!(
        limiter.check("b", "stripe#rule1", &r).is_ok(),
        "other agent"
    );
    assert!(
        limiter.check("a", "stripe#rule2", &r).is_ok(),
        "other target"
    );
    assert!(
        limiter.check("a", "github#rule1", &r).is_ok(),
        "other service"
    );
    // (agent, target) is a pair, not a concatenation.
    assert!(limiter.check("a", "bstripe#rule1", &r).is_ok());
    assert!(limiter.check("ab", "stripe#rule1", &r).is_ok());
}

#[test]
fn burst_bounds_back_to_back_calls() {
    let (clock, limiter) = fake();
    let mut r = rate("10/minute");
    r.burst = Some(2);
    assert!(limiter.check("a", "t", &r).is_ok());
    assert!(limiter.check("a", "t", &r).is_ok());
    assert_eq!(
        limiter.check("a", "t", &r),
        Err(RetryAfter(Duration::from_secs(6)))
    );
    clock.advance(Duration::from_secs(60));
    let passed = (0..10)
        .filter(|_| limiter.check("a", "t", &r).is_ok())
        .count();
    assert_eq!(passed, 2);
}

#[test]
fn the_same_limit_spelled_twice_shares_one_budget() {
    let (_clock, limiter) = fake();
    let implicit = rate("3/minute");
    let mut explicit = implicit;
    explicit.burst = Some(3);
    for _ in 0..3 {
        limiter.check("a", "t", &implicit).unwrap();
    }
    assert!(limiter.check("a", "t", &explicit).is_err());
}

#[test]
fn an_invalid_rate_lets_nothing_through() {
    let (_clock, limiter) = fake();
    let mut r = rate("10/minute");
    r.burst = Some(0);
    assert_eq!(
        limiter.check("a", "t", &r),
        Err(RetryAfter(Duration::from_secs(60)))
    );
    r.burst = None;
    r.count = 0;
    assert!(limiter.check("a", "t", &r).is_err());
}

#[test]
fn retain_recent_keeps_active_budgets() {
    let (clock, limiter) = fake();
    let r = rate("1/minute");
    limiter.check("a", "t", &r).unwrap();
    limiter.retain_recent();
    assert!(limiter.check("a", "t", &r).is_err());
    clock.advance(Duration::from_secs(120));
    limiter.retain_recent();
    assert!(limiter.check("a", "t", &r).is_ok());
}

#[test]
fn real_clock_limiter_works() {
    // 2/day: no refill can happen while this runs.
    let limiter = RateLimiter::new();
    let r = rate("2/day");
    assert!(limiter.check("a", "t", &r).is_ok());
    assert!(limiter.check("a", "t", &r).is_ok());
    let Err(RetryAfter(wait)) = limiter.check("a", "t", &r) else {
        panic!("third call should be limited");
    };
    assert!(wait > Duration::from_secs(11 * 3600) && wait <= Duration::from_secs(12 * 3600));
    assert!(format!("{limiter:?}").contains("RateLimiter"));
}
