//! Rules the agent cannot change (SECURITY.md item 6): a change to
//! keyward.toml takes effect only once a human approved it with the vault
//! passphrase. `keyward serve` runs the last approved config (see
//! [`store`] for how it is kept and sealed) and says so when keyward.toml
//! differs from it.
//!
//! - [`serving`]: the config `keyward serve` (stdio or HTTP) runs; its
//!   seal is checked by [`Serving::confirm`] once the vault is open, before
//!   any call is served.
//! - [`record`]: makes a text the approved config (and audits it).
//! - [`edit`]: what the CLI's own edits of keyward.toml do about approval;
//!   [`init`]: what `keyward init` does.
//!
//! There is no trust on first use: a home without an approved copy (made
//! before this existed, or whose copy was deleted) refuses to serve until
//! `keyward config approve`, since deleting the copy is something the
//! agent could do to get its edit trusted.

pub(crate) mod diff;
pub(crate) mod edit;
pub(crate) mod effect;
pub(crate) mod init;
pub(crate) mod programs;
pub(crate) mod store;

use keyward_audit::{AuditLog, Decision, Event, Kind};
use keyward_config::{Config, Paths};
use keyward_vault::{SecretValue, Vault, VaultError};

use crate::cmd::config_file;
use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::prompt;
use crate::unlock::{Prompt, unlock};

pub(crate) use store::{Approved, Store};

/// What `keyward serve` shows when keyward.toml has unapproved changes
/// (stderr, the audit record, [`keyward_gateway::Gateway::config_notice`]).
pub(crate) const PENDING_NOTICE: &str = "keyward.toml has changes that are not approved yet; serving the last approved config; review with `keyward config diff`, apply with `keyward config approve`";

/// The approved config, read before the vault unlocks (its shape answers
/// `initialize`), and not trusted until [`Serving::confirm`].
pub(crate) struct Serving {
    config: Config,
    approved: Approved,
    pending: Option<Pending>,
}

/// How keyward.toml differs from what is served.
struct Pending {
    stats: diff::Stats,
    /// keyward.toml does not even validate (approving it would fail).
    invalid: Option<String>,
}

/// The approved config for `keyward serve`. Fails when nothing was ever
/// approved here, or when the approved copy does not parse.
pub(crate) fn serving(paths: &Paths) -> Result<Serving, CliError> {
    let file = config_file(paths)?;
    let store = Store::new(paths);
    let Some(approved) = store.read()? else {
        return Err(CliError::msg(format!(
            "no approved config in {}: keyward serves only a keyward.toml a human approved (this \
             keyward home was made before config approval, or the approved copy was removed); \
             review it with `keyward config diff`, then run `keyward config approve`",
            paths.data_dir.display()
        )));
    };
    let config = Config::parse(&approved.text, &store.text_path())?;
    let current = std::fs::read_to_string(&file).map_err(|source| {
        CliError::Config(keyward_config::ConfigError::Read {
            path: file.clone(),
            source,
        })
    })?;
    let pending = (current != approved.text).then(|| Pending {
        stats: diff::unified(&approved.text, &current, "", "").1,
        invalid: Config::parse(&current, &file).err().map(|e| e.to_string()),
    });
    Ok(Serving {
        config,
        approved,
        pending,
    })
}

impl Serving {
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// What `keyward serve` gives the gateway to run commands: the program
    /// pins approved with the config (checked against the vault) and
    /// where private HOMEs are made. Call before [`Serving::confirm`].
    pub(crate) fn exec_setup(
        &self,
        paths: &Paths,
        vault: &Vault,
    ) -> keyward_gateway::pipeline::command_sandbox::ExecSetup {
        let pins = match self.approved.check(vault) {
            Ok(()) => self.approved.programs(vault),
            Err(p) => Err(p.to_string()),
        };
        keyward_gateway::pipeline::command_sandbox::ExecSetup {
            home_root: paths.data_dir.join("exec-home"),
            pins: programs::for_gateway(pins),
        }
    }

    /// Once the vault is open, before any call: the approved copy must be
    /// the one a passphrase holder sealed, else keyward refuses to start.
    /// A pending change is said on stderr and audited; the returned notice
    /// is for [`keyward_gateway::Gateway::set_config_notice`].
    pub(crate) fn confirm(
        self,
        vault: &Vault,
        audit: &AuditLog,
    ) -> Result<(Config, Option<String>), CliError> {
        if let Err(problem) = self.approved.check(vault) {
            return Err(CliError::msg(format!(
                "refusing to serve: the approved copy of keyward.toml cannot be trusted: {problem}; \
                 review keyward.toml with `keyward config diff`, then run `keyward config approve`"
            )));
        }
        if !self.config.commands.is_empty()
            && let Err(why) = self.approved.programs(vault)
        {
            eprintln!(
                "keyward: commands are refused until their programs are pinned: {why}; run \
                 `keyward config approve`"
            );
        }
        let Some(pending) = self.pending else {
            return Ok((self.config, None));
        };
        let mut notice = format!("{PENDING_NOTICE} ({})", pending.stats);
        if let Some(e) = &pending.invalid {
            notice.push_str(&format!("; note: keyward.toml is not valid: {e}"));
        }
        eprintln!("keyward: {}", diff::printable(&notice));
        audit.append(Event {
            agent: "keyward serve".into(),
            kind: Kind::Config,
            target: "keyward.toml".into(),
            decision: Decision::Pending,
            rule: Some(format!(
                "serving approved sha256:{}",
                store::short_hash(&self.approved.text)
            )),
            error: Some(format!("not approved: {}", pending.stats)),
            ..Event::default()
        })?;
        Ok((self.config, Some(notice)))
    }
}

/// Makes `text` the approved config: audited first (an approval that
/// cannot be recorded is not made), then written with its seal. `by` is
/// the command that approved it (`keyward config approve`).
/// `programs` are the program pins approved with it (see [`programs`]).
pub(crate) fn record(
    paths: &Paths,
    vault: &Vault,
    text: &str,
    by: &str,
    programs: &programs::Programs,
) -> Result<(), CliError> {
    let audit = AuditLog::open(&paths.audit_file())?;
    let pinned: Vec<String> = programs
        .iter()
        .map(|(n, e)| {
            format!(
                "{n}={}@{}",
                e.path.display(),
                &e.sha256[..e.sha256.len().min(16)]
            )
        })
        .collect();
    audit.append(Event {
        agent: by.into(),
        kind: Kind::Config,
        target: "keyward.toml".into(),
        decision: Decision::Approved,
        rule: Some(format!("sha256:{}", store::short_hash(text))),
        args: (!pinned.is_empty()).then(|| format!("programs: {}", pinned.join(" "))),
        ..Event::default()
    })?;
    Store::new(paths).write(vault, text, programs)
}

/// Pins `text`'s programs (keeping the previous pin of each command
/// whose program is written as before, when `keep`) and says on stderr
/// what could not be pinned.
pub(crate) fn pin_programs(text: &str, keep: Option<&programs::Programs>) -> programs::Programs {
    let (pins, problems) = programs::pin(text, keep);
    for p in problems {
        eprintln!("keyward: warning: {}", diff::printable(&p));
    }
    pins
}

/// An approval refused for a wrong passphrase, audited (best effort: the
/// refusal stands whether or not it could be recorded).
pub(crate) fn record_refusal(paths: &Paths, by: &str) {
    if let Ok(audit) = AuditLog::open(&paths.audit_file()) {
        let _ = audit.append(Event {
            agent: by.into(),
            kind: Kind::Config,
            target: "keyward.toml".into(),
            decision: Decision::Deny,
            error: Some("wrong passphrase: nothing approved".into()),
            ..Event::default()
        });
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
        Err(CliError::CannotUnlock) => Ok(Vault::open_with_passphrase(
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
