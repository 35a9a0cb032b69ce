//! keyward's benchmark: what a call through keyward costs over the same call
//! made directly, in the same run; cold start of `keyward serve` to its
//! `initialize` answer; peak memory.
//!
//! Run with `bench/run` (it builds the release binary, sets up a throw-away
//! home and, when available, a real Secret Service so that the vault key
//! comes from the OS store as on a desktop).
//!
//! Usage: keyward-bench KEYWARD_BIN KEYWARD_HOME [calls]

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

struct Serve {
    child: Child,
    stdin: ChildStdin,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

impl Serve {
    async fn start(bin: &str) -> Serve {
        Serve::spawn(bin, &["serve"]).await
    }

    async fn spawn(bin: &str, args: &[&str]) -> Serve {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn keyward serve");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        Serve {
            child,
            stdin,
            stdout,
            next_id: 1,
        }
    }

    async fn request(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let id = self.next_id;
        self.next_id += 1;
        let msg =
            serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let mut line = serde_json::to_vec(&msg).unwrap();
        line.push(b'\n');
        self.stdin.write_all(&line).await.unwrap();
        loop {
            let l = self
                .stdout
                .next_line()
                .await
                .unwrap()
                .expect("keyward closed stdout");
            let v: serde_json::Value = serde_json::from_str(&l).unwrap();
            if v.get("id").and_then(|i| i.as_u64()) == Some(id) {
                return v;
            }
        }
    }

    async fn initialize(&mut self) {
        let r = self
            .request(
                "initialize",
                serde_json::json!({"protocolVersion": "2025-11-25", "capabilities": {},
                                   "clientInfo": {"name": "keyward-bench", "version": "0"}}),
            )
            .await;
        assert!(r.get("result").is_some(), "initialize failed: {r}");
        self.stdin
            .write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n")
            .await
            .unwrap();
    }

    fn peak_rss_kib(&self) -> Option<u64> {
        status_kib(self.child.id()?, "VmHWM:")
    }

    /// Current RSS of keyward and of every process below it.
    fn tree_rss_kib(&self) -> Option<(u64, u64)> {
        let pid = self.child.id()?;
        let own = status_kib(pid, "VmRSS:")?;
        let children: u64 = descendants(pid)
            .into_iter()
            .filter_map(|p| status_kib(p, "VmRSS:"))
            .sum();
        Some((own, children))
    }
}

fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let kids = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            for k in kids.split_whitespace().filter_map(|k| k.parse().ok()) {
                out.push(k);
                stack.push(k);
            }
        }
    }
    out
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn upstream() -> String {
    let app = axum::Router::new().fallback(|| async {
        (
            [("content-type", "application/json")],
            r#"{"id":"ch_1","object":"charge","amount":500}"#,
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Without TCP_NODELAY every answer waits on Nagle + delayed ACK.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("upstream") {
        // For bench/http-load: the same static upstream, on its own until
        // killed; its origin is stdout's first line.
        println!("{}", upstream().await);
        return std::future::pending().await;
    }
    let bin = args
        .get(1)
        .expect("usage: keyward-bench KEYWARD_BIN KEYWARD_HOME [calls]");
    let home = args
        .get(2)
        .expect("usage: keyward-bench KEYWARD_BIN KEYWARD_HOME [calls]");
    let calls: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(2000);

    let origin = upstream().await;
    std::fs::write(
        format!("{home}/keyward.toml"),
        format!(
            "[services.bench]\nbase_url = \"{origin}\"\nauth = {{ type = \"bearer\", secret = \"bench_token\" }}\n\
             [[services.bench.rules]]\naction = \"allow\"\nmethods = [\"GET\"]\npaths = [\"/v1/charges/**\"]\n"
        ),
    )
    .unwrap();
    approve_config(bin);

    // Cold start: spawn to the `initialize` answer, and on to the first
    // `tools/list` answer — keyward answers `initialize` while the vault
    // unlocks, so the second is when it can really serve a call.
    let (mut starts, mut ready) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        let t = Instant::now();
        let mut s = Serve::start(bin).await;
        s.initialize().await;
        starts.push(t.elapsed());
        let listed = s.request("tools/list", serde_json::json!({})).await;
        assert!(
            listed.get("result").is_some(),
            "tools/list failed: {listed}"
        );
        ready.push(t.elapsed());
        drop(s);
    }
    starts.sort();
    ready.sort();

    // Added latency: the same GET, directly and through keyward, interleaved.
    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()
        .unwrap();
    let direct_url = format!("{origin}/v1/charges/ch_1");
    let mut s = Serve::start(bin).await;
    s.initialize().await;
    let params = serde_json::json!({"name": "http_request",
        "arguments": {"service": "bench", "method": "GET", "path": "/v1/charges/ch_1"}});
    let (mut direct, mut through) = (Vec::new(), Vec::new());
    for i in 0..(calls + 200) {
        let t = Instant::now();
        let r = client
            .get(&direct_url)
            .header("authorization", "Bearer x")
            .send()
            .await
            .unwrap();
        let _ = r.bytes().await.unwrap();
        let d = t.elapsed();
        let t = Instant::now();
        let r = s.request("tools/call", params.clone()).await;
        let k = t.elapsed();
        assert_eq!(
            r["result"]["isError"],
            serde_json::json!(false),
            "call failed: {r}"
        );
        if i >= 200 {
            direct.push(d);
            through.push(k);
        }
    }
    direct.sort();
    through.sort();
    let rss = s.peak_rss_kib();

    println!(
        "keyward bench ({calls} calls after 200 warm-up, {} cold starts)",
        starts.len()
    );
    println!(
        "cold start to initialize answer: median {:.1} ms, min {:.1} ms",
        us(pct(&starts, 0.5)) / 1000.0,
        us(starts[0]) / 1000.0
    );
    println!(
        "cold start to the first tools/list answer (vault unlocked, gateway ready): median {:.1} ms, min {:.1} ms",
        us(pct(&ready, 0.5)) / 1000.0,
        us(ready[0]) / 1000.0
    );
    for (name, p) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
        let (d, k) = (pct(&direct, p), pct(&through, p));
        println!(
            "{name}: direct {:>7.1} µs   through keyward {:>7.1} µs   added {:>7.1} µs",
            us(d),
            us(k),
            us(k) - us(d)
        );
    }
    if let Some(kib) = rss {
        println!("peak RSS of keyward serve: {:.1} MiB", kib as f64 / 1024.0);
    }
    drop(s);

    let everything = std::env::var("KEYWARD_BENCH_EVERYTHING")
        .unwrap_or_else(|_| "tests/node/node_modules/.bin/mcp-server-everything".into());
    let everything = std::fs::canonicalize(&everything)
        .unwrap_or_else(|_| panic!("{everything} missing: npm ci --prefix tests/node"));
    let everything = everything.to_string_lossy().to_string();
    mcp_bench(bin, home, &everything, calls / 2).await;
}

/// `keyward serve` runs only an approved keyward.toml: approve the one
/// just written (bench/run gives the passphrase in KEYWARD_PASSPHRASE).
fn approve_config(bin: &str) {
    let out = std::process::Command::new(bin)
        .args(["config", "approve"])
        .env("KEYWARD_PASSPHRASE", "bench-passphrase")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run keyward config approve");
    assert!(
        out.status.success(),
        "keyward config approve failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `echo` of server-everything: directly, and through keyward (which runs
/// three such upstreams), from the same client, interleaved.
async fn mcp_bench(bin: &str, home: &str, everything: &str, calls: usize) {
    let mut cfg = String::new();
    for n in 1..=3 {
        cfg.push_str(&format!(
            "[servers.ev{n}]\ncommand = \"{everything}\"\nargs = [\"stdio\"]\n\
             env = {{ BENCH_TOKEN = \"keyward://bench_token\" }}\n[servers.ev{n}.tools]\n\"echo\" = \"allow\"\n"
        ));
    }
    std::fs::write(format!("{home}/keyward.toml"), cfg).unwrap();
    approve_config(bin);
    let mut direct_srv = Serve::spawn(everything, &["stdio"]).await;
    direct_srv.initialize().await;
    let mut kw = Serve::start(bin).await;
    kw.initialize().await;
    let listed = kw.request("tools/list", serde_json::json!({})).await;
    let n_tools = listed["result"]["tools"].as_array().map_or(0, Vec::len);
    let direct_params = serde_json::json!({"name": "echo", "arguments": {"message": "bench"}});
    let kw_params = serde_json::json!({"name": "ev1__echo", "arguments": {"message": "bench"}});
    let (mut direct, mut through) = (Vec::new(), Vec::new());
    for i in 0..(calls + 100) {
        let t = Instant::now();
        let r = direct_srv
            .request("tools/call", direct_params.clone())
            .await;
        let d = t.elapsed();
        assert!(r.get("result").is_some(), "{r}");
        let t = Instant::now();
        let r = kw.request("tools/call", kw_params.clone()).await;
        let k = t.elapsed();
        // Upstream results leave `isError` out when it is false.
        assert!(
            r.get("result").is_some() && r["result"]["isError"] != serde_json::json!(true),
            "call failed: {r}"
        );
        if i >= 100 {
            direct.push(d);
            through.push(k);
        }
    }
    direct.sort();
    through.sort();
    println!(
        "\nMCP upstream: echo of server-everything ({calls} calls, keyward fronting 3 upstreams, {n_tools} tools listed)"
    );
    for (name, p) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)] {
        let (d, k) = (pct(&direct, p), pct(&through, p));
        println!(
            "{name}: direct {:>7.1} µs   through keyward {:>7.1} µs   added {:>7.1} µs",
            us(d),
            us(k),
            us(k) - us(d)
        );
    }
    if let Some((own, children)) = kw.tree_rss_kib() {
        println!(
            "RSS with 3 upstreams: keyward {:.1} MiB, its 3 upstream processes {:.1} MiB",
            own as f64 / 1024.0,
            children as f64 / 1024.0
        );
    }
    if let Some(kib) = kw.peak_rss_kib() {
        println!(
            "peak RSS of keyward serve (3 upstreams): {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
}
