//! `keyward servers list --tools`: start each server as `keyward serve`
//! would, list the tools it offers, and show what the rules decide for each
//! (the upstream's definitions are scrubbed first, as for the agent).

use std::process::ExitCode;

use keyward_audit::AuditLog;
use keyward_config::Paths;
use keyward_gateway::Gateway;
use keyward_gateway::pipeline::redact::scrub_tools;
use keyward_gateway::servers::pins::definition;
use keyward_policy::evaluate_tool;

use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::unlock::{Prompt, unlock};

pub(crate) fn list_tools(paths: &Paths, env: &ProcessEnv) -> Result<ExitCode, CliError> {
    // Listing starts the servers' commands: only those of the approved
    // config (an agent's edit of keyward.toml must not run anything).
    let approved = crate::config_approval::serving(paths)?;
    if approved.config().servers.is_empty() {
        println!("no servers yet");
        return Ok(ExitCode::SUCCESS);
    }
    let vault = unlock(paths, env, Prompt::IfTerminal)?;
    let audit = AuditLog::open(&paths.audit_file())?;
    let (config, _) = crate::config_approval::confirm(approved, &vault, &audit)?;
    let pins = crate::cmd::open_pins(paths, &vault, &config)?;
    let gateway = Gateway::new(config, Some(&vault), env, audit, pins)?;
    drop(vault);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(format!("cannot start the runtime: {e}")))?;
    let mut failed = false;
    for (name, rt) in gateway.servers() {
        // Never started: a reference or its program did not resolve.
        if let Some(why) = &rt.unavailable {
            println!("{name}: UNAVAILABLE: {why}");
            failed = true;
            continue;
        }
        let listed = runtime.block_on(rt.upstream.tools());
        runtime.block_on(rt.upstream.shutdown());
        let tools = match listed {
            Ok(t) => scrub_tools(&gateway.scrubber(), t),
            Err(e) => {
                let (e, _) = gateway.scrubber().scrub_str(&e.to_string());
                println!("{name}: cannot list its tools: {e}");
                failed = true;
                continue;
            }
        };
        println!("{name}: {} tools", tools.len());
        for t in &tools {
            let d = evaluate_tool(&rt.server.tools, &t.name).decision;
            let why = d
                .rule
                .map(|r| format!("rule #{} `{}`", r.index + 1, r.text))
                .unwrap_or_else(|| "no rule matches".to_string());
            let pin = match gateway.pins().pinned(name, &t.name) {
                Some(p) if p.definition != definition(t) => {
                    "  [changed since accepted: `keyward servers accept`]"
                }
                None if gateway.pins().under_review(name) => {
                    "  [not reviewed since the tool pins were removed or changed: `keyward servers accept`]"
                }
                _ => "",
            };
            println!(
                "  {name}__{:<40} {:<8} {why}{pin}",
                t.name.escape_debug().to_string(),
                d.action.as_str()
            );
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
