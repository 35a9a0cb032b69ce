//! `keyward scan`: plaintext secrets in MCP client configs, `.env` files
//! and shell rc files. Reads only; prints masked previews, never values.
//!
//! Exit status: 1 when a secret was found (even if some file could not be
//! read), else 2 when a file could not be scanned (unreadable, invalid,
//! too large, or a PATH that does not exist), else 0.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use keyward_migrate::locate::{self, Context, Platform};
use keyward_migrate::report::{self, Style};
use keyward_migrate::scan::{self, Target};
use keyward_vault::EnvSource;

use crate::cli::ScanArgs;
use crate::env::ProcessEnv;
use crate::error::CliError;

pub(crate) fn run(env: &ProcessEnv, args: ScanArgs) -> Result<ExitCode, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::msg(format!("cannot read the current directory: {e}")))?;
    let targets: Vec<Target> = if args.paths.is_empty() {
        let ctx = context(env, cwd)?;
        locate::known_configs(&ctx)
            .iter()
            .map(Target::known)
            .collect()
    } else {
        args.paths
            .into_iter()
            .map(|p| Target::given(if p.is_absolute() { p } else { cwd.join(p) }))
            .collect()
    };
    let outcome = scan::run(&targets);
    for w in &outcome.warnings {
        eprintln!("keyward: warning: {}", report::printable(w));
    }
    for e in &outcome.errors {
        eprintln!("keyward: {}", report::printable(&e.to_string()));
    }
    let text = if args.json {
        report::json(&outcome)
    } else if args.sarif {
        report::sarif(&outcome)
    } else {
        let color = std::io::stdout().is_terminal() && env.var("NO_COLOR").is_none();
        let style = if color { Style::Color } else { Style::Plain };
        report::table_with(&outcome, style, args.show_skipped)
    };
    print!("{text}");
    Ok(ExitCode::from(outcome.exit_code()))
}

/// Where the client configs are, from the environment (the library never
/// reads it).
fn context(env: &ProcessEnv, cwd: PathBuf) -> Result<Context, CliError> {
    let home = env
        .var("HOME")
        .or_else(|| env.var("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| {
            CliError::msg("cannot find your home directory: HOME is not set (or name the files: keyward scan PATH...)")
        })?;
    let non_empty = |k: &str| env.var(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    Ok(Context {
        home,
        cwd,
        platform: Platform::current(),
        appdata: non_empty("APPDATA"),
        xdg_config_home: non_empty("XDG_CONFIG_HOME"),
    })
}
