//! The appender: one record per call, chained, safe with several threads and
//! several keyward processes writing the same file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;

use crate::error::AuditError;
use crate::head;
use crate::record::{Event, GENESIS_PREV, Record, seal};
use crate::tail::{ends_with_newline, last_lines};

/// An open audit log. `Send + Sync`; share it behind an `Arc`.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    file: File,
    /// Length of the file after our last read or append; `None` forces a
    /// re-read of the tail.
    known_len: Option<u64>,
    /// The last record in the file: (seq, hash); `None` for an empty file.
    tip: Option<(u64, String)>,
    /// `<log>.head`, rewritten after every append (see `head.rs`).
    head: File,
}

/// Holds an OS file lock (flock on unix) and releases it on drop, also on
/// error paths.
struct FileLock<'a>(&'a File);

impl<'a> FileLock<'a> {
    fn exclusive(file: &'a File) -> std::io::Result<Self> {
        file.lock()?;
        Ok(Self(file))
    }

    fn shared(file: &'a File) -> std::io::Result<Self> {
        file.lock_shared()?;
        Ok(Self(file))
    }
}

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        // Closing the file would release it too; nothing useful to do on error.
        let _ = self.0.unlock();
    }
}

impl AuditLog {
    /// Opens the log, creating it (mode 0600 on unix, missing parent
    /// directories 0700) if needed, and reads its last record to continue
    /// the chain. An existing file readable by others is tightened to 0600.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            keyward_fsio::create_private_dir(parent)
                .map_err(|e| AuditError::io("create the directory of", path)(e.into_io()))?;
        }
        let file = open_private(path).map_err(AuditError::io("open", path))?;
        let (len, tip) = {
            let _lock = FileLock::shared(&file).map_err(AuditError::io("lock", path))?;
            let len = file.metadata().map_err(AuditError::io("stat", path))?.len();
            (len, read_tip(&file, len, path)?)
        };
        let head = head::open(path).map_err(AuditError::io("open the head file of", path))?;
        match (&tip, head::read(path)) {
            // A log from before head files, or whose head was lost: anchor
            // what is there now.
            (Some((seq, hash)), Ok(None)) => head::write(&head, *seq, hash)
                .map_err(AuditError::io("write the head file of", path))?,
            // The head is ahead of the log (or names another record): the
            // end was cut. A crash between an append and its head update
            // leaves the head one behind, which is fine.
            (tip, Ok(Some((head_seq, head_hash)))) => {
                let last = tip.as_ref().map_or(0, |(s, _)| *s);
                let differs = tip
                    .as_ref()
                    .is_some_and(|(s, h)| *s == head_seq && *h != head_hash);
                if head_seq > last || differs {
                    return Err(AuditError::Cut {
                        path: path.to_path_buf(),
                        last,
                        head: head_seq,
                    });
                }
            }
            _ => {}
        }
        let state = State {
            known_len: Some(len),
            tip,
            file,
            head,
        };
        Ok(AuditLog {
            path: path.to_path_buf(),
            state: Mutex::new(state),
        })
    }

    /// Appends one record and hands it to the OS before returning (the
    /// gateway answers the agent only after this returns `Ok`; on `Err` the
    /// call fails closed). Not fsynced: a record survives a crash of
    /// keyward, not necessarily a power cut.
    ///
    /// Holds an exclusive file lock for the duration; if the file grew since
    /// our last append (another process wrote), the chain continues from the
    /// record that process wrote.
    pub fn append(&self, event: Event) -> Result<Record, AuditError> {
        let mut guard = self.lock_state();
        let state = &mut *guard;
        let path = &self.path;
        let _lock = FileLock::exclusive(&state.file).map_err(AuditError::io("lock", path))?;
        let len = sync_tip(&state.file, &mut state.known_len, &mut state.tip, path)?;
        let (seq, prev) = match &state.tip {
            None => (1, GENESIS_PREV),
            Some((seq, hash)) => (seq + 1, hash.as_str()),
        };
        let (record, line) =
            seal(seq, Timestamp::now(), prev, event).map_err(AuditError::Encode)?;
        if let Err(e) = (&state.file).write_all(&line) {
            // A partial line would break the chain for every later append:
            // cut it off while we still hold the lock (best effort; if this
            // fails too, the next append reports a torn tail).
            let _ = state.file.set_len(len);
            state.known_len = None;
            return Err(AuditError::io("append to", path)(e));
        }
        state.known_len = Some(len + line.len() as u64);
        state.tip = Some((record.seq, record.hash.clone()));
        // Still under the log's lock, so heads of concurrent writers never
        // go backwards. The record is written; failing here still fails
        // the call closed.
        head::write(&state.head, record.seq, &record.hash)
            .map_err(AuditError::io("update the head file of", path))?;
        Ok(record)
    }

    /// Checks, without writing, that the next [`append`](Self::append) can
    /// continue the chain: the file has not shrunk and does not end in a
    /// torn or unreadable record. The gateway calls this before acting, so
    /// that a call which could not be recorded is never made at all. (An
    /// append can still fail afterwards, e.g. on a full disk; then the call
    /// fails closed after the fact.)
    pub fn preflight(&self) -> Result<(), AuditError> {
        let mut guard = self.lock_state();
        let state = &mut *guard;
        let _lock = FileLock::shared(&state.file).map_err(AuditError::io("lock", &self.path))?;
        sync_tip(
            &state.file,
            &mut state.known_len,
            &mut state.tip,
            &self.path,
        )
        .map(|_| ())
    }

    /// The file this log appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A panic while holding the mutex leaves our view of the file unknown,
    /// not wrong in a dangerous way: recover and force a re-read of the tail.
    fn lock_state(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => {
                let mut guard = poisoned.into_inner();
                guard.known_len = None;
                self.state.clear_poison();
                guard
            }
        }
    }
}

/// Brings our view of the file's end up to date (another process may have
/// appended) and returns its length. Refuses a file that shrank.
fn sync_tip(
    file: &File,
    known_len: &mut Option<u64>,
    tip: &mut Option<(u64, String)>,
    path: &Path,
) -> Result<u64, AuditError> {
    let len = file.metadata().map_err(AuditError::io("stat", path))?.len();
    match *known_len {
        Some(known) if len < known => Err(AuditError::Shrunk {
            path: path.to_path_buf(),
            expected: known,
            found: len,
        }),
        Some(known) if len == known => Ok(len),
        _ => {
            *tip = read_tip(file, len, path)?;
            *known_len = Some(len);
            Ok(len)
        }
    }
}

/// The (seq, hash) of the last record of the first `len` bytes.
fn read_tip(file: &File, len: u64, path: &Path) -> Result<Option<(u64, String)>, AuditError> {
    if !ends_with_newline(file, len).map_err(AuditError::io("read", path))? {
        return Err(AuditError::TornTail {
            path: path.to_path_buf(),
        });
    }
    let tail = last_lines(file, len, 1).map_err(AuditError::io("read", path))?;
    let Some(line) = tail.lines.first() else {
        return Ok(None);
    };
    let record: Record = serde_json::from_slice(line).map_err(|e| AuditError::Malformed {
        path: path.to_path_buf(),
        line: crate::tail::line_number_at(file, tail.start).unwrap_or(0),
        detail: crate::error::describe_json_error(&e),
    })?;
    Ok(Some((record.seq, record.hash)))
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    let mode = file.metadata()?.permissions().mode();
    if mode & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(file)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
}
