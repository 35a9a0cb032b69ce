//! `keyward import --undo [--force]`: the last import's originals put back
//! (see [`keyward_migrate::backup`]), and a restored keyward.toml approved
//! as any CLI edit is.

use std::process::ExitCode;

use keyward_config::Paths;
use keyward_migrate::backup::Backups;

use crate::config_approval::edit::ConfigEdit;
use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::unlock::{Prompt, unlock};

/// `edit` approves a restored keyward.toml (see
/// [`crate::config_approval::edit`]).
pub(super) fn undo(
    paths: &Paths,
    env: &ProcessEnv,
    force: bool,
    edit: ConfigEdit,
) -> Result<ExitCode, CliError> {
    let Some(last) = Backups::in_data_dir(&paths.data_dir).last()? else {
        println!("nothing to undo: no import has changed files");
        return Ok(ExitCode::SUCCESS);
    };
    last.check(force)?;
    let vault = unlock(paths, env, Prompt::IfTerminal)?;
    let restored_config = last.restore(&vault, &paths.config_file(), |path| {
        println!("restored {}", path.display());
    })?;
    if let Some(text) = restored_config {
        // A restore does not build on the file as it was: its base is moot.
        let base = edit.before().unwrap_or_default().to_string();
        edit.finish(&base, &text)?;
    }
    let created = last.created().to_string();
    last.mark_undone()?;
    println!(
        "undid the import of {created}; the secrets it stored stay in the vault (`keyward secret list`, \
         `keyward secret rm NAME`)"
    );
    Ok(ExitCode::SUCCESS)
}
