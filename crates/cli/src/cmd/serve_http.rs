//! `keyward serve --http [ADDR]`: keyward as one long-running service for
//! every agent of the user (see `keyward_gateway::transport::http`).
//!
//! Start-up: the address is checked (loopback unless `--allow-remote`) and
//! bound first, so a busy port fails before the vault is opened; then the
//! vault is unlocked (the OS credential store, a key file, the passphrase
//! variable, or — when a human started it in a terminal — a prompt), the
//! approved config is confirmed, the gateway is built, and only then is
//! `run/http.json` written: a service that is found there answers.

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;

use keyward_audit::AuditLog;
use keyward_config::Paths;
use keyward_gateway::Gateway;
use keyward_gateway::transport::http::{
    self, AgentStore, CancellationToken, Router, agents, runfile,
};

use crate::cli::ServeArgs;
use crate::config_approval;
use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::unlock::{Prompt, unlock};

pub(crate) fn run(
    paths: &Paths,
    env: &ProcessEnv,
    args: &ServeArgs,
    addr: &str,
) -> Result<ExitCode, CliError> {
    let addr = parse_addr(addr)?;
    if !http::is_loopback(&addr) {
        if !args.allow_remote {
            return Err(CliError::msg(format!(
                "refusing to listen on {addr}: not a loopback address; keyward serves plain HTTP, \
                 so agents' tokens and every answer would cross the network unencrypted \
                 (add --allow-remote if that is really what you want)"
            )));
        }
        eprintln!(
            "keyward: warning: listening on {addr}, reachable from other machines over plain HTTP \
             (no TLS): agent tokens and answers travel unencrypted; every agent still needs its token"
        );
    }
    if let Some(info) = runfile::read(&paths.data_dir)
        && runfile::probe(info.addr, std::time::Duration::from_millis(500))
    {
        return Err(CliError::msg(format!(
            "a keyward service already runs at http://{}/mcp (pid {}); stop it first",
            info.addr, info.pid
        )));
    }
    // The last approved config, not keyward.toml as it is (SECURITY.md item 6).
    let approved = config_approval::serving(paths)?;
    let listener = std::net::TcpListener::bind(addr).map_err(|e| bind_error(addr, &e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::msg(format!("cannot listen on {addr}: {e}")))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| CliError::msg(format!("cannot listen on {addr}: {e}")))?;

    let vault = unlock(paths, env, Prompt::IfTerminal)?;
    let audit = AuditLog::open(&paths.audit_file())?;
    let exec = config_approval::exec_setup(&approved, paths, &vault);
    let (config, notice) = config_approval::confirm(approved, &vault, &audit)?;
    let pins = crate::cmd::open_pins(paths, &vault, &config)?;
    let agents = AgentStore::open(&paths.data_dir.join(agents::AGENTS_FILE))
        .map_err(|e| CliError::msg(e.to_string()))?;
    if agents.count() == 0 {
        eprintln!(
            "keyward: no agent tokens yet, so every request is refused (401): \
             run `keyward agent add NAME` (no restart needed)"
        );
    }
    let settings = config.http.clone();
    // Built off the runtime, as `keyward serve` does (remote stores'
    // clients may block).
    let gateway = Gateway::following(config, vault, env, audit, pins)?;
    gateway.set_exec(exec);
    if let Some(n) = notice {
        gateway.set_config_notice(n);
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(format!("cannot start the runtime: {e}")))?;
    let data_dir = paths.data_dir.clone();
    let paths_owned = paths.clone();
    let allowed_hosts = args.allowed_hosts.clone();
    let lock_marker = crate::cmd::approvals::lock_marker(paths);
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| CliError::msg(format!("cannot listen on {bound}: {e}")))?;
        let shutdown = CancellationToken::new();
        let guard = http::guard_for(&bound, &allowed_hosts);
        // The dashboard's router is merged here, at `/`.
        let mut dashboard = keyward_gateway::dashboard::Options::new(bound.port());
        dashboard.lock_marker = Some(lock_marker);
        dashboard.shutdown = shutdown.clone();
        let extra: Router = keyward_gateway::dashboard::router(gateway.clone(), dashboard);
        gateway.set_dashboard_url(format!("http://{bound}/"));
        let app = http::app(
            gateway.clone(),
            Arc::new(agents),
            guard,
            shutdown.clone(),
            extra,
            &settings,
        );
        // `keyward approve/deny/lock` reach this service as they reach
        // `keyward serve`.
        crate::cmd::approvals::start_control(
            &paths_owned,
            &gateway,
            &tokio::runtime::Handle::current(),
        );
        let refresh = tokio::spawn(gateway.follow_secrets());
        drop(gateway);
        let pid = std::process::id();
        let info = runfile::RunInfo {
            addr: bound,
            pid,
            version: env!("CARGO_PKG_VERSION").to_string(),
        };
        runfile::write(&data_dir, &info).map_err(|e| {
            CliError::msg(format!(
                "cannot write {}: {e}",
                runfile::path(&data_dir).display()
            ))
        })?;
        eprintln!(
            "keyward: serving MCP at {} (pid {pid}); the dashboard is at http://{bound}/ \
             (log in with the vault passphrase); Ctrl-C stops it",
            info.url()
        );
        tracing::info!(addr = %bound, "keyward serving MCP over HTTP");
        let stop = shutdown.clone();
        let served = http::serve(listener, app, async move {
            stop_signal().await;
            stop.cancel();
        })
        .await;
        runfile::remove_if_ours(&data_dir, pid);
        crate::cmd::approvals::stop_control(&paths_owned);
        refresh.abort();
        served.map_err(|e| CliError::msg(format!("the HTTP server failed: {e}")))?;
        eprintln!("keyward: stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// Why `addr` cannot be listened on, and what to do: another program (or
/// another keyward home's service) holds the port.
fn bind_error(addr: SocketAddr, e: &std::io::Error) -> CliError {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => CliError::msg(format!(
            "cannot listen on {addr}: the port is in use by another program; find it with \
             `ss -ltnp 'sport = :{port}'` (or `lsof -i :{port}`), or choose another port: \
             `keyward serve --http 127.0.0.1:{next}`",
            port = addr.port(),
            next = addr.port().wrapping_add(1).max(1024),
        )),
        _ => CliError::msg(format!("cannot listen on {addr}: {e}")),
    }
}

/// `127.0.0.1:8717`, `[::1]:8717`, `localhost:8717`, or a bare port (on
/// 127.0.0.1). A name must resolve to exactly one kind of address; the
/// first is used.
pub(crate) fn parse_addr(s: &str) -> Result<SocketAddr, CliError> {
    let s = s.trim();
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Some(port) = s.strip_prefix("localhost:")
        && let Ok(port) = port.parse::<u16>()
    {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| {
            CliError::msg(format!(
                "`{s}` is not an address to listen on (use HOST:PORT, e.g. {})",
                http::DEFAULT_ADDR
            ))
        })
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::parse_addr;

    #[test]
    fn addresses() {
        assert_eq!(parse_addr("9000").unwrap().to_string(), "127.0.0.1:9000");
        assert_eq!(
            parse_addr("localhost:9000").unwrap().to_string(),
            "127.0.0.1:9000"
        );
        assert_eq!(parse_addr("[::1]:9000").unwrap().to_string(), "[::1]:9000");
        assert_eq!(
            parse_addr("0.0.0.0:9000").unwrap().to_string(),
            "0.0.0.0:9000"
        );
        assert!(parse_addr("not an address").is_err());
    }
}
