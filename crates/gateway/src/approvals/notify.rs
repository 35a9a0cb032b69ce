//! The optional desktop notification: `notify-send` where it is installed
//! and a desktop session is there to show it.

use std::process::{Command, Stdio};

use super::question::Question;

/// Shows a notification about `q`, pointing to where it can be answered.
/// Best effort: a missing `notify-send` or desktop is not an error. The
/// text is the scrubbed question (no secret reaches the argv).
pub fn notify_desktop(q: &Question, dashboard: Option<&str>) {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return;
    }
    // `shown`: the question's texts were escaped when it was asked; this
    // keeps it so for any question.
    let mut body: String = format!(
        "{} wants {}",
        keyward_audit::shown::shown(&q.agent),
        keyward_audit::shown::shown(&q.target)
    )
    .chars()
    .take(200)
    .collect();
    match dashboard {
        Some(url) => body.push_str(&format!("\nAnswer at {url} or with `keyward approvals`")),
        None => body.push_str("\nAnswer with `keyward approvals`"),
    }
    let spawned = Command::new("notify-send")
        .args(["--app-name=keyward", "keyward: approval needed", &body])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Ok(mut child) = spawned {
        // Reap it in the background; never wait on a desktop.
        std::thread::spawn(move || {
            let _ = child.wait();
        });
    }
}
