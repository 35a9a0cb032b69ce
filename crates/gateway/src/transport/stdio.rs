//! The stdio transport: one client, MCP on stdin/stdout.

use crate::{Gateway, GatewayError};

use super::mcp::{KeywardServer, Shape};
use rmcp::ServiceExt;

/// Serves MCP on stdin/stdout until the client closes the stream.
/// Meanwhile, follows changes of the secrets ([`Gateway::follow_secrets`]).
pub async fn serve_stdio(gateway: Gateway) -> Result<(), GatewayError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let shape = KeywardServer::new(gateway.clone()).shape;
    let _ = tx.send(Ok(gateway));
    serve_stdio_starting(shape, rx).await
}

/// What the starter sends: the gateway, or why it could not be built —
/// the cause and its fix, as the CLI printed them, scrubbed of every
/// value the starter knew.
pub type Started = Result<Gateway, String>;

/// Like [`serve_stdio`], but answers `initialize` at once and lets every
/// other request wait for `gateway`, which is still being built (the vault
/// unlock is most of a cold start: the OS credential store answers over
/// D-Bus). When the build failed (or the sender was dropped), keyward
/// keeps answering until the client closes the stream: the lists are
/// empty and every call gets the cause as an error, never a closed
/// connection; then this returns `Err(GatewayError::NotStarted)`.
pub async fn serve_stdio_starting(
    shape: Shape,
    gateway: tokio::sync::oneshot::Receiver<Started>,
) -> Result<(), GatewayError> {
    serve_stdio_as(None, shape, gateway).await
}

/// [`serve_stdio_starting`] for `keyward serve --client NAME`: the
/// connection is the MCP client `client`, and sees the servers whose
/// `clients` list names it (and those without a list). `None`: only
/// those without a list.
pub async fn serve_stdio_as(
    client: Option<String>,
    shape: Shape,
    gateway: tokio::sync::oneshot::Receiver<Started>,
) -> Result<(), GatewayError> {
    let server = KeywardServer::with_client(shape, client);
    let turn = server.gate.clone().lock_owned().await;
    let slot = server.gateway.clone();
    let failed = server.failed.clone();
    let running = server
        .serve(rmcp::transport::io::stdio_pipes())
        .await
        .map_err(|e| GatewayError::Transport(e.to_string()))?;
    let mut refresh = None;
    let waiting = running.waiting();
    tokio::pin!(waiting);
    let done = tokio::select! {
        done = &mut waiting => done,
        built = gateway => match built {
            Ok(Ok(gw)) => {
                refresh = Some(tokio::spawn(gw.follow_secrets()));
                let _ = slot.set(gw);
                drop(turn);
                waiting.await
            }
            Ok(Err(cause)) => {
                // Set before the waiting requests are let go, so each of
                // them reads it.
                let _ = failed.set(cause);
                drop(turn);
                let _ = waiting.await;
                return Err(GatewayError::NotStarted);
            }
            Err(_) => {
                let _ = failed.set("keyward's start-up failed unexpectedly (see its log)".into());
                drop(turn);
                let _ = waiting.await;
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
