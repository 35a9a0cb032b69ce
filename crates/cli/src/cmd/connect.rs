//! `keyward connect`: a stdio MCP server for clients that only spawn stdio
//! servers, forwarding everything to the running `keyward serve --http`
//! (`keyward_gateway::transport::http::bridge`), so those clients share its state:
//! upstream servers, rate budgets, approvals.
//!
//! The agent token comes from `KEYWARD_AGENT_TOKEN` (the client config's
//! `env`) or `--token-file`, never from an argument. If no service runs
//! (no `run/http.json`, or nothing answers at its address) one is started
//! — `keyward serve --http` detached, its stderr appended to
//! `run/http.log` — and waited for; a start that fails (the vault cannot be
//! unlocked without a prompt, say) is reported with the service's own
//! error.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use keyward_config::Paths;
use keyward_gateway::transport::http::bridge::{self, BridgeEnd};
use keyward_gateway::transport::http::{self, agents::TOKEN_PREFIX, runfile};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use zeroize::Zeroizing;

use crate::cli::ConnectArgs;
use crate::cmd::config_file;
use crate::error::CliError;
use crate::files::create_private_dir;

/// The variable that holds the agent token.
pub(crate) const TOKEN_VAR: &str = "KEYWARD_AGENT_TOKEN";

/// How long a started service may take to answer (an unlock through the
/// OS credential store, upstream servers' start).
const START_TIMEOUT: Duration = Duration::from_secs(60);
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

pub(crate) fn run(paths: &Paths, args: ConnectArgs) -> Result<ExitCode, CliError> {
    let token = token(args.token_file.as_deref())?;
    config_file(paths)?;
    let info = match live_service(paths) {
        Some(info) => info,
        None if args.no_start => {
            return Err(CliError::msg(format!(
                "no keyward service is running (nothing answers at the address in {}); start one with \
                 `keyward serve --http`",
                runfile::path(&paths.data_dir).display()
            )));
        }
        None => start_service(paths, args.addr.as_deref().unwrap_or(http::DEFAULT_ADDR))?,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(format!("cannot start the runtime: {e}")))?;
    let end = rt.block_on(async move {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| CliError::msg(format!("cannot build the HTTP client: {e}")))?;
        let config =
            StreamableHttpClientTransportConfig::with_uri(info.url()).auth_header(token.as_str());
        let service = StreamableHttpClientTransport::with_client(client, config);
        let (stdin, stdout) = rmcp::transport::io::stdio_pipes();
        let stdio = AsyncRwTransport::new_server(stdin, stdout);
        let url = info.url();
        Ok::<_, CliError>(bridge::run(stdio, service, move |e| explain(&url, e)).await)
    })?;
    match end {
        BridgeEnd::ClientClosed | BridgeEnd::ClientGone => Ok(ExitCode::SUCCESS),
        BridgeEnd::ServiceClosed => Err(CliError::msg(
            "the keyward service closed the connection (it stopped, or refused the agent token); \
             see run/http.log in keyward's data directory",
        )),
    }
}

/// What the client is told when a message could not be posted.
fn explain(url: &str, error: &str) -> String {
    if error.contains("Auth required") || error.contains("401") {
        format!(
            "keyward refused the agent token at {url} (revoked or mistyped?): set {TOKEN_VAR} to a \
             token from `keyward agent add NAME`"
        )
    } else {
        format!("keyward connect could not reach the keyward service at {url}: {error}")
    }
}

/// The agent token: `--token-file` (first line) or `KEYWARD_AGENT_TOKEN`.
fn token(file: Option<&Path>) -> Result<Zeroizing<String>, CliError> {
    let raw = match file {
        Some(path) => {
            let mut text = Zeroizing::new(String::new());
            File::open(path)
                .and_then(|f| f.take(4096).read_to_string(&mut text))
                .map_err(|e| CliError::msg(format!("cannot read {}: {e}", path.display())))?;
            warn_if_readable_by_others(path);
            Zeroizing::new(text.lines().next().unwrap_or("").trim().to_string())
        }
        None => Zeroizing::new(
            std::env::var(TOKEN_VAR)
                .unwrap_or_default()
                .trim()
                .to_string(),
        ),
    };
    if raw.is_empty() {
        return Err(CliError::msg(format!(
            "no agent token: set {TOKEN_VAR} in the client's config (its `env`), or pass \
             --token-file PATH; `keyward agent add NAME` makes a token"
        )));
    }
    if !raw.starts_with(TOKEN_PREFIX) || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(CliError::msg(format!(
            "the agent token does not look like one from `keyward agent add` (they start with \
             {TOKEN_PREFIX})"
        )));
    }
    Ok(raw)
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path)
            && m.permissions().mode() & 0o077 != 0
        {
            eprintln!(
                "keyward: warning: {} is readable by other users; `chmod 600` it",
                path.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// The recorded service, if it answers.
fn live_service(paths: &Paths) -> Option<runfile::RunInfo> {
    runfile::read(&paths.data_dir).filter(|i| runfile::probe(i.addr, PROBE_TIMEOUT))
}

/// Starts `keyward serve --http ADDR` detached and waits until it answers.
/// Two `connect`s starting at once: the second waits for the first's
/// service (a lock file serialises the starts).
fn start_service(paths: &Paths, addr: &str) -> Result<runfile::RunInfo, CliError> {
    let run_dir = runfile::run_dir(&paths.data_dir);
    create_private_dir(&run_dir)?;
    let lock_path = run_dir.join("start.lock");
    let _lock = keyward_fsio::lock_exclusive(&lock_path).map_err(|e| {
        CliError::msg(format!(
            "cannot lock {}: {}",
            lock_path.display(),
            e.into_io()
        ))
    })?;
    if let Some(info) = live_service(paths) {
        return Ok(info);
    }
    let log_path = run_dir.join("http.log");
    let log = open_log(&log_path)?;
    let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
    let exe = std::env::current_exe()
        .map_err(|e| CliError::msg(format!("cannot find the keyward binary: {e}")))?;
    let mut cmd = Command::new(exe);
    cmd.args(["serve", "--http", addr])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        // The service is keyward's, not this agent's.
        .env_remove(TOKEN_VAR);
    #[cfg(unix)]
    {
        // Its own process group: the client's Ctrl-C or hang-up does not
        // reach it, and it outlives this bridge.
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| CliError::msg(format!("cannot start `keyward serve --http`: {e}")))?;
    eprintln!(
        "keyward: started `keyward serve --http {addr}` (pid {}); its log: {}",
        child.id(),
        log_path.display()
    );
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(CliError::msg(format!(
                "the keyward service could not start ({status}):\n{}",
                log_tail(&log_path, log_start)
            )));
        }
        if let Some(info) = runfile::read(&paths.data_dir)
            && info.pid == child.id()
            && runfile::probe(info.addr, PROBE_TIMEOUT)
        {
            return Ok(info);
        }
        if started.elapsed() > START_TIMEOUT {
            return Err(CliError::msg(format!(
                "the keyward service (pid {}) did not answer within {} s; see {}",
                child.id(),
                START_TIMEOUT.as_secs(),
                log_path.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The last lines the service wrote to its log since `from`.
fn log_tail(path: &Path, from: u64) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.seek(SeekFrom::Start(from));
        let _ = f.take(64 * 1024).read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(12)..];
    if tail.is_empty() {
        format!("  (nothing in {})", path.display())
    } else {
        tail.iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The service's log, appended to (mode 0600 when created).
fn open_log(path: &Path) -> Result<File, CliError> {
    let mut opts = OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
        .map_err(|e| CliError::msg(format!("cannot open {}: {e}", path.display())))
}
