//! Tool rules: the same decision model as HTTP rules, on tool names.

use keyward_policy::{
    Action, Decision, NamePattern, Rate, RuleRef, ToolRule, Verdict, evaluate_tool,
};

use Action::{Allow, Confirm, Deny};

fn rule(action: Action, pattern: &str) -> ToolRule {
    ToolRule {
        pattern: NamePattern::parse(pattern).unwrap(),
        action,
        rate: None,
    }
}

fn rated(action: Action, pattern: &str, rate: &str) -> ToolRule {
    ToolRule {
        rate: Some(rate.parse().unwrap()),
        ..rule(action, pattern)
    }
}

fn github() -> Vec<ToolRule> {
    vec![
        rule(Allow, "get_*"),
        rule(Allow, "list_*"),
        rated(Confirm, "create_issue", "10/hour"),
        rule(Deny, "delete_*"),
    ]
}

fn action(rules: &[ToolRule], tool: &str) -> Action {
    evaluate_tool(rules, tool).decision.action
}

#[test]
fn no_match_is_default_deny() {
    assert_eq!(
        evaluate_tool(&[], "get_me"),
        Verdict {
            decision: Decision {
                action: Deny,
                rule: None
            },
            rates: vec![],
            budgets: vec![],
            grant: None,
        }
    );
    let v = evaluate_tool(&github(), "push_files");
    assert_eq!(v.decision.rule, None);
    assert_eq!(v.decision.action, Deny);
}

#[test]
fn the_issue_example() {
    let rs = github();
    assert_eq!(action(&rs, "get_file_contents"), Allow);
    assert_eq!(action(&rs, "list_issues"), Allow);
    assert_eq!(action(&rs, "create_issue"), Confirm);
    assert_eq!(action(&rs, "delete_repository"), Deny);
    let v = evaluate_tool(&rs, "create_issue");
    assert_eq!(v.rates, vec![(2, "10/hour".parse::<Rate>().unwrap())]);
    assert_eq!(
        v.decision.rule,
        Some(RuleRef {
            index: 2,
            text: "confirm create_issue (10/hour)".into()
        })
    );
    assert_eq!(
        v.decision.explain("create_issue on github"),
        "needs confirmation (rule #3 `confirm create_issue (10/hour)`)"
    );
}

#[test]
fn deny_wins_regardless_of_order() {
    let a = vec![rule(Allow, "*"), rule(Deny, "delete_*")];
    let b = vec![rule(Deny, "delete_*"), rule(Allow, "*")];
    for rs in [&a, &b] {
        let d = evaluate_tool(rs, "delete_repo").decision;
        assert_eq!(d.action, Deny);
        assert_eq!(d.rule.map(|r| r.text), Some("deny delete_*".into()));
        assert_eq!(action(rs, "get_me"), Allow);
    }
    // A narrow allow cannot punch through a broad deny.
    let rs = vec![rule(Deny, "*"), rule(Allow, "get_me")];
    assert_eq!(action(&rs, "get_me"), Deny);
}

#[test]
fn confirm_beats_allow_and_loses_to_deny() {
    let rs = vec![
        rule(Allow, "*"),
        rule(Confirm, "create_*"),
        rule(Deny, "create_admin"),
    ];
    assert_eq!(action(&rs, "create_issue"), Confirm);
    assert_eq!(action(&rs, "create_admin"), Deny);
    assert_eq!(action(&rs, "get_issue"), Allow);
}

#[test]
fn deny_ignores_case_allow_does_not() {
    let rs = vec![rule(Allow, "*"), rule(Deny, "delete_*")];
    for t in ["DELETE_REPO", "Delete_repo", "dElEtE_x"] {
        assert_eq!(action(&rs, t), Deny, "{t}");
    }
    let rs = vec![rule(Allow, "get_me")];
    assert_eq!(action(&rs, "get_me"), Allow);
    assert_eq!(action(&rs, "GET_ME"), Deny);
}

#[test]
fn confirm_restricts_case_variants_but_does_not_grant_them() {
    let rs = vec![rule(Allow, "*"), rule(Confirm, "create_issue")];
    assert_eq!(action(&rs, "CREATE_ISSUE"), Confirm);
    let rs = vec![rule(Confirm, "create_issue")];
    assert_eq!(action(&rs, "create_issue"), Confirm);
    assert_eq!(action(&rs, "Create_Issue"), Deny);
}

#[test]
fn rates_of_the_decided_action_including_case_variants() {
    let rs = vec![rated(Allow, "search_*", "5/minute"), rule(Allow, "*")];
    let v = evaluate_tool(&rs, "SEARCH_code");
    assert_eq!(v.decision.action, Allow);
    assert_eq!(v.decision.rule.map(|r| r.index), Some(1));
    assert_eq!(v.rates, vec![(0, "5/minute".parse().unwrap())]);
    let rs = vec![rated(Deny, "x", "1/day")];
    assert_eq!(evaluate_tool(&rs, "x").rates, vec![]);
}

#[test]
fn text_shows_the_rate_and_burst() {
    assert_eq!(rule(Allow, "get_*").text(), "allow get_*");
    let mut r = rated(Confirm, "create_issue", "10/hour");
    assert_eq!(r.text(), "confirm create_issue (10/hour)");
    if let Some(rate) = r.rate.as_mut() {
        rate.burst = Some(2);
    }
    assert_eq!(r.text(), "confirm create_issue (10/hour, burst 2)");
}
