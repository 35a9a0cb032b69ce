//! `keyward servers accept NAME`: review and accept changed tool
//! definitions of an upstream server (SECURITY.md item 7).
//!
//! Accepting is an approval, so it needs what an agent running as the same
//! user does not have: the vault passphrase, typed at the terminal or given
//! in KEYWARD_PASSPHRASE. Unlocking through the OS keychain or a key file,
//! which a same-user process can also do, is not enough.

use std::process::ExitCode;

use keyward_audit::AuditLog;
use keyward_config::Paths;
use keyward_gateway::Gateway;
use keyward_gateway::servers::pins::definition;
use keyward_policy::{Action, evaluate_tool};
use keyward_vault::SecretValue;
use serde_json::Value;

use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::prompt;
use crate::unlock::{Prompt, unlock};

pub(crate) fn accept(paths: &Paths, env: &ProcessEnv, name: &str) -> Result<ExitCode, CliError> {
    // Accepting starts the server's command: only as the approved config
    // says (an agent's edit of keyward.toml must not run anything).
    let approved = crate::config_approval::serving(paths)?;
    if !approved.config().servers.contains_key(name) {
        let pending = keyward_config::Config::load(&paths.config_file())
            .is_ok_and(|c| c.servers.contains_key(name));
        if pending {
            return Err(CliError::msg(format!(
                "server `{name}` is in keyward.toml but not in the approved config yet: review it with `keyward config diff`, approve it with `keyward config approve`, then accept its tools"
            )));
        }
        return Err(CliError::Config(keyward_config::ConfigError::NoSuchServer(
            name.to_string(),
        )));
    }
    let vault = unlock(paths, env, Prompt::IfTerminal)?;
    let passphrase = human_passphrase(env)?;
    vault.verify_passphrase(&passphrase)?;

    let audit = AuditLog::open(&paths.audit_file())?;
    let (config, _) = crate::config_approval::confirm(approved, &vault, &audit)?;
    let pins = crate::cmd::open_pins(paths, &vault, &config)?;
    let gateway = Gateway::new(config, Some(&vault), env, audit, pins)?;
    let rt = gateway
        .servers()
        .get(name)
        .ok_or_else(|| CliError::msg(format!("no server named `{name}`")))?
        .clone();
    if let Some(why) = &rt.unavailable {
        return Err(CliError::msg(format!(
            "server `{name}` is unavailable, so its tools cannot be listed: {why}"
        )));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(format!("cannot start the runtime: {e}")))?;
    let listed = runtime
        .block_on(rt.upstream.tools())
        .map_err(|e| CliError::msg(format!("cannot list the tools of `{name}`: {e}")))?;
    runtime.block_on(rt.upstream.shutdown());
    // Pinned as listed to the agent: scrubbed.
    let listed = keyward_gateway::pipeline::redact::scrub_tools(&gateway.scrubber(), listed);

    let allowed: Vec<_> = listed
        .into_iter()
        .filter(|t| evaluate_tool(&rt.server.tools, &t.name).decision.action != Action::Deny)
        .collect();
    let mut changes = 0;
    for tool in &allowed {
        let current = definition(tool);
        match gateway.pins().pinned(name, &tool.name) {
            Some(pin) if pin.definition == current => {}
            Some(pin) => {
                changes += 1;
                println!("tool `{}` changed:", tool.name);
                print_diff(&pin.definition, &current);
            }
            None => {
                changes += 1;
                println!("tool `{}` is new", tool.name);
            }
        }
    }
    if changes == 0 {
        println!("nothing to accept: every allowed tool of `{name}` matches what was accepted");
        return Ok(ExitCode::SUCCESS);
    }
    if prompt::can_prompt()
        && prompt::stdin_is_terminal()
        && !prompt::confirm("Accept these definitions? [y/N] ")?
    {
        println!("nothing accepted");
        return Ok(ExitCode::from(1));
    }
    let changed = gateway
        .pins()
        .accept(name, &allowed)
        .map_err(|e| CliError::msg(e.to_string()))?;
    println!(
        "accepted {} tool definition(s) of `{name}` ({} changed); restart your MCP client's keyward to use them",
        allowed.len(),
        changed.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn human_passphrase(env: &ProcessEnv) -> Result<SecretValue, CliError> {
    if let Some(p) = &env.passphrase {
        return Ok(p.clone());
    }
    if prompt::can_prompt() {
        return prompt::passphrase("Vault passphrase (to approve the change): ");
    }
    Err(CliError::msg(
        "accepting changed tools needs the vault passphrase: run this in a terminal, or set KEYWARD_PASSPHRASE",
    ))
}

fn print_diff(old: &Value, new: &Value) {
    let a = serde_json::to_string_pretty(old).unwrap_or_default();
    let b = serde_json::to_string_pretty(new).unwrap_or_default();
    let diff = similar::TextDiff::from_lines(&a, &b);
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => "-",
            similar::ChangeTag::Insert => "+",
            similar::ChangeTag::Equal => " ",
        };
        print!("  {sign} {change}");
    }
}
