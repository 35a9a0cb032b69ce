use keyward_policy::Action;
use keyward_vault::SecretRef;

use crate::{Config, ConfigDoc, ConfigError, EnvValue, ServerSpec, ServerTransport};

const HINT: &str = "# \"get_*\" = \"allow\"  — no pattern: every tool is denied";

fn github() -> ServerSpec {
    ServerSpec {
        name: "github".into(),
        command: "npx".into(),
        args: vec!["-y".into(), "@modelcontextprotocol/server-github".into()],
        env: vec![
            (
                "GITHUB_PERSONAL_ACCESS_TOKEN".into(),
                "keyward://github_pat".into(),
            ),
            ("LOG_LEVEL".into(), "info".into()),
        ],
        ..Default::default()
    }
}

const EXISTING: &str = r#"# my notes

[services.stripe]
base_url = "https://api.stripe.com"   # stripe comment

[servers.fs]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-filesystem", "/home/me"]

[servers.fs.tools]
"read_*" = "allow"
# "write_file" = "confirm"            fs trailing comment

# about gh
[commands.gh]
program = "gh"
args = ["issue *"]
# end of file note
"#;

fn setup(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyward.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn add_server_appends_with_an_empty_tools_table_and_keeps_comments() {
    let (_dir, path) = setup(EXISTING);
    let mut doc = ConfigDoc::load(&path).unwrap();
    doc.add_server(&github()).unwrap();
    doc.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    // Everything that was there is still there, in the same order, and
    // the new server comes after all of it.
    assert!(text.starts_with(EXISTING), "{text}");
    let added = &text[EXISTING.len()..];
    assert!(
        added.contains("[servers.github]\ncommand = \"npx\"\n"),
        "{added}"
    );
    assert!(
        added.contains(&format!("[servers.github.tools]\n{HINT}\n")),
        "{added}"
    );
    let cfg = Config::load(&path).unwrap();
    let gh = &cfg.servers["github"];
    assert!(gh.tools.is_empty(), "no pattern: every tool denied");
    let ServerTransport::Stdio { args, env, .. } = &gh.transport else {
        panic!("stdio expected");
    };
    assert_eq!(args.len(), 2);
    assert_eq!(
        env["GITHUB_PERSONAL_ACCESS_TOKEN"],
        EnvValue::Secret(SecretRef::Vault("github_pat".into()))
    );
    assert_eq!(env["LOG_LEVEL"], EnvValue::Literal("info".into()));
    assert_eq!(cfg.servers["fs"].tools[0].action, Action::Allow);

    // Removing it again gives back the original file exactly.
    let mut doc = ConfigDoc::load(&path).unwrap();
    doc.remove_server("github").unwrap();
    doc.save().unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), EXISTING);
}

#[test]
fn remove_server_keeps_the_comments_around_it() {
    let (_dir, path) = setup(EXISTING);
    let mut doc = ConfigDoc::load(&path).unwrap();
    doc.remove_server("fs").unwrap();
    doc.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("server-filesystem"), "{text}");
    assert!(!text.contains("read_*"), "{text}");
    for kept in [
        "# my notes",
        "# stripe comment",
        "# about gh\n[commands.gh]",
        "# end of file note",
    ] {
        assert!(text.contains(kept), "{kept} lost:\n{text}");
    }
    // A comment the user wrote after the server's tools is not deleted.
    assert!(text.contains("fs trailing comment"), "{text}");
    Config::load(&path).unwrap();
    assert!(matches!(
        ConfigDoc::load(&path).unwrap().remove_server("fs"),
        Err(ConfigError::NoSuchServer(_))
    ));
}

#[test]
fn add_server_validates_and_leaves_the_document_unchanged_on_error() {
    let (_dir, path) = setup(EXISTING);
    let mut doc = ConfigDoc::load(&path).unwrap();
    let dup = doc.add_server(&ServerSpec {
        name: "fs".into(),
        command: "x".into(),
        ..Default::default()
    });
    assert!(matches!(dup, Err(ConfigError::ServerExists(_))));
    let cases = [
        (
            ServerSpec {
                name: "a__b".into(),
                command: "x".into(),
                ..Default::default()
            },
            "name",
        ),
        (
            ServerSpec {
                name: "ok".into(),
                command: "./relative".into(),
                ..Default::default()
            },
            "servers.ok.command",
        ),
        (
            ServerSpec {
                env: vec![("T".into(), "keyward://bad name".into())],
                ..github()
            },
            "servers.github.env.T",
        ),
        (
            ServerSpec {
                env: vec![("T".into(), "a".into()), ("T".into(), "b".into())],
                ..github()
            },
            "--env",
        ),
    ];
    for (spec, want) in cases {
        match doc.add_server(&spec) {
            Err(ConfigError::Invalid { at, .. }) => assert_eq!(at, want),
            other => panic!("{spec:?}: {other:?}"),
        }
    }
    doc.save().unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), EXISTING);
}

#[test]
fn first_server_goes_below_the_template_comments() {
    let (_dir, path) = setup(&format!("# mine\n{}", crate::TEMPLATE));
    let mut doc = ConfigDoc::load(&path).unwrap();
    doc.add_server(&ServerSpec {
        name: "s".into(),
        command: "srv".into(),
        ..Default::default()
    })
    .unwrap();
    doc.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("# mine\n# keyward configuration"),
        "{text}"
    );
    assert!(text.trim_end().ends_with(HINT), "{text}");
    let mut doc = ConfigDoc::load(&path).unwrap();
    doc.remove_server("s").unwrap();
    doc.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("# mine\n# keyward configuration"),
        "{text}"
    );
    assert!(!text.contains(HINT), "{text}");
    Config::load(&path).unwrap();
}

#[test]
fn adding_a_service_after_a_server_keeps_both() {
    let (_dir, path) = setup("");
    let mut doc = ConfigDoc::load(&path).unwrap();
    doc.add_server(&github()).unwrap();
    doc.add_service(&crate::ServiceSpec {
        name: "stripe".into(),
        base_url: "https://api.stripe.com".into(),
        auth: "none".into(),
        ..Default::default()
    })
    .unwrap();
    doc.save().unwrap();
    let cfg = Config::load(&path).unwrap();
    assert!(cfg.servers.contains_key("github"));
    assert!(cfg.services.contains_key("stripe"));
}

#[test]
fn add_remote_server_with_tool_rules() {
    let (_dir, path) = setup(EXISTING);
    let mut doc = ConfigDoc::load(&path).unwrap();
    doc.add_server(&ServerSpec {
        name: "remote".into(),
        url: Some("https://mcp.example.com/mcp".into()),
        headers: vec![("Authorization".into(), "Bearer keyward://remote.tok".into())],
        tools: vec![
            ("*".into(), "confirm".into()),
            ("get_*".into(), "allow".into()),
        ],
        ..Default::default()
    })
    .unwrap();
    assert!(doc.has_server("remote"));
    let text = doc.text();
    assert!(text.starts_with(EXISTING), "{text}");
    assert!(!text.contains(HINT), "{text}");
    let cfg = doc.validate().unwrap();
    let s = &cfg.servers["remote"];
    assert!(
        matches!(s.transport, ServerTransport::Http { .. }),
        "{text}"
    );
    assert!(text.contains("\"*\" = \"confirm\""), "{text}");
}
