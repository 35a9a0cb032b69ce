//! `resolve_program`: absolute names, PATH search, and the entries that
//! must never be searched.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Component, Path, PathBuf};

use keyward_connectors::exec::{ExecError, resolve_program};

fn file(dir: &Path, name: &str, mode: u32) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, "#!/bin/sh\n").expect("write test file");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod test file");
    p
}

/// A relative path from the current directory to `target`, e.g.
/// `../../../tmp/x`: it names an existing directory, but relatively.
fn relative_to_cwd(target: &Path) -> String {
    let cwd = std::env::current_dir().expect("current dir");
    let depth = cwd
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count();
    let rel = format!(
        "{}{}",
        "../".repeat(depth),
        target.display().to_string().trim_start_matches('/')
    );
    assert!(Path::new(&rel).is_relative() && Path::new(&rel).join("tool").exists());
    rel
}

#[test]
fn absolute_names_must_be_executable_files() {
    assert_eq!(
        resolve_program("/bin/sh", None).unwrap(),
        Path::new("/bin/sh")
    );
    let dir = tempfile::tempdir().unwrap();
    let plain = file(dir.path(), "plain", 0o644);
    assert!(matches!(
        resolve_program(plain.to_str().unwrap(), None),
        Err(ExecError::NotExecutable(_))
    ));
    assert!(matches!(
        resolve_program(dir.path().to_str().unwrap(), None),
        Err(ExecError::NotExecutable(_))
    ));
    assert!(matches!(
        resolve_program("bin/sh", Some("/usr/bin:/bin")),
        Err(ExecError::NotAbsolute(_))
    ));
    assert!(matches!(
        resolve_program("", Some("/bin")),
        Err(ExecError::EmptyProgram)
    ));
}

#[test]
fn path_search_takes_the_first_executable_regular_file() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    file(a.path(), "tool", 0o644); // not executable: skipped
    std::fs::create_dir(b.path().join("tool")).unwrap(); // a directory: skipped
    let want = file(c.path(), "tool", 0o755);
    let path = format!(
        "{}:{}:{}",
        a.path().display(),
        b.path().display(),
        c.path().display()
    );
    assert_eq!(resolve_program("tool", Some(&path)).unwrap(), want);
    assert_eq!(
        resolve_program("sh", Some("/usr/bin:/bin")).unwrap(),
        if Path::new("/usr/bin/sh").exists() {
            PathBuf::from("/usr/bin/sh")
        } else {
            PathBuf::from("/bin/sh")
        }
    );
    assert!(matches!(
        resolve_program("no-such-tool-kw", Some(&path)),
        Err(ExecError::NotFound(_))
    ));
    assert!(matches!(
        resolve_program("sh", None),
        Err(ExecError::NotFound(_))
    ));
}

/// A relative entry (`.`, `""`, `some/dir`) would let the directory keyward
/// happens to run in decide what runs: such entries are never searched.
#[test]
fn relative_and_empty_path_entries_are_ignored() {
    let planted = tempfile::tempdir().unwrap();
    file(planted.path(), "tool", 0o755);
    let rel = relative_to_cwd(planted.path());

    let err = resolve_program("tool", Some(&format!("::.:{rel}"))).unwrap_err();
    assert!(matches!(err, ExecError::NotFound(_)), "{err:?}");

    let real = tempfile::tempdir().unwrap();
    let want = file(real.path(), "tool", 0o755);
    let path = format!("{rel}:.::{}", real.path().display());
    assert_eq!(resolve_program("tool", Some(&path)).unwrap(), want);
}
