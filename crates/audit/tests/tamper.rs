//! `verify` detects each kind of tampering and names the first bad line.

mod common;

use common::{lines, log_with, temp_log, write_lines};
use keyward_audit::{AuditLog, Event, Problem, VerifyError, verify};

fn broken(path: &std::path::Path) -> (u64, Option<u64>, Problem) {
    match verify(path) {
        Err(VerifyError::Broken { line, seq, problem }) => (line, seq, problem),
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[test]
fn intact_log_verifies() {
    let (_dir, path) = temp_log();
    log_with(&path, 10);
    let report = verify(&path).expect("intact");
    assert_eq!(report.records, 10);
    let last: keyward_audit::Record = serde_json::from_str(&lines(&path)[9]).expect("json");
    assert_eq!(report.head, Some(last.hash));
}

#[test]
fn edited_field() {
    let (_dir, path) = temp_log();
    log_with(&path, 6);
    let mut l = lines(&path);
    l[3] = l[3].replace("/issues/3\"", "/issues/9\"");
    write_lines(&path, &l);
    assert_eq!(broken(&path), (4, Some(4), Problem::HashMismatch));
}

#[test]
fn added_field_is_an_edit() {
    let (_dir, path) = temp_log();
    log_with(&path, 3);
    let mut l = lines(&path);
    l[1] = l[1].replacen("{", "{\"approved_by\":\"mallory\",", 1);
    write_lines(&path, &l);
    assert_eq!(broken(&path), (2, Some(2), Problem::HashMismatch));
}

#[test]
fn removed_middle_record() {
    let (_dir, path) = temp_log();
    log_with(&path, 6);
    let mut l = lines(&path);
    l.remove(2);
    write_lines(&path, &l);
    assert_eq!(broken(&path), (3, Some(4), Problem::PrevMismatch));
}

#[test]
fn swapped_records() {
    let (_dir, path) = temp_log();
    log_with(&path, 6);
    let mut l = lines(&path);
    l.swap(3, 4);
    write_lines(&path, &l);
    assert_eq!(broken(&path), (4, Some(5), Problem::PrevMismatch));
}

#[test]
fn truncated_line() {
    let (_dir, path) = temp_log();
    log_with(&path, 5);
    let mut l = lines(&path);
    let cut = l[2].len() / 2;
    l[2].truncate(cut);
    write_lines(&path, &l);
    let (line, seq, problem) = broken(&path);
    assert_eq!((line, seq), (3, None));
    assert!(matches!(problem, Problem::Unparsable(_)), "{problem:?}");
}

#[test]
fn garbled_line_and_blank_line() {
    let (_dir, path) = temp_log();
    log_with(&path, 4);
    let mut l = lines(&path);
    l[1] = "\u{fffd}\u{fffd} not json".into();
    write_lines(&path, &l);
    assert!(matches!(broken(&path), (2, None, Problem::Unparsable(_))));
    let mut l = lines(&path);
    l[1] = String::new();
    write_lines(&path, &l);
    assert!(matches!(broken(&path), (2, None, Problem::Unparsable(_))));
}

#[test]
fn torn_last_line() {
    let (_dir, path) = temp_log();
    log_with(&path, 3);
    let mut text = std::fs::read(&path).expect("read");
    text.truncate(text.len() - 20);
    std::fs::write(&path, &text).expect("write");
    assert_eq!(broken(&path), (3, None, Problem::Unterminated));
}

/// A forged record with a correct hash of its own and the right `prev`:
/// the break shows at the record after it.
#[test]
fn inserted_record() {
    let (dir, path) = temp_log();
    log_with(&path, 5);
    let mut l = lines(&path);
    // Forge a chain of two records in a scratch log, then splice the second
    // (whose prev points at a record with the same hash as line 2) in place.
    let scratch = dir.path().join("scratch.jsonl");
    write_lines(&scratch, &l[..2]);
    let forger = AuditLog::open(&scratch).expect("open scratch");
    forger
        .append(Event {
            decision: "allow".into(),
            target: "forged".into(),
            ..Event::default()
        })
        .expect("forge");
    let forged = lines(&scratch).pop().expect("forged line");
    l.insert(2, forged);
    write_lines(&path, &l);
    assert_eq!(broken(&path), (4, Some(3), Problem::PrevMismatch));
}

#[test]
fn copied_record_inserted() {
    let (_dir, path) = temp_log();
    log_with(&path, 5);
    let mut l = lines(&path);
    let copy = l[0].clone();
    l.insert(3, copy);
    write_lines(&path, &l);
    assert_eq!(broken(&path), (4, Some(1), Problem::PrevMismatch));
}

#[test]
fn removed_first_record() {
    let (_dir, path) = temp_log();
    log_with(&path, 3);
    let mut l = lines(&path);
    l.remove(0);
    write_lines(&path, &l);
    assert_eq!(broken(&path), (1, Some(2), Problem::PrevMismatch));
}

#[test]
fn error_message_names_line_and_seq_not_content() {
    let (_dir, path) = temp_log();
    log_with(&path, 3);
    let mut l = lines(&path);
    l[1] = l[1].replace("/repos/acme", "/repos/kw_canary_x");
    write_lines(&path, &l);
    let msg = verify(&path).expect_err("broken").to_string();
    assert!(msg.contains("line 2") && msg.contains("seq 2"), "{msg}");
    assert!(!msg.contains("kw_canary"), "{msg}");
}

/// The documented jq + sha256sum recipe agrees with `verify`.
#[test]
fn shell_recipe_in_the_docs_works() {
    let have = |cmd: &str| {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {cmd}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !(have("jq") && have("sha256sum")) {
        eprintln!("skipped: jq or sha256sum not installed");
        return;
    }
    let (_dir, path) = temp_log();
    log_with(&path, 4);
    let script = r#"prev=0000000000000000000000000000000000000000000000000000000000000000
n=0
while IFS= read -r line; do
  n=$((n+1))
  h=$(printf '%s' "$line" | sed -E 's/,"hash":"[0-9a-f]{64}"}$/}/' | sha256sum | cut -d' ' -f1)
  stored=$(printf '%s' "$line" | jq -r .hash)
  [ "$h" = "$stored" ] || echo "line $n: edited"
  [ "$prev" = "$(printf '%s' "$line" | jq -r .prev)" ] || echo "line $n: chain broken"
  prev=$stored
done < "$1""#;
    let run = |p: &std::path::Path| {
        let out = std::process::Command::new("sh")
            .args(["-c", script, "sh"])
            .arg(p)
            .output()
            .expect("sh");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(run(&path), "");
    let mut l = lines(&path);
    l[2] = l[2].replace("\"GET\"", "\"PUT\"");
    write_lines(&path, &l);
    assert_eq!(run(&path), "line 3: edited\n");
}
