//! Creating, opening, updating the vault file; generations; permissions.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns fail the test the same way

mod common;

use common::*;
use keyward_vault::{KdfParams, SecretValue, Vault, VaultError, VaultKey};

#[test]
fn create_update_open_round_trip() {
    let (_dir, path) = temp_vault_path();
    let mut v = new_vault(&path);
    assert_eq!(v.id().len(), 32);
    assert!(v.list().is_empty());
    v.update(|e| {
        e.set("zeta", SecretValue::from_str("z-value"))?;
        e.set("alpha", SecretValue::new(vec![0, 1, 2, 255]))
    })
    .unwrap();

    for opened in [
        Vault::open_with_passphrase(&path, &pass()).unwrap(),
        Vault::open_with_key(&path, v.key()).unwrap(),
    ] {
        assert_eq!(opened.id(), v.id());
        assert_eq!(opened.key(), v.key());
        assert_eq!(opened.get("zeta").unwrap().expose(), b"z-value");
        assert_eq!(opened.get("alpha").unwrap().expose(), &[0, 1, 2, 255]);
        assert!(opened.get("missing").is_none());
        let names: Vec<_> = opened.list().into_iter().map(|i| (i.name, i.len)).collect();
        assert_eq!(names, [("alpha".to_string(), 4), ("zeta".to_string(), 7)]);
        let values: Vec<_> = opened.values().map(|(n, _)| n.to_string()).collect();
        assert_eq!(values, ["alpha", "zeta"]);
    }
    let header = Vault::read_header(&path).unwrap();
    assert_eq!(header.id, v.id());
    assert_eq!(header.version, 1);
    assert_eq!(header.kdf, KdfParams::for_tests());
}

#[test]
fn create_refuses_existing_vault_or_prev() {
    let (_dir, path) = temp_vault_path();
    new_vault(&path);
    let before = std::fs::read(&path).unwrap();
    let err = Vault::create(&path, &pass(), KdfParams::for_tests()).unwrap_err();
    assert!(
        matches!(err, VaultError::AlreadyExists { path: ref p } if p == &path),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // A lone `.prev` (the vault itself lost) must not be clobbered either.
    let (_dir2, path2) = temp_vault_path();
    std::fs::create_dir_all(path2.parent().unwrap()).unwrap();
    std::fs::write(sibling(&path2, ".prev"), &before).unwrap();
    let err = Vault::create(&path2, &pass(), KdfParams::for_tests()).unwrap_err();
    assert!(matches!(err, VaultError::AlreadyExists { .. }), "{err}");
    assert!(!path2.exists());
}

#[test]
fn missing_vault_is_not_found() {
    let (_dir, path) = temp_vault_path();
    for err in [
        Vault::open_with_passphrase(&path, &pass()).unwrap_err(),
        Vault::open_with_key(&path, &VaultKey::generate()).unwrap_err(),
        Vault::read_header(&path).unwrap_err(),
    ] {
        assert!(matches!(err, VaultError::NotFound { .. }), "{err}");
        assert!(err.to_string().contains("keyward init"));
    }
}

#[test]
fn wrong_passphrase_or_key_is_refused_and_changes_nothing() {
    let (_dir, path) = temp_vault_path();
    let mut v = new_vault(&path);
    v.update(|e| e.set("a", SecretValue::from_str("1")))
        .unwrap();
    let dir_before = dir_snapshot(path.parent().unwrap());

    let err = Vault::open_with_passphrase(&path, &SecretValue::from_str("nope")).unwrap_err();
    assert!(matches!(err, VaultError::WrongPassphrase), "{err}");
    assert_eq!(
        err.to_string(),
        "wrong passphrase (or the vault header was modified)"
    );
    let err = Vault::open_with_key(&path, &VaultKey::generate()).unwrap_err();
    assert!(matches!(err, VaultError::WrongKey), "{err}");
    assert!(matches!(
        v.verify_passphrase(&SecretValue::from_str("nope")),
        Err(VaultError::WrongPassphrase)
    ));
    v.verify_passphrase(&pass()).unwrap();

    assert_eq!(dir_snapshot(path.parent().unwrap()), dir_before);
}

/// Every file in `dir` with its bytes, sorted.
fn dir_snapshot(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    all.sort();
    all
}

#[test]
fn prev_holds_the_previous_generation() {
    let (_dir, path) = temp_vault_path();
    let mut v = new_vault(&path);
    v.update(|e| e.set("one", SecretValue::from_str("1")))
        .unwrap();
    let gen1 = std::fs::read(&path).unwrap();
    v.update(|e| e.set("two", SecretValue::from_str("2")))
        .unwrap();

    let prev = sibling(&path, ".prev");
    assert_eq!(std::fs::read(&prev).unwrap(), gen1);
    let old = Vault::open_with_passphrase(&prev, &pass()).unwrap();
    assert!(old.get("one").is_some() && old.get("two").is_none());
    let old = Vault::open_with_key(&prev, v.key()).unwrap();
    assert_eq!(old.id(), v.id());
    let cur = Vault::open_with_key(&path, v.key()).unwrap();
    assert!(cur.get("one").is_some() && cur.get("two").is_some());
}

#[test]
fn every_write_uses_a_fresh_nonce() {
    let (_dir, path) = temp_vault_path();
    let mut v = new_vault(&path);
    v.update(|_| Ok(())).unwrap();
    let a: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    v.update(|_| Ok(())).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_ne!(a["body"]["nonce"], b["body"]["nonce"]);
    assert_ne!(a["body"]["ciphertext"], b["body"]["ciphertext"]);
    assert_eq!(a["wrapped_key"], b["wrapped_key"]);
}

#[test]
fn failed_update_writes_nothing_and_keeps_self() {
    let (_dir, path) = temp_vault_path();
    let mut v = new_vault(&path);
    v.update(|e| e.set("keep", SecretValue::from_str("1")))
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = v
        .update(|e| {
            e.set("new", SecretValue::from_str("2"))?;
            e.set("bad name!", SecretValue::from_str("3"))
        })
        .unwrap_err();
    assert!(matches!(err, VaultError::InvalidName { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(v.get("new").is_none() && v.get("keep").is_some());
}

#[test]
fn update_and_reload_see_other_instances_writes() {
    let (_dir, path) = temp_vault_path();
    let mut a = new_vault(&path);
    let mut b = Vault::open_with_key(&path, a.key()).unwrap();
    a.update(|e| e.set("from_a", SecretValue::from_str("a")))
        .unwrap();
    b.update(|e| e.set("from_b", SecretValue::from_str("b")))
        .unwrap();
    assert!(b.get("from_a").is_some(), "update re-reads before writing");
    assert!(a.get("from_b").is_none());
    a.reload().unwrap();
    assert!(a.get("from_b").is_some());
    b.update(|e| {
        assert!(e.remove("from_a"));
        Ok(())
    })
    .unwrap();
    a.reload().unwrap();
    assert!(a.get("from_a").is_none());
}

#[test]
fn change_passphrase_rewraps_the_same_key() {
    let (_dir, path) = temp_vault_path();
    let mut v = new_vault(&path);
    v.update(|e| e.set("s", SecretValue::from_str("v")))
        .unwrap();
    let key = v.key().clone();
    let new = SecretValue::from_str("new passphrase");
    let kdf = KdfParams {
        m_kib: 16,
        t: 2,
        p: 1,
    };
    v.change_passphrase(&new, kdf).unwrap();
    assert!(matches!(
        Vault::open_with_passphrase(&path, &pass()),
        Err(VaultError::WrongPassphrase)
    ));
    let reopened = Vault::open_with_passphrase(&path, &new).unwrap();
    assert_eq!(reopened.key(), &key);
    assert_eq!(reopened.get("s").unwrap().expose(), b"v");
    assert_eq!(Vault::read_header(&path).unwrap().kdf, kdf);
    Vault::open_with_key(&path, &key).unwrap();
    // The previous generation keeps the old passphrase (documented).
    Vault::open_with_passphrase(&sibling(&path, ".prev"), &pass()).unwrap();
}

#[test]
fn bad_kdf_params_are_refused_at_create() {
    let (_dir, path) = temp_vault_path();
    let err = Vault::create(
        &path,
        &pass(),
        KdfParams {
            m_kib: 1,
            t: 1,
            p: 1,
        },
    )
    .unwrap_err();
    assert!(matches!(err, VaultError::InvalidKdfParams { .. }), "{err}");
    assert!(!path.exists());
}

#[cfg(unix)]
#[test]
fn files_are_private() {
    let (_dir, path) = temp_vault_path();
    let mut v = new_vault(&path);
    v.update(|e| e.set("a", SecretValue::from_str("1")))
        .unwrap();
    assert_eq!(mode(path.parent().unwrap()), 0o700, "created directory");
    assert_eq!(mode(&path), 0o600, "vault");
    assert_eq!(mode(&sibling(&path, ".prev")), 0o600, ".prev");
    assert_eq!(mode(&sibling(&path, ".lock")), 0o600, ".lock");
    // No temp files are left behind.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["vault.json", "vault.json.lock", "vault.json.prev"]);
}

/// What a crash mid-write leaves behind (a temp file, a half-made `.prev`)
/// does not stop the next update.
#[test]
fn crash_leftovers_do_not_break_updates() {
    let (_dir, path) = temp_vault_path();
    let mut v = new_vault(&path);
    v.update(|e| e.set("a", SecretValue::from_str("1")))
        .unwrap();
    let gen1 = std::fs::read(&path).unwrap();
    let dir = path.parent().unwrap();
    std::fs::write(sibling(&path, ".prev.tmp"), b"half a copy").unwrap();
    std::fs::write(dir.join(".vault.json.tmp-0123456789ab"), b"half a write").unwrap();
    v.update(|e| e.set("b", SecretValue::from_str("2")))
        .unwrap();
    assert_eq!(std::fs::read(sibling(&path, ".prev")).unwrap(), gen1);
    assert!(!sibling(&path, ".prev.tmp").exists());
    let reopened = Vault::open_with_passphrase(&path, &pass()).unwrap();
    assert!(reopened.get("a").is_some() && reopened.get("b").is_some());
}

/// A write that fails after the temp file was written (here: the `.prev`
/// step cannot proceed) leaves the vault byte-identical and no temp file.
#[test]
fn failed_write_keeps_the_old_vault() {
    let (_dir, path) = temp_vault_path();
    let mut v = new_vault(&path);
    v.update(|e| e.set("a", SecretValue::from_str("1")))
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let blocker = sibling(&path, ".prev.tmp");
    std::fs::create_dir(&blocker).unwrap();
    std::fs::write(blocker.join("x"), b"").unwrap();

    let err = v
        .update(|e| e.set("b", SecretValue::from_str("2")))
        .unwrap_err();
    assert!(matches!(err, VaultError::Io { .. }), "{err}");
    assert!(err.to_string().contains("vault.json.prev.tmp"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(v.get("b").is_none());
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.contains(".tmp-").then_some(name)
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    std::fs::remove_dir_all(&blocker).unwrap();
    v.update(|e| e.set("b", SecretValue::from_str("2")))
        .unwrap();
    assert!(
        Vault::open_with_key(&path, v.key())
            .unwrap()
            .get("b")
            .is_some()
    );
}
