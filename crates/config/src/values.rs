//! Small value checks shared by the `[servers.*]` and `[commands.*]`
//! validators: names, env values, header templates, programs, rates, and
//! how keys are spelled in messages.

use std::path::Path;

use keyward_policy::{Rate, RateError};
use keyward_vault::SecretRef;

use crate::ConfigError;
use crate::upstream::{EnvValue, TemplatedValue};
use crate::validate::Ctx;

pub(crate) use keyward_vault::has_secret_scheme;

/// A key as it is written in a dotted TOML path: bare when it can be,
/// quoted otherwise (`servers.github.tools."delete_*"`).
pub(crate) fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        k.to_string()
    } else {
        format!("\"{}\"", k.escape_debug())
    }
}

/// Server and command names: the service-name alphabet, and no `__` and
/// no trailing `_`, because a server's tools are exposed as `SERVER__TOOL`
/// and the gateway splits at the first `__`: with these two rules that
/// split is always the one intended.
pub(crate) fn validate_upstream_name(kind: &str, name: &str) -> Result<(), String> {
    let alphabet = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if !alphabet {
        return Err(format!(
            "invalid {kind} name `{}`: use 1-64 lowercase letters, digits, `_` or `-`, starting with a letter or digit",
            name.escape_debug()
        ));
    }
    if name.contains("__") || name.ends_with('_') {
        return Err(format!(
            "invalid {kind} name `{name}`: it must not contain `__` or end with `_` (tools are \
             shown to the agent as SERVER__TOOL)"
        ));
    }
    Ok(())
}

/// An MCP client's name, as `clients` lists, `keyward serve --client` and
/// `keyward import` write it: the names `keyward import` knows
/// (`claude-desktop`, `cursor`, ...) and any other, in the alphabet of
/// agent names (a `keyward serve --http` agent's name is its client name):
/// 1-64 ASCII letters, digits, `.`, `_` or `-`, starting with a letter or
/// digit.
pub fn validate_client_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid client name `{}`: use 1-64 letters, digits, `.`, `_` or `-`, starting with a \
             letter or digit (e.g. claude-desktop, cursor)",
            name.escape_debug()
        ))
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`: what every shell and `env` accept.
pub(crate) fn validate_env_name(name: &str) -> Result<(), String> {
    let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err("an environment variable name must match [A-Za-z_][A-Za-z0-9_]*".into())
    }
}

/// An env value: a whole-value secret reference, or a literal. A
/// reference anywhere else in the text is refused rather than passed on
/// literally, since the user evidently expected it to be resolved.
pub(crate) fn parse_env_value(s: &str) -> Result<EnvValue, String> {
    parse_child_value(s, "no environment", "an environment variable")
}

/// An argument of a server's command: read as an env value is (a
/// whole-argument reference, or a literal), except that `file://` stays a
/// literal (file URLs are ordinary arguments of some servers), and that a
/// reference glued to other text (`--token=keyward://t`,
/// `postgres://u:keyward://pw@db`) is refused: it would otherwise pass on
/// literally, which is never what its writer meant.
pub(crate) fn parse_arg_value(s: &str) -> Result<EnvValue, String> {
    let file_url = s
        .get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("file://"));
    if file_url && !s.contains('\0') {
        return Ok(EnvValue::Literal(s.to_string()));
    }
    let value = parse_child_value(s, "no argument", "an argument")?;
    if matches!(value, EnvValue::Literal(_)) && glued_reference(s) {
        return Err(
            "a secret reference must be a whole argument (keyward passes the value alone, \
             never spliced into other text): e.g. `[\"--token\", \"keyward://NAME\"]`, or \
             store the whole argument as the secret"
                .into(),
        );
    }
    Ok(value)
}

/// Whether a secret scheme starts somewhere inside `s`, after a character
/// that cannot be part of a scheme.
fn glued_reference(s: &str) -> bool {
    let scheme_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.');
    s.char_indices().skip(1).any(|(i, _)| {
        s[..i].chars().next_back().is_some_and(|c| !scheme_char(c)) && has_secret_scheme(&s[i..])
    })
}

/// The value of an environment variable or an argument (`what`; `none`
/// is what cannot hold a NUL): a whole-value secret reference, or a
/// literal.
fn parse_child_value(s: &str, none: &str, what: &str) -> Result<EnvValue, String> {
    if s.contains('\0') {
        return Err(format!("contains a NUL character, which {none} can hold"));
    }
    if has_secret_scheme(s) {
        return SecretRef::parse(s)
            .map(EnvValue::Secret)
            .map_err(|e| e.to_string());
    }
    if s.split_whitespace().any(has_secret_scheme) {
        return Err(format!(
            "a secret reference must be the whole value of {what}"
        ));
    }
    Ok(EnvValue::Literal(s.to_string()))
}

/// A header value: `<reference>`, `<prefix> <reference>` (the last
/// space-separated word is the reference), or a literal.
pub(crate) fn parse_header_value(s: &str) -> Result<TemplatedValue, String> {
    if s.chars().any(|c| c.is_control() && c != '\t') {
        return Err("a header value must not contain control characters (CR, LF, NUL...)".into());
    }
    let (prefix, last) = match s.rsplit_once(' ') {
        Some((p, last)) => (&s[..p.len() + 1], last),
        None => ("", s),
    };
    if has_secret_scheme(last) {
        let secret = SecretRef::parse(last).map_err(|e| e.to_string())?;
        if prefix.split_whitespace().any(has_secret_scheme) {
            return Err("only one secret reference per header value".into());
        }
        return Ok(TemplatedValue::Secret {
            prefix: prefix.to_string(),
            secret,
        });
    }
    if s.split_whitespace().any(has_secret_scheme) {
        return Err(
            "a secret reference must be the last word of a header value, e.g. `Bearer keyward://NAME`"
                .into(),
        );
    }
    Ok(TemplatedValue::Literal(s.to_string()))
}

/// A program to execute: a bare name (looked up in `PATH` by the gateway)
/// or an absolute path. A relative path with a `/` would depend on
/// keyward's working directory.
pub(crate) fn validate_program(p: &str) -> Result<(), String> {
    if p.is_empty() {
        return Err("must not be empty".into());
    }
    if p.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if p.trim() != p {
        return Err("must not start or end with whitespace".into());
    }
    if p.contains('/') && !Path::new(p).is_absolute() {
        return Err(format!(
            "`{}` is a relative path; use a bare program name (looked up in PATH) or an absolute path",
            p.escape_debug()
        ));
    }
    Ok(())
}

/// `rate` and `burst` of the entry at `at` (errors name `{at}.rate`,
/// `{at}.burst`).
pub(crate) fn parse_rate(
    ctx: &Ctx<'_>,
    at: &str,
    rate: Option<&str>,
    burst: Option<u32>,
) -> Result<Option<Rate>, ConfigError> {
    let Some(r) = rate else {
        if burst.is_some() {
            return Err(ctx.invalid(format!("{at}.burst"), "`burst` needs a `rate`"));
        }
        return Ok(None);
    };
    let mut rate: Rate = r
        .parse()
        .map_err(|e: RateError| ctx.invalid(format!("{at}.rate"), e.to_string()))?;
    if let Some(b) = burst {
        if b == 0 {
            return Err(ctx.invalid(format!("{at}.burst"), "must be at least 1"));
        }
        rate.burst = Some(b);
    }
    Ok(Some(rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values() {
        assert_eq!(
            parse_env_value("keyward://pat"),
            Ok(EnvValue::Secret(SecretRef::Vault("pat".into())))
        );
        assert_eq!(
            parse_env_value("ENV://HOME"),
            Ok(EnvValue::Secret(SecretRef::Env("HOME".into())))
        );
        for lit in ["info", "pat", "https://x/y", "foo://bar", "", "a b"] {
            assert_eq!(
                parse_env_value(lit),
                Ok(EnvValue::Literal(lit.into())),
                "{lit}"
            );
        }
        assert!(parse_env_value("keyward://bad name").is_err());
        assert!(parse_env_value("x keyward://pat").is_err());
        assert!(parse_env_value("a\0b").is_err());
    }

    #[test]
    fn arg_values_are_read_as_env_values_are() {
        // The same references as env values, whole-argument only.
        for (arg, r) in [
            ("keyward://pg.url", SecretRef::Vault("pg.url".into())),
            ("ENV://PG_URL", SecretRef::Env("PG_URL".into())),
            (
                "keychain://db/app",
                SecretRef::Keychain {
                    service: "db".into(),
                    account: "app".into(),
                },
            ),
        ] {
            assert_eq!(parse_arg_value(arg), Ok(EnvValue::Secret(r)), "{arg}");
            assert_eq!(parse_arg_value(arg), parse_env_value(arg), "{arg}");
        }
        for lit in [
            "-y",
            "@modelcontextprotocol/server-postgres",
            "postgresql://app@db/app",
            "https://x/y",
            "--port=5432",
            "pg_url",
            "",
            // file URLs are ordinary arguments, as before.
            "file:///home/me/project",
            "FILE:///tmp",
        ] {
            assert_eq!(
                parse_arg_value(lit),
                Ok(EnvValue::Literal(lit.into())),
                "{lit}"
            );
        }
        for bad in [
            "keyward://bad name",
            "keyward://",
            "vault://nofield",
            "a\0b",
            // A reference glued to other text would pass on literally.
            "--token=keyward://t",
            "postgresql://app:keyward://pw@db/app",
            "x keyward://pat",
            "--url=https://h/env://X",
        ] {
            assert!(parse_arg_value(bad).is_err(), "{bad}");
        }
        // The messages say what a value is and never echo one.
        let glued = parse_arg_value("--token=keyward://t").unwrap_err();
        assert!(glued.contains("whole argument"), "{glued}");
        assert_eq!(
            parse_arg_value("a\0b").unwrap_err(),
            "contains a NUL character, which no argument can hold"
        );
        assert_eq!(
            parse_env_value("a\0b").unwrap_err(),
            "contains a NUL character, which no environment can hold"
        );
    }

    #[test]
    fn header_values() {
        assert_eq!(
            parse_header_value("Bearer keyward://x"),
            Ok(TemplatedValue::Secret {
                prefix: "Bearer ".into(),
                secret: SecretRef::Vault("x".into())
            })
        );
        assert_eq!(
            parse_header_value("env://TOK"),
            Ok(TemplatedValue::Secret {
                prefix: String::new(),
                secret: SecretRef::Env("TOK".into())
            })
        );
        assert_eq!(
            parse_header_value("Token  a vault://kv/app#tok"),
            Ok(TemplatedValue::Secret {
                prefix: "Token  a ".into(),
                secret: SecretRef::OpenBao {
                    mount: "kv".into(),
                    path: "app".into(),
                    field: "tok".into()
                }
            })
        );
        assert_eq!(
            parse_header_value("application/json"),
            Ok(TemplatedValue::Literal("application/json".into()))
        );
        for bad in [
            "keyward://x trailing",
            "keyward://x ",
            "keyward://a keyward://b",
            "Bearer keyward://",
            "a\r\nb",
        ] {
            assert!(parse_header_value(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_and_programs() {
        for ok in ["github", "gh", "my-server", "a_b", "x1"] {
            assert!(validate_upstream_name("server", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "GitHub",
            "a__b",
            "a_",
            "_a",
            "-a",
            "a.b",
            &"a".repeat(65),
        ] {
            assert!(validate_upstream_name("server", bad).is_err(), "{bad}");
        }
        for ok in ["GH_TOKEN", "_x", "a1"] {
            assert!(validate_env_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1A", "A-B", "A B", "A=B"] {
            assert!(validate_env_name(bad).is_err(), "{bad}");
        }
        for ok in ["gh", "/usr/bin/gh", "git-lfs"] {
            assert!(validate_program(ok).is_ok(), "{ok}");
        }
        for bad in ["", "./gh", "bin/gh", "g\0h", " gh"] {
            assert!(validate_program(bad).is_err(), "{bad}");
        }
        assert_eq!(key("delete_*"), "\"delete_*\"");
        assert_eq!(key("GH_TOKEN"), "GH_TOKEN");
    }
}
