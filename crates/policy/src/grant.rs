//! Grants: a human's time-limited "yes" to a `confirm` rule.
//!
//! A grant names one agent, what it covers ([`GrantScope`]) and when it
//! ends ([`Expiry`]). It satisfies a `confirm` decision for a call it
//! covers, and nothing else: the gateway consults grants only after the
//! rules said `confirm`, so a grant can never turn a `deny` (or the default
//! deny) into an allow. Pure data and pure functions: the current time is a
//! parameter, so expiry is tested with any clock.

use std::fmt;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use crate::{Method, NamePattern, PathPattern, Target};

/// What a grant covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum GrantScope {
    /// Calls to `service` with one of `methods` (every method if `None`)
    /// on a path matching one of `paths`.
    Http {
        service: String,
        #[serde(serialize_with = "methods_ser")]
        methods: Option<Vec<Method>>,
        #[serde(serialize_with = "paths_ser")]
        paths: Vec<PathPattern>,
    },
    /// Tools of upstream `server` whose name matches `tools`.
    Tool {
        server: String,
        #[serde(serialize_with = "name_ser")]
        tools: NamePattern,
    },
    /// Runs of the allow-listed command `command`.
    Command { command: String },
    /// Runs of the workflow `workflow` (its steps' own confirmations).
    Workflow { workflow: String },
}

fn methods_ser<S: serde::Serializer>(m: &Option<Vec<Method>>, s: S) -> Result<S::Ok, S::Error> {
    match m {
        None => s.serialize_none(),
        Some(ms) => s.collect_seq(ms.iter().map(Method::as_str)),
    }
}

fn paths_ser<S: serde::Serializer>(p: &[PathPattern], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(p.iter().map(PathPattern::as_str))
}

fn name_ser<S: serde::Serializer>(n: &NamePattern, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(n.as_str())
}

impl GrantScope {
    /// Whether `target` is inside this scope. Names match exactly (case
    /// included): a grant is never wider than what the human read.
    pub fn covers(&self, target: &Target<'_>) -> bool {
        match (self, target) {
            (
                GrantScope::Http {
                    service,
                    methods,
                    paths,
                },
                Target::Http {
                    service: s,
                    method,
                    path,
                },
            ) => {
                service == s
                    && methods.as_ref().is_none_or(|ms| ms.contains(method))
                    && paths.iter().any(|p| p.matches(path, false))
            }
            (GrantScope::Tool { server, tools }, Target::Tool { server: s, tool }) => {
                server == s && tools.matches(tool, false)
            }
            (GrantScope::Command { command }, Target::Command { command: c, .. }) => command == c,
            (GrantScope::Workflow { workflow }, Target::Workflow { workflow: w }) => workflow == w,
            _ => false,
        }
    }
}

impl fmt::Display for GrantScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrantScope::Http {
                service,
                methods,
                paths,
            } => {
                let methods = match methods {
                    None => "*".to_string(),
                    Some(ms) => ms.iter().map(Method::as_str).collect::<Vec<_>>().join(","),
                };
                let paths: Vec<&str> = paths.iter().map(PathPattern::as_str).collect();
                write!(f, "{service}: {methods} {}", paths.join(" "))
            }
            GrantScope::Tool { server, tools } => write!(f, "tool {server}__{tools}"),
            GrantScope::Command { command } => write!(f, "command {command}"),
            GrantScope::Workflow { workflow } => write!(
                f,
                "workflow {workflow}: the `confirm = true` of every step, in any run, with any inputs"
            ),
        }
    }
}

/// When a grant ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "until", rename_all = "snake_case")]
pub enum Expiry {
    /// At this instant (exclusive: at `at` the grant no longer holds).
    Time { at: Timestamp },
    /// When the agent's session `session` ends (the connection closes);
    /// the gateway removes such grants then.
    Session { session: String },
}

/// A human's yes, for a while.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub id: String,
    /// The one agent it is for.
    pub agent: String,
    pub scope: GrantScope,
    pub expiry: Expiry,
    pub created: Timestamp,
    /// Who said yes, e.g. `human via dashboard`.
    pub created_by: String,
    /// The agent's stated reason, as it asked.
    pub reason: Option<String>,
}

impl Grant {
    /// Whether the grant lets `agent`, in `session`, make the call
    /// `target` at `now`.
    pub fn covers(&self, agent: &str, session: &str, target: &Target<'_>, now: Timestamp) -> bool {
        self.agent == agent && self.live(session, now) && self.scope.covers(target)
    }

    /// Whether it still holds at `now` for `session`.
    fn live(&self, session: &str, now: Timestamp) -> bool {
        match &self.expiry {
            Expiry::Time { at } => now < *at,
            Expiry::Session { session: s } => s == session,
        }
    }

    fn expired(&self, now: Timestamp) -> bool {
        matches!(&self.expiry, Expiry::Time { at } if now >= *at)
    }
}

/// The grants in force.
#[derive(Clone, Debug, Default)]
pub struct Grants {
    list: Vec<Grant>,
}

impl Grants {
    pub fn add(&mut self, grant: Grant) {
        self.list.push(grant);
    }

    /// The first grant that covers the call, if any.
    pub fn covering(
        &self,
        agent: &str,
        session: &str,
        target: &Target<'_>,
        now: Timestamp,
    ) -> Option<&Grant> {
        self.list
            .iter()
            .find(|g| g.covers(agent, session, target, now))
    }

    /// Drops grants past their time.
    pub fn prune(&mut self, now: Timestamp) {
        self.list.retain(|g| !g.expired(now));
    }

    /// Drops the grants of a session that ended.
    pub fn end_session(&mut self, session: &str) {
        self.list
            .retain(|g| !matches!(&g.expiry, Expiry::Session { session: s } if s == session));
    }

    /// The grants that still hold at `now` (session grants included).
    pub fn current(&self, now: Timestamp) -> Vec<Grant> {
        self.list
            .iter()
            .filter(|g| !g.expired(now))
            .cloned()
            .collect()
    }

    /// Removes grant `id`; whether it was there.
    pub fn revoke(&mut self, id: &str) -> bool {
        let before = self.list.len();
        self.list.retain(|g| g.id != id);
        self.list.len() != before
    }

    /// Removes every grant; how many there were.
    pub fn revoke_all(&mut self) -> usize {
        std::mem::take(&mut self.list).len()
    }
}

/// `now + d`, saturating at the largest instant instead of failing.
pub fn expiry_after(now: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| now.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NormalizedPath;

    fn ts(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).expect("valid")
    }

    fn http(service: &str, methods: Option<&[&str]>, paths: &[&str]) -> GrantScope {
        GrantScope::Http {
            service: service.into(),
            methods: methods.map(|ms| {
                ms.iter()
                    .map(|m| Method::parse(m).expect("method"))
                    .collect()
            }),
            paths: paths
                .iter()
                .map(|p| PathPattern::parse(p).expect("pattern"))
                .collect(),
        }
    }

    fn grant(scope: GrantScope, expiry: Expiry) -> Grant {
        Grant {
            id: "g1".into(),
            agent: "claude".into(),
            scope,
            expiry,
            created: ts(0),
            created_by: "human via cli".into(),
            reason: None,
        }
    }

    fn call<'a>(service: &'a str, m: &'a Method, p: &'a NormalizedPath) -> Target<'a> {
        Target::Http {
            service,
            method: m,
            path: p,
        }
    }

    #[test]
    fn a_timed_grant_holds_until_its_instant_and_not_at_it() {
        let g = grant(
            http("github", Some(&["GET"]), &["/repos/**"]),
            Expiry::Time {
                at: expiry_after(ts(0), Duration::from_secs(300)),
            },
        );
        let get = Method::parse("GET").expect("m");
        let p = NormalizedPath::parse("/repos/a/b").expect("p");
        let t = call("github", &get, &p);
        assert!(g.covers("claude", "s1", &t, ts(0)));
        assert!(g.covers("claude", "s1", &t, ts(299)));
        assert!(!g.covers("claude", "s1", &t, ts(300)));
        assert!(!g.covers("claude", "s1", &t, ts(301)));
    }

    #[test]
    fn a_grant_is_for_one_agent_one_service_its_methods_and_paths() {
        let g = grant(
            http("github", Some(&["GET"]), &["/repos/**"]),
            Expiry::Time { at: ts(100) },
        );
        let get = Method::parse("GET").expect("m");
        let post = Method::parse("POST").expect("m");
        let inside = NormalizedPath::parse("/repos/x").expect("p");
        let outside = NormalizedPath::parse("/user").expect("p");
        assert!(g.covers("claude", "s", &call("github", &get, &inside), ts(1)));
        assert!(!g.covers("cursor", "s", &call("github", &get, &inside), ts(1)));
        assert!(!g.covers("claude", "s", &call("gitlab", &get, &inside), ts(1)));
        assert!(!g.covers("claude", "s", &call("github", &post, &inside), ts(1)));
        assert!(!g.covers("claude", "s", &call("github", &get, &outside), ts(1)));
        // A tool target never matches an HTTP scope.
        let t = Target::Tool {
            server: "github",
            tool: "x",
        };
        assert!(!g.covers("claude", "s", &t, ts(1)));
    }

    #[test]
    fn a_session_grant_holds_only_in_its_session_and_ends_with_it() {
        let scope = GrantScope::Tool {
            server: "slack".into(),
            tools: NamePattern::parse("post_*").expect("p"),
        };
        let mut grants = Grants::default();
        grants.add(grant(
            scope,
            Expiry::Session {
                session: "s1".into(),
            },
        ));
        let t = Target::Tool {
            server: "slack",
            tool: "post_message",
        };
        let far = ts(10_000_000);
        assert!(grants.covering("claude", "s1", &t, far).is_some());
        assert!(grants.covering("claude", "s2", &t, far).is_none());
        let other = Target::Tool {
            server: "slack",
            tool: "delete_channel",
        };
        assert!(grants.covering("claude", "s1", &other, far).is_none());
        grants.end_session("s1");
        assert!(grants.covering("claude", "s1", &t, far).is_none());
    }

    #[test]
    fn prune_revoke_and_current() {
        let mut grants = Grants::default();
        let mut a = grant(
            GrantScope::Command {
                command: "gh".into(),
            },
            Expiry::Time { at: ts(10) },
        );
        a.id = "a".into();
        let mut b = a.clone();
        b.id = "b".into();
        b.expiry = Expiry::Time { at: ts(20) };
        grants.add(a);
        grants.add(b);
        assert_eq!(grants.current(ts(5)).len(), 2);
        assert_eq!(grants.current(ts(15)).len(), 1);
        grants.prune(ts(15));
        assert!(!grants.revoke("a"));
        assert!(grants.revoke("b"));
        assert_eq!(grants.current(ts(0)).len(), 0);
    }

    #[test]
    fn expiry_after_saturates() {
        assert_eq!(expiry_after(ts(0), Duration::MAX), Timestamp::MAX);
    }
}
