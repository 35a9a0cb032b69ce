//! [`LiveUpstream`]: a supervised upstream that is replaced by a fresh one
//! (started lazily, on the next call) when one of its injected values
//! changes. A child's environment and argv are fixed at spawn, so a
//! restart is the only way a stdio server sees a rotated secret.

use std::time::Duration;

use keyward_connectors::mcp::{Arg, McpError, Supervised, Upstream, UpstreamEvents, UpstreamSpec};
use keyward_vault::SecretValue;
use rmcp::model::{CallToolResult, JsonObject, Tool};

use crate::cell::Live;

/// What keyward puts into an upstream when it starts it, references
/// resolved: a stdio server's arguments and environment, or a remote
/// server's headers (`args` empty). A change to any of it restarts the
/// server. `Debug` shows no value.
#[derive(Clone, PartialEq, Eq)]
pub struct Injected {
    pub args: Vec<Arg>,
    /// Environment (stdio) or headers (HTTP).
    pub values: Vec<(String, SecretValue)>,
}

impl std::fmt::Debug for Injected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Injected")
            .field("args", &self.args)
            .field(
                "values",
                &self.values.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// How long a replaced upstream is left running for the calls still on it.
const RETIRE_AFTER: Duration = Duration::from_secs(30);

struct Current {
    supervised: Supervised,
    spec: UpstreamSpec,
}

pub struct LiveUpstream {
    name: String,
    events: UpstreamEvents,
    current: Live<Current>,
}

impl LiveUpstream {
    pub fn new(name: &str, spec: UpstreamSpec, events: UpstreamEvents) -> LiveUpstream {
        LiveUpstream {
            name: name.to_string(),
            current: Live::new(Current {
                supervised: Supervised::new(name, spec.clone(), events.clone()),
                spec,
            }),
            events,
        }
    }

    /// The upstream as it is now; a call keeps using the one it got.
    pub fn current(&self) -> Supervised {
        self.current.load().supervised.clone()
    }

    pub async fn get(&self) -> Result<Upstream, McpError> {
        self.current().get().await
    }

    pub async fn tools(&self) -> Result<Vec<Tool>, McpError> {
        self.current().tools().await
    }

    pub async fn call_tool(
        &self,
        name: &str,
        args: Option<JsonObject>,
        timeout: Duration,
    ) -> Result<CallToolResult, McpError> {
        self.current().call_tool(name, args, timeout).await
    }

    pub async fn shutdown(&self) {
        self.current().shutdown().await;
    }

    /// Swaps in an upstream with `injected` as its arguments and
    /// environment (stdio) or headers (HTTP) if they differ from the
    /// current ones; the old one is shut down after [`RETIRE_AFTER`].
    /// Returns whether it was replaced.
    pub(crate) fn replace_values(&self, injected: Injected) -> bool {
        let now = self.current.load();
        let mut spec = now.spec.clone();
        match &mut spec {
            UpstreamSpec::Stdio(s) => {
                if s.args == injected.args && s.env == injected.values {
                    return false;
                }
                s.args = injected.args;
                s.env = injected.values;
            }
            UpstreamSpec::Http(h) => {
                if h.headers == injected.values {
                    return false;
                }
                h.headers = injected.values;
            }
        }
        let supervised = Supervised::new(&self.name, spec.clone(), self.events.clone());
        let old = self.current.store(Current { supervised, spec });
        tracing::info!(server = %self.name, "an injected value changed; the server restarts on its next call");
        let old = old.supervised.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn(async move {
                    tokio::time::sleep(RETIRE_AFTER).await;
                    old.shutdown().await;
                });
            }
            // No runtime (a gateway used outside serve): dropping the last
            // handle stops it.
            Err(_) => drop(old),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_connectors::mcp::StdioSpec;

    fn spec(token: &str) -> UpstreamSpec {
        UpstreamSpec::Stdio(StdioSpec {
            command: "/bin/true".into(),
            args: vec![],
            env: vec![("TOKEN".into(), SecretValue::from_str(token))],
            cwd: None,
            inherit: vec![],
        })
    }

    fn injected_of(up: &LiveUpstream) -> Injected {
        match &up.current.load().spec {
            UpstreamSpec::Stdio(s) => Injected {
                args: s.args.clone(),
                values: s.env.clone(),
            },
            UpstreamSpec::Http(h) => Injected {
                args: vec![],
                values: h.headers.clone(),
            },
        }
    }

    fn env(token: &str) -> Injected {
        Injected {
            args: vec![],
            values: vec![("TOKEN".to_string(), SecretValue::from_str(token))],
        }
    }

    #[test]
    fn only_changed_values_replace_the_upstream() {
        let up = LiveUpstream::new("s", spec("kw_canary_a"), UpstreamEvents::none());
        assert!(!up.replace_values(env("kw_canary_a")));
        let new = env("kw_canary_b");
        assert!(up.replace_values(new.clone()));
        assert_eq!(injected_of(&up), new);
        assert!(!up.replace_values(new));
    }

    /// issue 12, item 9: a secret argument that changes restarts the
    /// server as an env value does (its argv is fixed at spawn).
    #[test]
    fn a_changed_secret_argument_replaces_the_upstream() {
        let up = LiveUpstream::new("s", spec("kw_canary_a"), UpstreamEvents::none());
        let with_arg = |v: &str| Injected {
            args: vec!["-y".into(), Arg::Secret(SecretValue::from_str(v))],
            ..env("kw_canary_a")
        };
        assert!(up.replace_values(with_arg("kw_canary_url_1")));
        assert!(!up.replace_values(with_arg("kw_canary_url_1")));
        assert!(up.replace_values(with_arg("kw_canary_url_2")));
        assert_eq!(injected_of(&up), with_arg("kw_canary_url_2"));
        let shown = format!("{:?}", with_arg("kw_canary_url_2"));
        assert!(!shown.contains("kw_canary"), "{shown}");
    }
}
