//! The one error type: which step failed, on which path.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The step of a write that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Creating the temporary file beside the target (or the new file).
    Create,
    /// Setting the file's permissions.
    SetMode,
    /// Writing the bytes.
    Write,
    /// `fsync` of the file.
    Sync,
    /// Renaming the temporary file over the target.
    Rename,
    /// `fsync` of the directory that holds the target.
    SyncDir,
    /// Creating a directory.
    CreateDir,
    /// Opening or locking a lock file.
    Lock,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Create => "create",
            Step::SetMode => "set the permissions of",
            Step::Write => "write",
            Step::Sync => "sync",
            Step::Rename => "replace",
            Step::SyncDir => "sync the directory",
            Step::CreateDir => "create the directory",
            Step::Lock => "lock",
        })
    }
}

/// A file operation that failed: the step, the path it acted on (the
/// temporary file, the target or its directory) and the OS error.
#[derive(Debug, thiserror::Error)]
#[error("cannot {step} {}: {source}", path.display())]
pub struct Error {
    step: Step,
    path: PathBuf,
    #[source]
    source: io::Error,
}

impl Error {
    pub(crate) fn new(step: Step, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error {
            step,
            path: path.into(),
            source,
        }
    }

    /// The step that failed.
    pub fn step(&self) -> Step {
        self.step
    }

    /// The path the failed step acted on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The kind of the OS error.
    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }

    /// The OS error alone, for callers whose own error names the path.
    pub fn into_io(self) -> io::Error {
        self.source
    }

    /// The path and the OS error, for callers whose error holds both.
    pub fn into_parts(self) -> (PathBuf, io::Error) {
        (self.path, self.source)
    }
}

/// Keeps the kind; the message names the step and the path.
impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        io::Error::new(e.kind(), e)
    }
}

pub(crate) fn at(step: Step, path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::new(step, path, source)
}
