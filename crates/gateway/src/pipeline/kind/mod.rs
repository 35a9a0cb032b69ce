//! The kinds of call, one module each: what differs between them — how a
//! call is routed, the checks made before a human is asked, the question,
//! the connector that performs it, how its answer is scrubbed and shown.
//! Everything else is [`super::run`], the same for all.

pub mod access;
pub mod command;
pub mod command_sandbox;
pub mod http;
mod listing;
pub mod prompt;
pub mod resource;
pub mod tool;

use std::time::Duration;

use keyward_audit::{Decision, Event};
use keyward_config::Limits;
use keyward_policy::{RuleRef, Rules, Target};
use keyward_redact::Scrubber;

use super::approval::Approved;
use super::inject::Credential;
use super::route::Tables;
use super::{Call, Stages, Stop};
use crate::approvals::Ask;

/// A kind of call. `run::<K>` calls these in pipeline order.
pub trait Kind {
    /// The audit log's word for the kind.
    const KIND: &'static str;
    /// A routed call: its target and arguments, typed and checked.
    type Routed: Send + Sync;
    /// What the connector brings back, unscrubbed.
    type Response: Send;
    /// The response, scrubbed.
    type Clean: Send;
    /// What the agent gets.
    type Answer: Send;

    /// route: the call's name and arguments into a routed call, or why
    /// not. Fills `rec` with what it understood, even when it fails.
    fn route(
        st: &Stages,
        call: &Call,
        rec: &mut Event,
    ) -> impl Future<Output = Result<Self::Routed, Stop>> + Send;

    /// How a call to something that is not configured is refused. A call
    /// to a server the session's client does not see is refused the same
    /// way ([`super::route::reach`]), so the two read alike.
    fn unknown(call: &Call) -> (Decision, String) {
        let _ = call;
        (Decision::Error, "error: unknown target".to_string())
    }

    /// The call as policy and grants see it.
    fn target(r: &Self::Routed) -> Target<'_>;

    /// The rules that apply to it.
    fn rules<'t>(tables: &'t Tables, r: &Self::Routed) -> Rules<'t>;

    /// The call in a refusal: `POST /v1/charges on stripe`.
    fn describe(r: &Self::Routed) -> String;

    /// Checks made after the rules and before anyone is asked or any
    /// budget spent: a call that cannot be made is not put to a human.
    fn admit(_st: &Stages, _r: &Self::Routed) -> impl Future<Output = Result<(), Stop>> + Send {
        async { Ok(()) }
    }

    /// The question for a human, when a rule says `confirm`.
    fn question(
        st: &Stages,
        call: &Call,
        r: &Self::Routed,
        rule: Option<&RuleRef>,
    ) -> Result<Ask, Stop>;

    /// How long the connector may take.
    fn timeout(tables: &Tables, r: &Self::Routed) -> Duration {
        let _ = r;
        tables.limits.timeout
    }

    /// upstream: performs the call, with the credential inject made.
    /// `approved` says how a human let it through, if one did.
    fn perform(
        st: &Stages,
        r: &Self::Routed,
        credential: &Credential,
        approved: Option<&Approved>,
        rec: &mut Event,
    ) -> impl Future<Output = Result<Self::Response, Stop>> + Send;

    /// Whether the upstream refused the credential (an HTTP 401).
    fn credential_refused(_response: &Self::Response) -> bool {
        false
    }

    /// redact: the response, every byte of it scrubbed; and how many
    /// secrets were replaced.
    fn redact(
        scrubber: &Scrubber,
        limits: &Limits,
        response: Self::Response,
    ) -> impl Future<Output = Result<(Self::Clean, usize), Stop>> + Send;

    /// The scrubbed response as the agent gets it; fills `rec` with what
    /// came back.
    fn render(clean: Self::Clean, rec: &mut Event) -> Self::Answer;
}
