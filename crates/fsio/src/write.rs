//! Atomic replacement: a new temp file beside the target, fsynced, renamed
//! over it, then the directory fsynced.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Step, at};

/// How many random temp names to try before giving up (a name is taken
/// only if something else created exactly that file).
const TEMP_TRIES: usize = 8;

/// The permissions a written file gets. They are set on the open file
/// (`fchmod`), so the umask cannot loosen or tighten them, and before the
/// first byte is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// 0600: only the owner reads or writes it.
    Private,
    /// Exactly these permission bits (`& 0o7777`).
    Exact(u32),
    /// The permission bits of the regular file now at the target (a user's
    /// own config keeps the mode they chose); 0600 when there is none, or
    /// when the target is a symlink or anything else but a regular file.
    KeepExisting,
}

impl Mode {
    fn bits(self, target: &Path) -> u32 {
        match self {
            Mode::Private => 0o600,
            Mode::Exact(bits) => bits & 0o7777,
            Mode::KeepExisting => existing_bits(target).unwrap_or(0o600),
        }
    }
}

#[cfg(unix)]
fn existing_bits(target: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::symlink_metadata(target).ok()?;
    meta.is_file().then(|| meta.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn existing_bits(_target: &Path) -> Option<u32> {
    None
}

/// Replaces (or creates) `path` with `bytes`, mode 0600. See [`write`].
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write(path, bytes, Mode::Private)
}

/// Replaces (or creates) `path` with `bytes`: readers see the old file or
/// the new one, never a part; a crash leaves one of the two (and perhaps a
/// `.<name>.tmp-<hex>` file beside it). A symlink at `path` is replaced by
/// the file, never written through. On an error the old file is untouched
/// and the temp file removed.
pub fn write(path: &Path, bytes: &[u8], mode: Mode) -> Result<(), Error> {
    stage(path, bytes, mode)?.commit()
}

/// The first half of [`write`]: `bytes` written and fsynced to a new temp
/// file beside `path`, which [`Staged::commit`] renames over `path`.
/// Dropping the [`Staged`] without committing removes the temp file. For a
/// caller with a step of its own between the two (the vault keeps the
/// previous generation there).
pub fn stage(path: &Path, bytes: &[u8], mode: Mode) -> Result<Staged, Error> {
    let (dir, name) = split(path)?;
    let bits = mode.bits(path);
    let (staged, mut file) = create_temp(path, &dir, &name)?;
    set_mode(&file, bits).map_err(at(Step::SetMode, &staged.temp))?;
    file.write_all(bytes)
        .map_err(at(Step::Write, &staged.temp))?;
    file.sync_all().map_err(at(Step::Sync, &staged.temp))?;
    Ok(staged)
}

/// A temp file holding the new contents, not yet renamed over the target.
#[derive(Debug)]
#[must_use = "dropping a Staged removes its temp file; call commit()"]
pub struct Staged {
    temp: PathBuf,
    target: PathBuf,
    dir: PathBuf,
    committed: bool,
}

impl Staged {
    /// The temp file.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Renames the temp file over the target, then fsyncs the directory so
    /// the rename survives a crash.
    pub fn commit(mut self) -> Result<(), Error> {
        fs::rename(&self.temp, &self.target).map_err(at(Step::Rename, &self.target))?;
        self.committed = true;
        sync_dir(&self.dir)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: it holds only the new contents, never the old.
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// The directory `path` is in (`.` for a bare name) and its file name.
pub(crate) fn split(path: &Path) -> Result<(PathBuf, OsString), Error> {
    let Some(name) = path.file_name() else {
        let e = io::Error::new(io::ErrorKind::InvalidInput, "the path names no file");
        return Err(Error::new(Step::Create, path, e));
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_os_string()))
}

fn create_temp(target: &Path, dir: &Path, name: &OsString) -> Result<(Staged, File), Error> {
    let mut last = None;
    for _ in 0..TEMP_TRIES {
        let mut rnd = [0u8; 6];
        getrandom::fill(&mut rnd)
            .map_err(|e| Error::new(Step::Create, dir, io::Error::other(e.to_string())))?;
        let mut temp_name = OsString::from(".");
        temp_name.push(name);
        temp_name.push(".tmp-");
        temp_name.push(rnd.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let temp = dir.join(temp_name);
        match create_exclusive(&temp) {
            Ok(file) => {
                let staged = Staged {
                    temp,
                    target: target.to_path_buf(),
                    dir: dir.to_path_buf(),
                    committed: false,
                };
                return Ok((staged, file));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some((temp, e)),
            Err(e) => return Err(Error::new(Step::Create, temp, e)),
        }
    }
    let (temp, e) =
        last.unwrap_or_else(|| (dir.to_path_buf(), io::ErrorKind::AlreadyExists.into()));
    Err(Error::new(Step::Create, temp, e))
}

/// A new file, mode 0600 from its creation; fails if anything (even a
/// dangling symlink) is at `path`.
pub(crate) fn create_exclusive(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
}

#[cfg(unix)]
pub(crate) fn set_mode(file: &File, bits: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(bits))
}

#[cfg(not(unix))]
pub(crate) fn set_mode(_file: &File, _bits: u32) -> io::Result<()> {
    Ok(())
}

/// Makes the directory's entry changes (a rename, a new file) durable. A
/// file system that cannot fsync a directory (EINVAL, ENOTSUP) is taken
/// as having nothing to flush.
#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    match File::open(dir).and_then(|d| d.sync_all()) {
        Err(e)
            if !matches!(
                e.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            Err(Error::new(Step::SyncDir, dir, e))
        }
        _ => Ok(()),
    }
}

/// std cannot fsync a directory on Windows; NTFS journals the rename.
#[cfg(not(unix))]
pub(crate) fn sync_dir(_dir: &Path) -> Result<(), Error> {
    Ok(())
}
