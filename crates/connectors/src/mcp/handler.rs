//! keyward's side of an upstream MCP session: what it announces in
//! `initialize`, and which server notifications it reacts to.

use std::sync::Arc;

use rmcp::ClientHandler;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation, ProtocolVersion};
use rmcp::service::{NotificationContext, RoleClient};

/// Declares no client capabilities (no sampling, roots or elicitation): an
/// upstream cannot ask keyward — and through it the agent or the human —
/// for anything. Server requests it sends anyway get rmcp's defaults
/// (method not found / empty).
pub(crate) struct Handler {
    pub(crate) on_tools_changed: Arc<dyn Fn() + Send + Sync>,
}

impl ClientHandler for Handler {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        (self.on_tools_changed)();
    }

    fn get_info(&self) -> ClientConfig {
        // rmcp 3.9 asks for 2026-07-28 by default, which most servers in
        // the wild (server-everything included) do not know yet.
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("keyward", env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
    }
}
