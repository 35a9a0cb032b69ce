//! What a command reads besides its argv (SECURITY.md item 10): its working
//! directory, its `HOME`, its `PATH` and its program file. Each of these is
//! something the agent, as the same user, could otherwise choose or write,
//! and a program that reads a hook from one of them (`core.fsmonitor` in a
//! `.git/config`, a `~/.gitconfig` alias, a `git` earlier on `PATH`) can
//! send its secret back transformed, past any scrubber.
//!
//! - cwd: refused unless the command's `cwd` patterns allow it, matched on
//!   the canonical path; without one the program runs in `/`.
//! - HOME: the command's `home`, else a private directory made empty for
//!   each run ([`PrivateHome`]).
//! - PATH: only directories the user cannot write ([`SafePath`]).
//! - program: the path and SHA-256 pinned when the config was approved
//!   ([`ProgramPins`]); a different one is refused until approved again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use keyward_config::Command;
use keyward_connectors::exec::{PrivateHome, ProgramPin, SafePath, verify_pin};

/// How to accept a changed program.
const REAPPROVE: &str =
    "a human accepts it by re-approving the config with the passphrase: `keyward config approve`";

/// The program pins of the approved config, as the CLI read them.
#[derive(Clone, Debug)]
pub enum ProgramPins {
    /// Sealed with the approved config: command name → pin. A command
    /// without an entry had no program that could be pinned at approval.
    Sealed(BTreeMap<String, ProgramPin>),
    /// None can be trusted (an approval from before pins existed, or a
    /// pin file that does not match its seal): every command is refused,
    /// with this reason.
    Unavailable(String),
}

/// What the gateway needs to run commands; set once by the CLI
/// (set once, by whoever builds the stages, before serving). Without it, no command runs.
#[derive(Clone, Debug)]
pub struct ExecSetup {
    /// Where each run's private HOME is made (in keyward's data dir).
    pub home_root: PathBuf,
    pub pins: ProgramPins,
}

/// The program to run for `command`, checked against its pin.
pub fn program(
    setup: Option<&ExecSetup>,
    command: &Command,
    path_var: Option<&str>,
) -> Result<PathBuf, String> {
    let name = &command.name;
    let Some(setup) = setup else {
        return Err(format!(
            "command `{name}` cannot run: this keyward has no program pins"
        ));
    };
    let pin = match &setup.pins {
        ProgramPins::Unavailable(why) => {
            return Err(format!(
                "command `{name}` is refused: its program is not pinned ({why}); {REAPPROVE}"
            ));
        }
        ProgramPins::Sealed(pins) => pins.get(name).ok_or_else(|| {
            format!(
                "command `{name}` is refused: its program `{}` was not pinned when the config was \
                 approved (it was not found then in a directory only root can write); {REAPPROVE}",
                command.program.escape_debug()
            )
        })?,
    };
    verify_pin(&command.program, pin, path_var)
        .map_err(|e| format!("command `{name}` is refused: {e}; {REAPPROVE}"))
}

/// The working directory for a run: the canonical form of `requested`
/// when a `cwd` pattern allows it, else `/`. Also returns the directory
/// above the matched pattern's root, for `GIT_CEILING_DIRECTORIES` (so
/// that git does not look for a repository above the allowed tree).
pub fn cwd(
    command: &Command,
    requested: Option<&Path>,
) -> Result<(PathBuf, Option<PathBuf>), String> {
    let Some(requested) = requested else {
        return Ok((PathBuf::from("/"), None));
    };
    let name = &command.name;
    let shown = requested.display().to_string();
    let shown = shown.escape_debug();
    if command.cwd.is_empty() {
        return Err(format!(
            "`cwd` is not allowed for command `{name}`: no working directory may be chosen for it \
             (a human can allow some with `cwd = [\"/path/**\"]` under [commands.{name}] in \
             keyward.toml, then `keyward config approve`); leave `cwd` out to run it in `/`"
        ));
    }
    let canonical = std::fs::canonicalize(requested)
        .ok()
        .filter(|c| c.is_dir())
        .ok_or_else(|| format!("`cwd` `{shown}` is not an existing directory"))?;
    for pattern in &command.cwd {
        let prefix = std::fs::canonicalize(pattern.prefix())
            .unwrap_or_else(|_| pattern.prefix().to_path_buf());
        if pattern.matches(&prefix, &canonical) {
            let ceiling = prefix.parent().map(Path::to_path_buf);
            return Ok((canonical, ceiling));
        }
    }
    let patterns: Vec<String> = command.cwd.iter().map(ToString::to_string).collect();
    Err(format!(
        "`cwd` `{shown}` (resolved: `{}`) is not allowed for command `{name}`: \
         commands.{name}.cwd allows {}",
        canonical.display().to_string().escape_debug(),
        patterns.join(", ")
    ))
}

/// The HOME for one run: the command's `home`, or a fresh private one
/// (kept alive by the returned guard, removed when it drops).
pub fn home(
    setup: Option<&ExecSetup>,
    command: &Command,
) -> Result<(PathBuf, Option<PrivateHome>), String> {
    if let Some(h) = &command.home {
        return Ok((h.clone(), None));
    }
    let setup =
        setup.ok_or_else(|| format!("command `{}` cannot run: no private HOME", command.name))?;
    let private = PrivateHome::create(&setup.home_root, &command.name).map_err(|e| {
        format!(
            "command `{}` cannot run: cannot make its private HOME in {}: {e}",
            command.name,
            setup.home_root.display()
        )
    })?;
    Ok((private.to_path_buf(), Some(private)))
}

/// keyward's allow-listed environment with `PATH` and `HOME` replaced.
pub fn inherit(
    base: &[(String, String)],
    home: &Path,
    ceiling: Option<&Path>,
    declared: &[(String, keyward_vault::SecretValue)],
) -> Vec<(String, String)> {
    let path_var = base
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str());
    let safe = SafePath::of(path_var);
    let mut out: Vec<(String, String)> = base
        .iter()
        .filter(|(k, _)| k != "PATH" && k != "HOME")
        .cloned()
        .collect();
    if !safe.dirs.is_empty() {
        out.push(("PATH".into(), safe.joined()));
    }
    out.push(("HOME".into(), home.to_string_lossy().into_owned()));
    if let Some(c) = ceiling
        && !declared.iter().any(|(k, _)| k == "GIT_CEILING_DIRECTORIES")
    {
        out.push((
            "GIT_CEILING_DIRECTORIES".into(),
            c.to_string_lossy().into_owned(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_config::Config;

    fn command(extra: &str) -> Command {
        let text = format!("[commands.git]\nprogram = \"git\"\nargs = [\"status\"]\n{extra}\n");
        Config::parse(&text, Path::new("keyward.toml"))
            .unwrap()
            .commands
            .remove("git")
            .unwrap()
    }

    #[test]
    fn agent_chosen_cwd_is_refused_unless_allowed() {
        let tmp = tempfile::tempdir().unwrap();
        let c = command("");
        let err = cwd(&c, Some(tmp.path())).unwrap_err();
        assert!(
            err.contains("not allowed") && err.contains("[commands.git]"),
            "{err}"
        );
        assert_eq!(cwd(&c, None).unwrap(), (PathBuf::from("/"), None));
    }

    #[test]
    fn cwd_symlink_escape_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        let allowed = root.join("src");
        let outside = root.join("evil");
        std::fs::create_dir_all(allowed.join("repo")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, allowed.join("link")).unwrap();
        let c = command(&format!("cwd = [\"{}/**\"]", allowed.display()));

        let (dir, ceiling) = cwd(&c, Some(&allowed.join("repo"))).unwrap();
        assert_eq!(dir, allowed.join("repo"));
        assert_eq!(ceiling.as_deref(), Some(root.as_path()));
        for escape in [allowed.join("link"), allowed.join("repo/../../evil")] {
            let err = cwd(&c, Some(&escape)).unwrap_err();
            assert!(
                err.contains("is not allowed") && err.contains("commands.git.cwd"),
                "{err}"
            );
        }
        assert!(
            cwd(&c, Some(&allowed.join("nope")))
                .unwrap_err()
                .contains("not an existing")
        );
    }

    #[test]
    fn a_pattern_through_a_symlinked_prefix_still_matches() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join("real/repo")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("alias")).unwrap();
        let c = command(&format!("cwd = [\"{}/alias/*\"]", root.display()));
        assert_eq!(
            cwd(&c, Some(&root.join("real/repo"))).unwrap().0,
            root.join("real/repo")
        );
    }

    #[test]
    fn commands_without_pins_are_refused_until_approved() {
        let c = command("");
        let setup = ExecSetup {
            home_root: PathBuf::from("/nonexistent"),
            pins: ProgramPins::Unavailable("approved before programs were pinned".into()),
        };
        let err = program(Some(&setup), &c, Some("/usr/bin:/bin")).unwrap_err();
        assert!(err.contains("keyward config approve"), "{err}");
        let none = ExecSetup {
            pins: ProgramPins::Sealed(BTreeMap::new()),
            ..setup
        };
        let err = program(Some(&none), &c, Some("/usr/bin:/bin")).unwrap_err();
        assert!(err.contains("not pinned"), "{err}");
        assert!(program(None, &c, None).is_err());
    }

    #[test]
    fn the_child_gets_a_safe_path_and_the_private_home() {
        let tmp = tempfile::tempdir().unwrap();
        let base = vec![
            (
                "PATH".to_string(),
                format!("{}:/usr/bin", tmp.path().display()),
            ),
            ("HOME".to_string(), "/home/real".to_string()),
            ("LANG".to_string(), "C".to_string()),
        ];
        let env = inherit(&base, Path::new("/priv"), Some(Path::new("/up")), &[]);
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("HOME").as_deref(), Some("/priv"));
        assert_eq!(get("LANG").as_deref(), Some("C"));
        assert!(
            !get("PATH")
                .unwrap_or_default()
                .contains(&tmp.path().display().to_string())
        );
        assert_eq!(get("GIT_CEILING_DIRECTORIES").as_deref(), Some("/up"));
        assert_eq!(env.iter().filter(|(k, _)| k == "HOME").count(), 1);
    }
}
