//! Import's backups and `keyward import --undo`.
//!
//! Each import that changes files gets a directory
//! `DATA/imports/<UTC time>/` (mode 0700) holding, for every file it
//! rewrites, the original sealed under the vault key (the originals hold
//! the plaintext secrets: they are never written in the clear), and a
//! `manifest.json` with the paths, the permissions and the SHA-256 of what
//! import wrote. `--undo` puts the last import's originals back, but only
//! over files that are still exactly as import left them (`--force`
//! overrides that).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use keyward_config::Paths;
use keyward_vault::{Vault, sealed};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config_approval::edit::ConfigEdit;
use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::unlock::{Prompt, unlock};

/// One file import rewrites.
pub(super) struct FileWrite {
    pub(super) path: PathBuf,
    pub(super) before: String,
    pub(super) after: String,
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

fn imports_dir(paths: &Paths) -> PathBuf {
    paths.data_dir.join("imports")
}

fn purpose(path: &Path) -> String {
    format!("import-backup:{}", path.display())
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Backs every file up, then writes the new contents; on a failed write
/// the files already written are put back. Returns the backup directory.
pub(super) fn apply(
    paths: &Paths,
    vault: &Vault,
    writes: &[FileWrite],
) -> Result<PathBuf, CliError> {
    let dir = new_backup_dir(paths)?;
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
        if let Err(e) = rewrite(&w.path, w.after.as_bytes(), manifest.files[i].mode) {
            let mut unrestored = Vec::new();
            for done in &writes[..i] {
                let mode = mode_of(&done.path);
                if rewrite(&done.path, done.before.as_bytes(), mode).is_err() {
                    unrestored.push(done.path.display().to_string());
                }
            }
            let mut m = manifest;
            m.undone = unrestored.is_empty();
            let _ = write_manifest(&dir, &m);
            let tail = if unrestored.is_empty() {
                "the files written before it were put back; the secrets are in the vault"
                    .to_string()
            } else {
                format!(
                    "could not put back {}: run `keyward import --undo`",
                    unrestored.join(", ")
                )
            };
            return Err(CliError::msg(format!(
                "cannot write {}: {e}; {tail}",
                w.path.display()
            )));
        }
    }
    Ok(dir)
}

/// `keyward import --undo [--force]`; `edit` approves a restored
/// keyward.toml (see [`crate::config_approval::edit`]).
pub(super) fn undo(
    paths: &Paths,
    env: &ProcessEnv,
    force: bool,
    edit: ConfigEdit,
) -> Result<ExitCode, CliError> {
    let Some((dir, mut manifest)) = last_import(paths)? else {
        println!("nothing to undo: no import has changed files");
        return Ok(ExitCode::SUCCESS);
    };
    let mut changed = Vec::new();
    for f in &manifest.files {
        match fs::read(&f.path) {
            Ok(now) if sha256(&now) == f.after_sha256 => {}
            Ok(_) => changed.push(format!("{} (edited since the import)", f.path.display())),
            Err(e) => changed.push(format!("{} ({e})", f.path.display())),
        }
    }
    if !changed.is_empty() && !force {
        return Err(CliError::msg(format!(
            "not undoing the import of {}: {}; nothing was restored. Check those files, then \
             `keyward import --undo --force` puts the originals back over them",
            manifest.created,
            changed.join(", ")
        )));
    }
    let vault = unlock(paths, env, Prompt::IfTerminal)?;
    // Open every backup before writing any: all or nothing.
    let mut originals = Vec::new();
    for f in &manifest.files {
        let blob = fs::read(dir.join(&f.backup)).map_err(|e| {
            CliError::msg(format!(
                "cannot read the backup of {}: {e}",
                f.path.display()
            ))
        })?;
        originals.push(sealed::open(&vault, &purpose(&f.path), &blob)?);
    }
    let mut restored_config = None;
    for (f, original) in manifest.files.iter().zip(&originals) {
        rewrite(&f.path, original.expose(), f.mode)
            .map_err(|e| CliError::msg(format!("cannot restore {}: {e}", f.path.display())))?;
        println!("restored {}", f.path.display());
        if f.path == paths.config_file() {
            restored_config = std::str::from_utf8(original.expose()).ok();
        }
    }
    if let Some(text) = restored_config {
        // A restore does not build on the file as it was: its base is moot.
        let base = edit.before().unwrap_or_default().to_string();
        edit.finish(&base, text)?;
    }
    manifest.undone = true;
    write_manifest(&dir, &manifest)?;
    for f in &manifest.files {
        let _ = fs::remove_file(dir.join(&f.backup));
    }
    println!(
        "undid the import of {}; the secrets it stored stay in the vault (`keyward secret list`, \
         `keyward secret rm NAME`)",
        manifest.created
    );
    Ok(ExitCode::SUCCESS)
}

/// The newest import that has not been undone.
fn last_import(paths: &Paths) -> Result<Option<(PathBuf, Manifest)>, CliError> {
    let root = imports_dir(paths);
    let mut dirs: Vec<PathBuf> = match fs::read_dir(&root) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CliError::msg(format!(
                "cannot read {}: {e}",
                root.display()
            )));
        }
    };
    dirs.sort();
    for dir in dirs.into_iter().rev() {
        let Ok(text) = fs::read_to_string(dir.join("manifest.json")) else {
            continue;
        };
        let m: Manifest = serde_json::from_str(&text).map_err(|e| {
            CliError::msg(format!(
                "{}: not a valid import manifest: {e}",
                dir.display()
            ))
        })?;
        if m.format == FORMAT && !m.undone {
            return Ok(Some((dir, m)));
        }
    }
    Ok(None)
}

fn new_backup_dir(paths: &Paths) -> Result<PathBuf, CliError> {
    let root = imports_dir(paths);
    ensure_private_dir(&root)?;
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
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(CliError::msg(format!(
                    "cannot create {}: {e}",
                    dir.display()
                )));
            }
        }
    }
    Err(CliError::msg(format!(
        "cannot create a backup directory in {}",
        root.display()
    )))
}

/// Creates `dir` if missing and sets it to 0700 even if it was looser.
fn ensure_private_dir(dir: &Path) -> Result<(), CliError> {
    keyward_fsio::ensure_private_dir(dir).map_err(|e| {
        let what = match e.step() {
            keyward_fsio::Step::SetMode => "set the permissions of",
            _ => "create",
        };
        CliError::msg(format!("cannot {what} {}: {}", dir.display(), e.into_io()))
    })
}

/// A backup file: new (never over an existing one), mode 0600.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    keyward_fsio::create_new_private(path, bytes).map_err(|e| {
        let what = match e.step() {
            keyward_fsio::Step::Create => "create",
            _ => "write",
        };
        CliError::msg(format!("cannot {what} {}: {}", path.display(), e.into_io()))
    })
}

/// Replaces `path` atomically with exactly `mode` (a client's config keeps
/// its permissions; the umask does not change them).
fn rewrite(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    keyward_fsio::write(path, bytes, keyward_fsio::Mode::Exact(mode))
        .map_err(keyward_fsio::Error::into_io)
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(m)
        .map_err(|e| CliError::msg(format!("cannot encode the import manifest: {e}")))?;
    keyward_fsio::write_private(&dir.join("manifest.json"), text.as_bytes())
        .map_err(|e| CliError::msg(format!("cannot write the import manifest: {}", e.into_io())))
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
fn set_mode(path: &Path, mode: u32) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| {
        CliError::msg(format!(
            "cannot set the permissions of {}: {e}",
            path.display()
        ))
    })
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), CliError> {
    Ok(())
}
