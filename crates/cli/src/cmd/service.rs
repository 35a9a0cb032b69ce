use std::process::ExitCode;

use keyward_config::{Config, ConfigDoc, ConfigError, Paths, ServiceSpec};

use crate::cli::{ServiceAddArgs, ServiceCmd};
use crate::cmd::{available, config_file};
use crate::config_approval::edit;
use crate::env::ProcessEnv;
use crate::error::CliError;

pub(crate) fn run(paths: &Paths, env: &ProcessEnv, cmd: ServiceCmd) -> Result<ExitCode, CliError> {
    let file = config_file(paths)?;
    match cmd {
        ServiceCmd::Add(a) => {
            let name = a.name.clone();
            let mut doc = ConfigDoc::load(&file)?;
            let base = doc.text();
            doc.add_service(&spec(*a))
                .map_err(|e| add_error(&name, e))?;
            let edit = edit::begin(paths, env, "keyward service add")?;
            doc.save()?;
            println!("added service `{name}` to {}", file.display());
            edit.finish(&base, &doc.text())?;
            let cfg = Config::load(&file)?;
            warn_unresolved(paths, env, &cfg, &name);
            if cfg.services.get(&name).is_some_and(|s| s.rules.is_empty()) {
                println!(
                    "it has no rules yet, so every call is denied; add `--allow 'GET /path/**'` or edit the file"
                );
            }
        }
        ServiceCmd::List => {
            let cfg = Config::load(&file)?;
            if cfg.services.is_empty() {
                println!(
                    "no services yet: keyward service add NAME --base-url URL --auth bearer --secret NAME --allow 'GET /**'"
                );
            }
            let vault = available::open_vault(paths, env);
            for (name, s) in &cfg.services {
                let secret = s.auth.secret().map(|r| r.to_string()).unwrap_or_default();
                println!("{name}  {}  auth={} {secret}", s.base_url, s.auth.kind());
                if let Some(d) = &s.description {
                    println!("  {d}");
                }
                for (i, r) in s.rules.iter().enumerate() {
                    match &r.rate {
                        Some(rate) => println!("  #{} {} ({rate})", i + 1, r.text()),
                        None => println!("  #{} {}", i + 1, r.text()),
                    }
                }
                let refs = available::service_refs(&cfg, name);
                if let Some(why) = vault
                    .as_ref()
                    .and_then(|v| available::unresolved(&cfg, v, env, &refs))
                {
                    println!("  UNAVAILABLE: {why}");
                }
            }
        }
        ServiceCmd::Rm { name } => {
            let mut doc = ConfigDoc::load(&file)?;
            let base = doc.text();
            doc.remove_service(&name)?;
            let edit = edit::begin(paths, env, "keyward service rm")?;
            doc.save()?;
            println!("removed service `{name}`");
            edit.finish(&base, &doc.text())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A problem with a flag is said as such (the file is fine and
/// unchanged); a problem elsewhere in the file keeps the "fix keyward.toml"
/// hint.
fn add_error(name: &str, e: ConfigError) -> CliError {
    match e {
        ConfigError::Invalid { at, message, .. } if at.starts_with("--") || at == "name" => {
            CliError::msg(format!(
                "cannot add service `{}`: `{at}`: {message} (keyward.toml is unchanged)",
                name.escape_debug()
            ))
        }
        e => e.into(),
    }
}

fn spec(a: ServiceAddArgs) -> ServiceSpec {
    ServiceSpec {
        name: a.name,
        base_url: a.base_url,
        description: a.description,
        auth: a.auth,
        secret: a.secret,
        username: a.username,
        header: a.header,
        param: a.param,
        allow: a.allow,
        confirm: a.confirm,
        deny: a.deny,
        rate: a.rate,
    }
}

/// `service add` takes a secret that does not exist yet (it may be set
/// next), but says so: until it resolves, the service is unavailable.
fn warn_unresolved(paths: &Paths, env: &ProcessEnv, cfg: &Config, name: &str) {
    let refs = available::service_refs(cfg, name);
    if refs.is_empty() {
        return;
    }
    if let Some(why) =
        available::open_vault(paths, env).and_then(|v| available::unresolved(cfg, &v, env, &refs))
    {
        eprintln!(
            "warning: the secret does not resolve yet: {why}. The service is added; until the secret exists, `keyward serve` lists it as unavailable (the other services still serve)"
        );
    }
}
