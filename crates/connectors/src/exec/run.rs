//! Running one allow-listed program to completion, bounded in time and
//! output.

use std::fmt;
use std::os::unix::process::ExitStatusExt as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use keyward_vault::SecretValue;
use nix::sys::signal::Signal;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::time::{Instant, sleep_until};

use super::ExecError;
use super::command::{clean_command, kill_group};

/// How long the output pipes may stay open after the program itself has
/// exited (and its process group was killed). Only a process that left the
/// group (`setsid`) can hold them longer; we stop reading rather than wait.
const PIPE_GRACE: Duration = Duration::from_secs(1);

/// One run of a program. Built by the gateway after policy allowed the argv.
pub struct ExecSpec {
    /// Absolute path (see [`super::resolve_program`]).
    pub program: PathBuf,
    /// argv\[1..\], passed as is: no shell ever sees them.
    pub args: Vec<String>,
    /// Declared environment; values may be secrets.
    pub env: Vec<(String, SecretValue)>,
    /// The allow-listed part of keyward's environment (PATH, HOME, locale...).
    pub inherit: Vec<(String, String)>,
    /// Written to the program's stdin, which is then closed. `None`: stdin
    /// is `/dev/null`.
    pub stdin: Option<Vec<u8>>,
    pub cwd: Option<PathBuf>,
    pub timeout: Duration,
    /// Cap for stdout and for stderr, each.
    pub max_output_bytes: usize,
}

/// Debug without values: env values may be secrets and stdin may be large.
impl fmt::Debug for ExecSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        let inherit: Vec<&str> = self.inherit.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ExecSpec")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("env", &env)
            .field("inherit", &inherit)
            .field("stdin_len", &self.stdin.as_ref().map(Vec::len))
            .field("cwd", &self.cwd)
            .field("timeout", &self.timeout)
            .field("max_output_bytes", &self.max_output_bytes)
            .finish()
    }
}

/// What the program did. Output is raw: the gateway scrubs it before the
/// agent sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit code; `None` if the program was ended by a signal.
    pub status: Option<i32>,
    /// The signal that ended it (9 after a timeout).
    pub signal: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub timed_out: bool,
    pub duration: Duration,
}

/// Runs the program: clean environment (see `clean_command`), no shell, its
/// own process group.
///
/// - stdout and stderr are read concurrently, each kept up to
///   `max_output_bytes`; past the cap the rest is read and discarded, so the
///   program never blocks on a full pipe and ends on its own terms (the
///   timeout still bounds it). The `*_truncated` flags say so.
/// - On timeout the whole process group gets `SIGKILL` (grandchildren too),
///   and `timed_out` is set.
/// - When the program exits, whatever it left running in its group is
///   killed as well: a run leaves nothing behind.
pub async fn run(spec: ExecSpec) -> Result<ExecOutput, ExecError> {
    if !spec.program.is_absolute() {
        return Err(ExecError::NotAbsolute(spec.program));
    }
    let mut cmd = clean_command(
        &spec.program,
        &spec.args,
        &spec.inherit,
        &spec.env,
        spec.cwd.as_deref(),
    )?;
    cmd.stdin(if spec.stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());

    let started = Instant::now();
    let io_err = |e: std::io::Error| ExecError::Io {
        program: spec.program.clone(),
        reason: e.to_string(),
    };
    let mut child = cmd.spawn().map_err(|e| ExecError::Spawn {
        program: spec.program.clone(),
        reason: e.to_string(),
    })?;
    drop(cmd);
    let pid = child.id().unwrap_or(0);
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(io_err(std::io::Error::other("output pipes missing")));
    };
    let stdin = child.stdin.take().zip(spec.stdin);

    let mut out = Capture::new(spec.max_output_bytes);
    let mut err = Capture::new(spec.max_output_bytes);
    // `checked_add`: a caller may pass `Duration::MAX` for "no limit".
    let deadline = started
        .checked_add(spec.timeout)
        .unwrap_or_else(|| started + Duration::from_secs(100 * 365 * 86_400));
    // Scoped so the futures borrowing `out` and `err` end before we read them.
    let (status, timed_out) = {
        let io = async {
            tokio::join!(drain(stdout, &mut out), drain(stderr, &mut err), async {
                if let Some((mut pipe, data)) = stdin {
                    // A program that exits without reading all of its stdin
                    // gives EPIPE here: that is its choice, not an error.
                    let _ = pipe.write_all(&data).await;
                    let _ = pipe.shutdown().await;
                }
            });
        };
        tokio::pin!(io);
        let wait = child.wait();
        tokio::pin!(wait);

        let mut status = None;
        let mut io_done = false;
        let mut timed_out = false;
        let mut grace_until = None;
        loop {
            tokio::select! {
                r = &mut wait, if status.is_none() => {
                    status = Some(r.map_err(io_err)?);
                    kill_group(pid, Signal::SIGKILL);
                    grace_until = Some(Instant::now() + PIPE_GRACE);
                }
                () = &mut io, if !io_done => io_done = true,
                () = sleep_until(deadline), if !timed_out && status.is_none() => {
                    timed_out = true;
                    kill_group(pid, Signal::SIGKILL);
                }
                () = sleep_until(grace_until.unwrap_or(deadline)), if grace_until.is_some() && !io_done => {
                    break;
                }
            }
            if status.is_some() && io_done {
                break;
            }
        }
        (status, timed_out)
    };
    let Some(status) = status else {
        return Err(io_err(std::io::Error::other("exit status missing")));
    };
    Ok(ExecOutput {
        status: status.code(),
        signal: status.signal(),
        stdout_truncated: out.truncated,
        stderr_truncated: err.truncated,
        stdout: out.buf,
        stderr: err.buf,
        timed_out,
        duration: started.elapsed(),
    })
}

/// One output stream, kept up to a cap.
struct Capture {
    buf: Vec<u8>,
    max: usize,
    truncated: bool,
}

impl Capture {
    fn new(max: usize) -> Capture {
        Capture {
            buf: Vec::new(),
            max,
            truncated: false,
        }
    }

    fn push(&mut self, chunk: &[u8]) {
        let room = self.max.saturating_sub(self.buf.len());
        if chunk.len() > room {
            self.truncated = true;
        }
        self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
}

/// Reads to EOF (or the first read error, which ends the stream the same
/// way), keeping what fits.
async fn drain(mut pipe: impl AsyncRead + Unpin, cap: &mut Capture) {
    let mut chunk = vec![0u8; 16 * 1024];
    while let Ok(n @ 1..) = pipe.read(&mut chunk).await {
        cap.push(&chunk[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_keeps_exactly_the_cap() {
        let mut c = Capture::new(5);
        c.push(b"abc");
        assert!(!c.truncated);
        c.push(b"defg");
        c.push(b"hij");
        assert_eq!(c.buf, b"abcde");
        assert!(c.truncated);
        let mut c = Capture::new(3);
        c.push(b"abc");
        assert_eq!((c.buf.as_slice(), c.truncated), (&b"abc"[..], false));
    }
}
