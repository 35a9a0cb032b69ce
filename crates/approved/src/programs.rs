//! Program pins, approved with the config (SECURITY.md item 10): each
//! `[commands.NAME]` program resolved to an absolute path (a bare name only
//! in directories the user cannot write) and the SHA-256 of that file,
//! kept in `approved/programs.sealed`, sealed under the vault key together
//! with the hash of the config text they were approved with.
//!
//! `keyward serve` refuses a command whose program now resolves elsewhere
//! or hashes differently, and every command when the pins are missing (an
//! approval from before pins existed) or do not belong to the approved
//! text: nothing is trusted on first sight.

use std::collections::BTreeMap;
use std::path::PathBuf;

use keyward_config::Config;
use keyward_connectors::exec::{ExecError, ProgramPin, pin_program};
use keyward_vault::{Vault, sealed};
use serde::{Deserialize, Serialize};

use crate::diff::printable;
use crate::error::ApprovedError;
use crate::store::{SealProblem, digest};

/// The seal's purpose.
const PURPOSE: &str = "approved-programs";

/// One command's pinned program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// `program` as written in keyward.toml.
    pub program: String,
    pub path: PathBuf,
    pub sha256: String,
}

/// Command name → pin.
pub type Programs = BTreeMap<String, Entry>;

/// A command whose program could not be pinned (it will be refused).
#[derive(Debug, thiserror::Error)]
#[error("commands.{command}: program not pinned, the command will be refused: {reason}")]
pub struct NotPinned {
    pub command: String,
    #[source]
    pub reason: ExecError,
}

/// Why no program pin can be trusted: every command is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinsProblem {
    #[error("the config was approved before keyward pinned programs (or the pin file was removed)")]
    Missing,
    #[error(
        "the pin file does not match its seal (changed outside keyward, or sealed under another vault)"
    )]
    Seal,
    #[error("the pin file cannot be read")]
    Unreadable,
    #[error("the pin file belongs to another approval of the config")]
    OtherApproval,
    /// The approved config they go with is not trusted (see
    /// [`crate::Serving::program_pins`]).
    #[error("{0}")]
    Config(#[from] SealProblem),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Hex SHA-256 of the approved text these pins go with.
    config_sha256: String,
    programs: Programs,
}

/// The pins for `text`'s commands, each program looked up on `path_var`
/// (the `PATH` of the human approving). With `keep`, a command whose
/// `program` is written as before keeps its earlier pin (an edit by
/// `keyward service add` must not accept a changed binary unseen); the
/// others are pinned now. Also returns what could not be pinned.
pub fn pin(
    text: &str,
    keep: Option<&Programs>,
    path_var: Option<&str>,
) -> (Programs, Vec<NotPinned>) {
    let Ok(config) = Config::parse(text, std::path::Path::new("keyward.toml")) else {
        return (Programs::new(), Vec::new());
    };
    let mut out = Programs::new();
    let mut problems = Vec::new();
    for (name, command) in &config.commands {
        if let Some(old) = keep.and_then(|k| k.get(name))
            && old.program == command.program
        {
            out.insert(name.clone(), old.clone());
            continue;
        }
        match pin_program(&command.program, path_var) {
            Ok(ProgramPin { path, sha256 }) => {
                out.insert(
                    name.clone(),
                    Entry {
                        program: command.program.clone(),
                        path,
                        sha256,
                    },
                );
            }
            Err(reason) => problems.push(NotPinned {
                command: name.clone(),
                reason,
            }),
        }
    }
    (out, problems)
}

/// One line per pin that differs between `old` and `new`, escaped for
/// the terminal.
pub fn changes(old: Option<&Programs>, new: &Programs) -> Vec<String> {
    let empty = Programs::new();
    let old = old.unwrap_or(&empty);
    let show = |e: &Entry| {
        format!(
            "{} sha256:{}",
            e.path.display(),
            &e.sha256[..e.sha256.len().min(16)]
        )
    };
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|n| match (old.get(n), new.get(n)) {
            (Some(a), Some(b)) if a == b => None,
            (Some(a), Some(b)) => Some(format!("~ commands.{n}: {} → {}", show(a), show(b))),
            (None, Some(b)) => Some(format!("+ commands.{n}: {}", show(b))),
            (Some(a), None) => Some(format!("- commands.{n}: {}", show(a))),
            (None, None) => None,
        })
        .map(|l| printable(&l))
        .collect()
}

/// The sealed file's bytes.
pub(crate) fn seal(
    vault: &Vault,
    text: &str,
    programs: &Programs,
) -> Result<Vec<u8>, ApprovedError> {
    let file = File {
        config_sha256: hex::encode(digest(text)),
        programs: programs.clone(),
    };
    let json = serde_json::to_vec(&file).map_err(ApprovedError::EncodePins)?;
    Ok(sealed::seal(vault, PURPOSE, &json)?)
}

/// The pins in `blob` if it opens under `vault` and belongs to `text`.
pub(crate) fn open(
    vault: &Vault,
    text: &str,
    blob: Option<&[u8]>,
) -> Result<Programs, PinsProblem> {
    let blob = blob.ok_or(PinsProblem::Missing)?;
    let plain = sealed::open(vault, PURPOSE, blob).map_err(|_| PinsProblem::Seal)?;
    let file: File = serde_json::from_slice(plain.expose()).map_err(|_| PinsProblem::Unreadable)?;
    if file.config_sha256 != hex::encode(digest(text)) {
        return Err(PinsProblem::OtherApproval);
    }
    Ok(file.programs)
}

/// The pins as the program runner checks them: command name → pin.
pub fn to_program_pins(programs: Programs) -> BTreeMap<String, ProgramPin> {
    programs
        .into_iter()
        .map(|(name, e)| {
            (
                name,
                ProgramPin {
                    path: e.path,
                    sha256: e.sha256,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_vault::{KdfParams, SecretValue};

    fn vault(dir: &std::path::Path, name: &str) -> Vault {
        Vault::create(
            &dir.join(name),
            &SecretValue::new(b"pw".to_vec()),
            KdfParams::for_tests(),
        )
        .unwrap()
    }

    fn entry() -> Programs {
        Programs::from([(
            "git".to_string(),
            Entry {
                program: "git".into(),
                path: "/usr/bin/git".into(),
                sha256: "ab".repeat(32),
            },
        )])
    }

    /// No pin file, a pin file of another approval, one sealed under
    /// another vault: none is trusted, each says why.
    #[test]
    fn an_approval_without_its_own_program_pins_trusts_none() {
        let dir = tempfile::tempdir().unwrap();
        let v = vault(dir.path(), "a.kw");
        let blob = seal(&v, "text one", &entry()).unwrap();
        assert_eq!(open(&v, "text one", Some(&blob)), Ok(entry()));
        assert!(
            open(&v, "text one", None)
                .unwrap_err()
                .to_string()
                .contains("before keyward pinned")
        );
        assert!(
            open(&v, "text two", Some(&blob))
                .unwrap_err()
                .to_string()
                .contains("another approval")
        );
        let other = vault(dir.path(), "b.kw");
        assert!(
            open(&other, "text one", Some(&blob))
                .unwrap_err()
                .to_string()
                .contains("seal")
        );
        let pins = to_program_pins(entry());
        assert_eq!(pins["git"].path, PathBuf::from("/usr/bin/git"));
        assert_eq!(pins["git"].sha256, "ab".repeat(32));
    }

    #[test]
    fn changes_name_each_command_whose_pin_differs() {
        let mut new = entry();
        assert!(changes(Some(&entry()), &new).is_empty());
        new.get_mut("git").unwrap().sha256 = "cd".repeat(32);
        let c = changes(Some(&entry()), &new);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].starts_with("~ commands.git: /usr/bin/git sha256:abab"),
            "{c:?}"
        );
        assert!(changes(None, &new)[0].starts_with("+ commands.git"));
    }
}
