//! Command rules: the same decision model, on whole argument lists.

use keyward_policy::{Action, ArgvPattern, CommandRule, Decision, evaluate_command};

use Action::{Allow, Confirm, Deny};

fn rule(action: Action, pattern: &str) -> CommandRule {
    CommandRule {
        action,
        pattern: ArgvPattern::parse(pattern).unwrap(),
    }
}

fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

fn decide(rules: &[CommandRule], args: &[&str]) -> Decision {
    evaluate_command(rules, &argv(args)).decision
}

fn gh() -> Vec<CommandRule> {
    vec![
        rule(Allow, "issue *"),
        rule(Allow, "pr list *"),
        rule(Allow, "pr view *"),
        rule(Deny, "* --repo* *"),
    ]
}

#[test]
fn no_match_is_default_deny() {
    assert_eq!(
        decide(&[], &["issue", "list"]),
        Decision {
            action: Deny,
            rule: None
        }
    );
    let d = decide(&gh(), &["auth", "token"]);
    assert_eq!(d.action, Deny);
    assert_eq!(d.rule, None);
    assert_eq!(
        d.explain("gh auth token"),
        "denied: no rule allows gh auth token"
    );
}

#[test]
fn the_issue_example() {
    let rs = gh();
    assert_eq!(decide(&rs, &["issue", "list"]).action, Allow);
    assert_eq!(decide(&rs, &["pr", "view", "12"]).action, Allow);
    assert_eq!(decide(&rs, &["pr", "merge", "12"]).action, Deny);
    let d = decide(&rs, &["issue", "list", "--repo=evil/x"]);
    assert_eq!(d.action, Deny);
    assert_eq!(d.explain("gh"), "denied by rule #4 `deny * --repo* *`");
    assert_eq!(
        evaluate_command(&rs, &argv(&["issue", "list"])).rates,
        vec![]
    );
}

#[test]
fn deny_wins_regardless_of_order() {
    let a = vec![rule(Allow, "*"), rule(Deny, "* -c *")];
    let b = vec![rule(Deny, "* -c *"), rule(Allow, "*")];
    for rs in [&a, &b] {
        assert_eq!(decide(rs, &["-c", "core.pager=sh", "log"]).action, Deny);
        assert_eq!(decide(rs, &["log", "-n", "3"]).action, Allow);
    }
}

#[test]
fn confirm_beats_allow_and_loses_to_deny() {
    let rs = vec![
        rule(Allow, "issue *"),
        rule(Confirm, "issue create *"),
        rule(Deny, "issue create --web *"),
    ];
    assert_eq!(decide(&rs, &["issue", "create", "-t", "x"]).action, Confirm);
    assert_eq!(decide(&rs, &["issue", "create", "--web"]).action, Deny);
    assert_eq!(decide(&rs, &["issue", "list"]).action, Allow);
}

#[test]
fn matching_is_case_sensitive() {
    let rs = vec![rule(Allow, "log *"), rule(Deny, "* -C *")];
    assert_eq!(decide(&rs, &["log", "-C"]).action, Deny);
    assert_eq!(decide(&rs, &["log", "-c"]).action, Allow);
    assert_eq!(decide(&rs, &["LOG"]).action, Deny);
}

#[test]
fn text() {
    assert_eq!(rule(Allow, "issue *").text(), "allow issue *");
    assert_eq!(rule(Deny, "* --repo* *").text(), "deny * --repo* *");
    assert_eq!(rule(Allow, "").text(), "allow (no arguments)");
}
