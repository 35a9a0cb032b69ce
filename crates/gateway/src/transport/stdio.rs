//! The stdio transport: one client, MCP on stdin/stdout.

use crate::{Gateway, GatewayError};

use super::mcp::{KeywardServer, Shape};
use rmcp::ServiceExt;

/// Serves MCP on stdin/stdout until the client closes the stream.
/// Meanwhile, follows changes of the secrets ([`Gateway::follow_secrets`]).
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
                refresh = Some(tokio::spawn(gw.follow_secrets()));
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
