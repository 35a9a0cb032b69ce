//! What the name a value sits under says about it.

use super::rules::KeyCond;

/// Words that make a name secret-sounding (`GITHUB_TOKEN`, `apiKey`,
/// `client_secret`, `X-Auth-Token`).
const SECRET_WORDS: &[&str] = &[
    "token",
    "key",
    "apikey",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "pass",
    "credential",
    "credentials",
    "creds",
    "auth",
    "authorization",
    "pat",
    "cookie",
    "bearer",
    "privatekey",
    "signingkey",
];

const PASSWORD_WORDS: &[&str] = &["password", "passwd", "passphrase", "pass", "pwd"];

/// A last word that makes the name about something *around* a secret
/// (`TOKEN_URL`, `SECRET_NAME`, `KEY_PATH`, `AWS_ACCESS_KEY_ID`).
const NOT_SECRET_LAST: &[&str] = &[
    "url",
    "uri",
    "urls",
    "path",
    "file",
    "dir",
    "endpoint",
    "host",
    "name",
    "names",
    "id",
    "ids",
    "type",
    "env",
    "var",
    "header",
    "prefix",
    "length",
    "len",
    "ttl",
    "expiry",
    "expires",
    "expiration",
    "count",
    "limit",
    "enabled",
    "mode",
    "format",
    "version",
    "helper",
    "command",
    "cmd",
    "location",
    "source",
    "kind",
    "scope",
    "scopes",
    "policy",
    "required",
    "field",
    "fields",
    "store",
    "storage",
    "provider",
    "method",
    "timeout",
    "refresh",
    "pattern",
];

/// The words of a name: split at `_ - . space :`, and at camelCase humps.
pub(crate) fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn normalized(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn has_word(words: &[String], set: &[&str]) -> bool {
    let last_ok = words
        .last()
        .is_some_and(|w| !NOT_SECRET_LAST.contains(&w.as_str()));
    last_ok && words.iter().any(|w| set.contains(&w.as_str()))
}

/// Whether `name` is an HTTP header that carries credentials.
pub(crate) fn is_auth_header(name: &str) -> bool {
    matches!(
        normalized(name).as_str(),
        "authorization" | "proxyauthorization"
    )
}

/// Glued names (`PGPASSWORD`, `GHTOKEN`) end with one of these.
const PASSWORD_ENDINGS: &[&str] = &["password", "passwd", "passphrase"];
const SECRET_ENDINGS: &[&str] = &["apikey", "token", "secret", "secretkey", "privatekey"];

fn ends_with_any(name: &str, ends: &[&str]) -> bool {
    let n = normalized(name);
    ends.iter().any(|e| n.ends_with(e))
}

pub(crate) fn is_password_name(name: &str) -> bool {
    // `PWD` alone is the shell's working directory.
    let w = words(name);
    !(w.len() == 1 && w[0] == "pwd")
        && (has_word(&w, PASSWORD_WORDS) || ends_with_any(name, PASSWORD_ENDINGS))
}

pub(crate) fn is_secret_name(name: &str) -> bool {
    let w = words(name);
    if w.len() == 1 && w[0] == "pwd" {
        return false;
    }
    has_word(&w, SECRET_WORDS) || is_password_name(name) || ends_with_any(name, SECRET_ENDINGS)
}

/// Whether `cond` holds for `key`; `auth_form` says the value was written
/// as `Bearer X`/`Basic X`/`token X`.
pub(crate) fn holds(cond: KeyCond, key: Option<&str>, auth_form: bool) -> bool {
    match cond {
        KeyCond::Any => true,
        KeyCond::AuthHeader => auth_form || key.is_some_and(is_auth_header),
        KeyCond::EndsWith(ends) => {
            key.is_some_and(|k| ends.iter().any(|e| normalized(k).ends_with(e)))
        }
        KeyCond::Password => key.is_some_and(is_password_name),
        KeyCond::Secret => key.is_some_and(|k| is_secret_name(k) || is_auth_header(k)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_snake_kebab_and_camel() {
        assert_eq!(
            words("GITHUB_PERSONAL_ACCESS_TOKEN"),
            ["github", "personal", "access", "token"]
        );
        assert_eq!(words("apiKey"), ["api", "key"]);
        assert_eq!(words("X-Auth-Token"), ["x", "auth", "token"]);
        assert_eq!(words("clientSecretValue2"), ["client", "secret", "value2"]);
    }

    #[test]
    fn secret_sounding_names() {
        for k in [
            "GITHUB_PERSONAL_ACCESS_TOKEN",
            "OPENAI_API_KEY",
            "apiKey",
            "api-key",
            "x-api-key",
            "client_secret",
            "SECRET",
            "DB_PASSWORD",
            "authToken",
            "STRIPE_SECRET_KEY",
            "SLACK_BOT_TOKEN",
            "Authorization",
            "GITLAB_PAT",
        ] {
            assert!(is_secret_name(k) || is_auth_header(k), "{k}");
        }
    }

    #[test]
    fn names_around_secrets_are_not_secret_sounding() {
        for k in [
            "TOKEN_URL",
            "SECRET_NAME",
            "KEY_PATH",
            "AWS_ACCESS_KEY_ID",
            "DATABASE_URL",
            "userID",
            "PWD",
            "command",
            "args",
            "MONKEY",
            "apiKeyHelper",
            "keyboard",
            "SLACK_TEAM_ID",
        ] {
            assert!(!is_secret_name(k), "{k}");
        }
    }

    #[test]
    fn password_names() {
        assert!(is_password_name("DB_PASSWORD"));
        assert!(!is_password_name("PGPASS"), "one glued word is not `pass`");
        assert!(is_password_name("PGPASSWORD"));
        assert!(is_password_name("mysql_pass"));
        assert!(is_password_name("passphrase"));
        assert!(!is_password_name("PWD"));
        assert!(!is_password_name("PASSWORD_FILE"));
    }
}
