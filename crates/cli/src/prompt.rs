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

/// Said before a new passphrase is asked for: what it is for.
pub(crate) const NEW_PASSPHRASE_NOTE: &str = "\
The vault passphrase encrypts your secrets, and typing it is what proves a human
approved: a config change (`keyward config approve`), a held call (`keyward
approve`, the dashboard), an unlock. Your agents must never know it: choose a
long one you use nowhere else, and do not put it in a file they can read.";

/// A new passphrase, typed twice; a weak one is said so, and kept only
/// when the human confirms it.
pub(crate) fn new_passphrase() -> Result<SecretValue, CliError> {
    eprintln!("{NEW_PASSPHRASE_NOTE}\n");
    loop {
        let a = passphrase("New vault passphrase: ")?;
        if a.is_empty() {
            return Err(CliError::msg("the passphrase is empty"));
        }
        if let Some(weak) = weak_passphrase(&a) {
            eprintln!("warning: {weak}");
            if !confirm("Use it anyway? [y/N] ")? {
                continue;
            }
        }
        let b = passphrase("Repeat it: ")?;
        if a != b {
            return Err(CliError::msg("the two passphrases differ"));
        }
        return Ok(a);
    }
}

/// zxcvbn's score below which a passphrase is called weak (3 of 4: more
/// than about 10^10 guesses is "safely unguessable" for an offline attack
/// on a slow hash).
const STRONG_ENOUGH: zxcvbn::Score = zxcvbn::Score::Three;

/// Why `p` is easy to guess, or `None` when zxcvbn estimates it strong
/// enough. The text never contains the passphrase.
pub(crate) fn weak_passphrase(p: &SecretValue) -> Option<String> {
    let text = std::str::from_utf8(p.expose()).ok()?;
    let estimate = zxcvbn::zxcvbn(text, &["keyward"]);
    if estimate.score() >= STRONG_ENOUGH {
        return None;
    }
    let mut why = format!(
        "this passphrase is weak (strength {} of 4",
        estimate.score()
    );
    if let Some(feedback) = estimate.feedback() {
        if let Some(w) = feedback.warning() {
            why.push_str(&format!(": {w}"));
        }
        if let Some(s) = feedback.suggestions().first() {
            why.push_str(&format!(" {s}"));
        }
    }
    why.push_str(
        "); whoever guesses it can approve calls and config changes as you. A few unrelated words, \
         or 14 random characters, are strong.",
    );
    Some(why)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passphrases_are_named_and_strong_ones_pass() {
        for weak in ["abc", "password1", "keyward", "qwerty123"] {
            let why = weak_passphrase(&SecretValue::from_str(weak)).unwrap();
            assert!(why.starts_with("this passphrase is weak"), "{why}");
        }
        for strong in [
            "kw_canary_pw_7Hq2Zx9LmR4t",
            "glacier ribbon tulip oxide mustard",
        ] {
            assert_eq!(
                weak_passphrase(&SecretValue::from_str(strong)),
                None,
                "{strong}"
            );
        }
    }
}
