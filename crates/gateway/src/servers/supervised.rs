//! [`LiveUpstream`]: a supervised upstream that is replaced by a fresh one
//! (started lazily, on the next call) when one of its injected values
//! changes. A child's environment is fixed at spawn, so a restart is the
//! only way a stdio server sees a rotated secret.

use std::time::Duration;

use keyward_connectors::mcp::{McpError, Supervised, Upstream, UpstreamEvents, UpstreamSpec};
use keyward_vault::SecretValue;
use rmcp::model::{CallToolResult, JsonObject, Tool};

use crate::cell::Live;

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

    /// Swaps in an upstream with `values` as its environment (stdio) or
    /// headers (HTTP) if they differ from the current ones; the old one is
    /// shut down after [`RETIRE_AFTER`]. Returns whether it was replaced.
    pub(crate) fn replace_values(&self, values: Vec<(String, SecretValue)>) -> bool {
        let now = self.current.load();
        let mut spec = now.spec.clone();
        let slot = match &mut spec {
            UpstreamSpec::Stdio(s) => &mut s.env,
            UpstreamSpec::Http(h) => &mut h.headers,
        };
        if *slot == values {
            return false;
        }
        *slot = values;
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

    fn env_of(up: &LiveUpstream) -> Vec<(String, SecretValue)> {
        match &up.current.load().spec {
            UpstreamSpec::Stdio(s) => s.env.clone(),
            UpstreamSpec::Http(h) => h.headers.clone(),
        }
    }

    #[test]
    fn only_changed_values_replace_the_upstream() {
        let up = LiveUpstream::new("s", spec("kw_canary_a"), UpstreamEvents::none());
        let same = vec![("TOKEN".to_string(), SecretValue::from_str("kw_canary_a"))];
        assert!(!up.replace_values(same));
        let new = vec![("TOKEN".to_string(), SecretValue::from_str("kw_canary_b"))];
        assert!(up.replace_values(new.clone()));
        assert_eq!(env_of(&up), new);
        assert!(!up.replace_values(new));
    }
}
