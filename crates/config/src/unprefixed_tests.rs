//! `prefix = false` on `[servers.NAME]`: what is accepted, and the names an
//! unprefixed server may not take.

use std::path::Path;

use crate::{Config, ConfigError};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("keyward.toml"))
}

fn error(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const ONE: &str =
    "[servers.conf]\ncommand = \"/bin/true\"\nprefix = false\ntools = { \"*\" = \"allow\" }\n";

#[test]
fn servers_are_prefixed_unless_told_otherwise() {
    let cfg = parse("[servers.gh]\ncommand = \"/bin/true\"\n").unwrap();
    assert!(cfg.servers["gh"].prefix);
    let cfg = parse(ONE).unwrap();
    assert!(!cfg.servers["conf"].prefix);
    // With prefixed servers beside it.
    let cfg = parse(&format!(
        "{ONE}[servers.gh]\ncommand = \"/bin/true\"\nprefix = true\n"
    ))
    .unwrap();
    assert!(cfg.servers["gh"].prefix && !cfg.servers["conf"].prefix);
    assert!(error("[servers.gh]\ncommand = \"/bin/true\"\nprefix = \"no\"\n").contains("prefix"));
}

#[test]
fn only_one_server_may_be_unprefixed() {
    let two = format!("{ONE}[servers.other]\ncommand = \"/bin/true\"\nprefix = false\n");
    let e = error(&two);
    assert!(e.contains("servers.other.prefix"), "{e}");
    assert!(
        e.contains("only one server may have `prefix = false`"),
        "{e}"
    );
}

#[test]
fn an_unprefixed_server_may_not_name_keywards_own_tools_or_a_workflow() {
    for own in [
        "http_request",
        "list_services",
        "run_command",
        "request_access",
    ] {
        let text = format!(
            "[servers.conf]\ncommand = \"/bin/true\"\nprefix = false\ntools = {{ {own} = \"allow\" }}\n"
        );
        let e = error(&text);
        assert!(e.contains(&format!("names `{own}`")), "{e}");
        // The same rule on a prefixed server is fine: the agent sees conf__NAME.
        parse(&text.replace("prefix = false\n", "")).unwrap();
        // And so is a deny rule, or a wildcard (a colliding listed name is
        // withheld by the gateway).
        parse(&text.replace("\"allow\"", "\"deny\"")).unwrap();
    }
    parse("[servers.conf]\ncommand = \"/bin/true\"\nprefix = false\ntools = { \"http_*\" = \"allow\" }\n").unwrap();

    let workflow = r#"
[services.s]
base_url = "https://api.example.com"
[workflows.triage]
description = "d"
[[workflows.triage.steps]]
id = "a"
call = { service = "s", method = "GET", path = "/x" }
[servers.conf]
command = "/bin/true"
prefix = false
tools = { triage = "confirm" }
"#;
    let e = error(workflow);
    assert!(e.contains("names `triage`"), "{e}");
}
