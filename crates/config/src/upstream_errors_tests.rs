//! Every `[servers.*]` / `[commands.*]` validation error names its key.

use std::path::Path;

use crate::{Config, ConfigError};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("keyward.toml"))
}

fn invalid_at(text: &str) -> String {
    match parse(text) {
        Err(ConfigError::Invalid { at, .. }) => at,
        Err(other) => format!("other: {other}"),
        Ok(_) => "accepted".into(),
    }
}

#[test]
fn unknown_keys_are_errors() {
    for text in [
        "[servers.s]\ncomand = \"x\"\n",
        "[servers.s]\ncommand = \"x\"\n[servers.s.tools]\n\"a\" = { action = \"allow\", rat = \"1/s\" }\n",
        "[commands.c]\nprogram = \"c\"\nargs = [\"*\"]\ndeny_arg = [\"x\"]\n",
        "[servers.s]\ncommand = \"x\"\n[servers.s.tools]\n\"a\" = 1\n",
    ] {
        assert!(
            matches!(parse(text), Err(ConfigError::Parse { .. })),
            "{text}"
        );
    }
}

#[test]
fn bad_servers_name_the_key() {
    let cmd = |extra: &str| format!("[servers.s]\ncommand = \"npx\"\n{extra}\n");
    let cases = [
        (
            "[servers.Bad]\ncommand = \"x\"\n".to_string(),
            "servers.Bad",
        ),
        ("[servers.a__b]\ncommand = \"x\"\n".into(), "servers.a__b"),
        ("[servers.s]\ndescription = \"x\"\n".into(), "servers.s"),
        (cmd("url = \"https://x\""), "servers.s.url"),
        (
            "[servers.s]\ncommand = \"./x\"\n".into(),
            "servers.s.command",
        ),
        ("[servers.s]\ncommand = \"\"\n".into(), "servers.s.command"),
        (cmd("args = [\"--token=keyward://t\"]"), "servers.s.args[0]"),
        (
            cmd("args = [\"--token\", \"keyward://bad name\"]"),
            "servers.s.args[1]",
        ),
        (cmd("cwd = \"rel/dir\""), "servers.s.cwd"),
        (cmd("timeout = \"soon\""), "servers.s.timeout"),
        (cmd("headers = { A = \"b\" }"), "servers.s.headers"),
        (cmd("env = { \"1X\" = \"v\" }"), "servers.s.env.1X"),
        (cmd("env = { \"A B\" = \"v\" }"), "servers.s.env.\"A B\""),
        (
            cmd("env = { T = \"keyward://bad name\" }"),
            "servers.s.env.T",
        ),
        (
            cmd("env = { T = \"nope://x keyward://t\" }"),
            "servers.s.env.T",
        ),
        (cmd("env = { T = \"keychain://only\" }"), "servers.s.env.T"),
        (
            cmd("[servers.s.tools]\n\"get *\" = \"allow\""),
            "servers.s.tools.\"get *\"",
        ),
        (
            cmd("[servers.s.tools]\n\"delete_*\" = \"permit\""),
            "servers.s.tools.\"delete_*\"",
        ),
        (
            cmd("[servers.s.tools]\nx = { action = \"allow\", rate = \"1/fortnight\" }"),
            "servers.s.tools.x.rate",
        ),
        (
            cmd("[servers.s.tools]\nx = { action = \"allow\", burst = 3 }"),
            "servers.s.tools.x.burst",
        ),
        (
            cmd("[servers.s.tools]\nx = { action = \"allow\", rate = \"1/s\", burst = 0 }"),
            "servers.s.tools.x.burst",
        ),
    ];
    for (text, at) in cases {
        assert_eq!(invalid_at(&text), at, "{text}");
    }
    let url = |u: &str, extra: &str| format!("[servers.r]\nurl = \"{u}\"\n{extra}\n");
    let cases = [
        (url("ftp://x", ""), "servers.r.url"),
        (url("https://u:p@x", ""), "servers.r.url"),
        (url("https://x/#f", ""), "servers.r.url"),
        (url("not a url", ""), "servers.r.url"),
        (url("https://x", "args = []"), "servers.r.args"),
        (url("https://x", "env = {}"), "servers.r.env"),
        (
            url("https://x", "headers = { Host = \"y\" }"),
            "servers.r.headers.Host",
        ),
        (
            url("https://x", "headers = { Mcp-Session-Id = \"y\" }"),
            "servers.r.headers.Mcp-Session-Id",
        ),
        (
            url("https://x", "headers = { \"A B\" = \"y\" }"),
            "servers.r.headers.\"A B\"",
        ),
        (
            url("https://x", "headers = { a = \"1\", A = \"2\" }"),
            "servers.r.headers.a",
        ),
        (
            url("https://x", "headers = { A = \"keyward://t Bearer\" }"),
            "servers.r.headers.A",
        ),
        (
            url("https://x", "headers = { A = \"Bearer keyward://\" }"),
            "servers.r.headers.A",
        ),
    ];
    for (text, at) in cases {
        assert_eq!(invalid_at(&text), at, "{text}");
    }
}

#[test]
fn credentials_in_a_url_are_not_echoed() {
    let text = "[servers.r]\nurl = \"https://bob:kw_canary_pw@x\"\n";
    let msg = parse(text).unwrap_err().to_string();
    assert!(!msg.contains("kw_canary_pw"), "{msg}");
}

#[test]
fn bad_commands_name_the_key() {
    let c =
        |extra: &str| format!("[commands.c]\nprogram = \"gh\"\nargs = [\"issue *\"]\n{extra}\n");
    let cases = [
        (
            "[commands.C]\nprogram = \"gh\"\nargs = [\"*\"]\n".to_string(),
            "commands.C",
        ),
        (
            "[commands.c_]\nprogram = \"gh\"\nargs = [\"*\"]\n".into(),
            "commands.c_",
        ),
        ("[commands.c]\nprogram = \"gh\"\n".into(), "commands.c.args"),
        (
            "[commands.c]\nprogram = \"gh\"\nargs = []\n".into(),
            "commands.c.args",
        ),
        (
            "[commands.c]\nprogram = \"\"\nargs = [\"*\"]\n".into(),
            "commands.c.program",
        ),
        (
            "[commands.c]\nprogram = \"bin/gh\"\nargs = [\"*\"]\n".into(),
            "commands.c.program",
        ),
        (
            "[commands.c]\nprogram = \"gh\"\nargs = [\"a\", \"b **\"]\n".into(),
            "commands.c.args[1]",
        ),
        (c("deny_args = [\"x\\ny\"]"), "commands.c.deny_args[0]"),
        (c("timeout = \"0s\""), "commands.c.timeout"),
        (c("rate = \"many\""), "commands.c.rate"),
        (c("burst = 2"), "commands.c.burst"),
        (c("max_output_bytes = 0"), "commands.c.max_output_bytes"),
        (c("env = { \"A-B\" = \"x\" }"), "commands.c.env.A-B"),
        (c("env = { A = \"vault://nofield\" }"), "commands.c.env.A"),
    ];
    for (text, at) in cases {
        assert_eq!(invalid_at(&text), at, "{text}");
    }
}

/// A malformed `cwd` pattern or `home` is refused with the key and the
/// reason, never read as something the human did not write.
#[test]
fn malformed_command_cwd_patterns_are_refused_naming_the_key() {
    let cmd = |extra: &str| format!("[commands.c]\nprogram = \"c\"\nargs = [\"*\"]\n{extra}\n");
    for (extra, at, says) in [
        ("cwd = [\"src/**\"]", "commands.c.cwd[0]", "absolute"),
        ("cwd = [\"/a\", \"/a/../etc\"]", "commands.c.cwd[1]", "`..`"),
        ("cwd = [\"/a/**/b\"]", "commands.c.cwd[0]", "last component"),
        (
            "cwd = [\"/home/me/src*\"]",
            "commands.c.cwd[0]",
            "whole component",
        ),
        ("cwd = [\"/a//b\"]", "commands.c.cwd[0]", "empty"),
        ("cwd = \"/a\"", "", "parse"),
        ("home = \"rel/home\"", "commands.c.home", "absolute"),
        ("home = \"/a/../b\"", "commands.c.home", "`..`"),
    ] {
        match parse(&cmd(extra)) {
            Err(ConfigError::Invalid {
                at: got, message, ..
            }) => {
                assert_eq!(got, at, "{extra}");
                assert!(message.contains(says), "{extra}: {message}");
            }
            Err(ConfigError::Parse { .. }) if says == "parse" => {}
            other => panic!("{extra}: {other:?}"),
        }
    }
}
