//! Program pins (SECURITY.md item 10): when a human approves the config,
//! each command's program is resolved to an absolute path and the SHA-256
//! of that file is recorded. Before each run the program is resolved and
//! hashed again; a different path (a binary that now shadows it earlier
//! on `PATH`) or different content (the binary was replaced) is refused
//! until the human approves again.
//!
//! The hash covers the file the path names (symlinks followed). A script
//! is pinned, its interpreter is not; a file the same user can write can
//! still be swapped between the check and the start (keep programs in
//! directories only root can write).

use std::collections::HashMap;
use std::io::Read as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use sha2::{Digest as _, Sha256};

use super::ExecError;
use super::safe_path::resolve_command_program;

/// A program is read whole to hash it: larger than this is refused.
pub const MAX_PROGRAM_BYTES: u64 = 1024 * 1024 * 1024;

/// What was approved: the absolute path and the hex SHA-256 of its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramPin {
    pub path: PathBuf,
    pub sha256: String,
}

/// Why a pinned program is not run now.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinMismatch {
    #[error(
        "`{program}` now resolves to {now}, not to the approved {pinned} (a program earlier on \
         PATH shadows it)"
    )]
    Path {
        program: String,
        pinned: PathBuf,
        now: PathBuf,
    },
    #[error("{path} changed since it was approved (its SHA-256 differs)")]
    Content { path: PathBuf },
    #[error("{0}")]
    Unavailable(String),
}

/// Resolves `program` (see [`resolve_command_program`]) and hashes it.
pub fn pin_program(program: &str, path_var: Option<&str>) -> Result<ProgramPin, ExecError> {
    let path = resolve_command_program(program, path_var)?;
    let sha256 = hash_file(&path)?;
    Ok(ProgramPin { path, sha256 })
}

/// The program to run, when it is still what `pin` recorded.
pub fn verify_pin(
    program: &str,
    pin: &ProgramPin,
    path_var: Option<&str>,
) -> Result<PathBuf, PinMismatch> {
    let now = resolve_command_program(program, path_var)
        .map_err(|e| PinMismatch::Unavailable(e.to_string()))?;
    if now != pin.path {
        return Err(PinMismatch::Path {
            program: program.escape_debug().to_string(),
            pinned: pin.path.clone(),
            now,
        });
    }
    let hash = hash_unless_unchanged(&now).map_err(|e| PinMismatch::Unavailable(e.to_string()))?;
    if hash != pin.sha256 {
        return Err(PinMismatch::Content { path: now });
    }
    Ok(now)
}

/// Hex SHA-256 of a file's content.
pub fn hash_file(path: &Path) -> Result<String, ExecError> {
    let cannot = |e: std::io::Error| ExecError::Io {
        program: path.to_path_buf(),
        reason: format!("cannot read it to check its hash: {e}"),
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut hasher = Sha256::new();
    let mut reader = file.take(MAX_PROGRAM_BYTES + 1);
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(cannot)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.update(&buf[..n]);
    }
    if total > MAX_PROGRAM_BYTES {
        return Err(cannot(std::io::Error::other("larger than 1 GiB")));
    }
    Ok(hex::encode(hasher.finalize()))
}

/// How old a file's last change must be for its hash to be reused.
const SETTLED: std::time::Duration = std::time::Duration::from_secs(2);

/// What identifies one version of a file's content: a write changes its
/// ctime (which no unprivileged process can set back) and a replacement its
/// inode.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(path: &Path) -> std::io::Result<Stamp> {
        let m = std::fs::metadata(path)?;
        Ok(Stamp {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }
}

/// [`hash_file`], reusing the last hash of a file not written since:
/// hashing a program on every run costs milliseconds (git is 3.7 MB). A
/// file that changed while it was hashed is not remembered, nor one
/// written less than [`SETTLED`] before (timestamps are coarse: a second
/// write within the same tick could keep the stamp — git's "racy" index
/// entries, solved the same way).
fn hash_unless_unchanged(path: &Path) -> Result<String, ExecError> {
    static SEEN: OnceLock<Mutex<HashMap<PathBuf, (Stamp, String)>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    let Ok(before) = Stamp::of(path) else {
        return hash_file(path);
    };
    if let Some((stamp, hash)) = seen.lock().unwrap_or_else(|p| p.into_inner()).get(path)
        && *stamp == before
    {
        return Ok(hash.clone());
    }
    let hash = hash_file(path)?;
    let settled = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .is_ok_and(|now| now.as_secs() as i64 - before.ctime.0 > SETTLED.as_secs() as i64);
    if settled && Stamp::of(path).is_ok_and(|after| after == before) {
        seen.lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.to_path_buf(), (before, hash.clone()));
    }
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn script(path: &Path, body: &str) {
        std::fs::write(path, body).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_reused_hash_never_hides_a_rewrite_of_the_program() {
        let tmp = tempfile::tempdir().unwrap();
        let prog = tmp.path().join("tool");
        script(&prog, "#!/bin/sh\necho one\n");
        let first = hash_unless_unchanged(&prog).unwrap();
        // Rewritten at once, same length: the stamp may not have moved.
        script(&prog, "#!/bin/sh\necho two\n");
        assert_ne!(hash_unless_unchanged(&prog).unwrap(), first);
        // A settled file is remembered, and still hashes to its content.
        let sh = Path::new("/bin/sh").canonicalize().unwrap();
        let a = hash_unless_unchanged(&sh).unwrap();
        assert_eq!(hash_unless_unchanged(&sh).unwrap(), a);
        assert_eq!(a, hash_file(&sh).unwrap());
    }

    #[test]
    fn a_changed_program_binary_is_refused_until_pinned_again() {
        let tmp = tempfile::tempdir().unwrap();
        let prog = tmp.path().join("tool");
        script(&prog, "#!/bin/sh\necho one\n");
        let name = prog.to_str().unwrap();
        let pin = pin_program(name, None).unwrap();
        assert_eq!(pin.path, prog);
        assert_eq!(verify_pin(name, &pin, None), Ok(prog.clone()));

        script(&prog, "#!/bin/sh\necho two\n");
        assert_eq!(
            verify_pin(name, &pin, None),
            Err(PinMismatch::Content { path: prog.clone() })
        );
        let again = pin_program(name, None).unwrap();
        assert_eq!(verify_pin(name, &again, None), Ok(prog.clone()));

        std::fs::remove_file(&prog).unwrap();
        assert!(matches!(
            verify_pin(name, &again, None),
            Err(PinMismatch::Unavailable(_))
        ));
    }

    #[test]
    fn a_program_resolving_elsewhere_is_refused() {
        let pin = ProgramPin {
            path: PathBuf::from("/approved/place/sh"),
            sha256: "00".into(),
        };
        let err = verify_pin("sh", &pin, Some("/usr/bin:/bin")).unwrap_err();
        assert!(matches!(err, PinMismatch::Path { .. }), "{err}");
        assert!(err.to_string().contains("shadows"), "{err}");
    }
}
