//! `run/http.json` in the data directory: where the running service is, so
//! that `keyward connect` (and other commands) can find it. Written (0600,
//! atomically) once the service accepts requests; removed on a clean
//! shutdown. A file left by a crash is recognised as stale because nothing
//! answers [`probe`] at its address.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What `/healthz` answers (the probe checks for it).
pub const HEALTH_BODY: &str = "keyward ok\n";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    pub addr: SocketAddr,
    pub pid: u32,
    pub version: String,
}

impl RunInfo {
    /// The MCP endpoint.
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }
}

/// `<data_dir>/run`.
pub fn run_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("run")
}

/// `<data_dir>/run/http.json`.
pub fn path(data_dir: &Path) -> PathBuf {
    run_dir(data_dir).join("http.json")
}

/// Records the running service.
pub fn write(data_dir: &Path, info: &RunInfo) -> io::Result<()> {
    keyward_fsio::create_private_dir(&run_dir(data_dir)).map_err(keyward_fsio::Error::into_io)?;
    let mut text = serde_json::to_vec_pretty(info).map_err(io::Error::other)?;
    text.push(b'\n');
    keyward_fsio::write_private(&path(data_dir), &text).map_err(keyward_fsio::Error::into_io)
}

/// The recorded service, if the file exists and parses.
pub fn read(data_dir: &Path) -> Option<RunInfo> {
    let bytes = std::fs::read(path(data_dir)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Removes the file if it still names process `pid` (a newer service may
/// have replaced it).
pub fn remove_if_ours(data_dir: &Path, pid: u32) {
    if read(data_dir).is_some_and(|i| i.pid == pid) {
        let _ = std::fs::remove_file(path(data_dir));
    }
}

/// Whether a keyward service answers `GET /healthz` at `addr` within
/// `timeout` (a plain HTTP/1.1 exchange; nothing secret is sent).
pub fn probe(addr: SocketAddr, timeout: Duration) -> bool {
    fn exchange(addr: SocketAddr, timeout: Duration) -> io::Result<String> {
        let mut s = TcpStream::connect_timeout(&addr, timeout)?;
        s.set_read_timeout(Some(timeout))?;
        s.set_write_timeout(Some(timeout))?;
        let host = match addr {
            SocketAddr::V4(a) if a.ip().is_unspecified() => format!("127.0.0.1:{}", a.port()),
            SocketAddr::V6(a) if a.ip().is_unspecified() => format!("[::1]:{}", a.port()),
            a => a.to_string(),
        };
        write!(
            s,
            "GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )?;
        let mut answer = String::new();
        s.take(4096).read_to_string(&mut answer)?;
        Ok(answer)
    }
    let target = match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => {
            SocketAddr::from(([127, 0, 0, 1], a.port()))
        }
        SocketAddr::V6(a) if a.ip().is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, a.port()))
        }
        a => a,
    };
    exchange(target, timeout)
        .is_ok_and(|a| a.starts_with("HTTP/1.1 200") && a.ends_with(HEALTH_BODY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_private_read_back_and_removed_only_by_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        let info = RunInfo {
            addr: "127.0.0.1:8717".parse().unwrap(),
            pid: 42,
            version: "0.1.0".into(),
        };
        assert_eq!(read(dir.path()), None);
        write(dir.path(), &info).unwrap();
        assert_eq!(read(dir.path()), Some(info.clone()));
        assert_eq!(info.url(), "http://127.0.0.1:8717/mcp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path(dir.path())), 0o600);
            assert_eq!(mode(&run_dir(dir.path())), 0o700);
        }
        remove_if_ours(dir.path(), 43);
        assert!(read(dir.path()).is_some());
        remove_if_ours(dir.path(), 42);
        assert_eq!(read(dir.path()), None);
    }

    #[test]
    fn nothing_listening_is_not_a_service() {
        // Bind and drop: the port is (very likely) closed right after.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        assert!(!probe(port, Duration::from_millis(300)));
    }
}
