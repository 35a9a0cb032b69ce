//! Parsing and printing rates.

use std::time::Duration;

use keyward_policy::{Rate, RateError, RatePeriod};

fn rate(s: &str) -> Rate {
    s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

#[test]
fn parses_every_period_spelling() {
    for (s, count, per) in [
        ("10/minute", 10, RatePeriod::Minute),
        ("5/second", 5, RatePeriod::Second),
        ("100/hour", 100, RatePeriod::Hour),
        ("1000/day", 1000, RatePeriod::Day),
        ("1/s", 1, RatePeriod::Second),
        ("2/sec", 2, RatePeriod::Second),
        ("3/m", 3, RatePeriod::Minute),
        ("4/min", 4, RatePeriod::Minute),
        ("5/h", 5, RatePeriod::Hour),
        ("6/d", 6, RatePeriod::Day),
        ("7/minutes", 7, RatePeriod::Minute),
        (" 8 / Minute ", 8, RatePeriod::Minute),
        ("4294967295/day", u32::MAX, RatePeriod::Day),
    ] {
        assert_eq!(
            rate(s),
            Rate {
                count,
                per,
                burst: None
            },
            "{s:?}"
        );
    }
}

#[test]
fn displays_canonically() {
    assert_eq!(rate("10/min").to_string(), "10/minute");
    assert_eq!(rate("5/s").to_string(), "5/second");
    assert_eq!(rate("1/d").to_string(), "1/day");
    assert_eq!(rate("2/h").to_string(), "2/hour");
    assert_eq!(rate(&rate("9/m").to_string()), rate("9/m"));
}

#[test]
fn errors() {
    let err = |s: &str| s.parse::<Rate>().unwrap_err();
    assert_eq!(err("10"), RateError::Format);
    assert_eq!(err(""), RateError::Format);
    assert_eq!(err("x/minute"), RateError::BadCount);
    assert_eq!(err("/minute"), RateError::BadCount);
    assert_eq!(err("+10/minute"), RateError::BadCount);
    assert_eq!(err("-1/minute"), RateError::BadCount);
    assert_eq!(err("1.5/minute"), RateError::BadCount);
    assert_eq!(err("4294967296/day"), RateError::BadCount);
    assert_eq!(err("0/minute"), RateError::ZeroCount);
    assert_eq!(err("10/fortnight"), RateError::UnknownPeriod);
    assert_eq!(err("10/"), RateError::UnknownPeriod);
    assert_eq!(err("10/minute/x"), RateError::UnknownPeriod);
}

#[test]
fn burst_defaults_to_count_and_must_be_positive() {
    let mut r = rate("10/minute");
    assert_eq!(r.burst_size(), 10);
    r.burst = Some(3);
    assert_eq!(r.burst_size(), 3);
    assert_eq!(r.validate(), Ok(()));
    r.burst = Some(0);
    assert_eq!(r.validate(), Err(RateError::ZeroBurst));
    assert_eq!(Rate::new(0, RatePeriod::Second), Err(RateError::ZeroCount));
    assert_eq!(RatePeriod::Day.as_duration(), Duration::from_secs(86_400));
}
