use std::path::Path;

use keyward_policy::Action;
use keyward_vault::SecretRef;

use crate::{Auth, Config, ConfigDoc, ConfigError, ServiceSpec};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("keyward.toml"))
}

fn invalid_at(text: &str) -> String {
    match parse(text) {
        Err(ConfigError::Invalid { at, .. }) => at,
        Err(other) => format!("other: {other}"),
        Ok(_) => "accepted".into(),
    }
}

const STRIPE: &str = r#"
[services.stripe]
base_url = "https://api.stripe.com"            # comment
description = "Stripe, read-only"
auth = { type = "bearer", secret = "stripe_key" }

[[services.stripe.rules]]
action = "allow"
methods = ["GET"]
paths = ["/v1/charges", "/v1/charges/**"]
rate = "10/minute"
"#;

#[test]
fn issue_example_parses() {
    let cfg = parse(STRIPE).unwrap();
    let s = &cfg.services["stripe"];
    assert_eq!(s.base_url.as_str(), "https://api.stripe.com/");
    assert_eq!(
        s.auth,
        Auth::Bearer {
            secret: SecretRef::Vault("stripe_key".into())
        }
    );
    assert_eq!(s.rules.len(), 1);
    assert_eq!(s.rules[0].action, Action::Allow);
    assert!(s.rules[0].rate.is_some());
}

#[test]
fn every_auth_form_parses() {
    let text = r#"
[services.a]
base_url = "http://127.0.0.1:9000/api"
auth = { type = "basic", username = "bob", secret = "keyward://pw" }
[services.b]
base_url = "http://127.0.0.1:9000"
auth = { type = "header", name = "X-Api-Key", secret = "env://K" }
[services.c]
base_url = "http://127.0.0.1:9000"
auth = { type = "query", name = "api_key", secret = "k" }
[services.d]
base_url = "http://127.0.0.1:9000"
"#;
    let cfg = parse(text).unwrap();
    assert_eq!(cfg.services["a"].auth.kind(), "basic");
    assert_eq!(
        cfg.services["b"].auth.secret(),
        Some(&SecretRef::Env("K".into()))
    );
    assert_eq!(cfg.services["c"].auth.kind(), "query");
    assert_eq!(cfg.services["d"].auth, Auth::None);
}

#[test]
fn unknown_keys_are_errors() {
    let text = STRIPE.replace("action = \"allow\"", "action = \"allow\"\npath = \"/x\"");
    assert!(matches!(parse(&text), Err(ConfigError::Parse { .. })));
    let text = STRIPE.replace("description", "descripton");
    assert!(matches!(parse(&text), Err(ConfigError::Parse { .. })));
}

#[test]
fn unknown_action_is_an_error() {
    let text = STRIPE.replace("action = \"allow\"", "action = \"permit\"");
    assert!(matches!(parse(&text), Err(ConfigError::Parse { .. })));
}

#[test]
fn bad_values_name_the_key() {
    let base = |url: &str| format!("[services.s]\nbase_url = \"{url}\"\n");
    assert_eq!(invalid_at(&base("ftp://x")), "services.s.base_url");
    assert_eq!(invalid_at(&base("https://u:p@x")), "services.s.base_url");
    assert_eq!(invalid_at(&base("https://x/?a=1")), "services.s.base_url");
    assert_eq!(invalid_at(&base("https://x/a/../b")), "services.s.base_url");
    assert_eq!(
        invalid_at("[services.Bad]\nbase_url = \"https://x\"\n"),
        "services.Bad"
    );
    let rule = |extra: &str| format!("{}\n[[services.s.rules]]\n{extra}\n", base("https://x"));
    assert_eq!(
        invalid_at(&rule("action = \"allow\"\npaths = [\"/a/../b\"]")),
        "services.s.rules[0].paths"
    );
    assert_eq!(
        invalid_at(&rule("action = \"allow\"\npaths = []")),
        "services.s.rules[0].paths"
    );
    assert_eq!(
        invalid_at(&rule(
            "action = \"allow\"\nmethods = [\"G ET\"]\npaths = [\"/\"]"
        )),
        "services.s.rules[0].methods"
    );
    assert_eq!(
        invalid_at(&rule(
            "action = \"allow\"\npaths = [\"/\"]\nrate = \"10/fortnight\""
        )),
        "services.s.rules[0].rate"
    );
    let auth = |a: &str| format!("{}auth = {a}\n", base("https://x"));
    assert_eq!(
        invalid_at(&auth("{ type = \"bearer\", secret = \"nope://x\" }")),
        "services.s.auth.secret"
    );
    assert_eq!(
        invalid_at(&auth(
            "{ type = \"header\", name = \"Host\", secret = \"k\" }"
        )),
        "services.s.auth.name"
    );
}

#[test]
fn cli_edits_keep_comments_and_validate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyward.toml");
    std::fs::write(&path, format!("# my notes\n{STRIPE}")).unwrap();
    let mut doc = ConfigDoc::load(&path).unwrap();
    doc.add_service(&ServiceSpec {
        name: "gh".into(),
        base_url: "https://api.github.com".into(),
        auth: "bearer".into(),
        secret: Some("gh_pat".into()),
        allow: vec!["GET,HEAD /repos/**".into()],
        deny: vec!["DELETE /**".into()],
        ..Default::default()
    })
    .unwrap();
    doc.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# my notes\n"));
    assert!(text.contains("# comment"));
    let cfg = Config::load(&path).unwrap();
    let gh = &cfg.services["gh"];
    assert_eq!(gh.rules.len(), 2);
    assert_eq!(gh.rules[1].action, Action::Deny);

    // A duplicate or an invalid spec changes nothing on disk.
    let mut doc = ConfigDoc::load(&path).unwrap();
    let dup = doc.add_service(&ServiceSpec {
        name: "gh".into(),
        base_url: "https://x".into(),
        auth: "none".into(),
        ..Default::default()
    });
    assert!(matches!(dup, Err(ConfigError::ServiceExists(_))));
    let bad = doc.add_service(&ServiceSpec {
        name: "x".into(),
        base_url: "https://x".into(),
        auth: "basic".into(),
        secret: Some("s".into()),
        ..Default::default()
    });
    assert!(bad.is_err(), "basic without --username must fail");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

    let mut doc = ConfigDoc::load(&path).unwrap();
    doc.remove_service("stripe").unwrap();
    doc.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# my notes\n"));
    assert!(!text.contains("api.stripe.com"));
    assert!(matches!(
        ConfigDoc::load(&path).unwrap().remove_service("stripe"),
        Err(ConfigError::NoSuchService(_))
    ));
}

#[test]
fn first_service_goes_below_the_template_comments() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyward.toml");
    std::fs::write(&path, format!("# mine\n{}", crate::TEMPLATE)).unwrap();
    let mut doc = ConfigDoc::load(&path).unwrap();
    doc.add_service(&ServiceSpec {
        name: "s".into(),
        base_url: "https://x".into(),
        auth: "none".into(),
        ..Default::default()
    })
    .unwrap();
    doc.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("# mine\n# keyward configuration"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("type = \"none\" }"), "{text}");
    // Removing it again keeps the comments.
    let mut doc = ConfigDoc::load(&path).unwrap();
    doc.remove_service("s").unwrap();
    doc.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("# mine\n# keyward configuration"),
        "{text}"
    );
    Config::load(&path).unwrap();
}

/// issue 12: `confirm` could not be set from the CLI.
#[test]
fn add_service_writes_confirm_rules_and_a_rate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keyward.toml");
    std::fs::write(&path, "").unwrap();
    let mut doc = ConfigDoc::load(&path).unwrap();
    doc.add_service(&ServiceSpec {
        name: "pay".into(),
        base_url: "https://pay.example".into(),
        auth: "none".into(),
        allow: vec!["GET /**".into()],
        confirm: vec!["POST /v1/refunds".into()],
        deny: vec!["DELETE /**".into()],
        rate: Some("10/hour".into()),
        ..Default::default()
    })
    .unwrap();
    doc.save().unwrap();
    let cfg = Config::load(&path).unwrap();
    let rules = &cfg.services["pay"].rules;
    let actions: Vec<Action> = rules.iter().map(|r| r.action).collect();
    assert_eq!(actions, [Action::Allow, Action::Confirm, Action::Deny]);
    let rates: Vec<Option<String>> = rules
        .iter()
        .map(|r| r.rate.map(|r| r.to_string()))
        .collect();
    assert_eq!(
        rates,
        [Some("10/hour".into()), Some("10/hour".into()), None]
    );

    let mut doc = ConfigDoc::load(&path).unwrap();
    for (rate, confirm) in [("often", vec!["POST /**".to_string()]), ("5/day", vec![])] {
        let bad = doc.add_service(&ServiceSpec {
            name: "x".into(),
            base_url: "https://x.example".into(),
            auth: "none".into(),
            confirm,
            deny: vec!["POST /**".into()],
            rate: Some(rate.into()),
            ..Default::default()
        });
        assert!(
            matches!(bad, Err(ConfigError::Invalid { ref at, .. }) if at == "--rate"),
            "{rate}: {bad:?}"
        );
    }
}
