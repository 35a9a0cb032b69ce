//! Data sealed under the vault key (import's backups).

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use keyward_vault::sealed;

#[test]
fn seal_round_trip_and_binding() {
    let (_dir, path) = temp_vault_path();
    let v = new_vault(&path);
    let plain = b"{\"env\": {\"T\": \"kw_canary_sealed_0123456789\"}}";
    let blob = sealed::seal(&v, "/home/me/.cursor/mcp.json", plain).unwrap();
    assert!(
        !blob.windows(10).any(|w| w == b"kw_canary_"),
        "the plaintext is visible in the sealed blob"
    );
    let opened = sealed::open(&v, "/home/me/.cursor/mcp.json", &blob).unwrap();
    assert_eq!(opened.expose(), plain);
    // Another purpose, a flipped byte, a cut blob: all refused.
    assert!(sealed::open(&v, "/other", &blob).is_err());
    let mut bad = blob.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(sealed::open(&v, "/home/me/.cursor/mcp.json", &bad).is_err());
    assert!(sealed::open(&v, "/home/me/.cursor/mcp.json", &blob[..20]).is_err());
    // Another vault's key does not open it.
    let (_dir2, path2) = temp_vault_path();
    let other = new_vault(&path2);
    assert!(sealed::open(&other, "/home/me/.cursor/mcp.json", &blob).is_err());
}
