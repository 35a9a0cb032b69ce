//! May it? Asks the policy crate, then the rate limiter. No IO here.

use keyward_policy::{Action, Decision, evaluate_http};

use super::route::HttpTarget;
use crate::Gateway;

/// A call the policy stage stopped, with what the agent and the audit log
/// are told.
#[derive(Debug)]
pub struct Denial {
    /// `deny` or `rate_limited`.
    pub decision: &'static str,
    pub rule: Option<String>,
    pub message: String,
}

/// What the policy stage lets through: the deciding rule, and whether a
/// human must confirm the call first (see [`super::approval`]).
#[derive(Debug)]
pub struct Passed {
    pub rule: Option<String>,
    /// Index of the deciding rule in the service's rules.
    pub rule_index: Option<usize>,
    pub confirm: bool,
}

/// The decision for the call, rate limits included; a `confirm` call is
/// held against the rate budget before anyone is asked.
pub fn check_http(gw: &Gateway, agent: &str, target: &HttpTarget) -> Result<Passed, Denial> {
    let Some(svc) = gw.services().get(&target.service) else {
        return Err(Denial {
            decision: "deny",
            rule: None,
            message: format!("denied: unknown service `{}`", target.service),
        });
    };
    let verdict = evaluate_http(&svc.service.rules, &target.method, &target.path);
    let what = target.describe();
    let rule_text = verdict.decision.rule.as_ref().map(|r| r.text.clone());
    let confirm = match verdict.decision.action {
        Action::Deny => {
            return Err(Denial {
                decision: "deny",
                rule: rule_text,
                message: verdict.decision.explain(&what),
            });
        }
        Action::Confirm => true,
        Action::Allow => false,
    };
    for (index, rate) in &verdict.rates {
        let key = format!("{}#rule{}", target.service, index + 1);
        if let Err(retry) = gw.limiter().check(agent, &key, rate) {
            return Err(Denial {
                decision: "rate_limited",
                rule: rule_text,
                message: format!(
                    "rate limited: rule #{} allows {rate} per agent; retry in {:.1}s",
                    index + 1,
                    retry.0.as_secs_f64()
                ),
            });
        }
    }
    Ok(Passed {
        rule: rule_text,
        rule_index: verdict.decision.rule.as_ref().map(|r| r.index),
        confirm,
    })
}

/// The rule that decided, as the question shows it.
pub fn rule_ref(d: &Decision) -> String {
    explain_rule(d)
}

fn explain_rule(d: &Decision) -> String {
    match &d.rule {
        Some(r) => format!("rule #{} `{}`", r.index + 1, r.text),
        None => "no rule".into(),
    }
}
