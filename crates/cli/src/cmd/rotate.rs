//! `keyward secret rotate NAME`: replaces the value of an existing secret.
//! The vault is rewritten atomically (keeping `.prev`); a running
//! `keyward serve` notices the new file and swaps the value in, keeping the
//! old one in its scrubber for a while.

use std::io::BufRead;
use std::process::ExitCode;

use keyward_config::Paths;
use keyward_gateway::live::CHECK_EVERY;
use keyward_vault::{SecretValue, validate_secret_name};
use zeroize::Zeroizing;

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
    let value = read_value(name)?;
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

/// One line from stdin (the newline dropped), or a prompt without echo;
/// never an argument.
fn read_value(name: &str) -> Result<SecretValue, CliError> {
    let value = if prompt::stdin_is_terminal() {
        prompt::passphrase(&format!("New value for `{name}` (not shown): "))?
    } else {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::msg(format!("cannot read the value from stdin: {e}")))?;
        let trimmed = line.strip_suffix('\n').unwrap_or(&line);
        let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
        SecretValue::new(trimmed.as_bytes().to_vec())
    };
    if value.is_empty() {
        return Err(CliError::msg(
            "the value is empty; pipe it in (printf '%s\\n' \"$TOKEN\" | keyward secret rotate NAME) or type it at the prompt",
        ));
    }
    Ok(value)
}
