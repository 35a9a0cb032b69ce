//! Key files and the OS keychain.
//!
//! The real Secret Service test runs only with `KEYWARD_TEST_SECRET_SERVICE=1`,
//! inside an isolated session bus with gnome-keyring (needs the apt packages
//! `gnome-keyring` and `dbus`; `secret-tool` from `libsecret-tools` adds a
//! cross-check when present):
//!
//! ```sh
//! tmp=$(mktemp -d); mkdir -m 700 $tmp/run $tmp/share
//! env XDG_DATA_HOME=$tmp/share XDG_RUNTIME_DIR=$tmp/run KEYWARD_TEST_SECRET_SERVICE=1 \
//!   dbus-run-session -- sh -c 'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
//!   cargo test -p keyward-vault --test keystore'
//! ```

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns fail the test the same way

mod common;

use std::process::Command;

use common::*;
use keyward_vault::{
    KeyStoreError, ResolveError, Resolver, SecretRef, Vault, VaultError, VaultKey, key_file_read,
    key_file_write, keychain_delete, keychain_load, keychain_store,
};

#[test]
fn key_file_round_trip_is_private_and_never_overwritten() {
    let (dir, path) = temp_vault_path();
    let v = new_vault(&path);
    let kf = dir.path().join("vault.key");
    key_file_write(&kf, v.key()).unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&kf), 0o600);
    let key = key_file_read(&kf).unwrap();
    assert_eq!(&key, v.key());
    Vault::open_with_key(&path, &key).unwrap();

    let before = std::fs::read(&kf).unwrap();
    let err = key_file_write(&kf, &VaultKey::generate()).unwrap_err();
    assert!(matches!(err, VaultError::AlreadyExists { .. }), "{err}");
    assert_eq!(std::fs::read(&kf).unwrap(), before);

    // Another vault's key is refused by the key check.
    let other = dir.path().join("other.key");
    key_file_write(&other, &VaultKey::generate()).unwrap();
    let err = Vault::open_with_key(&path, &key_file_read(&other).unwrap()).unwrap_err();
    assert!(matches!(err, VaultError::WrongKey), "{err}");
}

#[cfg(unix)]
#[test]
fn key_file_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let kf = dir.path().join("k");
    key_file_write(&kf, &VaultKey::generate()).unwrap();
    for bad in [0o644, 0o640, 0o604, 0o660, 0o602] {
        std::fs::set_permissions(&kf, std::fs::Permissions::from_mode(bad)).unwrap();
        let err = key_file_read(&kf).unwrap_err();
        assert!(
            matches!(err, VaultError::InsecureKeyFile { mode, .. } if mode == bad),
            "{bad:o}: {err}"
        );
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }
    for good in [0o600, 0o400] {
        std::fs::set_permissions(&kf, std::fs::Permissions::from_mode(good)).unwrap();
        key_file_read(&kf).unwrap();
    }
}

#[test]
fn bad_key_files() {
    let dir = tempfile::tempdir().unwrap();
    let kf = dir.path().join("k");
    let err = key_file_read(&kf).unwrap_err();
    assert!(matches!(err, VaultError::NotFound { .. }), "{err}");
    for content in [&b"not a key"[..], b"", b"\xff\xfe", &[b'k'; 10_000]] {
        let _ = std::fs::remove_file(&kf);
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&kf).unwrap();
            f.write_all(content).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&kf, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let err = key_file_read(&kf).unwrap_err();
        assert!(matches!(err, VaultError::InvalidKey { .. }), "{err}");
    }
}

const CHILD_FLAG: &str = "KEYWARD_TEST_NO_BUS_CHILD";
const CHILD_DONE: &str = "no-bus child: all checks passed";

/// Without a reachable session bus, `keychain_load` is a clean `Ok(None)`.
/// The keyring crate picks its store once per process, so this runs in a
/// child process (this test binary, filtered to `no_bus_child`) whose bus
/// address points nowhere.
#[test]
fn keychain_without_session_bus_is_a_clean_fallback() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "no_bus_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_FLAG, "1")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/keyward-test-bus",
        )
        .env("XDG_RUNTIME_DIR", "/nonexistent/keyward-test-run")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(CHILD_DONE),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The child half of the test above; does nothing unless spawned by it.
#[test]
fn no_bus_child() {
    if std::env::var(CHILD_FLAG).as_deref() != Ok("1") {
        return;
    }
    let id = "0123456789abcdef0123456789abcdef";
    assert!(matches!(keychain_load(id), Ok(None)));
    assert!(matches!(
        keychain_store(id, &VaultKey::generate()),
        Err(KeyStoreError::NoStore)
    ));
    assert!(matches!(keychain_delete(id), Err(KeyStoreError::NoStore)));
    let r = Resolver::new(None, &());
    let e = r
        .resolve(&SecretRef::parse("keychain://svc/acct").unwrap())
        .unwrap_err();
    assert!(
        matches!(
            e,
            ResolveError::KeyStore {
                source: KeyStoreError::NoStore,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("keychain://svc/acct"), "{e}");
    println!("{CHILD_DONE}");
}

/// Store, load, resolve, delete against a real Secret Service.
#[test]
fn keychain_secret_service_round_trip() {
    if std::env::var("KEYWARD_TEST_SECRET_SERVICE").as_deref() != Ok("1") {
        eprintln!("skipped: set KEYWARD_TEST_SECRET_SERVICE=1 inside a gnome-keyring session");
        return;
    }
    let (_dir, path) = temp_vault_path();
    let v = new_vault(&path);
    let id = v.id();
    assert!(matches!(keychain_load(id), Ok(None)), "nothing stored yet");
    keychain_store(id, v.key()).unwrap();
    let loaded = keychain_load(id).unwrap().expect("stored key");
    assert_eq!(&loaded, v.key());
    Vault::open_with_key(&path, &loaded).unwrap();

    // Other tools find it under the documented attributes.
    let account = format!("vault-key-{id}");
    match Command::new("secret-tool")
        .args(["lookup", "service", "keyward", "username", &account])
        .output()
    {
        Ok(out) => assert_eq!(
            out.stdout,
            v.key().to_encoded().as_bytes(),
            "secret-tool lookup"
        ),
        Err(e) => eprintln!("secret-tool not runnable ({e}); skipping that cross-check"),
    }

    // Storing again replaces (no duplicate entries → no `Ambiguous`).
    keychain_store(id, v.key()).unwrap();
    assert_eq!(&keychain_load(id).unwrap().unwrap(), v.key());

    // The same entry through a keychain:// reference.
    let r = Resolver::new(None, &());
    let reference = SecretRef::parse(&format!("keychain://keyward/vault-key-{id}")).unwrap();
    assert_eq!(
        r.resolve(&reference).unwrap().expose(),
        v.key().to_encoded().as_bytes()
    );

    keychain_delete(id).unwrap();
    assert!(matches!(keychain_load(id), Ok(None)));
    keychain_delete(id).unwrap();
    let e = r.resolve(&reference).unwrap_err();
    assert!(matches!(e, ResolveError::NotFound { .. }), "{e}");
    eprintln!("secret service round trip: ok");
}
