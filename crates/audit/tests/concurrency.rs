//! Several threads, and several independent `AuditLog`s on one file (as two
//! keyward processes would have), never lose a record or fork the chain.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::thread;

use common::{event, temp_log};
use keyward_audit::{AuditLog, read_records, verify};

const THREADS: usize = 8;
const PER_THREAD: usize = 40;

/// Runs `THREADS` threads appending through the logs in turn; returns the
/// hashes of every record `append` returned.
fn hammer(logs: &[Arc<AuditLog>]) -> BTreeSet<String> {
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let log = Arc::clone(&logs[t % logs.len()]);
            thread::spawn(move || {
                (0..PER_THREAD)
                    .map(|i| log.append(event(t * 1000 + i)).expect("append").hash)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().expect("thread"))
        .collect()
}

fn check(path: &std::path::Path, returned: &BTreeSet<String>, before: usize) {
    let total = before + THREADS * PER_THREAD;
    assert_eq!(verify(path).expect("chain intact").records, total as u64);
    let records = read_records(path).expect("read");
    let seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=total as u64).collect::<Vec<_>>());
    let on_disk: BTreeSet<String> = records[before..].iter().map(|r| r.hash.clone()).collect();
    assert_eq!(&on_disk, returned, "every returned record is on disk, once");
}

#[test]
fn threads_sharing_one_log() {
    let (_dir, path) = temp_log();
    let log = Arc::new(AuditLog::open(&path).expect("open"));
    let returned = hammer(&[log]);
    check(&path, &returned, 0);
}

#[test]
fn two_logs_on_the_same_file() {
    let (_dir, path) = temp_log();
    common::log_with(&path, 5);
    let a = Arc::new(AuditLog::open(&path).expect("open a"));
    let b = Arc::new(AuditLog::open(&path).expect("open b"));
    let returned = hammer(&[a, b]);
    check(&path, &returned, 5);
}

#[test]
fn alternating_instances_continue_each_other() {
    let (_dir, path) = temp_log();
    let a = AuditLog::open(&path).expect("open a");
    let b = AuditLog::open(&path).expect("open b");
    let r1 = a.append(event(1)).expect("a");
    let r2 = b.append(event(2)).expect("b");
    let r3 = a.append(event(3)).expect("a again");
    assert_eq!((r2.seq, r2.prev.as_str()), (2, r1.hash.as_str()));
    assert_eq!((r3.seq, r3.prev.as_str()), (3, r2.hash.as_str()));
    verify(&path).expect("intact");
}
