//! `keyward agent add/list/rm`: the bearer tokens agents use with
//! `keyward serve --http` (and `keyward connect`). A token is printed once,
//! on stdout alone (so it can be redirected into a file); only its hash is
//! kept.

use std::process::ExitCode;

use keyward_config::Paths;
use keyward_gateway::transport::http::agents::{self, AGENTS_FILE};

use crate::cli::AgentCmd;
use crate::cmd::config_file;
use crate::error::CliError;

pub(crate) fn run(paths: &Paths, cmd: AgentCmd) -> Result<ExitCode, CliError> {
    // Only in a keyward home that is set up (not a stray directory).
    config_file(paths)?;
    let file = paths.data_dir.join(AGENTS_FILE);
    let err = |e: agents::AgentError| CliError::msg(e.to_string());
    match cmd {
        AgentCmd::Add { name } => {
            let token = agents::add(&file, &name, jiff::Timestamp::now()).map_err(err)?;
            let text = token
                .expose_str()
                .map_err(|_| CliError::msg("the new token is not text"))?;
            println!("{text}");
            eprintln!(
                "keyward: agent `{name}` added. The token above is shown only this once: put it in \
                 the client's config (header `Authorization: Bearer <token>` for \
                 http://127.0.0.1:8717/mcp, or KEYWARD_AGENT_TOKEN for `keyward connect`). \
                 `keyward agent rm {name}` revokes it."
            );
        }
        AgentCmd::List => {
            let all = agents::list(&file).map_err(err)?;
            if all.is_empty() {
                eprintln!("no agents; `keyward agent add NAME` makes a token for one");
            } else {
                let width = all.iter().map(|a| a.name.len()).max().unwrap_or(4).max(4);
                println!("{:width$}  CREATED", "NAME");
                for a in all {
                    let created = a.created.strftime("%Y-%m-%d %H:%M:%S UTC");
                    println!("{:width$}  {created}", a.name);
                }
            }
        }
        AgentCmd::Rm { name } => {
            agents::remove(&file, &name).map_err(err)?;
            eprintln!(
                "keyward: agent `{name}` removed; a running service refuses its token from its next request on"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
