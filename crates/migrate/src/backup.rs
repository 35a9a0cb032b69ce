//! Import's backups, and putting them back (`keyward import --undo`).
//!
//! Each import that changes files gets a directory
//! `DATA/imports/<UTC time>/` (mode 0700) holding, for every file it
//! rewrites, the original sealed under the vault key (the originals hold
//! the plaintext secrets: they are never written in the clear), and a
//! `manifest.json` with the paths, the permissions and the SHA-256 of what
//! import wrote. Undoing puts the last import's originals back, but only
//! over files that are still exactly as import left them (`force`
//! overrides that).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use keyward_vault::{Vault, VaultError, sealed};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One file import rewrites.
pub struct FileWrite {
    pub path: PathBuf,
    pub before: String,
    pub after: String,
}

/// Why backing up, rewriting or restoring failed. The messages name the
/// file and what the user can do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// Rewriting a file failed; the files written before it were put back
    /// except `unrestored`.
    #[error("cannot write {}: {source}; {}", path.display(), rewrite_tail(unrestored))]
    Rewrite {
        path: PathBuf,
        source: io::Error,
        unrestored: Vec<PathBuf>,
    },
    /// Some files changed since the import: nothing was restored.
    #[error(
        "not undoing the import of {created}: {}; nothing was restored. Check those files, then \
         `keyward import --undo --force` puts the originals back over them",
        join(changed)
    )]
    Changed {
        created: String,
        changed: Vec<Changed>,
    },
    #[error("cannot read the backup of {}: {source}", path.display())]
    ReadBackup { path: PathBuf, source: io::Error },
    #[error("cannot restore {}: {source}", path.display())]
    Restore { path: PathBuf, source: io::Error },
    #[error("cannot read {}: {source}", path.display())]
    ReadDir { path: PathBuf, source: io::Error },
    #[error("{}: not a valid import manifest: {source}", dir.display())]
    Manifest {
        dir: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot create {}: {source}", path.display())]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot set the permissions of {}: {source}", path.display())]
    SetMode { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot create a backup directory in {}", root.display())]
    NoBackupDir { root: PathBuf },
    #[error("cannot encode the import manifest: {0}")]
    EncodeManifest(serde_json::Error),
    #[error("cannot write the import manifest: {0}")]
    WriteManifest(io::Error),
}

/// A file that is not as the import left it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Changed {
    #[error("{} (edited since the import)", .0.display())]
    Edited(PathBuf),
    #[error("{} ({source})", path.display())]
    Unreadable { path: PathBuf, source: io::Error },
}

fn rewrite_tail(unrestored: &[PathBuf]) -> String {
    if unrestored.is_empty() {
        "the files written before it were put back; the secrets are in the vault".to_string()
    } else {
        let names: Vec<String> = unrestored.iter().map(|p| p.display().to_string()).collect();
        format!(
            "could not put back {}: run `keyward import --undo`",
            names.join(", ")
        )
    }
}

fn join(changed: &[Changed]) -> String {
    let parts: Vec<String> = changed.iter().map(ToString::to_string).collect();
    parts.join(", ")
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    format: String,
    version: u32,
    created: String,
    undone: bool,
    files: Vec<FileRecord>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRecord {
    path: PathBuf,
    backup: String,
    after_sha256: String,
    mode: u32,
}

const FORMAT: &str = "keyward-import";

fn purpose(path: &Path) -> String {
    format!("import-backup:{}", path.display())
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where the backups of a keyward home are kept (`DATA/imports`).
#[derive(Clone, Debug)]
pub struct Backups {
    root: PathBuf,
}

/// The newest import that has not been undone.
pub struct LastImport {
    dir: PathBuf,
    manifest: Manifest,
}

impl Backups {
    /// The backups of the keyward home whose data directory is `data_dir`.
    pub fn in_data_dir(data_dir: &Path) -> Backups {
        Backups {
            root: data_dir.join("imports"),
        }
    }

    /// Backs every file up, then writes the new contents; on a failed write
    /// the files already written are put back. Returns the backup directory.
    pub fn apply(&self, vault: &Vault, writes: &[FileWrite]) -> Result<PathBuf, BackupError> {
        let dir = self.new_backup_dir()?;
        let mut files = Vec::new();
        for (i, w) in writes.iter().enumerate() {
            let mode = mode_of(&w.path);
            let backup = format!("{i:04}.sealed");
            let blob = sealed::seal(vault, &purpose(&w.path), w.before.as_bytes())?;
            write_new(&dir.join(&backup), &blob)?;
            files.push(FileRecord {
                path: w.path.clone(),
                backup,
                after_sha256: sha256(w.after.as_bytes()),
                mode,
            });
        }
        let manifest = Manifest {
            format: FORMAT.into(),
            version: 1,
            created: jiff::Timestamp::now().to_string(),
            undone: false,
            files,
        };
        write_manifest(&dir, &manifest)?;
        for (i, w) in writes.iter().enumerate() {
            if let Err(source) = rewrite(&w.path, w.after.as_bytes(), manifest.files[i].mode) {
                let mut unrestored = Vec::new();
                for done in &writes[..i] {
                    let mode = mode_of(&done.path);
                    if rewrite(&done.path, done.before.as_bytes(), mode).is_err() {
                        unrestored.push(done.path.clone());
                    }
                }
                let mut m = manifest;
                m.undone = unrestored.is_empty();
                let _ = write_manifest(&dir, &m);
                return Err(BackupError::Rewrite {
                    path: w.path.clone(),
                    source,
                    unrestored,
                });
            }
        }
        Ok(dir)
    }

    /// The newest import that has not been undone, if any.
    pub fn last(&self) -> Result<Option<LastImport>, BackupError> {
        let mut dirs: Vec<PathBuf> = match fs::read_dir(&self.root) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(BackupError::ReadDir {
                    path: self.root.clone(),
                    source,
                });
            }
        };
        dirs.sort();
        for dir in dirs.into_iter().rev() {
            let Ok(text) = fs::read_to_string(dir.join("manifest.json")) else {
                continue;
            };
            let manifest: Manifest =
                serde_json::from_str(&text).map_err(|source| BackupError::Manifest {
                    dir: dir.clone(),
                    source,
                })?;
            if manifest.format == FORMAT && !manifest.undone {
                return Ok(Some(LastImport { dir, manifest }));
            }
        }
        Ok(None)
    }

    fn new_backup_dir(&self) -> Result<PathBuf, BackupError> {
        let root = &self.root;
        ensure_private_dir(root)?;
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string();
        for n in 0..100 {
            let dir = if n == 0 {
                root.join(&stamp)
            } else {
                root.join(format!("{stamp}-{n}"))
            };
            match fs::create_dir(&dir) {
                Ok(()) => {
                    set_mode(&dir, 0o700)?;
                    return Ok(dir);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(source) => return Err(BackupError::Create { path: dir, source }),
            }
        }
        Err(BackupError::NoBackupDir { root: root.clone() })
    }
}

impl LastImport {
    /// When the import was made (RFC 3339).
    pub fn created(&self) -> &str {
        &self.manifest.created
    }

    /// Fails, naming them, when files changed since the import — unless
    /// `force`.
    pub fn check(&self, force: bool) -> Result<(), BackupError> {
        let mut changed = Vec::new();
        for f in &self.manifest.files {
            match fs::read(&f.path) {
                Ok(now) if sha256(&now) == f.after_sha256 => {}
                Ok(_) => changed.push(Changed::Edited(f.path.clone())),
                Err(source) => changed.push(Changed::Unreadable {
                    path: f.path.clone(),
                    source,
                }),
            }
        }
        if changed.is_empty() || force {
            Ok(())
        } else {
            Err(BackupError::Changed {
                created: self.manifest.created.clone(),
                changed,
            })
        }
    }

    /// Puts every original back, with the permissions it had: opens every
    /// backup before writing any (all or nothing), then calls `restored`
    /// with each path as it is written. Returns the original text of
    /// `config_file` (keyward.toml) when it was among them.
    pub fn restore(
        &self,
        vault: &Vault,
        config_file: &Path,
        mut restored: impl FnMut(&Path),
    ) -> Result<Option<String>, BackupError> {
        let mut originals = Vec::new();
        for f in &self.manifest.files {
            let blob =
                fs::read(self.dir.join(&f.backup)).map_err(|source| BackupError::ReadBackup {
                    path: f.path.clone(),
                    source,
                })?;
            originals.push(sealed::open(vault, &purpose(&f.path), &blob)?);
        }
        let mut config = None;
        for (f, original) in self.manifest.files.iter().zip(&originals) {
            rewrite(&f.path, original.expose(), f.mode).map_err(|source| BackupError::Restore {
                path: f.path.clone(),
                source,
            })?;
            restored(&f.path);
            if f.path == config_file {
                config = std::str::from_utf8(original.expose())
                    .ok()
                    .map(str::to_string);
            }
        }
        Ok(config)
    }

    /// After [`LastImport::restore`]: the import is marked undone and its
    /// backups are removed.
    pub fn mark_undone(mut self) -> Result<(), BackupError> {
        self.manifest.undone = true;
        write_manifest(&self.dir, &self.manifest)?;
        for f in &self.manifest.files {
            let _ = fs::remove_file(self.dir.join(&f.backup));
        }
        Ok(())
    }
}

/// Creates `dir` if missing and sets it to 0700 even if it was looser.
fn ensure_private_dir(dir: &Path) -> Result<(), BackupError> {
    keyward_fsio::ensure_private_dir(dir).map_err(|e| {
        let set_mode = e.step() == keyward_fsio::Step::SetMode;
        let (path, source) = (dir.to_path_buf(), e.into_io());
        if set_mode {
            BackupError::SetMode { path, source }
        } else {
            BackupError::Create { path, source }
        }
    })
}

/// A backup file: new (never over an existing one), mode 0600.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    keyward_fsio::create_new_private(path, bytes).map_err(|e| {
        let create = e.step() == keyward_fsio::Step::Create;
        let (path, source) = (path.to_path_buf(), e.into_io());
        if create {
            BackupError::Create { path, source }
        } else {
            BackupError::Write { path, source }
        }
    })
}

/// Replaces `path` atomically with exactly `mode` (a client's config keeps
/// its permissions; the umask does not change them).
fn rewrite(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    keyward_fsio::write(path, bytes, keyward_fsio::Mode::Exact(mode))
        .map_err(keyward_fsio::Error::into_io)
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), BackupError> {
    let text = serde_json::to_string_pretty(m).map_err(BackupError::EncodeManifest)?;
    keyward_fsio::write_private(&dir.join("manifest.json"), text.as_bytes())
        .map_err(|e| BackupError::WriteManifest(e.into_io()))
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o600)
}

#[cfg(not(unix))]
fn mode_of(_path: &Path) -> u32 {
    0o600
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), BackupError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|source| {
        BackupError::SetMode {
            path: path.to_path_buf(),
            source,
        }
    })
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), BackupError> {
    Ok(())
}

#[cfg(test)]
mod tests;
