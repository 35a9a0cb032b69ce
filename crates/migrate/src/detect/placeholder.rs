//! Values that stand for a secret without being one: references,
//! interpolations, and the placeholders READMEs tell people to replace.

/// Whole values that are placeholders (compared lower-cased).
const PLACEHOLDER_WORDS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "changeit",
    "secret",
    "password",
    "passwd",
    "pass",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "todo",
    "tbd",
    "none",
    "null",
    "nil",
    "undefined",
    "placeholder",
    "redacted",
    "example",
    "sample",
    "dummy",
    "test",
    "foo",
    "bar",
    "mytoken",
    "mysecret",
    "mypassword",
];

/// Fragments that mark a placeholder wherever they appear (compared
/// lower-cased): `ghp_your_token_here`, `<YOUR-API-KEY>`, `sk-xxxx`.
const PLACEHOLDER_FRAGMENTS: &[&str] = &[
    "your_",
    "your-",
    "your ",
    "yourtoken",
    "yourkey",
    "yoursecret",
    "_here",
    "-here",
    " here",
    "****",
    "example",
    "placeholder",
    "replace_me",
    "replace-me",
    "insert_",
    "insert-",
    "<your",
    "<token",
    "<api",
    "<secret",
    "<key",
    "<pass",
    "...",
    "…",
];

/// Whether `value` is not a secret but stands for one: empty, a secret
/// reference (`keyward://`, `env://`, `vault://`, `keychain://`,
/// `file://`), an interpolation (`${GITHUB_TOKEN}`, `${env:X}`,
/// `${input:x}`, `$VAR`, `$(cmd)`, `{{ secrets.X }}`, `%VAR%`), or a
/// placeholder (`ghp_your_token_here`, `<YOUR_TOKEN>`, `sk-...`, `xxxx`,
/// `changeme`).
pub fn is_placeholder(value: &str) -> bool {
    why(value).is_some()
}

/// Why [`is_placeholder`] rules a value out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// Empty, a secret reference or an interpolation: nothing to report.
    NotAValue,
    /// Looks like a README's stand-in or example; the text says which
    /// mark (`contains "example"`, `placeholder word`).
    Placeholder(&'static str),
}

/// [`is_placeholder`], with the reason.
pub(crate) fn why(value: &str) -> Option<Why> {
    let v = value.trim();
    if v.is_empty() || keyward_vault::has_secret_scheme(v) || is_interpolation(v) {
        return Some(Why::NotAValue);
    }
    let lower = v.to_lowercase();
    if PLACEHOLDER_WORDS.contains(&lower.as_str()) {
        return Some(Why::Placeholder("placeholder word"));
    }
    if let Some(f) = PLACEHOLDER_FRAGMENTS.iter().find(|f| lower.contains(*f)) {
        return Some(Why::Placeholder(fragment_reason(f)));
    }
    // Case-sensitive, so that a random mixed-case token (`xXxX`) is not one.
    if v.contains("xxxx") || v.contains("XXXX") {
        return Some(Why::Placeholder("contains 'xxxx'"));
    }
    let wrapped = |o: char, c: char| v.starts_with(o) && v.ends_with(c);
    if one_char_repeated(v) {
        Some(Why::Placeholder("one character repeated"))
    } else if wrapped('[', ']') || wrapped('<', '>') {
        Some(Why::Placeholder("in <...> or [...]"))
    } else {
        None
    }
}

/// The reason text for a placeholder fragment (static, so reports can
/// hold it).
fn fragment_reason(f: &str) -> &'static str {
    match f {
        "example" => "contains 'example'",
        "placeholder" => "contains 'placeholder'",
        "your_" | "your-" | "your " | "yourtoken" | "yourkey" | "yoursecret" | "<your" => {
            "contains 'your'"
        }
        "_here" | "-here" | " here" => "contains 'here'",
        "****" => "contains '****'",
        "replace_me" | "replace-me" => "contains 'replace me'",
        "insert_" | "insert-" => "contains 'insert'",
        "..." | "…" => "contains '...'",
        _ => "in <...>",
    }
}

/// A value that is (only) a variable the client or shell fills in.
fn is_interpolation(v: &str) -> bool {
    let braced = |open: &str, close: &str| {
        v.starts_with(open) && v.ends_with(close) && v.len() >= open.len() + close.len()
    };
    if braced("${", "}") || braced("$(", ")") || braced("{{", "}}") {
        return true;
    }
    if let Some(name) = v.strip_prefix('$') {
        return !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    }
    if let Some(name) = v.strip_prefix('%').and_then(|r| r.strip_suffix('%')) {
        return !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    }
    // A value that holds an interpolation anywhere is assembled at run
    // time (`Bearer ${TOKEN}`, `https://u:${PW}@h`): the secret is elsewhere.
    v.contains("${") || v.contains("{{")
}

fn one_char_repeated(v: &str) -> bool {
    let mut cs = v.chars();
    match cs.next() {
        Some(first) => v.chars().count() >= 3 && cs.all(|c| c == first),
        None => false,
    }
}

/// Whether a matched token's text is a decoy: a long run of one
/// character, an ascending run (`123456`, `abcdef`) or a placeholder word.
/// Random tokens hit these with probabilities around one in a million.
pub(crate) fn is_decoy_token(token: &str) -> bool {
    decoy_why(token).is_some()
}

/// [`is_decoy_token`], with the reason.
pub(crate) fn decoy_why(token: &str) -> Option<&'static str> {
    let lower = token.to_lowercase();
    if let Some(w) = [
        "example",
        "sample",
        "placeholder",
        "dummy",
        "your_",
        "yourtoken",
    ]
    .iter()
    .find(|w| lower.contains(*w))
    {
        return Some(match *w {
            "example" => "contains 'example'",
            "sample" => "contains 'sample'",
            "placeholder" => "contains 'placeholder'",
            "dummy" => "contains 'dummy'",
            _ => "contains 'your'",
        });
    }
    if token.contains("xxxx") || token.contains("XXXX") {
        return Some("contains 'xxxx'");
    }
    let cs: Vec<char> = token.chars().collect();
    let mut same = 1;
    let mut ascending = 1;
    for w in cs.windows(2) {
        same = if w[1] == w[0] { same + 1 } else { 1 };
        ascending = if w[0].is_ascii_alphanumeric() && (w[1] as u32) == (w[0] as u32) + 1 {
            ascending + 1
        } else {
            1
        };
        if same >= 5 {
            return Some("a run of one character");
        }
        if ascending >= 6 {
            return Some("an ascending run (123456, abcdef)");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_interpolations_and_placeholders() {
        for v in [
            "",
            "   ",
            "keyward://github_pat",
            "env://GITHUB_TOKEN",
            "vault://secret/gh#token",
            "keychain://svc/acct",
            "file:///run/secrets/x",
            "${GITHUB_TOKEN}",
            "${env:GITHUB_TOKEN}",
            "${input:github-token}",
            "$GITHUB_TOKEN",
            "$(pass show github)",
            "{{ secrets.GITHUB_TOKEN }}",
            "%GITHUB_TOKEN%",
            "Bearer ${API_TOKEN}",
            "ghp_your_token_here",
            "<YOUR_TOKEN>",
            "sk-...",
            "ghp_…",
            "xxxx",
            "xxxxxxxxxxxxxxxxxxxxxxxx",
            "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
            "changeme",
            "CHANGEME",
            "YOUR-API-KEY",
            "[TOKEN]",
            "********",
        ] {
            assert!(is_placeholder(v), "{v:?}");
        }
    }

    #[test]
    fn real_looking_values_are_not_placeholders() {
        for v in [
            "ghp_R4nd0mT0kenW1thNoW0rdsInItQz8xYvB2",
            "hunter2hunter2",
            "postgres://app:S3cr3tPw@db/app",
            "-y",
            "/home/user/projects",
            "npx",
            "$5 per month",
            "ghp_Q7xXxXr4nd0mT0kenW1thNoW0rdsInItQz8xYv",
        ] {
            assert!(!is_placeholder(v), "{v:?}");
        }
    }

    #[test]
    fn decoy_tokens() {
        assert!(is_decoy_token("ghp_000000000000000000000000000000000000"));
        assert!(is_decoy_token("sk_test_1234567890abcdefghij"));
        assert!(is_decoy_token("AKIAIOSFODNN7EXAMPLE"));
        assert!(!is_decoy_token("ghp_R4nd0mT0kenW1thNoW0rdsInItQz8xYvB2"));
    }
}
