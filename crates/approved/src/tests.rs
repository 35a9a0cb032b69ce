//! Serving the approved config, and CLI edits that approve themselves.
//! The vault an edit gets is opened with the passphrase, as the binary
//! does once the human gave it.

use std::fs;

use keyward_audit::{AuditLog, read_records};
use keyward_config::{Config, Paths};
use keyward_vault::{KdfParams, SecretValue, Vault};

use super::*;
use crate::edit::{Begin, ConfigEdit};

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

/// An edit by `keyward service add`, the passphrase given.
fn begin_edit(paths: &Paths) -> ConfigEdit {
    match edit::begin(paths, "keyward service add").unwrap() {
        Begin::Ask(asking) => asking
            .with_vault(Vault::open_with_passphrase(&paths.vault_file(), &pass("pw")).unwrap()),
        Begin::Decided(edit) => edit,
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
    let serving = Serving::load(&h.paths).unwrap();
    assert_eq!(methods_of(serving.config()), Some(vec!["GET".to_string()]));
    let audit = AuditLog::open(&h.paths.audit_file()).unwrap();
    let confirmed = serving.confirm(&h.vault, &audit).unwrap();
    assert_eq!(methods_of(&confirmed.config), Some(vec!["GET".to_string()]));
    let notice = confirmed.notice.unwrap();
    assert!(notice.starts_with(PENDING_NOTICE), "{notice}");
    assert!(notice.contains("+0 -1 lines"), "{notice}");
    assert_eq!(
        decisions(&h.paths).last().unwrap(),
        &("keyward serve".to_string(), "pending".to_string())
    );

    // Unchanged: no notice, no record.
    fs::write(h.paths.config_file(), GET_ONLY).unwrap();
    let n = decisions(&h.paths).len();
    let confirmed = Serving::load(&h.paths)
        .unwrap()
        .confirm(&h.vault, &audit)
        .unwrap();
    assert!(confirmed.notice.is_none());
    assert_eq!(decisions(&h.paths).len(), n);
}

#[test]
fn serve_refuses_a_copy_that_does_not_match_its_seal() {
    let h = home();
    fs::write(h.paths.config_file(), WIDENED).unwrap();
    fs::write(Store::new(&h.paths).text_path(), WIDENED).unwrap();
    let serving = Serving::load(&h.paths).unwrap();
    assert!(serving.program_pins(&h.vault).is_err());
    let audit = AuditLog::open(&h.paths.audit_file()).unwrap();
    let e = serving.confirm(&h.vault, &audit).err().unwrap().to_string();
    assert!(e.contains("cannot be trusted"), "{e}");

    fs::remove_dir_all(h.paths.data_dir.join("approved")).unwrap();
    let e = Serving::load(&h.paths).err().unwrap().to_string();
    assert!(e.contains("no approved config"), "{e}");
}

#[test]
fn an_edit_of_the_approved_file_approves_what_it_wrote() {
    let h = home();
    let edit = begin_edit(&h.paths);
    let written = format!("{GET_ONLY}\n[services.t]\nbase_url = \"https://t.example\"\n");
    fs::write(h.paths.config_file(), &written).unwrap();
    // Someone changes the file right after the edit wrote it: what the
    // edit wrote is approved, not what the file holds now.
    fs::write(h.paths.config_file(), WIDENED).unwrap();
    assert!(matches!(
        edit.finish(GET_ONLY, &written, None).unwrap(),
        edit::Finished::Approved { .. }
    ));
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
    let edit = begin_edit(&h.paths);
    // The edit loaded the file after someone widened it.
    let written = format!("{WIDENED}\n[services.t]\nbase_url = \"https://t.example\"\n");
    fs::write(h.paths.config_file(), &written).unwrap();
    assert!(matches!(
        edit.finish(WIDENED, &written, None).unwrap(),
        edit::Finished::NotApproved(edit::NotApproved::ChangedWhileRunning)
    ));
    assert_eq!(Store::new(&h.paths).read().unwrap().unwrap().text, GET_ONLY);
}

#[test]
fn an_edit_on_top_of_unapproved_changes_approves_nothing() {
    let h = home();
    fs::write(h.paths.config_file(), WIDENED).unwrap();
    let edit = begin_edit(&h.paths);
    let written = format!("{WIDENED}\n[services.t]\nbase_url = \"https://t.example\"\n");
    fs::write(h.paths.config_file(), &written).unwrap();
    assert!(matches!(
        edit.finish(WIDENED, &written, None).unwrap(),
        edit::Finished::NotApproved(edit::NotApproved::AlreadyDiffered)
    ));
    assert_eq!(Store::new(&h.paths).read().unwrap().unwrap().text, GET_ONLY);
    assert!(
        !decisions(&h.paths)
            .iter()
            .any(|(a, _)| a == "keyward service add")
    );
}

#[test]
fn an_edit_without_the_passphrase_writes_and_waits() {
    let h = home();
    let Begin::Ask(asking) = edit::begin(&h.paths, "keyward service add").unwrap() else {
        panic!("the file is the approved one");
    };
    let edit = asking.without_passphrase();
    assert_eq!(edit.before(), Some(GET_ONLY));
    let written = format!("{GET_ONLY}\n[services.t]\nbase_url = \"https://t.example\"\n");
    fs::write(h.paths.config_file(), &written).unwrap();
    assert!(matches!(
        edit.finish(GET_ONLY, &written, None).unwrap(),
        edit::Finished::NoPassphrase
    ));
    assert_eq!(Store::new(&h.paths).read().unwrap().unwrap().text, GET_ONLY);
}

#[test]
fn the_review_base_is_the_approved_text_only_when_trusted() {
    let h = home();
    let approved = Store::new(&h.paths).read().unwrap().unwrap();
    assert_eq!(
        review::Base::of(Some(&approved), Some(&h.vault)),
        review::Base::Trusted(GET_ONLY)
    );
    assert_eq!(review::Base::of(Some(&approved), None).text(), GET_ONLY);
    assert_eq!(review::Base::of(None, Some(&h.vault)).text(), "");
    fs::write(Store::new(&h.paths).text_path(), WIDENED).unwrap();
    let edited = Store::new(&h.paths).read().unwrap().unwrap();
    let base = review::Base::of(Some(&edited), Some(&h.vault));
    assert_eq!(base, review::Base::Untrusted(SealProblem::Mismatch));
    assert_eq!(base.text(), "");
}

const WITH_COMMAND: &str = "[commands.show]\nprogram = \"echo\"\nargs = [\"*\"]\n";

#[test]
fn a_proposal_is_nothing_to_approve_only_for_the_trusted_text_and_its_pins() {
    let h = home();
    let path = Some("/usr/bin:/bin");
    let approved = Store::new(&h.paths).read().unwrap().unwrap();
    let same = review::Proposal::new(Some(&approved), &h.vault, GET_ONLY, path);
    assert!(same.nothing_to_approve(GET_ONLY));
    let widened = review::Proposal::new(Some(&approved), &h.vault, WIDENED, path);
    assert!(!widened.nothing_to_approve(WIDENED));

    // Approved before programs were pinned: approving again records them.
    record(
        &h.paths,
        &h.vault,
        WITH_COMMAND,
        "test",
        &Default::default(),
    )
    .unwrap();
    let approved = Store::new(&h.paths).read().unwrap().unwrap();
    let p = review::Proposal::new(Some(&approved), &h.vault, WITH_COMMAND, path);
    assert!(p.not_pinned.is_empty(), "{:?}", p.not_pinned);
    assert!(!p.pins_same() && !p.nothing_to_approve(WITH_COMMAND));
    assert!(
        p.pin_changes()[0].starts_with("+ commands.show: "),
        "{:?}",
        p.pin_changes()
    );
    record(&h.paths, &h.vault, WITH_COMMAND, "test", &p.pins).unwrap();
    let approved = Store::new(&h.paths).read().unwrap().unwrap();
    let again = review::Proposal::new(Some(&approved), &h.vault, WITH_COMMAND, path);
    assert!(again.nothing_to_approve(WITH_COMMAND));
    assert!(again.pin_changes().is_empty());

    // An approved copy that fails its seal is no base: all of it is new.
    fs::write(Store::new(&h.paths).text_path(), GET_ONLY).unwrap();
    let approved = Store::new(&h.paths).read().unwrap().unwrap();
    let p = review::Proposal::new(Some(&approved), &h.vault, GET_ONLY, path);
    assert_eq!(p.base, review::Base::Untrusted(SealProblem::Mismatch));
    assert!(!p.nothing_to_approve(GET_ONLY));
}
