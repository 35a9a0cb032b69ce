//! The requests keyward makes to a started upstream, each bounded in time
//! and ended at once if the upstream dies.

use std::future::Future;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, GetPromptRequestParams, GetPromptResult, JsonObject,
    Prompt, ReadResourceRequestParams, ReadResourceResult, Resource, ResourceTemplate, Tool,
};
use rmcp::service::ServiceError;

use super::{McpError, Upstream};

/// Time limit of the listing and reading requests (tools, resources,
/// prompts); tool calls take theirs from the caller.
pub const LIST_TIMEOUT: Duration = Duration::from_secs(30);

impl Upstream {
    /// All tools, every page.
    pub async fn tools(&self) -> Result<Vec<Tool>, McpError> {
        self.request(LIST_TIMEOUT, self.inner.peer.list_all_tools())
            .await
    }

    /// Calls a tool. A tool that failed is a result with `is_error` set;
    /// an `Err` means the call itself could not be completed.
    pub async fn call_tool(
        &self,
        name: &str,
        args: Option<JsonObject>,
        timeout: Duration,
    ) -> Result<CallToolResult, McpError> {
        let mut params = CallToolRequestParams::new(name.to_string());
        params.arguments = args;
        self.request(timeout, self.inner.peer.call_tool(params))
            .await
    }

    pub async fn resources(&self) -> Result<Vec<Resource>, McpError> {
        self.request(LIST_TIMEOUT, self.inner.peer.list_all_resources())
            .await
    }

    pub async fn resource_templates(&self) -> Result<Vec<ResourceTemplate>, McpError> {
        self.request(LIST_TIMEOUT, self.inner.peer.list_all_resource_templates())
            .await
    }

    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, McpError> {
        let params = ReadResourceRequestParams::new(uri);
        self.request(LIST_TIMEOUT, self.inner.peer.read_resource(params))
            .await
    }

    pub async fn prompts(&self) -> Result<Vec<Prompt>, McpError> {
        self.request(LIST_TIMEOUT, self.inner.peer.list_all_prompts())
            .await
    }

    pub async fn get_prompt(
        &self,
        name: &str,
        args: Option<JsonObject>,
    ) -> Result<GetPromptResult, McpError> {
        let mut params = GetPromptRequestParams::new(name);
        params.arguments = args;
        self.request(LIST_TIMEOUT, self.inner.peer.get_prompt(params))
            .await
    }

    /// Runs one request against the upstream's death and a time limit, so
    /// a crash ends a call in flight at once instead of at its timeout.
    async fn request<T>(
        &self,
        timeout: Duration,
        fut: impl Future<Output = Result<T, ServiceError>>,
    ) -> Result<T, McpError> {
        let inner = &self.inner;
        let gone = || McpError::UpstreamGone {
            server: inner.name.clone(),
        };
        if !self.is_alive() {
            return Err(gone());
        }
        tokio::select! {
            biased;
            r = tokio::time::timeout(timeout, fut) => match r {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(_)) if inner.life.is_gone() => Err(gone()),
                Ok(Err(ServiceError::TransportClosed)) => {
                    // The session is over even if the process has not been
                    // reaped yet: say so now, so no one uses it again.
                    inner.life.mark_gone();
                    Err(gone())
                }
                Ok(Err(e)) => Err(self.map_error(e, timeout)),
                Err(_) => Err(McpError::Timeout { server: inner.name.clone(), after: timeout }),
            },
            () = inner.life.wait_gone() => Err(gone()),
        }
    }

    fn map_error(&self, e: ServiceError, timeout: Duration) -> McpError {
        let server = self.inner.name.clone();
        let scrub = |s: &str| self.inner.scrubber.scrub_str(s).0;
        match e {
            ServiceError::Timeout { .. } => McpError::Timeout {
                server,
                after: timeout,
            },
            ServiceError::McpError(data) => McpError::Protocol {
                server,
                code: data.code.0,
                message: scrub(&data.message),
            },
            ServiceError::TransportSend(e) => McpError::Transport {
                server,
                reason: scrub(&e.error.to_string()),
            },
            other => McpError::Transport {
                server,
                reason: scrub(&other.to_string()),
            },
        }
    }
}
