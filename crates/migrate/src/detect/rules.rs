//! The detection table: one row a kind of secret. Rows are data — a
//! pattern, an optional condition on the name the value sits under, and an
//! optional entropy floor — and the engine in [`super`] reads them in order,
//! so the specific token formats (first) win over the name-based guesses
//! (last).
//!
//! Token formats follow the providers' documented shapes, cross-checked
//! with gitleaks' rule set: a fixed prefix, a charset and a length, bounded
//! on both sides so `ghp_` inside a longer word does not count.

/// Which characters a [`Pattern::Prefix`] or [`Pattern::Whole`] body may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charset {
    /// `[A-Za-z0-9]`
    Base62,
    /// `[A-Za-z0-9_]`
    Word,
    /// `[A-Za-z0-9+/=]`
    Base64,
    /// Anything but whitespace and control characters.
    Printable,
    /// Anything but control characters (passphrases hold spaces).
    Line,
}

impl Charset {
    pub fn contains(self, c: char) -> bool {
        match self {
            Charset::Base62 => c.is_ascii_alphanumeric(),
            Charset::Word => c.is_ascii_alphanumeric() || c == '_',
            Charset::Base64 => c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='),
            Charset::Printable => !c.is_whitespace() && !c.is_control(),
            Charset::Line => !c.is_control(),
        }
    }
}

/// How a rule finds its secret in a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// One of `prefixes` followed by `min..=max` characters of `charset`,
    /// anywhere in the value, not glued to other token characters.
    Prefix {
        prefixes: &'static [&'static str],
        charset: Charset,
        min: usize,
        max: usize,
    },
    /// A regular expression searched anywhere in the value, not glued to
    /// other token characters. A group named `s`, when present, is the
    /// secret part that must not be a placeholder (a database URL's
    /// password); the preview is taken from the whole match.
    Regex(&'static str),
    /// The whole value (after an `Authorization` scheme such as `Bearer` is
    /// taken off): `min..=max` characters of `charset`.
    Whole {
        charset: Charset,
        min: usize,
        max: usize,
    },
}

/// A condition on the name (env var, header, JSON key) a value sits under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCond {
    /// The value's shape is enough.
    Any,
    /// The name, lower-cased with `_`, `-`, `.` and spaces removed, ends
    /// with one of these (`AWS_SECRET_ACCESS_KEY` → `awssecretaccesskey`).
    EndsWith(&'static [&'static str]),
    /// `Authorization`/`Proxy-Authorization`, or a value written as
    /// `Bearer X`/`Basic X`/`token X`.
    AuthHeader,
    /// A password-sounding name: `*PASSWORD*`, `*PASSWD*`, `*_PASS`, `*PASSPHRASE*`.
    Password,
    /// A secret-sounding name: `*_TOKEN`, `*_KEY`, `*SECRET*`, `*CREDENTIAL*`, ...
    Secret,
}

/// One kind of secret.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rule {
    /// Stable id (SARIF `ruleId`, `--json` `rule`).
    pub id: &'static str,
    pub title: &'static str,
    pub pattern: Pattern,
    pub key: KeyCond,
    /// Minimum Shannon entropy (bits per character) of the matched secret.
    pub min_entropy: Option<f64>,
}

const TOKEN_ENTROPY: Option<f64> = Some(3.0);

/// The table, most specific first.
pub static RULES: &[Rule] = &[
    Rule {
        id: "github-pat",
        title: "GitHub personal access token (classic)",
        pattern: Pattern::Prefix {
            prefixes: &["ghp_"],
            charset: Charset::Base62,
            min: 36,
            max: 36,
        },
        key: KeyCond::Any,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "github-fine-grained-pat",
        title: "GitHub fine-grained personal access token",
        pattern: Pattern::Prefix {
            prefixes: &["github_pat_"],
            charset: Charset::Word,
            min: 82,
            max: 82,
        },
        key: KeyCond::Any,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "github-oauth",
        title: "GitHub OAuth access token",
        pattern: Pattern::Prefix {
            prefixes: &["gho_"],
            charset: Charset::Base62,
            min: 36,
            max: 36,
        },
        key: KeyCond::Any,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "github-app-token",
        title: "GitHub App token",
        pattern: Pattern::Prefix {
            prefixes: &["ghu_", "ghs_", "ghr_"],
            charset: Charset::Base62,
            min: 36,
            max: 36,
        },
        key: KeyCond::Any,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "stripe-live-secret-key",
        title: "Stripe live secret key",
        pattern: Pattern::Prefix {
            prefixes: &["sk_live_"],
            charset: Charset::Base62,
            min: 20,
            max: 247,
        },
        key: KeyCond::Any,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "stripe-test-secret-key",
        title: "Stripe test secret key",
        pattern: Pattern::Prefix {
            prefixes: &["sk_test_"],
            charset: Charset::Base62,
            min: 20,
            max: 247,
        },
        key: KeyCond::Any,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "stripe-restricted-key",
        title: "Stripe restricted key",
        pattern: Pattern::Prefix {
            prefixes: &["rk_live_", "rk_test_"],
            charset: Charset::Base62,
            min: 20,
            max: 247,
        },
        key: KeyCond::Any,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "slack-bot-token",
        title: "Slack bot token",
        pattern: Pattern::Regex(r"xoxb-[0-9]{8,14}-(?:[0-9]{8,14}-)?[A-Za-z0-9]{18,48}"),
        key: KeyCond::Any,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "slack-user-token",
        title: "Slack user token",
        pattern: Pattern::Regex(r"xox[pe](?:-[0-9]{8,14}){3}-[A-Za-z0-9]{28,34}"),
        key: KeyCond::Any,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "slack-app-token",
        title: "Slack app-level token",
        pattern: Pattern::Regex(r"(?i)xapp-[0-9]-[A-Z0-9]{8,14}-[0-9]{8,16}-[A-Z0-9]{32,80}"),
        key: KeyCond::Any,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "slack-webhook-url",
        title: "Slack incoming webhook URL",
        pattern: Pattern::Regex(
            r"https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{6,14}/[A-Z0-9]{6,14}/[A-Za-z0-9]{20,40}",
        ),
        key: KeyCond::Any,
        min_entropy: None,
    },
    Rule {
        id: "aws-access-key-id",
        title: "AWS access key ID",
        pattern: Pattern::Regex(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"),
        key: KeyCond::Any,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "anthropic-api-key",
        title: "Anthropic API key",
        pattern: Pattern::Regex(r"sk-ant-(?:api|admin|oat|ort)[0-9]{2}-[A-Za-z0-9_-]{40,250}"),
        key: KeyCond::Any,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "openai-api-key",
        title: "OpenAI API key",
        pattern: Pattern::Regex(
            r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|sk-[A-Za-z0-9]{48}",
        ),
        key: KeyCond::Any,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "private-key",
        title: "Private key (PEM)",
        pattern: Pattern::Regex(
            r"-----BEGIN[ A-Z0-9]{0,30}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?[A-Za-z0-9+/=]{40}[\s\S]*?-----END[ A-Z0-9]{0,30}PRIVATE KEY(?: BLOCK)?-----",
        ),
        key: KeyCond::Any,
        min_entropy: None,
    },
    Rule {
        id: "jwt",
        title: "JSON Web Token",
        pattern: Pattern::Regex(
            r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,}",
        ),
        key: KeyCond::Any,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "database-url-password",
        title: "Database URL with a password",
        pattern: Pattern::Regex(
            r"(?i)(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver)://[^:/?#@\s]*:(?P<s>[^@/?#\s]{3,})@[^\s/?#@]+",
        ),
        key: KeyCond::Any,
        min_entropy: None,
    },
    Rule {
        id: "aws-secret-access-key",
        title: "AWS secret access key",
        pattern: Pattern::Whole {
            charset: Charset::Base64,
            min: 40,
            max: 40,
        },
        key: KeyCond::EndsWith(&["secretaccesskey", "awssecretkey", "awssecret"]),
        min_entropy: Some(3.5),
    },
    Rule {
        id: "authorization-header",
        title: "Credential in an Authorization header",
        pattern: Pattern::Whole {
            charset: Charset::Printable,
            min: 12,
            max: 8192,
        },
        key: KeyCond::AuthHeader,
        min_entropy: TOKEN_ENTROPY,
    },
    Rule {
        id: "generic-password",
        title: "Password under a password-named key",
        pattern: Pattern::Whole {
            charset: Charset::Line,
            min: 8,
            max: 1024,
        },
        key: KeyCond::Password,
        min_entropy: Some(2.5),
    },
    Rule {
        id: "generic-secret",
        title: "High-entropy value under a secret-sounding name",
        pattern: Pattern::Whole {
            charset: Charset::Printable,
            min: 16,
            max: 8192,
        },
        key: KeyCond::Secret,
        min_entropy: Some(3.0),
    },
];

/// Shannon entropy of `s` in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
    let mut n = 0usize;
    for c in s.chars() {
        *counts.entry(c).or_default() += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum()
}
