//! May it? Asks the policy crate, then the rate limiter. No IO here.

use keyward_policy::{Action, Decision, evaluate_http};

use super::route::HttpTarget;
use crate::Gateway;

/// A call the policy stage stopped, with what the agent and the audit log
/// are told.
#[derive(Debug)]
pub struct Denial {
    /// `deny`, `confirm` (held, and for now refused) or `rate_limited`.
    pub decision: &'static str,
    pub rule: Option<String>,
    pub message: String,
}

/// Returns the rule that allowed the call, or why it may not proceed.
pub fn check_http(
    gw: &Gateway,
    agent: &str,
    target: &HttpTarget,
) -> Result<Option<String>, Denial> {
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
    match verdict.decision.action {
        Action::Deny => Err(Denial {
            decision: "deny",
            rule: rule_text,
            message: verdict.decision.explain(&what),
        }),
        Action::Confirm => Err(Denial {
            decision: "confirm",
            rule: rule_text,
            message: format!(
                "denied: {what} needs a human's confirmation, and this keyward cannot ask for one yet ({})",
                explain_rule(&verdict.decision)
            ),
        }),
        Action::Allow => {
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
            Ok(rule_text)
        }
    }
}

fn explain_rule(d: &Decision) -> String {
    match &d.rule {
        Some(r) => format!("rule #{} `{}`", r.index + 1, r.text),
        None => "no rule".into(),
    }
}
