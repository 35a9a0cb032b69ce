//! `keyward connect`: the stdio side of a client that only spawns stdio
//! servers, joined to the running service's `/mcp`. Both sides are rmcp
//! transports (the stdio server transport and the Streamable HTTP client
//! transport); every JSON-RPC message is passed on as it is — requests,
//! answers, notifications, and the server's own requests (such as
//! `elicitation/create`) with the client's answers. No MCP logic lives
//! here: sessions, protocol versions and SSE streams are the transports'.
//!
//! Messages to the client are written in the order they arrive. Messages to
//! the service are posted concurrently (a call held for approval must not
//! hold up the client's answer to the question it asked); a request the
//! service cannot be reached for is answered with a JSON-RPC error, so the
//! client is never left waiting.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rmcp::model::{ClientJsonRpcMessage, ErrorData, RequestId, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::{RoleClient, RoleServer};

/// How the bridge ended.
#[derive(Debug, PartialEq, Eq)]
pub enum BridgeEnd {
    /// The client closed stdin: the normal end.
    ClientClosed,
    /// The service closed the connection (it stopped, or refused us).
    ServiceClosed,
    /// Writing to the client failed (it went away).
    ClientGone,
}

type Pending = Pin<Box<dyn Future<Output = (Option<RequestId>, Result<(), String>)> + Send>>;
type Write = Pin<Box<dyn Future<Output = bool> + Send>>;

/// After the client closed stdin, answers to its requests still in flight
/// are passed on for at most this long.
pub const DRAIN: Duration = Duration::from_secs(600);

/// Shuttles messages between `client` (stdio) and `service` (HTTP) until
/// either side ends. When the client closes stdin, the answers to the
/// requests it already sent are still delivered (for at most [`DRAIN`]).
/// `explain` turns a failed post into what the client is told (it must not
/// quote the token).
pub async fn run<C, S>(mut client: C, mut service: S, explain: impl Fn(&str) -> String) -> BridgeEnd
where
    C: Transport<RoleServer> + 'static,
    S: Transport<RoleClient> + 'static,
{
    let (out_tx, mut out_rx) = tokio::sync::mpsc::unbounded_channel::<Write>();
    let writer = tokio::spawn(async move {
        while let Some(write) = out_rx.recv().await {
            if !write.await {
                return false;
            }
        }
        true
    });
    let to_client = |client: &mut C, msg: ServerJsonRpcMessage| -> Write {
        let send = client.send(msg);
        Box::pin(async move { send.await.is_ok() })
    };
    let mut posts = FuturesUnordered::<Pending>::new();
    // The client's requests not answered yet.
    let mut outstanding = HashSet::<RequestId>::new();
    let mut client_done = false;
    let drain = tokio::time::sleep(Duration::MAX / 4);
    tokio::pin!(drain);
    let end = loop {
        if client_done && outstanding.is_empty() {
            break BridgeEnd::ClientClosed;
        }
        tokio::select! {
            msg = client.receive(), if !client_done => {
                let Some(msg) = msg else {
                    client_done = true;
                    drain.as_mut().reset(tokio::time::Instant::now() + DRAIN);
                    continue;
                };
                let id = match &msg {
                    ClientJsonRpcMessage::Request(r) => Some(r.id.clone()),
                    _ => None,
                };
                if let Some(id) = &id {
                    outstanding.insert(id.clone());
                }
                let send = service.send(msg);
                posts.push(Box::pin(async move { (id, send.await.map_err(|e| e.to_string())) }));
            }
            msg = service.receive() => {
                let Some(msg) = msg else {
                    // The posts still under way fail now; every request
                    // not answered gets an error, so the client does not
                    // wait for ever.
                    let mut failed = None;
                    while let Some((_, result)) = posts.next().await {
                        if let Err(e) = result {
                            failed.get_or_insert(e);
                        }
                    }
                    let why = explain(failed.as_deref().unwrap_or("the service closed the connection"));
                    for id in outstanding.drain() {
                        let answer = ServerJsonRpcMessage::error(ErrorData::internal_error(why.clone(), None), Some(id));
                        let _ = out_tx.send(to_client(&mut client, answer));
                    }
                    break BridgeEnd::ServiceClosed;
                };
                if let ServerJsonRpcMessage::Response(r) = &msg {
                    outstanding.remove(&r.id);
                } else if let ServerJsonRpcMessage::Error(e) = &msg
                    && let Some(id) = &e.id
                {
                    outstanding.remove(id);
                }
                if out_tx.send(to_client(&mut client, msg)).is_err() {
                    break BridgeEnd::ClientGone;
                }
            }
            Some((id, result)) = posts.next(), if !posts.is_empty() => {
                if let Err(e) = result {
                    tracing::warn!(error = %explain(&e), "a message could not be passed to the keyward service");
                    if let Some(id) = id {
                        outstanding.remove(&id);
                        let answer = ServerJsonRpcMessage::error(
                            ErrorData::internal_error(explain(&e), None),
                            Some(id),
                        );
                        if out_tx.send(to_client(&mut client, answer)).is_err() {
                            break BridgeEnd::ClientGone;
                        }
                    }
                }
            }
            () = &mut drain, if client_done => break BridgeEnd::ClientClosed,
        }
    };
    // Answers already received still reach the client.
    drop(out_tx);
    let wrote_all = writer.await.unwrap_or(false);
    let _ = service.close().await;
    let _ = client.close().await;
    if end == BridgeEnd::ServiceClosed && !wrote_all {
        return BridgeEnd::ClientGone;
    }
    end
}
