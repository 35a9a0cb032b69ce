//! `keyward approvals`, `approve`, `deny`, `grants`, `lock`, `unlock`:
//! the human's side of `confirm` rules, talking to every running keyward
//! through its control socket (see keyward_gateway::transport::control).
//!
//! Approving and unlocking need the vault passphrase — typed at the
//! terminal, or KEYWARD_PASSPHRASE — which the serving keyward checks
//! itself; a key file or the OS keychain is not enough. Denying, revoking
//! and locking only narrow what the agent may do, and need nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use keyward_audit::shown::shown;
use keyward_config::Paths;
use keyward_gateway::transport::control::{QuestionView, Reply, Request, sockets};
use keyward_vault::{SecretValue, Vault};

use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::prompt;

/// Where serving keywards put their sockets.
pub(crate) fn run_dir(paths: &Paths) -> PathBuf {
    paths.data_dir.join("run")
}

/// The marker that keeps keyward locked across restarts.
pub(crate) fn lock_marker(paths: &Paths) -> PathBuf {
    paths.data_dir.join("locked")
}

/// One request to one socket. A socket nobody listens on is stale: it is
/// removed, and `None` returned. Every request goes only to a socket whose
/// listener is verified to be keyward (see [`verify_listener`]): a fake
/// listener must get no passphrase, and must not put invented questions
/// in `keyward approvals` or a false "locked" in `keyward lock`. Others
/// are skipped with a warning that names the socket.
fn ask(socket: &Path, req: &Request) -> Option<Reply> {
    let secret = matches!(
        req,
        Request::Answer {
            passphrase: Some(_),
            ..
        } | Request::Unlock { .. }
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(async {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        let mut conn = match tokio::net::UnixStream::connect(socket).await {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                let _ = std::fs::remove_file(socket);
                return None;
            }
            Err(_) => return None,
        };
        if let Err(why) = verify_listener(socket, &conn) {
            if secret {
                eprintln!(
                    "keyward: not sending the passphrase to {}: {why}",
                    socket.display()
                );
            } else {
                eprintln!(
                    "keyward: ignoring {}: {why} (any process running as you can open a socket there)",
                    socket.display()
                );
            }
            return None;
        }
        let mut line = serde_json::to_vec(req).ok()?;
        line.push(b'\n');
        conn.write_all(&line).await.ok()?;
        let mut answer = String::new();
        // Argon2 on the other side takes a moment; a wrong passphrase a second.
        let mut read = tokio::io::BufReader::new(conn);
        tokio::time::timeout(Duration::from_secs(30), read.read_line(&mut answer))
            .await
            .ok()?
            .ok()?;
        serde_json::from_str(&answer).ok()
    })
}

/// The passphrase is for the keyward that asked, not for whatever listens
/// on a socket in `run/` (any same-user process can create one there). The
/// listener (SO_PEERCRED) must be this user, be the process the socket is
/// named after, and run this very keyward binary.
fn verify_listener(socket: &Path, conn: &tokio::net::UnixStream) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let cred = conn
        .peer_cred()
        .map_err(|e| format!("cannot read its credentials: {e}"))?;
    let me = std::fs::metadata("/proc/self").map_err(|e| e.to_string())?;
    if cred.uid() != me.uid() {
        return Err("it belongs to another user".into());
    }
    let pid = cred.pid().ok_or("its process is unknown")?;
    let named = socket
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("serve-"))
        .and_then(|n| n.strip_suffix(".sock"))
        .and_then(|n| n.parse::<i32>().ok());
    if named != Some(pid) {
        return Err(format!(
            "it is served by process {pid}, not the one it is named after"
        ));
    }
    let theirs = std::fs::metadata(format!("/proc/{pid}/exe"))
        .map_err(|e| format!("cannot see process {pid}'s program: {e}"))?;
    let ours = std::fs::metadata("/proc/self/exe").map_err(|e| e.to_string())?;
    if (theirs.dev(), theirs.ino()) != (ours.dev(), ours.ino()) {
        return Err(format!(
            "process {pid} does not run this keyward binary (was keyward rebuilt or reinstalled since it started? restart it)"
        ));
    }
    Ok(())
}

/// The request sent to every running keyward, with their replies.
fn ask_all(paths: &Paths, req: &Request) -> Vec<Reply> {
    sockets(&run_dir(paths))
        .iter()
        .filter_map(|s| ask(s, req))
        .collect()
}

fn human_passphrase(env: &ProcessEnv, why: &str) -> Result<SecretValue, CliError> {
    if let Some(p) = &env.passphrase {
        return Ok(p.clone());
    }
    if prompt::can_prompt() {
        return prompt::passphrase(&format!("Vault passphrase ({why}): "));
    }
    Err(CliError::msg(format!(
        "{why} needs the vault passphrase: run this in a terminal, or set KEYWARD_PASSPHRASE"
    )))
}

fn passphrase_text(p: &SecretValue) -> Result<String, CliError> {
    String::from_utf8(p.expose().to_vec())
        .map_err(|_| CliError::msg("the passphrase is not valid UTF-8"))
}

pub(crate) fn list(paths: &Paths) -> Result<ExitCode, CliError> {
    let replies = ask_all(paths, &Request::Pending);
    if replies.is_empty() {
        println!("no keyward is serving (nothing can be waiting)");
        return Ok(ExitCode::SUCCESS);
    }
    let mut n = 0;
    for r in replies {
        for q in r.pending.unwrap_or_default() {
            n += 1;
            print!("{}", describe(&q));
        }
    }
    if n == 0 {
        println!("no calls are waiting for approval");
    } else {
        println!(
            "\nanswer with `keyward approve ID [--for 5m|1h] [--session]` or `keyward deny ID`"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One question as `keyward approvals` lists it. The serving keyward
/// escaped the agent's texts when it asked ([`keyward_audit::shown`]);
/// each is passed through [`shown`] again, which leaves escaped text as it
/// is and escapes any bidirectional, invisible or control character that
/// still reaches here (from an older keyward, or a socket that is not
/// keyward): none reaches the terminal.
pub(crate) fn describe(q: &QuestionView) -> String {
    let mut s = format!(
        "{}  agent {}  {} ({})\n",
        shown(&q.id),
        shown(&q.agent),
        shown(&q.target),
        shown(&q.kind)
    );
    if let Some(rule) = &q.rule {
        s.push_str(&format!("    rule: {}\n", shown(rule)));
    }
    if let Some(reason) = &q.reason {
        s.push_str(&format!("    reason: {}\n", shown(reason)));
    }
    if let Some(p) = &q.preview {
        s.push_str(&format!("    arguments: {}\n", shown(p)));
    }
    s.push_str(&format!(
        "    \"for a while\" grants: {}\n",
        shown(&q.grants)
    ));
    s.push_str(&format!(
        "    denied at {} unless answered\n",
        shown(&q.deadline)
    ));
    s
}

/// Every question waiting in a running keyward, as `keyward approvals`
/// gets them.
pub(crate) fn pending(paths: &Paths) -> Vec<QuestionView> {
    ask_all(paths, &Request::Pending)
        .into_iter()
        .flat_map(|r| r.pending.unwrap_or_default())
        .collect()
}

/// Sends an answer to whichever keyward holds question `id`, and prints
/// what it says.
fn answer(
    paths: &Paths,
    id: &str,
    answer: String,
    passphrase: Option<String>,
) -> Result<ExitCode, CliError> {
    let said = send_answer(paths, id, answer, passphrase)?;
    println!("{said}");
    Ok(ExitCode::SUCCESS)
}

/// Sends an answer to whichever keyward holds question `id`; what that
/// keyward said (escaped for the terminal).
fn send_answer(
    paths: &Paths,
    id: &str,
    answer: String,
    passphrase: Option<String>,
) -> Result<String, CliError> {
    let req = Request::Answer {
        id: id.to_string(),
        answer,
        passphrase,
    };
    // Find the keyward that holds the question first: the passphrase goes
    // to that one only.
    let holder = sockets(&run_dir(paths)).into_iter().find(|s| {
        ask(s, &Request::Pending)
            .is_some_and(|r| r.pending.unwrap_or_default().iter().any(|q| q.id == id))
    });
    for socket in holder.into_iter() {
        match ask(&socket, &req) {
            Some(r) if r.ok => {
                return Ok(shown(r.message.as_deref().unwrap_or("done")).into_owned());
            }
            Some(r) if r.unknown => continue,
            Some(r) => {
                return Err(CliError::msg(
                    shown(r.error.as_deref().unwrap_or("refused")).into_owned(),
                ));
            }
            None => continue,
        }
    }
    Err(CliError::msg(format!(
        "no running keyward has a question `{id}` waiting (it may have timed out); see `keyward approvals`"
    )))
}

pub(crate) fn approve(
    paths: &Paths,
    env: &ProcessEnv,
    id: &str,
    for_: Option<&str>,
    session: bool,
) -> Result<ExitCode, CliError> {
    let what = match (for_, session) {
        (Some(_), true) => {
            return Err(CliError::msg("give --for DURATION or --session, not both"));
        }
        (Some(d), false) => d.to_string(),
        (None, true) => "session".to_string(),
        (None, false) => "once".to_string(),
    };
    // Reject a bad duration before asking for the passphrase.
    keyward_gateway::approvals::Answer::parse(&what).map_err(CliError::msg)?;
    let p = human_passphrase(env, "to approve the call")?;
    answer(paths, id, what, Some(passphrase_text(&p)?))
}

pub(crate) fn deny(paths: &Paths, id: &str) -> Result<ExitCode, CliError> {
    answer(paths, id, "deny".into(), None)
}

/// What `keyward approve ID` sends with `passphrase` (allow once), without
/// printing: for `keyward demo`. What the keyward that held it said.
pub(crate) fn send_approve_once(
    paths: &Paths,
    id: &str,
    passphrase: &SecretValue,
) -> Result<String, CliError> {
    send_answer(paths, id, "once".into(), Some(passphrase_text(passphrase)?))
}

/// What `keyward deny ID` sends, without printing: for `keyward demo`.
pub(crate) fn send_deny(paths: &Paths, id: &str) -> Result<String, CliError> {
    send_answer(paths, id, "deny".into(), None)
}

pub(crate) fn grants(paths: &Paths) -> Result<ExitCode, CliError> {
    let replies = ask_all(paths, &Request::Grants);
    if replies.is_empty() {
        println!("no keyward is serving (grants live in a serving keyward, and end with it)");
        return Ok(ExitCode::SUCCESS);
    }
    let mut n = 0;
    for r in replies {
        for g in r.grants.unwrap_or_default() {
            n += 1;
            println!(
                "{}  agent {}  {}  until {}  ({})",
                shown(&g.id),
                shown(&g.agent),
                shown(&g.scope),
                shown(&g.until),
                shown(&g.created_by)
            );
            if let Some(reason) = g.reason {
                println!("    reason: {}", shown(&reason));
            }
        }
    }
    if n == 0 {
        println!("no grants");
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn revoke(paths: &Paths, id: Option<&str>, all: bool) -> Result<ExitCode, CliError> {
    if id.is_none() && !all {
        return Err(CliError::msg("name a grant id, or --all"));
    }
    let req = Request::Revoke {
        id: id.map(str::to_string),
        all,
    };
    let replies = ask_all(paths, &req);
    if all {
        for r in &replies {
            println!("{}", shown(r.message.as_deref().unwrap_or_default()));
        }
        if replies.is_empty() {
            println!("no keyward is serving: there are no grants");
        }
        return Ok(ExitCode::SUCCESS);
    }
    match replies.iter().find(|r| r.ok) {
        Some(r) => {
            println!("{}", shown(r.message.as_deref().unwrap_or_default()));
            Ok(ExitCode::SUCCESS)
        }
        None => Err(CliError::msg(format!(
            "no grant `{}` in any running keyward; see `keyward grants`",
            id.unwrap_or_default()
        ))),
    }
}

pub(crate) fn lock(paths: &Paths) -> Result<ExitCode, CliError> {
    // The marker first: a keyward starting meanwhile starts locked.
    let marker = lock_marker(paths);
    keyward_gateway::transport::control::write_marker(&marker, "keyward lock")
        .map_err(|e| CliError::msg(format!("cannot write {}: {e}", marker.display())))?;
    let replies = ask_all(paths, &Request::Lock);
    for r in &replies {
        println!("{}", shown(r.message.as_deref().unwrap_or("locked")));
    }
    // A service this command can see that did not answer: its socket may
    // have been moved away. It will see the marker by itself, but say so.
    let silent = keyward_gateway::transport::http::runfile::read(&paths.data_dir)
        .filter(|info| process_alive(info.pid))
        .filter(|info| !replies.iter().any(|r| r.pid == Some(info.pid)));
    if let Some(info) = &silent {
        eprintln!(
            "keyward: the service at {} (pid {}) did not answer on its control socket ({});              it locks itself when it sees the lock file, within {} s.              Check with `keyward approvals`, or stop it: kill {}",
            info.addr,
            info.pid,
            run_dir(paths)
                .join(format!("serve-{}.sock", info.pid))
                .display(),
            keyward_gateway::transport::control::MARKER_EVERY.as_secs(),
            info.pid
        );
    }
    println!(
        "keyward is locked: every call is denied{} until `keyward unlock`",
        if replies.is_empty() && silent.is_none() {
            " (no keyward is serving now; those started later start locked)"
        } else {
            ""
        }
    );
    Ok(if silent.is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Whether process `pid` exists (Linux's /proc, as [`verify_listener`]).
fn process_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

pub(crate) fn unlock(paths: &Paths, env: &ProcessEnv) -> Result<ExitCode, CliError> {
    let p = human_passphrase(env, "to unlock keyward")?;
    let text = passphrase_text(&p)?;
    let replies = ask_all(
        paths,
        &Request::Unlock {
            passphrase: Some(text),
        },
    );
    if let Some(r) = replies.iter().find(|r| !r.ok) {
        return Err(CliError::msg(
            r.error.clone().unwrap_or_else(|| "refused".into()),
        ));
    }
    if replies.is_empty() {
        // Nobody to ask: check the passphrase here before lifting the marker.
        Vault::open_with_passphrase(&paths.vault_file(), &p)?;
    }
    let _ = std::fs::remove_file(lock_marker(paths));
    println!("keyward is unlocked");
    Ok(ExitCode::SUCCESS)
}

/// For `keyward serve`: starts locked if `keyward lock` left its marker,
/// and opens this process's control socket on `rt`. Call before the
/// gateway serves its first call.
pub(crate) fn start_control(
    paths: &Paths,
    gw: &keyward_gateway::Gateway,
    rt: &tokio::runtime::Handle,
) {
    let marker = lock_marker(paths);
    if marker.exists() {
        keyward_gateway::pipeline::approval::lock(gw.desk(), "lock file");
        tracing::warn!(
            "keyward is locked (`keyward lock`): every call is denied until `keyward unlock`"
        );
    }
    rt.spawn(keyward_gateway::transport::control::watch_marker(
        gw.clone(),
        marker.clone(),
    ));
    let socket = keyward_gateway::transport::control::socket_path(&run_dir(paths));
    let gw = gw.clone();
    rt.spawn(async move {
        if let Err(e) = keyward_gateway::transport::control::serve(gw, socket, marker).await {
            tracing::warn!(error = %e, "the control socket is unavailable: `keyward approve`, `deny`, `grants` and `lock` cannot reach this keyward");
        }
    });
}

/// Removes this process's control socket (at exit).
pub(crate) fn stop_control(paths: &Paths) {
    let _ = std::fs::remove_file(keyward_gateway::transport::control::socket_path(&run_dir(
        paths,
    )));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(bad: &str) -> QuestionView {
        QuestionView {
            id: "q1".into(),
            agent: format!("agent{bad}"),
            kind: "http".into(),
            target: format!("pay: POST /refunds/42?note={bad}"),
            rule: Some(format!("rule{bad}")),
            preview: Some(format!("body: {bad}")),
            reason: Some(format!("reason{bad}")),
            grants: format!("pay: POST {bad}"),
            asked: "2027-01-15T08:00:00Z".into(),
            deadline: "2027-01-15T08:00:20Z".into(),
        }
    }

    /// Even a question that reaches the terminal unescaped (an older
    /// keyward, a fake socket) is printed without a hidden character.
    #[test]
    fn bidi_override_in_reason_is_escaped_in_keyward_approvals() {
        let listed = describe(&view("x\u{202e}\u{2066}\u{200b}\u{2028}\u{1b}[2K\u{2069}y"));
        for line in listed.lines() {
            assert!(
                !line.chars().any(keyward_audit::shown::is_hidden),
                "{line:?}"
            );
        }
        assert_eq!(listed.lines().count(), 6, "{listed}");
        assert!(
            listed.contains(
                "    reason: reasonx\\u{202e}\\u{2066}\\u{200b}\\u{2028}\\u{1b}[2K\\u{2069}y\n"
            ),
            "{listed}"
        );
    }

    /// What the serving keyward escaped is printed as it is.
    #[test]
    fn escaped_text_is_printed_as_sent() {
        let escaped = keyward_audit::shown::escape("C:\\tmp \u{202e}");
        let listed = describe(&view(&escaped));
        assert!(
            listed.contains("reason: reasonC:\\\\tmp \\u{202e}\n"),
            "{listed}"
        );
    }
}
