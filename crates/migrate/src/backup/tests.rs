//! Backups are sealed, restored all or nothing, and refuse to overwrite a
//! file edited since the import unless forced.

use std::fs;

use keyward_vault::{KdfParams, SecretValue};

use super::*;

fn vault(dir: &Path, name: &str) -> Vault {
    Vault::create(
        &dir.join(name),
        &SecretValue::new(b"pw".to_vec()),
        KdfParams::for_tests(),
    )
    .unwrap()
}

fn write(path: &Path, before: &str, after: &str) -> FileWrite {
    fs::write(path, before).unwrap();
    FileWrite {
        path: path.to_path_buf(),
        before: before.into(),
        after: after.into(),
    }
}

const CANARY: &str = "kw_canary_backup_0123456789";

#[test]
fn an_import_is_undone_with_the_originals_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(dir.path(), "vault.kw");
    let backups = Backups::in_data_dir(dir.path());
    assert!(backups.last().unwrap().is_none());

    let client = dir.path().join("client.json");
    let config = dir.path().join("keyward.toml");
    let writes = [
        write(&config, "a = 1\n", "a = 2\n"),
        write(&client, &format!("{{\"token\": \"{CANARY}\"}}"), "{}"),
    ];
    let made = backups.apply(&v, &writes).unwrap();
    assert_eq!(fs::read_to_string(&client).unwrap(), "{}");
    assert!(made.starts_with(dir.path().join("imports")));
    // No backup holds the plaintext.
    for e in fs::read_dir(&made).unwrap() {
        let bytes = fs::read(e.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(CANARY));
    }

    let last = backups.last().unwrap().unwrap();
    last.check(false).unwrap();
    let mut seen = Vec::new();
    let text = last
        .restore(&v, &config, |p| seen.push(p.to_path_buf()))
        .unwrap();
    assert_eq!(text.as_deref(), Some("a = 1\n"));
    assert_eq!(seen, [config.clone(), client.clone()]);
    assert!(fs::read_to_string(&client).unwrap().contains(CANARY));
    last.mark_undone().unwrap();
    assert!(backups.last().unwrap().is_none());
}

#[test]
fn a_file_edited_since_the_import_is_not_overwritten_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(dir.path(), "vault.kw");
    let backups = Backups::in_data_dir(dir.path());
    let client = dir.path().join("client.json");
    backups.apply(&v, &[write(&client, "old", "new")]).unwrap();
    fs::write(&client, "edited by hand").unwrap();
    let last = backups.last().unwrap().unwrap();
    let e = last.check(false).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("not undoing the import of {}: ", last.created())),
        "{e}"
    );
    assert!(
        e.contains(&format!("{} (edited since the import)", client.display())),
        "{e}"
    );
    assert!(e.ends_with("`keyward import --undo --force` puts the originals back over them"));
    last.check(true).unwrap();
    assert_eq!(fs::read_to_string(&client).unwrap(), "edited by hand");
}

/// A backup opens only under its own vault and for its own path: nothing
/// is written when one does not open.
#[test]
fn a_backup_of_another_vault_restores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(dir.path(), "vault.kw");
    let other = vault(dir.path(), "other.kw");
    let backups = Backups::in_data_dir(dir.path());
    let client = dir.path().join("client.json");
    backups.apply(&v, &[write(&client, "old", "new")]).unwrap();
    let last = backups.last().unwrap().unwrap();
    let e = last
        .restore(&other, &dir.path().join("keyward.toml"), |_| {})
        .unwrap_err();
    assert!(matches!(e, BackupError::Vault(_)), "{e}");
    assert_eq!(fs::read_to_string(&client).unwrap(), "new");
}

/// The manifest as keyward 0.1 wrote it still reads.
#[test]
fn a_manifest_of_the_existing_format_reads() {
    let dir = tempfile::tempdir().unwrap();
    let import = dir.path().join("imports/20250101T000000Z");
    fs::create_dir_all(&import).unwrap();
    fs::write(
        import.join("manifest.json"),
        r#"{
  "format": "keyward-import",
  "version": 1,
  "created": "2025-01-01T00:00:00Z",
  "undone": false,
  "files": [
    {
      "path": "/x/client.json",
      "backup": "0000.sealed",
      "after_sha256": "00",
      "mode": 384
    }
  ]
}"#,
    )
    .unwrap();
    let last = Backups::in_data_dir(dir.path()).last().unwrap().unwrap();
    assert_eq!(last.created(), "2025-01-01T00:00:00Z");
    assert!(matches!(
        last.check(false),
        Err(BackupError::Changed { .. })
    ));
}

#[cfg(unix)]
#[test]
fn backups_are_private_and_a_rewritten_file_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let v = vault(dir.path(), "vault.kw");
    let client = dir.path().join("client.json");
    let w = write(&client, "old", "new");
    fs::set_permissions(&client, fs::Permissions::from_mode(0o640)).unwrap();
    let made = Backups::in_data_dir(dir.path()).apply(&v, &[w]).unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join("imports")), 0o700);
    assert_eq!(mode(&made), 0o700);
    assert_eq!(mode(&made.join("0000.sealed")), 0o600);
    assert_eq!(mode(&made.join("manifest.json")), 0o600);
    assert_eq!(mode(&client), 0o640);
}
