//! The head file: `<log>.head` holds the `seq` and `hash` of the last
//! record, rewritten after every append. The chain alone cannot show that
//! records were cut off the end (the shortened log is still a valid
//! chain); the head can, as long as whoever cut the log did not also
//! rewrite the head. Fixed width, so each update is one small write at
//! offset 0.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// `{"seq":N,"hash":"<64 hex>"}`, padded with spaces to a fixed width
/// (room for any u64), then `\n`.
const LEN: usize = 8 + 20 + 9 + 64 + 3;

pub(crate) fn head_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_os_string();
    name.push(".head");
    PathBuf::from(name)
}

pub(crate) fn open(log: &Path) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(head_path(log))
}

pub(crate) fn write(mut file: &File, seq: u64, hash: &str) -> std::io::Result<()> {
    let mut line = format!("{{\"seq\":{seq},\"hash\":\"{hash}\"}}");
    while line.len() < LEN - 1 {
        line.push(' ');
    }
    line.push('\n');
    file.seek(SeekFrom::Start(0))?;
    file.write_all(line.as_bytes())
}

/// What the head file says, `Ok(None)` when it is absent or empty,
/// `Err(())` when it is not a head line.
pub(crate) fn read(log: &Path) -> Result<Option<(u64, String)>, ()> {
    let mut file = match File::open(head_path(log)) {
        Ok(f) => f,
        Err(_) => return Ok(None),
    };
    let mut buf = Vec::with_capacity(LEN);
    if (&mut file)
        .take(LEN as u64 + 1)
        .read_to_end(&mut buf)
        .is_err()
    {
        return Err(());
    }
    if buf.is_empty() {
        return Ok(None);
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Head {
        seq: u64,
        hash: String,
    }
    let head: Head = serde_json::from_slice(&buf).map_err(|_| ())?;
    let hex = head.hash.len() == 64 && head.hash.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex {
        return Err(());
    }
    Ok(Some((head.seq, head.hash)))
}
