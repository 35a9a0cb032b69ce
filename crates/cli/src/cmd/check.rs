use std::process::ExitCode;

use keyward_config::{Config, Paths};
use keyward_policy::{Action, Method, evaluate_http, split_path_and_query};

use crate::cmd::config_file;
use crate::error::CliError;

/// Prints the decision and the rule behind it. Exit status: 0 allow,
/// 1 deny or confirm, 2 an error.
pub(crate) fn run(
    paths: &Paths,
    service: &str,
    method: &str,
    path: &str,
) -> Result<ExitCode, CliError> {
    let cfg = Config::load(&config_file(paths)?)?;
    let svc = cfg.services.get(service).ok_or_else(|| {
        CliError::Config(keyward_config::ConfigError::NoSuchService(service.into()))
    })?;
    let method =
        Method::parse(method).map_err(|e| CliError::msg(format!("invalid method: {e}")))?;
    let (path, _query) = match split_path_and_query(path) {
        Ok(p) => p,
        Err(e) => {
            println!("deny: the path is rejected before any rule: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let verdict = evaluate_http(&svc.rules, &method, &path);
    let what = format!("{} {} on {service}", method.as_str(), path.as_str());
    println!(
        "{}: {}",
        verdict.decision.action,
        verdict.decision.explain(&what)
    );
    for (index, rate) in &verdict.rates {
        println!("  rate limit from rule #{}: {rate} per agent", index + 1);
    }
    if verdict.decision.action == Action::Confirm {
        println!(
            "  (each such call waits for a human's answer: the MCP client, `keyward approve` or the dashboard; no answer is a deny)"
        );
    }
    Ok(if verdict.decision.action == Action::Allow {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
