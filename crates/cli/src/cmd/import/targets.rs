//! Which client configs an import reads: every known one that exists, the
//! ones of one client, or one file given by path.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use keyward_migrate::locate::{self, Client, Format};
use keyward_vault::EnvSource;

use crate::env::ProcessEnv;
use crate::error::CliError;

pub(super) struct Target {
    pub(super) path: PathBuf,
    pub(super) client: Option<Client>,
    pub(super) format: Format,
}

pub(crate) fn context(env: &ProcessEnv) -> Result<locate::Context, CliError> {
    let home = env
        .var("HOME")
        .or_else(|| env.var("USERPROFILE"))
        .map(PathBuf::from)
        .ok_or_else(|| CliError::msg("cannot find your home directory: HOME is not set"))?;
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::msg(format!("cannot read the current directory: {e}")))?;
    Ok(locate::Context {
        home,
        cwd,
        platform: locate::Platform::current(),
        appdata: env.var("APPDATA").map(PathBuf::from),
        xdg_config_home: env.var("XDG_CONFIG_HOME").map(PathBuf::from),
    })
}

pub(super) fn resolve(env: &ProcessEnv, target: Option<&str>) -> Result<Vec<Target>, CliError> {
    let ctx = context(env)?;
    let known = locate::known_configs(&ctx);
    let existing = |c: &locate::KnownConfig| c.path.is_file();
    let as_target = |c: &locate::KnownConfig| Target {
        path: c.path.clone(),
        client: Some(c.client),
        format: c.format,
    };
    match target {
        None => {
            let found: Vec<Target> = known
                .iter()
                .filter(|c| existing(c))
                .map(as_target)
                .collect();
            if found.is_empty() {
                return Err(CliError::msg(format!(
                    "no MCP client config found (looked at {} places); give a file: keyward import PATH",
                    known.len()
                )));
            }
            Ok(dedup(found))
        }
        Some(t) if !t.contains(['/', '\\']) && Client::from_str(t).is_ok() => {
            let client = Client::from_str(t).map_err(|_| CliError::msg("unknown client"))?;
            let mine: Vec<&locate::KnownConfig> =
                known.iter().filter(|c| c.client == client).collect();
            let found: Vec<Target> = mine
                .iter()
                .filter(|c| existing(c))
                .map(|c| as_target(c))
                .collect();
            if found.is_empty() {
                let looked: Vec<String> =
                    mine.iter().map(|c| c.path.display().to_string()).collect();
                return Err(CliError::msg(format!(
                    "no {t} config found (looked at: {})",
                    looked.join(", ")
                )));
            }
            Ok(dedup(found))
        }
        Some(t) => {
            let path = std::path::absolute(Path::new(t))
                .map_err(|e| CliError::msg(format!("{t}: {e}")))?;
            if !path.is_file() {
                return Err(CliError::msg(format!(
                    "{t}: no such file (give a config file, or one of the clients: {})",
                    clients_list()
                )));
            }
            let same = |c: &&locate::KnownConfig| {
                c.path == path
                    || (c.path.canonicalize().ok().is_some()
                        && c.path.canonicalize().ok() == path.canonicalize().ok())
            };
            Ok(vec![match known.iter().find(same) {
                Some(c) => as_target(c),
                None => Target {
                    format: format_of(&path),
                    path,
                    client: None,
                },
            }])
        }
    }
}

/// The same file can be known under two clients (a project's `.mcp.json`
/// and `~/.claude.json` never are, but a symlinked settings file can be):
/// read it once.
fn dedup(targets: Vec<Target>) -> Vec<Target> {
    let mut seen: Vec<PathBuf> = Vec::new();
    targets
        .into_iter()
        .filter(|t| {
            let key = t.path.canonicalize().unwrap_or_else(|_| t.path.clone());
            if seen.contains(&key) {
                false
            } else {
                seen.push(key);
                true
            }
        })
        .collect()
}

fn format_of(path: &Path) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("toml") => Format::Toml,
        _ => Format::Jsonc,
    }
}

fn clients_list() -> &'static str {
    "claude-desktop, claude-code, cursor, vscode, windsurf, zed, codex, gemini"
}
