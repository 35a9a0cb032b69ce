//! The head file catches what the chain alone cannot: records cut off the
//! end. Regression for the review finding "audit verify misses records
//! removed from the end".

mod common;

use common::{lines, log_with, temp_log, write_lines};
use keyward_audit::{AuditLog, HeadProblem, VerifyError, verify};

fn head_problem(path: &std::path::Path) -> HeadProblem {
    match verify(path) {
        Err(VerifyError::Head { problem }) => problem,
        other => panic!("expected a head problem, got {other:?}"),
    }
}

fn head_file(path: &std::path::Path) -> std::path::PathBuf {
    let mut p = path.as_os_str().to_os_string();
    p.push(".head");
    p.into()
}

#[test]
fn records_cut_off_the_end_are_detected() {
    let (_dir, path) = temp_log();
    log_with(&path, 6);
    assert_eq!(verify(&path).expect("intact").records, 6);
    let mut l = lines(&path);
    l.truncate(4);
    write_lines(&path, &l);
    let p = head_problem(&path);
    assert_eq!(p, HeadProblem::Truncated { last: 4, head: 6 });
    assert!(p.to_string().contains("records 5 to 6 were removed"), "{p}");
}

#[test]
fn emptied_log_is_detected() {
    let (_dir, path) = temp_log();
    log_with(&path, 3);
    std::fs::write(&path, "").expect("truncate");
    assert_eq!(
        head_problem(&path),
        HeadProblem::Truncated { last: 0, head: 3 }
    );
}

#[test]
fn a_rewritten_last_record_is_detected_even_with_a_valid_chain() {
    // Cut the last two records and append two new genuine-looking ones
    // through the appender: the chain is valid again, the head is not.
    let (_dir, path) = temp_log();
    log_with(&path, 5);
    let head_before = std::fs::read(head_file(&path)).expect("head");
    let mut l = lines(&path);
    l.truncate(3);
    write_lines(&path, &l);
    std::fs::write(head_file(&path), "").expect("the cutter empties the head too");
    log_with(&path, 2);
    std::fs::write(head_file(&path), head_before).expect("restore the old head");
    assert_eq!(head_problem(&path), HeadProblem::Mismatch { seq: 5 });
}

#[test]
fn a_missing_or_garbled_head_fails_verification() {
    let (_dir, path) = temp_log();
    log_with(&path, 2);
    std::fs::write(head_file(&path), "{\"seq\": \"x\"}").expect("garble");
    assert_eq!(head_problem(&path), HeadProblem::Unreadable);
    std::fs::remove_file(head_file(&path)).expect("rm");
    assert_eq!(head_problem(&path), HeadProblem::Missing);
    // Opening the log for appending anchors what is there again.
    drop(AuditLog::open(&path).expect("open"));
    assert_eq!(verify(&path).expect("anchored").records, 2);
}

#[test]
fn the_head_follows_every_append_and_an_empty_log_needs_none() {
    let (_dir, path) = temp_log();
    drop(AuditLog::open(&path).expect("create"));
    assert_eq!(
        verify(&path).expect("an empty log needs no head").records,
        0
    );
    for n in 1..=3 {
        log_with(&path, 1);
        assert_eq!(verify(&path).expect("intact").records, n);
    }
}
