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
use keyward_connectors::exec::{ProgramPin, pin_program};
use keyward_gateway::pipeline::command_sandbox::ProgramPins;
use keyward_vault::{Vault, sealed};
use serde::{Deserialize, Serialize};

use super::diff::printable;
use super::store::digest;
use crate::error::CliError;

/// The seal's purpose.
pub(crate) const PURPOSE: &str = "approved-programs";

/// One command's pinned program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Entry {
    /// `program` as written in keyward.toml.
    pub(crate) program: String,
    pub(crate) path: PathBuf,
    pub(crate) sha256: String,
}

/// Command name → pin.
pub(crate) type Programs = BTreeMap<String, Entry>;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Hex SHA-256 of the approved text these pins go with.
    config_sha256: String,
    programs: Programs,
}

/// The pins for `text`'s commands. With `keep`, a command whose
/// `program` is written as before keeps its earlier pin (an edit by
/// `keyward service add` must not accept a changed binary unseen); the
/// others are pinned now. Also returns what could not be pinned.
pub(crate) fn pin(text: &str, keep: Option<&Programs>) -> (Programs, Vec<String>) {
    let Ok(config) = Config::parse(text, std::path::Path::new("keyward.toml")) else {
        return (Programs::new(), Vec::new());
    };
    let path_var = std::env::var("PATH").ok();
    let mut out = Programs::new();
    let mut problems = Vec::new();
    for (name, command) in &config.commands {
        if let Some(old) = keep.and_then(|k| k.get(name))
            && old.program == command.program
        {
            out.insert(name.clone(), old.clone());
            continue;
        }
        match pin_program(&command.program, path_var.as_deref()) {
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
            Err(e) => problems.push(format!(
                "commands.{name}: program not pinned, the command will be refused: {e}"
            )),
        }
    }
    (out, problems)
}

/// One line per pin that differs between `old` and `new`.
pub(crate) fn changes(old: Option<&Programs>, new: &Programs) -> Vec<String> {
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
pub(crate) fn seal(vault: &Vault, text: &str, programs: &Programs) -> Result<Vec<u8>, CliError> {
    let file = File {
        config_sha256: hex::encode(digest(text)),
        programs: programs.clone(),
    };
    let json = serde_json::to_vec(&file)
        .map_err(|e| CliError::msg(format!("cannot encode the program pins: {e}")))?;
    Ok(sealed::seal(vault, PURPOSE, &json)?)
}

/// The pins in `blob` if it opens under `vault` and belongs to `text`.
pub(crate) fn open(vault: &Vault, text: &str, blob: Option<&[u8]>) -> Result<Programs, String> {
    let Some(blob) = blob else {
        return Err(
            "the config was approved before keyward pinned programs (or the pin file was removed)"
                .into(),
        );
    };
    let plain = sealed::open(vault, PURPOSE, blob).map_err(|_| {
        "the pin file does not match its seal (changed outside keyward, or sealed under another vault)"
            .to_string()
    })?;
    let file: File = serde_json::from_slice(plain.expose())
        .map_err(|_| "the pin file cannot be read".to_string())?;
    if file.config_sha256 != hex::encode(digest(text)) {
        return Err("the pin file belongs to another approval of the config".into());
    }
    Ok(file.programs)
}

/// For the gateway.
pub(crate) fn for_gateway(pins: Result<Programs, String>) -> ProgramPins {
    match pins {
        Ok(p) => ProgramPins::Sealed(
            p.into_iter()
                .map(|(name, e)| {
                    (
                        name,
                        ProgramPin {
                            path: e.path,
                            sha256: e.sha256,
                        },
                    )
                })
                .collect(),
        ),
        Err(why) => ProgramPins::Unavailable(why),
    }
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
                .contains("before keyward pinned")
        );
        assert!(
            open(&v, "text two", Some(&blob))
                .unwrap_err()
                .contains("another approval")
        );
        let other = vault(dir.path(), "b.kw");
        assert!(
            open(&other, "text one", Some(&blob))
                .unwrap_err()
                .contains("seal")
        );
        assert!(matches!(
            for_gateway(open(&v, "text one", None)),
            ProgramPins::Unavailable(_)
        ));
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
