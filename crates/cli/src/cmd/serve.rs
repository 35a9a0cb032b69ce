use std::process::ExitCode;

use keyward_audit::AuditLog;
use keyward_config::Paths;
use keyward_gateway::{Gateway, GatewayError, Shape, serve_stdio_starting};

use crate::config_approval;
use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::unlock::{Prompt, unlock};

/// The config is checked before anything is read from the client. The rest
/// — unlocking the vault (usually a D-Bus exchange with the OS credential
/// store), resolving every secret reference, opening the audit log — runs
/// beside the MCP server, which answers `initialize` at once and holds
/// every other request until the gateway is ready. If any of it fails,
/// keyward stops with that error, before any call was made. The open vault
/// (and so its key, in its zeroizing type) stays with the gateway, which
/// re-reads the file when `keyward secret set`/`rotate` changed it.
pub(crate) fn run(
    paths: &Paths,
    env: &ProcessEnv,
    args: &crate::cli::ServeArgs,
) -> Result<ExitCode, CliError> {
    if let Some(addr) = &args.http {
        return crate::cmd::serve_http::run(paths, env, args, addr);
    }
    // The last approved config, not keyward.toml as it is (SECURITY.md item 6).
    let approved = config_approval::serving(paths)?;
    let shape = Shape::of(approved.config());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(format!("cannot start the runtime: {e}")))?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let handle = rt.handle().clone();
    let (served, built) = std::thread::scope(|s| {
        let builder = s.spawn(move || -> Result<(), CliError> {
            let vault = unlock(paths, env, Prompt::Never)?;
            let audit = AuditLog::open(&paths.audit_file())?;
            let exec = config_approval::exec_setup(&approved, paths, &vault);
            let (config, notice) = config_approval::confirm(approved, &vault, &audit)?;
            let pins = crate::cmd::open_pins(paths, &vault, &config)?;
            let gateway = Gateway::following(config, vault, env, audit, pins)?;
            gateway.set_exec(exec);
            if let Some(n) = notice {
                gateway.set_config_notice(n);
            }
            crate::cmd::approvals::start_control(paths, &gateway, &handle);
            tracing::info!(
                services = gateway.services().len(),
                "keyward serving MCP on stdio"
            );
            // The server may already be gone (the client hung up): fine.
            let _ = tx.send(gateway);
            Ok(())
        });
        let served = rt.block_on(serve_stdio_starting(shape, rx));
        let built = builder
            .join()
            .unwrap_or_else(|_| Err(CliError::msg("keyward's start-up failed unexpectedly")));
        (served, built)
    });
    crate::cmd::approvals::stop_control(paths);
    match (served, built) {
        (_, Err(e)) => Err(e),
        (Err(GatewayError::NotStarted), Ok(())) => Err(CliError::msg("keyward could not start")),
        (Err(e), Ok(())) => Err(e.into()),
        (Ok(()), Ok(())) => Ok(ExitCode::SUCCESS),
    }
}
