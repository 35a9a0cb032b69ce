//! Appending, reopening, reading, and the file's protection.

mod common;

use common::{event, lines, log_with, temp_log};
use keyward_audit::{AuditError, AuditLog, Event, GENESIS_PREV, read_last, read_records, verify};

#[test]
fn append_then_verify_round_trip() {
    let (_dir, path) = temp_log();
    let log = AuditLog::open(&path).expect("open");
    assert_eq!(log.path(), path);
    let mut returned = Vec::new();
    for i in 0..20 {
        returned.push(log.append(event(i)).expect("append"));
    }
    assert_eq!(returned[0].seq, 1);
    assert_eq!(returned[0].prev, GENESIS_PREV);
    for pair in returned.windows(2) {
        assert_eq!(pair[1].prev, pair[0].hash);
        assert_eq!(pair[1].seq, pair[0].seq + 1);
    }
    assert_eq!(read_records(&path).expect("read"), returned);
    assert_eq!(verify(&path).expect("verify").records, 20);
    assert_eq!(read_last(&path, 3).expect("tail"), returned[17..]);
    assert_eq!(read_last(&path, 100).expect("tail"), returned);
    assert!(read_last(&path, 0).expect("tail").is_empty());
}

#[test]
fn empty_log_verifies() {
    let (_dir, path) = temp_log();
    AuditLog::open(&path).expect("open");
    let report = verify(&path).expect("verify");
    assert_eq!((report.records, report.head), (0, None));
    assert!(read_records(&path).expect("read").is_empty());
    assert!(read_last(&path, 5).expect("read").is_empty());
}

#[test]
fn reopen_continues_the_chain() {
    let (_dir, path) = temp_log();
    log_with(&path, 3);
    let log = AuditLog::open(&path).expect("reopen");
    let record = log.append(event(3)).expect("append");
    assert_eq!(record.seq, 4);
    let third: keyward_audit::Record = serde_json::from_str(&lines(&path)[2]).expect("json");
    assert_eq!(record.prev, third.hash);
    assert_eq!(verify(&path).expect("verify").records, 4);
}

#[cfg(unix)]
#[test]
fn file_is_0600_and_new_dirs_0700() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, path) = temp_log();
    log_with(&path, 1);
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().expect("parent")), 0o700);
    // An existing file readable by others is tightened on open.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    AuditLog::open(&path).expect("open");
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn records_hold_nothing_but_the_event() {
    let (_dir, path) = temp_log();
    let log = AuditLog::open(&path).expect("open");
    let hostile = Event {
        path: Some("/x\n{\"seq\":999}\r\n\u{2028}\"}".into()),
        error: Some("upstream said [REDACTED]".into()),
        ..event(1)
    };
    log.append(hostile.clone()).expect("append");
    let text = std::fs::read_to_string(&path).expect("read");
    assert_eq!(
        text.matches('\n').count(),
        1,
        "agent text cannot start a new line"
    );
    assert!(
        !text.contains("kw_canary"),
        "no canary that was not in the event"
    );
    assert_eq!(read_records(&path).expect("read")[0].event, hostile);
    // And a canary that *is* in the event shows up verbatim, so the check above can fail.
    log.append(Event {
        error: Some("kw_canary_in_event".into()),
        ..event(2)
    })
    .expect("append");
    assert!(
        std::fs::read_to_string(&path)
            .expect("read")
            .contains("kw_canary_in_event")
    );
    verify(&path).expect("verify");
}

#[test]
fn malformed_line_is_named() {
    let (_dir, path) = temp_log();
    log_with(&path, 4);
    let mut l = lines(&path);
    l[2] = "{\"seq\":\"three\"}".into();
    common::write_lines(&path, &l);
    match read_records(&path) {
        Err(AuditError::Malformed { line, .. }) => assert_eq!(line, 3),
        other => panic!("{other:?}"),
    }
    match read_last(&path, 2) {
        Err(AuditError::Malformed { line, detail, .. }) => {
            assert_eq!(line, 3);
            assert!(
                !detail.contains("three"),
                "no content in messages: {detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(read_last(&path, 1).expect("last line is fine").len(), 1);
}

#[test]
fn torn_tail_is_refused_not_extended() {
    let (_dir, path) = temp_log();
    log_with(&path, 2);
    let log = AuditLog::open(&path).expect("open");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    std::io::Write::write_all(&mut f, b"{\"seq\":3,\"ts\":").expect("tear");
    assert!(matches!(
        log.append(event(3)),
        Err(AuditError::TornTail { .. })
    ));
    assert!(matches!(
        AuditLog::open(&path),
        Err(AuditError::TornTail { .. })
    ));
    assert!(matches!(
        read_last(&path, 1),
        Err(AuditError::TornTail { .. })
    ));
}

#[test]
fn shrunk_file_is_refused() {
    let (_dir, path) = temp_log();
    let log = AuditLog::open(&path).expect("open");
    for i in 0..3 {
        log.append(event(i)).expect("append");
    }
    let l = lines(&path);
    common::write_lines(&path, &l[..1]);
    assert!(matches!(
        log.append(event(9)),
        Err(AuditError::Shrunk { .. })
    ));
    // A fresh open refuses it too: the head file says the log had 3
    // records (appending would hide the cut by moving the head).
    assert!(matches!(
        AuditLog::open(&path),
        Err(AuditError::Cut {
            last: 1,
            head: 3,
            ..
        })
    ));
}

#[test]
fn missing_file_is_an_error_for_readers() {
    let (_dir, path) = temp_log();
    assert!(matches!(read_records(&path), Err(AuditError::Io { .. })));
    assert!(matches!(
        verify(&path),
        Err(keyward_audit::VerifyError::Io { .. })
    ));
}

/// The gateway asks before acting whether a record could be written; a log
/// cut short or ending in a torn line says no, and a healthy one yes, also
/// after another process appended.
#[test]
fn preflight_refuses_a_shrunk_or_torn_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = keyward_audit::AuditLog::open(&path).unwrap();
    log.preflight().unwrap();
    log.append(keyward_audit::Event::default()).unwrap();
    let other = keyward_audit::AuditLog::open(&path).unwrap();
    other.append(keyward_audit::Event::default()).unwrap();
    log.preflight().unwrap();

    let good = std::fs::read(&path).unwrap();
    std::fs::write(&path, &good[..good.len() / 2]).unwrap();
    assert!(matches!(
        log.preflight(),
        Err(keyward_audit::AuditError::Shrunk { .. })
    ));

    std::fs::write(&path, &good).unwrap();
    log.preflight().unwrap();
    let mut torn = good.clone();
    torn.extend_from_slice(b"{\"seq\":3");
    std::fs::write(&path, &torn).unwrap();
    assert!(matches!(
        log.preflight(),
        Err(keyward_audit::AuditError::TornTail { .. })
    ));
}
