//! Canary tests: a secret value (or key, or passphrase) never appears in
//! the vault's files, in `Debug`/`Display` output, or in error messages
//! (SECURITY.md items 8 and 9).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns fail the test the same way

mod common;

use std::collections::HashMap;

use common::*;
use keyward_vault::{
    KdfParams, RefError, Resolver, SecretRef, SecretValue, Vault, VaultKey, key_file_read,
};

/// The detector itself must catch a planted leak in each form, or every
/// "nothing leaked" assertion below would be vacuous.
#[test]
fn the_leak_detector_finds_planted_leaks() {
    let c = canary();
    for form in leak_forms(c.as_bytes()) {
        let mut hay = b"prefix ".to_vec();
        hay.extend_from_slice(&form);
        hay.extend_from_slice(b" suffix");
        assert!(leaks(&hay, c.as_bytes()));
    }
    assert!(!leaks(b"nothing to see", c.as_bytes()));
    assert!(leaks(format!("{:?}", c).as_bytes(), c.as_bytes()));
}

#[test]
fn canary_is_not_in_vault_files() {
    let (_dir, path) = temp_vault_path();
    let secret = canary();
    let passphrase = SecretValue::from_string(canary());
    let mut v = Vault::create(&path, &passphrase, KdfParams::for_tests()).unwrap();
    v.update(|e| e.set("c", SecretValue::from_str(&secret)))
        .unwrap();
    v.update(|e| e.set("d", SecretValue::from_str("x")))
        .unwrap();
    let key = v.key().to_encoded();
    let dir = path.parent().unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!leaks(&bytes, secret.as_bytes()), "value in a file");
        assert!(!leaks(&bytes, passphrase.expose()), "passphrase in a file");
        assert!(!leaks(&bytes, key.as_bytes()), "key in a file");
        assert!(
            !leaks(&bytes, v.key_bytes_for_test().as_slice()),
            "raw key in a file"
        );
        checked += 1;
    }
    assert_eq!(checked, 3, "vault, .prev, .lock");
}

/// `Vault` has no public raw-key accessor; the text form carries the bytes.
trait RawKey {
    fn key_bytes_for_test(&self) -> Vec<u8>;
}
impl RawKey for Vault {
    fn key_bytes_for_test(&self) -> Vec<u8> {
        use base64::Engine as _;
        let text = self.key().to_encoded();
        let b64 = text.trim_start_matches("keyward-vault-key-1:");
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64)
            .unwrap()
    }
}

#[test]
fn canary_is_not_in_debug_output() {
    let (_dir, path) = temp_vault_path();
    let secret = canary();
    let mut v = new_vault(&path);
    v.update(|e| {
        e.set("c", SecretValue::from_str(&secret))?;
        let dbg = format!("{e:?}");
        assert!(!leaks(dbg.as_bytes(), secret.as_bytes()), "Entries: {dbg}");
        Ok(())
    })
    .unwrap();
    let value = v.get("c").unwrap();
    let key = v.key();
    let key_text = key.to_encoded();
    let outputs = [
        format!("{value:?}"),
        format!("{value:#?}"),
        format!("{key:?}"),
        format!("{v:?}"),
        format!("{v:#?}"),
        format!("{:?}", v.list()),
        format!("{:?}", Vault::read_header(&path).unwrap()),
    ];
    for out in &outputs {
        assert!(!leaks(out.as_bytes(), secret.as_bytes()), "{out}");
        assert!(!leaks(out.as_bytes(), key_text.as_bytes()), "{out}");
        assert!(!leaks(out.as_bytes(), &v.key_bytes_for_test()), "{out}");
    }
    assert_eq!(
        outputs[0],
        format!("SecretValue(<redacted, {} bytes>)", secret.len())
    );
    assert_eq!(outputs[2], "VaultKey(<redacted>)");
}

#[test]
fn canary_is_not_in_error_messages() {
    let (dir, path) = temp_vault_path();
    let secret = canary();
    let mut errors: Vec<String> = Vec::new();
    let mut push = |e: &dyn std::fmt::Debug, d: String| errors.push(format!("{e:?} / {d}"));

    // A wrong passphrase that is itself a canary.
    let mut v = new_vault(&path);
    let e = Vault::open_with_passphrase(&path, &SecretValue::from_str(&secret)).unwrap_err();
    push(&e, e.to_string());
    // A secret value that is not UTF-8 text.
    let bin = SecretValue::new([secret.as_bytes(), &[0xff]].concat());
    let e = bin.expose_str().unwrap_err();
    push(&e, e.to_string());
    // An empty value.
    let e = v
        .update(|e| e.set("empty", SecretValue::new(Vec::new())))
        .unwrap_err();
    push(&e, e.to_string());
    // A key text that is a canary.
    let e = VaultKey::from_encoded(&secret).unwrap_err();
    push(&e, e.to_string());
    // A key file holding a secret instead of a key.
    let kf = dir.path().join("key");
    std::fs::write(&kf, &secret).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&kf, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let e = key_file_read(&kf).unwrap_err();
    push(&e, e.to_string());
    // A secret pasted where a reference belongs, bare and with a scheme.
    // (A pasted value that is also a plausible *name*, like the canary itself,
    // parses as a name and is echoed as one: names are not secret.)
    for text in [
        format!("{secret}!"),
        format!("sk-proj-{}A1b2C3d4E5f6G7h8", &secret[10..]),
        format!("https://user:{secret}@host/"),
    ] {
        let e: RefError = SecretRef::parse(&text).unwrap_err();
        push(&e, e.to_string());
    }
    // Resolving: an env var holding the canary is fine to read, but errors
    // about other refs must not carry it.
    let env: HashMap<String, String> = [("SET".to_string(), secret.clone())].into();
    v.update(|e| e.set("c", SecretValue::from_str(&secret)))
        .unwrap();
    let r = Resolver::new(Some(&v), &env);
    assert_eq!(
        r.resolve(&SecretRef::Env("SET".into())).unwrap().expose(),
        secret.as_bytes()
    );
    for reference in [
        "keyward://missing",
        "env://UNSET",
        "file:///nonexistent/x",
        "vault://a/b#c",
    ] {
        let e = r
            .resolve(&SecretRef::parse(reference).unwrap())
            .unwrap_err();
        push(&e, e.to_string());
    }
    assert_eq!(errors.len(), 12);
    // The hex tail alone also counts: the `sk-proj-` token is built from it.
    for text in &errors {
        assert!(!leaks(text.as_bytes(), secret.as_bytes()), "leaked: {text}");
        assert!(
            !leaks(text.as_bytes(), &secret.as_bytes()[10..]),
            "leaked: {text}"
        );
    }
}
