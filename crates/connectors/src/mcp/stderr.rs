//! The child's stderr: read line by line, scrubbed, handed to the gateway,
//! and the last lines kept for error messages.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use keyward_redact::Scrubber;
use tokio::io::{AsyncRead, AsyncReadExt as _};
use tokio::sync::watch;

/// How many stderr lines an upstream keeps for error messages.
pub(crate) const TAIL_LINES: usize = 20;
/// Longer lines are handed on in pieces of this size, so a child that
/// writes without newlines cannot make keyward buffer without bound.
pub(crate) const MAX_LINE: usize = 4096;

/// The last [`TAIL_LINES`] lines, shared between the reader task and the
/// upstream handle.
#[derive(Clone, Default)]
pub(crate) struct StderrTail {
    lines: Arc<Mutex<VecDeque<String>>>,
}

impl StderrTail {
    pub(crate) fn snapshot(&self) -> Vec<String> {
        let lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        lines.iter().cloned().collect()
    }

    fn push(&self, line: String) {
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() == TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }
}

/// Reads `pipe` to EOF. Each line is scrubbed with the upstream's own
/// scrubber, passed to `on_line` and kept in `tail`. `done` is set at EOF
/// so that a failed start can wait for the last words of a dying child.
pub(crate) async fn read_lines(
    mut pipe: impl AsyncRead + Unpin,
    scrubber: Scrubber,
    tail: StderrTail,
    on_line: Arc<dyn Fn(&str) + Send + Sync>,
    done: watch::Sender<bool>,
) {
    let emit = |raw: &[u8]| {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let (line, _) = scrubber.scrub_str(&String::from_utf8_lossy(raw));
        on_line(&line);
        tail.push(line);
    };
    let mut buf: Vec<u8> = Vec::with_capacity(MAX_LINE);
    let mut chunk = [0u8; 4096];
    // The whole stream goes through the streaming scrubber BEFORE it is cut
    // into lines and pieces: scrubbing each piece alone missed a secret
    // written across a piece boundary.
    let mut stream = scrubber.stream();
    while let Ok(n @ 1..) = pipe.read(&mut chunk).await {
        buf.extend_from_slice(&stream.push(&chunk[..n]));
        let mut start = 0;
        while let Some(pos) = buf[start..].iter().position(|&b| b == b'\n') {
            let end = start + pos;
            for piece in buf[start..end].chunks(MAX_LINE) {
                emit(piece);
            }
            start = end + 1;
        }
        buf.drain(..start);
        while buf.len() >= MAX_LINE {
            emit(&buf[..MAX_LINE]);
            buf.drain(..MAX_LINE);
        }
    }
    buf.extend_from_slice(&stream.finish());
    let mut start = 0;
    while let Some(pos) = buf[start..].iter().position(|&b| b == b'\n') {
        for piece in buf[start..start + pos].chunks(MAX_LINE) {
            emit(piece);
        }
        start += pos + 1;
    }
    if start < buf.len() {
        for piece in buf[start..].chunks(MAX_LINE) {
            emit(piece);
        }
    }
    done.send_replace(true);
}

#[cfg(test)]
mod tests {
    use keyward_redact::{REDACTED, ScrubberBuilder};

    use super::*;

    /// Regression (review): a secret written across the 4 KiB piece
    /// boundary of a long line came out in two unscrubbed halves.
    #[tokio::test]
    async fn a_secret_across_a_piece_boundary_is_scrubbed() {
        for offset in [1, 5, 10, 18] {
            let mut input = vec![b'x'; MAX_LINE - offset];
            input.extend_from_slice(b"kw_canary_stderr_91");
            input.extend_from_slice(b" tail\n");
            let (seen, tail) = lines_of(&input).await;
            let joined = seen.join("\n") + &tail.join("\n");
            assert!(
                !joined.replace('\n', "").contains("kw_canary_stderr_91"),
                "offset {offset}"
            );
            // The marker itself may be cut by the piece boundary.
            assert!(
                joined.replace('\n', "").contains(REDACTED),
                "offset {offset}"
            );
        }
    }

    async fn lines_of(input: &[u8]) -> (Vec<String>, Vec<String>) {
        let mut b = ScrubberBuilder::new();
        b.add_secret(b"kw_canary_stderr_91");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let tail = StderrTail::default();
        let (tx, rx) = watch::channel(false);
        read_lines(
            input,
            b.build(),
            tail.clone(),
            Arc::new(move |l: &str| seen2.lock().unwrap().push(l.to_string())),
            tx,
        )
        .await;
        assert!(*rx.borrow());
        let seen = seen.lock().unwrap().clone();
        (seen, tail.snapshot())
    }

    #[tokio::test]
    async fn splits_lines_scrubs_and_keeps_a_bounded_tail() {
        let mut input = Vec::new();
        for i in 0..30 {
            input.extend_from_slice(format!("line {i}\r\n").as_bytes());
        }
        input.extend_from_slice(b"token=kw_canary_stderr_91\nno newline at end");
        let (seen, tail) = lines_of(&input).await;
        assert_eq!(seen.len(), 32);
        assert_eq!(seen[0], "line 0");
        assert_eq!(seen[30], format!("token={REDACTED}"));
        assert_eq!(seen[31], "no newline at end");
        assert_eq!(tail.len(), TAIL_LINES);
        assert_eq!(tail.last().map(String::as_str), Some("no newline at end"));
        assert!(!tail.concat().contains("kw_canary"));
    }

    #[tokio::test]
    async fn a_line_without_newline_is_cut_into_bounded_pieces() {
        let input = vec![b'x'; MAX_LINE * 2 + 10];
        let (seen, _) = lines_of(&input).await;
        let lens: Vec<usize> = seen.iter().map(String::len).collect();
        assert_eq!(lens, vec![MAX_LINE, MAX_LINE, 10]);
    }
}
