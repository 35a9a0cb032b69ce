//! One module a command.

mod accept;
mod agent;
mod approvals;
mod audit;
mod available;
mod check;
mod config;
mod connect;
mod demo;
mod demo_echo;
mod doctor;
mod import;
mod init;
mod rotate;
mod run;
mod scan;
mod secret;
mod serve;
mod serve_http;
mod servers;
mod servers_tools;
mod service;

use std::process::ExitCode;

use keyward_config::Paths;

use crate::cli::{Cli, Command, GrantsAction};
use crate::env::ProcessEnv;
use crate::error::CliError;

pub(crate) fn run(cli: Cli, env: &ProcessEnv) -> Result<ExitCode, CliError> {
    // `keyward run` needs keyward's files only to open the vault, and only
    // when a keyward:// reference asks for it.
    let command = match cli.command {
        Command::Run(args) => return run::run(env, args),
        // `keyward scan` only reads the files it is pointed at.
        Command::Scan(args) => return scan::run(env, args),
        // `keyward demo` makes a home of its own, and never looks at this one.
        Command::Demo(args) => return demo::run(args),
        command => command,
    };
    let paths = Paths::resolve(env.home.clone())?;
    match command {
        Command::Init(args) => init::run(&paths, env, args),
        Command::Secret(cmd) => secret::run(&paths, env, cmd),
        Command::Service(cmd) => service::run(&paths, env, cmd),
        Command::Check {
            service,
            method,
            path,
        } => check::run(&paths, &service, &method, &path),
        Command::Serve(args) => serve::run(&paths, env, &args),
        Command::Agent(cmd) => agent::run(&paths, cmd),
        Command::Connect(args) => connect::run(&paths, args),
        Command::Doctor => doctor::run(&paths, env),
        Command::Audit(args) => audit::run(&paths, args),
        Command::Servers(cmd) => servers::run(&paths, env, cmd),
        Command::Config(cmd) => config::run(&paths, env, cmd),
        Command::Run(args) => run::run(env, args),
        Command::Scan(args) => scan::run(env, args),
        Command::Demo(args) => demo::run(args),
        Command::Import(args) => import::run(&paths, env, args),
        Command::Approvals => approvals::list(&paths),
        Command::Approve { id, for_, session } => {
            approvals::approve(&paths, env, &id, for_.as_deref(), session)
        }
        Command::Deny { id } => approvals::deny(&paths, &id),
        Command::Grants(cmd) => match cmd.action {
            None => approvals::grants(&paths),
            Some(GrantsAction::Revoke { id, all }) => approvals::revoke(&paths, id.as_deref(), all),
        },
        Command::Lock => approvals::lock(&paths),
        Command::Unlock => approvals::unlock(&paths, env),
    }
}

/// The config file, or a clear "not set up" error.
pub(crate) fn config_file(paths: &Paths) -> Result<std::path::PathBuf, CliError> {
    let f = paths.config_file();
    if f.exists() {
        Ok(f)
    } else {
        Err(CliError::NotInitialised(paths.config_dir.clone()))
    }
}

/// The tool pins (`DATA/pins.json`, sealed under the vault key) for the
/// servers of `config`: a store found missing or changed puts them all
/// under review (see keyward_gateway::servers::pins).
pub(crate) fn open_pins(
    paths: &Paths,
    vault: &keyward_vault::Vault,
    config: &keyward_config::Config,
) -> Result<keyward_gateway::servers::PinStore, CliError> {
    keyward_gateway::servers::PinStore::open(
        &pins_file(paths),
        vault.sealer(),
        config.servers.keys().cloned(),
    )
    .map_err(|e| CliError::msg(e.to_string()))
}

pub(crate) fn pins_file(paths: &Paths) -> std::path::PathBuf {
    paths.data_dir.join("pins.json")
}
