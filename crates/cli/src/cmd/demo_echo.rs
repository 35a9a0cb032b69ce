//! `keyward demo`'s upstream: an HTTP API on 127.0.0.1 (an ephemeral
//! port), in this process, that answers every request with what it
//! received — method, path, headers (Authorization included) and body — as
//! JSON: an API that echoes the key back, as error pages and debug
//! endpoints of real ones do. It also keeps what each request carried, so
//! that the demo can show (masked) that the real key did arrive.

use std::sync::{Arc, Mutex, PoisonError};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use keyward_vault::SecretValue;
use serde_json::{Map, Value, json};

/// One request the echo API received.
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) path: String,
    /// The `Authorization` header as received: the demo key, in its type.
    pub(crate) authorization: Option<SecretValue>,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// The running echo API; it stops with the runtime it was started on.
pub(crate) struct EchoApi {
    /// `http://127.0.0.1:PORT`.
    pub(crate) origin: String,
    seen: Log,
}

impl EchoApi {
    /// Binds 127.0.0.1 on a port the OS picks and serves there (on the
    /// current runtime) until the runtime ends.
    pub(crate) async fn start() -> std::io::Result<EchoApi> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let origin = format!("http://{}", listener.local_addr()?);
        let seen = Log::default();
        let app = axum::Router::new().fallback(echo).with_state(seen.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "the demo's echo API stopped");
            }
        });
        Ok(EchoApi { origin, seen })
    }

    /// How many requests have arrived so far.
    pub(crate) fn count(&self) -> usize {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Runs `f` on the requests received since the first `from`.
    pub(crate) fn since<T>(&self, from: usize, f: impl FnOnce(&[Seen]) -> T) -> T {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        f(seen.get(from..).unwrap_or_default())
    }
}

async fn echo(
    State(seen): State<Log>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Json<Value> {
    let mut echoed = Map::new();
    for (name, value) in &headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        echoed.insert(name.as_str().to_string(), Value::String(value));
    }
    seen.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Seen {
            method: method.to_string(),
            path: uri.path().to_string(),
            authorization: headers
                .get(axum::http::header::AUTHORIZATION)
                .map(|v| SecretValue::new(v.as_bytes().to_vec())),
        });
    Json(json!({
        "you_sent": {
            "method": method.as_str(),
            "path": uri.path_and_query().map_or("/", |p| p.as_str()),
            "headers": echoed,
            "body": String::from_utf8_lossy(&body),
        }
    }))
}
