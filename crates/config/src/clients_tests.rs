//! `[servers.NAME] clients = [...]`: which MCP clients see a server.

use std::path::Path;

use crate::{Config, ConfigDoc, ConfigError, ServerSpec};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("keyward.toml"))
}

fn invalid(text: &str) -> (String, String) {
    match parse(text) {
        Err(ConfigError::Invalid { at, message, .. }) => (at, message),
        other => panic!("expected an invalid config, got {other:?}"),
    }
}

const TWO: &str = r#"
[servers.linear]
command = "npx"
clients = ["claude-desktop"]

[servers.notes]
command = "npx"
clients = ["cursor", "claude-desktop"]

[servers.fs]
command = "npx"
"#;

#[test]
fn a_list_keeps_a_server_to_its_clients_and_no_list_is_every_client() {
    let cfg = parse(TWO).unwrap();
    let (linear, notes, fs) = (
        &cfg.servers["linear"],
        &cfg.servers["notes"],
        &cfg.servers["fs"],
    );
    assert_eq!(
        linear.clients.as_deref(),
        Some(&["claude-desktop".to_string()][..])
    );
    assert_eq!(fs.clients, None);
    assert!(linear.visible_to(Some("claude-desktop")));
    assert!(!linear.visible_to(Some("cursor")));
    assert!(notes.visible_to(Some("cursor")) && notes.visible_to(Some("claude-desktop")));
    assert!(fs.visible_to(Some("cursor")) && fs.visible_to(None));
    // A session that named no client sees only the servers without a list.
    assert!(!linear.visible_to(None) && !notes.visible_to(None));
    // Names are compared exactly.
    assert!(!linear.visible_to(Some("Claude-Desktop")));
}

#[test]
fn an_empty_list_is_refused_with_what_to_do() {
    let (at, message) = invalid("[servers.a]\ncommand = \"x\"\nclients = []\n");
    assert_eq!(at, "servers.a.clients");
    assert!(
        message.contains("hide the server from every client"),
        "{message}"
    );
    assert!(message.contains("remove the key"), "{message}");
}

#[test]
fn client_names_are_checked_and_unique() {
    for bad in [
        "",
        "-cursor",
        "claude desktop",
        "cur\nsor",
        "ä",
        &"a".repeat(65),
    ] {
        let text = format!("[servers.a]\ncommand = \"x\"\nclients = [{bad:?}]\n");
        let (at, message) = invalid(&text);
        assert_eq!(at, "servers.a.clients", "{bad:?}");
        assert!(
            message.contains("invalid client name"),
            "{bad:?}: {message}"
        );
    }
    for good in ["claude-desktop", "cursor", "vscode", "my.agent_2", "Laptop"] {
        let text = format!("[servers.a]\ncommand = \"x\"\nclients = [{good:?}]\n");
        assert!(parse(&text).is_ok(), "{good}");
    }
    let (_, message) =
        invalid("[servers.a]\ncommand = \"x\"\nclients = [\"cursor\", \"cursor\"]\n");
    assert!(message.contains("named twice"), "{message}");
    // Not a list of strings: a type error from the parser.
    assert!(parse("[servers.a]\ncommand = \"x\"\nclients = \"cursor\"\n").is_err());
}

fn doc(text: &str) -> (tempfile::TempDir, ConfigDoc) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyward.toml");
    std::fs::write(&path, text).unwrap();
    let doc = ConfigDoc::load(&path).unwrap();
    (dir, doc)
}

#[test]
fn add_server_writes_the_clients_list() {
    let (_dir, mut d) = doc("");
    d.add_server(&ServerSpec {
        name: "linear".into(),
        command: "npx".into(),
        clients: vec!["claude-desktop".into()],
        ..Default::default()
    })
    .unwrap();
    assert!(
        d.text().contains("clients = [\"claude-desktop\"]"),
        "{}",
        d.text()
    );
    let cfg = d.validate().unwrap();
    assert!(cfg.servers["linear"].visible_to(Some("claude-desktop")));
    // None: no key at all.
    d.add_server(&ServerSpec {
        name: "fs".into(),
        command: "npx".into(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(d.validate().unwrap().servers["fs"].clients, None);
    // A bad name is refused and leaves the document as it was.
    let before = d.text();
    let err = d
        .add_server(&ServerSpec {
            name: "bad".into(),
            command: "npx".into(),
            clients: vec!["no spaces".into()],
            ..Default::default()
        })
        .unwrap_err();
    assert!(err.to_string().contains("invalid client name"), "{err}");
    assert_eq!(d.text(), before);
}

#[test]
fn a_client_is_added_once_and_a_shared_server_stays_shared() {
    let (_dir, mut d) = doc(TWO);
    assert!(d.add_server_client("linear", "cursor").unwrap());
    assert!(!d.add_server_client("linear", "cursor").unwrap(), "twice");
    assert!(
        !d.add_server_client("fs", "cursor").unwrap(),
        "no list: every client sees it"
    );
    let cfg = d.validate().unwrap();
    assert_eq!(
        cfg.servers["linear"].clients.as_deref(),
        Some(&["claude-desktop".to_string(), "cursor".to_string()][..])
    );
    assert_eq!(cfg.servers["fs"].clients, None);
    assert!(matches!(
        d.add_server_client("nope", "cursor"),
        Err(ConfigError::NoSuchServer(_))
    ));
    let before = d.text();
    assert!(d.add_server_client("linear", "bad name").is_err());
    assert_eq!(
        d.text(),
        before,
        "a refused edit leaves the document as it was"
    );
}

#[test]
fn share_server_removes_the_list() {
    let (_dir, mut d) = doc(TWO);
    assert!(d.share_server("notes").unwrap());
    assert!(!d.share_server("notes").unwrap());
    let cfg = d.validate().unwrap();
    assert_eq!(cfg.servers["notes"].clients, None);
    assert!(cfg.servers["notes"].visible_to(None));
    assert!(
        d.text()
            .contains("[servers.linear]\ncommand = \"npx\"\nclients = [\"claude-desktop\"]")
    );
}
