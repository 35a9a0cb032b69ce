//! Agent tokens for `keyward serve --http`.
//!
//! `keyward agent add NAME` makes a fresh token (`kwa_` and 32 random bytes,
//! base64url) and prints it once; only its SHA-256 is kept, in
//! `agents.json` in the data directory (mode 0600, replaced atomically under
//! a lock file). The service authenticates each request by hashing the
//! presented token and comparing it, in constant time, with every stored
//! hash. It re-reads the file whenever it changed (size, mtime, inode), so
//! `keyward agent rm` takes effect on the next request, without a restart.
//! A file that cannot be read or parsed authenticates nobody.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;
use jiff::Timestamp;
use keyward_vault::SecretValue;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Every agent token starts with this (so scanners and humans can tell it).
pub const TOKEN_PREFIX: &str = "kwa_";
const TOKEN_BYTES: usize = 32;
/// The file, in the data directory.
pub const AGENTS_FILE: &str = "agents.json";
const MAX_NAME_LEN: usize = 64;
/// A token file is small; this bounds a hostile one.
const MAX_FILE_LEN: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} is not a valid agent file: {detail}")]
    Corrupted { path: PathBuf, detail: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("an agent named `{0}` exists already (remove it first with `keyward agent rm {0}`)")]
    Exists(String),
    #[error("no agent named `{0}`")]
    NotFound(String),
    #[error(
        "invalid agent name `{0}`: use 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit"
    )]
    BadName(String),
    #[error("cannot get random bytes: {0}")]
    Random(getrandom::Error),
}

/// One agent as `keyward agent list` shows it (no token, no hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentInfo {
    pub name: String,
    pub created: Timestamp,
}

#[derive(Clone, Serialize, Deserialize)]
struct Record {
    name: String,
    created: Timestamp,
    /// Hex SHA-256 of the whole token.
    sha256: String,
}

#[derive(Default, Serialize, Deserialize)]
struct Document {
    version: u32,
    agents: Vec<Record>,
}

/// Checks an agent name: it ends up in the audit log and in terminals.
pub fn validate_name(name: &str) -> Result<(), AgentError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AgentError::BadName(
            name.chars().filter(|c| !c.is_control()).take(80).collect(),
        ))
    }
}

fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

fn new_token() -> Result<SecretValue, AgentError> {
    let mut bytes = zeroize::Zeroizing::new([0u8; TOKEN_BYTES]);
    getrandom::fill(bytes.as_mut()).map_err(AgentError::Random)?;
    let body = zeroize::Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref()),
    );
    Ok(SecretValue::from_string(format!("{TOKEN_PREFIX}{}", *body)))
}

fn read_document(path: &Path) -> Result<Document, AgentError> {
    let bytes = match File::open(path) {
        Ok(f) => {
            let mut buf = Vec::new();
            io::Read::read_to_end(&mut io::Read::take(f, MAX_FILE_LEN + 1), &mut buf).map_err(
                |source| AgentError::Read {
                    path: path.to_path_buf(),
                    source,
                },
            )?;
            buf
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Document::default()),
        Err(source) => {
            return Err(AgentError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let corrupted = |detail: String| AgentError::Corrupted {
        path: path.to_path_buf(),
        detail,
    };
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(corrupted("larger than 1 MiB".into()));
    }
    let doc: Document = serde_json::from_slice(&bytes)
        .map_err(|e| corrupted(format!("line {} column {}", e.line(), e.column())))?;
    for r in &doc.agents {
        if hex::decode(&r.sha256).map(|h| h.len()) != Ok(32) {
            return Err(corrupted(format!("agent `{}` has no valid hash", r.name)));
        }
    }
    Ok(doc)
}

/// The file's writers (`keyward agent add/rm`) take this lock; readers need
/// none, because the file is replaced by rename.
fn lock(path: &Path) -> Result<keyward_fsio::LockFile, AgentError> {
    let lock_path = keyward_fsio::sibling(path, ".lock");
    let err = |e: keyward_fsio::Error| AgentError::Write {
        path: lock_path.clone(),
        source: e.into_io(),
    };
    if let Some(dir) = path.parent() {
        keyward_fsio::create_private_dir(dir).map_err(err)?;
    }
    keyward_fsio::lock_exclusive(&lock_path).map_err(err)
}

fn save(path: &Path, doc: &Document) -> Result<(), AgentError> {
    let mut text = serde_json::to_vec_pretty(doc).unwrap_or_default();
    text.push(b'\n');
    keyward_fsio::write_private(path, &text).map_err(|e| AgentError::Write {
        path: path.to_path_buf(),
        source: e.into_io(),
    })
}

/// Adds agent `name` with a fresh token, created at `now`; returns the
/// token (the only time it exists outside the caller's terminal).
pub fn add(path: &Path, name: &str, now: Timestamp) -> Result<SecretValue, AgentError> {
    validate_name(name)?;
    let _lock = lock(path)?;
    let mut doc = read_document(path)?;
    if doc.agents.iter().any(|a| a.name == name) {
        return Err(AgentError::Exists(name.to_string()));
    }
    let token = new_token()?;
    doc.version = 1;
    doc.agents.push(Record {
        name: name.to_string(),
        created: now,
        sha256: hex::encode(digest(token.expose())),
    });
    save(path, &doc)?;
    Ok(token)
}

/// Removes agent `name`: its token stops working on the service's next
/// request.
pub fn remove(path: &Path, name: &str) -> Result<(), AgentError> {
    let _lock = lock(path)?;
    let mut doc = read_document(path)?;
    let before = doc.agents.len();
    doc.agents.retain(|a| a.name != name);
    if doc.agents.len() == before {
        return Err(AgentError::NotFound(name.to_string()));
    }
    save(path, &doc)
}

/// The agents, in the order they were added.
pub fn list(path: &Path) -> Result<Vec<AgentInfo>, AgentError> {
    Ok(read_document(path)?
        .agents
        .into_iter()
        .map(|r| AgentInfo {
            name: r.name,
            created: r.created,
        })
        .collect())
}

/// What identifies one version of the file on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp {
        len: m.len(),
        modified: m.modified().ok(),
        inode,
    })
}

struct Loaded {
    /// `None`: the file did not exist when last looked at.
    stamp: Option<Stamp>,
    agents: Vec<(String, [u8; 32])>,
}

/// The service's view of the agent file, following its changes.
pub struct AgentStore {
    path: PathBuf,
    loaded: Mutex<Loaded>,
}

impl std::fmt::Debug for AgentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl AgentStore {
    /// Opens the store; fails if the file exists but cannot be read, so the
    /// service does not start on a broken file.
    pub fn open(path: &Path) -> Result<AgentStore, AgentError> {
        let store = AgentStore {
            path: path.to_path_buf(),
            loaded: Mutex::new(Loaded {
                stamp: None,
                agents: Vec::new(),
            }),
        };
        let (stamp, agents) = store.read()?;
        *store.lock() = Loaded { stamp, agents };
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Loaded> {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[allow(clippy::type_complexity)]
    fn read(&self) -> Result<(Option<Stamp>, Vec<(String, [u8; 32])>), AgentError> {
        let before = stamp(&self.path);
        let doc = read_document(&self.path)?;
        let agents = doc
            .agents
            .into_iter()
            .filter_map(|r| {
                let h: [u8; 32] = hex::decode(&r.sha256).ok()?.try_into().ok()?;
                Some((r.name, h))
            })
            .collect();
        Ok((before, agents))
    }

    /// Re-reads the file if it changed since it was last read. On a read
    /// error nobody is authenticated until the file is fixed.
    fn refresh(&self, loaded: &mut Loaded) {
        let now = stamp(&self.path);
        if now == loaded.stamp {
            return;
        }
        match self.read() {
            Ok((stamp, agents)) => {
                loaded.stamp = stamp;
                loaded.agents = agents;
            }
            Err(e) => {
                tracing::error!(error = %e, "the agent token file cannot be read; every request is refused until it is fixed");
                loaded.stamp = now;
                loaded.agents.clear();
            }
        }
    }

    /// The name of the agent whose token this is, if any. Every stored hash
    /// is compared, each in constant time.
    pub fn authenticate(&self, token: &[u8]) -> Option<String> {
        if !token.starts_with(TOKEN_PREFIX.as_bytes()) {
            return None;
        }
        let presented = digest(token);
        let mut loaded = self.lock();
        self.refresh(&mut loaded);
        let mut found = None;
        for (name, hash) in &loaded.agents {
            if bool::from(hash.ct_eq(&presented)) && found.is_none() {
                found = Some(name.clone());
            }
        }
        found
    }

    /// How many agents can authenticate now.
    pub fn count(&self) -> usize {
        let mut loaded = self.lock();
        self.refresh(&mut loaded);
        loaded.agents.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-01-02T03:04:05Z".parse().unwrap()
    }

    fn token_str(t: &SecretValue) -> String {
        t.expose_str().unwrap().to_string()
    }

    #[test]
    fn tokens_are_prefixed_random_and_only_their_hash_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AGENTS_FILE);
        let a = token_str(&add(&path, "claude", now()).unwrap());
        let b = token_str(&add(&path, "cursor", now()).unwrap());
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 43);
        assert_ne!(a, b);
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&a) && !text.contains(&a[TOKEN_PREFIX.len()..]));
        assert!(text.contains(&hex::encode(digest(a.as_bytes()))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let names: Vec<_> = list(&path).unwrap().into_iter().map(|a| a.name).collect();
        assert_eq!(names, ["claude", "cursor"]);
        assert_eq!(list(&path).unwrap()[0].created, now());
    }

    #[test]
    fn authenticate_names_the_tokens_agent_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AGENTS_FILE);
        let a = token_str(&add(&path, "claude", now()).unwrap());
        let b = token_str(&add(&path, "cursor", now()).unwrap());
        let store = AgentStore::open(&path).unwrap();
        assert_eq!(store.authenticate(a.as_bytes()).as_deref(), Some("claude"));
        assert_eq!(store.authenticate(b.as_bytes()).as_deref(), Some("cursor"));
        let mut wrong = a.clone().into_bytes();
        let last = wrong.len() - 1;
        wrong[last] ^= 1;
        assert_eq!(store.authenticate(&wrong), None);
        assert_eq!(store.authenticate(b""), None);
        assert_eq!(
            store.authenticate(&a.as_bytes()[TOKEN_PREFIX.len()..]),
            None
        );
        // The stored hash itself is not a token.
        let hash = hex::encode(digest(a.as_bytes()));
        assert_eq!(store.authenticate(hash.as_bytes()), None);
    }

    #[test]
    fn removal_and_additions_take_effect_without_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AGENTS_FILE);
        let store = AgentStore::open(&path).unwrap();
        assert_eq!(store.count(), 0);
        let a = token_str(&add(&path, "claude", now()).unwrap());
        assert_eq!(store.authenticate(a.as_bytes()).as_deref(), Some("claude"));
        remove(&path, "claude").unwrap();
        assert_eq!(store.authenticate(a.as_bytes()), None);
        assert!(matches!(
            remove(&path, "claude"),
            Err(AgentError::NotFound(_))
        ));
    }

    #[test]
    fn a_broken_file_authenticates_nobody() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AGENTS_FILE);
        let a = token_str(&add(&path, "claude", now()).unwrap());
        let store = AgentStore::open(&path).unwrap();
        assert!(store.authenticate(a.as_bytes()).is_some());
        fs::write(&path, b"{ not json, and longer than before").unwrap();
        assert_eq!(store.authenticate(a.as_bytes()), None);
        assert!(matches!(
            AgentStore::open(&path),
            Err(AgentError::Corrupted { .. })
        ));
        assert!(matches!(
            add(&path, "x", now()),
            Err(AgentError::Corrupted { .. })
        ));
    }

    #[test]
    fn names_are_checked_and_unique() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AGENTS_FILE);
        for bad in ["", "-x", "a b", "a\nb", "é", &"a".repeat(65)] {
            assert!(
                matches!(add(&path, bad, now()), Err(AgentError::BadName(_))),
                "{bad:?}"
            );
        }
        add(&path, "claude-code_1.2", now()).unwrap();
        assert!(matches!(
            add(&path, "claude-code_1.2", now()),
            Err(AgentError::Exists(_))
        ));
    }
}
