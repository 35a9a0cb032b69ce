//! Reading the end of a file without reading all of it: the log grows
//! forever, but opening it and `keyward audit` need only the last records.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

const BLOCK: u64 = 16 * 1024;

/// The tail of a file that ends with `\n`.
pub(crate) struct Tail {
    /// Byte offset where the first returned line starts.
    pub(crate) start: u64,
    /// Up to `n` last lines, oldest first, without their newlines.
    pub(crate) lines: Vec<Vec<u8>>,
}

/// Whether the last byte of the first `len` bytes is `\n` (true when empty).
pub(crate) fn ends_with_newline(mut file: &File, len: u64) -> io::Result<bool> {
    if len == 0 {
        return Ok(true);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// The last `n` lines among the first `len` bytes, which must end with `\n`
/// (check with [`ends_with_newline`] first).
pub(crate) fn last_lines(mut file: &File, len: u64, n: usize) -> io::Result<Tail> {
    if len == 0 || n == 0 {
        return Ok(Tail {
            start: len,
            lines: Vec::new(),
        });
    }
    // Everything but the final newline; we need `n` separators before the
    // wanted lines, or the start of the file.
    let content_end = len - 1;
    let mut pos = content_end;
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    let mut newlines = 0usize;
    while pos > 0 && newlines < n {
        let size = BLOCK.min(pos);
        pos -= size;
        let mut block = vec![0u8; usize::try_from(size).map_err(io::Error::other)?];
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(&mut block)?;
        newlines += block.iter().filter(|&&b| b == b'\n').count();
        blocks.push(block);
    }
    let buf: Vec<u8> = blocks.into_iter().rev().flatten().collect();
    let mut lines: Vec<&[u8]> = buf.split(|&b| b == b'\n').collect();
    let skip = lines.len().saturating_sub(n);
    let skipped_bytes: usize = lines[..skip].iter().map(|l| l.len() + 1).sum();
    let lines = lines
        .split_off(skip)
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    Ok(Tail {
        start: pos + skipped_bytes as u64,
        lines,
    })
}

/// 1-based line number of the line starting at byte `offset`.
pub(crate) fn line_number_at(mut file: &File, offset: u64) -> io::Result<u64> {
    file.seek(SeekFrom::Start(0))?;
    let mut count = 1u64;
    let mut remaining = offset;
    let mut block = vec![0u8; BLOCK as usize];
    while remaining > 0 {
        let want = usize::try_from(BLOCK.min(remaining)).map_err(io::Error::other)?;
        let got = file.read(&mut block[..want])?;
        if got == 0 {
            break;
        }
        count += block[..got].iter().filter(|&&b| b == b'\n').count() as u64;
        remaining -= got as u64;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(content: &[u8]) -> File {
        let mut f = tempfile::tempfile().expect("tempfile");
        f.write_all(content).expect("write");
        f
    }

    #[test]
    fn last_lines_across_blocks() {
        let mut content = Vec::new();
        for i in 0..5000 {
            content.extend_from_slice(format!("line number {i}\n").as_bytes());
        }
        let f = file_with(&content);
        let len = content.len() as u64;
        for n in [1usize, 2, 3, 1000, 4999, 5000, 9999] {
            let tail = last_lines(&f, len, n).expect("tail");
            let want = n.min(5000);
            assert_eq!(tail.lines.len(), want);
            assert_eq!(
                tail.lines.last().map(Vec::as_slice),
                Some(b"line number 4999".as_slice())
            );
            let first = 5000 - want;
            assert_eq!(tail.lines[0], format!("line number {first}").into_bytes());
            assert_eq!(
                line_number_at(&f, tail.start).expect("count"),
                first as u64 + 1
            );
        }
    }

    #[test]
    fn edge_cases() {
        let f = file_with(b"only\n");
        let tail = last_lines(&f, 5, 3).expect("tail");
        assert_eq!((tail.start, tail.lines), (0, vec![b"only".to_vec()]));
        assert!(ends_with_newline(&f, 5).expect("read"));
        assert!(!ends_with_newline(&f, 4).expect("read"));
        let tail = last_lines(&f, 0, 3).expect("tail");
        assert!(tail.lines.is_empty());
    }
}
