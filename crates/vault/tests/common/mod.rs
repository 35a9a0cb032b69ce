//! Shared helpers for the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

use base64::Engine as _;
use keyward_vault::{KdfParams, SecretValue, Vault};

pub(crate) const PASS: &str = "correct horse battery staple";

pub(crate) fn pass() -> SecretValue {
    SecretValue::from_str(PASS)
}

/// A fresh temp dir and the vault path inside it (in a not-yet-existing
/// subdirectory, so `create` makes it).
pub(crate) fn temp_vault_path() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("vault.json");
    (dir, path)
}

/// A new vault with the cheap test KDF.
pub(crate) fn new_vault(path: &Path) -> Vault {
    Vault::create(path, &pass(), KdfParams::for_tests()).unwrap()
}

/// A recognisable fake secret, unique per call.
pub(crate) fn canary() -> String {
    let mut r = [0u8; 8];
    getrandom::fill(&mut r).unwrap();
    let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
    format!("kw_canary_{hex}")
}

/// Every form of `secret` a leak could take: raw, base64 (std/url), hex.
pub(crate) fn leak_forms(secret: &[u8]) -> Vec<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let std = STANDARD.encode(secret);
    vec![
        secret.to_vec(),
        // Without padding, so a prefix match still counts.
        std.trim_end_matches('=').as_bytes().to_vec(),
        URL_SAFE_NO_PAD.encode(secret).into_bytes(),
        hex.into_bytes(),
    ]
}

/// Whether `haystack` contains `secret` in any of its [`leak_forms`].
pub(crate) fn leaks(haystack: &[u8], secret: &[u8]) -> bool {
    leak_forms(secret)
        .iter()
        .any(|form| haystack.windows(form.len()).any(|w| w == form.as_slice()))
}

#[cfg(unix)]
pub(crate) fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
