//! `[commands.*]` as written by people, and its validation into
//! [`Command`].

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use keyward_policy::{Action, ArgvPattern, CommandRule, CwdPattern};
use serde::Deserialize;

use crate::upstream::{Command, DEFAULT_MAX_OUTPUT_BYTES};
use crate::validate::Ctx;
use crate::validate_servers::validate_env;
use crate::values::{key, parse_rate, validate_program, validate_upstream_name};
use crate::{ConfigError, parse_duration};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommand {
    program: String,
    /// Required, but optional here so that its absence gets a message
    /// naming the key rather than a generic "missing field".
    args: Option<Vec<String>>,
    #[serde(default)]
    deny_args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    timeout: Option<String>,
    rate: Option<String>,
    burst: Option<u32>,
    max_output_bytes: Option<usize>,
    description: Option<String>,
    /// Working directories the agent may choose; none by default.
    #[serde(default)]
    cwd: Vec<String>,
    /// HOME for the program; default: a private, empty one per run.
    home: Option<String>,
}

/// `default_timeout` is `limits.timeout`.
pub(crate) fn validate_command(
    ctx: &Ctx<'_>,
    name: &str,
    raw: RawCommand,
    default_timeout: Duration,
) -> Result<Command, ConfigError> {
    let base = format!("commands.{}", key(name));
    let at = |field: &str| format!("{base}.{field}");
    validate_upstream_name("command", name).map_err(|m| ctx.invalid(&base, m))?;
    validate_program(&raw.program).map_err(|m| ctx.invalid(at("program"), m))?;
    let allows = raw.args.unwrap_or_default();
    if allows.is_empty() {
        return Err(ctx.invalid(
            at("args"),
            "a command needs at least one allowed argument pattern, e.g. `args = [\"issue *\"]`",
        ));
    }
    let mut rules = Vec::with_capacity(allows.len() + raw.deny_args.len());
    for (field, action, patterns) in [
        ("args", Action::Allow, &allows),
        ("deny_args", Action::Deny, &raw.deny_args),
    ] {
        for (i, p) in patterns.iter().enumerate() {
            let pattern = ArgvPattern::parse(p)
                .map_err(|e| ctx.invalid(format!("{base}.{field}[{i}]"), e.to_string()))?;
            rules.push(CommandRule { action, pattern });
        }
    }
    let timeout = match raw.timeout {
        None => default_timeout,
        Some(t) => parse_duration(&t).map_err(|m| ctx.invalid(at("timeout"), m))?,
    };
    let max_output_bytes = match raw.max_output_bytes {
        None => DEFAULT_MAX_OUTPUT_BYTES,
        Some(0) => return Err(ctx.invalid(at("max_output_bytes"), "must be greater than zero")),
        Some(n) => n,
    };
    let mut cwd = Vec::with_capacity(raw.cwd.len());
    for (i, p) in raw.cwd.iter().enumerate() {
        let pattern = CwdPattern::parse(p).map_err(|e| {
            ctx.invalid(
                format!("{base}.cwd[{i}]"),
                format!("`{}` {e}", p.escape_debug()),
            )
        })?;
        cwd.push(pattern);
    }
    let home = match raw.home {
        None => None,
        Some(h) => Some(validate_home(&h).map_err(|m| ctx.invalid(at("home"), m))?),
    };
    Ok(Command {
        name: name.to_string(),
        program: raw.program,
        rules,
        env: validate_env(ctx, &at("env"), raw.env)?,
        timeout,
        rate: parse_rate(ctx, &base, raw.rate.as_deref(), raw.burst)?,
        max_output_bytes,
        description: raw.description,
        cwd,
        home,
    })
}

/// `home` names a directory the human chose: absolute, no `.`/`..`
/// components (the path that is shown is the path that is used).
fn validate_home(h: &str) -> Result<PathBuf, String> {
    let path = Path::new(h);
    if !path.is_absolute() {
        return Err(format!(
            "`{}` must be an absolute path (or leave `home` out: each run gets a private, empty HOME)",
            h.escape_debug()
        ));
    }
    if h.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if path
        .components()
        .any(|c| matches!(c, Component::CurDir | Component::ParentDir))
    {
        return Err(format!(
            "`{}` must not contain `.` or `..`",
            h.escape_debug()
        ));
    }
    Ok(path.to_path_buf())
}
