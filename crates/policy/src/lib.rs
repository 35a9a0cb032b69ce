//! keyward's policy: pure decision logic, no IO of any kind.
//!
//! Everything the agent sends is hostile (SECURITY.md). This crate turns the
//! agent's request into one canonical form ([`NormalizedPath`], [`Method`]),
//! matches that form against the human's rules ([`HttpRule`],
//! [`PathPattern`]; [`ToolRule`], [`NamePattern`] for upstream MCP tools;
//! [`CommandRule`], [`ArgvPattern`] for commands) and folds the matches into
//! one [`Verdict`] with a single rule for every kind of target: default
//! deny, and among matching rules an explicit deny wins, then confirm, then
//! allow. Rate limits ([`Rate`], [`RateLimiter`]) bound loops and floods
//! within the rules.
//!
//! The gateway must send upstream exactly [`NormalizedPath::as_str`] (plus the
//! verbatim query from [`split_path_and_query`]): the form that was matched is
//! the form that is sent.

mod action;
mod argv_pattern;
mod command_rule;
mod cwd_pattern;
mod decide;
mod decision;
mod evaluate;
mod grant;
mod http_rule;
mod limiter;
mod method;
mod name_pattern;
mod path;
mod path_error;
mod pattern;
mod query;
mod rate;
mod segment;
mod target;
mod tool_rule;
mod verdict;
mod wildcard;

pub use action::Action;
pub use argv_pattern::{ArgvPattern, ArgvPatternError, MAX_ARGV_PATTERN_LEN};
pub use command_rule::{CommandRule, evaluate_command};
pub use cwd_pattern::{CwdPattern, CwdPatternError, MAX_CWD_PATTERN_LEN};
pub use decide::{Budget, Caller, Rules, evaluate};
pub use decision::{Decision, RuleRef, combine};
pub use evaluate::evaluate_http;
pub use grant::{Expiry, Grant, GrantScope, Grants, expiry_after};
pub use http_rule::{HttpRule, RuleError};
pub use limiter::{RateLimiter, RetryAfter};
pub use method::{Method, MethodError};
pub use name_pattern::{MAX_NAME_PATTERN_LEN, NamePattern, NamePatternError};
pub use path::{MAX_PATH_BYTES, MAX_SEGMENTS, NormalizedPath};
pub use path_error::PathError;
pub use pattern::{PathPattern, PatternError};
pub use query::{MAX_QUERY_BYTES, split_path_and_query};
pub use rate::{Rate, RateError, RatePeriod};
pub use target::Target;
pub use tool_rule::{ToolRule, evaluate_tool};
pub use verdict::{HttpVerdict, Verdict};

/// Clocks for [`RateLimiter`], re-exported from `governor` so that callers
/// (and their tests) can drive a limiter with [`clock::FakeRelativeClock`]
/// instead of sleeping.
pub mod clock {
    pub use governor::clock::{Clock, DefaultClock, FakeRelativeClock};
}
