//! Helpers shared by the MCP integration tests: the real servers from npm,
//! canaries, and callbacks that record what they were given.
// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use keyward_connectors::mcp::{StdioSpec, UpstreamEvents, UpstreamSpec};
use keyward_vault::SecretValue;

/// A server installed by `npm ci --prefix tests/node` (what CI runs).
pub(crate) fn node_bin(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/node/node_modules/.bin")
        .join(name);
    assert!(
        p.exists(),
        "{} is missing: run `npm ci --prefix tests/node` at the repository root (needs node)",
        p.display()
    );
    p
}

/// A recognisable fake secret, unique per call.
pub(crate) fn canary(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("kw_canary_{tag}_{}_{nanos:x}", std::process::id())
}

/// The inherited allow-list the tests give children: enough for
/// `#!/usr/bin/env node` to find node.
pub(crate) fn inherit() -> Vec<(String, String)> {
    vec![
        ("PATH".into(), "/usr/bin:/bin".into()),
        ("HOME".into(), "/tmp".into()),
    ]
}

pub(crate) fn everything(env: Vec<(String, SecretValue)>) -> UpstreamSpec {
    UpstreamSpec::Stdio(StdioSpec {
        command: node_bin("mcp-server-everything"),
        args: vec!["stdio".into()],
        env,
        cwd: None,
        inherit: inherit(),
    })
}

/// A stdio "server" that is a shell script (to make a server fail on
/// purpose).
pub(crate) fn shell(script: &str, env: Vec<(String, SecretValue)>) -> UpstreamSpec {
    UpstreamSpec::Stdio(StdioSpec {
        command: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
        env,
        cwd: None,
        inherit: inherit(),
    })
}

/// Everything the callbacks were given.
#[derive(Clone, Default)]
pub(crate) struct Recorder {
    pub(crate) stderr: Arc<Mutex<Vec<String>>>,
    pub(crate) tools_changed: Arc<AtomicUsize>,
    pub(crate) exits: Arc<AtomicUsize>,
}

impl Recorder {
    pub(crate) fn events(&self) -> UpstreamEvents {
        let (s, t, e) = (
            self.stderr.clone(),
            self.tools_changed.clone(),
            self.exits.clone(),
        );
        UpstreamEvents {
            on_stderr: Arc::new(move |l| s.lock().expect("stderr lock").push(l.to_string())),
            on_tools_changed: Arc::new(move || {
                t.fetch_add(1, Ordering::SeqCst);
            }),
            on_exit: Arc::new(move || {
                e.fetch_add(1, Ordering::SeqCst);
            }),
        }
    }

    pub(crate) fn stderr_text(&self) -> String {
        self.stderr.lock().expect("stderr lock").join("\n")
    }
}

/// Polls `cond` every 20 ms for up to `limit`.
pub(crate) async fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

/// Whether a process exists and is not a zombie.
pub(crate) fn process_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// All text of a result, as JSON (enough to search in).
pub(crate) fn text_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("results serialise")
}
