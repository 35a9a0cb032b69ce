//! The exec connector against real programs: clean environment, exact argv
//! and no shell, stdin, timeouts that kill the whole group, output caps.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use keyward_connectors::exec::{ExecError, ExecSpec, run};
use keyward_vault::SecretValue;

fn spec(program: &str, args: &[&str]) -> ExecSpec {
    ExecSpec {
        program: PathBuf::from(program),
        args: args.iter().map(|a| a.to_string()).collect(),
        env: vec![],
        inherit: vec![("PATH".into(), "/usr/bin:/bin".into())],
        stdin: None,
        cwd: None,
        timeout: Duration::from_secs(10),
        max_output_bytes: 1 << 20,
    }
}

fn lines(b: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(b)
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn echo_runs_with_its_arguments() {
    let out = run(spec("/bin/echo", &["hello", "world"])).await.unwrap();
    assert_eq!(out.stdout, b"hello world\n");
    assert_eq!(
        (out.status, out.signal, out.timed_out),
        (Some(0), None, false)
    );
}

/// Shell syntax in arguments is inert: each argument arrives as one argv
/// entry, byte for byte, and `$(...)` runs nothing.
#[tokio::test]
async fn arguments_are_literal_and_no_shell_runs() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let subst = format!("$(touch {})", marker.display());
    let tricky = [
        "two words",
        "\"double\" 'single'",
        "a;b && c | d",
        subst.as_str(),
        "`touch x`",
        "*",
        "$HOME",
        "",
    ];
    let mut args = vec!["[%s]\\n"];
    args.extend(tricky);
    let out = run(spec("/usr/bin/printf", &args)).await.unwrap();
    let want: Vec<String> = tricky.iter().map(|a| format!("[{a}]")).collect();
    assert_eq!(lines(&out.stdout), want);
    let out = run(spec("/bin/echo", &[&subst])).await.unwrap();
    assert_eq!(out.stdout, format!("{subst}\n").into_bytes());
    assert!(!marker.exists(), "a shell ran the command substitution");
}

#[tokio::test]
async fn the_environment_is_exactly_inherit_plus_env() {
    let secret = "kw_canary_exec_env_5c1e";
    // Makes the check meaningful: the test process has more than this.
    assert!(std::env::vars_os().any(|(k, _)| k != "PATH"));
    let mut s = spec("/usr/bin/env", &[]);
    s.inherit.push(("LANG".into(), "C.UTF-8".into()));
    s.env = vec![
        ("KW_TOKEN".into(), SecretValue::from_str(secret)),
        // Declared values win over inherited ones.
        ("LANG".into(), SecretValue::from_str("C")),
    ];
    let out = run(s).await.unwrap();
    let got: BTreeSet<String> = lines(&out.stdout).into_iter().collect();
    let want: BTreeSet<String> = [
        "PATH=/usr/bin:/bin".to_string(),
        "LANG=C".to_string(),
        format!("KW_TOKEN={secret}"),
    ]
    .into();
    assert_eq!(got, want);
}

#[tokio::test]
async fn stdin_reaches_the_program_and_is_closed() {
    let mut s = spec("/bin/cat", &[]);
    // Larger than a pipe buffer: writing and reading must overlap.
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    s.stdin = Some(data.clone());
    s.max_output_bytes = 2_000_000;
    let out = run(s).await.unwrap();
    assert_eq!(out.status, Some(0));
    assert!(out.stdout == data, "stdout differs from stdin");
    assert!(!out.stdout_truncated);
}

#[tokio::test]
async fn a_timeout_kills_the_program() {
    let mut s = spec("/bin/sleep", &["30"]);
    s.timeout = Duration::from_millis(300);
    let out = run(s).await.unwrap();
    assert!(out.timed_out);
    assert_eq!((out.status, out.signal), (None, Some(9)));
    assert!(out.duration < Duration::from_secs(3), "{:?}", out.duration);
}

/// `sh` starts `sleep` in the background and waits: the timeout must kill
/// the grandchild too, not only `sh`.
#[tokio::test]
async fn a_timeout_kills_the_whole_process_group() {
    let mut s = spec("/bin/sh", &["-c", "sleep 30 & echo $!; wait"]);
    s.timeout = Duration::from_millis(500);
    let out = run(s).await.unwrap();
    assert!(out.timed_out);
    let pid: u32 = lines(&out.stdout)[0].parse().unwrap();
    let gone = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        !running(pid)
    });
    assert!(gone, "grandchild {pid} survived the timeout");
    assert!(out.duration < Duration::from_secs(3), "{:?}", out.duration);
}

/// Running and not a zombie (a killed orphan may wait for its reaper).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

#[tokio::test]
async fn output_is_capped_and_the_program_still_finishes() {
    let mut s = spec("/usr/bin/head", &["-c", "5000000", "/dev/zero"]);
    s.max_output_bytes = 1_000_000;
    let out = run(s).await.unwrap();
    assert_eq!(out.stdout.len(), 1_000_000);
    assert!(out.stdout_truncated && !out.stderr_truncated);
    assert_eq!(out.status, Some(0));
    assert!(!out.timed_out);
}

#[tokio::test]
async fn exit_codes_and_stderr_are_reported() {
    let out = run(spec("/bin/sh", &["-c", "echo oops >&2; exit 3"]))
        .await
        .unwrap();
    assert_eq!((out.status, out.signal), (Some(3), None));
    assert_eq!(out.stderr, b"oops\n");
    assert!(out.stdout.is_empty());
    let out = run(spec("/bin/false", &[])).await.unwrap();
    assert_eq!(out.status, Some(1));
}

#[tokio::test]
async fn bad_programs_are_errors_that_name_no_secret() {
    let err = run(spec("sh", &[])).await.unwrap_err();
    assert!(matches!(err, ExecError::NotAbsolute(_)), "{err:?}");
    let mut s = spec("/nonexistent/tool", &[]);
    s.env = vec![("KW".into(), SecretValue::from_str("kw_canary_exec_err"))];
    let err = run(s).await.unwrap_err();
    assert!(matches!(err, ExecError::Spawn { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("/nonexistent/tool") && !shown.contains("kw_canary"));
}
