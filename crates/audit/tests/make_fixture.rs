//! Writes tests/fixtures/v0.9-audit.jsonl with today's string-typed Event.
//! Run once, before the fields became enums: `KW_FIXTURE=path cargo test -p keyward-audit --test make_fixture -- --ignored`.

use keyward_audit::{AuditLog, Event};

fn ev(agent: &str, kind: &str, target: &str, decision: &str) -> Event {
    Event {
        agent: agent.into(),
        kind: kind.into(),
        target: target.into(),
        decision: decision.into(),
        ..Event::default()
    }
}

#[test]
#[ignore]
fn make() {
    let path = std::env::var("KW_FIXTURE").expect("KW_FIXTURE");
    let log = AuditLog::open(std::path::Path::new(&path)).expect("open");
    let a = "claude-code 1.2.3";
    let mut events = vec![
        Event {
            method: Some("GET".into()),
            path: Some("/repos/acme/widgets".into()),
            status: Some(200),
            latency_us: Some(1834),
            bytes_sent: Some(0),
            bytes_received: Some(5120),
            redactions: 1,
            ..ev(a, "http", "github", "allow")
        },
        Event {
            method: Some("DELETE".into()),
            path: Some("/repos/acme/widgets".into()),
            rule: Some("deny DELETE /repos/**".into()),
            error: Some("denied: DELETE /repos/acme/widgets matches deny rule".into()),
            ..ev(a, "http", "github", "deny")
        },
        Event {
            method: Some("GET".into()),
            path: Some("/search".into()),
            rule: Some("allow GET /** (rate 10/min)".into()),
            error: Some("rate limited: retry in 12s".into()),
            ..ev(a, "http", "github", "rate_limited")
        },
        Event {
            approval: Some("q-7f3a".into()),
            rule: Some("confirm POST /repos/*/issues".into()),
            args: Some("reason: file the bug".into()),
            ..ev(a, "approval", "github POST /repos/acme/widgets/issues", "asked")
        },
        Event {
            approval: Some("q-7f3a".into()),
            channel: Some("elicitation".into()),
            ..ev(a, "approval", "github POST /repos/acme/widgets/issues", "allow once")
        },
        Event {
            approval: Some("q-8b01".into()),
            channel: Some("dashboard".into()),
            ..ev(a, "approval", "github POST /repos/acme/widgets/issues", "allow for the session (grant g-19ce)")
        },
        Event {
            approval: Some("q-8b02".into()),
            channel: Some("cli".into()),
            ..ev(a, "approval", "linear_query", "allow for 5m (grant g-20aa)")
        },
        Event {
            approval: Some("q-8b03".into()),
            channel: Some("timeout".into()),
            ..ev(a, "approval", "run_command deploy", "deny")
        },
        Event {
            approval: Some("q-8b04".into()),
            channel: Some("lock".into()),
            ..ev(a, "approval", "run_command deploy", "deny")
        },
        Event {
            approval: Some("q-8b05".into()),
            channel: Some("replay".into()),
            ..ev(a, "approval", "run_command deploy", "deny")
        },
        Event {
            method: Some("POST".into()),
            path: Some("/repos/acme/widgets/issues".into()),
            status: Some(201),
            channel: Some("grant g-19ce".into()),
            ..ev(a, "http", "github", "allow")
        },
        Event {
            tool: Some("create_issue".into()),
            latency_us: Some(90210),
            ..ev(a, "tool", "linear", "allow")
        },
        Event {
            args: Some("deploy --env prod".into()),
            error: Some("error: program changed since it was pinned".into()),
            ..ev(a, "command", "deploy", "error")
        },
        ev(a, "resource", "docs", "allow"),
        ev(a, "prompt", "docs", "deny"),
        Event {
            run: Some("r-1/alerts".into()),
            error: Some("stopped at step `alerts`: denied".into()),
            ..ev(a, "workflow", "triage", "deny")
        },
        Event {
            args: Some("reason: need to read the wiki".into()),
            ..ev(a, "access", "wiki", "allow")
        },
        ev("dashboard", "admin", "keyward", "lock"),
        ev("control socket", "admin", "keyward", "unlock"),
        ev("control socket", "admin", "keyward", "wrong_passphrase"),
        Event {
            rule: Some("grant g-20aa".into()),
            ..ev("control socket", "admin", "keyward", "revoke")
        },
        Event {
            channel: Some("dashboard".into()),
            ..ev("dashboard", "admin", "dashboard", "login")
        },
        Event {
            channel: Some("dashboard".into()),
            ..ev("dashboard", "admin", "dashboard", "login_failed")
        },
        Event {
            channel: Some("dashboard".into()),
            ..ev("dashboard", "admin", "dashboard", "revoke grant g-19ce")
        },
        Event {
            channel: Some("dashboard".into()),
            ..ev("dashboard", "admin", "dashboard", "revoke all (2 grant(s))")
        },
        Event {
            channel: Some("dashboard".into()),
            ..ev("dashboard", "admin", "dashboard", "logout")
        },
        Event {
            rule: Some("serving approved sha256:0a1b2c3d".into()),
            error: Some("not approved: +0 -1 lines".into()),
            ..ev("keyward serve", "config", "keyward.toml", "pending")
        },
        Event {
            rule: Some("sha256:4e5f6a7b".into()),
            ..ev("keyward config approve", "config", "keyward.toml", "approved")
        },
        Event {
            error: Some("wrong passphrase: nothing approved".into()),
            ..ev("keyward config approve", "config", "keyward.toml", "deny")
        },
        // What a newer keyward might write: every field unknown to this one.
        Event {
            channel: Some("pager".into()),
            ..ev(a, "teleport", "mars", "quarantined")
        },
        // The same words, a hair off: they stay as written.
        Event {
            channel: Some("Dashboard".into()),
            ..ev(a, "HTTP", "github", "allow once (grant )")
        },
        Event {
            channel: Some("grant ".into()),
            ..ev(a, "", "github", "revoke all (02 grant(s))")
        },
        Event {
            channel: Some("".into()),
            ..ev(a, "tool\u{202e}", "github", "allow for  (grant g\" \\ \n)")
        },
    ];
    for e in events.drain(..) {
        log.append(e).expect("append");
    }
}
