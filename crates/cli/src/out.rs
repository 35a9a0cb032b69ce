//! Standard output, for every command: a reader that went away is not an
//! error.
//!
//! `keyward audit | head -1` closes the pipe after one line. std's
//! `println!` panics on the failed write that follows (and prints the
//! panic); here the first failed write marks stdout closed, and everything
//! printed after it is dropped. The command runs to its end and exits with
//! its own status, silently: a command that changes files is never cut
//! off half-way by a closed pipe. Loops that would print forever
//! (`audit --follow`) ask [`closed`] and stop.
//!
//! The crate root shadows `println!` and `print!` with this module's
//! writer, so every command (and every command added later) prints through
//! it; `clippy::print_stdout` flags a `std::println!` that would bypass it.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `args` to stdout (and flushes when `flush`); a failed write
/// closes it for the rest of the process. Another error than a closed
/// pipe (a full disk behind a redirect) is said once, on stderr.
pub(crate) fn write(args: fmt::Arguments<'_>, flush: bool) {
    if closed() {
        return;
    }
    let mut out = io::stdout().lock();
    let result = out
        .write_fmt(args)
        .and_then(|()| if flush { out.flush() } else { Ok(()) });
    if let Err(e) = result {
        CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != io::ErrorKind::BrokenPipe {
            let _ = writeln!(
                io::stderr(),
                "keyward: cannot write to standard output: {e}"
            );
        }
    }
}

/// Whether stdout's reader has gone (a write failed).
pub(crate) fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn printing_after_a_failure_is_a_no_op() {
        super::CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
        super::write(format_args!("not printed\n"), true);
        assert!(super::closed());
        super::CLOSED.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}
