//! The invariants of the one pipeline (`pipeline::run`), driven in
//! process against a real HTTP upstream on a loopback socket: what a call
//! records, what reaches the upstream, the rate budgets, grants, and the
//! 401 refetch.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns fail the test the same way

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyward_audit::AuditLog;
use keyward_config::Config;
use keyward_gateway::Gateway;
use keyward_gateway::approvals::{Answer, Ask, Channel};
use keyward_gateway::pipeline::kind::http::Http;
use keyward_gateway::pipeline::session::{Asker, Session};
use keyward_gateway::pipeline::{Call, Stop, approval, policy, run};
use keyward_gateway::servers::PinStore;
use keyward_policy::{GrantScope, Method, NormalizedPath, PathPattern, Rules, Target};
use keyward_redact::REDACTED;
use keyward_vault::{KdfParams, SecretValue, Vault};
use serde_json::{Map, Value, json};

const OLD: &str = "kw_canary_pipeline_old_5e1b7c";
const NEW: &str = "kw_canary_pipeline_new_9d3f2a";

/// One request the upstream saw: method, path, `Authorization`.
type Seen = (String, String, String);

/// A loopback HTTP/1.1 upstream. It answers 401 unless the request
/// carries `Bearer {expected}`, and echoes the `Authorization` it got in
/// every body (an upstream that prints the credential back).
struct Upstream {
    origin: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    expected: Arc<Mutex<String>>,
}

impl Upstream {
    fn start(expected: &str) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}/", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let expected = Arc::new(Mutex::new(expected.to_string()));
        let (s, e) = (seen.clone(), expected.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (s, e) = (s.clone(), e.clone());
                std::thread::spawn(move || answer(conn, &s, &e));
            }
        });
        Upstream {
            origin,
            seen,
            expected,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn paths(&self) -> Vec<String> {
        self.seen().into_iter().map(|(_, p, _)| p).collect()
    }
}

fn answer(conn: std::net::TcpStream, seen: &Mutex<Vec<Seen>>, expected: &Mutex<String>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let (mut auth, mut length) = (String::new(), 0usize);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        let (name, value) = h.split_once(':').unwrap_or((&h, ""));
        let value = value.trim().to_string();
        match name.to_ascii_lowercase().as_str() {
            "authorization" => auth = value,
            "content-length" => length = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    seen.lock()
        .unwrap()
        .push((method, path.clone(), auth.clone()));
    let ok = auth == format!("Bearer {}", expected.lock().unwrap());
    let (status, text) = if ok {
        (200, "OK")
    } else {
        (401, "Unauthorized")
    };
    let body = format!("{{\"path\":\"{path}\",\"you sent\":\"{auth}\"}}");
    let mut conn = conn;
    let _ = write!(
        conn,
        "HTTP/1.1 {status} {text}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.flush();
}

struct Fixture {
    dir: tempfile::TempDir,
    secret_file: PathBuf,
    gw: Gateway,
    session: Session,
}

fn fixture(upstream: &Upstream) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let vault_path = dir.path().join("vault.kw");
    let pass = SecretValue::from_str("test passphrase");
    let vault = Vault::create(&vault_path, &pass, KdfParams::for_tests()).unwrap();
    let secret_file = dir.path().join("token");
    std::fs::write(&secret_file, format!("{OLD}\n")).unwrap();
    let toml = format!(
        r#"
[approvals]
timeout = "3s"
notify = false

[services.svc]
base_url = "{origin}"
auth = {{ type = "bearer", secret = "file://{secret}" }}

[[services.svc.rules]]
action = "allow"
methods = ["GET"]
paths = ["/ok/**"]

[[services.svc.rules]]
action = "allow"
methods = ["GET"]
paths = ["/limited/**"]
rate = "1/minute"

[[services.svc.rules]]
action = "deny"
methods = ["GET"]
paths = ["/limited/secret"]

[[services.svc.rules]]
action = "confirm"
methods = ["POST"]
paths = ["/held/**"]

[[services.svc.rules]]
action = "deny"
methods = ["POST"]
paths = ["/held/never"]
"#,
        origin = upstream.origin,
        secret = secret_file.display(),
    );
    let config = Config::parse(&toml, Path::new("keyward.toml")).unwrap();
    let audit = AuditLog::open(&dir.path().join("audit.jsonl")).unwrap();
    let pins = PinStore::open(
        &dir.path().join("pins.json"),
        vault.sealer(),
        config.servers.keys().cloned(),
    )
    .unwrap();
    let reader = Vault::open_with_key(&vault_path, vault.key()).unwrap();
    let env = std::collections::BTreeMap::from([("PATH".to_string(), "/usr/bin:/bin".to_string())]);
    let gw = Gateway::following(config, reader, &env, audit, pins).unwrap();
    let session = Session {
        agent: "tester".into(),
        id: "session-1".into(),
        asker: Asker::Nobody,
        client: None,
    };
    Fixture {
        dir,
        secret_file,
        gw,
        session,
    }
}

impl Fixture {
    fn call(&self, method: &str, path: &str) -> Call {
        let args = json!({ "service": "svc", "method": method, "path": path });
        let Value::Object(args) = args else {
            unreachable!()
        };
        Call::new(&self.session, "http_request", Some(args))
    }

    /// The call records (questions and answers left out).
    fn records(&self) -> Vec<Map<String, Value>> {
        let text = std::fs::read_to_string(self.dir.path().join("audit.jsonl")).unwrap();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| match serde_json::from_str::<Value>(l).unwrap() {
                Value::Object(m) => m,
                other => panic!("not a record: {other}"),
            })
            .filter(|r| r.get("kind").and_then(Value::as_str) != Some("approval"))
            .collect()
    }

    /// A grant, made as a human's "for this session" answer makes one.
    fn grant(&self, paths: &str) -> String {
        let ask = Ask {
            agent: self.session.agent.clone(),
            session: self.session.id.clone(),
            kind: "http",
            target: format!("svc: POST {paths}"),
            rule: None,
            preview: None,
            reason: None,
            scope: GrantScope::Http {
                service: "svc".into(),
                methods: Some(vec![Method::parse("POST").unwrap()]),
                paths: vec![PathPattern::parse(paths).unwrap()],
            },
            digest: "d".into(),
            grant_on_once: None,
        };
        let approvals = self.gw.approvals();
        let asked = approvals.ask(ask).unwrap();
        let (_, r) = approvals
            .answer(&asked.question.id, Answer::Session, Channel::Cli)
            .unwrap();
        r.grant.unwrap()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn field<'a>(r: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    r.get(name).and_then(Value::as_str)
}

/// An allowed call, a denied one and a rate-limited one: one record each,
/// the decision and the rule that decided named, an error for the two
/// refused; a denied call never reaches the upstream and never draws on
/// the budget of the allow rule it also matches.
#[test]
fn a_denied_call_never_reaches_the_upstream_nor_spends_a_rate_budget() {
    let up = Upstream::start(OLD);
    let f = fixture(&up);
    let rt = runtime();
    let st = f.gw.stages();
    // Matches the rate-limited allow and the deny: denied.
    let denied = rt.block_on(run::<Http>(st, &f.call("GET", "/limited/secret")));
    // The budget (1 a minute) is untouched: this one goes through...
    let allowed = rt.block_on(run::<Http>(st, &f.call("GET", "/limited/a")));
    // ...and spends it.
    let limited = rt.block_on(run::<Http>(st, &f.call("GET", "/limited/b")));

    let denied = denied.expect_err("denied");
    assert!(denied.text.starts_with("denied"), "{}", denied.text);
    assert!(allowed.is_ok(), "{:?}", allowed.err());
    let limited = limited.expect_err("rate limited");
    assert!(
        limited.text.starts_with("rate limited:"),
        "{}",
        limited.text
    );
    assert_eq!(up.paths(), ["/limited/a"], "only the allowed call was sent");

    let records = f.records();
    let decisions: Vec<_> = records
        .iter()
        .map(|r| (field(r, "decision"), field(r, "path")))
        .collect();
    assert_eq!(
        decisions,
        [
            (Some("deny"), Some("/limited/secret")),
            (Some("allow"), Some("/limited/a")),
            (Some("rate_limited"), Some("/limited/b")),
        ],
        "one record per call"
    );
    for r in &records {
        assert_eq!(field(r, "kind"), Some("http"));
        assert_eq!(field(r, "agent"), Some("tester"));
        assert_eq!(field(r, "target"), Some("svc"));
        assert_eq!(field(r, "method"), Some("GET"));
        assert!(field(r, "rule").is_some(), "the deciding rule: {r:?}");
        assert!(r.get("run").is_none(), "not a workflow step: {r:?}");
        let refused = field(r, "decision") != Some("allow");
        assert_eq!(r.contains_key("error"), refused, "{r:?}");
        assert_eq!(r.contains_key("status"), !refused, "{r:?}");
    }
    assert_eq!(field(&records[0], "rule"), field(&records[0], "rule"));
    assert!(
        field(&records[0], "rule").unwrap().contains("deny"),
        "{:?}",
        records[0]
    );
}

/// The credential was rotated at its source; the upstream refuses the old
/// one, keyward refetches it and retries, and the upstream echoes the NEW
/// value back: the answer must be scrubbed with the scrubber that knows
/// it (loaded after the refetch), not the one the call began with.
#[test]
fn a_401_retried_with_a_rotated_secret_is_scrubbed_of_the_new_value() {
    let up = Upstream::start(OLD);
    let f = fixture(&up);
    let rt = runtime();
    // Rotated behind keyward's back: `file://` is read again only after
    // the cache TTL, or after a 401.
    std::fs::write(&f.secret_file, format!("{NEW}\n")).unwrap();
    *up.expected.lock().unwrap() = NEW.to_string();

    let answer = rt
        .block_on(run::<Http>(f.gw.stages(), &f.call("GET", "/ok/echo")))
        .expect("retried with the new value");
    let auths: Vec<_> = up.seen().into_iter().map(|(_, _, a)| a).collect();
    assert_eq!(auths, [format!("Bearer {OLD}"), format!("Bearer {NEW}")]);
    assert!(!answer.is_error, "{}", answer.text);
    assert!(answer.text.contains("HTTP 200"), "{}", answer.text);
    assert!(!answer.text.contains(NEW), "{}", answer.text);
    assert!(answer.text.contains(REDACTED), "{}", answer.text);
    let structured = answer.structured.unwrap().to_string();
    assert!(!structured.contains(NEW) && !structured.contains(OLD));

    let records = f.records();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(field(&records[0], "refetch"), Some("changed"));
    assert_eq!(records[0].get("status"), Some(&json!(200)));
    assert!(records[0].get("redactions").and_then(Value::as_u64) >= Some(1));
    let log = std::fs::read_to_string(f.dir.path().join("audit.jsonl")).unwrap();
    assert!(!log.contains(NEW) && !log.contains(OLD));
}

/// A grant answers a `confirm` (no question is asked, the record names
/// the grant), never a `deny` it also covers.
#[test]
fn a_grant_answers_a_confirm_but_never_a_deny() {
    let up = Upstream::start(OLD);
    let f = fixture(&up);
    let rt = runtime();
    let st = f.gw.stages();
    let id = f.grant("/held/**");

    let held = rt.block_on(run::<Http>(st, &f.call("POST", "/held/1")));
    assert!(held.is_ok(), "{:?}", held.err());
    let never = rt.block_on(run::<Http>(st, &f.call("POST", "/held/never")));
    let never = never.expect_err("denied");
    assert!(never.text.starts_with("denied"), "{}", never.text);

    assert_eq!(up.paths(), ["/held/1"]);
    assert!(f.gw.approvals().pending().is_empty(), "nobody was asked");
    let records = f.records();
    let grant_channel = format!("grant {id}");
    assert_eq!(
        records
            .iter()
            .map(|r| (field(r, "decision"), field(r, "channel")))
            .collect::<Vec<_>>(),
        [
            (Some("allow"), Some(grant_channel.as_str())),
            (Some("deny"), None)
        ]
    );
}

/// The policy stage found a grant; before the approval stage used it, the
/// human revoked it (a tool call's pin check, which comes between the two,
/// may start a server and take seconds). The revoked grant must not answer
/// for the human: the call is asked about instead.
#[test]
fn a_grant_revoked_after_the_decision_does_not_answer_for_the_human() {
    let up = Upstream::start(OLD);
    let f = fixture(&up);
    let rt = runtime();
    let st = f.gw.stages();
    let id = f.grant("/held/**");
    let call = f.call("POST", "/held/2");
    let method = Method::parse("POST").unwrap();
    let path = NormalizedPath::parse("/held/2").unwrap();
    let target = Target::Http {
        service: "svc",
        method: &method,
        path: &path,
    };
    let rules = &f.gw.services()["svc"].service.rules;
    let verdict = policy::decide(st, &f.session, Rules::Http(rules), &target);
    assert_eq!(verdict.grant.as_deref(), Some(id.as_str()));
    assert!(f.gw.approvals().revoke(&id));

    let ask = Ask {
        agent: f.session.agent.clone(),
        session: f.session.id.clone(),
        kind: "http",
        target: "svc: POST /held/2".into(),
        rule: None,
        preview: None,
        reason: None,
        scope: GrantScope::Http {
            service: "svc".into(),
            methods: None,
            paths: vec![PathPattern::parse("/held/2").unwrap()],
        },
        digest: "e".into(),
        grant_on_once: None,
    };
    let approvals = f.gw.approvals().clone();
    let desk = f.gw.desk().clone();
    let denier = rt.spawn(async move {
        for _ in 0..200 {
            if let Some(q) = approvals.pending().first() {
                let _ = approval::settle(&desk, &q.id, Answer::Deny, Channel::Cli);
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    });
    let mut rec = keyward_audit::Event::default();
    let confirmed = rt.block_on(approval::confirm(
        st,
        &call,
        Some(target),
        verdict.grant,
        ask,
        &mut rec,
    ));
    match confirmed {
        Err(Stop::Refused { message, .. }) => {
            assert!(message.contains("declined"), "{message}")
        }
        Ok(a) => panic!("let through by {}", a.channel),
        Err(other) => panic!("{other:?}"),
    }
    assert!(rt.block_on(denier).unwrap(), "the human was asked");
}
