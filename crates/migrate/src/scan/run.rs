//! A whole scan: known config locations, files and directories named by
//! the user, and what came of each.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{FileKind, Finding, ScanError, Skipped, scan_file_all};
use crate::locate::KnownConfig;

/// Directory levels below a named directory that are searched.
pub const MAX_DEPTH: usize = 6;
/// Directory entries looked at, at most, below one named directory.
pub const MAX_ENTRIES: usize = 50_000;
/// Directories never entered: dependencies, VCS data, caches.
const SKIP_DIRS: &[&str] = &[
    "node_modules",
    ".git",
    ".hg",
    ".svn",
    "target",
    ".venv",
    "venv",
    "__pycache__",
    ".cache",
    ".npm",
    ".cargo",
    ".rustup",
];

/// Something to scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub path: PathBuf,
    pub kind: Option<FileKind>,
    /// Named by the user: a missing file is an error. Known locations that
    /// do not exist are skipped silently.
    pub required: bool,
}

impl Target {
    pub fn known(k: &KnownConfig) -> Target {
        Target {
            path: k.path.clone(),
            kind: Some(k.format.into()),
            required: false,
        }
    }

    pub fn given(path: PathBuf) -> Target {
        Target {
            path,
            kind: None,
            required: true,
        }
    }
}

/// What a scan found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// File locations looked at, existing or not.
    pub checked: usize,
    /// Files read and scanned, in order.
    pub scanned: Vec<PathBuf>,
    pub findings: Vec<Finding>,
    /// Values that look like secrets but were passed over as placeholders
    /// or examples (not findings: they do not change the exit status).
    pub skipped: Vec<Skipped>,
    /// Files that could not be scanned.
    pub errors: Vec<ScanError>,
    /// Directories that could not be listed, or where the walk stopped at
    /// its bounds (not errors: a home directory has some).
    pub warnings: Vec<String>,
}

impl Outcome {
    /// The exit status `keyward scan` documents: 1 when there is a
    /// finding (whatever else happened), else 2 when a file could not be
    /// scanned, else 0.
    pub fn exit_code(&self) -> u8 {
        if !self.findings.is_empty() {
            1
        } else if !self.errors.is_empty() {
            2
        } else {
            0
        }
    }
}

/// Scans every target, in order; a file reached twice is scanned once.
pub fn run(targets: &[Target]) -> Outcome {
    let mut out = Outcome::default();
    let mut seen: Vec<PathBuf> = Vec::new();
    for t in targets {
        match fs::metadata(&t.path) {
            Ok(m) if m.is_dir() && t.required => {
                let (files, warnings) = discover(&t.path);
                out.warnings.extend(warnings);
                for (path, kind) in files {
                    scan_one(&mut out, &mut seen, &path, Some(kind));
                }
            }
            // A known location that is a directory, a FIFO or a device is
            // not a config; a named one is read as asked (`<(cmd)` is a pipe).
            Ok(m) if !m.is_file() && !t.required => out.checked += 1,
            Ok(_) => scan_one(&mut out, &mut seen, &t.path, t.kind),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !t.required => out.checked += 1,
            Err(source) => {
                out.checked += 1;
                out.errors.push(ScanError::Io {
                    path: t.path.clone(),
                    source,
                });
            }
        }
    }
    out
}

fn scan_one(out: &mut Outcome, seen: &mut Vec<PathBuf>, path: &Path, kind: Option<FileKind>) {
    if seen.iter().any(|p| p == path) {
        return;
    }
    seen.push(path.to_path_buf());
    out.checked += 1;
    match scan_file_all(path, kind) {
        Ok(found) => {
            out.scanned.push(path.to_path_buf());
            out.findings.extend(found.findings);
            out.skipped.extend(found.skipped);
        }
        Err(e) => out.errors.push(e),
    }
}

/// The files below `dir` that `keyward scan DIR` reads (known client
/// configs, `.env*`, shell rc files), in a stable order, at most
/// [`MAX_DEPTH`] levels down, never through symlinked directories or into
/// [`SKIP_DIRS`]. Also returns warnings for what could not be listed.
pub fn discover(dir: &Path) -> (Vec<(PathBuf, FileKind)>, Vec<String>) {
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    let mut visited = 0usize;
    while let Some((d, depth)) = stack.pop() {
        let entries = match fs::read_dir(&d) {
            Ok(rd) => rd,
            Err(e) => {
                warnings.push(format!("cannot list {}: {e}", d.display()));
                continue;
            }
        };
        let mut names: Vec<(PathBuf, fs::FileType)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_type().ok().map(|t| (e.path(), t)))
            .collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let mut subdirs = Vec::new();
        for (path, ty) in names {
            visited += 1;
            if visited > MAX_ENTRIES {
                warnings.push(format!(
                    "stopped after {MAX_ENTRIES} entries below {}",
                    dir.display()
                ));
                return (files, warnings);
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if ty.is_dir() {
                if depth < MAX_DEPTH && !SKIP_DIRS.contains(&name) {
                    subdirs.push((path, depth + 1));
                }
            } else if (ty.is_file() || ty.is_symlink())
                && let Some(kind) = FileKind::of_known_name(&path)
                && fs::metadata(&path).is_ok_and(|m| m.is_file())
            {
                files.push((path, kind));
            }
        }
        // Depth-first, in name order.
        stack.extend(subdirs.into_iter().rev());
    }
    (files, warnings)
}
