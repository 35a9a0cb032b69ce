//! The Streamable HTTP client: against server-everything's HTTP mode, and
//! against a bare socket that records what keyward sends.

mod common;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use keyward_connectors::mcp::{HttpSpec, McpError, Upstream, UpstreamEvents, UpstreamSpec};
use keyward_vault::SecretValue;
use serde_json::json;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("local addr").port()
}

fn http_spec(url: &str, headers: Vec<(String, SecretValue)>) -> UpstreamSpec {
    UpstreamSpec::Http(HttpSpec {
        url: url::Url::parse(url).expect("test url"),
        headers,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn talks_to_server_everything_over_streamable_http() {
    let port = free_port();
    let mut server = tokio::process::Command::new(node_bin("mcp-server-everything"))
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(l)) = lines.next_line().await {
            if l.contains("listening on port") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(ready, Ok(true), "server-everything did not start");

    let token = canary("http");
    let headers = vec![(
        "Authorization".to_string(),
        SecretValue::from_str(&format!("Bearer {token}")),
    )];
    let url = format!("http://127.0.0.1:{port}/mcp");
    let up = Upstream::start("remote", http_spec(&url, headers), UpstreamEvents::none())
        .await
        .unwrap();
    assert_eq!(up.child_pid(), None);
    let tools = up.tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "echo"));
    let r = up
        .call_tool(
            "echo",
            json!({"message": "over http"}).as_object().cloned(),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(text_of(&r).contains("Echo: over http"));
    up.shutdown().await;
    server.kill().await.unwrap();
}

/// Accepts connections, records each request head, answers 500.
async fn recording_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut byte = [0u8; 1];
            while !buf.ends_with(b"\r\n\r\n") && sock.read(&mut byte).await.unwrap_or(0) == 1 {
                buf.push(byte[0]);
            }
            seen.lock()
                .expect("heads lock")
                .push(String::from_utf8_lossy(&buf).into_owned());
            let _ = sock
                .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        }
    });
    (port, heads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_are_sent_and_kept_out_of_errors() {
    let (port, heads) = recording_server().await;
    let token = canary("hdr");
    let key = canary("key");
    let headers = vec![
        (
            "Authorization".to_string(),
            SecretValue::from_str(&format!("Bearer {token}")),
        ),
        ("X-Api-Key".to_string(), SecretValue::from_str(&key)),
    ];
    let url = format!("http://127.0.0.1:{port}/mcp?x=1");
    let err = Upstream::start_with_timeout(
        "remote",
        http_spec(&url, headers),
        UpstreamEvents::none(),
        Duration::from_secs(5),
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, McpError::Initialize { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(&token) && !shown.contains(&key), "{shown}");

    let heads = heads.lock().unwrap().join("\n---\n").to_ascii_lowercase();
    assert!(heads.starts_with("post /mcp?x=1 "), "{heads}");
    assert!(
        heads.contains(&format!("authorization: bearer {token}")),
        "{heads}"
    );
    assert!(heads.contains(&format!("x-api-key: {key}")), "{heads}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_value_with_a_newline_is_refused_without_echo() {
    let secret = canary("crlf");
    let headers = vec![(
        "X-Api-Key".to_string(),
        SecretValue::from_str(&format!("{secret}\r\nX-Evil: 1")),
    )];
    let err = Upstream::start(
        "remote",
        http_spec("http://127.0.0.1:9/mcp", headers),
        UpstreamEvents::none(),
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, McpError::InvalidSpec { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("X-Api-Key") && !shown.contains(&secret),
        "{shown}"
    );
}
