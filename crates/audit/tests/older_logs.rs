//! Logs written before `kind`, `decision` and `channel` had types still
//! verify, read, and read back byte for byte.
//!
//! The fixtures in `tests/fixtures/` were written by keyward before the
//! change (commit 57b1217 and the main binary of that day):
//! - `v0-audit.jsonl`: by the string-typed `AuditLog` of that commit
//!   (`tests/make_fixture.rs`, removed since): every kind, decision and
//!   channel keyward wrote, plus words it did not know and near misses;
//! - `main-*.jsonl`: by the `keyward` binary itself, kept from the Python
//!   approval tests (a grant and its use, a lock and unlock, a revoke).

use std::path::{Path, PathBuf};

use keyward_audit::{
    Allowance, AuditLog, Channel, Decision, Event, Kind, Record, read_records, verify,
};

const FIXTURES: [(&str, u64); 4] = [
    ("v0-audit.jsonl", 33),
    ("main-grant-audit.jsonl", 6),
    ("main-lock-audit.jsonl", 10),
    ("main-revoke-audit.jsonl", 9),
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A copy of fixture `name` and its head file, to verify or extend.
fn copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    std::fs::copy(fixture(name), &path).expect("copy log");
    let head = format!("{name}.head");
    std::fs::copy(fixture(&head), dir.path().join("audit.jsonl.head")).expect("copy head");
    (dir, path)
}

fn records(name: &str) -> Vec<Record> {
    let (_dir, path) = copy(name);
    read_records(&path).expect("read")
}

#[test]
fn logs_written_before_the_typed_fields_still_verify() {
    for (name, n) in FIXTURES {
        let (_dir, path) = copy(name);
        let report = verify(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.records, n, "{name}");
    }
}

#[test]
fn every_line_an_older_keyward_wrote_reads_back_byte_for_byte() {
    for (name, _) in FIXTURES {
        let text = std::fs::read_to_string(fixture(name)).expect("read");
        let records = records(name);
        assert_eq!(records.len(), text.lines().count());
        for (line, record) in text.lines().zip(&records) {
            let again = serde_json::to_string(record).expect("json");
            assert_eq!(again, line, "{name} #{}", record.seq);
        }
    }
}

#[test]
fn an_old_log_with_an_unknown_decision_still_reads() {
    let records = records("v0-audit.jsonl");
    let future = records
        .iter()
        .find(|r| r.event.target == "mars")
        .expect("the newer keyward's record");
    assert_eq!(future.event.kind, Kind::Other("teleport".into()));
    assert_eq!(future.event.decision, Decision::Other("quarantined".into()));
    assert_eq!(future.event.channel, Some(Channel::Other("pager".into())));
}

#[test]
fn near_misses_of_known_words_stay_other_and_unchanged() {
    let records = records("v0-audit.jsonl");
    let tail: Vec<&Event> = records[records.len() - 3..]
        .iter()
        .map(|r| &r.event)
        .collect();
    assert_eq!(tail[0].kind, Kind::Other("HTTP".into()));
    assert_eq!(tail[0].channel, Some(Channel::Other("Dashboard".into())));
    // An empty grant id is still a grant: it is written back the same.
    assert_eq!(
        tail[0].decision,
        Decision::Allowed {
            allowance: Allowance::Once,
            grant: Some(String::new())
        }
    );
    assert_eq!(tail[1].kind, Kind::Other(String::new()));
    assert_eq!(tail[1].channel, Some(Channel::Grant(String::new())));
    assert_eq!(
        tail[1].decision,
        Decision::Other("revoke all (02 grant(s))".into())
    );
    assert_eq!(tail[2].kind, Kind::Other("tool\u{202e}".into()));
    assert_eq!(tail[2].channel, Some(Channel::Other(String::new())));
}

#[test]
fn the_words_keyward_wrote_read_as_their_variants() {
    let records = records("v0-audit.jsonl");
    let kinds: Vec<&Kind> = records.iter().map(|r| &r.event.kind).collect();
    for k in [
        Kind::Http,
        Kind::Tool,
        Kind::Command,
        Kind::Resource,
        Kind::Prompt,
        Kind::Workflow,
        Kind::Access,
        Kind::Approval,
        Kind::Admin,
        Kind::Config,
    ] {
        assert!(kinds.contains(&&k), "{k} not in the fixture");
    }
    let decisions: Vec<&Decision> = records.iter().map(|r| &r.event.decision).collect();
    for d in [
        Decision::Allow,
        Decision::Deny,
        Decision::RateLimited,
        Decision::Error,
        Decision::Asked,
        Decision::Lock,
        Decision::Unlock,
        Decision::WrongPassphrase,
        Decision::Revoke,
        Decision::Login,
        Decision::LoginFailed,
        Decision::Logout,
        Decision::Pending,
        Decision::Approved,
        Decision::Allowed {
            allowance: Allowance::Once,
            grant: None,
        },
        Decision::Allowed {
            allowance: Allowance::Session,
            grant: Some("g-19ce".into()),
        },
        Decision::Allowed {
            allowance: Allowance::For("5m".into()),
            grant: Some("g-20aa".into()),
        },
        Decision::RevokeGrant("g-19ce".into()),
        Decision::RevokeAll(2),
    ] {
        assert!(decisions.contains(&&d), "{d} not in the fixture");
    }
    let channels: Vec<&Channel> = records
        .iter()
        .filter_map(|r| r.event.channel.as_ref())
        .collect();
    for c in [
        Channel::Elicitation,
        Channel::Dashboard,
        Channel::Cli,
        Channel::Timeout,
        Channel::Lock,
        Channel::Replay,
        Channel::Grant("g-19ce".into()),
    ] {
        assert!(channels.contains(&&c), "{c} not in the fixture");
    }
}

#[test]
fn the_main_binarys_grant_records_read_typed() {
    let records = records("main-grant-audit.jsonl");
    assert_eq!(
        records[3].event.decision,
        Decision::Allowed {
            allowance: Allowance::For("5m".into()),
            grant: Some("09525d9371260351".into()),
        }
    );
    assert_eq!(records[3].event.channel, Some(Channel::Elicitation));
    assert_eq!(
        records[5].event.channel,
        Some(Channel::Grant("09525d9371260351".into()))
    );
}

#[test]
fn new_records_continue_an_old_chain() {
    for (name, n) in FIXTURES {
        let (_dir, path) = copy(name);
        let log = AuditLog::open(&path).expect("open");
        let record = log
            .append(Event {
                agent: "claude-code 1.2.3".into(),
                kind: Kind::Http,
                target: "github".into(),
                decision: Decision::Allow,
                channel: Some(Channel::Grant("g-1".into())),
                ..Event::default()
            })
            .expect("append");
        assert_eq!(record.seq, n + 1);
        assert_eq!(verify(&path).expect("verify").records, n + 1, "{name}");
        let last = std::fs::read_to_string(&path).expect("read");
        let last = last.lines().last().expect("a line");
        assert!(
            last.contains(r#""kind":"http","target":"github","decision":"allow","#)
                && last.contains(r#""channel":"grant g-1""#),
            "{last}"
        );
    }
}
