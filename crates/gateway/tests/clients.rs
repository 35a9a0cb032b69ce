//! `[servers.NAME] clients = [...]`: a server the session's client does not
//! see is, for that session, not configured. Checked once, in the route
//! stage, for every kind: a call to it is refused the way the kind refuses
//! a name it does not know, recorded with the `clients` list as its rule,
//! and the server is never started for it.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns fail the test the same way

use std::path::Path;

use keyward_audit::AuditLog;
use keyward_config::Config;
use keyward_gateway::Gateway;
use keyward_gateway::pipeline::kind::prompt::GetPrompt;
use keyward_gateway::pipeline::kind::tool::UpstreamTool;
use keyward_gateway::pipeline::session::{Asker, Session};
use keyward_gateway::pipeline::{Call, run, workflow};
use keyward_gateway::servers::PinStore;
use keyward_vault::{KdfParams, SecretValue, Vault};
use serde_json::{Map, Value};

/// Servers whose programs do not exist: each is unavailable (with the
/// reason) to the clients that see it, and unknown to the others, who
/// must not learn even that.
const TOML: &str = r#"
[servers.mine]
command = "/nonexistent/keyward-test/mine"
clients = ["cursor"]
prompts = "allow"
tools = { "*" = "allow" }

[servers.theirs]
command = "/nonexistent/keyward-test/theirs"
clients = ["claude-desktop"]
prompts = "allow"
tools = { "*" = "allow" }

[servers.shared]
command = "/nonexistent/keyward-test/shared"
tools = { "*" = "allow" }

[workflows.theirs_flow]
description = "one step on their server"

[[workflows.theirs_flow.steps]]
id = "add"
call = { tool = "theirs__add" }
"#;

struct Fixture {
    dir: tempfile::TempDir,
    gw: Gateway,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let vault_path = dir.path().join("vault.kw");
    let pass = SecretValue::from_str("test passphrase");
    let vault = Vault::create(&vault_path, &pass, KdfParams::for_tests()).unwrap();
    let config = Config::parse(TOML, Path::new("keyward.toml")).unwrap();
    let audit = AuditLog::open(&dir.path().join("audit.jsonl")).unwrap();
    let pins = PinStore::open(
        &dir.path().join("pins.json"),
        vault.sealer(),
        config.servers.keys().cloned(),
    )
    .unwrap();
    let env = std::collections::BTreeMap::from([("PATH".to_string(), "/usr/bin:/bin".to_string())]);
    let gw = Gateway::following(config, vault, &env, audit, pins).unwrap();
    Fixture { dir, gw }
}

impl Fixture {
    fn records(&self) -> Vec<Map<String, Value>> {
        std::fs::read_to_string(self.dir.path().join("audit.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn session(client: Option<&str>) -> Session {
    Session {
        agent: "tester".into(),
        id: "session-1".into(),
        asker: Asker::Nobody,
        client: client.map(String::from),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn field<'a>(r: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    r.get(name).and_then(Value::as_str)
}

#[test]
fn each_client_sees_its_own_servers_and_the_shared_ones() {
    let f = fixture();
    let tables = &f.gw.stages().tables;
    let names = |client| {
        let s = session(client);
        tables
            .servers_for(&s)
            .map(|(n, _)| n.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(Some("cursor")), ["mine", "shared"]);
    assert_eq!(names(Some("claude-desktop")), ["shared", "theirs"]);
    // No --client: only the servers without a `clients` list.
    assert_eq!(names(None), ["shared"]);
}

#[test]
fn a_call_to_another_clients_server_is_refused_as_unknown_and_recorded() {
    let f = fixture();
    let rt = runtime();
    let st = f.gw.stages();
    let cursor = session(Some("cursor"));
    let hidden = rt
        .block_on(run::<UpstreamTool>(
            st,
            &Call::new(&cursor, "theirs__add", None),
        ))
        .expect_err("refused");
    assert_eq!(
        hidden.text,
        "error: unknown tool `theirs__add`; call list_services, or list the tools again"
    );
    // Its own client is told what is wrong with it.
    let desktop = session(Some("claude-desktop"));
    let own = rt
        .block_on(run::<UpstreamTool>(
            st,
            &Call::new(&desktop, "theirs__add", None),
        ))
        .expect_err("no such program");
    assert!(
        own.text
            .starts_with("error: server `theirs` is unavailable: cannot find"),
        "{}",
        own.text
    );
    // A session without --client does not see it either.
    let none = rt
        .block_on(run::<UpstreamTool>(
            st,
            &Call::new(&session(None), "mine__x", None),
        ))
        .expect_err("refused");
    assert!(
        none.text.starts_with("error: unknown tool `mine__x`"),
        "{}",
        none.text
    );
    // A prompt of it: refused as a prompt nobody passes on.
    let prompt = rt
        .block_on(run::<GetPrompt>(st, &Call::new(&cursor, "theirs__p", None)))
        .expect_err("refused");
    assert_eq!(
        prompt.text,
        "denied: no server whose prompts keyward passes on has this prompt"
    );

    let records = f.records();
    let seen: Vec<_> = records
        .iter()
        .map(|r| (field(r, "kind"), field(r, "target"), field(r, "decision")))
        .collect();
    assert_eq!(
        seen,
        [
            (Some("tool"), Some("theirs"), Some("error")),
            (Some("tool"), Some("theirs"), Some("error")),
            (Some("tool"), Some("mine"), Some("error")),
            (Some("prompt"), Some("theirs"), Some("deny")),
        ]
    );
    assert_eq!(
        field(&records[0], "rule"),
        Some(r#"clients = ["claude-desktop"] (this session: cursor)"#)
    );
    assert_eq!(field(&records[1], "rule"), None);
    assert_eq!(
        field(&records[2], "rule"),
        Some(r#"clients = ["cursor"] (this session: no --client)"#)
    );
}

#[test]
fn a_workflow_over_another_clients_server_is_neither_listed_nor_run() {
    let f = fixture();
    let rt = runtime();
    let st = f.gw.stages();
    let cursor = session(Some("cursor"));
    let listed = |s: &Session| {
        workflow::definitions(st, s)
            .into_iter()
            .map(|t| t.name.to_string())
            .collect::<Vec<_>>()
    };
    assert!(listed(&cursor).is_empty());
    assert_eq!(listed(&session(Some("claude-desktop"))), ["theirs_flow"]);
    let ran = rt.block_on(workflow::run_workflow(st, &cursor, "theirs_flow", None));
    assert!(ran.is_error);
    assert_eq!(
        ran.text,
        "error: unknown tool `theirs_flow`; call list_services, or list the tools again"
    );
    let records = f.records();
    assert_eq!(records.len(), 1, "the run is refused before any step");
    assert_eq!(field(&records[0], "kind"), Some("workflow"));
    assert_eq!(field(&records[0], "decision"), Some("error"));
}
