//! Secret references: what config files hold instead of secret values
//! (DESIGN.md, "Secret references").
//!
//! | text | meaning |
//! |---|---|
//! | `keyward://NAME`, or a bare `NAME` | an entry of the local vault |
//! | `env://VAR` | an environment variable of the keyward process |
//! | `keychain://SERVICE/ACCOUNT` | the OS credential store |
//! | `vault://MOUNT/PATH#FIELD` | OpenBao / HashiCorp Vault KV v2 |
//! | `file:///ABS/PATH` | a file's content, trailing newline removed |
//!
//! Components are taken literally (no percent-decoding). Schemes are
//! case-insensitive and printed in lowercase. Parse errors are careful about
//! echoing input: a string that is not a reference at all is often a secret
//! pasted into the wrong place, so it is never repeated back.

use std::fmt;
use std::path::PathBuf;

use crate::validate_secret_name;

/// Where a secret's value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SecretRef {
    Vault(String),
    Env(String),
    Keychain {
        service: String,
        account: String,
    },
    OpenBao {
        mount: String,
        path: String,
        field: String,
    },
    File(PathBuf),
}

/// Why a text is not a valid secret reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefError {
    #[error("empty secret reference")]
    Empty,
    #[error(
        "unknown secret reference scheme `{scheme}://` (known: keyward://, env://, keychain://, \
         vault://, file://)"
    )]
    UnknownScheme { scheme: String },
    /// A known scheme with a bad remainder; `reference` is the input.
    #[error("invalid secret reference `{reference}`: {reason}")]
    Invalid { reference: String, reason: String },
    /// Neither a scheme nor a valid secret name. The text is not echoed.
    #[error(
        "not a secret reference ({len} characters, not shown in case it is a secret value): \
         expected a secret name (letters, digits, `_`, `.`, `-`) or keyward://NAME, env://VAR, \
         keychain://SERVICE/ACCOUNT, vault://MOUNT/PATH#FIELD, file:///PATH. To use a value, \
         store it with `keyward secret set NAME` and reference NAME"
    )]
    NotAReference { len: usize },
    /// A bare string that is a valid secret name but looks like a token
    /// (a long unbroken run of mixed letters and digits). The text is not echoed.
    #[error(
        "this looks like a secret value, not a secret name ({len} characters, not shown): store \
         it with `keyward secret set NAME` and put NAME here (if it really is a name, write \
         keyward://NAME)"
    )]
    LooksLikeSecretValue { len: usize },
}

/// The schemes that make a value a secret reference. Any other `x://`
/// (`https://`, `postgres://`) is ordinary text.
pub const SECRET_SCHEMES: &[&str] = &["keyward", "env", "keychain", "vault", "file"];

/// Whether `s` starts with a secret reference scheme (any case). Where a
/// value may be either plain text or a reference (environment variables,
/// headers), only this makes it a reference: a bare name stays text.
pub fn has_secret_scheme(s: &str) -> bool {
    s.split_once("://").is_some_and(|(scheme, _)| {
        SECRET_SCHEMES
            .iter()
            .any(|k| scheme.eq_ignore_ascii_case(k))
    })
}

impl SecretRef {
    /// Parses the text form (see the module docs).
    pub fn parse(s: &str) -> Result<SecretRef, RefError> {
        if s.is_empty() {
            return Err(RefError::Empty);
        }
        let Some((scheme, rest)) = s.split_once("://") else {
            return match validate_secret_name(s) {
                Ok(()) if looks_like_token(s) => Err(RefError::LooksLikeSecretValue {
                    len: s.chars().count(),
                }),
                Ok(()) => Ok(SecretRef::Vault(s.to_string())),
                Err(_) => Err(RefError::NotAReference {
                    len: s.chars().count(),
                }),
            };
        };
        let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !is_scheme {
            return Err(RefError::NotAReference {
                len: s.chars().count(),
            });
        }
        let invalid = |reason: &str| RefError::Invalid {
            reference: s.to_string(),
            reason: reason.to_string(),
        };
        if rest.chars().any(char::is_control) {
            return Err(invalid("it contains control characters"));
        }
        match scheme.to_ascii_lowercase().as_str() {
            "keyward" => match validate_secret_name(rest) {
                Ok(()) => Ok(SecretRef::Vault(rest.to_string())),
                Err(e) => Err(invalid(&e.to_string())),
            },
            "env" => {
                let ok = rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if ok {
                    Ok(SecretRef::Env(rest.to_string()))
                } else {
                    Err(invalid(
                        "the variable name must match [A-Za-z_][A-Za-z0-9_]*",
                    ))
                }
            }
            "keychain" => match rest.split_once('/') {
                Some((service, account)) if !service.is_empty() && !account.is_empty() => {
                    Ok(SecretRef::Keychain {
                        service: service.to_string(),
                        account: account.to_string(),
                    })
                }
                _ => Err(invalid(
                    "expected keychain://SERVICE/ACCOUNT, both non-empty",
                )),
            },
            "vault" => {
                let parsed = rest.split_once('/').and_then(|(mount, tail)| {
                    let (path, field) = tail.rsplit_once('#')?;
                    Some((mount, path, field))
                });
                match parsed {
                    Some((mount, path, field))
                        if !mount.is_empty()
                            && !mount.contains('#')
                            && !path.is_empty()
                            && !path.contains('#')
                            && !field.is_empty() =>
                    {
                        Ok(SecretRef::OpenBao {
                            mount: mount.to_string(),
                            path: path.to_string(),
                            field: field.to_string(),
                        })
                    }
                    _ => Err(invalid("expected vault://MOUNT/PATH#FIELD, all non-empty")),
                }
            }
            "file" => parse_file(rest).ok_or_else(|| {
                invalid("expected file:///ABSOLUTE/PATH (three slashes, absolute path)")
            }),
            _ => Err(RefError::UnknownScheme {
                scheme: scheme.to_string(),
            }),
        }
    }

    /// The scheme, for messages and metrics.
    pub fn scheme(&self) -> &'static str {
        match self {
            SecretRef::Vault(_) => "keyward",
            SecretRef::Env(_) => "env",
            SecretRef::Keychain { .. } => "keychain",
            SecretRef::OpenBao { .. } => "vault",
            SecretRef::File(_) => "file",
        }
    }
}

/// Whether a bare name is more likely a pasted credential than a name: it
/// has an unbroken run of ASCII letters/digits that is ≥ 20 long with digits
/// and both cases (`sk-proj-…`, `ghp_…`, `AKIA…`-style keys), or ≥ 32 long
/// with digits and letters (hex tokens). Names people choose are words
/// joined by `_`, `-` or `.`; the explicit `keyward://NAME` form skips this.
fn looks_like_token(s: &str) -> bool {
    s.split(['_', '-', '.']).any(|run| {
        let digits = run.bytes().any(|b| b.is_ascii_digit());
        let lower = run.bytes().any(|b| b.is_ascii_lowercase());
        let upper = run.bytes().any(|b| b.is_ascii_uppercase());
        (run.len() >= 20 && digits && lower && upper)
            || (run.len() >= 32 && digits && (lower || upper))
    })
}

fn parse_file(rest: &str) -> Option<SecretRef> {
    if !rest.starts_with('/') {
        return None;
    }
    // `file:///C:/x` on Windows names `C:/x`.
    #[cfg(windows)]
    let rest = match rest.as_bytes() {
        [b'/', d, b':', ..] if d.is_ascii_alphabetic() => &rest[1..],
        _ => rest,
    };
    let path = PathBuf::from(rest);
    path.is_absolute().then_some(SecretRef::File(path))
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Vault(name) => write!(f, "keyward://{name}"),
            SecretRef::Env(var) => write!(f, "env://{var}"),
            SecretRef::Keychain { service, account } => write!(f, "keychain://{service}/{account}"),
            SecretRef::OpenBao { mount, path, field } => {
                write!(f, "vault://{mount}/{path}#{field}")
            }
            SecretRef::File(path) => {
                let text = path.to_string_lossy();
                if text.starts_with('/') {
                    write!(f, "file://{text}")
                } else {
                    write!(f, "file:///{text}")
                }
            }
        }
    }
}

impl std::str::FromStr for SecretRef {
    type Err = RefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SecretRef::parse(s)
    }
}
