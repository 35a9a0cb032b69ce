//! The import planner: names, modes, what it refuses to move.

#![allow(clippy::unwrap_used)]

use keyward_migrate::locate::{Client, Format};
use keyward_migrate::plan::{
    self, Mode, NameState, Names, Options, ToolPolicy, WrappedServer, plan_file, server_name,
};
use keyward_vault::SecretValue;
use proptest::prelude::*;

const PAT: &str = "ghp_R7kLq2VxN9mWc4TzH8bYf3JdS6gPa1eUo5Xi";

/// Names with a scripted vault and keyward.toml.
#[derive(Default)]
struct Fake {
    vault: Vec<(String, SecretValue)>,
    servers: Vec<String>,
}

impl Names for Fake {
    fn secret(&mut self, name: &str, value: &SecretValue) -> NameState {
        match self.vault.iter().find(|(n, _)| n == name) {
            Some((_, v)) if v == value => NameState::Same,
            Some(_) => NameState::Taken,
            None => {
                self.vault.push((name.into(), value.clone()));
                NameState::Free
            }
        }
    }
    fn server(&mut self, s: &WrappedServer) -> NameState {
        if self.servers.contains(&s.name) {
            NameState::Taken
        } else {
            self.servers.push(s.name.clone());
            NameState::Free
        }
    }
}

fn opts(mode: Mode) -> Options {
    Options {
        mode,
        policy: ToolPolicy::Confirm,
        keyward_command: "/usr/bin/keyward".into(),
        keyward_env: vec![],
        renames: vec![],
        client: None,
        args: false,
    }
}

fn cursor(env: &str) -> String {
    format!(
        r#"{{"mcpServers": {{"GitHub": {{"command": "npx", "args": ["-y", "gh"], "env": {env}}}}}}}"#
    )
}

#[test]
fn taken_names_get_a_suffix_and_same_values_are_reused() {
    let text = cursor(&format!(r#"{{"GITHUB_TOKEN": "{PAT}"}}"#));
    let mut names = Fake {
        vault: vec![(
            "github.GITHUB_TOKEN".into(),
            SecretValue::from_str("another value"),
        )],
        servers: vec!["github".into()],
    };
    let p = plan_file(
        &text,
        Format::Json,
        Some(Client::Cursor),
        &opts(Mode::Wrap),
        &mut names,
    )
    .unwrap();
    assert_eq!(p.secrets.len(), 1);
    assert_eq!(p.secrets[0].name, "github.GITHUB_TOKEN-2");
    assert_eq!(p.servers[0].name, "github-2");
    assert_eq!(
        p.servers[0].env,
        [(
            "GITHUB_TOKEN".to_string(),
            "keyward://github.GITHUB_TOKEN-2".to_string()
        )]
    );

    // The vault already holds this very value under the name: reused, not stored again.
    let mut names = Fake {
        vault: vec![("github.GITHUB_TOKEN".into(), SecretValue::from_str(PAT))],
        ..Fake::default()
    };
    let p = plan_file(
        &text,
        Format::Json,
        Some(Client::Cursor),
        &opts(Mode::Wrap),
        &mut names,
    )
    .unwrap();
    assert!(p.secrets.is_empty());
    assert!(p.servers[0].env[0].1.ends_with("//github.GITHUB_TOKEN"));
    assert!(!p.new_text.contains(PAT));
}

#[test]
fn run_mode_rewrites_in_place_and_a_remote_server_is_wrapped_instead() {
    let text = format!(
        r#"{{"mcpServers": {{
            "gh": {{"command": "npx", "args": ["gh"], "env": {{"GITHUB_TOKEN": "{PAT}", "MODE": "ro"}}}},
            "remote": {{"url": "https://mcp.example.com/mcp", "headers": {{"Authorization": "Bearer {PAT}x"}}}}
        }}}}"#
    );
    let p = plan_file(
        &text,
        Format::Json,
        None,
        &opts(Mode::Run),
        &mut Fake::default(),
    )
    .unwrap();
    assert!(!p.new_text.contains(PAT), "{}", p.new_text);
    assert!(
        p.new_text.contains(r#""args": ["run", "--", "npx", "gh"]"#),
        "{}",
        p.new_text
    );
    assert!(p.new_text.contains(r#""MODE": "ro""#));
    assert_eq!(p.servers.len(), 1, "only the remote server is wrapped");
    assert_eq!(
        p.servers[0].headers,
        [(
            "Authorization".to_string(),
            "Bearer keyward://remote.Authorization".to_string()
        )]
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("cannot start through `keyward run`"))
    );
    let stored: Vec<&str> = p.secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(stored, ["gh.GITHUB_TOKEN", "remote.Authorization"]);
    assert_eq!(
        p.secrets[1].value.expose(),
        format!("{PAT}x").as_bytes(),
        "the scheme word stays in the header"
    );
}

#[test]
fn references_placeholders_and_keyward_entries_are_left_alone() {
    let text = r#"{"mcpServers": {
        "a": {"command": "npx", "env": {"GITHUB_TOKEN": "keyward://gh"}},
        "b": {"command": "npx", "env": {"GITHUB_TOKEN": "ghp_your_token_here"}},
        "c": {"command": "npx", "env": {"GITHUB_TOKEN": "${GITHUB_TOKEN}"}},
        "keyward": {"command": "/opt/bin/keyward", "args": ["run", "--", "x"], "env": {"T": "ghp_R7kLq2VxN9mWc4TzH8bYf3JdS6gPa1eUo5Xi"}}
    }}"#;
    let p = plan_file(
        text,
        Format::Json,
        None,
        &opts(Mode::Wrap),
        &mut Fake::default(),
    )
    .unwrap();
    assert!(!p.changes_file() && p.secrets.is_empty() && p.skipped.is_empty());
    assert_eq!(p.new_text, text);
}

#[test]
fn a_secret_argument_keeps_the_whole_server_in_place() {
    let text = format!(
        r#"{{"mcpServers": {{"s": {{"command": "npx", "args": ["--api-key", "{PAT}"], "env": {{"OTHER_TOKEN": "{PAT}y"}}}}}}}}"#
    );
    let p = plan_file(
        &text,
        Format::Json,
        None,
        &opts(Mode::Wrap),
        &mut Fake::default(),
    )
    .unwrap();
    assert!(!p.changes_file() && p.secrets.is_empty());
    assert!(p.skipped[0].reason.contains("args[1]"), "{:?}", p.skipped);
    // The skip says how to move it, and what that trades.
    let why = &p.skipped[0].reason;
    assert!(why.contains("`keyward import --args`"), "{why}");
    assert!(why.contains(plan::ARGS_TRADE_OFF), "{why}");
}

const PG_PASSWORD: &str = "Wq7rT2mZp9LkX4vB";

fn postgres() -> String {
    format!(
        r#"{{"mcpServers": {{"postgres": {{"command": "npx", "args": ["-y", "@modelcontextprotocol/server-postgres", "postgresql://app:{PG_PASSWORD}@db.internal:5432/app"]}}}}}}"#
    )
}

/// issue 12, item 9: `--args` moves the database URL of
/// `server-postgres` (its only argument) to the vault, whole.
#[test]
fn with_args_a_secret_argument_moves_whole_and_gets_a_reference() {
    let mut o = opts(Mode::Wrap);
    o.args = true;
    let p = plan_file(&postgres(), Format::Json, None, &o, &mut Fake::default()).unwrap();
    assert!(p.skipped.is_empty(), "{:?}", p.skipped);
    let url = format!("postgresql://app:{PG_PASSWORD}@db.internal:5432/app");
    assert_eq!(p.secrets.len(), 1);
    assert_eq!(p.secrets[0].name, "postgres.args.2");
    assert_eq!(p.secrets[0].value, SecretValue::from_str(&url));
    assert_eq!(p.secrets[0].from, "mcpServers.postgres.args[2]");
    assert_eq!(
        p.servers[0].args,
        [
            "-y",
            "@modelcontextprotocol/server-postgres",
            "keyward://postgres.args.2"
        ]
    );
    assert!(p.masked.contains(&SecretValue::from_str(&url)));
    assert!(!p.new_text.contains(PG_PASSWORD), "{}", p.new_text);
    // The trade-off is said with the plan.
    let note = p.notes.join("\n");
    assert!(
        note.contains("args[2] = `keyward://postgres.args.2`"),
        "{note}"
    );
    assert!(note.contains(plan::ARGS_TRADE_OFF), "{note}");
    assert!(!format!("{p:?}").contains(PG_PASSWORD));
}

#[test]
fn with_args_a_flag_names_the_value_and_env_secrets_move_too() {
    let text = format!(
        r#"{{"mcpServers": {{"s": {{"command": "npx", "args": ["--api-key", "{PAT}"], "env": {{"OTHER_TOKEN": "{PAT}y"}}}}}}}}"#
    );
    let mut o = opts(Mode::Wrap);
    o.args = true;
    let p = plan_file(&text, Format::Json, None, &o, &mut Fake::default()).unwrap();
    let names: Vec<&str> = p.secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["s.api-key", "s.OTHER_TOKEN"]);
    assert_eq!(p.servers[0].args, ["--api-key", "keyward://s.api-key"]);
    assert_eq!(
        p.servers[0].env,
        [(
            "OTHER_TOKEN".to_string(),
            "keyward://s.OTHER_TOKEN".to_string()
        )]
    );
    assert!(!p.new_text.contains(PAT));
}

#[test]
fn with_args_in_run_mode_the_server_is_left_and_told_why() {
    let mut o = opts(Mode::Run);
    o.args = true;
    let p = plan_file(&postgres(), Format::Json, None, &o, &mut Fake::default()).unwrap();
    assert!(!p.changes_file() && p.secrets.is_empty());
    let why = &p.skipped[0].reason;
    assert!(why.starts_with("args[2] holds a secret"), "{why}");
    assert!(why.contains("`--mode wrap`"), "{why}");
}

#[test]
fn the_user_can_name_a_vault_entry() {
    let text = cursor(&format!(r#"{{"GITHUB_TOKEN": "{PAT}"}}"#));
    let mut o = opts(Mode::Wrap);
    o.renames = vec![("github.GITHUB_TOKEN".into(), "gh_pat".into())];
    let p = plan_file(&text, Format::Json, None, &o, &mut Fake::default()).unwrap();
    assert_eq!(p.secrets[0].name, "gh_pat");
    assert_eq!(p.servers[0].env[0].1, "keyward://gh_pat");
}

#[test]
fn read_only_policy_has_no_catch_all() {
    let rules = ToolPolicy::ReadOnly.rules();
    assert!(rules.iter().all(|(p, a)| *a == "allow" && p != "*"));
    assert!(rules.iter().any(|(p, _)| p == "get_*"));
    assert_eq!(ToolPolicy::Confirm.rules(), [("*".to_string(), "confirm")]);
    assert_eq!(plan::READ_VERBS.len() * 2, rules.len());
}

proptest! {
    /// Whatever a client calls a server, keyward's name for it is one
    /// keyward.toml accepts: 1-64 of [a-z0-9_-], starting with a letter or
    /// digit, no `__`, no trailing `_`.
    #[test]
    fn server_names_are_always_valid(name in "\\PC{0,80}") {
        let n = server_name(&name);
        prop_assert!(!n.is_empty() && n.len() <= 64);
        prop_assert!(n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'));
        prop_assert!(n.as_bytes()[0].is_ascii_alphanumeric());
        prop_assert!(!n.contains("__") && !n.ends_with('_'));
    }
}

#[test]
fn debug_of_a_plan_shows_no_value() {
    // A secret argument stays in the new text; a plain literal goes to keyward.toml.
    let text = format!(
        r#"{{"mcpServers": {{
            "a": {{"command": "npx", "env": {{"GITHUB_TOKEN": "{PAT}", "DB_HOST": "kw_canary_literal_host"}}}},
            "b": {{"command": "npx", "args": ["--api-key", "{PAT}z"]}}
        }}}}"#
    );
    let p = plan_file(
        &text,
        Format::Json,
        None,
        &opts(Mode::Wrap),
        &mut Fake::default(),
    )
    .unwrap();
    assert!(
        p.new_text.contains(&format!("{PAT}z")),
        "the argument secret is left in place"
    );
    let shown = format!("{p:?}");
    assert!(
        !shown.contains(PAT) && !shown.contains("kw_canary_literal_host"),
        "{shown}"
    );
}

// === keeping each client to its own servers ===

fn for_client(mode: Mode, client: &str) -> Options {
    Options {
        client: Some(client.into()),
        ..opts(mode)
    }
}

#[test]
fn a_client_kept_to_its_servers_gets_serve_client_and_its_servers_name_it() {
    let text = cursor(&format!(r#"{{"GITHUB_TOKEN": "{PAT}"}}"#));
    let p = plan_file(
        &text,
        Format::Json,
        Some(Client::Cursor),
        &for_client(Mode::Wrap, "cursor"),
        &mut Fake::default(),
    )
    .unwrap();
    assert_eq!(p.client.as_deref(), Some("cursor"));
    assert_eq!(p.servers[0].clients, ["cursor"]);
    assert!(
        p.new_text
            .contains(r#""args": ["serve", "--client", "cursor"]"#),
        "{}",
        p.new_text
    );

    // Shared: no list, and the entry starts plain `keyward serve`.
    let p = plan_file(
        &text,
        Format::Json,
        Some(Client::Cursor),
        &opts(Mode::Wrap),
        &mut Fake::default(),
    )
    .unwrap();
    assert_eq!(p.client, None);
    assert!(p.servers[0].clients.is_empty());
    assert!(
        p.new_text.contains(r#""args": ["serve"]"#),
        "{}",
        p.new_text
    );
}

#[test]
fn a_keyward_entry_the_file_had_gets_the_client_or_names_it() {
    let with_entry = |args: &str| {
        format!(
            r#"{{"mcpServers": {{
                "keyward": {{"command": "/opt/keyward", "args": {args}, "env": {{"KEYWARD_HOME": "/h"}}}},
                "gh": {{"command": "npx", "args": ["gh"], "env": {{"GITHUB_TOKEN": "{PAT}"}}}}
            }}}}"#
        )
    };
    // `serve` without --client would not see the servers now kept to
    // the client: it gets `--client`, keeping its other arguments.
    let text = with_entry(r#"["serve", "--verbose"]"#);
    let p = plan_file(
        &text,
        Format::Json,
        None,
        &for_client(Mode::Wrap, "claude-desktop"),
        &mut Fake::default(),
    )
    .unwrap();
    assert!(
        p.new_text
            .contains(r#""args": ["serve", "--client", "claude-desktop", "--verbose"]"#),
        "{}",
        p.new_text
    );
    assert!(p.new_text.contains(r#""command": "/opt/keyward""#));
    assert!(p.new_text.contains(r#""KEYWARD_HOME": "/h""#));
    assert_eq!(
        p.new_text.matches("\"keyward\"").count(),
        1,
        "{}",
        p.new_text
    );

    // An entry that names its client already: that is the file's client.
    let text = with_entry(r#"["serve", "--client", "my-desktop"]"#);
    let p = plan_file(
        &text,
        Format::Json,
        None,
        &for_client(Mode::Wrap, "claude-desktop"),
        &mut Fake::default(),
    )
    .unwrap();
    assert_eq!(p.client.as_deref(), Some("my-desktop"));
    assert_eq!(p.servers[0].clients, ["my-desktop"]);
    assert!(
        p.new_text
            .contains(r#"["serve", "--client", "my-desktop"]"#)
    );

    // Shared: the entry is left as it was.
    let text = with_entry(r#"["serve"]"#);
    let p = plan_file(
        &text,
        Format::Json,
        None,
        &opts(Mode::Wrap),
        &mut Fake::default(),
    )
    .unwrap();
    assert!(
        p.new_text.contains(r#""args": ["serve"]"#),
        "{}",
        p.new_text
    );

    // `--mode run` wraps nothing: the entry is left as it was.
    let p = plan_file(
        &text,
        Format::Json,
        None,
        &for_client(Mode::Run, "claude-desktop"),
        &mut Fake::default(),
    )
    .unwrap();
    assert!(
        p.new_text.contains(r#""args": ["serve"]"#),
        "{}",
        p.new_text
    );
}

#[test]
fn serve_client_reads_both_spellings() {
    let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        plan::serve_client(&a(&["serve", "--client", "cursor"])),
        Some("cursor")
    );
    assert_eq!(
        plan::serve_client(&a(&["serve", "--client=zed"])),
        Some("zed")
    );
    assert_eq!(plan::serve_client(&a(&["serve"])), None);
    assert_eq!(plan::serve_client(&a(&["run", "--client", "x"])), None);
    assert_eq!(plan::serve_client(&a(&["serve", "--client"])), None);
    assert_eq!(
        plan::serve_args(Some("vscode")),
        ["serve", "--client", "vscode"]
    );
    assert_eq!(plan::serve_args(None), ["serve"]);
}

#[test]
fn codex_toml_entry_gets_the_client_too() {
    let text =
        format!("[mcp_servers.gh]\ncommand = \"npx\"\nenv = {{ GITHUB_TOKEN = \"{PAT}\" }}\n");
    let p = plan_file(
        &text,
        Format::Toml,
        Some(Client::Codex),
        &for_client(Mode::Wrap, "codex"),
        &mut Fake::default(),
    )
    .unwrap();
    assert!(
        p.new_text
            .contains(r#"args = ["serve", "--client", "codex"]"#),
        "{}",
        p.new_text
    );
}
