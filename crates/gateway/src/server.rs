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

/// The MCP face of a [`Gateway`].
#[derive(Clone, Debug)]
pub struct KeywardServer {
    gateway: Gateway,
    tools: Vec<Tool>,
    identity: ConnectionIdentity,
}

impl KeywardServer {
    pub fn new(gateway: Gateway) -> Self {
        KeywardServer {
            tools: tools::definitions(!gateway.commands().is_empty()),
            gateway,
            identity: ConnectionIdentity::default(),
        }
    }

    /// Runs one tool call; unknown tools and bad arguments come back as
    /// error results the agent can read, never as a crash.
    pub async fn call(&self, session: &Session, request: CallToolRequestParams) -> CallToolResult {
        let gw = &self.gateway;
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
        if passthrough::any_resources(&self.gateway) {
            caps.resources = Some(Default::default());
        }
        if passthrough::any_prompts(&self.gateway) {
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
        self.gateway.list_changed().set_peer(&context.peer);
        let mut all = self.tools.clone();
        all.extend(tool::list_all(&self.gateway).await);
        Ok(ListToolsResult::with_all_items(all))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(
            passthrough::list_resources(&self.gateway).await,
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let session = self.identity.session(&context);
        passthrough::read_resource(&self.gateway, &session, &request.uri)
            .await
            .map(Into::into)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(
            passthrough::list_prompts(&self.gateway).await,
        ))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let session = self.identity.session(&context);
        passthrough::get_prompt(&self.gateway, &session, &request.name, request.arguments)
            .await
            .map(Into::into)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let session = self.identity.session(&context);
        self.gateway.list_changed().set_peer(&context.peer);
        let result = self.call(&session, request).await;
        // Whatever produced the result, nothing leaves unscrubbed.
        let (result, _) = scrub_result(&self.gateway.scrubber(), result);
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

/// Serves MCP on stdin/stdout until the client closes the stream.
/// Meanwhile, follows changes of the secrets ([`crate::live::run`]).
pub async fn serve_stdio(gateway: Gateway) -> Result<(), GatewayError> {
    let refresh = tokio::spawn(crate::live::run(gateway.clone()));
    let server = KeywardServer::new(gateway);
    let running = server
        .serve(rmcp::transport::io::stdio_pipes())
        .await
        .map_err(|e| GatewayError::Transport(e.to_string()))?;
    let done = running
        .waiting()
        .await
        .map_err(|e| GatewayError::Transport(e.to_string()));
    refresh.abort();
    done.map(|_| ())
}
