//! Live secrets end to end inside the gateway: a vault rewritten behind
//! its back, a `file://` secret that disappears, a forced refetch.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns fail the test the same way

use std::path::Path;
use std::time::Duration;

use keyward_audit::AuditLog;
use keyward_config::Config;
use keyward_connectors::http::Credential;
use keyward_gateway::Gateway;
use keyward_gateway::pipeline::inject::{self, FORCE_EVERY, Refetch};
use keyward_gateway::servers::PinStore;
use keyward_redact::REDACTED;
use keyward_vault::{KdfParams, SecretValue, Vault};

const OLD: &str = "kw_canary_live_old_4f1c9a";
const NEW: &str = "kw_canary_live_new_8b2d7e";
const FILE_OLD: &str = "kw_canary_file_old_13579b";
const FILE_NEW: &str = "kw_canary_file_new_2468ac";
const WAIT: Duration = Duration::from_secs(5);

struct Fixture {
    _dir: tempfile::TempDir,
    vault: Vault,
    secret_file: std::path::PathBuf,
    gw: Gateway,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let vault_path = dir.path().join("vault.kw");
    let pass = SecretValue::from_str("test passphrase");
    let mut vault = Vault::create(&vault_path, &pass, KdfParams::for_tests()).unwrap();
    vault
        .update(|e| e.set("tok", SecretValue::from_str(OLD)))
        .unwrap();
    let secret_file = dir.path().join("file-secret");
    std::fs::write(&secret_file, format!("{FILE_OLD}\n")).unwrap();
    let toml = format!(
        r#"
[services.svc]
base_url = "http://127.0.0.1:9/"
auth = {{ type = "bearer", secret = "keyward://tok" }}

[services.filed]
base_url = "http://127.0.0.1:9/"
auth = {{ type = "header", name = "X-Key", secret = "file://{}" }}

[commands.show]
program = "env"
args = [""]
env = {{ TOKEN = "keyward://tok" }}
"#,
        secret_file.display()
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
    Fixture {
        _dir: dir,
        vault,
        secret_file,
        gw,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn credential(gw: &Gateway, service: &str) -> Credential {
    gw.secrets().credential(service).cloned().unwrap()
}

/// The refetch after a 401 from `service`, whose call carried `used`.
async fn refetch(gw: &Gateway, service: &str, used: &Credential) -> Refetch {
    let method = keyward_policy::Method::parse("GET").unwrap();
    let path = keyward_policy::NormalizedPath::parse("/").unwrap();
    let target = keyward_policy::Target::Http {
        service,
        method: &method,
        path: &path,
    };
    let used = inject::Credential::Http(used.clone());
    inject::refetch(gw.stages(), &target, &used, WAIT).await
}

fn scrubs(gw: &Gateway, value: &str) -> bool {
    gw.scrubber().scrub_str(value).0 == REDACTED
}

#[test]
fn a_rewritten_vault_is_followed_and_the_old_value_stays_scrubbed() {
    let mut f = fixture();
    assert_eq!(
        credential(&f.gw, "svc"),
        Credential::Bearer(SecretValue::from_str(OLD))
    );
    f.gw.refresh_now(); // the first check always re-reads: nothing changed
    let g0 = f.gw.secrets().generation();
    assert_eq!(g0, 0, "an unchanged vault makes no new generation");

    f.vault
        .update(|e| e.set("tok", SecretValue::from_str(NEW)))
        .unwrap();
    f.gw.refresh_now();

    let secrets = f.gw.secrets();
    assert!(secrets.generation() > g0);
    assert_eq!(
        credential(&f.gw, "svc"),
        Credential::Bearer(SecretValue::from_str(NEW))
    );
    let env = secrets.command_env("show");
    assert_eq!(
        env[0].1,
        SecretValue::from_str(NEW),
        "commands get the new value too"
    );
    assert!(scrubs(&f.gw, NEW), "the new value is scrubbed");
    assert!(scrubs(&f.gw, OLD), "the previous value is still scrubbed");

    // Nothing changed since: no new generation.
    let g1 = f.gw.secrets().generation();
    f.gw.refresh_now();
    assert_eq!(f.gw.secrets().generation(), g1);
}

#[test]
fn a_vanished_file_secret_keeps_its_last_good_value() {
    let f = fixture();
    std::fs::remove_file(&f.secret_file).unwrap();
    let used = credential(&f.gw, "filed");
    let got = runtime().block_on(refetch(&f.gw, "filed", &used));
    assert_eq!(got, Refetch::Failed);
    assert_eq!(
        credential(&f.gw, "filed"),
        used,
        "the last good value stays"
    );
    assert!(scrubs(&f.gw, FILE_OLD));
}

#[test]
fn a_forced_refetch_sees_a_changed_file_and_an_unchanged_one() {
    let f = fixture();
    let rt = runtime();
    let used = credential(&f.gw, "filed");
    assert_eq!(
        rt.block_on(refetch(&f.gw, "filed", &used)),
        Refetch::Unchanged
    );
    std::fs::write(&f.secret_file, FILE_NEW).unwrap();
    // A second 401 right away does not fetch again...
    assert_eq!(
        rt.block_on(refetch(&f.gw, "filed", &used)),
        Refetch::Skipped
    );
    assert_eq!(credential(&f.gw, "filed"), used);
    std::thread::sleep(FORCE_EVERY);
    // The periodic check does not re-read file:// before the TTL...
    f.gw.refresh_now();
    assert_eq!(credential(&f.gw, "filed"), used);
    // ...a 401 does.
    assert_eq!(
        rt.block_on(refetch(&f.gw, "filed", &used)),
        Refetch::Changed
    );
    assert_eq!(
        credential(&f.gw, "filed"),
        Credential::Header {
            name: "X-Key".into(),
            value: SecretValue::from_str(FILE_NEW)
        }
    );
    assert!(scrubs(&f.gw, FILE_NEW) && scrubs(&f.gw, FILE_OLD));
}

#[test]
fn concurrent_readers_during_rotations_see_whole_credentials() {
    let mut f = fixture();
    f.gw.refresh_now();
    let values: Vec<String> = (0..20)
        .map(|i| format!("kw_canary_gen_{i:04}_abcdef"))
        .collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (gw, stop, values) = (f.gw.clone(), stop.clone(), values.clone());
            std::thread::spawn(move || {
                let mut seen = 0;
                loop {
                    let secrets = gw.secrets();
                    let Some(Credential::Bearer(v)) = secrets.credential("svc") else {
                        panic!("not a bearer credential");
                    };
                    let text = v.expose_str().unwrap().to_string();
                    assert!(text == OLD || values.contains(&text), "unknown value");
                    // One generation: the service and the command that
                    // use the same secret agree.
                    assert_eq!(&secrets.command_env("show")[0].1, v, "torn generation");
                    seen += 1;
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        return seen;
                    }
                }
            })
        })
        .collect();
    for v in &values {
        f.vault
            .update(|e| e.set("tok", SecretValue::from_str(v)))
            .unwrap();
        f.gw.refresh_now();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    assert_eq!(
        credential(&f.gw, "svc"),
        Credential::Bearer(SecretValue::from_str(values.last().unwrap()))
    );
}
