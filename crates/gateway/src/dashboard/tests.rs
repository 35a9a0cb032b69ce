//! The dashboard's routes end to end (without a socket): login, sessions,
//! CSRF, idle expiry, escaping, the buttons, the live stream.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns fail the test the same way

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use futures::StreamExt;
use keyward_audit::AuditLog;
use keyward_config::Config;
use keyward_policy::{GrantScope, Method, PathPattern};
use keyward_vault::{KdfParams, SecretValue, Vault};
use tower::ServiceExt;

use super::{IDLE, Options, router_with_clock};
use crate::Gateway;
use crate::approvals::{Answer, Ask, Asked, Channel, FakeClock};
use crate::servers::PinStore;

const PASSPHRASE: &str = "kw_canary_dashboard_passphrase_3f9a";
const PORT: u16 = 8717;
const COOKIE: &str = "keyward_session_8717";
const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";

struct Fixture {
    dir: tempfile::TempDir,
    gw: Gateway,
    clock: Arc<FakeClock>,
    app: Router,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let vault_path = dir.path().join("vault.kw");
    let pass = SecretValue::from_str(PASSPHRASE);
    let vault = Vault::create(&vault_path, &pass, KdfParams::for_tests()).unwrap();
    let toml = r#"
[services.pay]
base_url = "http://127.0.0.1:9/"

[[services.pay.rules]]
action = "confirm"
methods = ["POST"]
paths = ["/refunds/**"]
"#;
    let config = Config::parse(toml, Path::new("keyward.toml")).unwrap();
    let audit = AuditLog::open(&dir.path().join("audit.jsonl")).unwrap();
    let pins = PinStore::open(
        &dir.path().join("pins.json"),
        vault.sealer(),
        config.servers.keys().cloned(),
    )
    .unwrap();
    let reader = Vault::open_with_key(&vault_path, vault.key()).unwrap();
    let env = std::collections::BTreeMap::from([("PATH".to_string(), "/usr/bin".to_string())]);
    let gw = Gateway::following(config, reader, &env, audit, pins).unwrap();
    let clock = Arc::new(FakeClock::new(
        jiff::Timestamp::from_second(1_800_000_000).unwrap(),
    ));
    let mut options = Options::new(PORT);
    options.lock_marker = Some(dir.path().join("locked"));
    let app = router_with_clock(gw.clone(), options, clock.clone());
    Fixture {
        dir,
        gw,
        clock,
        app,
    }
}

impl Fixture {
    async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.app.clone().oneshot(req).await.unwrap()
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Response<Body> {
        let mut b = Request::get(path);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, format!("{COOKIE}={c}"));
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    async fn post(&self, path: &str, cookie: Option<&str>, form: &str) -> Response<Body> {
        let mut b =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, format!("{COOKIE}={c}"));
        }
        self.send(b.body(Body::from(form.to_string())).unwrap())
            .await
    }

    /// Logs in; returns (session token, CSRF token).
    async fn login(&self) -> (String, String) {
        let resp = self
            .post("/login", None, &format!("passphrase={}", enc(PASSPHRASE)))
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let cookie = set_cookie(&resp).unwrap();
        let token = cookie
            .split(';')
            .next()
            .unwrap()
            .strip_prefix(&format!("{COOKIE}="))
            .unwrap()
            .to_string();
        let page = body(self.get("/", Some(&token)).await).await;
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        (token, csrf)
    }

    fn ask(&self, reason: &str) -> Asked {
        self.gw
            .approvals()
            .ask(Ask {
                agent: "claude".into(),
                session: "s1".into(),
                kind: "http",
                target: "pay: POST /refunds/42".into(),
                rule: Some("confirm POST /refunds/**".into()),
                preview: Some("amount=5".into()),
                reason: Some(reason.into()),
                scope: GrantScope::Http {
                    service: "pay".into(),
                    methods: Some(vec![Method::parse("POST").unwrap()]),
                    paths: vec![PathPattern::parse("/refunds/**").unwrap()],
                },
                digest: "d".into(),
                grant_on_once: None,
            })
            .unwrap()
    }

    fn audit(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("audit.jsonl")).unwrap_or_default()
    }

    fn marker(&self) -> PathBuf {
        self.dir.path().join("locked")
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn set_cookie(resp: &Response<Body>) -> Option<String> {
    resp.headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_string())
}

fn location(resp: &Response<Body>) -> String {
    resp.headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn body(resp: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn everything_but_the_login_page_needs_a_session() {
    let f = fixture();
    let q = f.ask("refund");
    let id = &q.question.id;
    let page = f.get("/", None).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&page), "/login");
    assert_eq!(
        f.get("/events", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        f.get("/events", Some("made-up-token")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    for (path, form) in [
        ("/answer", format!("id={id}&answer=once&csrf=x")),
        ("/lock", "csrf=x".to_string()),
        ("/revoke", "all=1&csrf=x".to_string()),
        ("/unlock", format!("passphrase={}&csrf=x", enc(PASSPHRASE))),
        ("/logout", "csrf=x".to_string()),
    ] {
        let resp = f.post(path, Some("made-up-token"), &form).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
        let resp = f.post(path, None, &form).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    assert_eq!(f.gw.approvals().pending().len(), 1, "nothing was answered");
    assert!(!f.gw.approvals().is_locked());
    // The login page and its assets are open.
    let login = f.get("/login", None).await;
    assert_eq!(login.status(), StatusCode::OK);
    assert!(body(login).await.contains("type=\"password\""));
    assert_eq!(
        f.get("/assets/dashboard.js", None).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_wrong_passphrase_gets_a_generic_refusal_no_session_and_an_audit_record() {
    let f = fixture();
    for form in ["passphrase=wrong+horse", "passphrase=", "other=1"] {
        let resp = f.post("/login", None, form).await;
        assert!(
            matches!(
                resp.status(),
                StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST
            ),
            "{form}: {}",
            resp.status()
        );
        assert!(set_cookie(&resp).is_none(), "{form}");
        let text = body(resp).await;
        assert!(
            text.contains("Wrong passphrase.") || text.contains("Type the vault passphrase."),
            "{text}"
        );
        assert!(!text.contains("horse"), "the input is not reflected");
    }
    let audit = f.audit();
    assert_eq!(audit.matches("\"login_failed\"").count(), 1, "{audit}");
    assert!(!audit.contains("wrong horse") && !audit.contains(PASSPHRASE));
}

#[tokio::test]
async fn dashboard_login_backs_off_wrong_guesses_with_429_without_checking() {
    let f = fixture();
    let right = format!("passphrase={}", enc(PASSPHRASE));
    for _ in 0..2 {
        let resp = f.post("/login", None, "passphrase=guess").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    // Too soon after the second wrong one: refused at once, even the right
    // passphrase (it is not checked), with how long to wait.
    let resp = f.post("/login", None, &right).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()[header::RETRY_AFTER], "2");
    assert!(set_cookie(&resp).is_none());
    assert!(body(resp).await.contains("Too many wrong passphrases"));
    let audit = f.audit();
    assert_eq!(audit.matches("\"login_failed\"").count(), 2, "{audit}");
    assert!(!audit.contains("\"login\""), "{audit}");
    // After the wait, the right passphrase logs in and the record is cleared.
    f.clock.advance(Duration::from_secs(2));
    let resp = f.post("/login", None, &right).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp = f.post("/login", None, "passphrase=guess").await;
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "a first wrong one again"
    );
    assert_eq!(
        f.post("/login", None, &right).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_dashboard_checks_passphrases_on_a_queue_of_its_own() {
    let f = fixture();
    // The terminal's queue is busy (`keyward approve` being checked, or a
    // wrong one pausing): the dashboard login is not held up by it, and
    // so, the other way round, its guesses do not hold up the terminal.
    let _terminal_busy = f.gw.passphrase().unwrap().hold_turn().await;
    let form = format!("passphrase={}", enc(PASSPHRASE));
    let login = f.post("/login", None, &form);
    let resp = tokio::time::timeout(Duration::from_secs(10), login)
        .await
        .expect("the dashboard waited for the terminal's queue");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_same_site_strict_and_long() {
    let f = fixture();
    let resp = f
        .post("/login", None, &format!("passphrase={}", enc(PASSPHRASE)))
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/");
    let cookie = set_cookie(&resp).unwrap();
    let mut parts = cookie.split("; ");
    let (name, token) = parts.next().unwrap().split_once('=').unwrap();
    assert_eq!(name, COOKIE);
    assert!(token.len() >= 43, "32 random bytes at least: {token}");
    let flags: Vec<&str> = parts.collect();
    assert_eq!(flags, ["HttpOnly", "SameSite=Strict", "Path=/"]);
    assert!(f.audit().contains("\"login\""));
    assert!(
        !f.audit().contains(token),
        "the session token is not recorded"
    );

    // Every response has the security headers.
    let page = f.get("/", Some(token)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let h = page.headers();
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(h[header::CACHE_CONTROL], "no-store");
    let html = body(page).await;
    assert!(
        !html.contains(token),
        "the session token is not in the page"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing external"
    );
    assert!(
        !html.contains("<style") && !html.contains("style=") && !html.contains("<script>"),
        "nothing inline (the CSP would refuse it)"
    );

    // Logout ends the session and clears the cookie.
    let (token, csrf) = f.login().await;
    let out = f
        .post("/logout", Some(&token), &format!("csrf={csrf}"))
        .await;
    assert_eq!(location(&out), "/login");
    assert!(set_cookie(&out).unwrap().contains("Max-Age=0"));
    assert_eq!(location(&f.get("/", Some(&token)).await), "/login");
}

#[tokio::test]
async fn a_missing_or_wrong_csrf_token_is_403_and_changes_nothing() {
    let f = fixture();
    let (token, csrf) = f.login().await;
    let (_, other_csrf) = f.login().await;
    let q = f.ask("refund");
    let id = q.question.id.clone();
    for form in [
        format!("id={id}&answer=once"),
        format!("id={id}&answer=once&csrf="),
        format!("id={id}&answer=once&csrf={}", &csrf[1..]),
        format!("id={id}&answer=once&csrf={other_csrf}"),
    ] {
        let resp = f.post("/answer", Some(&token), &form).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{form}");
    }
    for path in ["/lock", "/revoke", "/logout", "/unlock"] {
        let resp = f.post(path, Some(&token), "all=1").await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(f.gw.approvals().pending().len(), 1);
    assert!(!f.gw.approvals().is_locked());

    // The right token, in the form or in the header, is taken.
    let resp = f
        .post(
            "/answer",
            Some(&token),
            &format!("id={id}&answer=5m&csrf={csrf}"),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/?m=answered");
    assert!(f.gw.approvals().pending().is_empty());
    let audit = f.audit();
    assert!(
        audit.contains("\"allow for 5m (grant ") && audit.contains("\"channel\":\"dashboard\""),
        "{audit}"
    );
    let grants = f.gw.approvals().grants();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].created_by, "human via dashboard");
    let req = Request::post("/revoke")
        .header(header::COOKIE, format!("{COOKIE}={token}"))
        .header("x-csrf-token", &csrf)
        .body(Body::empty())
        .unwrap();
    let resp = f.send(req).await;
    assert_eq!(location(&resp), "/?m=no-grant", "no id, not all");
    let req = Request::post("/revoke")
        .header(header::COOKIE, format!("{COOKIE}={token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-csrf-token", &csrf)
        .body(Body::from(format!("id={}", grants[0].id)))
        .unwrap();
    assert_eq!(location(&f.send(req).await), "/?m=revoked");
    assert!(f.gw.approvals().grants().is_empty());
}

#[tokio::test]
async fn an_idle_session_expires_and_activity_keeps_it() {
    let f = fixture();
    let (token, csrf) = f.login().await;
    f.clock.advance(IDLE - Duration::from_secs(1));
    assert_eq!(f.get("/", Some(&token)).await.status(), StatusCode::OK);
    f.clock.advance(IDLE - Duration::from_secs(1));
    // The live stream does not count as activity.
    assert_eq!(
        f.get("/events", Some(&token)).await.status(),
        StatusCode::OK
    );
    f.clock.advance(Duration::from_secs(1));
    assert_eq!(
        f.get("/events", Some(&token)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(location(&f.get("/", Some(&token)).await), "/login");
    let resp = f.post("/lock", Some(&token), &format!("csrf={csrf}")).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(!f.gw.approvals().is_locked());
}

#[tokio::test]
async fn agent_controlled_text_is_escaped_on_the_page() {
    let f = fixture();
    let (token, _) = f.login().await;
    let _q = f.ask(HOSTILE);
    let html = body(f.get("/", Some(&token)).await).await;
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x"));
}

#[tokio::test]
async fn every_button_answers_and_the_lock_needs_the_passphrase_to_lift() {
    let f = fixture();
    let (token, csrf) = f.login().await;
    for (button, answer) in [
        ("deny", Answer::Deny),
        ("once", Answer::Once),
        ("5m", Answer::For(Duration::from_secs(300))),
        ("1h", Answer::For(Duration::from_secs(3600))),
        ("session", Answer::Session),
    ] {
        let mut q = f.ask("refund");
        let id = q.question.id.clone();
        let form = format!("id={id}&answer={button}&csrf={csrf}");
        assert_eq!(
            location(&f.post("/answer", Some(&token), &form).await),
            "/?m=answered"
        );
        let r = q.settled().await;
        assert_eq!((r.answer, r.channel), (answer, Channel::Dashboard));
        // A second answer finds it gone.
        assert_eq!(
            location(&f.post("/answer", Some(&token), &form).await),
            "/?m=gone"
        );
    }
    let q = f.ask("refund");
    let form = format!("id={}&answer=forever&csrf={csrf}", q.question.id);
    assert_eq!(
        location(&f.post("/answer", Some(&token), &form).await),
        "/?m=bad-answer"
    );
    assert_eq!(f.gw.approvals().pending().len(), 1);

    // Lock denies what waits and is kept in the marker.
    let mut q = q;
    let resp = f.post("/lock", Some(&token), &format!("csrf={csrf}")).await;
    assert_eq!(location(&resp), "/?m=locked");
    assert!(f.gw.approvals().is_locked());
    assert_eq!(q.settled().await.channel, Channel::Lock);
    assert!(f.marker().exists());
    let html = body(f.get("/", Some(&token)).await).await;
    assert!(html.contains("action=\"/unlock\""));

    let wrong = format!("passphrase=nope&csrf={csrf}");
    let resp = f.post("/unlock", Some(&token), &wrong).await;
    assert_eq!(location(&resp), "/?m=wrong-passphrase");
    let resp = f
        .post("/unlock", Some(&token), &format!("csrf={csrf}"))
        .await;
    assert_eq!(location(&resp), "/?m=wrong-passphrase", "no passphrase");
    assert!(f.gw.approvals().is_locked() && f.marker().exists());
    let right = format!("passphrase={}&csrf={csrf}", enc(PASSPHRASE));
    let resp = f.post("/unlock", Some(&token), &right).await;
    assert_eq!(location(&resp), "/?m=unlocked");
    assert!(!f.gw.approvals().is_locked() && !f.marker().exists());
    let audit = f.audit();
    assert!(audit.contains("\"wrong_passphrase\"") && audit.contains("\"unlock\""));
    assert!(!audit.contains(PASSPHRASE));
}

type Frames = axum::body::BodyDataStream;

async fn next_event(frames: &mut Frames) -> String {
    let chunk = tokio::time::timeout(Duration::from_secs(10), frames.next())
        .await
        .expect("an event in time")
        .expect("the stream goes on")
        .unwrap();
    String::from_utf8(chunk.to_vec()).unwrap()
}

#[tokio::test]
async fn the_live_stream_sends_a_new_question_without_a_reload() {
    let f = fixture();
    let (token, _) = f.login().await;
    let resp = f.get("/events", Some(&token)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut frames = resp.into_body().into_data_stream();
    let first = next_event(&mut frames).await;
    assert!(first.starts_with("event: state\n"), "{first}");
    assert!(first.contains("No call is waiting"));
    let _q = f.ask(HOSTILE);
    let second = next_event(&mut frames).await;
    assert!(second.contains("wants <span class=\"target\">pay: POST /refunds/42"));
    assert!(!second.contains("<script>alert"));

    // A page that shows the current state already is sent only what comes
    // after it.
    let page = body(f.get("/", Some(&token)).await).await;
    let hash = page
        .split("data-hash=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let resp = f.get(&format!("/events?h={hash}"), Some(&token)).await;
    let mut frames = resp.into_body().into_data_stream();
    let _q2 = f.ask("a second refund");
    let first = next_event(&mut frames).await;
    assert!(first.contains("a second refund"), "{first}");
}
