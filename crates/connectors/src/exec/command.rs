//! How keyward starts any child (an upstream MCP server or an allow-listed
//! command): a clean environment, no shell, its own process group.
//!
//! Shared by `exec` and `mcp` so that both kinds of children are built the
//! same way, and a fix to one is a fix to both.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::Path;

use keyward_vault::SecretValue;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Why an environment entry was refused. Names the variable, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvError {
    #[error("environment variable name `{name}` is invalid: {reason}")]
    BadName { name: String, reason: &'static str },
    #[error("the value of environment variable `{name}` contains a NUL byte")]
    NulInValue { name: String },
    /// Argument `index` (0-based, after the program) holds a NUL byte.
    #[error("argument {index} contains a NUL byte")]
    NulInArg { index: usize },
}

/// Builds the command for a child.
///
/// The environment is built from scratch: `env_clear()`, then `inherit` (the
/// allow-listed part of keyward's own environment, chosen by the caller),
/// then `env` (declared values, which may be secrets and win over `inherit`).
/// Nothing else of keyward's environment — `KEYWARD_PASSPHRASE` above all —
/// reaches the child. Secrets go into the environment; argv holds one only
/// where keyward.toml puts a reference in a server's `args` (visible to
/// local processes while the child runs, which the user chose).
///
/// `args` are passed as separate argv entries to `program` itself: there is
/// no shell, so quotes, `;`, `$(...)` and globs mean nothing.
///
/// The child leads a new process group (pgid = its pid) so that
/// [`kill_group`] reaches whatever it spawns, and is killed if the
/// `Child` handle is dropped.
pub(crate) fn clean_command<A: AsRef<OsStr>>(
    program: &Path,
    args: impl IntoIterator<Item = A>,
    inherit: &[(String, String)],
    env: &[(String, SecretValue)],
    cwd: Option<&Path>,
) -> Result<tokio::process::Command, EnvError> {
    let mut cmd = tokio::process::Command::new(program);
    for (index, arg) in args.into_iter().enumerate() {
        // As for env values below: a clear error, and no copy of the value.
        if arg.as_ref().as_bytes().contains(&0) {
            return Err(EnvError::NulInArg { index });
        }
        cmd.arg(arg);
    }
    cmd.env_clear();
    for (name, value) in inherit {
        check_name(name)?;
        if value.contains('\0') {
            return Err(EnvError::NulInValue { name: name.clone() });
        }
        cmd.env(name, value);
    }
    for (name, value) in env {
        check_name(name)?;
        // Checked here so that the spawn error can never be the vague
        // "nul byte found in provided data", and the value is not copied
        // into an error. (The `Command` keeps its own, unzeroed copy of
        // the value until it is dropped: std offers no way around that.)
        if value.expose().contains(&0) {
            return Err(EnvError::NulInValue { name: name.clone() });
        }
        cmd.env(name, OsStr::from_bytes(value.expose()));
    }
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.process_group(0).kill_on_drop(true);
    Ok(cmd)
}

fn check_name(name: &str) -> Result<(), EnvError> {
    let reason = if name.is_empty() {
        "empty"
    } else if name.contains('=') {
        "contains `=`"
    } else if name.contains('\0') {
        "contains a NUL byte"
    } else {
        return Ok(());
    };
    Err(EnvError::BadName {
        name: name.escape_debug().to_string(),
        reason,
    })
}

/// Sends `signal` to the whole process group led by `pid`.
///
/// Errors are ignored: `ESRCH` means the group is already gone, which is
/// what we wanted. Pids 0 and 1 are refused outright — `killpg(0)` would hit
/// keyward's own group.
///
/// Callers may use this after reaping the leader, to kill what it left
/// behind. The group id cannot be reused while any member is alive; once the
/// group is empty a new group with the same id could in theory appear in the
/// microseconds between the reap and this call — an accepted, documented
/// race, far smaller than leaving grandchildren running.
pub(crate) fn kill_group(pid: u32, signal: Signal) {
    if let Some(group) = group_of(pid) {
        let _ = killpg(group, signal);
    }
}

/// The process group a child leads, or `None` for ids that must never be
/// signalled as a group (0 is the caller's own group, 1 is init's).
fn group_of(pid: u32) -> Option<Pid> {
    let raw = i32::try_from(pid).ok()?;
    (raw > 1).then(|| Pid::from_raw(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_ARGS: [&str; 0] = [];

    #[test]
    fn a_nul_in_an_argument_is_refused_without_the_value() {
        let secret = SecretValue::from_str("kw_canary_argnul\0tail");
        let args = [OsStr::new("-y"), OsStr::from_bytes(secret.expose())];
        let err = clean_command(Path::new("/bin/true"), args, &[], &[], None).unwrap_err();
        assert_eq!(err, EnvError::NulInArg { index: 1 });
        assert!(!format!("{err} {err:?}").contains("kw_canary"));
    }

    #[test]
    fn bad_names_and_nul_values_are_refused_without_the_value() {
        let p = Path::new("/bin/true");
        for bad in ["", "A=B", "A\0B"] {
            let err =
                clean_command(p, NO_ARGS, &[(bad.into(), "v".into())], &[], None).unwrap_err();
            assert!(matches!(err, EnvError::BadName { .. }), "{bad:?}");
        }
        let secret = SecretValue::from_str("kw_canary_nul\0tail");
        let err = clean_command(p, NO_ARGS, &[], &[("TOKEN".into(), secret)], None).unwrap_err();
        assert_eq!(
            err,
            EnvError::NulInValue {
                name: "TOKEN".into()
            }
        );
        assert!(!format!("{err} {err:?}").contains("kw_canary_nul"));
    }

    #[test]
    fn never_signals_own_group_or_init() {
        assert_eq!(group_of(0), None);
        assert_eq!(group_of(1), None);
        assert_eq!(group_of(u32::MAX), None);
        assert_eq!(group_of(4242), Some(Pid::from_raw(4242)));
    }
}
