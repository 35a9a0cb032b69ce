//! Asking the human. Only when a terminal is really there: `keyward serve`
//! is started by MCP clients whose TUI owns the terminal, so it never asks.

use std::io::IsTerminal;

use keyward_vault::SecretValue;
use zeroize::Zeroizing;

use crate::error::CliError;

/// rpassword reads from the controlling terminal, not stdin, so a value can
/// be piped in while the passphrase is typed.
pub(crate) fn can_prompt() -> bool {
    std::io::stderr().is_terminal()
}

pub(crate) fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// A secret value: one line from stdin (the newline dropped), or asked for
/// without echo on a terminal; never an argument. `usage` is the command
/// to show when the value is empty (`keyward secret set NAME`).
pub(crate) fn secret_value(label: &str, usage: &str) -> Result<SecretValue, CliError> {
    use std::io::BufRead;
    let value = if stdin_is_terminal() {
        passphrase(label)?
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
        return Err(CliError::msg(format!(
            "the value is empty; pipe it in (printf '%s\\n' \"$TOKEN\" | {usage}) or type it at the prompt"
        )));
    }
    Ok(value)
}

pub(crate) fn passphrase(prompt: &str) -> Result<SecretValue, CliError> {
    let p = Zeroizing::new(rpassword::prompt_password(prompt).map_err(CliError::Prompt)?);
    Ok(SecretValue::new(p.as_bytes().to_vec()))
}

/// A new passphrase, typed twice.
pub(crate) fn new_passphrase() -> Result<SecretValue, CliError> {
    let a = passphrase("New vault passphrase: ")?;
    if a.is_empty() {
        return Err(CliError::msg("the passphrase is empty"));
    }
    let b = passphrase("Repeat it: ")?;
    if a != b {
        return Err(CliError::msg("the two passphrases differ"));
    }
    Ok(a)
}

/// A yes/no question on the terminal; only "y" or "yes" is a yes.
pub(crate) fn confirm(question: &str) -> Result<bool, CliError> {
    use std::io::Write;
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(CliError::Prompt)?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
