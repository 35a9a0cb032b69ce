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
