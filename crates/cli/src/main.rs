//! `keyward`: the command-line face of the gateway. Thin by design: parsing,
//! unlocking and printing live here; everything else is in the library crates.

// This crate is the CLI's own printer: stderr directly, stdout through
// `out` (see the macros below).
#![allow(clippy::print_stderr)]

/// `println!` for the whole crate: through [`out`], so a closed pipe ends
/// the output quietly instead of panicking. Defined before the modules so
/// that it shadows std's in every one of them.
macro_rules! println {
    () => {
        $crate::out::write(format_args!("\n"), false)
    };
    ($($arg:tt)*) => {
        $crate::out::write(format_args!("{}\n", format_args!($($arg)*)), false)
    };
}

/// `print!` for the whole crate (flushed: it ends a prompt or a partial
/// line); see `println!`.
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*), true)
    };
}

mod cli;
mod cmd;
mod config_approval;
mod env;
mod error;
mod files;
mod out;
mod prompt;
mod unlock;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let env = env::ProcessEnv::capture();
    init_tracing(&env);
    match cmd::run(cli, &env) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", error::report(&e));
            ExitCode::from(2)
        }
    }
}

/// Logs go to stderr (stdout belongs to the MCP transport), at `warn` unless
/// `KEYWARD_LOG` says otherwise. keyward's own crates never log a value;
/// libraries are capped at `warn` whatever the filter says, because their
/// debug output holds whole messages (rmcp logs every request, the HTTP
/// stack logs headers).
fn init_tracing(env: &env::ProcessEnv) {
    let mut filter = tracing_subscriber::EnvFilter::try_new(env.log.as_deref().unwrap_or("warn"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    for (dep, level) in CAPPED_LOG_TARGETS {
        if let Ok(d) = format!("{dep}={level}").parse() {
            filter = filter.add_directive(d);
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// rmcp logs unexpected messages with their content even at `warn`.
const CAPPED_LOG_TARGETS: &[(&str, &str)] = &[
    ("rmcp", "error"),
    ("hyper", "warn"),
    ("hyper_util", "warn"),
    ("h2", "warn"),
    ("reqwest", "warn"),
    ("rustls", "warn"),
    ("tokio_util", "warn"),
    ("zbus", "warn"),
    ("keyring", "warn"),
    ("tower", "warn"),
];
