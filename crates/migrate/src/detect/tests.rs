//! The table, row by row: every rule has positive and negative examples
//! that behave, plus hand cases for what is *not* a finding.
//!
//! Tokens are generated (a fixed-seed generator over each format's charset)
//! rather than written out, so this file holds no token-shaped literals.

use super::*;

const B62: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URLSAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const UPPER32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const DIGITS: &str = "0123456789";
const HEX: &str = "0123456789abcdef";

/// xorshift: deterministic, good enough to look random to the rules.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn s(&mut self, charset: &str, n: usize) -> String {
        let cs: Vec<char> = charset.chars().collect();
        (0..n)
            .map(|_| cs[(self.next() % cs.len() as u64) as usize])
            .collect()
    }
}

type Example = (Option<&'static str>, String);

/// Positive and negative examples of one rule (by id).
fn examples(id: &str) -> (Vec<Example>, Vec<Example>) {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15 ^ id.len() as u64);
    let mut r = |cs: &str, n: usize| g.s(cs, n);
    let none = |v: String| (None, v);
    match id {
        "github-pat" => (
            vec![
                none(format!("ghp_{}", r(B62, 36))),
                (Some("args"), format!("--token=ghp_{}", r(B62, 36))),
                (Some("Authorization"), format!("Bearer ghp_{}", r(B62, 36))),
            ],
            vec![
                none(format!("ghp_{}", r(B62, 35))),
                none(format!("ghp_{}", r(B62, 37))),
                none("ghp_your_token_here".into()),
                none(format!("ghp_{}", "0".repeat(36))),
                none(format!("xghp_{}", r(B62, 36))),
            ],
        ),
        "github-fine-grained-pat" => (
            vec![none(format!("github_pat_{}_{}", r(B62, 22), r(B62, 59)))],
            vec![none(format!("github_pat_{}", r(B62, 40)))],
        ),
        "github-oauth" => (
            vec![none(format!("gho_{}", r(B62, 36)))],
            vec![none(format!("gho_{}", r(B62, 20)))],
        ),
        "github-app-token" => (
            vec![
                none(format!("ghu_{}", r(B62, 36))),
                none(format!("ghs_{}", r(B62, 36))),
                none(format!("ghr_{}", r(B62, 36))),
            ],
            vec![none(format!("ghx_{}", r(B62, 36)))],
        ),
        "stripe-live-secret-key" => (
            vec![
                none(format!("sk_live_{}", r(B62, 24))),
                none(format!("sk_live_51{}", r(B62, 97))),
            ],
            vec![
                none("sk_live_xxxxxxxxxxxxxxxxxxxxxxxx".into()),
                none(format!("sk_live_{}", r(B62, 10))),
                none(format!("pk_live_{}", r(B62, 24))),
            ],
        ),
        "stripe-test-secret-key" => (
            vec![none(format!("sk_test_{}", r(B62, 24)))],
            vec![none("sk_test_1234567890abcdefghijklmn".into())],
        ),
        "stripe-restricted-key" => (
            vec![
                none(format!("rk_live_{}", r(B62, 24))),
                none(format!("rk_test_{}", r(B62, 24))),
            ],
            vec![none(format!("rk_prod_{}", r(B62, 24)))],
        ),
        "slack-bot-token" => (
            vec![none(format!(
                "xoxb-{}-{}-{}",
                r(DIGITS, 12),
                r(DIGITS, 13),
                r(B62, 24)
            ))],
            vec![
                none("xoxb-your-bot-token".into()),
                none("xoxb-xxxxxxxxx-xxxxxxxxxx-xxxxxxxxxxxx".into()),
            ],
        ),
        "slack-user-token" => (
            vec![none(format!(
                "xoxp-{}-{}-{}-{}",
                r(DIGITS, 11),
                r(DIGITS, 10),
                r(DIGITS, 11),
                r(HEX, 32)
            ))],
            vec![none("xoxp-1234567890".into())],
        ),
        "slack-app-token" => (
            vec![none(format!(
                "xapp-1-A{}-{}-{}",
                r(UPPER32, 10),
                r(DIGITS, 13),
                r(HEX, 64)
            ))],
            vec![none("xapp-1-abc".into())],
        ),
        "slack-webhook-url" => (
            vec![none(format!(
                "https://hooks.slack.com/services/T{}/B{}/{}",
                r(UPPER32, 8),
                r(UPPER32, 10),
                r(B62, 24)
            ))],
            vec![none(
                "https://hooks.slack.com/services/T000/B000/XXXX".into(),
            )],
        ),
        "aws-access-key-id" => (
            vec![
                none(format!("AKIA{}", r(UPPER32, 16))),
                (Some("AWS_ACCESS_KEY_ID"), format!("ASIA{}", r(UPPER32, 16))),
            ],
            vec![
                none("AKIAIOSFODNN7EXAMPLE".into()),
                none("AKIAXXXXXXXXXXXXXXXX".into()),
                none(format!("AKIA{}", r(UPPER32, 15))),
            ],
        ),
        "anthropic-api-key" => (
            vec![none(format!("sk-ant-api03-{}AA", r(URLSAFE, 93)))],
            vec![none("sk-ant-api03-abc".into()), none("sk-ant-...".into())],
        ),
        "openai-api-key" => (
            vec![
                none(format!(
                    "sk-proj-{}T3BlbkFJ{}",
                    r(URLSAFE, 74),
                    r(URLSAFE, 74)
                )),
                none(format!("sk-{}T3BlbkFJ{}", r(B62, 20), r(B62, 20))),
                none(format!("sk-{}", r(B62, 48))),
            ],
            vec![
                none("sk-...".into()),
                none("sk-proj-abc".into()),
                none(format!("sk-{}", r(B62, 30))),
            ],
        ),
        "private-key" => (
            vec![none(format!(
                "-----BEGIN RSA PRIVATE KEY-----\n{}\n{}\n-----END RSA PRIVATE KEY-----\n",
                r(B64, 64),
                r(B64, 40)
            ))],
            vec![
                none("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----".into()),
                none("-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----".into()),
            ],
        ),
        "jwt" => (
            vec![none(format!(
                "eyJhbGciOiJIUzI1NiJ9.eyJ{}.{}",
                r(URLSAFE, 40),
                r(URLSAFE, 43)
            ))],
            vec![none("eyJhbGciOiJIUzI1NiJ9".into())],
        ),
        "database-url-password" => (
            vec![
                none(format!(
                    "postgres://app:{}@db.internal:5432/app",
                    r(B62, 16)
                )),
                none(format!(
                    "postgresql://app:{}@db/app?sslmode=require",
                    r(B62, 12)
                )),
                none(format!("mysql://root:{}@127.0.0.1/x", r(B62, 12))),
                none(format!(
                    "mongodb+srv://u:{}@cluster0.abc.mongodb.net/db",
                    r(B62, 20)
                )),
                none(format!("redis://:{}@cache:6379/0", r(B62, 20))),
                none(format!("amqp://guest:{}@mq/vhost", r(B62, 20))),
                (
                    Some("args"),
                    format!("--db=postgres://a:{}@h/d", r(B62, 16)),
                ),
            ],
            vec![
                none("postgres://localhost/db".into()),
                none("postgres://app@db/app".into()),
                none("postgres://app:${DB_PASSWORD}@db/app".into()),
                none("postgres://user:password@localhost/db".into()),
                none("postgres://user:<password>@localhost/db".into()),
                none("https://user:pw@example.org".into()),
            ],
        ),
        "aws-secret-access-key" => (
            vec![
                (Some("AWS_SECRET_ACCESS_KEY"), r(B64, 40)),
                (Some("aws_secret_access_key"), r(B64, 40)),
                (Some("secretAccessKey"), r(B64, 40)),
            ],
            vec![
                (
                    Some("AWS_SECRET_ACCESS_KEY"),
                    "${AWS_SECRET_ACCESS_KEY}".into(),
                ),
                (Some("AWS_REGION"), r(B64, 40)),
            ],
        ),
        "authorization-header" => (
            vec![
                (Some("Authorization"), format!("Bearer {}", r(B62, 40))),
                (Some("Authorization"), format!("token {}", r(HEX, 40))),
                (
                    Some("headers"),
                    format!("Authorization: Bearer {}", r(B62, 32)),
                ),
                (None, format!("Bearer {}", r(B62, 32))),
            ],
            vec![
                (Some("Authorization"), "Bearer ${API_TOKEN}".into()),
                (Some("Authorization"), "Bearer ${input:token}".into()),
                (Some("Authorization"), "Bearer short".into()),
                (Some("Authorization"), "Bearer keyward://api".into()),
            ],
        ),
        "generic-password" => (
            vec![
                (Some("DB_PASSWORD"), "hunter2hunter2".into()),
                (Some("PGPASSWORD"), r(B62, 10)),
                (Some("passphrase"), "correct horse battery staple".into()),
            ],
            vec![
                (Some("DB_PASSWORD"), "changeme".into()),
                (Some("DB_PASSWORD"), "short".into()),
                (Some("PASSWORD_FILE"), "/run/secrets/db_password".into()),
                (Some("PWD"), "/home/user/project".into()),
            ],
        ),
        "generic-secret" => (
            vec![
                (Some("MY_SERVICE_TOKEN"), r(B62, 32)),
                (Some("apiKey"), r(HEX, 32)),
                (Some("x-api-key"), r(B62, 24)),
                (Some("client_secret"), r(URLSAFE, 40)),
                (Some("NOTION_API_KEY"), format!("secret_{}", r(B62, 43))),
                (
                    Some("HF_TOKEN"),
                    format!(
                        "hf_{}",
                        r("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 34)
                    ),
                ),
                (
                    Some("API_KEY"),
                    "550e8400-e29b-41d4-a716-446655440000".into(),
                ),
                (Some("args"), format!("LINEAR_API_KEY={}", r(B62, 40))),
            ],
            vec![
                (Some("MY_SERVICE_TOKEN"), "${MY_SERVICE_TOKEN}".into()),
                (Some("SORT_KEY"), "created_at_descending".into()),
                (Some("API_KEY"), "MyProductionDatabase".into()),
                (Some("API_KEY"), "/home/user/.config/key.pem".into()),
                (
                    Some("TOKEN_URL"),
                    format!("https://auth.example.org/{}", r(B62, 20)),
                ),
                (Some("userID"), r(HEX, 64)),
                (Some("API_KEY"), r(B62, 10)),
                (
                    Some("API_KEY"),
                    "sk-1234567890abcdef1234567890abcdef".into(),
                ),
                (Some("API_KEY"), "REPLACE_WITH_YOUR_KEY".into()),
                (
                    Some("GOOGLE_APPLICATION_CREDENTIALS"),
                    "/home/me/creds.json".into(),
                ),
            ],
        ),
        other => panic!("rule {other} has no examples: add some to detect/tests.rs"),
    }
}

#[test]
fn every_rule_has_examples_that_behave() {
    for rule in RULES {
        let (pos, neg) = examples(rule.id);
        assert!(
            !pos.is_empty() && !neg.is_empty(),
            "{}: needs both kinds",
            rule.id
        );
        for (key, value) in &pos {
            let got = detect(*key, value).map(|d| d.rule);
            assert_eq!(
                got,
                Some(rule.id),
                "{}: positive under {key:?} missed (got {got:?})",
                rule.id
            );
        }
        for (key, value) in &pos {
            assert!(
                matches!(verdict(*key, value), Verdict::Found(m) if m.detection.rule == rule.id),
                "{}: verdict differs from find under {key:?}",
                rule.id
            );
        }
        for (key, value) in &neg {
            let got = detect(*key, value);
            assert_eq!(
                got, None,
                "{}: negative under {key:?} detected as {got:?}",
                rule.id
            );
        }
    }
}

#[test]
fn rule_ids_are_unique_and_regexes_compile() {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
    for (i, rule) in RULES.iter().enumerate() {
        if let Pattern::Regex(re) = rule.pattern {
            assert!(COMPILED[i].is_some(), "{}: bad regex {re}", rule.id);
        }
        if let Pattern::Prefix { charset, .. } = rule.pattern {
            assert!(
                matches!(charset, Charset::Base62 | Charset::Word | Charset::Base64),
                "{}",
                rule.id
            );
        }
    }
}

#[test]
fn specific_rules_win_over_name_based_ones() {
    let mut g = Gen(7);
    let pat = format!("ghp_{}", g.s(B62, 36));
    assert_eq!(
        detect(Some("GITHUB_TOKEN"), &pat).map(|d| d.rule),
        Some("github-pat")
    );
    let bearer = format!("Bearer {pat}");
    assert_eq!(
        detect(Some("Authorization"), &bearer).map(|d| d.rule),
        Some("github-pat")
    );
}

#[test]
fn ordinary_config_values_are_not_findings() {
    for (k, v) in [
        (Some("command"), "npx"),
        (Some("args"), "-y"),
        (Some("args"), "@modelcontextprotocol/server-github"),
        (Some("args"), "/home/user/projects"),
        (Some("type"), "stdio"),
        (Some("url"), "https://mcp.example.com/mcp"),
        (Some("GITHUB_TOKEN"), ""),
        (Some("GITHUB_TOKEN"), "keyward://github_pat"),
        (Some("GITHUB_TOKEN"), "${env:GITHUB_TOKEN}"),
        (Some("API_KEY"), "$API_KEY"),
        (Some("TOKEN"), "<YOUR_TOKEN>"),
        (None, "sk-..."),
        (Some("NODE_ENV"), "production"),
        (Some("LOG_LEVEL"), "debug"),
    ] {
        assert_eq!(detect(k, v), None, "{k:?} = {v:?}");
    }
}

#[test]
fn the_match_range_covers_the_secret_only() {
    let mut g = Gen(11);
    let tok = format!("ghp_{}", g.s(B62, 36));
    let value = format!("--token={tok}");
    let m = find(Some("args"), &value).unwrap();
    assert_eq!(&value[m.start..m.end], tok);
    assert_eq!(m.preview(&value), format!("ghp_…{}", &tok[tok.len() - 4..]));

    let bearer = format!("Bearer {}", g.s(B62, 40));
    let m = find(Some("Authorization"), &bearer).unwrap();
    assert_eq!(m.start, 7);
    assert!(!m.preview(&bearer).starts_with("Bearer"));
}

#[test]
fn entropy_is_bits_per_character() {
    assert_eq!(entropy(""), 0.0);
    assert_eq!(entropy("aaaa"), 0.0);
    assert!((entropy("abcd") - 2.0).abs() < 1e-9);
}

#[test]
fn huge_values_do_not_blow_up() {
    let v = "a".repeat(1 << 20);
    assert_eq!(detect(Some("TOKEN"), &v), None);
    let v = format!("{}é", "x".repeat(MAX_VALUE - 1));
    assert_eq!(detect(None, &v), None);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the input, a detection's preview reveals at most a
        /// known prefix and the last four characters of the secret, and
        /// never the secret itself (when it is long enough to matter).
        #[test]
        fn previews_never_hold_the_value(body in "[A-Za-z0-9]{36}", key in "[A-Z_]{0,20}") {
            let tok = format!("ghp_{body}");
            let value = format!("{key}={tok}");
            if let Some(m) = find(Some(&key), &value) {
                let p = m.preview(&value);
                prop_assert!(!p.contains(&tok));
                prop_assert!(!p.contains(&body[..8]));
                prop_assert!(p.chars().count() <= "ghp_".len() + 1 + 4);
            }
        }

        #[test]
        fn detect_never_panics(key in proptest::option::of("\\PC{0,20}"), value in "\\PC{0,200}") {
            let _ = find(key.as_deref(), &value);
        }

        /// `verdict` is `find`, and a skipped value is never a finding.
        #[test]
        fn verdict_agrees_with_find(key in proptest::option::of("[A-Z_]{0,20}"), value in "\\PC{0,120}") {
            let found = find(key.as_deref(), &value);
            match verdict(key.as_deref(), &value) {
                Verdict::Found(m) => prop_assert_eq!(Some(m), found),
                Verdict::Skipped(..) | Verdict::Clean => prop_assert_eq!(found, None),
            }
        }
    }
}

/// Regression (flaky scan fixture): one AWS secret access key in 64 starts
/// with `/`, and was taken for a path.
#[test]
fn an_aws_secret_key_starting_with_a_slash_is_found() {
    let mut g = Gen(0x5eed_a115);
    for _ in 0..50 {
        let key = format!("/{}", g.s(B64, 39));
        let d = detect(Some("AWS_SECRET_ACCESS_KEY"), &key);
        assert_eq!(d.map(|d| d.rule), Some("aws-secret-access-key"), "{key}");
    }
    // Real paths under secret-sounding names stay ordinary.
    assert!(
        detect(
            Some("AWS_SECRET_ACCESS_KEY_FILE"),
            "/run/secrets/aws_secret_key"
        )
        .is_none()
    );
    assert!(detect(Some("API_KEY"), "/home/me/.config/keys/api.key").is_none());
}

/// What `keyward scan` counts as skipped: values a rule would match but
/// for a placeholder or example mark (issue 12, item 8), never empty
/// values, references, interpolations, findings or ordinary values.
#[test]
fn skipped_values_are_the_ones_placeholders_rule_out() {
    let url = "postgresql://app:Wq7rT2mZp9Lk@db.example.com:5432/app";
    let (m, why) = skipped(None, url).expect("skipped");
    assert_eq!(m.detection.rule, "database-url-password");
    assert_eq!(why, "contains 'example'");
    let (m, why) = skipped(Some("DB_PASSWORD"), "changeme").expect("skipped");
    assert_eq!(m.detection.rule, "generic-password");
    assert_eq!(why, "placeholder word");
    for (k, v) in [
        (Some("API_KEY"), ""),
        (Some("API_KEY"), "${API_KEY}"),
        (Some("GITHUB_TOKEN"), "keyward://github.token"),
        (Some("DATABASE_URL"), "postgres://localhost/dev"),
        (Some("DEBUG"), "1"),
        (None, "postgresql://app:Wq7rT2mZp9Lk@db.internal:5432/app"),
    ] {
        assert_eq!(skipped(k, v), None, "{k:?} {v:?}");
    }
}
