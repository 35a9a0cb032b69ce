use std::process::ExitCode;

use keyward_audit::AuditLog;
use keyward_config::Paths;
use keyward_gateway::{Gateway, GatewayError, Shape, Started, serve_stdio_as};

use crate::config_approval;
use crate::env::ProcessEnv;
use crate::error::{self, CliError};
use crate::unlock::{Prompt, unlock};

/// The config is checked before anything is read from the client. The rest
/// — unlocking the vault (usually a D-Bus exchange with the OS credential
/// store), resolving every secret reference, opening the audit log — runs
/// beside the MCP server, which answers `initialize` at once and holds
/// every other request until the gateway is ready. If any of it fails,
/// keyward prints the cause and the fix on stderr at once and keeps
/// answering MCP with nothing to call: every call gets that same text as
/// its error, so the agent (and its human) read why, instead of a closed
/// connection. It exits (status 2) when the client closes the stream. A
/// target whose own reference does not resolve does not stop start-up: it
/// is unavailable, the rest serves. The open vault (and so its key, in its
/// zeroizing type) stays with the gateway, which re-reads the file when
/// `keyward secret set`/`rotate` changed it.
pub(crate) fn run(
    paths: &Paths,
    env: &ProcessEnv,
    args: &crate::cli::ServeArgs,
) -> Result<ExitCode, CliError> {
    if let Some(addr) = &args.http {
        return crate::cmd::serve_http::run(paths, env, args, addr);
    }
    if let Some(c) = &args.client {
        keyward_config::validate_client_name(c)
            .map_err(|m| CliError::msg(format!("--client: {m}")))?;
    }
    let client = args.client.clone();
    // The last approved config, not keyward.toml as it is (SECURITY.md item 6).
    // A config that cannot be read is served as a failed start, too.
    let approved = config_approval::serving(paths);
    let shape = approved
        .as_ref()
        .map_or_else(|_| Shape::default(), |a| Shape::of(a.config()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(format!("cannot start the runtime: {e}")))?;
    let (tx, rx) = tokio::sync::oneshot::channel::<Started>();
    let handle = rt.handle().clone();
    let (served, failed) = std::thread::scope(|s| {
        let builder = s.spawn(move || {
            let mut known = Known::default();
            let built = approved.and_then(|a| build(paths, env, a, &handle, &mut known));
            if let Ok(gateway) = &built
                && let Some(note) = client_note(gateway, args.client.as_deref())
            {
                eprintln!("keyward: {note}");
            }
            match built {
                Ok(gateway) => {
                    // The server may already be gone (the client hung up): fine.
                    let _ = tx.send(Ok(gateway));
                    false
                }
                Err(e) => {
                    let text = known.scrub(&error::report(&e), env);
                    eprintln!("{text}");
                    let _ = tx.send(Err(text));
                    true
                }
            }
        });
        let served = rt.block_on(serve_stdio_as(client, shape, rx));
        let failed = builder.join().unwrap_or(true);
        (served, failed)
    });
    crate::cmd::approvals::stop_control(paths);
    match served {
        // Already reported on stderr, when it happened.
        _ if failed => Ok(ExitCode::from(2)),
        Err(GatewayError::NotStarted) => Err(CliError::msg("keyward could not start")),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(ExitCode::SUCCESS),
    }
}

/// The gateway `keyward serve` runs for the home of `paths`: the approved
/// config, the vault unlocked without a prompt, the audit log, the pins,
/// the control socket (started on `handle`). For `keyward demo`, which
/// puts it behind its own in-process MCP connection.
pub(crate) fn gateway(
    paths: &Paths,
    env: &ProcessEnv,
    handle: &tokio::runtime::Handle,
) -> Result<Gateway, CliError> {
    let approved = config_approval::serving(paths)?;
    build(paths, env, approved, handle, &mut Known::default())
}

/// Everything between the approved config and a ready gateway.
fn build(
    paths: &Paths,
    env: &ProcessEnv,
    approved: keyward_approved::Serving,
    handle: &tokio::runtime::Handle,
    known: &mut Known,
) -> Result<Gateway, CliError> {
    let vault = unlock(paths, env, Prompt::Never)?;
    known.learn(&vault);
    let audit = AuditLog::open(&paths.audit_file())?;
    let exec = config_approval::exec_setup(&approved, paths, &vault);
    let (config, notice) = config_approval::confirm(approved, &vault, &audit)?;
    let pins = crate::cmd::open_pins(paths, &vault, &config)?;
    let gateway = Gateway::following(config, vault, env, audit, pins)?;
    gateway.set_exec(exec);
    if let Some(n) = notice {
        gateway.set_config_notice(n);
    }
    crate::cmd::approvals::start_control(paths, &gateway, handle);
    tracing::info!(
        services = gateway.services().len(),
        "keyward serving MCP on stdio"
    );
    Ok(gateway)
}

/// What a session's client leaves out, said on stderr (the MCP client's
/// log) at start, so that a server missing from the agent's list has its
/// reason somewhere a human looks: servers kept to other clients while no
/// `--client` was given, or a `--client` that no `clients` list names.
fn client_note(gateway: &Gateway, client: Option<&str>) -> Option<String> {
    let servers = gateway.servers();
    let kept: Vec<&str> = servers
        .iter()
        .filter(|(_, rt)| rt.server.clients.is_some())
        .map(|(n, _)| n.as_str())
        .collect();
    if kept.is_empty() {
        return None;
    }
    let hidden: Vec<&str> = servers
        .iter()
        .filter(|(_, rt)| !rt.server.visible_to(client))
        .map(|(n, _)| n.as_str())
        .collect();
    match client {
        None => Some(format!(
            "this session has no --client, so it does not see the servers kept to named clients \
             by their `clients` lists: {}. Start it as `keyward serve --client NAME` to be one of them",
            hidden.join(", ")
        )),
        Some(c) if hidden.len() == kept.len() => Some(format!(
            "no server's `clients` list names `{c}`: this session sees only the servers without \
             a list (not {}). The names in use: {}",
            hidden.join(", "),
            known_clients(servers)
        )),
        Some(_) => None,
    }
}

/// Every client name the servers' `clients` lists use, once each.
fn known_clients(
    servers: &std::collections::BTreeMap<
        String,
        std::sync::Arc<keyward_gateway::servers::ServerRuntime>,
    >,
) -> String {
    let mut names: Vec<&str> = servers
        .values()
        .filter_map(|rt| rt.server.clients.as_ref())
        .flatten()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

/// The values the start-up saw before it failed: the failure's text is
/// scrubbed of them (and of the passphrase) before it goes anywhere.
#[derive(Default)]
struct Known {
    scrubber: Option<keyward_redact::Scrubber>,
}

impl Known {
    fn learn(&mut self, vault: &keyward_vault::Vault) {
        let mut b = keyward_redact::ScrubberBuilder::new();
        for (_, value) in vault.values() {
            b.add_secret(value.expose());
        }
        self.scrubber = Some(b.build());
    }

    fn scrub(&self, text: &str, env: &ProcessEnv) -> String {
        let mut text = match &self.scrubber {
            Some(s) => s.scrub_str(text).0,
            None => text.to_string(),
        };
        if let Some(p) = &env.passphrase {
            let mut b = keyward_redact::ScrubberBuilder::new();
            b.add_secret(p.expose());
            text = b.build().scrub_str(&text).0;
        }
        text
    }
}
