//! `keyward secret set|list|rm|rotate`.
//!
//! `set --backend` picks where the value goes:
//! - `local` (default): the encrypted vault; reference `keyward://NAME`.
//! - `keychain`: the OS credential store, service `keyward`, account NAME;
//!   reference `keychain://keyward/NAME`.
//! - `vault:MOUNT/PATH` or `vault:MOUNT/PATH#FIELD`: OpenBao / HashiCorp
//!   Vault KV v2, field FIELD (NAME when no `#FIELD`) of the secret at
//!   MOUNT/PATH. The other fields are kept: the current version is read and
//!   written back with check-and-set, so a concurrent change is never
//!   lost. Reference `vault://MOUNT/PATH#FIELD`.
//!
//! The value is read from stdin (one line) or a no-echo prompt, never an
//! argument; what is printed is the reference to put in keyward.toml.

use std::process::ExitCode;

use keyward_config::{Config, Paths};
use keyward_vault::{
    OpenBaoError, Resolver, SecretRef, SecretValue, Vault, keychain_remove, keychain_set,
    validate_secret_name,
};

use crate::cli::SecretCmd;
use crate::cmd::doctor::{age_text, check_refs, now_secs};
use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::prompt;
use crate::unlock::{Prompt, unlock};

/// Shorter values would make the scrubber hide ordinary text, so it skips
/// them; warn that they are not protected in answers.
const SHORT: usize = 8;

/// The OS credential store's service for secrets keyward stores there.
const KEYCHAIN_SERVICE: &str = "keyward";

/// Where `secret set` puts a value.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    Local,
    Keychain,
    OpenBao {
        mount: String,
        path: String,
        field: String,
    },
}

fn parse_backend(backend: &str, name: &str) -> Result<Target, CliError> {
    match backend {
        "local" | "keyward" => Ok(Target::Local),
        "keychain" => Ok(Target::Keychain),
        b => {
            let Some(rest) = b.strip_prefix("vault:") else {
                return Err(CliError::msg(format!(
                    "unknown backend `{b}`: use `local` (the vault, default), `keychain`, or \
                     `vault:MOUNT/PATH[#FIELD]` (OpenBao/Vault KV v2)"
                )));
            };
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let text = if rest.contains('#') {
                format!("vault://{rest}")
            } else {
                format!("vault://{rest}#{name}")
            };
            match SecretRef::parse(&text) {
                Ok(SecretRef::OpenBao { mount, path, field }) => {
                    Ok(Target::OpenBao { mount, path, field })
                }
                _ => Err(CliError::msg(format!(
                    "`--backend {b}`: expected vault:MOUNT/PATH or vault:MOUNT/PATH#FIELD, e.g. \
                     vault:secret/stripe"
                ))),
            }
        }
    }
}

pub(crate) fn run(paths: &Paths, env: &ProcessEnv, cmd: SecretCmd) -> Result<ExitCode, CliError> {
    match cmd {
        SecretCmd::Set {
            name,
            backend,
            value,
        } => {
            if value.is_some() {
                return Err(value_as_argument(&name));
            }
            validate_secret_name(&name)?;
            let target = parse_backend(&backend, &name)?;
            let value = prompt::secret_value(
                &format!("Value for `{name}` (not shown): "),
                "keyward secret set NAME",
            )?;
            let len = value.len();
            match target {
                Target::Local => {
                    let mut vault = unlock(paths, env, Prompt::IfTerminal)?;
                    let existed = vault.get(&name).is_some();
                    vault.update(|e| e.set(&name, value))?;
                    println!(
                        "{} secret `{name}` ({len} bytes); reference: keyward://{name} (`--secret {name}` \
                         in `keyward service add`)",
                        if existed { "updated" } else { "stored" }
                    );
                }
                Target::Keychain => {
                    keychain_set(KEYCHAIN_SERVICE, &name, &value).map_err(|e| {
                        CliError::msg(format!(
                            "cannot store `{name}` in the OS credential store: {e}"
                        ))
                    })?;
                    println!(
                        "stored `{name}` ({len} bytes) in the OS credential store; reference: \
                         keychain://{KEYCHAIN_SERVICE}/{name}"
                    );
                }
                Target::OpenBao { mount, path, field } => {
                    let reference = SecretRef::OpenBao {
                        mount: mount.clone(),
                        path: path.clone(),
                        field: field.clone(),
                    };
                    let version = write_openbao(paths, env, &mount, &path, &field, &value)
                        .map_err(|e| CliError::msg(format!("cannot store `{reference}`: {e}")))?;
                    println!(
                        "stored field `{field}` of `{mount}/{path}` ({len} bytes, version \
                         {version}) in OpenBao/Vault; reference: {reference}"
                    );
                }
            }
            if len < SHORT {
                eprintln!(
                    "warning: values under {SHORT} bytes are hard to tell apart from ordinary text; \
                     values under 4 bytes are not scrubbed from answers"
                );
            }
        }
        SecretCmd::List => list(paths, env)?,
        SecretCmd::Rotate { name } => return super::rotate::run(paths, env, &name),
        SecretCmd::Rm { name, backend } => remove(paths, env, &name, backend.as_deref())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `secret set NAME VALUE`: refused, saying why and how (the value is
/// never echoed).
fn value_as_argument(name: &str) -> CliError {
    CliError::msg(format!(
        "secret values are never arguments: an argument stays in your shell history and is \
         visible to every local process (`ps`) while the command runs. Pipe it in: \
         printf '%s\\n' \"$VALUE\" | keyward secret set {name} (or run `keyward secret set {name}` \
         and type it at the prompt). If that was a real secret, remove it from your shell history \
         and consider rotating it."
    ))
}

/// `secret rm`: from the vault, or the OS credential store (`--backend
/// keychain`, or by default when the vault has no such secret).
fn remove(
    paths: &Paths,
    env: &ProcessEnv,
    name: &str,
    backend: Option<&str>,
) -> Result<(), CliError> {
    if backend != Some("keychain") {
        let mut vault = unlock(paths, env, Prompt::IfTerminal)?;
        let mut removed = false;
        vault.update(|e| {
            removed = e.remove(name);
            Ok(())
        })?;
        if removed {
            println!("removed secret `{name}`");
            return Ok(());
        }
        if backend == Some("local") || env.no_keychain {
            return Err(CliError::msg(format!(
                "no secret named `{name}` (see `keyward secret list`)"
            )));
        }
    }
    // The vault key's own entry (`vault-key-ID`) is never a secret to remove.
    validate_secret_name(name)?;
    if name.starts_with("vault-key-") {
        return Err(CliError::msg(format!(
            "`{name}` is not a secret `keyward secret set --backend keychain` stores"
        )));
    }
    match keychain_remove(KEYCHAIN_SERVICE, name) {
        Ok(true) => {
            println!(
                "removed `{name}` from the OS credential store (keychain://{KEYCHAIN_SERVICE}/{name})"
            );
            Ok(())
        }
        Ok(false) => Err(CliError::msg(format!(
            "no secret named `{name}` in the vault or the OS credential store (see `keyward secret list`)"
        ))),
        Err(e) if backend.is_none() => Err(CliError::msg(format!(
            "no secret named `{name}` in the vault (see `keyward secret list`); the OS credential \
             store could not be checked: {e}"
        ))),
        Err(e) => Err(CliError::msg(format!(
            "cannot remove `{name}` from the OS credential store: {e}"
        ))),
    }
}

/// Writes to OpenBao/Vault as configured by `[backends.vault]` (if
/// keyward.toml exists) or VAULT_ADDR/VAULT_TOKEN. The local vault is
/// opened only if a backend credential lives in it.
fn write_openbao(
    paths: &Paths,
    env: &ProcessEnv,
    mount: &str,
    path: &str,
    field: &str,
    value: &SecretValue,
) -> Result<u64, CliError> {
    let file = paths.config_file();
    let config = if file.exists() {
        Some(Config::load(&file)?)
    } else {
        None
    };
    let needs_vault = config.as_ref().is_some_and(|c| {
        c.backend_refs()
            .iter()
            .any(|(_, r)| matches!(r, SecretRef::Vault(_)))
    });
    let vault: Option<Vault> = if needs_vault {
        Some(unlock(paths, env, Prompt::IfTerminal)?)
    } else {
        None
    };
    let settings = config.as_ref().and_then(|c| c.backends.vault.as_ref());
    let resolver = Resolver::new(vault.as_ref(), env).with_backends(settings);
    let client = resolver
        .openbao()
        .ok_or_else(|| CliError::msg(OpenBaoError::NotConfigured.to_string()))?;
    client
        .write_field(mount, path, field, value)
        .map_err(|e| CliError::msg(e.to_string()))
}

/// The vault's entries, then every reference in keyward.toml with its
/// backend and whether it resolves now. No value is shown.
fn list(paths: &Paths, env: &ProcessEnv) -> Result<(), CliError> {
    let vault = unlock(paths, env, Prompt::IfTerminal)?;
    let entries = vault.list();
    let now = now_secs();
    if entries.is_empty() {
        println!(
            "no secrets in the vault yet: printf '%s\\n' \"$TOKEN\" | keyward secret set NAME"
        );
    } else {
        println!("vault ({}):", paths.vault_file().display());
    }
    for e in &entries {
        println!(
            "  {:<32} {:>6} bytes  created {}  updated {}  age {}",
            e.name,
            e.len,
            e.created.strftime("%Y-%m-%d %H:%M"),
            e.updated.strftime("%Y-%m-%d %H:%M"),
            age_text(e.updated.as_second(), now)
        );
    }
    let file = paths.config_file();
    if !file.exists() {
        return Ok(());
    }
    let config = Config::load(&file)?;
    let (refs, _) = check_refs(&config, Some(&vault), env);
    if refs.is_empty() {
        println!("keyward.toml references no secrets");
        return Ok(());
    }
    println!("referenced in keyward.toml:");
    for s in refs {
        let status = match &s.result {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("error: {e}"),
        };
        println!(
            "  {:<40} {:<36} {:<28} {status}",
            s.at,
            s.reference.to_string(),
            s.backend
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends() {
        assert_eq!(parse_backend("local", "x").unwrap(), Target::Local);
        assert_eq!(parse_backend("keychain", "x").unwrap(), Target::Keychain);
        let bao = |m: &str, p: &str, f: &str| Target::OpenBao {
            mount: m.into(),
            path: p.into(),
            field: f.into(),
        };
        assert_eq!(
            parse_backend("vault:secret/stripe", "api_key").unwrap(),
            bao("secret", "stripe", "api_key")
        );
        assert_eq!(
            parse_backend("vault:secret/team/stripe#key", "api_key").unwrap(),
            bao("secret", "team/stripe", "key")
        );
        assert_eq!(
            parse_backend("vault://secret/stripe", "n").unwrap(),
            bao("secret", "stripe", "n")
        );
        for bad in ["vault:", "vault:secret", "vault:secret/#f", "vaults", "aws"] {
            assert!(parse_backend(bad, "n").is_err(), "{bad}");
        }
    }
}
