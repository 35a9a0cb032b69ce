//! The MCP server: rmcp's `ServerHandler`, answering `tools/list` and
//! routing `tools/call` into the pipeline.

use std::borrow::Cow;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ProtocolVersion, ServerCapabilities, ServerConfig,
    Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};

use crate::pipeline::session::{ConnectionIdentity, Session};
use crate::pipeline::{ToolOutcome, http};
use crate::tools::{self, HTTP_REQUEST, LIST_SERVICES};
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
            gateway,
            tools: tools::definitions(),
            identity: ConnectionIdentity::default(),
        }
    }

    /// Runs one tool call; unknown tools and bad arguments come back as
    /// error results the agent can read, never as a crash.
    pub async fn call(&self, session: &Session, request: CallToolRequestParams) -> ToolOutcome {
        match request.name.as_ref() {
            LIST_SERVICES => tools::list_services(&self.gateway),
            HTTP_REQUEST => http::handle(&self.gateway, session, request.arguments).await,
            other => {
                let (name, _) = self.gateway.scrubber().scrub_str(other);
                ToolOutcome::error(format!(
                    "error: unknown tool `{}`; keyward offers {LIST_SERVICES} and {HTTP_REQUEST}",
                    name.chars().take(64).collect::<String>().escape_debug()
                ))
            }
        }
    }
}

impl ServerHandler for KeywardServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("keyward", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "keyward holds the user's API credentials. Call list_services to see what you may \
                 reach, then http_request. You never need, and will never see, a credential.",
            )
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::KNOWN_VERSIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.tools.clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let session = self.identity.session(&context);
        let outcome = self.call(&session, request).await;
        // Whatever produced the result, nothing leaves unscrubbed.
        let scrubber = self.gateway.scrubber();
        let (text, _) = scrubber.scrub_str(&outcome.text);
        let structured = outcome
            .structured
            .map(|v| crate::pipeline::redact::scrub_json(scrubber, v).0);
        let outcome = ToolOutcome {
            text,
            structured,
            ..outcome
        };
        let content = vec![ContentBlock::text(outcome.text)];
        let mut result = if outcome.is_error {
            CallToolResult::error(content)
        } else {
            CallToolResult::success(content)
        };
        result.structured_content = outcome.structured;
        Ok(result.into())
    }
}

/// Serves MCP on stdin/stdout until the client closes the stream.
pub async fn serve_stdio(gateway: Gateway) -> Result<(), GatewayError> {
    let server = KeywardServer::new(gateway);
    let running = server
        .serve(rmcp::transport::io::stdio_pipes())
        .await
        .map_err(|e| GatewayError::Transport(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| GatewayError::Transport(e.to_string()))?;
    Ok(())
}
