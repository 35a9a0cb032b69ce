//! Secret names: the handle by which configs refer to vault entries.
//!
//! The alphabet is deliberately small (`[A-Za-z0-9_.-]`, 1–128 characters):
//! names appear in `keyward://NAME` references, shell commands, file names
//! and log lines, and must need no quoting or escaping in any of them. A
//! leading `.` or `-` is refused so a name is never a hidden file or taken
//! for a command-line flag.

use crate::VaultError;

/// Longest accepted secret name.
pub const MAX_SECRET_NAME_LEN: usize = 128;

/// Checks that `name` is a valid secret name.
pub fn validate_secret_name(name: &str) -> Result<(), VaultError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > MAX_SECRET_NAME_LEN {
        Some("it is longer than 128 characters")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        Some("only ASCII letters, digits, `_`, `.` and `-` are allowed")
    } else if name.starts_with(['.', '-']) {
        Some("it must not start with `.` or `-`")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(VaultError::InvalidName {
            // Cap what is echoed back: a long "name" may well be a pasted
            // secret value, and this text ends up in error messages.
            name: shorten(name),
            reason,
        }),
    }
}

/// At most the first 24 characters, marked as cut when longer.
fn shorten(name: &str) -> String {
    match name.char_indices().nth(24) {
        None => name.to_string(),
        Some((cut, _)) => format!("{}…", &name[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        for ok in [
            "a",
            "A9",
            "stripe_key",
            "openai.prod-2",
            "x".repeat(128).as_str(),
        ] {
            assert!(validate_secret_name(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_invalid_names() {
        for bad in [
            "",
            ".hidden",
            "-flag",
            "a b",
            "a/b",
            "a:b",
            "ü",
            "a\n",
            "x".repeat(129).as_str(),
        ] {
            assert!(
                matches!(
                    validate_secret_name(bad),
                    Err(VaultError::InvalidName { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn long_names_are_not_echoed_whole() {
        let long = format!("{}!", "k".repeat(200));
        let msg = validate_secret_name(&long).unwrap_err().to_string();
        assert!(!msg.contains(&long[..100]), "{msg}");
    }
}
