//! The library path `keyward scan` and `keyward import` share: known
//! locations from a hand-built [`Context`], read from a temporary home.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns fail the test the same way

use std::fs;
use std::path::Path;

use keyward_migrate::locate::{Client, Context, Platform, known_configs};
use keyward_migrate::scan::{self, Target};
use keyward_migrate::walk;
use proptest::prelude::*;

const GHP: &str = "ghp_Zq8xYvB2R4nd0mT0kenW1thNoW0rdsInItQ7";

fn write(p: &Path, text: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn ctx(home: &Path, cwd: &Path, platform: Platform) -> Context {
    Context {
        home: home.to_path_buf(),
        cwd: cwd.to_path_buf(),
        platform,
        appdata: None,
        xdg_config_home: None,
    }
}

#[test]
fn a_linux_home_and_a_project() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, proj) = (tmp.path().join("h"), tmp.path().join("p"));
    write(
        &home.join(".config/zed/settings.json"),
        &format!(
            "// zed\n{{\"context_servers\": {{\"gh\": {{\"command\": \"x\", \"env\": {{\"GITHUB_TOKEN\": \"{GHP}\",}},}},}},}}\n"
        ),
    );
    write(
        &home.join(".codex/config.toml"),
        &format!("[mcp_servers.gh.env]\nGITHUB_TOKEN = \"{GHP}\"\n"),
    );
    write(
        &proj.join(".mcp.json"),
        r#"{"mcpServers": {"x": {"env": {"T": "${T}"}}}}"#,
    );
    let known = known_configs(&ctx(&home, &proj, Platform::Linux));
    let targets: Vec<Target> = known.iter().map(Target::known).collect();
    let out = scan::run(&targets);
    assert_eq!(out.checked, known.len());
    assert_eq!(out.scanned.len(), 3);
    assert!(out.errors.is_empty());
    let got: Vec<(String, &str, Option<usize>)> = out
        .findings
        .iter()
        .map(|f| (f.path.clone(), f.rule, f.line))
        .collect();
    assert_eq!(
        got,
        [
            (
                "context_servers.gh.env.GITHUB_TOKEN".to_string(),
                "github-pat",
                Some(2)
            ),
            (
                "mcp_servers.gh.env.GITHUB_TOKEN".to_string(),
                "github-pat",
                Some(2)
            ),
        ]
    );
    // Which client each finding's file belongs to.
    let client_of = |f: &Path| known.iter().find(|k| k.path == f).map(|k| k.client);
    assert_eq!(client_of(&out.findings[0].file), Some(Client::Zed));
    assert_eq!(client_of(&out.findings[1].file), Some(Client::Codex));
}

#[test]
fn a_macos_home() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("h");
    write(
        &home.join("Library/Application Support/Claude/claude_desktop_config.json"),
        &format!(r#"{{"mcpServers": {{"gh": {{"env": {{"GITHUB_TOKEN": "{GHP}"}}}}}}}}"#),
    );
    let known = known_configs(&ctx(&home, tmp.path(), Platform::MacOs));
    let out = scan::run(&known.iter().map(Target::known).collect::<Vec<_>>());
    assert_eq!(out.findings.len(), 1);
    assert_eq!(out.exit_code(), 1);
}

#[test]
fn a_broken_known_config_is_an_error_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("h");
    write(
        &home.join(".cursor/mcp.json"),
        &format!("{{\"a\": \"{GHP}\" ]"),
    );
    let known = known_configs(&ctx(&home, tmp.path(), Platform::Linux));
    let out = scan::run(&known.iter().map(Target::known).collect::<Vec<_>>());
    assert_eq!(out.errors.len(), 1);
    assert!(!out.errors[0].to_string().contains(&GHP[4..]));
    assert_eq!(out.exit_code(), 2);
}

proptest! {
    /// Hostile files never panic the walkers, and every string of a JSON
    /// document is one leaf with its exact value.
    #[test]
    fn walkers_take_any_text(text in "\\PC{0,300}") {
        let _ = walk::leaves(&text, keyward_migrate::locate::Format::Jsonc);
        let _ = walk::leaves(&text, keyward_migrate::locate::Format::Toml);
        let _ = walk::env_leaves(&text);
    }

    #[test]
    fn json_strings_round_trip(keys in proptest::collection::vec("\\PC{0,12}", 1..6), value in "\\PC{0,40}") {
        let mut obj = serde_json::Map::new();
        for (i, k) in keys.iter().enumerate() {
            obj.insert(k.clone(), serde_json::Value::String(format!("{value}{i}")));
        }
        let text = serde_json::to_string_pretty(&serde_json::Value::Object(obj.clone())).unwrap();
        let leaves = walk::leaves(&text, keyward_migrate::locate::Format::Json).unwrap();
        prop_assert_eq!(leaves.len(), obj.len());
        for l in &leaves {
            let walk::PathSeg::Key(k) = &l.path[0] else { panic!("not a key") };
            prop_assert_eq!(Some(&serde_json::Value::String(l.value.clone())), obj.get(k));
        }
    }
}
