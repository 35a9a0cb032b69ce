//! `read_from`: following a log as it grows (`keyward audit --follow`).

mod common;

use std::io::Write;

use common::{log_with, temp_log};
use keyward_audit::{AuditError, AuditLog, Event, read_from};

#[test]
fn read_from_returns_only_what_was_appended_since() {
    let (_dir, path) = temp_log();
    log_with(&path, 3);
    let (first, offset) = read_from(&path, 0).expect("read");
    assert_eq!(first.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(read_from(&path, offset).expect("read").0, []);
    AuditLog::open(&path)
        .expect("open")
        .append(Event {
            agent: "late".into(),
            ..Event::default()
        })
        .expect("append");
    let (more, next) = read_from(&path, offset).expect("read");
    assert_eq!(more.len(), 1);
    assert_eq!((more[0].seq, more[0].event.agent.as_str()), (4, "late"));
    assert!(next > offset);
}

#[test]
fn a_line_still_being_written_waits_for_the_next_read() {
    let (_dir, path) = temp_log();
    log_with(&path, 1);
    let (_, offset) = read_from(&path, 0).expect("read");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    f.write_all(b"{\"seq\":2,").expect("write");
    let (none, same) = read_from(&path, offset).expect("read");
    assert!(none.is_empty());
    assert_eq!(same, offset);
}

#[test]
fn a_log_that_shrank_is_an_error() {
    let (_dir, path) = temp_log();
    log_with(&path, 2);
    let (_, offset) = read_from(&path, 0).expect("read");
    std::fs::write(&path, b"").expect("truncate");
    assert!(matches!(
        read_from(&path, offset),
        Err(AuditError::Shrunk { .. })
    ));
}
