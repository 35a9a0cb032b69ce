//! Keeps one upstream running: starts it on first use, and again after it
//! crashed, waiting longer after each failure in a row.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rmcp::model::{CallToolResult, JsonObject, Tool};

use super::{McpError, Upstream, UpstreamEvents, UpstreamSpec};

/// Exponential backoff between starts of a failing upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Wait after the first failure (crash or failed start).
    pub initial: Duration,
    /// The wait doubles per failure in a row, up to this.
    pub max: Duration,
    /// An upstream that ran this long before crashing starts the count
    /// afresh.
    pub reset_after: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(30),
            reset_after: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// How long to wait after `failures` failures in a row.
    pub fn delay(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(31));
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// An upstream under supervision. Cheap to clone; clones share the
/// upstream.
#[derive(Clone)]
pub struct Supervised {
    inner: Arc<Shared>,
}

struct Shared {
    name: String,
    spec: UpstreamSpec,
    events: UpstreamEvents,
    backoff: Backoff,
    /// Number of start attempts finished. A caller that sees it change
    /// while it waited for the lock queued behind an attempt (possibly one
    /// already under way when it arrived) and shares that attempt's outcome
    /// instead of trying again.
    finished: AtomicU64,
    closed: AtomicBool,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    current: Option<Upstream>,
    failures: u32,
    last_failure: Option<Instant>,
    last_error: Option<McpError>,
}

impl Supervised {
    /// Lazy: nothing starts until the first [`Supervised::get`].
    pub fn new(name: &str, spec: UpstreamSpec, events: UpstreamEvents) -> Supervised {
        Supervised::with_backoff(name, spec, events, Backoff::default())
    }

    pub fn with_backoff(
        name: &str,
        spec: UpstreamSpec,
        events: UpstreamEvents,
        backoff: Backoff,
    ) -> Supervised {
        Supervised {
            inner: Arc::new(Shared {
                name: name.to_string(),
                spec,
                events,
                backoff,
                finished: AtomicU64::new(0),
                closed: AtomicBool::new(false),
                state: tokio::sync::Mutex::new(State::default()),
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The running upstream, started (or restarted after a crash) if need
    /// be. After recent failures the start first waits out the backoff.
    /// Concurrent callers share one start attempt and its result.
    pub async fn get(&self) -> Result<Upstream, McpError> {
        let sh = &self.inner;
        let seen = sh.finished.load(Ordering::SeqCst);
        let mut st = sh.state.lock().await;
        self.check_open()?;
        if let Some(up) = st.current.take() {
            if up.is_alive() {
                if up.started_at().elapsed() >= sh.backoff.reset_after {
                    st.failures = 0;
                }
                st.current = Some(up.clone());
                return Ok(up);
            }
            // It crashed since the last call.
            let died = up.gone_at().unwrap_or_else(Instant::now);
            if died.saturating_duration_since(up.started_at()) >= sh.backoff.reset_after {
                st.failures = 0;
            }
            st.failures = st.failures.saturating_add(1);
            st.last_failure = Some(died);
            st.last_error = None;
        }
        if sh.finished.load(Ordering::SeqCst) != seen
            && let Some(e) = &st.last_error
        {
            return Err(e.clone());
        }
        let waited = st.last_failure.map_or(Duration::MAX, |t| t.elapsed());
        let delay = sh.backoff.delay(st.failures).saturating_sub(waited);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
            self.check_open()?;
        }
        let started = Upstream::start(&sh.name, sh.spec.clone(), sh.events.clone()).await;
        sh.finished.fetch_add(1, Ordering::SeqCst);
        match started {
            Ok(up) => {
                st.current = Some(up.clone());
                st.last_error = None;
                Ok(up)
            }
            Err(e) => {
                st.failures = st.failures.saturating_add(1);
                st.last_failure = Some(Instant::now());
                st.last_error = Some(e.clone());
                Err(e)
            }
        }
    }

    /// All tools of the upstream (starting it if need be).
    pub async fn tools(&self) -> Result<Vec<Tool>, McpError> {
        self.get().await?.tools().await
    }

    /// Calls a tool. `timeout` bounds the whole call, including a start or
    /// a backoff wait.
    pub async fn call_tool(
        &self,
        name: &str,
        args: Option<JsonObject>,
        timeout: Duration,
    ) -> Result<CallToolResult, McpError> {
        let call = async {
            let up = self.get().await?;
            up.call_tool(name, args, timeout).await
        };
        tokio::time::timeout(timeout, call)
            .await
            .unwrap_or_else(|_| {
                Err(McpError::Timeout {
                    server: self.inner.name.clone(),
                    after: timeout,
                })
            })
    }

    /// Stops the upstream for good: later calls get [`McpError::Closed`].
    pub async fn shutdown(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        let current = self.inner.state.lock().await.current.take();
        if let Some(up) = current {
            up.shutdown().await;
        }
    }

    fn check_open(&self) -> Result<(), McpError> {
        if self.inner.closed.load(Ordering::SeqCst) {
            Err(McpError::Closed {
                server: self.inner.name.clone(),
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_250ms_to_30s() {
        let b = Backoff::default();
        let ms = |n| b.delay(n).as_millis();
        assert_eq!(
            (ms(0), ms(1), ms(2), ms(3), ms(7)),
            (0, 250, 500, 1000, 16000)
        );
        assert_eq!(ms(8), 30_000);
        assert_eq!(ms(u32::MAX), 30_000);
    }
}
