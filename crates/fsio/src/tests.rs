use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::*;

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn write_private_creates_then_replaces_a_0600_file_and_leaves_no_temp() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("a.json");
    write_private(&p, b"one").unwrap();
    write_private(&p, b"two, longer").unwrap();
    assert_eq!(fs::read(&p).unwrap(), b"two, longer");
    #[cfg(unix)]
    assert_eq!(mode(&p), 0o600);
    assert_eq!(names(d.path()), ["a.json"]);
}

#[test]
fn a_bare_file_name_is_written_in_the_current_directory_form() {
    let (dir, name) = write::split(Path::new("x.toml")).unwrap();
    assert_eq!(
        (dir.as_path(), name.as_os_str()),
        (Path::new("."), "x.toml".as_ref())
    );
    let err = write_private(Path::new("/"), b"x").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

/// The child half of `permissions_are_exact_whatever_the_umask`: does
/// nothing unless that test started this binary under a umask.
#[test]
fn umask_child() {
    let Some(dir) = std::env::var_os("KEYWARD_FSIO_UMASK_CHILD") else {
        return;
    };
    let dir = Path::new(&dir);
    let private = dir.join("private");
    write_private(&private, b"x").unwrap();
    let exact = dir.join("exact");
    write(&exact, b"x", Mode::Exact(0o640)).unwrap();
    let client = dir.join("mcp.json");
    write(&client, b"{}", Mode::Exact(0o644)).unwrap();
    let new = dir.join("new");
    create_new_private(&new, b"x").unwrap();
    let sub = dir.join("sub/deeper");
    create_private_dir(&sub).unwrap();
    #[cfg(unix)]
    {
        assert_eq!(mode(&private), 0o600, "write_private");
        assert_eq!(mode(&exact), 0o640, "Mode::Exact");
        assert_eq!(mode(&client), 0o644, "a client config's mode");
        assert_eq!(mode(&new), 0o600, "create_new_private");
        assert_eq!(mode(&sub), 0o700, "create_private_dir");
        assert_eq!(mode(sub.parent().unwrap()), 0o700, "its parent");
    }
}

/// Runs `umask_child` in a child process under `umask` (the umask is
/// process-wide, so the other tests' threads must not see it change).
#[cfg(unix)]
fn run_child_under(umask: &str) {
    let exe = std::env::current_exe().unwrap();
    let d = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("sh")
        .args(["-c", "umask \"$1\"; shift; exec \"$@\"", "sh", umask])
        .arg(&exe)
        .args(["--exact", "tests::umask_child", "--test-threads=1"])
        .env("KEYWARD_FSIO_UMASK_CHILD", d.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "umask {umask}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(unix)]
#[test]
fn permissions_are_exact_whatever_the_umask() {
    for umask in ["000", "022"] {
        run_child_under(umask);
    }
}

/// Import's copy gave the temp file its mode through `open(2)`, which the
/// umask cuts: a 0644 client config came back 0600 under umask 077.
#[cfg(unix)]
#[test]
fn an_imported_client_config_keeps_0644_under_umask_077() {
    run_child_under("077");
}

#[test]
fn a_failed_rename_leaves_the_old_file_and_no_temp() {
    let d = tempfile::tempdir().unwrap();
    // A non-empty directory at the target: the rename fails.
    let p = d.path().join("target");
    fs::create_dir(&p).unwrap();
    fs::write(p.join("inside"), b"old").unwrap();
    let err = write_private(&p, b"new").unwrap_err();
    assert_eq!(err.step(), Step::Rename, "{err}");
    assert_eq!(err.path(), p);
    assert!(err.to_string().starts_with("cannot replace "), "{err}");
    assert_eq!(fs::read(p.join("inside")).unwrap(), b"old");
    assert_eq!(names(d.path()), ["target"]);
}

#[test]
fn a_staged_write_dropped_before_commit_leaves_the_old_file_and_no_temp() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("v.kw");
    write_private(&p, b"old").unwrap();
    let staged = stage(&p, b"new", Mode::Private).unwrap();
    assert_eq!(fs::read(staged.temp_path()).unwrap(), b"new");
    assert!(
        staged
            .temp_path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".v.kw.tmp-")
    );
    drop(staged);
    assert_eq!(fs::read(&p).unwrap(), b"old");
    assert_eq!(names(d.path()), ["v.kw"]);
}

#[test]
fn a_missing_directory_fails_at_create_naming_the_temp_file() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("gone/f");
    let err = write_private(&p, b"x").unwrap_err();
    assert_eq!(err.step(), Step::Create);
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert!(err.path().starts_with(d.path().join("gone")), "{err}");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert!(io.to_string().contains(".f.tmp-"), "{io}");
}

#[test]
fn concurrent_writers_never_tear_the_file() {
    const LEN: usize = 256 * 1024;
    let d = tempfile::tempdir().unwrap();
    let p = Arc::new(d.path().join("shared"));
    write_private(&p, &[b'0'; LEN]).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (p, done) = (Arc::clone(&p), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) {
                let bytes = fs::read(&*p).unwrap();
                assert_eq!(bytes.len(), LEN, "a torn file");
                assert!(bytes.iter().all(|b| *b == bytes[0]), "a mixed file");
                reads += 1;
            }
            reads
        })
    };
    let writers: Vec<_> = (b'a'..=b'd')
        .map(|fill| {
            let p = Arc::clone(&p);
            std::thread::spawn(move || {
                for _ in 0..20 {
                    write_private(&p, &[fill; LEN]).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    let last = fs::read(&*p).unwrap();
    assert!(last.len() == LEN && (b'a'..=b'd').contains(&last[0]));
    assert_eq!(names(d.path()), ["shared"]);
}

#[test]
fn the_directory_is_fsynced_and_a_missing_one_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    write::sync_dir(d.path()).unwrap();
    write::sync_dir(Path::new(".")).unwrap();
    #[cfg(unix)]
    {
        let err = write::sync_dir(&d.path().join("gone")).unwrap_err();
        assert_eq!(err.step(), Step::SyncDir);
        assert!(
            err.to_string().starts_with("cannot sync the directory "),
            "{err}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_at_the_target_is_replaced_not_followed() {
    let d = tempfile::tempdir().unwrap();
    let victim = d.path().join("victim");
    fs::write(&victim, b"keep me").unwrap();
    let link = d.path().join("link");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    write_private(&link, b"new").unwrap();
    assert_eq!(fs::read(&victim).unwrap(), b"keep me");
    assert!(fs::symlink_metadata(&link).unwrap().is_file());
    assert_eq!(fs::read(&link).unwrap(), b"new");
    assert_eq!(mode(&link), 0o600);
}

#[cfg(unix)]
#[test]
fn keep_existing_takes_the_mode_of_a_regular_file_only() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("keyward.toml");
    fs::write(&p, b"old").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
    write(&p, b"new", Mode::KeepExisting).unwrap();
    assert_eq!(mode(&p), 0o644);
    // Absent: 0600.
    let fresh = d.path().join("fresh.toml");
    write(&fresh, b"x", Mode::KeepExisting).unwrap();
    assert_eq!(mode(&fresh), 0o600);
}

/// keyward.toml edits copied the mode of whatever a symlink at the path
/// pointed to (`metadata` follows it): a link to a 0666 file made the
/// rewritten config world-writable. The symlink is replaced by a 0600 file.
#[cfg(unix)]
#[test]
fn a_symlinked_config_does_not_lend_its_targets_mode() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let loose = d.path().join("loose");
    fs::write(&loose, b"").unwrap();
    fs::set_permissions(&loose, fs::Permissions::from_mode(0o666)).unwrap();
    let link = d.path().join("keyward.toml");
    std::os::unix::fs::symlink(&loose, &link).unwrap();
    write(&link, b"x", Mode::KeepExisting).unwrap();
    assert!(fs::symlink_metadata(&link).unwrap().is_file());
    assert_eq!(mode(&link), 0o600);
    assert_eq!(mode(&loose), 0o666);
}

#[test]
fn create_new_private_refuses_anything_already_there() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("key");
    create_new_private(&p, b"secret\n").unwrap();
    let err = create_new_private(&p, b"other").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(fs::read(&p).unwrap(), b"secret\n");
    #[cfg(unix)]
    {
        assert_eq!(mode(&p), 0o600);
        // Not even through a dangling symlink.
        let link = d.path().join("dangling");
        std::os::unix::fs::symlink(d.path().join("nowhere"), &link).unwrap();
        let err = create_new_private(&link, b"x").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert!(!d.path().join("nowhere").exists());
    }
}

#[cfg(unix)]
#[test]
fn ensure_private_dir_tightens_an_existing_directory() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let sub = d.path().join("run");
    fs::create_dir(&sub).unwrap();
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o755)).unwrap();
    create_private_dir(&sub).unwrap();
    assert_eq!(mode(&sub), 0o755, "create_private_dir leaves it");
    ensure_private_dir(&sub).unwrap();
    assert_eq!(mode(&sub), 0o700);
}

#[test]
fn lock_exclusive_excludes_a_second_holder_until_dropped() {
    let d = tempfile::tempdir().unwrap();
    let p = sibling(&d.path().join("vault.kw"), ".lock");
    assert!(p.ends_with("vault.kw.lock"));
    let held = lock_exclusive(&p).unwrap();
    let other = fs::OpenOptions::new().write(true).open(&p).unwrap();
    assert!(other.try_lock().is_err());
    drop(held);
    other.try_lock().unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&p), 0o600);
}
