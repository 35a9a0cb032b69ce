//! The policy crate's tests, one binary with a module per part. Everything
//! goes through the public API, the way the gateway and CLI use it.

// clippy.toml allows unwrap in tests, but only inside `#[test]` functions;
// the helpers of this test-only crate are test code too.
#![allow(clippy::unwrap_used)]

mod argv_pattern;
mod evaluate;
mod evaluate_command;
mod evaluate_target;
mod evaluate_tool;
mod limiter;
mod method;
mod name_pattern;
mod path_accept;
mod path_reject;
mod pattern;
mod properties;
mod properties_globs;
mod properties_rules;
mod query;
mod rate;
mod rule;

use keyward_policy::{NormalizedPath, PathError};

/// The canonical form of a path that must be accepted.
fn canon(raw: &str) -> String {
    match NormalizedPath::parse(raw) {
        Ok(p) => p.as_str().to_owned(),
        Err(e) => panic!("{raw:?} should be accepted, got: {e}"),
    }
}

/// The error for a path that must be rejected.
fn reject(raw: &str) -> PathError {
    match NormalizedPath::parse(raw) {
        Ok(p) => panic!("{raw:?} should be rejected, got {:?}", p.as_str()),
        Err(e) => e,
    }
}

fn path(raw: &str) -> NormalizedPath {
    match NormalizedPath::parse(raw) {
        Ok(p) => p,
        Err(e) => panic!("{raw:?} should be accepted, got: {e}"),
    }
}
