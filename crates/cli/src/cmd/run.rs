//! `keyward run [--env KEY=REF]... -- PROGRAM ARGS...`: start a program
//! (typically an MCP server named in a client's config) with the secret
//! references in its environment resolved, so the client's JSON holds
//! `keyward://NAME` instead of the token.
//!
//! - References come from `--env KEY=REF` and from every variable of the
//!   current environment whose whole value is a reference with an explicit
//!   scheme (`keyward://`, `env://`, `keychain://`, `vault://`, `file://`,
//!   any case). Other values (`DATABASE_URL=production`,
//!   `URL=postgres://...`) stay as they are.
//! - The vault is unlocked only when a `keyward://` reference needs it, and
//!   never with a prompt unless stdin is a terminal: launched by an MCP
//!   client, stdin is the MCP pipe, which belongs to the program untouched.
//! - Secrets go into the environment only, never into argv.
//!   `KEYWARD_PASSPHRASE` and `KEYWARD_VAULT_KEY_FILE` are removed: the
//!   program must not be able to open the vault.
//! - On unix keyward replaces itself with the program (`exec`), so stdio,
//!   signals and the exit status are the program's own.
//! - Errors name the variable and the reference, never a value; nothing is
//!   ever written to stdout (it is the program's).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use keyward_config::Paths;
use keyward_vault::{EnvSource, Resolver, SecretRef, SecretValue};

use crate::cli::RunArgs;
use crate::env::{OWN_SECRET_VARS, ProcessEnv};
use crate::error::CliError;
use crate::prompt;
use crate::unlock::{Prompt, unlock};

pub(crate) use keyward_vault::has_secret_scheme;

/// `[A-Za-z_][A-Za-z0-9_]*`: what every shell and `env` accept.
pub(crate) fn valid_env_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Where a variable's reference came from, for messages.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Origin {
    Flag,
    Environment,
}

/// One variable of the program's environment that gets a secret.
#[derive(Debug, PartialEq, Eq)]
struct Wanted {
    key: String,
    reference: SecretRef,
    origin: Origin,
}

impl Wanted {
    fn label(&self) -> String {
        match self.origin {
            Origin::Flag => format!("`--env {}`", self.key),
            Origin::Environment => format!("`{}` (from the environment)", self.key),
        }
    }
}

pub(crate) fn run(env: &ProcessEnv, args: RunArgs) -> Result<ExitCode, CliError> {
    let Some((program, program_args)) = args.command.split_first() else {
        return Err(CliError::msg(
            "no program to run: keyward run [--env KEY=REF]... -- PROGRAM ARGS...",
        ));
    };
    let wanted = collect(&args.env, &env.vars())?;
    let path = find_program(program, env)?;
    let values = resolve(env, &wanted)?;
    let mut cmd = Command::new(&path);
    cmd.args(program_args);
    for var in OWN_SECRET_VARS {
        cmd.env_remove(var);
    }
    for (key, value) in &values {
        cmd.env(key, env_value(value));
    }
    // The command holds its own copies; ours are zeroed here.
    drop(values);
    exec(cmd, program, &path)
}

/// The references to resolve: every `--env KEY=REF`, then every variable
/// of `environment` whose value is a reference with a scheme and that no
/// `--env` sets. All problems are reported at once.
fn collect(
    flags: &[String],
    environment: &[(OsString, OsString)],
) -> Result<Vec<Wanted>, CliError> {
    let mut wanted: Vec<Wanted> = Vec::new();
    let mut errors = Vec::new();
    for flag in flags {
        let Some((key, text)) = flag.split_once('=') else {
            // Not echoed: a value without `=` may be a pasted secret.
            errors.push(
                "`--env` expects KEY=REF, e.g. --env DATABASE_URL=keyward://pg_url (the text \
                 given has no `=`; not shown)"
                    .to_string(),
            );
            continue;
        };
        if !valid_env_name(key) {
            errors.push(format!(
                "`--env {}=...`: an environment variable name must match [A-Za-z_][A-Za-z0-9_]*",
                key.escape_debug()
            ));
            continue;
        }
        if wanted.iter().any(|w| w.key == key) {
            errors.push(format!("`--env {key}` is given twice"));
            continue;
        }
        // A bare name is a vault name here, as in `--secret`; a text that
        // looks like a token is refused without being echoed.
        match SecretRef::parse(text) {
            Ok(reference) => wanted.push(Wanted {
                key: key.to_string(),
                reference,
                origin: Origin::Flag,
            }),
            Err(e) => errors.push(format!("`--env {key}`: {e}")),
        }
    }
    for (key, value) in environment {
        let (Some(key), Some(value)) = (key.to_str(), value.to_str()) else {
            continue;
        };
        if !has_secret_scheme(value)
            || OWN_SECRET_VARS.contains(&key)
            || wanted.iter().any(|w| w.key == key)
        {
            continue;
        }
        match SecretRef::parse(value) {
            Ok(reference) => wanted.push(Wanted {
                key: key.to_string(),
                reference,
                origin: Origin::Environment,
            }),
            Err(e) => errors.push(format!("`{key}` (from the environment): {e}")),
        }
    }
    for w in &wanted {
        if let SecretRef::Env(var) = &w.reference
            && OWN_SECRET_VARS.contains(&var.as_str())
        {
            errors.push(format!(
                "{}: `{}` is keyward's own secret; it is never passed on to a program",
                w.label(),
                w.reference
            ));
        }
    }
    if errors.is_empty() {
        Ok(wanted)
    } else {
        Err(CliError::msg(errors.join("\nkeyward: ")))
    }
}

/// Finds the program as a shell would: a name with a `/` is a path (a
/// relative one from the current directory), any other name is looked up
/// in `PATH` (absolute entries only, so the current directory never
/// decides which program runs).
fn find_program(program: &OsStr, env: &ProcessEnv) -> Result<PathBuf, CliError> {
    let Some(name) = program.to_str() else {
        return Err(CliError::msg(format!(
            "the program name {} is not valid UTF-8; give its absolute path in UTF-8",
            program.display()
        )));
    };
    let name = if name.contains('/') && !Path::new(name).is_absolute() {
        let cwd = std::env::current_dir().map_err(|e| {
            CliError::msg(format!(
                "cannot find `{name}`: the current directory is unreadable: {e}"
            ))
        })?;
        cwd.join(name).to_string_lossy().into_owned()
    } else {
        name.to_string()
    };
    keyward_connectors::exec::resolve_program(&name, env.var("PATH").as_deref())
        .map_err(|e| CliError::msg(format!("cannot run `{}`: {e}", program.display())))
}

/// The value of every wanted variable. The vault is opened only if some
/// reference is a `keyward://` one, and dropped (zeroed) before returning.
fn resolve(env: &ProcessEnv, wanted: &[Wanted]) -> Result<Vec<(String, SecretValue)>, CliError> {
    let vault_users: Vec<&Wanted> = wanted
        .iter()
        .filter(|w| matches!(w.reference, SecretRef::Vault(_)))
        .collect();
    let vault = if vault_users.is_empty() {
        None
    } else {
        // Launched by an MCP client, stdin is the MCP pipe: never prompt.
        let ask = if prompt::stdin_is_terminal() {
            Prompt::IfTerminal
        } else {
            Prompt::Never
        };
        match Paths::resolve(env.home.clone())
            .map_err(CliError::from)
            .and_then(|paths| unlock(&paths, env, ask))
        {
            Ok(v) => Some(v),
            Err(e) => {
                let names: Vec<String> = vault_users
                    .iter()
                    .map(|w| format!("{} = {}", w.label(), w.reference))
                    .collect();
                eprintln!("keyward: the vault is needed for {}", names.join(", "));
                return Err(e);
            }
        }
    };
    let resolver = Resolver::new(vault.as_ref(), env).with_backends(None);
    let mut values = Vec::with_capacity(wanted.len());
    let mut errors = Vec::new();
    for w in wanted {
        match resolver.resolve(&w.reference) {
            Ok(value) => match check_value(&value) {
                Ok(()) => values.push((w.key.clone(), value)),
                Err(why) => {
                    errors.push(format!("cannot use {} = {}: {why}", w.label(), w.reference))
                }
            },
            Err(e) => errors.push(format!("cannot resolve {}: {e}", w.label())),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(CliError::msg(errors.join("\nkeyward: ")))
    }
}

/// What no environment variable can hold. The value is never described.
fn check_value(value: &SecretValue) -> Result<(), &'static str> {
    if value.expose().contains(&0) {
        return Err("the value contains a NUL byte, which no environment variable can hold");
    }
    #[cfg(not(unix))]
    if value.expose_str().is_err() {
        return Err("the value is not UTF-8 text");
    }
    Ok(())
}

#[cfg(unix)]
fn env_value(value: &SecretValue) -> &OsStr {
    std::os::unix::ffi::OsStrExt::from_bytes(value.expose())
}

#[cfg(not(unix))]
fn env_value(value: &SecretValue) -> &OsStr {
    // Checked by `check_value`.
    OsStr::new(value.expose_str().unwrap_or_default())
}

/// Replaces this process with the program: same pid, stdio and signals.
/// Only returns if the exec failed.
#[cfg(unix)]
fn exec(mut cmd: Command, program: &OsStr, path: &Path) -> Result<ExitCode, CliError> {
    use std::os::unix::process::CommandExt as _;
    // argv[0] as typed, as a shell passes it.
    cmd.arg0(program);
    let err = cmd.exec();
    Err(CliError::msg(format!(
        "cannot run `{}`: {err}",
        path.display()
    )))
}

/// Without `exec`: run the program with inherited stdio and exit with its
/// status.
#[cfg(not(unix))]
fn exec(mut cmd: Command, _program: &OsStr, path: &Path) -> Result<ExitCode, CliError> {
    let status = cmd
        .status()
        .map_err(|e| CliError::msg(format!("cannot run `{}`: {e}", path.display())))?;
    std::process::exit(status.code().unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    fn flags(f: &[&str]) -> Vec<String> {
        f.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn schemes() {
        for yes in [
            "keyward://a",
            "KEYWARD://a",
            "env://X",
            "keychain://s/a",
            "vault://kv/p#f",
            "file:///x",
        ] {
            assert!(has_secret_scheme(yes), "{yes}");
        }
        for no in [
            "production",
            "pg_url",
            "postgres://u@h/db",
            "https://x",
            " keyward://a",
            "",
        ] {
            assert!(!has_secret_scheme(no), "{no}");
        }
    }

    #[test]
    fn collects_flags_and_environment_references_only() {
        let env = os(&[
            ("DATABASE_URL", "keyward://pg_url"),
            ("MODE", "production"),
            ("HOMEPAGE", "https://example.com"),
            ("TOKEN", "env://OTHER"),
            ("OVERRIDDEN", "keyward://from_env"),
            ("KEYWARD_PASSPHRASE", "file:///etc/pass"),
        ]);
        let w = collect(
            &flags(&["API_KEY=api_key", "OVERRIDDEN=keyward://from_flag"]),
            &env,
        )
        .unwrap();
        let got: Vec<(&str, String, Origin)> = w
            .iter()
            .map(|w| (w.key.as_str(), w.reference.to_string(), w.origin))
            .collect();
        assert_eq!(
            got,
            vec![
                ("API_KEY", "keyward://api_key".to_string(), Origin::Flag),
                (
                    "OVERRIDDEN",
                    "keyward://from_flag".to_string(),
                    Origin::Flag
                ),
                (
                    "DATABASE_URL",
                    "keyward://pg_url".to_string(),
                    Origin::Environment
                ),
                ("TOKEN", "env://OTHER".to_string(), Origin::Environment),
            ]
        );
    }

    #[test]
    fn bad_flags_and_references_are_named_without_values() {
        let token = "ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9";
        let e = collect(&flags(&[token]), &[]).unwrap_err().to_string();
        assert!(!e.contains(token), "{e}");
        let e = collect(&flags(&[&format!("X={token}")]), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--env X") && !e.contains(token), "{e}");
        let e = collect(&flags(&["A=x", "A=y"]), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("given twice"), "{e}");
        let e = collect(&flags(&["1A=x"]), &[]).unwrap_err().to_string();
        assert!(e.contains("[A-Za-z_]"), "{e}");
        let e = collect(&[], &os(&[("DB", "keyward://bad name")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`DB` (from the environment)"), "{e}");
        for r in ["env://KEYWARD_PASSPHRASE", "env://KEYWARD_VAULT_KEY_FILE"] {
            let e = collect(&flags(&[&format!("P={r}")]), &[])
                .unwrap_err()
                .to_string();
            assert!(e.contains("keyward's own secret"), "{e}");
        }
    }
}
