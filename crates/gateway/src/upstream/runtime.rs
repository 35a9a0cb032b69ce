use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use keyward_config::{Command, Server};
use rmcp::{Peer, RoleServer};

use super::{Catalog, LiveUpstream};

/// A wrapped MCP server: its config, its supervised connection, and the
/// last catalog of its tools.
pub struct ServerRuntime {
    pub server: Server,
    pub upstream: LiveUpstream,
    pub catalog: Mutex<Catalog>,
    /// Set by the upstream's callbacks (tools changed, exited): the catalog
    /// must be listed again before it is trusted.
    pub stale: Arc<AtomicBool>,
    /// Resource URIs this server listed last (for routing reads).
    pub resource_uris: Mutex<std::collections::BTreeSet<String>>,
}

impl ServerRuntime {
    /// Whether the catalog must be listed again; clears the flag.
    pub fn take_stale(&self) -> bool {
        self.stale.swap(false, Ordering::SeqCst)
    }

    pub fn catalog(&self) -> std::sync::MutexGuard<'_, Catalog> {
        self.catalog.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An allow-listed CLI tool with its program resolved to an absolute path.
/// Its environment, secrets resolved, is part of the live secrets
/// ([`crate::Gateway::command_env`]).
pub struct CommandRuntime {
    pub command: Command,
    pub program: PathBuf,
}

/// Tells the connected agent that the tool list changed (after an upstream
/// said so, or restarted). The peer is known once the agent's first request
/// arrives.
#[derive(Clone, Default)]
pub struct ListChanged {
    peer: Arc<OnceLock<Peer<RoleServer>>>,
}

impl ListChanged {
    pub fn set_peer(&self, peer: &Peer<RoleServer>) {
        let _ = self.peer.set(peer.clone());
    }

    pub fn notify(&self) {
        let Some(peer) = self.peer.get().cloned() else {
            return;
        };
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = peer.notify_tool_list_changed().await;
            });
        }
    }
}
