use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use keyward_config::{Command, Server};
use rmcp::service::SubscriptionSink;
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
    /// Why it is never started (a reference or its program did not
    /// resolve at start-up); see [`crate::pipeline::route::Unavailable`].
    pub unavailable: Option<String>,
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

/// An allow-listed CLI tool with its program resolved to an absolute path
/// at load (so that a missing program stops start-up). What runs is the
/// path pinned at approval, checked before each run
/// ([`crate::pipeline::command_sandbox`]).
/// Its environment, secrets resolved, is part of the live secrets
/// ([`crate::pipeline::inject::Secrets::command_env`]).
pub struct CommandRuntime {
    pub command: Command,
    pub program: PathBuf,
    /// Why it cannot run (see [`crate::pipeline::route::Unavailable`]).
    pub unavailable: Option<String>,
}

/// Tells the connected agents that the tool list changed (after an upstream
/// said so, or restarted). Each connection's peer is added once its first
/// request arrives (stdio: the one client; `serve --http`: every session);
/// peers whose connection closed are dropped. 2026-07-28 clients, which get
/// notifications only on a `subscriptions/listen` stream, are told on each
/// open stream that asked for tool changes.
#[derive(Clone, Default)]
pub struct ListChanged {
    peers: Arc<Mutex<Vec<Peer<RoleServer>>>>,
    subscriptions: Arc<Mutex<Vec<(u64, SubscriptionSink)>>>,
    next_subscription: Arc<AtomicU64>,
}

/// Keeps a `subscriptions/listen` stream registered; dropping it (the
/// stream ended) removes it.
pub struct Subscribed {
    id: u64,
    subscriptions: Arc<Mutex<Vec<(u64, SubscriptionSink)>>>,
}

impl Drop for Subscribed {
    fn drop(&mut self) {
        let mut subs = self.subscriptions.lock().unwrap_or_else(|p| p.into_inner());
        subs.retain(|(id, _)| *id != self.id);
    }
}

impl ListChanged {
    /// Adds a connection's peer (call once per connection).
    pub fn add_peer(&self, peer: &Peer<RoleServer>) {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        peers.retain(|p| !p.is_transport_closed());
        if !peer.is_transport_closed() {
            peers.push(peer.clone());
        }
    }

    /// Adds an open `subscriptions/listen` stream, for as long as the
    /// returned value lives.
    pub fn add_subscription(&self, sink: SubscriptionSink) -> Subscribed {
        let id = self.next_subscription.fetch_add(1, Ordering::Relaxed);
        self.subscriptions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((id, sink));
        Subscribed {
            id,
            subscriptions: self.subscriptions.clone(),
        }
    }

    /// How many connections and streams would be told now.
    pub fn listeners(&self) -> usize {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        peers.retain(|p| !p.is_transport_closed());
        peers.len()
            + self
                .subscriptions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .len()
    }

    pub fn notify(&self) {
        let peers: Vec<_> = {
            let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
            peers.retain(|p| !p.is_transport_closed());
            peers.clone()
        };
        let sinks: Vec<_> = self
            .subscriptions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(_, s)| s.clone())
            .collect();
        if peers.is_empty() && sinks.is_empty() {
            return;
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            for peer in peers {
                handle.spawn(async move {
                    let _ = peer.notify_tool_list_changed().await;
                });
            }
            for sink in sinks {
                handle.spawn(async move {
                    let _ = sink.notify_tool_list_changed().await;
                });
            }
        }
    }
}
