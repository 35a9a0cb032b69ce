//! Program pins (THREATS.md item 10): when a human approves the config,
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

use std::io::Read as _;
use std::path::{Path, PathBuf};

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
    let hash = hash_file(&now).map_err(|e| PinMismatch::Unavailable(e.to_string()))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn script(path: &Path, body: &str) {
        std::fs::write(path, body).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
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
