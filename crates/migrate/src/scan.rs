//! Plaintext secrets in files: every string leaf of a config (or every
//! assignment of a `.env`/rc file) through [`detect`](crate::detect), as
//! [`Finding`]s that carry a masked preview and no value.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::detect;
use crate::locate::{self, Format};
use crate::walk::{self, Leaf, PathSeg, WalkError};

/// Files bigger than this are not read (`~/.claude.json` grows with
/// history, but stays well under it).
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// How to read a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    Json,
    Jsonc,
    Toml,
    /// `.env`: `KEY=value`, `export KEY="value"`.
    Env,
    /// A shell rc file: its `export KEY=value` (and `KEY=value`) lines.
    Shell,
}

impl From<Format> for FileKind {
    fn from(f: Format) -> FileKind {
        match f {
            Format::Json => FileKind::Json,
            Format::Jsonc => FileKind::Jsonc,
            Format::Toml => FileKind::Toml,
        }
    }
}

/// Shell start-up files whose exports are worth a look.
pub const RC_FILES: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".kshrc",
    ".envrc",
];

/// Config file names that hold MCP servers wherever they are.
const CONFIG_NAMES: &[&str] = &[
    "claude_desktop_config.json",
    ".claude.json",
    ".mcp.json",
    "mcp.json",
    "mcp_config.json",
];

impl FileKind {
    /// The kind a file's name says it is, if it is one `keyward scan DIR`
    /// looks at: known client configs, `.env*`, shell rc files.
    pub fn of_known_name(path: &Path) -> Option<FileKind> {
        if let Some((_, format)) = locate::guess(path) {
            return Some(format.into());
        }
        let name = path.file_name()?.to_str()?;
        if CONFIG_NAMES.contains(&name) {
            Some(FileKind::Jsonc)
        } else if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") {
            Some(FileKind::Env)
        } else if RC_FILES.contains(&name) {
            Some(FileKind::Shell)
        } else {
            None
        }
    }

    /// The kind of a file named on the command line: by name, then by
    /// extension, then by its first character (`{`/`[`: JSON, else
    /// assignments).
    pub fn of_file(path: &Path, text: &str) -> FileKind {
        if let Some(k) = FileKind::of_known_name(path) {
            return k;
        }
        match path.extension().and_then(|e| e.to_str()) {
            Some("json" | "jsonc" | "json5") => FileKind::Jsonc,
            Some("toml") => FileKind::Toml,
            _ if text.trim_start().starts_with(['{', '[']) => FileKind::Jsonc,
            _ => FileKind::Env,
        }
    }
}

/// A plaintext secret: where it is and what it looks like. There is no
/// value field, so no rendering of a finding can print one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub file: PathBuf,
    /// `mcpServers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN`, `args[3]`, `OPENAI_API_KEY`.
    pub path: String,
    pub line: Option<usize>,
    pub rule: &'static str,
    pub title: &'static str,
    /// `ghp_…a1B2`.
    pub preview: String,
}

/// A value that looks like a secret but was passed over as a placeholder
/// or an example (`postgres://app:…@db.example.com/app`): counted and, on
/// request, listed, so that a real value is never skipped unseen. Masked
/// like a [`Finding`]; no value field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub file: PathBuf,
    pub path: String,
    pub line: Option<usize>,
    /// The rule it would have matched.
    pub rule: &'static str,
    pub title: &'static str,
    pub preview: String,
    /// Why it was skipped: `contains "example"`, `placeholder word`.
    pub reason: &'static str,
}

/// What one file holds: findings, and values skipped as placeholders.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileScan {
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: larger than {} MiB, not scanned", path.display(), MAX_FILE_BYTES / (1024 * 1024))]
    TooLarge { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Parse { path: PathBuf, source: WalkError },
}

impl ScanError {
    pub fn path(&self) -> &Path {
        match self {
            ScanError::Io { path, .. }
            | ScanError::TooLarge { path }
            | ScanError::Parse { path, .. } => path,
        }
    }
}

/// Reads and scans one file; `hint` says how to read it (else its name,
/// extension or first character decide).
pub fn scan_file(path: &Path, hint: Option<FileKind>) -> Result<Vec<Finding>, ScanError> {
    scan_file_all(path, hint).map(|s| s.findings)
}

/// [`scan_file`], with the values skipped as placeholders or examples.
pub fn scan_file_all(path: &Path, hint: Option<FileKind>) -> Result<FileScan, ScanError> {
    let text = read_bounded(path)?;
    let kind = hint.unwrap_or_else(|| FileKind::of_file(path, &text));
    scan_text_all(path, &text, kind).map_err(|source| ScanError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Scans text already read; `file` only labels the findings.
pub fn scan_text(file: &Path, text: &str, kind: FileKind) -> Result<Vec<Finding>, WalkError> {
    scan_text_all(file, text, kind).map(|s| s.findings)
}

/// [`scan_text`], with the values skipped as placeholders or examples.
pub fn scan_text_all(file: &Path, text: &str, kind: FileKind) -> Result<FileScan, WalkError> {
    let leaves = match kind {
        FileKind::Json => walk::leaves(text, Format::Json)?,
        FileKind::Jsonc => walk::leaves(text, Format::Jsonc)?,
        FileKind::Toml => walk::leaves(text, Format::Toml)?,
        FileKind::Env | FileKind::Shell => walk::env_leaves(text),
    };
    Ok(scan_leaves(file, &leaves))
}

/// The findings among `leaves` (in their order).
pub fn findings_in(file: &Path, leaves: &[Leaf]) -> Vec<Finding> {
    scan_leaves(file, leaves).findings
}

/// The findings and skipped values among `leaves` (in their order).
pub fn scan_leaves(file: &Path, leaves: &[Leaf]) -> FileScan {
    let mut out = FileScan::default();
    for (i, leaf) in leaves.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|j| leaves.get(j));
        let key = key_of(leaf, prev);
        match detect::verdict(key, &leaf.value) {
            detect::Verdict::Found(m) => out.findings.push(Finding {
                file: file.to_path_buf(),
                path: leaf.dotted(),
                line: leaf.line,
                rule: m.detection.rule,
                title: m.detection.title,
                preview: m.preview(&leaf.value),
            }),
            detect::Verdict::Skipped(m, reason) => out.skipped.push(Skipped {
                file: file.to_path_buf(),
                path: leaf.dotted(),
                line: leaf.line,
                rule: m.detection.rule,
                title: m.detection.title,
                preview: m.preview(&leaf.value),
                reason,
            }),
            detect::Verdict::Clean => {}
        }
    }
    out
}

/// The name a value sits under: its key, or for an array element the flag
/// just before it (`["--api-key", "X"]`).
fn key_of<'a>(leaf: &'a Leaf, prev: Option<&'a Leaf>) -> Option<&'a str> {
    match leaf.path.split_last() {
        Some((PathSeg::Key(k), _)) => Some(k),
        Some((PathSeg::Index(i), parent)) => {
            let prev = prev?;
            let (PathSeg::Index(j), prev_parent) = prev.path.split_last()? else {
                return None;
            };
            let flag = prev.value.trim();
            let is_flag = flag.starts_with('-') && flag.len() > 1 && !flag.contains(['=', ' ']);
            (*j + 1 == *i && prev_parent == parent && is_flag).then(|| flag.trim_start_matches('-'))
        }
        None => None,
    }
}

fn read_bounded(path: &Path) -> Result<String, ScanError> {
    let io_err = |source| ScanError::Io {
        path: path.to_path_buf(),
        source,
    };
    let f = fs::File::open(path).map_err(io_err)?;
    let meta = f.metadata().map_err(io_err)?;
    if meta.is_dir() {
        return Err(io_err(io::Error::other("is a directory")));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(ScanError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ScanError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    // Invalid UTF-8 is replaced, not refused: a latin-1 `.env` still
    // has ASCII tokens in it.
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

mod run;

pub use run::{MAX_DEPTH, MAX_ENTRIES, Outcome, Target, discover, run};

#[cfg(test)]
mod tests;
