//! The one `evaluate`: rules of the target's kind, rate budgets named for
//! the limiter, and grants consulted only under `confirm`.

use jiff::Timestamp;
use keyward_policy::{
    Action, ArgvPattern, Caller, CommandRule, Expiry, Grant, GrantScope, Grants, HttpRule, Method,
    NamePattern, NormalizedPath, Rate, Rules, Target, ToolRule, evaluate,
};

use Action::{Allow, Confirm, Deny};

const ALICE: Caller<'static> = Caller {
    agent: "alice",
    session: "s1",
};

fn now() -> Timestamp {
    Timestamp::from_second(1_000).unwrap()
}

fn grant(agent: &str, scope: GrantScope) -> Grants {
    let mut g = Grants::default();
    g.add(Grant {
        id: "g7".into(),
        agent: agent.into(),
        scope,
        expiry: Expiry::Time {
            at: Timestamp::from_second(2_000).unwrap(),
        },
        created: Timestamp::from_second(0).unwrap(),
        created_by: "human via cli".into(),
        reason: None,
    });
    g
}

fn tool_grant() -> Grants {
    grant(
        "alice",
        GrantScope::Tool {
            server: "gh".into(),
            tools: NamePattern::parse("create_*").unwrap(),
        },
    )
}

fn tools(action: Action, rate: Option<&str>) -> Vec<ToolRule> {
    vec![ToolRule {
        pattern: NamePattern::parse("create_*").unwrap(),
        action,
        rate: rate.map(|r| r.parse::<Rate>().unwrap()),
    }]
}

#[test]
fn a_grant_answers_a_confirm_for_its_agent_only() {
    let rules = tools(Confirm, None);
    let target = Target::Tool {
        server: "gh",
        tool: "create_issue",
    };
    let v = evaluate(Rules::Tool(&rules), &target, ALICE, &tool_grant(), now());
    assert_eq!(v.decision.action, Confirm);
    assert_eq!(v.grant.as_deref(), Some("g7"));
    let bob = Caller {
        agent: "bob",
        session: "s1",
    };
    let v = evaluate(Rules::Tool(&rules), &target, bob, &tool_grant(), now());
    assert_eq!(v.grant, None);
}

#[test]
fn a_grant_never_opens_what_a_rule_denies() {
    let rules = tools(Deny, None);
    let target = Target::Tool {
        server: "gh",
        tool: "create_issue",
    };
    let v = evaluate(Rules::Tool(&rules), &target, ALICE, &tool_grant(), now());
    assert_eq!(v.decision.action, Deny);
    assert_eq!(v.grant, None);
    // Nor the default deny.
    let v = evaluate(Rules::Tool(&[]), &target, ALICE, &tool_grant(), now());
    assert_eq!((v.decision.action, v.grant), (Deny, None));
}

#[test]
fn budgets_are_named_per_kind_as_the_limiter_keys_them() {
    let target = Target::Tool {
        server: "gh",
        tool: "create_issue",
    };
    let rules = tools(Allow, Some("10/hour"));
    let v = evaluate(
        Rules::Tool(&rules),
        &target,
        ALICE,
        &Grants::default(),
        now(),
    );
    let keys: Vec<&str> = v.budgets.iter().map(|b| b.key.as_str()).collect();
    assert_eq!(keys, ["gh__create_issue#rule1"]);
    assert_eq!(
        v.budgets[0].label,
        "10/hour per agent for tool `create_issue` of gh"
    );

    let method = Method::parse("POST").unwrap();
    let path = NormalizedPath::parse("/v1/refunds").unwrap();
    let mut rule = HttpRule::parse_short(Allow, "POST /v1/**").unwrap();
    rule.rate = Some("5/minute".parse().unwrap());
    let http = Target::Http {
        service: "stripe",
        method: &method,
        path: &path,
    };
    let v = evaluate(
        Rules::Http(&[rule]),
        &http,
        ALICE,
        &Grants::default(),
        now(),
    );
    assert_eq!(v.budgets[0].key, "stripe#rule1");
    assert_eq!(v.budgets[0].label, "rule #1 allows 5/minute per agent");

    let argv = vec!["issue".to_string(), "list".to_string()];
    let rules = [CommandRule {
        action: Allow,
        pattern: ArgvPattern::parse("issue *").unwrap(),
    }];
    let cmd = Target::Command {
        command: "gh",
        argv: &argv,
    };
    let rate = Some("3/minute".parse().unwrap());
    let v = evaluate(
        Rules::Command {
            rules: &rules,
            rate,
        },
        &cmd,
        ALICE,
        &Grants::default(),
        now(),
    );
    assert_eq!(v.budgets[0].key, "command:gh");
    // A denied call draws on no budget.
    let v = evaluate(
        Rules::Command { rules: &[], rate },
        &cmd,
        ALICE,
        &Grants::default(),
        now(),
    );
    assert_eq!((v.decision.action, v.budgets.len()), (Deny, 0));
}

#[test]
fn rules_of_another_kind_match_nothing() {
    let rules = tools(Allow, None);
    let argv: Vec<String> = Vec::new();
    let target = Target::Command {
        command: "create_issue",
        argv: &argv,
    };
    let v = evaluate(
        Rules::Tool(&rules),
        &target,
        ALICE,
        &Grants::default(),
        now(),
    );
    assert_eq!((v.decision.action, v.decision.rule), (Deny, None));
}

#[test]
fn a_request_for_access_is_always_put_to_a_human() {
    // Even a grant of everything a tool scope can say does not cover it.
    let v = evaluate(
        Rules::Fixed(Confirm),
        &Target::Access,
        ALICE,
        &tool_grant(),
        now(),
    );
    assert_eq!((v.decision.action, v.grant), (Confirm, None));
    let wf = grant(
        "alice",
        GrantScope::Workflow {
            workflow: "triage".into(),
        },
    );
    let step = Target::Workflow { workflow: "triage" };
    let v = evaluate(Rules::Fixed(Confirm), &step, ALICE, &wf, now());
    assert_eq!(v.grant.as_deref(), Some("g7"));
}
