use std::io::BufRead;
use std::process::ExitCode;

use keyward_config::Paths;
use keyward_vault::{SecretValue, validate_secret_name};
use zeroize::Zeroizing;

use crate::cli::SecretCmd;
use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::prompt;
use crate::unlock::{Prompt, unlock};

/// Shorter values would make the scrubber hide ordinary text, so it skips
/// them; warn that they are not protected in answers.
const SHORT: usize = 8;

pub(crate) fn run(paths: &Paths, env: &ProcessEnv, cmd: SecretCmd) -> Result<ExitCode, CliError> {
    match cmd {
        SecretCmd::Set { name } => {
            validate_secret_name(&name)?;
            let value = read_value(&name)?;
            let len = value.len();
            let mut vault = unlock(paths, env, Prompt::IfTerminal)?;
            let existed = vault.get(&name).is_some();
            vault.update(|e| e.set(&name, value))?;
            println!(
                "{} secret `{name}` ({len} bytes)",
                if existed { "updated" } else { "stored" }
            );
            if len < SHORT {
                eprintln!(
                    "warning: values under {SHORT} bytes are hard to tell apart from ordinary text; \
                     values under 4 bytes are not scrubbed from answers"
                );
            }
        }
        SecretCmd::List => {
            let vault = unlock(paths, env, Prompt::IfTerminal)?;
            let entries = vault.list();
            if entries.is_empty() {
                println!("no secrets yet: printf '%s\\n' \"$TOKEN\" | keyward secret set NAME");
            }
            for e in entries {
                println!(
                    "{:<32} {:>6} bytes  created {}  updated {}",
                    e.name,
                    e.len,
                    e.created.strftime("%Y-%m-%d %H:%M"),
                    e.updated.strftime("%Y-%m-%d %H:%M")
                );
            }
        }
        SecretCmd::Rotate { name } => return super::rotate::run(paths, env, &name),
        SecretCmd::Rm { name } => {
            let mut vault = unlock(paths, env, Prompt::IfTerminal)?;
            let mut removed = false;
            vault.update(|e| {
                removed = e.remove(&name);
                Ok(())
            })?;
            if !removed {
                return Err(CliError::msg(format!(
                    "no secret named `{name}` (see `keyward secret list`)"
                )));
            }
            println!("removed secret `{name}`");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line from stdin (the newline dropped), or a prompt without echo.
fn read_value(name: &str) -> Result<SecretValue, CliError> {
    let value = if prompt::stdin_is_terminal() {
        prompt::passphrase(&format!("Value for `{name}` (not shown): "))?
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
            "the value is empty; pipe it in (printf '%s\\n' \"$TOKEN\" | keyward secret set NAME) or type it at the prompt",
        ));
    }
    Ok(value)
}
