//! The child process of a stdio upstream: spawned with a clean environment
//! in its own process group, watched until it exits, and stopped the way
//! the MCP spec asks (close stdin, wait, SIGTERM, wait, SIGKILL) — to the
//! whole group, so that `npx`'s node grandchild dies with it.
//!
//! keyward spawns and owns the `Child` itself rather than through rmcp's
//! `TokioChildProcess`: it needs the exit as an event (to end calls in
//! flight at once), the group kill, and the pid; rmcp gets the two pipes.

use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use keyward_redact::Scrubber;
use nix::sys::signal::Signal;
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::{oneshot, watch};

use super::life::Life;
use super::stderr::{StderrTail, read_lines};
use super::{McpError, StdioSpec};
use crate::exec::command::{clean_command, kill_group};

/// Each step of a polite stop gets this long before the next, harsher one.
const STOP_STEP: Duration = Duration::from_secs(2);

/// The handle's side of a running child.
pub(crate) struct ChildControl {
    pub(crate) pid: u32,
    pub(crate) tail: StderrTail,
    /// Send (or drop) to stop the child.
    terminate: Mutex<Option<oneshot::Sender<()>>>,
    /// `true` once the child has been reaped and its group killed.
    exited: watch::Receiver<bool>,
    stderr_done: watch::Receiver<bool>,
}

/// The pipes rmcp speaks MCP over.
pub(crate) type Pipes = (ChildStdout, ChildStdin);

impl ChildControl {
    pub(crate) fn terminate(&self) {
        let tx = self
            .terminate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(tx) = tx {
            let _ = tx.send(());
        }
    }

    /// Waits (bounded) for the child to be reaped.
    pub(crate) async fn wait_exited(&self, limit: Duration) {
        let mut rx = self.exited.clone();
        let _ = tokio::time::timeout(limit, rx.wait_for(|e| *e)).await;
    }

    /// Waits (bounded) for stderr to reach EOF, so that an error message
    /// can carry a dying child's last words.
    pub(crate) async fn wait_stderr_done(&self, limit: Duration) {
        let mut rx = self.stderr_done.clone();
        let _ = tokio::time::timeout(limit, rx.wait_for(|d| *d)).await;
    }
}

pub(crate) fn spawn(
    server: &str,
    spec: &StdioSpec,
    scrubber: Scrubber,
    on_stderr: Arc<dyn Fn(&str) + Send + Sync>,
    life: Arc<Life>,
) -> Result<(ChildControl, Pipes), McpError> {
    let mut cmd = clean_command(
        &spec.command,
        spec.args.iter().map(super::Arg::as_os_str),
        &spec.inherit,
        &spec.env,
        spec.cwd.as_deref(),
    )
    .map_err(|e| McpError::InvalidSpec {
        server: server.to_string(),
        reason: e.to_string(),
    })?;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let spawn_err = |reason: String| McpError::Spawn {
        server: server.to_string(),
        command: spec.command.display().to_string(),
        reason,
    };
    let mut child = cmd.spawn().map_err(|e| spawn_err(e.to_string()))?;
    drop(cmd);
    let (Some(pid), Some(stdin), Some(stdout), Some(stderr)) = (
        child.id(),
        child.stdin.take(),
        child.stdout.take(),
        child.stderr.take(),
    ) else {
        return Err(spawn_err("child pipes missing".into()));
    };

    let tail = StderrTail::default();
    let (done_tx, stderr_done) = watch::channel(false);
    tokio::spawn(read_lines(
        stderr,
        scrubber,
        tail.clone(),
        on_stderr,
        done_tx,
    ));

    let (term_tx, term_rx) = oneshot::channel();
    let (exited_tx, exited) = watch::channel(false);
    tokio::spawn(watch_child(child, pid, term_rx, life, exited_tx));

    let control = ChildControl {
        pid,
        tail,
        terminate: Mutex::new(Some(term_tx)),
        exited,
        stderr_done,
    };
    Ok((control, (stdout, stdin)))
}

/// Owns the child until it is reaped: by its own exit, by a stop request
/// (or the handle being dropped), or because the MCP session ended while
/// the process lingered. Whatever the cause, the rest of its process group
/// is killed and the upstream marked gone.
async fn watch_child(
    mut child: Child,
    pid: u32,
    terminate: oneshot::Receiver<()>,
    life: Arc<Life>,
    exited: watch::Sender<bool>,
) {
    tokio::select! {
        _ = child.wait() => {}
        _ = terminate => stop(&mut child, pid).await,
        () = life.wait_gone() => stop(&mut child, pid).await,
    }
    kill_group(pid, Signal::SIGKILL);
    life.mark_gone();
    exited.send_replace(true);
}

async fn stop(child: &mut Child, pid: u32) {
    // The session has closed (or is closing) stdin: a well-behaved server
    // exits on its own now.
    if tokio::time::timeout(STOP_STEP, child.wait()).await.is_ok() {
        return;
    }
    kill_group(pid, Signal::SIGTERM);
    if tokio::time::timeout(STOP_STEP, child.wait()).await.is_ok() {
        return;
    }
    kill_group(pid, Signal::SIGKILL);
    let _ = child.wait().await;
}
