//! The CLI's side of config approval (SECURITY.md item 6): asking the
//! human for the passphrase, opening the vault with it, and saying what
//! [`keyward_approved`] decided. What is approved, how it is sealed and
//! what an edit may approve are decided there; this module prints and
//! prompts.

pub(crate) mod edit;

use keyward_approved::{Confirmed, NotPinned, Programs, Serving};
use keyward_audit::AuditLog;
use keyward_config::{Config, Paths};
use keyward_gateway::pipeline::command_sandbox::{ExecSetup, ProgramPins};
use keyward_vault::{SecretValue, Vault, VaultError};

use crate::cmd::config_file;
use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::prompt;
use crate::unlock::{Prompt, unlock};

pub(crate) use keyward_approved::diff::printable;

/// The approved config for `keyward serve`, read before the vault unlocks
/// (see [`Serving`]).
pub(crate) fn serving(paths: &Paths) -> Result<Serving, CliError> {
    config_file(paths)?;
    Ok(Serving::load(paths)?)
}

/// What `keyward serve` gives the gateway to run commands: the program
/// pins approved with the config (checked against the vault) and where
/// private HOMEs are made. Call before [`confirm`].
pub(crate) fn exec_setup(serving: &Serving, paths: &Paths, vault: &Vault) -> ExecSetup {
    ExecSetup {
        home_root: paths.data_dir.join("exec-home"),
        pins: for_gateway(serving.program_pins(vault)),
    }
}

fn for_gateway(pins: Result<Programs, keyward_approved::PinsProblem>) -> ProgramPins {
    match pins {
        Ok(p) => ProgramPins::Sealed(keyward_approved::programs::to_program_pins(p)),
        Err(why) => ProgramPins::Unavailable(why.to_string()),
    }
}

/// [`Serving::confirm`], said on stderr: commands refused for want of
/// pins, and a pending change. The returned notice is for
/// [`keyward_gateway::Gateway::set_config_notice`].
pub(crate) fn confirm(
    serving: Serving,
    vault: &Vault,
    audit: &AuditLog,
) -> Result<(Config, Option<String>), CliError> {
    let Confirmed {
        config,
        pins_problem,
        notice,
        ..
    } = serving.confirm(vault, audit)?;
    if let Some(why) = pins_problem {
        eprintln!(
            "keyward: commands are refused until their programs are pinned: {why}; run \
             `keyward config approve`"
        );
    }
    if let Some(n) = &notice {
        // A TOML error spans lines (the line, a caret under it): shown as
        // lines, each escaped and indented under the first, never as `\n`.
        let mut lines = n.lines();
        eprintln!("keyward: {}", printable(lines.next().unwrap_or_default()));
        for line in lines {
            eprintln!("  {}", printable(line));
        }
    }
    Ok((config, notice))
}

/// `keyward: warning: commands.NAME: program not pinned, ...` for each.
pub(crate) fn warn_not_pinned(problems: &[NotPinned]) {
    for p in problems {
        eprintln!("keyward: warning: {}", printable(&p.to_string()));
    }
}

/// The vault, opened by someone who has just shown the passphrase: a key
/// from the OS store or a key file opens it (a same-user process can do
/// that too), and the passphrase is then checked against it; without
/// those, the passphrase opens it. A wrong passphrase is
/// [`VaultError::WrongPassphrase`] either way.
pub(crate) fn open_as_human(
    paths: &Paths,
    env: &ProcessEnv,
    passphrase: &SecretValue,
) -> Result<Vault, CliError> {
    match unlock(paths, env, Prompt::Never) {
        Ok(vault) => {
            vault.verify_passphrase(passphrase)?;
            Ok(vault)
        }
        Err(CliError::CannotUnlock(_)) => Ok(Vault::open_with_passphrase(
            &paths.vault_file(),
            passphrase,
        )?),
        Err(e) => Err(e),
    }
}

/// True for the error a wrong passphrase gives.
pub(crate) fn is_wrong_passphrase(e: &CliError) -> bool {
    matches!(e, CliError::Vault(VaultError::WrongPassphrase))
}

/// The human's passphrase: KEYWARD_PASSPHRASE, else asked on the terminal
/// (`question`), else `None`. An empty answer is `None`.
pub(crate) fn human_passphrase(
    env: &ProcessEnv,
    question: &str,
) -> Result<Option<SecretValue>, CliError> {
    if let Some(p) = &env.passphrase {
        return Ok(Some(p.clone()));
    }
    if !prompt::can_prompt() {
        return Ok(None);
    }
    let p = prompt::passphrase(question)?;
    Ok((!p.is_empty()).then_some(p))
}

#[cfg(test)]
mod tests;
