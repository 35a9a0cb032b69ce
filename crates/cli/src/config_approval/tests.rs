//! The CLI's part of an approving edit: the passphrase from the
//! environment, and a wrong one refused and audited. (What an edit
//! approves is tested in keyward-approved.)

use std::fs;

use keyward_approved::{Store, record};
use keyward_audit::read_records;
use keyward_config::Paths;
use keyward_vault::{KdfParams, SecretValue, Vault};

use super::*;
use crate::env::ProcessEnv;

const GET_ONLY: &str = "[services.s]\nbase_url = \"https://x.example\"\n[[services.s.rules]]\naction = \"allow\"\nmethods = [\"GET\"]\npaths = [\"/**\"]\n";

fn pass(p: &str) -> SecretValue {
    SecretValue::new(p.as_bytes().to_vec())
}

fn home() -> (tempfile::TempDir, Paths) {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::in_dir(dir.path());
    let vault = Vault::create(&paths.vault_file(), &pass("pw"), KdfParams::for_tests()).unwrap();
    fs::write(paths.config_file(), GET_ONLY).unwrap();
    record(&paths, &vault, GET_ONLY, "test", &Default::default()).unwrap();
    (dir, paths)
}

fn env(passphrase: &str) -> ProcessEnv {
    ProcessEnv {
        home: None,
        key_file: None,
        passphrase: Some(pass(passphrase)),
        no_keychain: true,
        session_bus_var: false,
        log: None,
    }
}

fn decisions(paths: &Paths) -> Vec<(String, String)> {
    read_records(&paths.audit_file())
        .unwrap()
        .into_iter()
        .map(|r| (r.event.agent, r.event.decision.to_string()))
        .collect()
}

#[test]
fn an_edit_with_the_passphrase_in_the_environment_approves() {
    let (_dir, paths) = home();
    let edit = edit::begin(&paths, &env("pw"), "keyward service add").unwrap();
    let written = format!("{GET_ONLY}\n[services.t]\nbase_url = \"https://t.example\"\n");
    fs::write(paths.config_file(), &written).unwrap();
    edit.finish(GET_ONLY, &written).unwrap();
    assert_eq!(Store::new(&paths).read().unwrap().unwrap().text, written);
    assert_eq!(
        decisions(&paths).last().unwrap(),
        &("keyward service add".to_string(), "approved".to_string())
    );
}

#[test]
fn a_wrong_passphrase_stops_an_edit_and_is_audited() {
    let (_dir, paths) = home();
    let e = edit::begin(&paths, &env("not it"), "keyward service add")
        .err()
        .unwrap();
    assert!(is_wrong_passphrase(&e), "{e}");
    assert_eq!(
        decisions(&paths).last().unwrap(),
        &("keyward service add".to_string(), "deny".to_string())
    );
    assert_eq!(Store::new(&paths).read().unwrap().unwrap().text, GET_ONLY);
}

#[test]
fn pins_that_cannot_be_trusted_refuse_every_command() {
    assert!(matches!(
        for_gateway(Err(keyward_approved::PinsProblem::Missing)),
        ProgramPins::Unavailable(why) if why.contains("before keyward pinned")
    ));
    assert!(matches!(
        for_gateway(Ok(Programs::new())),
        ProgramPins::Sealed(p) if p.is_empty()
    ));
}
