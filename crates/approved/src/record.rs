//! Approving a text, and refusing to: both are audited. An approval that
//! cannot be recorded in the audit log is not made.

use keyward_audit::{AuditLog, Decision, Event, Kind};
use keyward_config::Paths;
use keyward_vault::Vault;

use crate::error::ApprovedError;
use crate::programs::Programs;
use crate::store::{Store, short_hash};

/// Makes `text` the approved config: audited first (an approval that
/// cannot be recorded is not made), then written with its seal. `by` is
/// the command that approved it (`keyward config approve`).
/// `programs` are the program pins approved with it (see
/// [`crate::programs`]).
pub fn record(
    paths: &Paths,
    vault: &Vault,
    text: &str,
    by: &str,
    programs: &Programs,
) -> Result<(), ApprovedError> {
    let audit = AuditLog::open(&paths.audit_file())?;
    let pinned: Vec<String> = programs
        .iter()
        .map(|(n, e)| {
            format!(
                "{n}={}@{}",
                e.path.display(),
                &e.sha256[..e.sha256.len().min(16)]
            )
        })
        .collect();
    audit.append(Event {
        agent: by.into(),
        kind: Kind::Config,
        target: "keyward.toml".into(),
        decision: Decision::Approved,
        rule: Some(format!("sha256:{}", short_hash(text))),
        args: (!pinned.is_empty()).then(|| format!("programs: {}", pinned.join(" "))),
        ..Event::default()
    })?;
    Store::new(paths).write(vault, text, programs)
}

/// An approval refused for a wrong passphrase, audited (best effort: the
/// refusal stands whether or not it could be recorded).
pub fn record_refusal(paths: &Paths, by: &str) {
    if let Ok(audit) = AuditLog::open(&paths.audit_file()) {
        let _ = audit.append(Event {
            agent: by.into(),
            kind: Kind::Config,
            target: "keyward.toml".into(),
            decision: Decision::Deny,
            error: Some("wrong passphrase: nothing approved".into()),
            ..Event::default()
        });
    }
}
