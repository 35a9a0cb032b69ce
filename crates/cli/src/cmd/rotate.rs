//! `keyward secret rotate NAME`: replaces the value of an existing secret.
//! The vault is rewritten atomically (keeping `.prev`); a running
//! `keyward serve` notices the new file and swaps the value in, keeping the
//! old one in its scrubber for a while.

use std::process::ExitCode;

use keyward_config::Paths;
use keyward_gateway::pipeline::inject::CHECK_EVERY;
use keyward_vault::validate_secret_name;

use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::prompt;
use crate::unlock::{Prompt, unlock};

/// Shorter values are hard to tell apart from ordinary text (see `secret set`).
const SHORT: usize = 8;

pub(crate) fn run(paths: &Paths, env: &ProcessEnv, name: &str) -> Result<ExitCode, CliError> {
    validate_secret_name(name)?;
    let mut vault = unlock(paths, env, Prompt::IfTerminal)?;
    if vault.get(name).is_none() {
        return Err(missing(name));
    }
    let value = prompt::secret_value(
        &format!("New value for `{name}` (not shown): "),
        "keyward secret rotate NAME",
    )?;
    if vault.get(name) == Some(&value) {
        return Err(CliError::msg(format!(
            "the new value of `{name}` is the same as the current one; nothing was rotated"
        )));
    }
    let len = value.len();
    let mut rotated = false;
    // Checked again under the vault's lock: a secret removed meanwhile is
    // not brought back.
    vault.update(|e| {
        if e.contains(name) {
            e.set(name, value)?;
            rotated = true;
        }
        Ok(())
    })?;
    if !rotated {
        return Err(missing(name));
    }
    println!(
        "rotated `{name}` ({len} bytes); a running keyward serve picks it up within {}s",
        // One check interval, plus the time the check itself takes.
        CHECK_EVERY.as_secs() + 1
    );
    if len < SHORT {
        eprintln!(
            "warning: values under {SHORT} bytes are hard to tell apart from ordinary text; \
             values under 4 bytes are not scrubbed from answers"
        );
    }
    eprintln!(
        "note: revoke the old value where it was issued; keyward keeps scrubbing it from answers for a while"
    );
    Ok(ExitCode::SUCCESS)
}

fn missing(name: &str) -> CliError {
    CliError::msg(format!(
        "no secret named `{name}` to rotate; store a new one with `keyward secret set {name}`"
    ))
}
