//! The decision model: default deny, deny > confirm > allow whatever the
//! order, method filters, case, rates, and the explanations.

use keyward_policy::{Action, Decision, HttpRule, Method, Rate, RuleRef, combine, evaluate_http};

use crate::path;

use Action::{Allow, Confirm, Deny};

fn rules(spec: &[(Action, &str)]) -> Vec<HttpRule> {
    spec.iter()
        .map(|(a, s)| HttpRule::parse_short(*a, s).unwrap())
        .collect()
}

fn decide(rules: &[HttpRule], method: &str, p: &str) -> Decision {
    evaluate_http(rules, &Method::parse(method).unwrap(), &path(p)).decision
}

fn action(rules: &[HttpRule], method: &str, p: &str) -> Action {
    decide(rules, method, p).action
}

#[test]
fn no_rule_means_deny() {
    let d = decide(&[], "GET", "/");
    assert_eq!(
        d,
        Decision {
            action: Deny,
            rule: None
        }
    );
    assert_eq!(
        d.explain("POST /v1/charges on stripe"),
        "denied: no rule allows POST /v1/charges on stripe"
    );
    let rs = rules(&[(Allow, "GET /v1/charges/**")]);
    assert_eq!(
        decide(&rs, "GET", "/v1/refunds"),
        Decision {
            action: Deny,
            rule: None
        }
    );
}

#[test]
fn a_matching_allow_allows_and_says_which_rule() {
    let rs = rules(&[(Deny, "DELETE /**"), (Allow, "GET /v1/charges/**")]);
    let d = decide(&rs, "GET", "/v1/charges/ch_1");
    assert_eq!(
        d.rule,
        Some(RuleRef {
            index: 1,
            text: "allow GET /v1/charges/**".into()
        })
    );
    assert_eq!(
        d.explain("GET /v1/charges/ch_1 on stripe"),
        "allowed by rule #2 `allow GET /v1/charges/**`"
    );
}

#[test]
fn deny_wins_over_allow_in_any_order() {
    let a = rules(&[(Allow, "/**"), (Deny, "DELETE /**")]);
    let b = rules(&[(Deny, "DELETE /**"), (Allow, "/**")]);
    for rs in [&a, &b] {
        let d = decide(rs, "DELETE", "/v1/charges/ch_1");
        assert_eq!(d.action, Deny);
        assert_eq!(
            d.rule.as_ref().map(|r| r.text.as_str()),
            Some("deny DELETE /**")
        );
        assert_eq!(action(rs, "GET", "/v1/charges/ch_1"), Allow);
    }
    // Specificity does not matter either: a narrow allow cannot punch
    // through a broad deny.
    let rs = rules(&[(Deny, "/v1/**"), (Allow, "GET /v1/charges/ch_1")]);
    assert_eq!(action(&rs, "GET", "/v1/charges/ch_1"), Deny);
    assert_eq!(
        decide(&rs, "GET", "/v1/x").explain("GET /v1/x on stripe"),
        "denied by rule #1 `deny * /v1/**`"
    );
}

#[test]
fn confirm_beats_allow_and_loses_to_deny() {
    let rs = rules(&[
        (Allow, "/**"),
        (Confirm, "POST /v1/refunds"),
        (Deny, "/v1/refunds/secret"),
    ]);
    let d = decide(&rs, "POST", "/v1/refunds");
    assert_eq!(d.action, Confirm);
    assert_eq!(
        d.explain("x"),
        "needs confirmation (rule #2 `confirm POST /v1/refunds`)"
    );
    assert_eq!(action(&rs, "GET", "/v1/refunds"), Allow);
    assert_eq!(action(&rs, "POST", "/v1/refunds/secret"), Deny);
    let rs = rules(&[(Confirm, "/x"), (Deny, "/x")]);
    assert_eq!(action(&rs, "GET", "/x"), Deny);
}

#[test]
fn method_filters() {
    let rs = rules(&[(Allow, "GET /x"), (Allow, "put,PATCH /y")]);
    assert_eq!(action(&rs, "GET", "/x"), Allow);
    assert_eq!(action(&rs, "get", "/x"), Allow);
    assert_eq!(action(&rs, "POST", "/x"), Deny);
    assert_eq!(action(&rs, "HEAD", "/x"), Deny, "GET does not imply HEAD");
    assert_eq!(action(&rs, "PATCH", "/y"), Allow);
    assert_eq!(action(&rs, "GET", "/y"), Deny);
    let any = rules(&[(Allow, "/x")]);
    for m in ["GET", "POST", "DELETE", "PROPFIND"] {
        assert_eq!(action(&any, m, "/x"), Allow, "{m}");
    }
    // A method-limited deny leaves other methods to the other rules.
    let rs = rules(&[(Allow, "/**"), (Deny, "DELETE /**")]);
    assert_eq!(action(&rs, "delete", "/a"), Deny);
    assert_eq!(action(&rs, "POST", "/a"), Allow);
}

#[test]
fn deny_matches_case_insensitively_allow_does_not() {
    let rs = rules(&[(Allow, "/**"), (Deny, "/admin/**")]);
    for p in ["/admin/x", "/ADMIN/x", "/Admin", "/aDmIn/users/1"] {
        assert_eq!(action(&rs, "GET", p), Deny, "{p}");
    }
    assert_eq!(action(&rs, "GET", "/administrator"), Allow);
    let rs = rules(&[(Allow, "/v1/charges")]);
    assert_eq!(action(&rs, "GET", "/v1/charges"), Allow);
    assert_eq!(action(&rs, "GET", "/V1/Charges"), Deny);
    assert_eq!(action(&rs, "GET", "/v1/CHARGES"), Deny);
}

#[test]
fn confirm_restricts_case_variants_but_does_not_grant_them() {
    // With a broad allow, a case variant of a confirm-guarded path must
    // not slip through as a plain allow...
    let rs = rules(&[(Allow, "/**"), (Confirm, "POST /v1/refunds")]);
    assert_eq!(action(&rs, "POST", "/V1/REFUNDS"), Confirm);
    assert_eq!(action(&rs, "POST", "/v1/refunds"), Confirm);
    // ...but without an allow, the variant is not opened by the confirm
    // rule: it stays default-denied.
    let rs = rules(&[(Confirm, "POST /v1/refunds")]);
    assert_eq!(action(&rs, "POST", "/v1/refunds"), Confirm);
    assert_eq!(
        decide(&rs, "POST", "/V1/REFUNDS"),
        Decision {
            action: Deny,
            rule: None
        }
    );
    // The allow that makes the variant reachable must itself match exactly.
    let rs = rules(&[(Allow, "/v1/**"), (Confirm, "/v1/refunds")]);
    assert_eq!(action(&rs, "POST", "/V1/refunds"), Deny);
}

#[test]
fn combine_reports_the_lowest_index_of_the_winning_action() {
    let r = |index: usize, text: &str| RuleRef {
        index,
        text: text.into(),
    };
    let d = combine([
        (Allow, r(0, "a")),
        (Deny, r(5, "d5")),
        (Confirm, r(1, "c")),
        (Deny, r(2, "d2")),
    ]);
    assert_eq!(
        d,
        Decision {
            action: Deny,
            rule: Some(r(2, "d2"))
        }
    );
    let d = combine([(Allow, r(3, "a3")), (Allow, r(1, "a1"))]);
    assert_eq!(d.rule, Some(r(1, "a1")));
    assert_eq!(
        combine(Vec::new()),
        Decision {
            action: Deny,
            rule: None
        }
    );
}

#[test]
fn explain_without_a_rule() {
    let allowed = Decision {
        action: Allow,
        rule: None,
    };
    assert_eq!(allowed.explain("GET /x on s"), "allowed: GET /x on s");
    let confirm = Decision {
        action: Confirm,
        rule: None,
    };
    assert_eq!(
        confirm.explain("GET /x on s"),
        "needs confirmation: GET /x on s"
    );
}

fn rated(action: Action, s: &str, rate: &str) -> HttpRule {
    let mut r = HttpRule::parse_short(action, s).unwrap();
    r.rate = Some(rate.parse().unwrap());
    r
}

#[test]
fn rates_come_from_every_rule_of_the_decided_action() {
    let rs = vec![
        rated(Allow, "/v1/**", "10/minute"),
        rated(Allow, "GET /v1/charges/**", "5/second"),
        HttpRule::parse_short(Allow, "/**").unwrap(),
        rated(Confirm, "POST /v1/refunds", "3/hour"),
        rated(Deny, "DELETE /**", "1/day"),
    ];
    let get = Method::parse("GET").unwrap();
    let v = evaluate_http(&rs, &get, &path("/v1/charges/ch_1"));
    assert_eq!(v.decision.action, Allow);
    let ten: Rate = "10/minute".parse().unwrap();
    let five: Rate = "5/second".parse().unwrap();
    assert_eq!(v.rates, vec![(0, ten), (1, five)]);
    // Only the rules that match contribute.
    assert_eq!(evaluate_http(&rs, &get, &path("/v2")).rates, vec![]);
    // Confirm: the confirm rule's rate, not the allow rules'.
    let post = Method::parse("POST").unwrap();
    let v = evaluate_http(&rs, &post, &path("/v1/refunds"));
    assert_eq!(v.decision.action, Confirm);
    assert_eq!(v.rates, vec![(3, "3/hour".parse().unwrap())]);
    // Deny: nothing to limit.
    let del = Method::parse("DELETE").unwrap();
    let v = evaluate_http(&rs, &del, &path("/v1/x"));
    assert_eq!(v.decision.action, Deny);
    assert_eq!(v.rates, vec![]);
}

#[test]
fn a_case_variant_cannot_route_around_a_rate() {
    let rs = vec![
        rated(Allow, "/v1/search", "5/minute"),
        HttpRule::parse_short(Allow, "/**").unwrap(),
    ];
    let get = Method::parse("GET").unwrap();
    let v = evaluate_http(&rs, &get, &path("/V1/SEARCH"));
    assert_eq!(v.decision.action, Allow);
    assert_eq!(v.decision.rule.map(|r| r.index), Some(1));
    assert_eq!(v.rates, vec![(0, "5/minute".parse().unwrap())]);
}
