use std::process::ExitCode;

use keyward_audit::AuditLog;
use keyward_config::{Config, Paths};
use keyward_gateway::upstream::PinStore;
use keyward_gateway::{Gateway, serve_stdio};

use crate::cmd::config_file;
use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::unlock::{Prompt, unlock};

/// Everything that can fail is checked before the first message is read:
/// the config, every secret reference, the vault, the audit log. The open
/// vault (and so its key, in its zeroizing type) stays with the gateway,
/// which re-reads the file when `keyward secret set`/`rotate` changed it.
pub(crate) fn run(paths: &Paths, env: &ProcessEnv) -> Result<ExitCode, CliError> {
    let config = Config::load(&config_file(paths)?)?;
    let vault = unlock(paths, env, Prompt::Never)?;
    let audit = AuditLog::open(&paths.audit_file())?;
    let pins = PinStore::open(&paths.data_dir.join("pins.json"))
        .map_err(|e| CliError::msg(e.to_string()))?;
    let gateway = Gateway::following(config, vault, env, audit, pins)?;
    tracing::info!(
        services = gateway.services().len(),
        "keyward serving MCP on stdio"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(format!("cannot start the runtime: {e}")))?;
    rt.block_on(serve_stdio(gateway))?;
    Ok(ExitCode::SUCCESS)
}
