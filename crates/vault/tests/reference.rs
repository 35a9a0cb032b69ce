//! Secret references: parsing, printing, resolving.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns fail the test the same way

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use common::*;
use keyward_vault::{RefError, ResolveError, Resolver, SecretRef, SecretValue};
use proptest::prelude::*;

fn ok(s: &str) -> SecretRef {
    SecretRef::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

#[test]
fn parses_every_form() {
    assert_eq!(
        ok("keyward://stripe_key"),
        SecretRef::Vault("stripe_key".into())
    );
    assert_eq!(ok("stripe_key"), SecretRef::Vault("stripe_key".into()));
    assert_eq!(ok("KEYWARD://a.b-c"), SecretRef::Vault("a.b-c".into()));
    assert_eq!(
        ok("env://OPENAI_API_KEY"),
        SecretRef::Env("OPENAI_API_KEY".into())
    );
    assert_eq!(ok("env://_x1"), SecretRef::Env("_x1".into()));
    assert_eq!(
        ok("keychain://Chrome Safe Storage/me@example.com/work"),
        SecretRef::Keychain {
            service: "Chrome Safe Storage".into(),
            account: "me@example.com/work".into()
        }
    );
    assert_eq!(
        ok("vault://secret/team/stripe#api_key"),
        SecretRef::OpenBao {
            mount: "secret".into(),
            path: "team/stripe".into(),
            field: "api_key".into()
        }
    );
    #[cfg(unix)]
    assert_eq!(
        ok("file:///run/secrets/my token"),
        SecretRef::File(PathBuf::from("/run/secrets/my token"))
    );
}

#[test]
fn displays_canonically() {
    for (input, shown) in [
        ("stripe_key", "keyward://stripe_key"),
        ("Keyward://k", "keyward://k"),
        ("ENV://V", "env://V"),
        ("keychain://s/a", "keychain://s/a"),
        ("vault://m/p/q#f", "vault://m/p/q#f"),
        #[cfg(unix)]
        ("file:///etc/x", "file:///etc/x"),
    ] {
        assert_eq!(ok(input).to_string(), shown);
        assert_eq!(ok(shown), ok(input));
    }
}

#[test]
fn rejects_bad_input_clearly() {
    assert_eq!(SecretRef::parse(""), Err(RefError::Empty));
    let unknown = SecretRef::parse("postgres://user:hunter2@db/x").unwrap_err();
    assert_eq!(
        unknown,
        RefError::UnknownScheme {
            scheme: "postgres".into()
        }
    );
    let msg = unknown.to_string();
    assert!(
        msg.contains("postgres://") && !msg.contains("hunter2"),
        "{msg}"
    );

    for bad in [
        "keyward://",
        "keyward://.hidden",
        "keyward://a/b",
        "env://",
        "env://1ABC",
        "env://A-B",
        "keychain://",
        "keychain://service",
        "keychain://service/",
        "keychain:///account",
        "vault://",
        "vault://mount",
        "vault://mount/path",
        "vault://mount/path#",
        "vault:///path#f",
        "vault://m/p#f#g",
        "file://relative/path",
        "file://",
        "env://A\nB",
    ] {
        let err = SecretRef::parse(bad).unwrap_err();
        assert!(matches!(err, RefError::Invalid { .. }), "{bad:?}: {err:?}");
    }
    for not_ref in ["has space", "a:b", "-flag", "ünï", "://x", "1scheme://x"] {
        let err = SecretRef::parse(not_ref).unwrap_err();
        assert!(
            matches!(err, RefError::NotAReference { .. }),
            "{not_ref:?}: {err:?}"
        );
        assert!(!err.to_string().contains(not_ref), "echoed {not_ref:?}");
    }
}

#[test]
fn bare_tokens_are_refused_but_explicit_names_allowed() {
    for token in [
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv",
        "ghp_aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2",
        "AKIAIOSFODNN7EXAMPLE2xyz",
        "3f2a9c0d1e8b7a6f5c4d3e2f1a0b9c8d7e6f5a4b",
    ] {
        let err = SecretRef::parse(token).unwrap_err();
        assert!(
            matches!(err, RefError::LooksLikeSecretValue { .. }),
            "{token}: {err:?}"
        );
        assert!(!err.to_string().contains(token));
        assert_eq!(
            ok(&format!("keyward://{token}")),
            SecretRef::Vault(token.into())
        );
    }
    for name in [
        "OPENAI_API_KEY",
        "stripe.live-key_2024",
        "github_token_for_ci_bot_v2",
    ] {
        assert_eq!(ok(name), SecretRef::Vault(name.into()));
    }
}

/// A reference text made of the forms `parse` accepts.
fn valid_ref_text() -> impl Strategy<Value = String> {
    let name = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}";
    // No control characters (C0, DEL, C1): `parse` refuses those.
    let part = "[^/#\\x00-\\x1f\\x7f-\\x{9f}]{1,12}";
    prop_oneof![
        name.prop_map(|n| format!("keyward://{n}")),
        "[A-Za-z_][A-Za-z0-9_]{0,12}".prop_map(|v| format!("env://{v}")),
        (part, "[^\\x00-\\x1f\\x7f-\\x{9f}]{1,12}")
            .prop_map(|(s, a)| format!("keychain://{s}/{a}")),
        (
            part,
            "[^#\\x00-\\x1f\\x7f-\\x{9f}]{1,12}",
            "[^#\\x00-\\x1f\\x7f-\\x{9f}]{1,8}"
        )
            .prop_map(|(m, p, f)| format!("vault://{m}/{p}#{f}")),
        "(/[A-Za-z0-9 ._-]{1,8}){1,4}".prop_map(|p| format!("file://{p}")),
    ]
}

proptest! {
    #[test]
    fn parse_never_panics(s in "\\PC{0,64}") {
        let _ = SecretRef::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_schemes(scheme in "(keyward|env|keychain|vault|file|x)", rest in ".{0,40}") {
        let _ = SecretRef::parse(&format!("{scheme}://{rest}"));
    }

    #[cfg(unix)] // `file:///a` is not an absolute path on Windows
    #[test]
    fn display_parse_round_trip(text in valid_ref_text()) {
        let parsed = SecretRef::parse(&text);
        prop_assert!(parsed.is_ok(), "{:?} rejected: {:?}", text, parsed);
        let parsed = parsed.unwrap();
        let shown = parsed.to_string();
        prop_assert_eq!(&shown, &text);
        prop_assert_eq!(SecretRef::parse(&shown).unwrap(), parsed);
    }

    #[test]
    fn any_accepted_text_round_trips(s in "\\PC{0,40}") {
        if let Ok(parsed) = SecretRef::parse(&s) {
            prop_assert_eq!(SecretRef::parse(&parsed.to_string()).unwrap(), parsed);
        }
    }
}

#[test]
fn resolves_vault_env_and_file() {
    let (dir, path) = temp_vault_path();
    let mut v = new_vault(&path);
    v.update(|e| e.set("api", SecretValue::from_str("from-vault")))
        .unwrap();
    let env: HashMap<String, String> = [
        ("TOKEN".into(), "from-env".into()),
        ("EMPTY".into(), String::new()),
    ]
    .into();
    let r = Resolver::new(Some(&v), &env);
    let get = |s: &str| r.resolve(&ok(s));

    assert_eq!(get("api").unwrap().expose(), b"from-vault");
    assert_eq!(get("env://TOKEN").unwrap().expose(), b"from-env");

    let f = dir.path().join("tok");
    for (content, expect) in [
        (&b"file-secret\n"[..], &b"file-secret"[..]),
        (b"crlf\r\n", b"crlf"),
        (b"two\n\n", b"two\n"),
        (b"raw", b"raw"),
        (b"\x00\xffbin", b"\x00\xffbin"),
    ] {
        std::fs::write(&f, content).unwrap();
        let r = SecretRef::File(f.clone());
        assert_eq!(
            Resolver::new(None, &()).resolve(&r).unwrap().expose(),
            expect
        );
    }

    let msg = get("keyward://nope").unwrap_err().to_string();
    assert!(
        msg.contains("keyward://nope") && msg.contains("keyward secret set nope"),
        "{msg}"
    );
    assert!(matches!(
        get("env://UNSET"),
        Err(ResolveError::NotFound { .. })
    ));
    assert!(matches!(
        get("env://EMPTY"),
        Err(ResolveError::Empty { .. })
    ));
    let missing = SecretRef::File(dir.path().join("absent"));
    let e = r.resolve(&missing).unwrap_err();
    assert!(
        matches!(e, ResolveError::NotFound { .. }) && e.to_string().contains("absent"),
        "{e}"
    );
    std::fs::write(&f, "\n").unwrap();
    assert!(matches!(
        r.resolve(&SecretRef::File(f.clone())),
        Err(ResolveError::Empty { .. })
    ));
    std::fs::write(&f, vec![b'x'; 1024 * 1024 + 1]).unwrap();
    assert!(matches!(
        r.resolve(&SecretRef::File(f.clone())),
        Err(ResolveError::TooLarge { .. })
    ));
    std::fs::write(&f, vec![b'x'; 1024 * 1024]).unwrap();
    assert_eq!(r.resolve(&SecretRef::File(f)).unwrap().len(), 1024 * 1024);

    // No [backends.vault] and no VAULT_ADDR: a clear "not configured".
    let e = get("vault://secret/x#y").unwrap_err();
    assert!(matches!(
        &e,
        ResolveError::Backend { source, .. }
            if matches!(**source, keyward_vault::OpenBaoError::NotConfigured)
    ));
    assert!(
        e.to_string().contains("vault://secret/x#y") && e.to_string().contains("VAULT_ADDR"),
        "{e}"
    );

    let no_vault = Resolver::new(None, &env);
    let e = no_vault.resolve(&ok("api")).unwrap_err();
    assert!(matches!(e, ResolveError::NoVault { .. }) && e.to_string().contains("keyward://api"));
}
