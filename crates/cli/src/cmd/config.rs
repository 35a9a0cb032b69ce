//! `keyward config diff | approve`: what changed in keyward.toml since the
//! last approved config, and making the change effective (SECURITY.md item
//! 6). Approving needs the vault passphrase, typed at the terminal or given
//! in KEYWARD_PASSPHRASE: unlocking through the OS keychain or a key file,
//! which a same-user process can do too, is not enough.

use std::process::ExitCode;

use keyward_approved::review::{Base, Proposal};
use keyward_approved::{Approved, Store, diff, effect, record, record_refusal};
use keyward_config::{Config, Paths};
use keyward_vault::Vault;

use crate::cli::ConfigCmd;
use crate::cmd::config_file;
use crate::config_approval;
use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::prompt;
use crate::unlock::{Prompt, unlock};

const BY: &str = "keyward config approve";

pub(crate) fn run(paths: &Paths, env: &ProcessEnv, cmd: ConfigCmd) -> Result<ExitCode, CliError> {
    match cmd {
        ConfigCmd::Diff => show_diff(paths, env),
        ConfigCmd::Approve => approve(paths, env),
    }
}

/// The base to compare keyward.toml with: the approved text when it can be
/// trusted (or its seal could not be checked: `vault` is `None`), else
/// nothing, with the reason said on stderr.
fn base(approved: Option<&Approved>, vault: Option<&Vault>) -> String {
    say(Base::of(approved, vault))
}

/// `base`'s text, with what the human must know about it on stderr.
fn say(base: Base<'_>) -> String {
    match base {
        Base::NothingApproved => eprintln!(
            "note: nothing has been approved in this keyward home yet: the whole file is shown as new"
        ),
        Base::Untrusted(problem) => eprintln!(
            "WARNING: the approved copy is not trusted: {problem}. Showing the whole of \
             keyward.toml as new: review all of it"
        ),
        Base::Trusted(_) => {}
        Base::Unchecked(_) => eprintln!(
            "note: the vault is locked, so the approved copy's seal was not checked (`keyward config approve` checks it)"
        ),
    }
    base.text().to_string()
}

fn labels(paths: &Paths) -> (String, String) {
    (
        format!("approved ({})", Store::new(paths).text_path().display()),
        format!("keyward.toml ({})", paths.config_file().display()),
    )
}

/// Exit status 0 when keyward.toml is the approved config, 1 when it
/// differs (or nothing was approved yet, or the approved copy fails its
/// seal), 2 on an error.
fn show_diff(paths: &Paths, env: &ProcessEnv) -> Result<ExitCode, CliError> {
    let file = config_file(paths)?;
    let current = read(&file)?;
    let approved = Store::new(paths).read()?;
    // Never asks: diff is for reading. The seal is checked when the vault
    // opens without a human.
    let vault = match unlock(paths, env, Prompt::Never) {
        Ok(v) => Some(v),
        Err(CliError::CannotUnlock(_)) => None,
        Err(e) => return Err(e),
    };
    let trusted = approved
        .as_ref()
        .zip(vault.as_ref())
        .map(|(a, v)| a.check(v).is_ok());
    let base = base(approved.as_ref(), vault.as_ref());
    let (old_label, new_label) = labels(paths);
    let (text, stats) = diff::unified(&base, &current, &old_label, &new_label);
    if text.is_empty() && approved.is_some() && trusted != Some(false) {
        println!("keyward.toml is the approved config");
        return Ok(ExitCode::SUCCESS);
    }
    print!("{text}");
    print_effect(&base, &current);
    println!("{stats} not approved; `keyward config approve` makes them effective");
    if let Err(e) = Config::parse(&current, &file) {
        eprintln!(
            "note: keyward.toml is not valid, so it cannot be approved as it is: {}",
            diff::printable_lines(&e.to_string())
        );
    }
    Ok(ExitCode::from(1))
}

/// Shows the diff, requires the passphrase, validates the whole file, then
/// records it as approved (audited). Exit status 0 when approved (or
/// nothing to approve), 1 when declined at the prompt, 2 on an error
/// (a wrong or missing passphrase, an invalid file).
fn approve(paths: &Paths, env: &ProcessEnv) -> Result<ExitCode, CliError> {
    let file = config_file(paths)?;
    let current = read(&file)?;
    Config::parse(&current, &file)?;
    let approved = Store::new(paths).read()?;
    let question = "Vault passphrase to approve this keyward.toml: ";
    let missing = || {
        CliError::msg(
            "approving keyward.toml needs the vault passphrase: run this in a terminal, or set \
             KEYWARD_PASSPHRASE; nothing was approved",
        )
    };
    let refused = |e: CliError| {
        if config_approval::is_wrong_passphrase(&e) {
            record_refusal(paths, BY);
            CliError::msg("wrong passphrase: nothing was approved")
        } else {
            e
        }
    };
    // The diff comes first when the vault opens without the passphrase
    // (the human reads, then types it); otherwise the passphrase opens the
    // vault, and a yes/no follows the diff on a terminal.
    let (vault, asked_after) = match unlock(paths, env, Prompt::Never) {
        Ok(v) => (v, true),
        Err(CliError::CannotUnlock(_)) => {
            let pass = config_approval::human_passphrase(env, question)?.ok_or_else(missing)?;
            let v = config_approval::open_as_human(paths, env, &pass).map_err(refused)?;
            (v, false)
        }
        // No key store or key file, and KEYWARD_PASSPHRASE is wrong: the
        // same refusal, audited, as a wrong passphrase anywhere else.
        Err(e) => return Err(refused(e)),
    };
    // The programs are pinned now, from this PATH: a changed or shadowing
    // binary is accepted here, and shown before the passphrase.
    let path_var = std::env::var("PATH").ok();
    let proposal = Proposal::new(approved.as_ref(), &vault, &current, path_var.as_deref());
    let base = say(proposal.base);
    config_approval::warn_not_pinned(&proposal.not_pinned);
    let pin_changes = proposal.pin_changes();
    if proposal.nothing_to_approve(&current) {
        println!("nothing to approve: keyward.toml is the approved config");
        return Ok(ExitCode::SUCCESS);
    }
    let (old_label, new_label) = labels(paths);
    let (text, stats) = diff::unified(&base, &current, &old_label, &new_label);
    print!("{text}");
    print_effect(&base, &current);
    if !pin_changes.is_empty() {
        println!("programs that change (path and SHA-256 of each command's program):");
        for c in &pin_changes {
            println!("  {c}");
        }
    } else if !proposal.pins_same() {
        println!("program pins: recorded again (the approved copy had none that could be trusted)");
    }
    println!("{stats} to approve");
    if asked_after {
        let pass = config_approval::human_passphrase(env, question)?.ok_or_else(missing)?;
        vault
            .verify_passphrase(&pass)
            .map_err(|e| refused(e.into()))?;
    } else if prompt::can_prompt()
        && prompt::stdin_is_terminal()
        && !prompt::confirm("Approve this keyward.toml? [y/N] ")?
    {
        println!("nothing approved");
        return Ok(ExitCode::from(1));
    }
    // What was shown is what gets approved, even if the file changes now.
    record(paths, &vault, &current, BY, &proposal.pins)?;
    println!(
        "approved keyward.toml (sha256 {}); restart `keyward serve` (your MCP client) to use it",
        keyward_approved::short_hash(&current)
    );
    Ok(ExitCode::SUCCESS)
}

/// The settings that change, from the parsed files (layout cannot hide
/// a change there).
fn print_effect(base: &str, current: &str) {
    let Some(changes) = effect::changes(base, current) else {
        return;
    };
    if !changes.is_empty() {
        println!("settings that change:");
        for c in changes {
            println!("  {c}");
        }
    }
}

fn read(file: &std::path::Path) -> Result<String, CliError> {
    std::fs::read_to_string(file).map_err(|source| {
        CliError::Config(keyward_config::ConfigError::Read {
            path: file.to_path_buf(),
            source,
        })
    })
}
