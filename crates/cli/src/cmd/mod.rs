//! One module a command.

mod audit;
mod check;
mod init;
mod secret;
mod serve;
mod service;

use std::process::ExitCode;

use keyward_config::Paths;

use crate::cli::{Cli, Command};
use crate::env::ProcessEnv;
use crate::error::CliError;

pub(crate) fn run(cli: Cli, env: &ProcessEnv) -> Result<ExitCode, CliError> {
    let paths = Paths::resolve(env.home.clone())?;
    match cli.command {
        Command::Init(args) => init::run(&paths, env, args),
        Command::Secret(cmd) => secret::run(&paths, env, cmd),
        Command::Service(cmd) => service::run(&paths, cmd),
        Command::Check {
            service,
            method,
            path,
        } => check::run(&paths, &service, &method, &path),
        Command::Serve => serve::run(&paths, env),
        Command::Audit(args) => audit::run(&paths, args),
    }
}

/// The config file, or a clear "not set up" error.
fn config_file(paths: &Paths) -> Result<std::path::PathBuf, CliError> {
    let f = paths.config_file();
    if f.exists() {
        Ok(f)
    } else {
        Err(CliError::NotInitialised(paths.config_dir.clone()))
    }
}
