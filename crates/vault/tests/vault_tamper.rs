//! A damaged or tampered vault file gives the right error — never a panic,
//! never a silent success, never a write.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns fail the test the same way

mod common;

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use keyward_vault::{SecretValue, Vault, VaultError, VaultKey};
use serde_json::Value;

/// A vault with one entry; returns (dir guard, path, key, file bytes).
fn fixture() -> (tempfile::TempDir, std::path::PathBuf, VaultKey, Vec<u8>) {
    let (dir, path) = temp_vault_path();
    let mut v = new_vault(&path);
    v.update(|e| e.set("api", SecretValue::from_str("value-123")))
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (dir, path, v.key().clone(), bytes)
}

fn edit_json(path: &Path, bytes: &[u8], f: impl FnOnce(&mut Value)) {
    let mut doc: Value = serde_json::from_slice(bytes).unwrap();
    f(&mut doc);
    std::fs::write(path, serde_json::to_vec(&doc).unwrap()).unwrap();
}

/// Flips the first byte of a base64 field's decoded content.
fn flip_b64(v: &mut Value, at: usize) {
    let mut raw = STANDARD.decode(v.as_str().unwrap()).unwrap();
    raw[at] ^= 0x01;
    *v = Value::String(STANDARD.encode(raw));
}

fn open_both(path: &Path, key: &VaultKey) -> (VaultError, VaultError) {
    (
        Vault::open_with_passphrase(path, &pass()).unwrap_err(),
        Vault::open_with_key(path, key).unwrap_err(),
    )
}

/// A named change to the parsed document.
type Edit = (&'static str, fn(&mut Value));

#[test]
fn modified_header_fails_authentication() {
    let (_dir, path, key, bytes) = fixture();
    let edits: [Edit; 5] = [
        ("id", |d| {
            d["id"] = "0123456789abcdef0123456789abcdef".into()
        }),
        ("m_kib", |d| d["kdf"]["m_kib"] = 16.into()),
        ("t", |d| d["kdf"]["t"] = 2.into()),
        ("salt", |d| flip_b64(&mut d["kdf"]["salt"], 0)),
        ("wrap nonce", |d| {
            flip_b64(&mut d["wrapped_key"]["nonce"], 3)
        }),
    ];
    for (what, edit) in edits {
        edit_json(&path, &bytes, edit);
        let (by_pass, by_key) = open_both(&path, &key);
        assert!(
            matches!(by_pass, VaultError::WrongPassphrase),
            "{what}: {by_pass}"
        );
        assert!(matches!(by_key, VaultError::WrongKey), "{what}: {by_key}");
    }
}

#[test]
fn flipped_wrapped_key_is_detected_by_both_ways_in() {
    let (_dir, path, key, bytes) = fixture();
    edit_json(&path, &bytes, |d| {
        flip_b64(&mut d["wrapped_key"]["ciphertext"], 5)
    });
    let (by_pass, by_key) = open_both(&path, &key);
    assert!(matches!(by_pass, VaultError::WrongPassphrase), "{by_pass}");
    // The body binds the wrapped key, so even the vault key notices.
    assert!(matches!(by_key, VaultError::WrongKey), "{by_key}");
}

#[test]
fn flipped_body_is_corrupted_not_wrong_key() {
    let (_dir, path, key, bytes) = fixture();
    for (field, at) in [("ciphertext", 0), ("ciphertext", 40), ("nonce", 0)] {
        edit_json(&path, &bytes, |d| flip_b64(&mut d["body"][field], at));
        let (by_pass, by_key) = open_both(&path, &key);
        for err in [by_pass, by_key] {
            assert!(
                matches!(err, VaultError::Corrupted { .. }),
                "{field}: {err}"
            );
            assert!(err.to_string().contains(".prev"), "{err}");
        }
    }
}

#[test]
fn flipped_key_check() {
    let (_dir, path, key, bytes) = fixture();
    edit_json(&path, &bytes, |d| {
        flip_b64(&mut d["key_check"]["ciphertext"], 0)
    });
    let (by_pass, by_key) = open_both(&path, &key);
    assert!(matches!(by_pass, VaultError::Corrupted { .. }), "{by_pass}");
    assert!(matches!(by_key, VaultError::WrongKey), "{by_key}");
}

#[test]
fn version_format_and_shape() {
    let (_dir, path, key, bytes) = fixture();
    edit_json(&path, &bytes, |d| d["version"] = 2.into());
    let (a, b) = open_both(&path, &key);
    for err in [a, b, Vault::read_header(&path).unwrap_err()] {
        assert!(
            matches!(
                err,
                VaultError::UnsupportedVersion {
                    version: 2,
                    supported: 1
                }
            ),
            "{err}"
        );
    }
    let cases: [fn(&mut Value); 6] = [
        |d| d["format"] = "something-else".into(),
        |d| d["extra"] = true.into(),
        |d| d["kdf"]["alg"] = "scrypt".into(),
        |d| d["kdf"]["m_kib"] = u32::MAX.into(),
        |d| d["id"] = "../../etc".into(),
        |d| d["body"]["ciphertext"] = "not base64!".into(),
    ];
    for edit in cases {
        edit_json(&path, &bytes, edit);
        let (a, b) = open_both(&path, &key);
        for err in [a, b] {
            assert!(
                matches!(
                    err,
                    VaultError::Corrupted { .. } | VaultError::InvalidKdfParams { .. }
                ),
                "{err}"
            );
        }
    }
}

/// Every single-byte change anywhere in the file is an error.
#[test]
fn every_flipped_byte_is_an_error() {
    let (_dir, path, key, bytes) = fixture();
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x80] {
            let mut bad = bytes.clone();
            bad[i] ^= mask;
            std::fs::write(&path, &bad).unwrap();
            assert!(
                Vault::open_with_key(&path, &key).is_err(),
                "byte {i} ^ {mask:#x} accepted"
            );
            assert!(
                Vault::open_with_passphrase(&path, &pass()).is_err(),
                "byte {i} ^ {mask:#x} accepted with passphrase"
            );
        }
    }
}

#[test]
fn truncated_or_garbage_file_is_corrupted() {
    let (_dir, path, key, bytes) = fixture();
    for len in (0..bytes.len()).step_by(3) {
        std::fs::write(&path, &bytes[..len]).unwrap();
        let err = Vault::open_with_key(&path, &key).unwrap_err();
        assert!(
            matches!(err, VaultError::Corrupted { .. }),
            "len {len}: {err}"
        );
        assert!(
            err.to_string().contains("vault.json"),
            "names the file: {err}"
        );
    }
    for junk in [
        &b"\xff\xfe\x00"[..],
        b"[]",
        b"null",
        b"{}",
        b"{\"format\":\"keyward-vault\"}",
    ] {
        std::fs::write(&path, junk).unwrap();
        let err = Vault::open_with_passphrase(&path, &pass()).unwrap_err();
        assert!(
            matches!(err, VaultError::Corrupted { .. }),
            "{junk:?}: {err}"
        );
    }
}

#[test]
fn update_never_overwrites_a_damaged_file() {
    let (_dir, path, key, bytes) = fixture();
    let mut v = Vault::open_with_key(&path, &key).unwrap();
    let mut bad = bytes.clone();
    let n = bad.len();
    bad.truncate(n / 2);
    std::fs::write(&path, &bad).unwrap();
    let err = v
        .update(|e| e.set("x", SecretValue::from_str("y")))
        .unwrap_err();
    assert!(matches!(err, VaultError::Corrupted { .. }), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bad,
        "the damaged file is left for recovery"
    );
}
