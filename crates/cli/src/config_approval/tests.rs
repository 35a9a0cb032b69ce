//! Serving the approved config, and CLI edits that approve themselves.
//! Every test gives the passphrase in the environment, so nothing asks on
//! a terminal.

use std::fs;

use keyward_audit::{AuditLog, read_records};
use keyward_config::Paths;
use keyward_vault::{KdfParams, SecretValue, Vault};

use super::*;
use crate::env::ProcessEnv;

const GET_ONLY: &str = "[services.s]\nbase_url = \"https://x.example\"\n[[services.s.rules]]\naction = \"allow\"\nmethods = [\"GET\"]\npaths = [\"/**\"]\n";
const WIDENED: &str = "[services.s]\nbase_url = \"https://x.example\"\n[[services.s.rules]]\naction = \"allow\"\npaths = [\"/**\"]\n";

struct Home {
    _dir: tempfile::TempDir,
    paths: Paths,
    vault: Vault,
}

fn home() -> Home {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::in_dir(dir.path());
    let vault = Vault::create(&paths.vault_file(), &pass("pw"), KdfParams::for_tests()).unwrap();
    fs::write(paths.config_file(), GET_ONLY).unwrap();
    record(&paths, &vault, GET_ONLY, "test", &Default::default()).unwrap();
    Home {
        _dir: dir,
        paths,
        vault,
    }
}

fn pass(p: &str) -> SecretValue {
    SecretValue::new(p.as_bytes().to_vec())
}

fn env(passphrase: &str) -> ProcessEnv {
    ProcessEnv {
        home: None,
        key_file: None,
        passphrase: Some(pass(passphrase)),
        no_keychain: true,
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

fn methods_of(config: &Config) -> Option<Vec<String>> {
    config.services["s"].rules[0]
        .methods
        .as_ref()
        .map(|m| m.iter().map(|m| m.as_str().to_string()).collect())
}

#[test]
fn serve_runs_the_approved_config_and_says_an_edit_is_pending() {
    let h = home();
    fs::write(h.paths.config_file(), WIDENED).unwrap();
    let serving = serving(&h.paths).unwrap();
    assert_eq!(methods_of(serving.config()), Some(vec!["GET".to_string()]));
    let audit = AuditLog::open(&h.paths.audit_file()).unwrap();
    let (config, notice) = serving.confirm(&h.vault, &audit).unwrap();
    assert_eq!(methods_of(&config), Some(vec!["GET".to_string()]));
    let notice = notice.unwrap();
    assert!(notice.starts_with(PENDING_NOTICE), "{notice}");
    assert!(notice.contains("+0 -1 lines"), "{notice}");
    assert_eq!(
        decisions(&h.paths).last().unwrap(),
        &("keyward serve".to_string(), "pending".to_string())
    );

    // Unchanged: no notice, no record.
    fs::write(h.paths.config_file(), GET_ONLY).unwrap();
    let n = decisions(&h.paths).len();
    let (_, notice) = super::serving(&h.paths)
        .unwrap()
        .confirm(&h.vault, &audit)
        .unwrap();
    assert!(notice.is_none());
    assert_eq!(decisions(&h.paths).len(), n);
}

#[test]
fn serve_refuses_a_copy_that_does_not_match_its_seal() {
    let h = home();
    fs::write(h.paths.config_file(), WIDENED).unwrap();
    fs::write(Store::new(&h.paths).text_path(), WIDENED).unwrap();
    let serving = serving(&h.paths).unwrap();
    let audit = AuditLog::open(&h.paths.audit_file()).unwrap();
    let e = serving.confirm(&h.vault, &audit).err().unwrap().to_string();
    assert!(e.contains("cannot be trusted"), "{e}");

    fs::remove_dir_all(h.paths.data_dir.join("approved")).unwrap();
    let e = super::serving(&h.paths).err().unwrap().to_string();
    assert!(e.contains("no approved config"), "{e}");
}

#[test]
fn an_edit_of_the_approved_file_approves_what_it_wrote() {
    let h = home();
    let edit = edit::begin(&h.paths, &env("pw"), "keyward service add").unwrap();
    let written = format!("{GET_ONLY}\n[services.t]\nbase_url = \"https://t.example\"\n");
    fs::write(h.paths.config_file(), &written).unwrap();
    // Someone changes the file right after the edit wrote it: what the
    // edit wrote is approved, not what the file holds now.
    fs::write(h.paths.config_file(), WIDENED).unwrap();
    edit.finish(GET_ONLY, &written).unwrap();
    let approved = Store::new(&h.paths).read().unwrap().unwrap();
    assert_eq!(approved.text, written);
    assert_eq!(approved.check(&h.vault), Ok(()));
    assert_eq!(
        decisions(&h.paths).last().unwrap(),
        &("keyward service add".to_string(), "approved".to_string())
    );
}

#[test]
fn an_edit_that_started_from_another_text_approves_nothing() {
    let h = home();
    let edit = edit::begin(&h.paths, &env("pw"), "keyward service add").unwrap();
    // The edit loaded the file after someone widened it.
    let written = format!("{WIDENED}\n[services.t]\nbase_url = \"https://t.example\"\n");
    fs::write(h.paths.config_file(), &written).unwrap();
    edit.finish(WIDENED, &written).unwrap();
    assert_eq!(Store::new(&h.paths).read().unwrap().unwrap().text, GET_ONLY);
}

#[test]
fn an_edit_on_top_of_unapproved_changes_approves_nothing() {
    let h = home();
    fs::write(h.paths.config_file(), WIDENED).unwrap();
    let edit = edit::begin(&h.paths, &env("pw"), "keyward service add").unwrap();
    let written = format!("{WIDENED}\n[services.t]\nbase_url = \"https://t.example\"\n");
    fs::write(h.paths.config_file(), &written).unwrap();
    edit.finish(WIDENED, &written).unwrap();
    assert_eq!(Store::new(&h.paths).read().unwrap().unwrap().text, GET_ONLY);
    assert!(
        !decisions(&h.paths)
            .iter()
            .any(|(a, _)| a == "keyward service add")
    );
}

#[test]
fn a_wrong_passphrase_stops_an_edit_and_is_audited() {
    let h = home();
    let e = edit::begin(&h.paths, &env("not it"), "keyward service add")
        .err()
        .unwrap();
    assert!(is_wrong_passphrase(&e), "{e}");
    assert_eq!(
        decisions(&h.paths).last().unwrap(),
        &("keyward service add".to_string(), "deny".to_string())
    );
    assert_eq!(Store::new(&h.paths).read().unwrap().unwrap().text, GET_ONLY);
}
