//! Reading and verifying a log (for `keyward audit`). Readers take a shared
//! file lock so they never see a record half-written by an appender.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::error::{AuditError, HeadProblem, Problem, VerifyError, describe_json_error};
use crate::head;
use crate::record::{GENESIS_PREV, Record, check_line};
use crate::tail::{ends_with_newline, last_lines, line_number_at};

/// Result of a successful [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Number of records, all intact and chained.
    pub records: u64,
    /// `hash` of the last record (`None` for an empty log): write it down
    /// elsewhere to detect later truncation or a recomputed chain.
    pub head: Option<String>,
}

/// Calls `each(line_number, line, terminated)` for every line, under a shared
/// lock. Stops at the first `Err` from `each`.
fn for_each_line<E>(
    file: &File,
    mut each: impl FnMut(u64, &[u8], bool) -> Result<(), E>,
    io_err: impl Fn(std::io::Error) -> E,
) -> Result<(), E> {
    let mut reader = BufReader::new(file);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(&io_err)? == 0 {
            return Ok(());
        }
        line_no += 1;
        let terminated = buf.last() == Some(&b'\n');
        if terminated {
            buf.pop();
        }
        each(line_no, &buf, terminated)?;
    }
}

fn open_shared(path: &Path) -> std::io::Result<File> {
    let file = File::open(path)?;
    file.lock_shared()?;
    Ok(file)
}

/// All records, oldest first. Does not check the chain (see [`verify`]); a
/// line that is not a record is an error naming its line number.
pub fn read_records(path: &Path) -> Result<Vec<Record>, AuditError> {
    let file = open_shared(path).map_err(AuditError::io("open", path))?;
    let mut records = Vec::new();
    for_each_line(
        &file,
        |line, bytes, terminated| {
            let malformed = |detail: String| AuditError::Malformed {
                path: path.to_path_buf(),
                line,
                detail,
            };
            if !terminated {
                return Err(malformed("incomplete last line (torn write?)".into()));
            }
            records.push(
                serde_json::from_slice(bytes).map_err(|e| malformed(describe_json_error(&e)))?,
            );
            Ok(())
        },
        AuditError::io("read", path),
    )?;
    Ok(records)
}

/// The last `n` records, oldest first, reading only the end of the file.
pub fn read_last(path: &Path, n: usize) -> Result<Vec<Record>, AuditError> {
    let file = open_shared(path).map_err(AuditError::io("open", path))?;
    let len = file.metadata().map_err(AuditError::io("stat", path))?.len();
    if !ends_with_newline(&file, len).map_err(AuditError::io("read", path))? {
        return Err(AuditError::TornTail {
            path: path.to_path_buf(),
        });
    }
    let tail = last_lines(&file, len, n).map_err(AuditError::io("read", path))?;
    let mut records = Vec::with_capacity(tail.lines.len());
    for (i, bytes) in tail.lines.iter().enumerate() {
        match serde_json::from_slice(bytes) {
            Ok(record) => records.push(record),
            Err(e) => {
                let first =
                    line_number_at(&file, tail.start).map_err(AuditError::io("read", path))?;
                let line = first + i as u64;
                return Err(AuditError::Malformed {
                    path: path.to_path_buf(),
                    line,
                    detail: describe_json_error(&e),
                });
            }
        }
    }
    Ok(records)
}

/// The records in the complete lines from byte `offset` on, oldest first,
/// and the offset after the last of them: for following a log as it grows
/// (`keyward audit --follow`). A line still being written is left for the
/// next call. `offset` must be 0 or an offset this function returned; a
/// log shorter than `offset` (rewritten, or cut) is [`AuditError::Shrunk`].
pub fn read_from(path: &Path, offset: u64) -> Result<(Vec<Record>, u64), AuditError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = open_shared(path).map_err(AuditError::io("open", path))?;
    let len = file.metadata().map_err(AuditError::io("stat", path))?.len();
    if len < offset {
        return Err(AuditError::Shrunk {
            path: path.to_path_buf(),
            expected: offset,
            found: len,
        });
    }
    file.seek(SeekFrom::Start(offset))
        .map_err(AuditError::io("read", path))?;
    let mut buf = Vec::new();
    (&file)
        .take(len - offset)
        .read_to_end(&mut buf)
        .map_err(AuditError::io("read", path))?;
    let complete = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut records = Vec::new();
    for bytes in buf[..complete].split(|&b| b == b'\n') {
        if bytes.is_empty() {
            continue;
        }
        match serde_json::from_slice(bytes) {
            Ok(record) => records.push(record),
            Err(e) => {
                return Err(AuditError::Malformed {
                    path: path.to_path_buf(),
                    line: line_number_at(&file, offset).map_err(AuditError::io("read", path))?
                        + records.len() as u64,
                    detail: describe_json_error(&e),
                });
            }
        }
    }
    Ok((records, offset + complete as u64))
}

/// Checks the whole chain. `Ok` when every line is a record whose bytes match
/// its `hash`, whose `prev` is the previous record's `hash` (64 zeros for
/// the first) and whose `seq` is the previous plus one (1 for the first).
/// Otherwise names the first bad line and why.
pub fn verify(path: &Path) -> Result<VerifyReport, VerifyError> {
    let io_err = |source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = open_shared(path).map_err(io_err)?;
    let anchor = head::read(path).map_err(|()| VerifyError::Head {
        problem: HeadProblem::Unreadable,
    })?;
    let mut anchored_hash: Option<String> = None;
    let mut prev = GENESIS_PREV.to_owned();
    let mut expected_seq = 1u64;
    let mut records = 0u64;
    for_each_line(
        &file,
        |line, bytes, terminated| {
            let broken = |seq, problem| VerifyError::Broken { line, seq, problem };
            if !terminated {
                return Err(broken(None, Problem::Unterminated));
            }
            let record = check_line(bytes).map_err(|(seq, problem)| broken(seq, problem))?;
            let seq = Some(record.seq);
            if record.prev != prev {
                return Err(broken(seq, Problem::PrevMismatch));
            }
            if record.seq != expected_seq {
                return Err(broken(
                    seq,
                    Problem::SeqGap {
                        expected: expected_seq,
                        found: record.seq,
                    },
                ));
            }
            if anchor.as_ref().is_some_and(|(s, _)| *s == record.seq) {
                anchored_hash = Some(record.hash.clone());
            }
            prev = record.hash;
            expected_seq += 1;
            records += 1;
            Ok(())
        },
        io_err,
    )?;
    match anchor {
        None if records > 0 => {
            return Err(VerifyError::Head {
                problem: HeadProblem::Missing,
            });
        }
        None => {}
        Some((seq, _)) if seq > records => {
            return Err(VerifyError::Head {
                problem: HeadProblem::Truncated {
                    last: records,
                    head: seq,
                },
            });
        }
        Some((seq, hash)) if anchored_hash.as_deref() != Some(hash.as_str()) => {
            return Err(VerifyError::Head {
                problem: HeadProblem::Mismatch { seq },
            });
        }
        Some(_) => {}
    }
    Ok(VerifyReport {
        records,
        head: (records > 0).then_some(prev),
    })
}
