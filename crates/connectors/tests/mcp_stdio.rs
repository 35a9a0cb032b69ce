//! The stdio MCP client against real servers from npm
//! (`@modelcontextprotocol/server-everything`, `server-filesystem`).

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use keyward_connectors::mcp::{McpError, StdioSpec, Upstream, UpstreamEvents, UpstreamSpec};
use keyward_redact::REDACTED;
use keyward_vault::SecretValue;
use serde_json::json;

const CALL: Duration = Duration::from_secs(20);

fn args(v: serde_json::Value) -> Option<serde_json::Map<String, serde_json::Value>> {
    v.as_object().cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_tools_and_calls_echo() {
    let up = Upstream::start("everything", everything(vec![]), UpstreamEvents::none())
        .await
        .unwrap();
    let tools = up.tools().await.unwrap();
    let names: BTreeSet<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for want in [
        "echo",
        "get-env",
        "get-sum",
        "trigger-long-running-operation",
    ] {
        assert!(names.contains(want), "{want} missing from {names:?}");
    }
    let r = up
        .call_tool("echo", args(json!({"message": "hi there"})), CALL)
        .await
        .unwrap();
    assert!(text_of(&r).contains("Echo: hi there"), "{}", text_of(&r));
    assert_ne!(r.is_error, Some(true));
    let info = up.peer_info().unwrap();
    assert_eq!(info.protocol_version.to_string(), "2025-11-25");
    up.shutdown().await;
}

/// The injected value reaches the child; keyward's own environment does
/// not; the secret is in no process's argv.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_env_is_exactly_inherit_plus_env() {
    // Precondition that makes the negative check meaningful: cargo sets
    // this in the test process's own environment.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    let secret = canary("env");
    let env = vec![("KW_TOKEN".to_string(), SecretValue::from_str(&secret))];
    let up = Upstream::start("everything", everything(env), UpstreamEvents::none())
        .await
        .unwrap();
    let r = up.call_tool("get-env", None, CALL).await.unwrap();
    let text = match &r.content[0] {
        rmcp::model::ContentBlock::Text(t) => t.text.clone(),
        other => panic!("unexpected content {other:?}"),
    };
    let child_env: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).unwrap();
    assert_eq!(child_env["KW_TOKEN"], json!(secret));
    let keys: BTreeSet<&str> = child_env.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["HOME", "KW_TOKEN", "PATH"]));
    assert!(!text.contains("CARGO_MANIFEST_DIR"));

    let pid = up.child_pid().unwrap();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline);
    assert!(cmdline.contains("stdio"), "{cmdline:?}");
    assert!(!cmdline.contains(&secret));
    up.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stderr_lines_reach_the_callback_and_the_tail() {
    let rec = Recorder::default();
    let up = Upstream::start("everything", everything(vec![]), rec.events())
        .await
        .unwrap();
    let seen = eventually(Duration::from_secs(5), || {
        rec.stderr_text()
            .contains("Starting default (STDIO) server")
    })
    .await;
    assert!(seen, "stderr seen: {:?}", rec.stderr_text());
    assert!(
        up.recent_stderr()
            .iter()
            .any(|l| l.contains("Starting default"))
    );
    up.shutdown().await;
}

/// server-everything registers more tools once `initialized` arrives and
/// says so with `notifications/tools/list_changed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_list_changed_reaches_the_callback() {
    let rec = Recorder::default();
    let up = Upstream::start("everything", everything(vec![]), rec.events())
        .await
        .unwrap();
    let changed = eventually(Duration::from_secs(5), || {
        rec.tools_changed.load(Ordering::SeqCst) > 0
    })
    .await;
    assert!(changed, "no tools/list_changed seen");
    up.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_child_ends_the_call_in_flight_at_once() {
    let rec = Recorder::default();
    let up = Upstream::start("everything", everything(vec![]), rec.events())
        .await
        .unwrap();
    let pid = up.child_pid().unwrap();
    let caller = up.clone();
    let started = Instant::now();
    let call = tokio::spawn(async move {
        let a = args(json!({"duration": 5, "steps": 5}));
        let r = caller
            .call_tool("trigger-long-running-operation", a, Duration::from_secs(30))
            .await;
        (r, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let raw = i32::try_from(pid).unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), nix::sys::signal::SIGKILL).unwrap();
    let (r, took) = call.await.unwrap();
    let err = r.unwrap_err();
    assert!(
        matches!(&err, McpError::UpstreamGone { server } if server == "everything"),
        "{err:?}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert!(err.to_string().contains("`everything` is not running"));
    assert!(!up.is_alive());
    assert!(
        eventually(Duration::from_secs(2), || rec.exits.load(Ordering::SeqCst)
            == 1)
        .await
    );
    // Later calls fail at once too.
    let err = up.call_tool("echo", None, CALL).await.unwrap_err();
    assert!(matches!(err, McpError::UpstreamGone { .. }), "{err:?}");
}

/// A descendant that left the process group (`setsid`) keeps the pipes
/// open, so the MCP session never sees EOF: the call must still end as
/// soon as the server process itself dies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_ends_at_once_even_if_an_escaped_descendant_holds_the_pipe() {
    let script = format!(
        "setsid sleep 8 & exec '{}' stdio",
        node_bin("mcp-server-everything").display()
    );
    let up = Upstream::start("escapee", shell(&script, vec![]), UpstreamEvents::none())
        .await
        .unwrap();
    let pid = up.child_pid().unwrap();
    let caller = up.clone();
    let call = tokio::spawn(async move {
        let a = args(json!({"duration": 5, "steps": 5}));
        let started = Instant::now();
        let r = caller
            .call_tool("trigger-long-running-operation", a, Duration::from_secs(30))
            .await;
        (r, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let raw = i32::try_from(pid).unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), nix::sys::signal::SIGKILL).unwrap();
    let (r, took) = call.await.unwrap();
    assert!(matches!(r, Err(McpError::UpstreamGone { .. })), "{r:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_call_times_out_and_the_upstream_stays_usable() {
    let up = Upstream::start("everything", everything(vec![]), UpstreamEvents::none())
        .await
        .unwrap();
    let started = Instant::now();
    let a = args(json!({"duration": 5, "steps": 5}));
    let err = up
        .call_tool(
            "trigger-long-running-operation",
            a,
            Duration::from_millis(300),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, McpError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    let r = up
        .call_tool("echo", args(json!({"message": "still here"})), CALL)
        .await
        .unwrap();
    assert!(text_of(&r).contains("still here"));
    up.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_and_prompts_pass_through() {
    let up = Upstream::start("everything", everything(vec![]), UpstreamEvents::none())
        .await
        .unwrap();
    let resources = up.resources().await.unwrap();
    let first = resources.first().expect("server-everything has resources");
    let read = up.read_resource(&first.uri).await.unwrap();
    assert!(!read.contents.is_empty());
    let prompts = up.prompts().await.unwrap();
    assert!(prompts.iter().any(|p| p.name == "simple-prompt"));
    let p = up.get_prompt("simple-prompt", None).await.unwrap();
    assert!(!p.messages.is_empty());
    up.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_reaps_the_child_and_reports_no_crash() {
    let rec = Recorder::default();
    let up = Upstream::start("everything", everything(vec![]), rec.events())
        .await
        .unwrap();
    let pid = up.child_pid().unwrap();
    assert!(process_running(pid));
    up.shutdown().await;
    assert!(!process_running(pid), "child {pid} still running");
    assert!(!up.is_alive());
    assert_eq!(rec.exits.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_spawn_names_the_command_not_the_env() {
    let secret = canary("spawn");
    let spec = UpstreamSpec::Stdio(StdioSpec {
        command: "/nonexistent/keyward-test-server".into(),
        args: vec![],
        env: vec![("KW_TOKEN".into(), SecretValue::from_str(&secret))],
        cwd: None,
        inherit: inherit(),
    });
    let err = Upstream::start("ghost", spec, UpstreamEvents::none())
        .await
        .err()
        .unwrap();
    assert!(matches!(err, McpError::Spawn { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("/nonexistent/keyward-test-server"),
        "{shown}"
    );
    assert!(!shown.contains(&secret));
}

/// A server that dies during the handshake: the error carries its last
/// stderr lines, with the injected secret scrubbed out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_handshake_reports_scrubbed_stderr() {
    let secret = canary("init");
    let rec = Recorder::default();
    let env = vec![("KW_TOKEN".into(), SecretValue::from_str(&secret))];
    let spec = shell("echo \"bad token $KW_TOKEN\" >&2; exit 3", env);
    let err = Upstream::start("broken", spec, rec.events())
        .await
        .err()
        .unwrap();
    let shown = err.to_string();
    assert!(matches!(err, McpError::Initialize { .. }), "{err:?}");
    assert!(shown.contains(&format!("bad token {REDACTED}")), "{shown}");
    assert!(!format!("{shown} {err:?}").contains(&secret));
    assert!(!rec.stderr_text().contains(&secret));
    assert_eq!(rec.exits.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filesystem_server_reads_a_file_in_its_allowed_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("note.txt");
    std::fs::write(&file, "hello from keyward").unwrap();
    let spec = UpstreamSpec::Stdio(StdioSpec {
        command: node_bin("mcp-server-filesystem"),
        args: vec![dir.path().display().to_string().into()],
        env: vec![],
        cwd: None,
        inherit: inherit(),
    });
    let up = Upstream::start("fs", spec, UpstreamEvents::none())
        .await
        .unwrap();
    let tools = up.tools().await.unwrap();
    let tool = ["read_text_file", "read_file"]
        .into_iter()
        .find(|n| tools.iter().any(|t| t.name == *n))
        .expect("a read tool");
    let a = args(json!({"path": file.display().to_string()}));
    let r = up.call_tool(tool, a, CALL).await.unwrap();
    assert!(
        text_of(&r).contains("hello from keyward"),
        "{}",
        text_of(&r)
    );
    up.shutdown().await;
}
