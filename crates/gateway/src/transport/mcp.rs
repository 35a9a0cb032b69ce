//! The MCP server: rmcp's `ServerHandler`, answering `tools/list` and
//! routing `tools/call` into the pipeline.

use std::borrow::Cow;

use keyward_audit::Decision;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, GetPromptRequestParams,
    GetPromptResponse, Implementation, ListPromptsResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse,
    ResultType, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};

use crate::Gateway;
use crate::pipeline::audit::printable;
use crate::pipeline::kind::access::RequestAccess;
use crate::pipeline::kind::command::RunCommand;
use crate::pipeline::kind::http::Http;
use crate::pipeline::kind::prompt::{self, GetPrompt};
use crate::pipeline::kind::resource::{self, ReadResource};
use crate::pipeline::kind::tool::{self, UpstreamTool};
use crate::pipeline::redact::scrub_result;
use crate::pipeline::route::unknown_tool;
use crate::pipeline::session::{ConnectionIdentity, Session};
use crate::pipeline::{Call, Kind, Stages, Stopped, ToolOutcome, run, workflow};
use crate::transport::tools::{self, HTTP_REQUEST, LIST_SERVICES, REQUEST_ACCESS, RUN_COMMAND};
use std::sync::{Arc, OnceLock};

use keyward_policy::Action;

/// What the `initialize` answer needs, known from the config alone, so
/// that keyward can answer it while the vault is still being unlocked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    pub commands: bool,
    pub resources: bool,
    pub prompts: bool,
}

impl Shape {
    pub fn of(config: &keyward_config::Config) -> Shape {
        Shape {
            commands: !config.commands.is_empty(),
            resources: config
                .servers
                .values()
                .any(|s| s.resources == Action::Allow),
            prompts: config.servers.values().any(|s| s.prompts == Action::Allow),
        }
    }
}

/// The MCP face of a [`Gateway`]. Requests other than `initialize` wait
/// until the gateway is ready (vault unlocked, references resolved). If it
/// could not be built, the server keeps answering: the lists are empty
/// and every call gets an error stating why and what to do
/// ([`KeywardServer::not_started`]); the connection is never just closed.
#[derive(Clone, Debug)]
pub struct KeywardServer {
    pub(super) gateway: Arc<OnceLock<Gateway>>,
    /// Held by the starter until the gateway is set (or failed): requests
    /// made meanwhile queue on it and go on in arrival order (the lock is
    /// fair), as they would have on a ready gateway.
    pub(super) gate: Arc<tokio::sync::Mutex<()>>,
    pub(super) shape: Shape,
    /// Why the gateway could not be built (cause and fix, scrubbed), once
    /// the starter gave up.
    pub(super) failed: Arc<OnceLock<String>>,
    tools: Vec<Tool>,
    identity: ConnectionIdentity,
    /// Set once this connection's peer was added to the gateway's
    /// [`crate::servers::ListChanged`].
    following: Arc<OnceLock<()>>,
}

impl KeywardServer {
    pub fn new(gateway: Gateway) -> Self {
        let tables = &gateway.stages().tables;
        let shape = Shape {
            commands: !tables.commands.is_empty(),
            resources: resource::any_resources(tables),
            prompts: prompt::any_prompts(tables),
        };
        let server = Self::with(shape);
        let _ = server.gateway.set(gateway);
        server
    }

    pub(super) fn with(shape: Shape) -> Self {
        Self::with_client(shape, None)
    }

    /// For `keyward serve --client NAME` on stdio: every session of this
    /// server is `client`, for the servers' `clients` lists.
    pub(super) fn with_client(shape: Shape, client: Option<String>) -> Self {
        KeywardServer {
            tools: tools::definitions(shape.commands),
            shape,
            gateway: Arc::new(OnceLock::new()),
            gate: Arc::new(tokio::sync::Mutex::new(())),
            failed: Arc::new(OnceLock::new()),
            identity: ConnectionIdentity::for_client(client),
            following: Arc::new(OnceLock::new()),
        }
    }

    /// For `keyward serve --http`: each request's agent is the name of its
    /// bearer token ([`crate::pipeline::session::AuthenticatedAgent`]),
    /// never the client's own `clientInfo`. Make one value per session with
    /// [`KeywardServer::for_session`].
    pub fn authenticated(gateway: Gateway) -> Self {
        let mut server = Self::new(gateway);
        server.identity = ConnectionIdentity::authenticated();
        server
    }

    /// A server for one more connection: the same gateway (upstreams, rate
    /// limiter, audit), its own identity and `tools/list_changed` peer.
    pub fn for_session(&self) -> Self {
        let mut server = self.clone();
        server.identity = self.identity.fresh();
        server.following = Arc::new(OnceLock::new());
        server
    }

    /// Adds this connection's peer to the gateway's list-changed
    /// notifications, once.
    fn follow_list_changes(&self, gw: &Gateway, peer: &rmcp::Peer<RoleServer>) {
        self.following
            .get_or_init(|| gw.list_changed().add_peer(peer));
    }

    /// The gateway, once it is ready.
    async fn ready(&self) -> Result<Gateway, McpError> {
        if let Some(gw) = self.gateway.get() {
            return Ok(gw.clone());
        }
        let _turn = self.gate.lock().await;
        self.gateway
            .get()
            .cloned()
            .ok_or_else(|| McpError::internal_error(self.not_started(), None))
    }

    /// Whether the gateway could not be built: the lists are then empty.
    fn has_failed(&self) -> bool {
        self.failed.get().is_some()
    }

    /// What every call is told when the gateway could not be built: the
    /// same cause and fix the CLI printed on stderr.
    fn not_started(&self) -> String {
        match self.failed.get() {
            Some(cause) => format!(
                "error: keyward could not start, so nothing can be called. It said:\n{cause}\n\
                 After the fix, restart keyward (restart or reconnect the MCP client)."
            ),
            None => "error: keyward could not start (see its log on stderr)".to_string(),
        }
    }

    /// Runs one tool call; unknown tools and bad arguments come back as
    /// error results the agent can read, never as a crash. A call waiting
    /// for a human's answer through a 2026-07-28 client is a denial here
    /// (see [`KeywardServer::respond`]).
    pub async fn call(&self, session: &Session, request: CallToolRequestParams) -> CallToolResult {
        match self.respond(session, request).await {
            Reply::Done(r) => r,
            Reply::Input(_) => CallToolResult::error(vec![ContentBlock::text(
                "denied: this call needs a human's confirmation",
            )]),
        }
    }

    async fn respond(&self, session: &Session, request: CallToolRequestParams) -> Reply {
        let gw = match self.ready().await {
            Ok(gw) => gw,
            Err(e) => return Reply::Done(not_started_result(e)),
        };
        let st = gw.stages();
        // The kill switch comes first, whatever the tool.
        if let Some(stopped) = refuse_if_locked(st, session, "tool", Some(&request.name)) {
            return Reply::Done(into_result(stopped.into_outcome()));
        }
        let call = Call::new(session, &request.name, request.arguments);
        match request.name.as_ref() {
            REQUEST_ACCESS => answer(run::<RequestAccess>(st, &call).await),
            LIST_SERVICES => Reply::Done(into_result(tools::list_services(st, session))),
            HTTP_REQUEST => answer(run::<Http>(st, &call).await),
            RUN_COMMAND if !st.tables.commands.is_empty() => {
                answer(run::<RunCommand>(st, &call).await)
            }
            name if st.tables.workflows.contains_key(name) => Reply::Done(into_result(
                workflow::run_workflow(st, session, name, call.args).await,
            )),
            name if st.tables.route_name(name).is_some() => {
                answer_with(run::<UpstreamTool>(st, &call).await, |r| r)
            }
            // A server's tool the session does not see is routed all the
            // same, and refused (and recorded) by the route stage with
            // this very text.
            other => Reply::Done(into_result(ToolOutcome::error(unknown_tool(other)))),
        }
    }
}

/// keyward's own tool's answer, or why it stopped.
fn answer(answer: Result<ToolOutcome, Stopped>) -> Reply {
    answer_with(answer, into_result)
}

fn answer_with<A>(answer: Result<A, Stopped>, done: fn(A) -> CallToolResult) -> Reply {
    match answer {
        Ok(a) => Reply::Done(done(a)),
        Err(Stopped {
            input_required: Some(input),
            ..
        }) => Reply::Input(input),
        Err(s) => Reply::Done(into_result(s.into_outcome())),
    }
}

/// A tool call's answer: a result, or "ask the human and retry".
enum Reply {
    Done(CallToolResult),
    Input(rmcp::model::InputRequiredResult),
}

impl ServerHandler for KeywardServer {
    fn get_info(&self) -> ServerConfig {
        let mut caps = ServerCapabilities::builder()
            .enable_tools()
            .enable_tool_list_changed()
            .build();
        if self.shape.resources {
            caps.resources = Some(Default::default());
        }
        if self.shape.prompts {
            caps.prompts = Some(Default::default());
        }
        ServerConfig::new(caps)
            .with_server_info(Implementation::new("keyward", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "keyward holds the user's credentials. Call list_services to see the HTTP services \
                 and commands you may use, then http_request or run_command; tools named \
                 SERVER__TOOL are the user's MCP servers, behind the same rules. You never need, \
                 and will never see, a credential.",
            )
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::KNOWN_VERSIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let gw = match self.ready().await {
            Ok(gw) => gw,
            // Nothing is callable: an empty list, not an error.
            Err(_) if self.has_failed() => return Ok(ListToolsResult::with_all_items(Vec::new())),
            Err(e) => return Err(e),
        };
        self.follow_list_changes(&gw, &context.peer);
        let session = self.identity.session(&context);
        let mut all = self.tools.clone();
        all.extend(workflow::definitions(gw.stages(), &session));
        all.extend(tool::list_all(gw.stages(), &session).await);
        Ok(ListToolsResult::with_all_items(all))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let session = self.identity.session(&context);
        let gw = match self.ready().await {
            Ok(gw) => gw,
            Err(_) if self.has_failed() => {
                return Ok(ListResourcesResult::with_all_items(Vec::new()));
            }
            Err(e) => return Err(e),
        };
        Ok(ListResourcesResult::with_all_items(
            resource::list_resources(gw.stages(), &session).await,
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let session = self.identity.session(&context);
        let gw = self.ready().await?;
        passed_on::<ReadResource>(gw.stages(), Call::new(&session, &request.uri, None))
            .await
            .map(|mut r| {
                // What the upstream answered is complete (see `call_tool`).
                r.result_type = Some(ResultType::COMPLETE);
                r.into()
            })
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let session = self.identity.session(&context);
        let gw = match self.ready().await {
            Ok(gw) => gw,
            Err(_) if self.has_failed() => {
                return Ok(ListPromptsResult::with_all_items(Vec::new()));
            }
            Err(e) => return Err(e),
        };
        Ok(ListPromptsResult::with_all_items(
            prompt::list_prompts(gw.stages(), &session).await,
        ))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let session = self.identity.session(&context);
        let gw = self.ready().await?;
        let call = Call::new(&session, &request.name, request.arguments);
        passed_on::<GetPrompt>(gw.stages(), call)
            .await
            .map(|mut r| {
                r.result_type = Some(ResultType::COMPLETE);
                r.into()
            })
    }

    /// 2026-07-28 clients hear of changes only on a `subscriptions/listen`
    /// stream: tool-list changes are offered there (rmcp narrows this to
    /// what the client asked for and the capabilities say).
    fn accepted_subscription_filter(
        &self,
        _requested: &rmcp::model::SubscriptionFilter,
    ) -> Option<rmcp::model::SubscriptionFilter> {
        Some(
            rmcp::model::SubscriptionFilter::builder()
                .tools_list_changed()
                .build(),
        )
    }

    async fn listen(&self, context: rmcp::service::SubscriptionContext) -> Result<(), McpError> {
        let gw = self.ready().await?;
        let _open = gw.list_changed().add_subscription(context.sink().clone());
        context.cancelled().await;
        Ok(())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        // The agent's name is pinned in arrival order, before any wait.
        let mut session = self.identity.session(&context);
        session.asker = session.asker.with_retry(
            request.request_state.clone(),
            request.input_responses.clone(),
        );
        let gw = match self.ready().await {
            Ok(gw) => gw,
            // An error result the agent (and its human) can read.
            Err(e) => {
                let mut result = not_started_result(e);
                result.result_type = Some(ResultType::COMPLETE);
                return Ok(result.into());
            }
        };
        self.follow_list_changes(&gw, &context.peer);
        self.identity.bind(gw.approvals());
        match self.respond(&session, request).await {
            Reply::Input(input) => Ok(CallToolResponse::InputRequired(input)),
            Reply::Done(result) => {
                // Whatever produced the result, nothing leaves unscrubbed.
                let (mut result, _) = scrub_result(&gw.stages().scrubber(), result);
                // An upstream on an older protocol answers without
                // `resultType`; 2026-07-28 requires it on every result (rmcp
                // strips it again for peers of older versions).
                result.result_type = Some(ResultType::COMPLETE);
                Ok(result.into())
            }
        }
    }
}

fn into_result(outcome: ToolOutcome) -> CallToolResult {
    let content = vec![ContentBlock::text(outcome.text)];
    let mut result = if outcome.is_error {
        CallToolResult::error(content)
    } else {
        CallToolResult::success(content)
    };
    result.structured_content = outcome.structured;
    result
}

/// The kill switch: a call while keyward is locked is refused and
/// recorded (as `kind`, naming `tool`, target `keyward`).
fn refuse_if_locked(
    st: &Stages,
    session: &Session,
    kind: &str,
    tool: Option<&str>,
) -> Option<Stopped> {
    let stop = crate::pipeline::approval::locked(&st.desk.approvals)?;
    let event = keyward_audit::Event {
        agent: session.agent.clone(),
        kind: kind.into(),
        target: "keyward".into(),
        tool: tool.map(|t| printable(t, 128)),
        ..keyward_audit::Event::default()
    };
    Some(crate::pipeline::audit::stopped(
        &st.audit,
        &st.scrubber(),
        event,
        std::time::Instant::now(),
        stop,
    ))
}

/// A resource or prompt through the pipeline; a refusal is an MCP error:
/// invalid params when the call was refused, internal when it failed.
async fn passed_on<K: Kind>(st: &Stages, call: Call) -> Result<K::Answer, McpError> {
    if let Some(s) = refuse_if_locked(st, &call.session, K::KIND, None) {
        return Err(McpError::invalid_request(s.text, None));
    }
    run::<K>(st, &call).await.map_err(|s| match s.decision {
        Some(Decision::Deny | Decision::Error | Decision::RateLimited) => {
            McpError::invalid_params(s.text, None)
        }
        _ => McpError::internal_error(s.text, None),
    })
}

/// A tool call's answer while the gateway is not there.
fn not_started_result(e: McpError) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(e.message)])
}
