//! The MCP server: rmcp's `ServerHandler`, answering `tools/list` and
//! routing `tools/call` into the pipeline.

use std::borrow::Cow;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, GetPromptRequestParams,
    GetPromptResponse, Implementation, ListPromptsResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse,
    ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};

use crate::pipeline::audit::printable;
use crate::pipeline::redact::scrub_result;
use crate::pipeline::session::{ConnectionIdentity, Session};
use crate::pipeline::{ToolOutcome, command, http, passthrough, tool};
use crate::tools::{self, HTTP_REQUEST, LIST_SERVICES, RUN_COMMAND};
use crate::upstream::split_tool_name;
use crate::{Gateway, GatewayError};
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
/// until the gateway is ready (vault unlocked, references resolved); if it
/// never becomes ready they get an error.
#[derive(Clone, Debug)]
pub struct KeywardServer {
    gateway: Arc<OnceLock<Gateway>>,
    /// Held by the starter until the gateway is set (or failed): requests
    /// made meanwhile queue on it and go on in arrival order (the lock is
    /// fair), as they would have on a ready gateway.
    gate: Arc<tokio::sync::Mutex<()>>,
    shape: Shape,
    tools: Vec<Tool>,
    identity: ConnectionIdentity,
}

impl KeywardServer {
    pub fn new(gateway: Gateway) -> Self {
        let shape = Shape {
            commands: !gateway.commands().is_empty(),
            resources: passthrough::any_resources(&gateway),
            prompts: passthrough::any_prompts(&gateway),
        };
        let server = Self::with(shape);
        let _ = server.gateway.set(gateway);
        server
    }

    fn with(shape: Shape) -> Self {
        KeywardServer {
            tools: tools::definitions(shape.commands),
            shape,
            gateway: Arc::new(OnceLock::new()),
            gate: Arc::new(tokio::sync::Mutex::new(())),
            identity: ConnectionIdentity::default(),
        }
    }

    /// The gateway, once it is ready.
    async fn ready(&self) -> Result<Gateway, McpError> {
        if let Some(gw) = self.gateway.get() {
            return Ok(gw.clone());
        }
        let _turn = self.gate.lock().await;
        self.gateway.get().cloned().ok_or_else(not_started)
    }

    /// Runs one tool call; unknown tools and bad arguments come back as
    /// error results the agent can read, never as a crash.
    pub async fn call(&self, session: &Session, request: CallToolRequestParams) -> CallToolResult {
        let gw = match self.ready().await {
            Ok(gw) => gw,
            Err(e) => return CallToolResult::error(vec![ContentBlock::text(e.message)]),
        };
        let gw = &gw;
        let outcome = match request.name.as_ref() {
            LIST_SERVICES => tools::list_services(gw),
            HTTP_REQUEST => http::handle(gw, session, request.arguments).await,
            RUN_COMMAND if !gw.commands().is_empty() => {
                command::handle(gw, session, request.arguments).await
            }
            other => match split_tool_name(other) {
                Some((server, tool)) if gw.servers().contains_key(server) => {
                    match tool::handle(gw, session, server, tool, request.arguments).await {
                        Ok(result) => return result,
                        Err(outcome) => outcome,
                    }
                }
                _ => ToolOutcome::error(format!(
                    "error: unknown tool `{}`; call list_services, or list the tools again",
                    printable(other, 64)
                )),
            },
        };
        into_result(outcome)
    }
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
        let gw = self.ready().await?;
        gw.list_changed().set_peer(&context.peer);
        let mut all = self.tools.clone();
        all.extend(tool::list_all(&gw).await);
        Ok(ListToolsResult::with_all_items(all))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let gw = self.ready().await?;
        Ok(ListResourcesResult::with_all_items(
            passthrough::list_resources(&gw).await,
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let session = self.identity.session(&context);
        let gw = self.ready().await?;
        passthrough::read_resource(&gw, &session, &request.uri)
            .await
            .map(Into::into)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        let gw = self.ready().await?;
        Ok(ListPromptsResult::with_all_items(
            passthrough::list_prompts(&gw).await,
        ))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let session = self.identity.session(&context);
        let gw = self.ready().await?;
        passthrough::get_prompt(&gw, &session, &request.name, request.arguments)
            .await
            .map(Into::into)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        // The agent's name is pinned in arrival order, before any wait.
        let session = self.identity.session(&context);
        let gw = self.ready().await?;
        gw.list_changed().set_peer(&context.peer);
        let result = self.call(&session, request).await;
        // Whatever produced the result, nothing leaves unscrubbed.
        let (result, _) = scrub_result(&gw.scrubber(), result);
        Ok(result.into())
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

fn not_started() -> McpError {
    McpError::internal_error(
        "keyward could not start (see its log: the vault or a secret reference could not be opened)",
        None,
    )
}

/// Serves MCP on stdin/stdout until the client closes the stream.
/// Meanwhile, follows changes of the secrets ([`crate::live::run`]).
pub async fn serve_stdio(gateway: Gateway) -> Result<(), GatewayError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let shape = KeywardServer::new(gateway.clone()).shape;
    let _ = tx.send(gateway);
    serve_stdio_starting(shape, rx).await
}

/// Like [`serve_stdio`], but answers `initialize` at once and lets every
/// other request wait for `gateway`, which is still being built (the vault
/// unlock is most of a cold start: the OS credential store answers over
/// D-Bus). When `gateway` is dropped unsent — the build failed — this
/// returns `Err(GatewayError::NotStarted)` at once, and the caller reports
/// why.
pub async fn serve_stdio_starting(
    shape: Shape,
    gateway: tokio::sync::oneshot::Receiver<Gateway>,
) -> Result<(), GatewayError> {
    let server = KeywardServer::with(shape);
    let turn = server.gate.clone().lock_owned().await;
    let slot = server.gateway.clone();
    let running = server
        .serve(rmcp::transport::io::stdio_pipes())
        .await
        .map_err(|e| GatewayError::Transport(e.to_string()))?;
    let cancel = running.cancellation_token();
    let mut refresh = None;
    let waiting = running.waiting();
    tokio::pin!(waiting);
    let done = tokio::select! {
        done = &mut waiting => done,
        built = gateway => match built {
            Ok(gw) => {
                refresh = Some(tokio::spawn(crate::live::run(gw.clone())));
                let _ = slot.set(gw);
                drop(turn);
                waiting.await
            }
            Err(_) => {
                drop(turn);
                cancel.cancel();
                return Err(GatewayError::NotStarted);
            }
        },
    };
    if let Some(r) = refresh {
        r.abort();
    }
    done.map(|_| ())
        .map_err(|e| GatewayError::Transport(e.to_string()))
}
