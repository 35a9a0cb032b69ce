//! `[servers.*]` and `[commands.*]`: what valid files turn into.

use std::path::{Path, PathBuf};
use std::time::Duration;

use keyward_policy::{Action, evaluate_command, evaluate_tool};
use keyward_vault::SecretRef;

use crate::{
    Config, ConfigError, DEFAULT_MAX_OUTPUT_BYTES, EnvValue, ServerTransport, TemplatedValue,
};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("keyward.toml"))
}

fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

const ISSUE: &str = r#"
[servers.github]
command = "npx"                         # stdio upstream
args = ["-y", "@modelcontextprotocol/server-github"]
env = { GITHUB_PERSONAL_ACCESS_TOKEN = "keyward://github_pat", LOG_LEVEL = "info" }
timeout = "60s"

[servers.github.tools]
"list_*" = "allow"
"get_*" = "allow"
"create_issue" = { action = "confirm", rate = "10/hour" }
"delete_*" = "deny"

[servers.remote]
url = "https://mcp.example.com/mcp"
headers = { Authorization = "Bearer keyward://remote_tok", X-Trace = "on" }
description = "a remote server"
tools = { "*" = "allow", "admin_*" = { action = "deny" } }

[commands.gh]
program = "gh"
args = ["issue *", "pr list *", "pr view *"]
deny_args = ["* --repo* *"]
env = { GH_TOKEN = "keyward://github_pat" }
timeout = "20s"
rate = "30/minute"
burst = 5
max_output_bytes = 4096
description = "GitHub CLI, read-only"

[commands.git]
program = "/usr/bin/git"
args = ["log *", "status"]
"#;

#[test]
fn issue_example_parses() {
    let cfg = parse(ISSUE).unwrap();
    let gh = &cfg.servers["github"];
    assert_eq!(gh.name, "github");
    assert_eq!(gh.timeout, Some(Duration::from_secs(60)));
    let ServerTransport::Stdio {
        command,
        args,
        env,
        cwd,
    } = &gh.transport
    else {
        panic!("stdio expected: {:?}", gh.transport);
    };
    assert_eq!(command, "npx");
    assert_eq!(
        args,
        &[
            EnvValue::Literal("-y".into()),
            EnvValue::Literal("@modelcontextprotocol/server-github".into())
        ]
    );
    assert_eq!(
        env["GITHUB_PERSONAL_ACCESS_TOKEN"],
        EnvValue::Secret(SecretRef::Vault("github_pat".into()))
    );
    assert_eq!(env["LOG_LEVEL"], EnvValue::Literal("info".into()));
    assert_eq!(cwd, &None);
    // Tools keep the file's order (not the alphabetical one).
    let texts: Vec<String> = gh.tools.iter().map(|t| t.text()).collect();
    assert_eq!(
        texts,
        [
            "allow list_*",
            "allow get_*",
            "confirm create_issue (10/hour)",
            "deny delete_*"
        ]
    );
    assert_eq!(
        evaluate_tool(&gh.tools, "get_me").decision.action,
        Action::Allow
    );
    assert_eq!(
        evaluate_tool(&gh.tools, "push_files").decision.action,
        Action::Deny
    );

    let remote = &cfg.servers["remote"];
    let ServerTransport::Http { url, headers } = &remote.transport else {
        panic!("http expected");
    };
    assert_eq!(url.as_str(), "https://mcp.example.com/mcp");
    assert_eq!(
        headers["Authorization"],
        TemplatedValue::Secret {
            prefix: "Bearer ".into(),
            secret: SecretRef::Vault("remote_tok".into())
        }
    );
    assert_eq!(headers["X-Trace"], TemplatedValue::Literal("on".into()));
    assert_eq!(remote.description.as_deref(), Some("a remote server"));
    assert_eq!(remote.timeout, None);
    assert_eq!(remote.tools.len(), 2);
    assert_eq!(
        evaluate_tool(&remote.tools, "ADMIN_x").decision.action,
        Action::Deny
    );

    let c = &cfg.commands["gh"];
    assert_eq!(c.program, "gh");
    let texts: Vec<String> = c.rules.iter().map(|r| r.text()).collect();
    assert_eq!(
        texts,
        [
            "allow issue *",
            "allow pr list *",
            "allow pr view *",
            "deny * --repo* *"
        ]
    );
    assert_eq!(c.timeout, Duration::from_secs(20));
    let rate = c.rate.unwrap();
    assert_eq!(
        (rate.to_string(), rate.burst),
        ("30/minute".into(), Some(5))
    );
    assert_eq!(c.max_output_bytes, 4096);
    assert_eq!(c.description.as_deref(), Some("GitHub CLI, read-only"));
    assert_eq!(
        c.env["GH_TOKEN"],
        EnvValue::Secret(SecretRef::Vault("github_pat".into()))
    );
    let allow = evaluate_command(&c.rules, &argv(&["issue", "list"]));
    assert_eq!(allow.decision.action, Action::Allow);
    let deny = evaluate_command(&c.rules, &argv(&["issue", "list", "--repo", "x/y"]));
    assert_eq!(deny.decision.action, Action::Deny);

    // Defaults: limits.timeout, 1 MiB, no rate.
    let git = &cfg.commands["git"];
    assert_eq!(git.timeout, cfg.limits.timeout);
    assert_eq!(git.max_output_bytes, DEFAULT_MAX_OUTPUT_BYTES);
    assert_eq!(git.rate, None);
    assert!(git.env.is_empty());
    assert!(git.cwd.is_empty(), "no agent-chosen cwd unless allowed");
    assert_eq!(git.home, None, "a private HOME unless one is named");
}

#[test]
fn command_cwd_patterns_and_home_parse() {
    let text = "[commands.git]\nprogram = \"git\"\nargs = [\"status\"]\n\
                cwd = [\"/home/me/src/**\", \"/srv/*/repo\"]\nhome = \"/home/me/kw-git\"\n";
    let git = &parse(text).unwrap().commands["git"];
    let shown: Vec<String> = git.cwd.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["/home/me/src/**", "/srv/*/repo"]);
    assert_eq!(git.home.as_deref(), Some(Path::new("/home/me/kw-git")));
}

#[test]
fn command_timeout_defaults_to_limits() {
    let text = "[limits]\ntimeout = \"5s\"\n[commands.c]\nprogram = \"c\"\nargs = [\"*\"]\n";
    assert_eq!(
        parse(text).unwrap().commands["c"].timeout,
        Duration::from_secs(5)
    );
}

#[test]
fn a_server_without_tools_denies_everything() {
    let cfg = parse("[servers.s]\ncommand = \"/bin/srv\"\ncwd = \"/tmp\"\n").unwrap();
    let s = &cfg.servers["s"];
    assert!(s.tools.is_empty());
    assert_eq!(
        evaluate_tool(&s.tools, "anything").decision.action,
        Action::Deny
    );
    let ServerTransport::Stdio { cwd, args, .. } = &s.transport else {
        panic!("stdio expected");
    };
    assert_eq!(cwd.as_deref(), Some(PathBuf::from("/tmp").as_path()));
    assert!(args.is_empty());
}

#[test]
fn env_values_are_literal_unless_they_carry_a_secret_scheme() {
    let text = r#"
[commands.c]
program = "c"
args = ["*"]
env = { A = "info", B = "keyward://pat", C = "env://HOME", D = "https://x.example/y", E = "pat", F = "foo://bar", G = "VAULT://kv/p#f", H = "file:///run/secrets/t", I = "" }
"#;
    let cfg = parse(text).unwrap();
    let env = &cfg.commands["c"].env;
    let lit = |s: &str| EnvValue::Literal(s.into());
    assert_eq!(env["A"], lit("info"));
    assert_eq!(env["B"], EnvValue::Secret(SecretRef::Vault("pat".into())));
    assert_eq!(env["C"], EnvValue::Secret(SecretRef::Env("HOME".into())));
    assert_eq!(env["D"], lit("https://x.example/y"));
    assert_eq!(env["E"], lit("pat"), "a bare name is a literal in env");
    assert_eq!(env["F"], lit("foo://bar"), "unknown schemes are text");
    assert_eq!(env["G"].secret().map(SecretRef::scheme), Some("vault"));
    assert_eq!(
        env["H"],
        EnvValue::Secret(SecretRef::File(PathBuf::from("/run/secrets/t")))
    );
    assert_eq!(env["I"], lit(""));
}

#[test]
fn secret_refs_lists_every_reference_with_its_key() {
    let text = format!(
        "{ISSUE}\n[services.stripe]\nbase_url = \"https://api.stripe.com\"\nauth = {{ type = \"bearer\", secret = \"stripe_key\" }}\n"
    );
    let cfg = parse(&text).unwrap();
    let refs: Vec<(String, String)> = cfg
        .secret_refs()
        .into_iter()
        .map(|(at, r)| (at, r.to_string()))
        .collect();
    let want = [
        ("services.stripe.auth.secret", "keyward://stripe_key"),
        (
            "servers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN",
            "keyward://github_pat",
        ),
        (
            "servers.remote.headers.Authorization",
            "keyward://remote_tok",
        ),
        ("commands.gh.env.GH_TOKEN", "keyward://github_pat"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, r)| ((*a).to_string(), (*r).to_string()))
        .collect();
    assert_eq!(refs, want);
}

/// issue 12, item 9: a server that takes its secret as an argument
/// (`server-postgres postgresql://…`) holds a reference there, listed with
/// the others so that serve, doctor and `servers list` check it.
#[test]
fn a_server_argument_may_be_a_secret_reference() {
    let text = r#"
[servers.pg]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-postgres", "keyward://pg.args.2", "file:///srv/data"]
env = { PGAPPNAME = "keyward" }
"#;
    let cfg = parse(text).unwrap();
    let ServerTransport::Stdio { args, .. } = &cfg.servers["pg"].transport else {
        panic!("stdio expected");
    };
    let lit = |s: &str| EnvValue::Literal(s.into());
    assert_eq!(
        args,
        &[
            lit("-y"),
            lit("@modelcontextprotocol/server-postgres"),
            EnvValue::Secret(SecretRef::Vault("pg.args.2".into())),
            lit("file:///srv/data"),
        ]
    );
    let refs: Vec<(String, String)> = cfg
        .secret_refs()
        .into_iter()
        .map(|(at, r)| (at, r.to_string()))
        .collect();
    assert_eq!(
        refs,
        [(
            "servers.pg.args[2]".to_string(),
            "keyward://pg.args.2".to_string()
        )]
    );
}

#[test]
fn resources_and_prompts_are_closed_unless_allowed() {
    let base = "[servers.s]\ncommand = \"/bin/true\"\n";
    let cfg = crate::Config::parse(base, std::path::Path::new("k.toml")).unwrap();
    assert_eq!(cfg.servers["s"].resources, keyward_policy::Action::Deny);
    assert_eq!(cfg.servers["s"].prompts, keyward_policy::Action::Deny);
    let text = format!("{base}resources = \"allow\"\nprompts = \"allow\"\n");
    let cfg = crate::Config::parse(&text, std::path::Path::new("k.toml")).unwrap();
    assert_eq!(cfg.servers["s"].resources, keyward_policy::Action::Allow);
    assert_eq!(cfg.servers["s"].prompts, keyward_policy::Action::Allow);
    let bad = format!("{base}resources = \"yes\"\n");
    assert!(crate::Config::parse(&bad, std::path::Path::new("k.toml")).is_err());
}
