//! `HttpRule`: its text, the CLI short form, validation.

use keyward_policy::{
    Action, HttpRule, Method, MethodError, PathError, PathPattern, PatternError, Rate, RateError,
    RatePeriod, RuleError,
};

fn rule(action: Action, s: &str) -> HttpRule {
    match HttpRule::parse_short(action, s) {
        Ok(r) => r,
        Err(e) => panic!("{s:?} should parse, got: {e}"),
    }
}

#[test]
fn text_names_action_methods_and_paths() {
    let r = HttpRule {
        action: Action::Allow,
        methods: Some(vec![
            Method::parse("GET").unwrap(),
            Method::parse("head").unwrap(),
        ]),
        paths: vec![
            PathPattern::parse("/v1/charges").unwrap(),
            PathPattern::parse("/v1/charges/**").unwrap(),
        ],
        rate: None,
    };
    assert_eq!(r.text(), "allow GET,HEAD /v1/charges /v1/charges/**");
    assert_eq!(rule(Action::Deny, "/**").text(), "deny * /**");
}

#[test]
fn short_form() {
    let r = rule(Action::Allow, "GET,post /v1/charges/**");
    assert_eq!(
        r.methods,
        Some(vec![
            Method::parse("GET").unwrap(),
            Method::parse("POST").unwrap()
        ])
    );
    assert_eq!(r.paths, vec![PathPattern::parse("/v1/charges/**").unwrap()]);
    assert_eq!(r.rate, None);
    assert_eq!(rule(Action::Deny, "* /v1/**").methods, None);
    assert_eq!(rule(Action::Confirm, "/v1/x").methods, None);
    assert_eq!(rule(Action::Confirm, "/v1/x").action, Action::Confirm);
    // The tail of `text()` parses back to the same rule.
    let two = rule(Action::Allow, "  GET,HEAD   /a /b/** ");
    assert_eq!(two.paths.len(), 2);
    let tail = two.text().trim_start_matches("allow ").to_owned();
    assert_eq!(rule(Action::Allow, &tail), two);
}

#[test]
fn short_form_errors() {
    let err = |s: &str| HttpRule::parse_short(Action::Allow, s).unwrap_err();
    assert_eq!(err(""), RuleError::Empty);
    assert_eq!(err("   "), RuleError::Empty);
    assert_eq!(err("GET"), RuleError::NoPaths);
    assert_eq!(err("GET,,POST /x"), RuleError::EmptyMethod);
    assert_eq!(err("GET, /x"), RuleError::EmptyMethod);
    assert_eq!(
        err("G@T /x"),
        RuleError::Method(MethodError::InvalidChar { at: 1, ch: '@' })
    );
    assert_eq!(err("GET,* /x"), RuleError::Method(MethodError::Wildcard));
    assert_eq!(
        err("GET x"),
        RuleError::Pattern(PatternError::Path(PathError::NotAbsolute))
    );
    assert_eq!(
        err("GET /a/../b"),
        RuleError::Pattern(PatternError::Path(PathError::DotSegment { at: 3 }))
    );
    assert!(!err("GET x").to_string().is_empty());
}

#[test]
fn validate_refuses_rules_that_silently_match_nothing() {
    let mut r = rule(Action::Deny, "GET /x");
    assert_eq!(r.validate(), Ok(()));
    r.methods = Some(Vec::new());
    assert_eq!(r.validate(), Err(RuleError::NoMethods));
    let mut r = rule(Action::Deny, "GET /x");
    r.paths.clear();
    assert_eq!(r.validate(), Err(RuleError::NoPaths));
    let mut r = rule(Action::Allow, "GET /x");
    r.rate = Some(Rate {
        count: 0,
        per: RatePeriod::Minute,
        burst: None,
    });
    assert_eq!(r.validate(), Err(RuleError::Rate(RateError::ZeroCount)));
}
