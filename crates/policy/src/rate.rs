//! Rates as people write them: `10/minute`, `5/second`, `100/hour`,
//! `1000/day` (SECURITY.md item 5: loops and floods).
//!
//! Semantics (GCRA, as implemented by `governor`): `count/per` is the
//! sustained rate, one call every `per / count`; `burst` (default `count`)
//! is how many calls may go back to back after a quiet spell. So `10/minute`
//! lets 10 calls through at once, then one every 6 seconds. Over any window
//! of one `per` at most `burst + count` calls pass, and over long
//! stretches the average never exceeds `count/per`.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use governor::Quota;

/// The period of a [`Rate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RatePeriod {
    Second,
    Minute,
    Hour,
    Day,
}

impl RatePeriod {
    pub fn as_duration(self) -> Duration {
        Duration::from_secs(match self {
            RatePeriod::Second => 1,
            RatePeriod::Minute => 60,
            RatePeriod::Hour => 3600,
            RatePeriod::Day => 86_400,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RatePeriod::Second => "second",
            RatePeriod::Minute => "minute",
            RatePeriod::Hour => "hour",
            RatePeriod::Day => "day",
        }
    }

    fn parse(s: &str) -> Option<RatePeriod> {
        Some(match s.to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" | "seconds" => RatePeriod::Second,
            "m" | "min" | "minute" | "minutes" => RatePeriod::Minute,
            "h" | "hour" | "hours" => RatePeriod::Hour,
            "d" | "day" | "days" => RatePeriod::Day,
            _ => return None,
        })
    }
}

impl fmt::Display for RatePeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rate limit: `count` calls per `per`, with an optional `burst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rate {
    pub count: u32,
    pub per: RatePeriod,
    /// Calls allowed back to back; `None` means `count`.
    pub burst: Option<u32>,
}

/// Why a rate was rejected. Messages do not echo the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RateError {
    #[error("a rate looks like `10/minute` (COUNT/PERIOD)")]
    Format,
    #[error("the count of a rate must be a whole number from 1 to 4294967295")]
    BadCount,
    #[error("the count of a rate must be at least 1")]
    ZeroCount,
    #[error("unknown rate period; use second, minute, hour or day (or s, m, h, d)")]
    UnknownPeriod,
    #[error("the burst of a rate must be at least 1")]
    ZeroBurst,
}

impl Rate {
    /// A rate with the default burst.
    pub fn new(count: u32, per: RatePeriod) -> Result<Rate, RateError> {
        let rate = Rate {
            count,
            per,
            burst: None,
        };
        rate.validate().map(|()| rate)
    }

    /// Checks what the public fields allow but a limit cannot mean: a zero
    /// count or a zero burst. [`FromStr`] never produces either.
    pub fn validate(&self) -> Result<(), RateError> {
        if self.count == 0 {
            return Err(RateError::ZeroCount);
        }
        if self.burst == Some(0) {
            return Err(RateError::ZeroBurst);
        }
        Ok(())
    }

    /// Calls allowed back to back.
    pub fn burst_size(&self) -> u32 {
        self.burst.unwrap_or(self.count)
    }

    /// The governor quota, or `None` for an invalid rate. The interval is
    /// rounded up, so rounding can only make the limit stricter.
    pub(crate) fn quota(&self) -> Option<Quota> {
        self.validate().ok()?;
        let per = self.per.as_duration().as_nanos();
        let interval = per.div_ceil(u128::from(self.count));
        let interval = Duration::from_nanos(u64::try_from(interval).ok()?);
        let burst = NonZeroU32::new(self.burst_size())?;
        Some(Quota::with_period(interval)?.allow_burst(burst))
    }
}

impl FromStr for Rate {
    type Err = RateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (count, per) = s.trim().split_once('/').ok_or(RateError::Format)?;
        let (count, per) = (count.trim(), per.trim());
        // u32::from_str would also take a leading `+`; keep to digits.
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RateError::BadCount);
        }
        let count: u32 = count.parse().map_err(|_| RateError::BadCount)?;
        let per = RatePeriod::parse(per).ok_or(RateError::UnknownPeriod)?;
        Rate::new(count, per)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.count, self.per)
    }
}
