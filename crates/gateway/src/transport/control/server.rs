//! Serving the control socket.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use keyward_vault::SecretValue;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use super::protocol::{GrantView, QuestionView, Reply, Request};
use crate::Gateway;
use crate::approvals::{Answer, AnswerError, Channel, PassphraseError};
use crate::pipeline::approval::{lock, record_admin, settle, unlock};

/// The largest request line read.
const MAX_REQUEST: u64 = 64 * 1024;

/// This process's socket in `run_dir`.
pub fn socket_path(run_dir: &Path) -> PathBuf {
    run_dir.join(format!("serve-{}.sock", std::process::id()))
}

/// Every keyward socket in `run_dir` (live or stale).
pub fn sockets(run_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(run_dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("serve-") && n.ends_with(".sock"))
        })
        .collect();
    out.sort();
    out
}

/// Serves the control socket at `socket` until the task is dropped.
/// `lock_marker` is the file that keeps keyward locked across restarts.
pub async fn serve(gw: Gateway, socket: PathBuf, lock_marker: PathBuf) -> io::Result<()> {
    if let Some(dir) = socket.parent() {
        keyward_fsio::ensure_private_dir(dir).map_err(keyward_fsio::Error::into_io)?;
    }
    // A socket left by a process with our pid that died is stale.
    let _ = std::fs::remove_file(&socket);
    let listener = UnixListener::bind(&socket)?;
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))?;
    loop {
        let (conn, _) = listener.accept().await?;
        let (gw, marker) = (gw.clone(), lock_marker.clone());
        tokio::spawn(async move {
            if let Err(e) = handle(&gw, conn, &marker).await {
                tracing::debug!(error = %e, "control connection failed");
            }
        });
    }
}

async fn handle(gw: &Gateway, conn: UnixStream, marker: &Path) -> io::Result<()> {
    let (read, mut write) = conn.into_split();
    let mut line = String::new();
    BufReader::new(read.take(MAX_REQUEST))
        .read_line(&mut line)
        .await?;
    let reply = match serde_json::from_str::<Request>(line.trim()) {
        Ok(req) => {
            line.clear();
            tracing::debug!(op = req.redacted_op(), "control request");
            dispatch(gw, req, marker).await
        }
        Err(e) => Reply::error(format!("bad request: {e}")),
    };
    let mut out = serde_json::to_vec(&reply).unwrap_or_else(|_| b"{\"ok\":false}".to_vec());
    out.push(b'\n');
    write.write_all(&out).await?;
    write.shutdown().await
}

/// What the human's passphrase must unlock: checked by this keyward.
async fn human(gw: &Gateway, passphrase: Option<String>) -> Result<(), String> {
    let Some(check) = gw.passphrase() else {
        return Err("this keyward cannot check a passphrase".into());
    };
    let p = SecretValue::new(passphrase.unwrap_or_default().into_bytes());
    match check.verify(&p).await {
        Ok(()) => Ok(()),
        Err(PassphraseError::Wrong) => {
            record_admin(
                gw.desk(),
                "control socket",
                keyward_audit::Decision::WrongPassphrase,
                None,
            );
            Err("wrong passphrase".into())
        }
        Err(e) => Err(e.to_string()),
    }
}

async fn dispatch(gw: &Gateway, req: Request, marker: &Path) -> Reply {
    let approvals = gw.approvals();
    match req {
        Request::Status => Reply {
            ok: true,
            pid: Some(std::process::id()),
            locked: Some(approvals.is_locked()),
            message: gw.dashboard_url(),
            ..Reply::default()
        },
        Request::Pending => Reply {
            ok: true,
            pid: Some(std::process::id()),
            pending: Some(approvals.pending().iter().map(QuestionView::from).collect()),
            ..Reply::default()
        },
        Request::Answer {
            id,
            answer,
            passphrase,
        } => {
            let answer = match Answer::parse(&answer) {
                Ok(a) => a,
                Err(e) => return Reply::error(e),
            };
            if !approvals.pending().iter().any(|q| q.id == id) {
                return Reply {
                    unknown: true,
                    ..Reply::error(AnswerError::Unknown(id).to_string())
                };
            }
            // Saying no needs no proof; saying yes needs the human.
            if answer.allows()
                && let Err(e) = human(gw, passphrase).await
            {
                return Reply::error(e);
            }
            match settle(gw.desk(), &id, answer, Channel::Cli) {
                Ok((q, r)) => Reply {
                    message: Some(format!(
                        "{}: {}{}",
                        q.target,
                        r.answer,
                        r.grant.map(|g| format!(" (grant {g})")).unwrap_or_default()
                    )),
                    ..Reply::ok()
                },
                Err(e) => Reply::error(e.to_string()),
            }
        }
        Request::Grants => Reply {
            ok: true,
            grants: Some(approvals.grants().iter().map(GrantView::from).collect()),
            ..Reply::default()
        },
        Request::Revoke { id, all } => {
            let what = if all {
                "all grants".to_string()
            } else {
                format!(
                    "grant {}",
                    crate::pipeline::audit::printable(id.as_deref().unwrap_or(""), 64)
                )
            };
            record_admin(
                gw.desk(),
                "control socket",
                keyward_audit::Decision::Revoke,
                Some(what),
            );
            if all {
                let n = approvals.revoke_all();
                return Reply {
                    message: Some(format!("revoked {n} grant(s)")),
                    ..Reply::ok()
                };
            }
            let Some(id) = id else {
                return Reply::error("name a grant id, or all");
            };
            if approvals.revoke(&id) {
                Reply {
                    message: Some(format!("revoked grant {id}")),
                    ..Reply::ok()
                }
            } else {
                Reply {
                    unknown: true,
                    ..Reply::error(format!("no grant `{id}`"))
                }
            }
        }
        Request::Lock => {
            let denied = lock(gw.desk(), "control socket");
            let marked = write_marker(marker, "control socket");
            Reply {
                pid: Some(std::process::id()),
                locked: Some(true),
                message: Some(format!(
                    "locked; {denied} waiting call(s) denied{}",
                    marked
                        .err()
                        .map(|e| format!(" (could not write {}: {e})", marker.display()))
                        .unwrap_or_default()
                )),
                ..Reply::ok()
            }
        }
        Request::Unlock { passphrase } => {
            if let Err(e) = human(gw, passphrase).await {
                return Reply::error(e);
            }
            // The marker first: the marker watch must not lock this
            // keyward again between the unlock and the removal.
            let _ = std::fs::remove_file(marker);
            unlock(gw.desk(), "control socket");
            Reply {
                locked: Some(false),
                message: Some("unlocked".into()),
                ..Reply::ok()
            }
        }
    }
}

/// How often a running keyward looks for the lock marker by itself.
pub const MARKER_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Locks this keyward when the lock marker appears, whether or not the
/// control socket was reached: an agent can move the socket away so that
/// `keyward lock` cannot find it, but not stop this keyward from looking
/// (SECURITY.md item 11). The marker only ever locks; unlocking needs the
/// passphrase. Runs until the gateway is dropped by everyone else.
pub async fn watch_marker(gw: Gateway, marker: PathBuf) {
    let weak = gw.downgrade();
    drop(gw);
    loop {
        tokio::time::sleep(MARKER_EVERY).await;
        let Some(gw) = weak.upgrade() else {
            return;
        };
        if !gw.approvals().is_locked() && marker.exists() {
            let denied = lock(gw.desk(), "lock file");
            tracing::warn!(
                denied,
                "keyward is locked (its lock file appeared): every call is denied until `keyward unlock`"
            );
        }
    }
}

/// The marker that keeps keyward locked across restarts (`DATA/locked`,
/// 0600), saying when and by what it was written.
pub fn write_marker(marker: &Path, by: &str) -> io::Result<()> {
    if let Some(dir) = marker.parent() {
        keyward_fsio::create_private_dir(dir).map_err(keyward_fsio::Error::into_io)?;
    }
    let text = format!("locked at {} ({by})\n", jiff::Timestamp::now());
    keyward_fsio::write_private(marker, text.as_bytes()).map_err(keyward_fsio::Error::into_io)
}
