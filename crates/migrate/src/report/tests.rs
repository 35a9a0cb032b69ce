use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::Value;

use super::*;
use crate::scan::{FileKind, Outcome, scan_text_all};

fn outcome_of(file: &str, text: &str, kind: FileKind) -> Outcome {
    let found = scan_text_all(Path::new(file), text, kind).unwrap();
    Outcome {
        checked: 3,
        scanned: vec![PathBuf::from(file)],
        findings: found.findings,
        skipped: found.skipped,
        errors: vec![],
        warnings: vec![],
    }
}

fn all_renderings(o: &Outcome) -> String {
    [
        table(o, Style::Color),
        table(o, Style::Plain),
        table_with(o, Style::Plain, true),
        json(o),
        sarif(o),
    ]
    .join("\n")
}

const TOKEN: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dcQz8xYvB2";

fn sample() -> Outcome {
    let text = format!(
        "{{\"mcpServers\": {{\"stripe\": {{\"env\": {{\"STRIPE_SECRET_KEY\": \"{TOKEN}\"}}}}, \"evil\\u001b[2J\": {{\"env\": {{\"T\": \"{TOKEN}\"}}}}}}}}"
    );
    outcome_of(
        "/home/me/Library/Application Support/Claude/claude_desktop_config.json",
        &text,
        FileKind::Json,
    )
}

#[test]
fn table_lists_findings_and_escapes_control_characters() {
    let o = sample();
    let t = table(&o, Style::Plain);
    assert!(t.contains("mcpServers.stripe.env.STRIPE_SECRET_KEY"), "{t}");
    assert!(t.contains("Stripe live secret key"));
    assert!(t.contains("sk_live_…YvB2"));
    assert!(
        t.contains("2 plaintext secrets in 1 file (3 locations checked, 1 file scanned)"),
        "{t}"
    );
    assert!(!t.contains('\x1b'), "plain output has no escapes: {t:?}");
    // The path quotes odd keys JSON-style, which escapes them already.
    assert!(t.contains(r#""evil\u001b[2J""#), "{t}");
    assert_eq!(printable("a\x1b[2Jb\n"), "a\\u{1b}[2Jb\\n");
    let c = table(&o, Style::Color);
    assert!(c.contains("\x1b[1m"));
    // The only escapes in colour output are our own.
    assert!(!c.contains("\x1b[2J"));
}

#[test]
fn clean_table() {
    let o = outcome_of("/x/.env", "A=1\n", FileKind::Env);
    assert_eq!(
        table(&o, Style::Plain),
        "no plaintext secrets found (3 locations checked, 1 file scanned)\n"
    );
}

#[test]
fn errors_are_counted_in_the_summary() {
    let mut o = outcome_of("/x/.env", "A=1\n", FileKind::Env);
    o.errors.push(crate::scan::ScanError::TooLarge {
        path: "/x/big".into(),
    });
    assert!(table(&o, Style::Plain).ends_with("; 1 file could not be scanned\n"));
}

#[test]
fn json_shape() {
    let v: Value = serde_json::from_str(&json(&sample())).unwrap();
    assert_eq!(v["checked"], 3);
    assert_eq!(
        v["scanned"][0],
        "/home/me/Library/Application Support/Claude/claude_desktop_config.json"
    );
    let f = &v["findings"][0];
    assert_eq!(f["path"], "mcpServers.stripe.env.STRIPE_SECRET_KEY");
    assert_eq!(f["rule"], "stripe-live-secret-key");
    assert_eq!(f["line"], 1);
    assert_eq!(f["preview"], "sk_live_…YvB2");
    assert_eq!(
        f.as_object().unwrap().keys().cloned().collect::<Vec<_>>(),
        ["file", "line", "path", "preview", "rule", "title"]
    );
}

#[test]
fn sarif_shape() {
    let v: Value = serde_json::from_str(&sarif(&sample())).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), RULES.len());
    assert_eq!(rules[0]["id"], RULES[0].id);
    assert_eq!(rules[0]["name"], "GithubPat");
    let r = &run["results"][0];
    assert_eq!(r["ruleId"], "stripe-live-secret-key");
    assert_eq!(
        rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "stripe-live-secret-key"
    );
    assert_eq!(r["level"], "error");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "file:///home/me/Library/Application%20Support/Claude/claude_desktop_config.json"
    );
    assert_eq!(loc["region"]["startLine"], 1);
    assert!(
        r["message"]["text"]
            .as_str()
            .unwrap()
            .contains("sk_live_…YvB2")
    );
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn no_line_no_region() {
    let mut o = sample();
    o.findings[0].line = None;
    let v: Value = serde_json::from_str(&sarif(&o)).unwrap();
    assert!(
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
            .get("region")
            .is_none()
    );
}

#[test]
fn sample_renderings_hold_no_value() {
    let all = all_renderings(&sample());
    assert!(!all.contains(TOKEN));
    assert!(!all.contains(&TOKEN[8..20]));
}

proptest! {
    /// Planted tokens of several formats, under arbitrary names, in env,
    /// args and headers: no rendering holds any 8 characters of a token's
    /// random part.
    #[test]
    fn renderings_never_hold_values(
        gh in "[A-Za-z0-9]{36}",
        st in "[A-Za-z0-9]{24,60}",
        generic in "[A-Za-z]{10,25}[0-9][A-Za-z0-9]{9,25}",
        pw in "[A-Za-z0-9]{10,20}",
        name in "[A-Z][A-Z_]{0,12}",
    ) {
        let text = format!(
            r#"{{"mcpServers": {{
                "a": {{"env": {{"{name}": "ghp_{gh}", "API_TOKEN": "{generic}"}}, "args": ["--key", "sk_live_{st}", "postgres://u:{pw}@db/x"]}},
                "b": {{"headers": {{"Authorization": "Bearer {generic}"}}}}
            }}}}"#
        );
        let o = outcome_of("/x/.mcp.json", &text, FileKind::Json);
        prop_assert!(o.findings.len() >= 4, "{:?}", o.findings);
        let all = all_renderings(&o);
        for secret in [&gh, &st, &generic, &pw] {
            for w in secret.as_bytes().windows(8) {
                let w = std::str::from_utf8(w).unwrap();
                prop_assert!(!all.contains(w), "{} leaked", w);
            }
        }
    }
}

/// Issue 12, item 8: "scan skips some real-looking values silently". A
/// database password on an `example.com` host is counted in the summary
/// with its reason and listed on request, masked; the password itself is
/// in no rendering.
#[test]
fn scan_skips_real_looking_values_silently_no_more() {
    let pw = "Wq7rT2mZp9Lk";
    let text = format!(
        "DATABASE_URL=postgresql://app:{pw}@db.example.com:5432/app\nDB_PASSWORD=changeme\nAPI_KEY=${{API_KEY}}\nTOKEN=keyward://x\n"
    );
    let o = outcome_of(".env", &text, FileKind::Env);
    assert!(o.findings.is_empty());
    assert_eq!(o.skipped.len(), 2, "{:?}", o.skipped);
    assert_eq!(o.exit_code(), 0);
    let plain = table(&o, Style::Plain);
    assert!(plain.contains(
        "2 values skipped as placeholders or examples (1 contains 'example', 1 placeholder word); --show-skipped lists them"
    ), "{plain}");
    assert!(!plain.contains("DATABASE_URL"), "{plain}");
    let listed = table_with(&o, Style::Plain, true);
    assert!(listed.contains("DATABASE_URL"), "{listed}");
    assert!(listed.contains("skipped: contains 'example'"), "{listed}");
    assert!(listed.contains("listed above"), "{listed}");
    let v: Value = serde_json::from_str(&json(&o)).unwrap();
    assert_eq!(v["skipped"][0]["rule"], "database-url-password");
    assert_eq!(v["skipped"][0]["reason"], "contains 'example'");
    let all = all_renderings(&o);
    assert!(!all.contains(pw), "{all}");
    assert!(!all.contains("changeme"), "{all}");
}
