//! `keyward servers add | list | rm | accept`: upstream MCP servers in
//! keyward.toml.

use std::path::Path;
use std::process::ExitCode;

use keyward_config::{
    Config, ConfigDoc, ConfigError, EnvValue, Paths, ServerSpec, ServerTransport,
};
use keyward_policy::{Action, NamePattern, Rate};
use keyward_vault::EnvSource;
use toml_edit::{DocumentMut, Item, value};

use crate::cli::{ServersAddArgs, ServersCmd};
use crate::cmd::run::has_secret_scheme;
use crate::cmd::{available, config_file};
use crate::config_approval::edit;
use crate::env::ProcessEnv;
use crate::error::CliError;

/// The comment `ConfigDoc::add_server` writes into the new, empty tools
/// table. Once `--allow`/`--deny` have written rules it no longer holds,
/// so it is taken out (if it is still exactly there).
const TOOLS_HINT: &str = "# \"get_*\" = \"allow\"  — no pattern: every tool is denied";

pub(crate) fn run(paths: &Paths, env: &ProcessEnv, cmd: ServersCmd) -> Result<ExitCode, CliError> {
    match cmd {
        ServersCmd::Add(a) => add(paths, &config_file(paths)?, env, *a),
        ServersCmd::List { tools: false } => list(paths, env, &config_file(paths)?),
        ServersCmd::List { tools: true } => super::servers_tools::list_tools(paths, env),
        ServersCmd::Rm { name } => {
            let file = config_file(paths)?;
            let mut doc = ConfigDoc::load(&file)?;
            let base = doc.text();
            doc.remove_server(&name)?;
            let edit = edit::begin(paths, env, "keyward servers rm")?;
            doc.save()?;
            println!("removed server `{name}`");
            edit.finish(&base, &doc.text())?;
            Ok(ExitCode::SUCCESS)
        }
        ServersCmd::Accept { name } => accept(paths, env, &name),
    }
}

/// `keyward servers accept NAME`: accept the changed tool definitions of a
/// server after showing what changed (tool pinning). The single place to
/// wire it up.
fn accept(paths: &Paths, env: &ProcessEnv, name: &str) -> Result<ExitCode, CliError> {
    super::accept::accept(paths, env, name)
}

fn add(
    paths: &Paths,
    file: &Path,
    env: &ProcessEnv,
    a: ServersAddArgs,
) -> Result<ExitCode, CliError> {
    let Some((command, args)) = a.command.split_first() else {
        return Err(CliError::msg(
            "no command: keyward servers add NAME [--env KEY=REF]... -- COMMAND ARGS...",
        ));
    };
    let mut vars = Vec::with_capacity(a.env.len());
    for flag in &a.env {
        let Some((k, v)) = flag.split_once('=') else {
            // Not echoed: a value without `=` may be a pasted secret.
            return Err(CliError::msg(
                "`--env` expects KEY=REF, e.g. --env GITHUB_TOKEN=keyward://github_pat (the text \
                 given has no `=`; not shown)",
            ));
        };
        vars.push((k.to_string(), v.to_string()));
    }
    let rules = tool_rules(&a.allow, &a.confirm, &a.deny)?;
    let rate = tool_rate(a.rate.as_deref(), &rules)?;
    let spec = ServerSpec {
        name: a.name.clone(),
        command: command.clone(),
        args: args.to_vec(),
        env: vars,
        clients: a.clients.clone(),
        ..ServerSpec::default()
    };
    let mut doc = ConfigDoc::load(file)?;
    let base = doc.text();
    doc.add_server(&spec)
        .map_err(|e| add_error(&spec.name, e))?;
    // One command, one write: the rules go in before anything is written.
    let new = if rules.is_empty() {
        doc.text()
    } else {
        with_tool_rules(&doc.text(), file, &spec.name, &rules, rate.as_ref())?
    };
    let edit = edit::begin(paths, env, "keyward servers add")?;
    save_config(file, &new)?;
    println!("added server `{}` to {}", spec.name, file.display());
    edit.finish(&base, &new)?;
    warn_unresolved(paths, env, file, &spec.name);
    note_secret_args(file, &spec.name);
    for (k, v) in &spec.env {
        if !has_secret_scheme(v) {
            eprintln!(
                "note: `--env {k}` is not a secret reference, so its value is stored in keyward.toml \
                 as plain text; for a secret, `keyward secret set NAME` and use keyward://NAME"
            );
        }
    }
    if !command.contains('/')
        && keyward_connectors::exec::resolve_program(command, env.var("PATH").as_deref()).is_err()
    {
        eprintln!(
            "note: `{}` is not in PATH right now; `keyward serve` looks it up when it starts the server",
            command.escape_debug()
        );
    }
    if rules.is_empty() {
        println!(
            "it has no tool rules yet, so every tool is denied; add `--allow 'get_*'` or edit \
             [servers.{}.tools] in the file",
            spec.name
        );
    }
    note_clients(&spec.clients);
    Ok(ExitCode::SUCCESS)
}

/// Who sees a server added with `--client`, and a name that is none of the
/// clients `keyward import` knows (a typo would hide the server from the
/// client meant).
fn note_clients(clients: &[String]) {
    if clients.is_empty() {
        return;
    }
    println!(
        "only these clients see it: {} (a `keyward serve --client NAME`, or the agent NAME of \
         `keyward serve --http`)",
        clients.join(", ")
    );
    for c in clients {
        if c.parse::<keyward_migrate::locate::Client>().is_err() {
            eprintln!(
                "note: `{c}` is not one of the clients `keyward import` knows (claude-desktop, \
                 claude-code, cursor, vscode, windsurf, zed, codex, gemini); it matches only a \
                 `keyward serve --client {c}` or an agent named `{c}`"
            );
        }
    }
}

/// A problem with what was given on the command line is said as such (the
/// file is fine and unchanged); a problem elsewhere in the file keeps the
/// "fix keyward.toml" hint.
fn add_error(name: &str, e: ConfigError) -> CliError {
    match e {
        ConfigError::Invalid { at, message, .. }
            if at == "name"
                || at == format!("servers.{name}")
                || at.starts_with(&format!("servers.{name}.")) =>
        {
            CliError::msg(format!(
                "cannot add server `{}`: `{at}`: {message} (keyward.toml is unchanged)",
                name.escape_debug()
            ))
        }
        e => e.into(),
    }
}

/// `--allow`, `--confirm`, then `--deny` patterns, each validated; a
/// pattern may appear once (it is a key of the tools table).
fn tool_rules(
    allow: &[String],
    confirm: &[String],
    deny: &[String],
) -> Result<Vec<(String, Action)>, CliError> {
    let mut rules: Vec<(String, Action)> = Vec::new();
    for (action, patterns) in [
        (Action::Allow, allow),
        (Action::Confirm, confirm),
        (Action::Deny, deny),
    ] {
        for p in patterns {
            NamePattern::parse(p)
                .map_err(|e| CliError::msg(format!("`--{action} {}`: {e}", p.escape_debug())))?;
            if let Some((_, first)) = rules.iter().find(|(q, _)| q == p) {
                return Err(CliError::msg(format!(
                    "tool pattern `{p}` is given twice (--{first} and --{action}); each pattern has one action"
                )));
            }
            rules.push((p.clone(), action));
        }
    }
    Ok(rules)
}

/// `--rate`, validated: it limits the `--allow` and `--confirm` patterns,
/// so it needs one.
fn tool_rate(rate: Option<&str>, rules: &[(String, Action)]) -> Result<Option<Rate>, CliError> {
    let Some(text) = rate else {
        return Ok(None);
    };
    let rate: Rate = text
        .parse()
        .map_err(|e| CliError::msg(format!("`--rate {}`: {e}", text.escape_debug())))?;
    if !rules.iter().any(|(_, a)| *a != Action::Deny) {
        return Err(CliError::msg(
            "`--rate` limits the calls of `--allow` and `--confirm` patterns; give one",
        ));
    }
    Ok(Some(rate))
}

/// `text` with `"PATTERN" = "allow"` / `"deny"` in `[servers.NAME.tools]`
/// (`{ action = "confirm", rate = "10/hour" }` for a rule with a rate)
/// (which `add_server` has just created), the rest kept as it is; the
/// result is validated as a whole (`file` names it in errors).
fn with_tool_rules(
    text: &str,
    file: &Path,
    name: &str,
    rules: &[(String, Action)],
    rate: Option<&Rate>,
) -> Result<String, CliError> {
    let mut doc: DocumentMut = text.parse().map_err(|e| {
        CliError::Config(ConfigError::Parse {
            path: file.to_path_buf(),
            message: format!("{e}"),
        })
    })?;
    let tools = doc
        .get_mut("servers")
        .and_then(|s| s.get_mut(name))
        .and_then(|s| s.get_mut("tools"))
        .and_then(Item::as_table_mut)
        .ok_or_else(|| {
            CliError::msg(format!(
                "{}: `servers.{name}.tools` is missing after adding the server",
                file.display()
            ))
        })?;
    for (pattern, action) in rules {
        match rate.filter(|_| *action != Action::Deny) {
            Some(rate) => {
                let mut entry = toml_edit::InlineTable::new();
                entry.insert("action", action.as_str().into());
                entry.insert("rate", rate.to_string().into());
                tools.insert(pattern, value(entry));
            }
            None => {
                tools.insert(pattern, value(action.as_str()));
            }
        }
    }
    // The hint ("no pattern: every tool is denied") is the document's
    // trailing text now that the new server is the last table.
    let trailing = doc.trailing().as_str().unwrap_or_default().to_string();
    if let Some(rest) = trailing
        .strip_prefix(TOOLS_HINT)
        .and_then(|r| r.strip_prefix('\n').or((r.is_empty()).then_some(r)))
    {
        doc.set_trailing(rest);
    }
    let new = doc.to_string();
    Config::parse(&new, file)?;
    Ok(new)
}

/// A reference in `args` is resolved into the child's command line: say
/// what that trades, once.
fn note_secret_args(file: &Path, name: &str) {
    let Ok(cfg) = Config::load(file) else {
        return;
    };
    let Some(ServerTransport::Stdio { args, .. }) = cfg.servers.get(name).map(|s| &s.transport)
    else {
        return;
    };
    let at: Vec<String> = (0..args.len())
        .filter(|i| args[*i].secret().is_some())
        .map(|i| format!("args[{i}]"))
        .collect();
    if !at.is_empty() {
        eprintln!(
            "note: {} is a secret reference: keyward resolves it when it starts the server, and \
             while the server runs, its command line, value included, is visible to local \
             processes such as `ps`; pass the secret with `--env` instead if the server can read \
             it from the environment",
            at.join(", ")
        );
    }
}

/// `servers add` takes a secret that does not exist yet, but says so.
fn warn_unresolved(paths: &Paths, env: &ProcessEnv, file: &Path, name: &str) {
    let Ok(cfg) = Config::load(file) else {
        return;
    };
    let refs = available::server_refs(&cfg, name);
    if refs.is_empty() {
        return;
    }
    if let Some(why) =
        available::open_vault(paths, env).and_then(|v| available::unresolved(&cfg, &v, env, &refs))
    {
        eprintln!(
            "warning: a secret of this server does not resolve yet: {why}. The server is added; until the secret exists, `keyward serve` lists it as unavailable (the other servers still serve)"
        );
    }
}

fn list(paths: &Paths, env: &ProcessEnv, file: &Path) -> Result<ExitCode, CliError> {
    let cfg = Config::load(file)?;
    let vault = available::open_vault(paths, env);
    if cfg.servers.is_empty() {
        println!(
            "no servers yet: keyward servers add NAME [--env KEY=REF]... [--allow PATTERN]... -- COMMAND ARGS..."
        );
    }
    for (name, s) in &cfg.servers {
        match &s.transport {
            ServerTransport::Stdio { command, args, .. } => {
                // A reference is shown as written (`keyward://pg.url`).
                let words: Vec<String> = std::iter::once(command.clone())
                    .chain(args.iter().map(|a| match a {
                        EnvValue::Literal(s) => s.clone(),
                        EnvValue::Secret(r) => r.to_string(),
                    }))
                    .map(|w| shell_word(&w))
                    .collect();
                println!("{name}  {}", words.join(" "));
            }
            ServerTransport::Http { url, .. } => {
                let mut shown = url.clone();
                let had_query = shown.query().is_some();
                shown.set_query(None);
                // A query may carry a key: it is not shown.
                let q = if had_query { "?(query not shown)" } else { "" };
                println!("{name}  {shown}{q}");
            }
        }
        if let Some(d) = &s.description {
            println!("  {}", d.escape_debug());
        }
        match &s.transport {
            ServerTransport::Stdio { env, cwd, .. } => {
                if let Some(cwd) = cwd {
                    println!("  cwd {}", cwd.display());
                }
                for (k, v) in env {
                    match v {
                        EnvValue::Secret(r) => println!("  env {k} = {r}"),
                        EnvValue::Literal(_) => println!("  env {k} = (literal, not shown)"),
                    }
                }
            }
            ServerTransport::Http { headers, .. } => {
                for (k, v) in headers {
                    match v.secret() {
                        Some(r) => println!("  header {k} = {}{r}", v.prefix().escape_debug()),
                        None => println!("  header {k} = (literal, not shown)"),
                    }
                }
            }
        }
        if let Some(clients) = &s.clients {
            println!("  clients {} (no other client sees it)", clients.join(", "));
        }
        if s.tools.is_empty() {
            println!("  (no tool rules: every tool is denied)");
        }
        for rule in &s.tools {
            println!("  {}", rule.text());
        }
        // Last, so the lines above read the same either way.
        let refs = available::server_refs(&cfg, name);
        if let Some(why) = vault
            .as_ref()
            .and_then(|v| available::unresolved(&cfg, v, env, &refs))
        {
            println!("  UNAVAILABLE: {why}");
        }
    }
    if cfg.servers.values().any(|s| s.clients.is_some()) {
        println!(
            "(a server without a `clients` line is seen by every client; `keyward serve` without \
             --client sees only those)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A word as a shell would need it: bare when it is plain, single-quoted
/// otherwise, escaped when it holds control characters (which could
/// otherwise forge lines on the terminal).
fn shell_word(w: &str) -> String {
    let plain = !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b));
    if plain {
        w.to_string()
    } else if w.chars().any(char::is_control) {
        format!("{w:?}")
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// Replaces keyward.toml atomically, keeping the mode the user chose.
fn save_config(path: &Path, contents: &str) -> Result<(), CliError> {
    keyward_fsio::write(path, contents.as_bytes(), keyward_fsio::Mode::KeepExisting).map_err(|e| {
        CliError::Config(ConfigError::Write {
            path: path.to_path_buf(),
            source: e.into_io(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_rules_are_validated_and_unique() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let r = tool_rules(
            &s(&["get_*", "list_*"]),
            &s(&["create_*"]),
            &s(&["delete_*"]),
        )
        .unwrap();
        assert_eq!(
            r,
            vec![
                ("get_*".to_string(), Action::Allow),
                ("list_*".to_string(), Action::Allow),
                ("create_*".to_string(), Action::Confirm),
                ("delete_*".to_string(), Action::Deny),
            ]
        );
        let e = tool_rules(&s(&["get_*"]), &[], &s(&["get_*"])).unwrap_err();
        assert!(e.to_string().contains("given twice"), "{e}");
        let e = tool_rules(&[], &s(&["x"]), &s(&["x"])).unwrap_err();
        assert!(e.to_string().contains("--confirm and --deny"), "{e}");
        assert!(tool_rules(&s(&["a b"]), &[], &[]).is_err());
        assert!(tool_rules(&s(&[""]), &[], &[]).is_err());
        let deny_only = [("x".to_string(), Action::Deny)];
        assert!(tool_rate(Some("10/hour"), &deny_only).is_err());
        assert!(tool_rate(Some("often"), &r).is_err());
        assert_eq!(
            tool_rate(Some("10/hour"), &r).unwrap().unwrap().to_string(),
            "10/hour"
        );
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("npx"), "npx");
        assert_eq!(shell_word("@scope/pkg"), "@scope/pkg");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("a\nb"), "\"a\\nb\"");
    }

    /// `add_server`'s hint, which `with_tool_rules` takes out, must be the
    /// one `keyward_config` writes.
    #[test]
    fn tool_rules_replace_the_hint_and_keep_comments() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keyward.toml");
        let original = "# my notes\n\n[services.s]\nbase_url = \"https://x.example\" # keep\n";
        std::fs::write(&file, original).unwrap();
        let mut doc = ConfigDoc::load(&file).unwrap();
        doc.add_server(&ServerSpec {
            name: "gh".into(),
            command: "npx".into(),
            args: vec!["-y".into(), "srv".into()],
            env: vec![("TOK".into(), "keyward://tok".into())],
            ..ServerSpec::default()
        })
        .unwrap();
        doc.save().unwrap();
        assert!(std::fs::read_to_string(&file).unwrap().contains(TOOLS_HINT));
        let text = with_tool_rules(
            &doc.text(),
            &file,
            "gh",
            &[
                ("get_*".to_string(), Action::Allow),
                ("delete_*".to_string(), Action::Deny),
            ],
            None,
        )
        .unwrap();
        save_config(&file, &text).unwrap();
        assert!(text.starts_with(original), "{text}");
        assert!(!text.contains(TOOLS_HINT), "{text}");
        assert!(
            text.ends_with("[servers.gh.tools]\n\"get_*\" = \"allow\"\n\"delete_*\" = \"deny\"\n"),
            "{text}"
        );
        let cfg = Config::load(&file).unwrap();
        let texts: Vec<String> = cfg.servers["gh"].tools.iter().map(|r| r.text()).collect();
        assert_eq!(texts, ["allow get_*", "deny delete_*"]);
    }
}
