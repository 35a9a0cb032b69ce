//! issue 12, item 9: a wrapped server's `args` may hold secret references.
//! They are resolved where env references are (so a missing one disables
//! only its server, with the reason), the scrubber learns their values,
//! and a rotated value restarts the server as an env value does.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns fail the test the same way

use std::path::Path;
use std::sync::atomic::Ordering;

use keyward_audit::AuditLog;
use keyward_config::Config;
use keyward_gateway::Gateway;
use keyward_gateway::servers::PinStore;
use keyward_redact::REDACTED;
use keyward_vault::{KdfParams, SecretValue, Vault};

const URL_OLD: &str = "postgresql://app:kw_canary_argold_7Qm2Rv@db/app";
const URL_NEW: &str = "postgresql://app:kw_canary_argnew_4Tx9Lp@db/app";
/// In keyward's environment only (`env://`), never in the vault: only the
/// argument's resolution can teach it to the scrubber.
const FROM_ENV: &str = "kw_canary_argenv_8Hc3Wd";

struct Fixture {
    _dir: tempfile::TempDir,
    vault: Vault,
    gw: Gateway,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let vault_path = dir.path().join("vault.kw");
    let pass = SecretValue::from_str("test passphrase");
    let mut vault = Vault::create(&vault_path, &pass, KdfParams::for_tests()).unwrap();
    vault
        .update(|e| e.set("pg.url", SecretValue::from_str(URL_OLD)))
        .unwrap();
    let toml = r#"
[servers.pg]
command = "/bin/true"
args = ["-y", "server-postgres", "keyward://pg.url", "env://API_TOKEN"]

[servers.gone]
command = "/bin/true"
args = ["--url", "keyward://no_such_secret"]

[servers.plain]
command = "/bin/true"
args = ["-y", "server-time"]
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
    let env = std::collections::BTreeMap::from([
        ("PATH".to_string(), "/usr/bin:/bin".to_string()),
        ("API_TOKEN".to_string(), FROM_ENV.to_string()),
    ]);
    let gw = Gateway::following(config, reader, &env, audit, pins).unwrap();
    Fixture {
        _dir: dir,
        vault,
        gw,
    }
}

fn scrubs(gw: &Gateway, value: &str) -> bool {
    gw.scrubber().scrub_str(value).0 == REDACTED
}

#[test]
fn an_argument_reference_that_does_not_resolve_disables_only_its_server() {
    let f = fixture();
    let servers = f.gw.servers();
    assert_eq!(servers["pg"].unavailable, None);
    assert_eq!(servers["plain"].unavailable, None);
    let why = servers["gone"].unavailable.as_deref().unwrap();
    // The reason an env reference gets: the reference, never a value.
    assert!(why.contains("`keyward://no_such_secret`"), "{why}");
}

#[test]
fn argument_values_are_scrubbed() {
    let f = fixture();
    assert!(scrubs(&f.gw, URL_OLD));
    assert!(
        scrubs(&f.gw, FROM_ENV),
        "an env:// argument taught the scrubber its value"
    );
}

#[test]
fn a_rotated_argument_restarts_its_server_and_only_it() {
    let mut f = fixture();
    f.gw.refresh_now(); // the first check always re-reads: nothing changed
    for name in ["pg", "plain"] {
        f.gw.servers()[name].take_stale();
    }
    f.vault
        .update(|e| e.set("pg.url", SecretValue::from_str(URL_NEW)))
        .unwrap();
    f.gw.refresh_now();
    let servers = f.gw.servers();
    assert!(
        servers["pg"].stale.load(Ordering::SeqCst),
        "the server was not replaced"
    );
    assert!(!servers["plain"].stale.load(Ordering::SeqCst));
    assert!(scrubs(&f.gw, URL_NEW) && scrubs(&f.gw, URL_OLD));
}
