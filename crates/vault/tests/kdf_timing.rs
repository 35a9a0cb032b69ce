//! How long one unlock costs with the default Argon2id parameters.
//!
//! `cargo test --release -p keyward-vault --test kdf_timing -- --ignored --nocapture`

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns fail the test the same way

use std::time::Instant;

use keyward_vault::{KdfParams, SecretValue, Vault};

#[test]
#[ignore = "timing measurement; run explicitly in release"]
fn default_kdf_unlock_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.json");
    let pass = SecretValue::from_str("a reasonably long passphrase");
    Vault::create(&path, &pass, KdfParams::DEFAULT).unwrap();
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        Vault::open_with_passphrase(&path, &pass).unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "KdfParams::DEFAULT {:?}: unlock min {:?}, median {:?}, max {:?} (profile: {})",
        KdfParams::DEFAULT,
        times[0],
        times[2],
        times[4],
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
}
