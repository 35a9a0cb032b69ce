//! `request_access`: the agent asks ahead for a time-limited grant
//! ("GitHub, read-only, 5 minutes, to triage issue 42"); a human answers
//! as for any confirmation. A grant only lets calls through rules that say
//! `confirm`; it never opens what a rule denies. The "upstream" of this
//! kind is the grant store: what the human's answer made.

use std::time::Duration;

use keyward_audit::{Decision, Event};
use keyward_config::Limits;
use keyward_policy::{
    Action, GrantScope, Method, NamePattern, PathPattern, RuleRef, Rules, Target,
};
use keyward_redact::Scrubber;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Kind;
use crate::approvals::Ask;
use crate::pipeline::approval::{self, Approved};
use crate::pipeline::inject::Credential;
use crate::pipeline::route::Tables;
use crate::pipeline::{Call, Stages, Stop, ToolOutcome, audit};
use crate::servers::split_tool_name;

/// The `request_access` tool.
pub struct RequestAccess;

/// A routed request: what it would grant, for how long.
pub struct AccessCall {
    scope: GrantScope,
    shown: String,
    duration: Duration,
    reason: String,
}

/// What was granted, and the grant made: (id, until).
pub struct Granted {
    shown: String,
    grant: Option<(String, String)>,
}

impl Kind for RequestAccess {
    const KIND: &'static str = "access";
    type Routed = AccessCall;
    type Response = Granted;
    type Clean = Granted;
    type Answer = ToolOutcome;

    async fn route(st: &Stages, call: &Call, rec: &mut Event) -> Result<AccessCall, Stop> {
        let args: AccessArgs = serde_json::from_value(Value::Object(
            call.args.clone().unwrap_or_default(),
        ))
        .map_err(|e| Stop::refused(Decision::Error, format!("error: invalid arguments: {e}")))?;
        let (scope, duration) = scope_of(&st.tables, &call.session, &args)
            .map_err(|m| Stop::refused(Decision::Error, format!("error: {m}")))?;
        let shown = scope.to_string();
        rec.target = audit::printable(&shown, 200);
        Ok(AccessCall {
            scope,
            shown,
            duration,
            reason: args.reason,
        })
    }

    fn target(_: &AccessCall) -> Target<'_> {
        Target::Access
    }

    /// Always a human: no rule can allow a grant, and no grant covers one.
    fn rules<'t>(_: &'t Tables, _: &AccessCall) -> Rules<'t> {
        Rules::Fixed(Action::Confirm)
    }

    fn describe(a: &AccessCall) -> String {
        a.shown.clone()
    }

    fn question(
        st: &Stages,
        call: &Call,
        a: &AccessCall,
        _rule: Option<&RuleRef>,
    ) -> Result<Ask, Stop> {
        let span = crate::approvals::human_duration(a.duration);
        Ok(Ask {
            agent: call.session.agent.clone(),
            session: call.session.id.clone(),
            kind: "access",
            target: format!(
                "{} for {span} (access request; \"allow once\" grants it as asked)",
                a.shown
            ),
            rule: None,
            preview: None,
            reason: approval::reason(&st.scrubber(), Some(&a.reason)),
            scope: a.scope.clone(),
            // A retry (2026-07-28) repeats the same request: fine, it is
            // one question.
            digest: approval::digest(&[
                b"access",
                a.shown.as_bytes(),
                span.as_bytes(),
                a.reason.as_bytes(),
            ]),
            grant_on_once: Some(a.duration),
        })
    }

    async fn perform(
        st: &Stages,
        a: &AccessCall,
        _credential: &Credential,
        approved: Option<&Approved>,
        _rec: &mut Event,
    ) -> Result<Granted, Stop> {
        let id = approved.and_then(|a| a.grant.as_deref());
        Ok(Granted {
            shown: a.shown.clone(),
            grant: id.and_then(|id| granted(st, id)),
        })
    }

    async fn redact(
        _scrubber: &Scrubber,
        _limits: &Limits,
        granted: Granted,
    ) -> Result<(Granted, usize), Stop> {
        // Ids and times keyward made: nothing of the upstream's.
        Ok((granted, 0))
    }

    fn render(Granted { shown, grant }: Granted, _rec: &mut Event) -> ToolOutcome {
        let until = grant
            .as_ref()
            .map(|(_, until)| format!(" until {until}"))
            .unwrap_or_default();
        ToolOutcome::ok(
            format!(
                "granted: {shown}{until} — calls it covers that a rule would hold for confirmation now go through; calls the rules deny stay denied"
            ),
            Some(json!({
                "granted": true,
                "grant": grant.as_ref().map(|(id, _)| id),
                "until": grant.as_ref().map(|(_, u)| u),
            })),
        )
    }
}

/// Grant `id`, as (id, until).
fn granted(st: &Stages, id: &str) -> Option<(String, String)> {
    st.desk
        .approvals
        .grants()
        .into_iter()
        .find(|g| g.id == id)
        .map(|g| {
            let until = match &g.expiry {
                keyward_policy::Expiry::Time { at } => at.to_string(),
                keyward_policy::Expiry::Session { .. } => "the end of this session".to_string(),
            };
            (g.id, until)
        })
}

/// The longest grant an agent may ask for.
pub const MAX_ACCESS: Duration = Duration::from_secs(8 * 3600);

/// Arguments of `request_access`. Name exactly one of `service`, `tool`
/// or `command`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessArgs {
    /// An HTTP service from `list_services`.
    #[serde(default)]
    pub service: Option<String>,
    /// With `service`: the methods, e.g. ["GET", "HEAD"] (default: GET only).
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// With `service`: path patterns, e.g. ["/repos/**"] (default: ["/**"]).
    #[serde(default)]
    pub paths: Option<Vec<String>>,
    /// Tools of an upstream server: `SERVER__PATTERN`, e.g. `slack__post_*`.
    #[serde(default)]
    pub tool: Option<String>,
    /// An allow-listed command.
    #[serde(default)]
    pub command: Option<String>,
    /// How long: `5m`, `1h` (at most 8h).
    pub duration: String,
    /// Why, in a sentence: the user reads it.
    pub reason: String,
}

fn scope_of(
    tables: &Tables,
    session: &crate::pipeline::session::Session,
    a: &AccessArgs,
) -> Result<(GrantScope, Duration), String> {
    let duration =
        keyward_config::parse_duration(&a.duration).map_err(|e| format!("duration: {e}"))?;
    if duration > MAX_ACCESS {
        return Err("duration: at most 8h may be asked for".into());
    }
    let named = [a.service.is_some(), a.tool.is_some(), a.command.is_some()];
    if named.iter().filter(|n| **n).count() != 1 {
        return Err("name exactly one of `service`, `tool` or `command`".into());
    }
    if a.service.is_none() && (a.methods.is_some() || a.paths.is_some()) {
        return Err("`methods` and `paths` go with `service`".into());
    }
    let scope = if let Some(service) = &a.service {
        if !tables.services.contains_key(service) {
            return Err(format!(
                "unknown service `{}`",
                audit::printable(service, 64)
            ));
        }
        let methods = a
            .methods
            .clone()
            .unwrap_or_else(|| vec!["GET".into()])
            .iter()
            .map(|m| Method::parse(m).map_err(|e| format!("methods: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        if methods.is_empty() {
            return Err("methods: name at least one".into());
        }
        let paths = a
            .paths
            .clone()
            .unwrap_or_else(|| vec!["/**".into()])
            .iter()
            .map(|p| PathPattern::parse(p).map_err(|e| format!("paths: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        if paths.is_empty() {
            return Err("paths: name at least one".into());
        }
        GrantScope::Http {
            service: service.clone(),
            methods: Some(methods),
            paths,
        }
    } else if let Some(tool) = &a.tool {
        let (server, pattern) = split_tool_name(tool)
            .ok_or_else(|| "tool: write SERVER__PATTERN, e.g. slack__post_*".to_string())?;
        // A server this client does not see is, for it, not there.
        if !tables.sees(session, server) {
            return Err(format!("unknown server `{}`", audit::printable(server, 64)));
        }
        GrantScope::Tool {
            server: server.to_string(),
            tools: NamePattern::parse(pattern).map_err(|e| format!("tool: {e}"))?,
        }
    } else {
        let command = a.command.clone().unwrap_or_default();
        if !tables.commands.contains_key(&command) {
            return Err(format!(
                "unknown command `{}`",
                audit::printable(&command, 64)
            ));
        }
        GrantScope::Command { command }
    };
    Ok((scope, duration))
}
