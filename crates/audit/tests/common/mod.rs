//! Shared fixtures for the audit tests.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use keyward_audit::{AuditLog, Event};

/// An event that looks like a real call.
pub fn event(i: usize) -> Event {
    Event {
        agent: "claude-code 1.2.3".into(),
        kind: "http".into(),
        target: "github".into(),
        method: Some("GET".into()),
        path: Some(format!("/repos/acme/widgets/issues/{i}")),
        decision: if i.is_multiple_of(3) {
            "deny".into()
        } else {
            "allow".into()
        },
        rule: i.is_multiple_of(3).then(|| "default-deny".into()),
        status: (!i.is_multiple_of(3)).then_some(200),
        latency_us: Some(1000 + i as u64),
        bytes_received: Some(512),
        redactions: (i % 2) as u64,
        ..Event::default()
    }
}

/// A temp dir and a log path inside a not-yet-existing subdirectory.
pub fn temp_log() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("data").join("audit.jsonl");
    (dir, path)
}

/// A log with `n` records.
pub fn log_with(path: &Path, n: usize) {
    let log = AuditLog::open(path).expect("open");
    for i in 0..n {
        log.append(event(i)).expect("append");
    }
}

pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(str::to_owned)
        .collect()
}

pub fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).expect("write");
}
