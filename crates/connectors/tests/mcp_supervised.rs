//! Life cycle: crash and restart with `Supervised` over the real
//! server-everything, backoff over servers that fail on purpose, and what
//! dropping a handle does.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use keyward_connectors::mcp::{Backoff, McpError, Supervised, Upstream, UpstreamEvents};
use serde_json::json;

fn kill9(pid: u32) {
    let raw = i32::try_from(pid).expect("pid fits i32");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), nix::sys::signal::SIGKILL)
        .expect("kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_fails_the_call_in_flight_and_the_next_get_restarts() {
    let rec = Recorder::default();
    let sup = Supervised::new("everything", everything(vec![]), rec.events());
    let first = sup.get().await.unwrap();
    let pid1 = first.child_pid().unwrap();

    let caller = sup.clone();
    let started = Instant::now();
    let call = tokio::spawn(async move {
        let a = json!({"duration": 5, "steps": 5}).as_object().cloned();
        let r = caller
            .call_tool("trigger-long-running-operation", a, Duration::from_secs(30))
            .await;
        (r, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    kill9(pid1);
    let (r, took) = call.await.unwrap();
    assert!(
        matches!(r, Err(McpError::UpstreamGone { .. })),
        "{:?}",
        r.err()
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");

    let second = sup.get().await.unwrap();
    let pid2 = second.child_pid().unwrap();
    assert_ne!(pid1, pid2);
    assert!(second.is_alive());
    let r = sup
        .call_tool(
            "echo",
            json!({"message": "back"}).as_object().cloned(),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(text_of(&r).contains("Echo: back"));
    assert_eq!(rec.exits.load(Ordering::SeqCst), 1);

    sup.shutdown().await;
    assert!(!process_running(pid2));
    assert!(matches!(sup.get().await, Err(McpError::Closed { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_calls_share_one_start() {
    let sup = Supervised::new("everything", everything(vec![]), UpstreamEvents::none());
    let gets = (0..4).map(|_| {
        let s = sup.clone();
        tokio::spawn(async move { s.get().await.unwrap().child_pid() })
    });
    let pids: Vec<_> = futures::future::join_all(gets)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(
        pids.iter().all(|p| p.is_some() && *p == pids[0]),
        "{pids:?}"
    );
    sup.shutdown().await;
}

/// A server that always fails to start; each attempt says so on stderr,
/// so the attempts can be counted.
fn failing(rec: &Recorder, backoff: Backoff) -> Supervised {
    let spec = shell("echo start-attempt >&2; exit 1", vec![]);
    Supervised::with_backoff("failing", spec, rec.events(), backoff)
}

fn attempts(rec: &Recorder) -> usize {
    rec.stderr.lock().expect("stderr lock").len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_queued_behind_a_failing_start_share_its_error() {
    let rec = Recorder::default();
    let sup = failing(&rec, Backoff::default());
    let gets = (0..3).map(|_| {
        let s = sup.clone();
        tokio::spawn(async move { s.get().await })
    });
    for r in futures::future::join_all(gets).await {
        let err = r.unwrap().err().unwrap();
        assert!(matches!(err, McpError::Initialize { .. }), "{err:?}");
    }
    assert_eq!(attempts(&rec), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_starts_back_off_exponentially() {
    let rec = Recorder::default();
    let backoff = Backoff {
        initial: Duration::from_millis(400),
        max: Duration::from_millis(800),
        reset_after: Duration::from_secs(60),
    };
    let sup = failing(&rec, backoff);
    assert!(sup.get().await.is_err());
    let mut waits = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        assert!(sup.get().await.is_err());
        waits.push(t.elapsed());
    }
    assert_eq!(attempts(&rec), 4);
    // 400 ms, then 800 ms, then capped at 800 ms instead of 1600 ms (each
    // plus the attempt itself).
    let floor = [400, 800, 800].map(Duration::from_millis);
    for (w, f) in waits.iter().zip(floor) {
        assert!(*w >= f, "waited {w:?}, expected at least {f:?}");
    }
    assert!(waits[2] < Duration::from_millis(1400), "{waits:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_timeout_bounds_the_backoff_wait() {
    let rec = Recorder::default();
    let backoff = Backoff {
        initial: Duration::from_secs(10),
        ..Backoff::default()
    };
    let sup = failing(&rec, backoff);
    assert!(sup.get().await.is_err());
    let t = Instant::now();
    let err = sup
        .call_tool("echo", None, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(err, McpError::Timeout { .. }), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(2));
}

/// Forgetting to call `shutdown()` must not leak the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_handle_stops_the_child() {
    let rec = Recorder::default();
    let up = Upstream::start("everything", everything(vec![]), rec.events())
        .await
        .unwrap();
    let pid = up.child_pid().unwrap();
    let clone = up.clone();
    drop(up);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(process_running(pid), "a clone still holds it");
    drop(clone);
    let stopped = eventually(Duration::from_secs(6), || !process_running(pid)).await;
    assert!(stopped, "child {pid} outlived its handles");
    assert_eq!(rec.exits.load(Ordering::SeqCst), 0);
}
