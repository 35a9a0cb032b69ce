//! `keyward demo`: keyward at work before any agent is wired up.
//!
//! A throwaway home in a temp dir (keyward.toml, a vault holding a random
//! demo key, an audit log), an echo API on 127.0.0.1 ([`super::demo_echo`])
//! and an MCP client in this process that makes the calls an agent would.
//! Nothing is simulated: the gateway is the one `keyward serve` builds from
//! an approved config (`serve::gateway`), the client talks MCP to the same
//! [`KeywardServer`] the stdio transport serves, so every call walks
//! `pipeline::run`; the confirmation is answered through the control
//! socket as `keyward approve` / `keyward deny` answer it, and the log is
//! printed by `keyward audit`'s own code. The user's own KEYWARD_HOME,
//! client configs and OS keychain are never looked at; nothing leaves
//! 127.0.0.1.
//!
//! Every step checks what it shows (the key reached the API, the answer
//! held `[REDACTED]` and not the key, the deny sent nothing, ...), so the
//! demo is also a self-test of the install: exit 1 names the steps that did
//! not behave as expected.

mod steps;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use keyward_config::Paths;
use keyward_gateway::KeywardServer;
use keyward_vault::{KdfParams, SecretValue, Vault, key_file_write};
use rmcp::ServiceExt;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::{RoleClient, RunningService};

use super::demo_echo::EchoApi;
use crate::cli::DemoArgs;
use crate::env::ProcessEnv;
use crate::error::CliError;

/// The demo key's name in the demo vault.
const SECRET_NAME: &str = "echo_key";
/// The demo agent's `clientInfo`.
const AGENT: (&str, &str) = ("demo-agent", "1");

pub(crate) fn run(args: DemoArgs) -> Result<ExitCode, CliError> {
    let home = tempfile::Builder::new()
        .prefix("keyward-demo-")
        .tempdir()
        .map_err(|e| CliError::msg(format!("cannot make the demo's temp dir: {e}")))?;
    let result = demo(home.path(), &args);
    if args.keep {
        let kept = home.keep();
        println!();
        println!("kept the demo home: {}", kept.display());
        println!("  KEYWARD_HOME={} keyward audit", kept.display());
        println!(
            "  (its vault opens with KEYWARD_VAULT_KEY_FILE={}; remove the directory when done)",
            kept.join(KEY_FILE).display()
        );
    }
    // Otherwise the temp dir goes with `home`.
    result
}

/// The vault key file in the demo home (so that `--keep`'s home can be
/// looked at; the demo key is worthless outside this run).
const KEY_FILE: &str = "vault.key";

fn demo(home: &Path, args: &DemoArgs) -> Result<ExitCode, CliError> {
    let paths = Paths::in_dir(home);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(format!("cannot start the runtime: {e}")))?;
    rt.spawn(on_interrupt(home.to_path_buf(), args.keep));
    let echo = rt
        .block_on(EchoApi::start())
        .map_err(|e| CliError::msg(format!("cannot start the echo API on 127.0.0.1: {e}")))?;
    let setup = make_home(&paths, &echo.origin)?;
    intro(&setup, &echo);

    let gateway = super::serve::gateway(&paths, &setup.env, rt.handle())?;
    let client = std::sync::Arc::new(rt.block_on(connect(gateway))?);
    let demo = steps::Demo {
        rt: &rt,
        paths: &paths,
        client: &client,
        echo: &echo,
        secret: &setup.secret,
        passphrase: &setup.passphrase,
        answer: steps::Answer::from_args(args),
    };
    let failures = demo.run_all();
    // The MCP connection, the control socket and the echo API end here,
    // before the temp home is removed.
    drop(client);
    rt.shutdown_timeout(Duration::from_secs(2));
    super::approvals::stop_control(&paths);

    println!();
    if failures.is_empty() {
        println!("every step behaved as expected: keyward works on this machine.");
        println!(
            "next: `keyward init` sets up your own keyward (this demo changed nothing of yours)"
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &failures {
            eprintln!("keyward demo: FAILED: {f}");
        }
        Ok(ExitCode::FAILURE)
    }
}

/// Ctrl-C (at the prompt, say) ends the demo as its end would: the home
/// is removed, or with `--keep` its path printed.
async fn on_interrupt(home: std::path::PathBuf, keep: bool) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    if keep {
        eprintln!(
            "\nkeyward demo: interrupted; kept the demo home: {}",
            home.display()
        );
    } else {
        let _ = std::fs::remove_dir_all(&home);
        eprintln!("\nkeyward demo: interrupted; the demo home was removed");
    }
    std::process::exit(130);
}

/// What the demo home holds, and how to open it.
struct Setup {
    secret: SecretValue,
    passphrase: SecretValue,
    env: ProcessEnv,
    config: String,
}

/// keyward.toml for the echo API, a vault holding a random demo key, the
/// config approved and the (empty) tool pins sealed, as `keyward init`,
/// `secret set` and `config approve` would leave them.
fn make_home(paths: &Paths, origin: &str) -> Result<Setup, CliError> {
    let secret = random_text("kw_demo_", 16)?;
    let passphrase = random_text("", 24)?;
    let config = demo_config(origin);
    let file = paths.config_file();
    keyward_fsio::create_new_private(&file, config.as_bytes())
        .map_err(|e| CliError::msg(format!("cannot write {}: {e}", file.display())))?;
    let mut vault = Vault::create(&paths.vault_file(), &passphrase, KdfParams::DEFAULT)?;
    vault.update(|e| e.set(SECRET_NAME, secret.clone()))?;
    let key_file = paths.data_dir.join(KEY_FILE);
    key_file_write(&key_file, vault.key())?;
    let (pins, _) = keyward_approved::programs::pin(&config, None, None);
    keyward_approved::record(paths, &vault, &config, "keyward demo", &pins)?;
    keyward_gateway::servers::PinStore::create(&super::pins_file(paths), vault.sealer())
        .map_err(|e| CliError::msg(e.to_string()))?;
    let env = ProcessEnv {
        home: Some(paths.config_dir.clone()),
        key_file: Some(key_file),
        // For the passphrase check of the approval (see steps::Demo::answer).
        passphrase: Some(passphrase.clone()),
        no_keychain: true,
        session_bus_var: false,
        log: None,
    };
    Ok(Setup {
        secret,
        passphrase,
        env,
        config,
    })
}

/// The demo's keyward.toml: one service, the echo API, and its rules.
fn demo_config(origin: &str) -> String {
    format!(
        r#"# keyward demo: a throwaway home (removed at the end unless --keep).

[approvals]
# Long enough to read the question; no desktop notification.
timeout = "5m"
notify = false

[services.echo]
base_url = "{origin}"
auth = {{ type = "bearer", secret = "{SECRET_NAME}" }}

[[services.echo.rules]]
action = "allow"
methods = ["GET"]
paths = ["/v1/**"]

[[services.echo.rules]]
action = "confirm"
methods = ["POST"]
paths = ["/v1/refunds/**"]
"#
    )
}

/// `prefix` and `bytes` random bytes in hex.
fn random_text(prefix: &str, bytes: usize) -> Result<SecretValue, CliError> {
    let mut raw = zeroize::Zeroizing::new(vec![0u8; bytes]);
    getrandom::fill(&mut raw)
        .map_err(|e| CliError::msg(format!("no randomness from the OS: {e}")))?;
    let mut text = zeroize::Zeroizing::new(String::with_capacity(prefix.len() + 2 * bytes));
    text.push_str(prefix);
    for b in raw.iter() {
        text.push(char::from(HEX[usize::from(b >> 4)]));
        text.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    Ok(SecretValue::from_str(&text))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn intro(setup: &Setup, echo: &EchoApi) {
    println!("keyward demo: an agent's calls through keyward, in a throwaway home");
    println!(
        "  (your own keyward home, client configs and OS keychain are not touched; nothing leaves 127.0.0.1)"
    );
    println!();
    println!("setup");
    println!(
        "  echo API   {}: answers every request with what it received, Authorization header included",
        echo.origin
    );
    println!(
        "  secret     `{SECRET_NAME}` in the demo vault: {} bytes, random for this run ({})",
        setup.secret.len(),
        steps::masked(&setup.secret)
    );
    println!("  rules      keyward.toml, [services.echo]:");
    for line in rules_of(&setup.config) {
        println!("               {line}");
    }
    println!("               anything else: denied (no rule allows it)");
    println!(
        "  agent      an MCP client in this process (\"{} {}\"), connected to the MCP server `keyward serve` runs",
        AGENT.0, AGENT.1
    );
}

/// `#1 allow GET /v1/**`, ... from the demo config, as `keyward service
/// list` shows them.
fn rules_of(config: &str) -> Vec<String> {
    let Ok(parsed) = keyward_config::Config::parse(config, Path::new("keyward.toml")) else {
        return Vec::new();
    };
    parsed
        .services
        .get("echo")
        .map(|s| {
            s.rules
                .iter()
                .enumerate()
                .map(|(i, r)| format!("#{} {}", i + 1, r.text()))
                .collect()
        })
        .unwrap_or_default()
}

/// The demo agent: an MCP client over an in-process pipe to the server
/// `keyward serve` runs on stdio. It declares no elicitation, so a
/// `confirm` waits for the other channels (here: the terminal).
async fn connect(
    gateway: keyward_gateway::Gateway,
) -> Result<RunningService<RoleClient, ClientConfig>, CliError> {
    let (server_end, client_end) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        match KeywardServer::new(gateway).serve(server_end).await {
            Ok(running) => {
                let _ = running.waiting().await;
            }
            Err(e) => tracing::warn!(error = %e, "the demo's MCP server stopped"),
        }
    });
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new(AGENT.0, AGENT.1),
    )
    .serve(client_end)
    .await
    .map_err(|e| CliError::msg(format!("the demo agent cannot connect: {e}")))
}
