//! A prompt of an upstream server (`prompts/get`), for the servers whose
//! config says `prompts = "allow"` (closed by default): named
//! `SERVER__PROMPT`, scrubbed.

use std::sync::Arc;

use keyward_audit::{Decision, Event};
use keyward_config::Limits;
use keyward_policy::{Action, RuleRef, Rules, Target};
use keyward_redact::Scrubber;
use rmcp::model::{GetPromptResult, Prompt};
use serde_json::{Map, Value};

use super::Kind;
use super::listing::from_allowed;
use crate::approvals::Ask;
use crate::pipeline::approval::Approved;
use crate::pipeline::inject::Credential;
use crate::pipeline::route::Tables;
use crate::pipeline::session::Session;
use crate::pipeline::{Call, Stages, Stop, audit, redact};
use crate::servers::{ServerRuntime, exposed_name, unprefixed_collides};

/// `prompts/get`.
pub struct GetPrompt;

/// A routed prompt: the server's own name for it.
pub struct PromptCall {
    server: String,
    rt: Arc<ServerRuntime>,
    prompt: String,
    args: Option<Map<String, Value>>,
}

pub fn any_prompts(tables: &Tables) -> bool {
    tables
        .servers
        .values()
        .any(|rt| rt.server.prompts == Action::Allow)
}

/// What a `prompts/get` of a prompt no server (that the session sees)
/// passes on is told.
const NO_PROMPT: &str = "denied: no server whose prompts keyward passes on has this prompt";

/// Prompts of every server `session` sees that allows them, named `SERVER__PROMPT` (a
/// server mounted with `prefix = false`: by their own names, less those
/// that would read as another server's `SERVER__PROMPT`).
pub async fn list_prompts(st: &Stages, session: &Session) -> Vec<Prompt> {
    let tables = &st.tables;
    from_allowed(
        st,
        session,
        |rt| rt.server.prompts == Action::Allow,
        "prompts",
        |name, up, rt| async move {
            let list = up.prompts().await?;
            let prefixed = rt.server.prefix;
            Ok(list
                .into_iter()
                .filter(|p| prefixed || !prompt_collides(tables, &name, &p.name))
                .map(|mut p| {
                    if prefixed {
                        p.name = exposed_name(&name, &p.name);
                    }
                    p
                })
                .collect())
        },
    )
    .await
}

fn prompt_collides(tables: &Tables, server: &str, prompt: &str) -> bool {
    let collides = unprefixed_collides(
        prompt,
        |_| false,
        |s| tables.servers.get(s).is_some_and(|rt| rt.server.prefix),
    );
    if collides {
        tracing::warn!(
            server,
            prompt,
            "prompt withheld: with `prefix = false` its name reads as another server's SERVER__PROMPT"
        );
    }
    collides
}

impl Kind for GetPrompt {
    const KIND: &'static str = "prompt";
    type Routed = PromptCall;
    type Response = GetPromptResult;
    type Clean = GetPromptResult;
    type Answer = GetPromptResult;

    async fn route(st: &Stages, call: &Call, rec: &mut Event) -> Result<PromptCall, Stop> {
        rec.tool = Some(audit::printable(&call.name, 128));
        let found = st
            .tables
            .route_name(&call.name)
            .and_then(|(server, prompt)| {
                st.tables.servers.get(server).map(|rt| (server, prompt, rt))
            })
            .filter(|(_, _, rt)| rt.server.prompts == Action::Allow);
        let Some((server, prompt, rt)) = found else {
            return Err(Stop::refused(Decision::Deny, NO_PROMPT));
        };
        rec.target = server.to_string();
        Ok(PromptCall {
            server: server.to_string(),
            rt: rt.clone(),
            prompt: prompt.to_string(),
            args: call.args.clone(),
        })
    }

    fn unknown(_: &Call) -> (Decision, String) {
        (Decision::Deny, NO_PROMPT.to_string())
    }

    fn target(p: &PromptCall) -> Target<'_> {
        Target::Prompt {
            server: &p.server,
            prompt: &p.prompt,
        }
    }

    fn rules<'t>(_: &'t Tables, p: &PromptCall) -> Rules<'t> {
        Rules::Fixed(p.rt.server.prompts)
    }

    fn describe(p: &PromptCall) -> String {
        format!("prompt `{}` of {}", p.prompt, p.server)
    }

    fn question(_: &Stages, _: &Call, _: &PromptCall, _: Option<&RuleRef>) -> Result<Ask, Stop> {
        Err(Stop::refused(
            Decision::Deny,
            "denied: prompts are passed on or not; none waits for a confirmation",
        ))
    }

    async fn perform(
        _st: &Stages,
        p: &PromptCall,
        _credential: &Credential,
        _approved: Option<&Approved>,
        _rec: &mut Event,
    ) -> Result<GetPromptResult, Stop> {
        let up =
            p.rt.upstream
                .get()
                .await
                .map_err(|e| Stop::failed(e.to_string()))?;
        up.get_prompt(&p.prompt, p.args.clone())
            .await
            .map_err(|e| Stop::failed(e.to_string()))
    }

    async fn redact(
        scrubber: &Scrubber,
        _limits: &Limits,
        result: GetPromptResult,
    ) -> Result<(GetPromptResult, usize), Stop> {
        redact::scrub_answer(scrubber, result, "prompt")
    }

    fn render(result: GetPromptResult, _rec: &mut Event) -> GetPromptResult {
        result
    }
}
