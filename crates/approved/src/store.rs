//! The last approved keyward.toml, kept in the data directory:
//!
//! - `approved/keyward.toml`: its text, as approved (it holds references,
//!   never secret values);
//! - `approved/keyward.toml.seal`: the SHA-256 of that text sealed under
//!   the vault key ([`keyward_vault::sealed`], purpose `approved-config`).
//!
//! A copy that was edited or replaced, or a seal made under another vault,
//! fails [`Approved::check`]. Both files are written atomically (temp file,
//! fsync, rename), mode 0600, in a 0700 directory; the text first, so a
//! crash between the two leaves a pair that fails the check (keyward then
//! refuses to start until `keyward config approve`), never one that passes
//! for something that was not approved.

use std::fs;
use std::path::{Path, PathBuf};

use keyward_config::Paths;
use keyward_vault::{Vault, sealed};
use sha2::{Digest, Sha256};

use crate::error::ApprovedError;
use crate::programs::{self, PinsProblem, Programs};

/// The seal's purpose: a blob sealed for anything else does not open here.
const PURPOSE: &str = "approved-config";

/// An approved copy is a config file: larger than this is not one.
const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Where the approved copy lives.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

/// The approved copy as read from disk, not yet checked.
pub struct Approved {
    /// The text as approved; not to be trusted before [`Approved::check`].
    pub text: String,
    seal: Option<Vec<u8>>,
    /// `programs.sealed` (see [`crate::programs`]), if any.
    programs: Option<Vec<u8>>,
}

/// Why an approved copy is not trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SealProblem {
    #[error("its seal file is missing")]
    Missing,
    #[error(
        "it does not match its seal (it was changed outside keyward, or sealed under another vault)"
    )]
    Mismatch,
}

impl Store {
    pub fn new(paths: &Paths) -> Store {
        Store {
            dir: paths.data_dir.join("approved"),
        }
    }

    /// `approved/keyward.toml`.
    pub fn text_path(&self) -> PathBuf {
        self.dir.join("keyward.toml")
    }

    fn seal_path(&self) -> PathBuf {
        self.dir.join("keyward.toml.seal")
    }

    /// `approved/programs.sealed`.
    pub fn programs_path(&self) -> PathBuf {
        self.dir.join("programs.sealed")
    }

    /// The approved copy, or `None` when nothing was ever approved here.
    pub fn read(&self) -> Result<Option<Approved>, ApprovedError> {
        let Some(bytes) = read_bounded(&self.text_path())? else {
            return Ok(None);
        };
        let text = String::from_utf8(bytes).map_err(|_| ApprovedError::NotUtf8 {
            path: self.text_path(),
        })?;
        let seal = read_bounded(&self.seal_path())?;
        let programs = read_bounded(&self.programs_path())?;
        Ok(Some(Approved {
            text,
            seal,
            programs,
        }))
    }

    /// Records `text` as the approved config, sealed under `vault`'s key,
    /// with its program pins. The pins are written last and name the text
    /// they go with: a crash in between leaves commands refused, never
    /// old pins trusted for a new text.
    pub(crate) fn write(
        &self,
        vault: &Vault,
        text: &str,
        programs: &Programs,
    ) -> Result<(), ApprovedError> {
        let seal = sealed::seal(vault, PURPOSE, &digest(text))?;
        let pins = programs::seal(vault, text, programs)?;
        create_private_dir(&self.dir)?;
        write_private(&self.text_path(), text.as_bytes())?;
        write_private(&self.seal_path(), &seal)?;
        write_private(&self.programs_path(), &pins)
    }
}

impl Approved {
    /// Whether this copy is what a holder of `vault`'s key approved.
    pub fn check(&self, vault: &Vault) -> Result<(), SealProblem> {
        let seal = self.seal.as_deref().ok_or(SealProblem::Missing)?;
        let opened = sealed::open(vault, PURPOSE, seal).map_err(|_| SealProblem::Mismatch)?;
        if opened.expose() == digest(&self.text).as_slice() {
            Ok(())
        } else {
            Err(SealProblem::Mismatch)
        }
    }

    /// The program pins approved with this text, or why none can be
    /// trusted. Call after [`Approved::check`] passed.
    pub fn programs(&self, vault: &Vault) -> Result<Programs, PinsProblem> {
        programs::open(vault, &self.text, self.programs.as_deref())
    }
}

/// SHA-256 of a config text.
pub(crate) fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// The first 16 hex digits of the SHA-256 of a config text, for the audit
/// log and messages.
pub fn short_hash(text: &str) -> String {
    hex::encode(&digest(text)[..8])
}

fn read_bounded(path: &Path) -> Result<Option<Vec<u8>>, ApprovedError> {
    let cannot = |source: std::io::Error| ApprovedError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(e)),
    };
    if meta.len() > MAX_BYTES {
        return Err(ApprovedError::TooLarge {
            path: path.to_path_buf(),
            max: MAX_BYTES,
        });
    }
    fs::read(path).map(Some).map_err(cannot)
}

/// Creates `dir` (and parents) with mode 0700 if it is missing.
fn create_private_dir(dir: &Path) -> Result<(), ApprovedError> {
    keyward_fsio::create_private_dir(dir).map_err(|e| ApprovedError::CreateDir {
        path: dir.to_path_buf(),
        source: e.into_io(),
    })
}

/// Replaces `path` atomically with `bytes`, mode 0600.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ApprovedError> {
    keyward_fsio::write_private(path, bytes).map_err(|e| ApprovedError::Write {
        path: path.to_path_buf(),
        source: e.into_io(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_vault::{KdfParams, SecretValue};

    fn vault(dir: &Path, name: &str) -> Vault {
        Vault::create(
            &dir.join(name),
            &SecretValue::new(b"pw".to_vec()),
            KdfParams::for_tests(),
        )
        .unwrap()
    }

    #[test]
    fn an_approved_copy_passes_until_it_is_touched() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::in_dir(dir.path());
        let v = vault(dir.path(), "vault.kw");
        let store = Store::new(&paths);
        assert!(store.read().unwrap().is_none());

        store
            .write(&v, "[services]\n", &Default::default())
            .unwrap();
        let approved = store.read().unwrap().unwrap();
        assert_eq!(approved.text, "[services]\n");
        assert_eq!(approved.check(&v), Ok(()));

        // The agent edits the approved copy to match its own edit.
        fs::write(store.text_path(), "[services]\n# mine\n").unwrap();
        let edited = store.read().unwrap().unwrap();
        assert_eq!(edited.check(&v), Err(SealProblem::Mismatch));

        // A seal made by another vault does not pass either.
        let other = vault(dir.path(), "other.kw");
        Store::new(&Paths::in_dir(&dir.path().join("x")))
            .write(&other, "[services]\n# mine\n", &Default::default())
            .unwrap();
        let foreign = fs::read(dir.path().join("x/approved/keyward.toml.seal")).unwrap();
        fs::write(store.seal_path(), foreign).unwrap();
        assert_eq!(
            store.read().unwrap().unwrap().check(&v),
            Err(SealProblem::Mismatch)
        );

        fs::remove_file(store.seal_path()).unwrap();
        assert_eq!(
            store.read().unwrap().unwrap().check(&v),
            Err(SealProblem::Missing)
        );
    }

    /// The seal must not open for some other sealed blob of the same vault
    /// (import keeps its backups sealed under the same key).
    #[test]
    fn a_seal_made_for_another_purpose_does_not_pass() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault(dir.path(), "vault.kw");
        let store = Store::new(&Paths::in_dir(dir.path()));
        store.write(&v, "a = 1\n", &Default::default()).unwrap();
        let blob = sealed::seal(&v, "import-backup:/x", &digest("a = 1\n")).unwrap();
        fs::write(store.seal_path(), blob).unwrap();
        assert_eq!(
            store.read().unwrap().unwrap().check(&v),
            Err(SealProblem::Mismatch)
        );
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let v = vault(dir.path(), "vault.kw");
        let store = Store::new(&Paths::in_dir(dir.path()));
        store.write(&v, "a = 1\n", &Default::default()).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&store.dir), 0o700);
        assert_eq!(mode(&store.text_path()), 0o600);
        assert_eq!(mode(&store.seal_path()), 0o600);
    }
}
