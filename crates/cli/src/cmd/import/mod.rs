//! `keyward import [CLIENT|PATH]`: move the plaintext secrets of MCP client
//! configs into the vault and put the servers behind keyward (`--mode
//! wrap`, the default) or start them through `keyward run` (`--mode run`).
//!
//! Order, so that nothing is ever half-done: every plan is made and
//! validated in memory first; then the vault takes the secrets (one atomic
//! write); then each file that changes is backed up — sealed under the
//! vault key, since the originals hold the plaintext — and rewritten
//! atomically. If a write fails, the files already written are put back.
//! `keyward import --undo` restores the last import's backups.

mod names;
mod targets;
mod undo;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use keyward_config::{Config, ConfigDoc, Paths, ServerSpec};
use keyward_migrate::backup::{Backups, FileWrite};
use keyward_migrate::detect;
use keyward_migrate::diff::masked_diff;
use keyward_migrate::plan::{self, FilePlan, Mode, Options, ToolPolicy};
use keyward_vault::{SecretValue, Vault};

use crate::cli::ImportArgs;
use crate::cmd::config_file;
use crate::config_approval::edit;
use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::unlock::{Prompt, unlock};

use targets::Target;

/// Client configs larger than this are not read (they are not configs).
const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

pub(crate) fn run(paths: &Paths, env: &ProcessEnv, args: ImportArgs) -> Result<ExitCode, CliError> {
    if args.undo {
        let edit = edit::begin(paths, env, "keyward import --undo")?;
        return undo::undo(paths, env, args.force, edit);
    }
    if let Some(c) = &args.client {
        keyward_config::validate_client_name(c)
            .map_err(|m| CliError::msg(format!("--client: {m}")))?;
    }
    let config = config_file(paths)?;
    let targets = targets::resolve(env, args.target.as_deref())?;
    let mut vault = unlock(paths, env, Prompt::IfTerminal)?;
    let opts = Options {
        mode: if args.mode == "run" {
            Mode::Run
        } else {
            Mode::Wrap
        },
        policy: if args.allow_all {
            ToolPolicy::AllowAll
        } else if args.read_only {
            ToolPolicy::ReadOnly
        } else {
            ToolPolicy::Confirm
        },
        keyward_command: keyward_command(),
        keyward_env: env
            .home
            .as_ref()
            .map(|h| vec![("KEYWARD_HOME".to_string(), absolute(h))])
            .unwrap_or_default(),
        renames: renames(&args.names)?,
        client: None,
        args: args.move_args,
    };

    let mut doc = ConfigDoc::load(&config)?;
    let mut names = names::ImportNames::new(&vault, &doc);
    let mut plans: Vec<(Target, String, FilePlan)> = Vec::new();
    for t in targets {
        let text = match read_config(&t.path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("keyward: skipping {}: {e}", t.path.display());
                continue;
            }
        };
        let opts = Options {
            client: client_of(&t, &args),
            ..opts.clone()
        };
        match plan::plan_file(&text, t.format, t.client, &opts, &mut names) {
            Ok(p) => plans.push((t, text, p)),
            Err(e) => eprintln!("keyward: skipping {}: {e}", t.path.display()),
        }
    }
    drop(names);

    let config_before = doc.text();
    for (_, _, p) in &plans {
        for s in &p.servers {
            doc.add_server(&spec_of(s))?;
        }
    }
    let reused = clients_of_reused(&mut doc, &plans)?;
    let config_after = doc.text();
    report(&plans, &opts, &reused);
    who_sees(&plans, &doc.validate()?, args.shared);
    let changed: Vec<&(Target, String, FilePlan)> =
        plans.iter().filter(|(_, _, p)| p.changes_file()).collect();
    if changed.is_empty() {
        println!("nothing to import: no plaintext secret that keyward can move was found");
        return Ok(ExitCode::SUCCESS);
    }
    if args.dry_run {
        let masked: Vec<SecretValue> = plans
            .iter()
            .flat_map(|(_, _, p)| p.masked.iter().cloned())
            .collect();
        print!(
            "{}",
            masked_diff(
                &config.display().to_string(),
                &config_before,
                &config_after,
                &masked
            )
        );
        for (t, before, p) in &changed {
            print!(
                "{}",
                masked_diff(&t.path.display().to_string(), before, &p.new_text, &masked)
            );
        }
        println!("dry run: nothing was changed");
        return Ok(ExitCode::SUCCESS);
    }

    // Only when keyward.toml changes (`--mode run` leaves it as it is).
    let edit = (config_before != config_after)
        .then(|| edit::begin(paths, env, "keyward import"))
        .transpose()?;
    store_secrets(&mut vault, &plans)?;
    let mut writes = Vec::new();
    if config_before != config_after {
        writes.push(FileWrite {
            path: config.clone(),
            before: config_before.clone(),
            after: config_after.clone(),
        });
    }
    for (t, before, p) in &changed {
        writes.push(FileWrite {
            path: t.path.clone(),
            before: before.clone(),
            after: p.new_text.clone(),
        });
    }
    let dir = Backups::in_data_dir(&paths.data_dir).apply(&vault, &writes)?;
    if let Some(edit) = edit {
        edit.finish(&config_before, &config_after)?;
    }
    println!(
        "done: {} file(s) changed; backups (sealed under the vault key) in {}",
        writes.len(),
        dir.display()
    );
    println!(
        "undo with `keyward import --undo`; restart your MCP client(s) to use the new entries"
    );
    Ok(ExitCode::SUCCESS)
}

/// `--name DEFAULT=NAME` pairs, each NAME a valid secret name.
fn renames(flags: &[String]) -> Result<Vec<(String, String)>, CliError> {
    flags
        .iter()
        .map(|f| {
            let (from, to) = f.split_once('=').ok_or_else(|| {
                CliError::msg(format!(
                    "`--name {}`: expected DEFAULT=NAME, e.g. --name github.GITHUB_PERSONAL_ACCESS_TOKEN=gh_pat",
                    f.escape_debug()
                ))
            })?;
            keyward_vault::validate_secret_name(to)?;
            Ok((from.to_string(), to.to_string()))
        })
        .collect()
}

fn store_secrets(vault: &mut Vault, plans: &[(Target, String, FilePlan)]) -> Result<(), CliError> {
    let secrets: Vec<_> = plans.iter().flat_map(|(_, _, p)| &p.secrets).collect();
    if secrets.is_empty() {
        return Ok(());
    }
    vault.update(|e| {
        for s in &secrets {
            e.set(&s.name, s.value.clone())?;
        }
        Ok(())
    })?;
    Ok(())
}

fn spec_of(s: &plan::WrappedServer) -> ServerSpec {
    ServerSpec {
        name: s.name.clone(),
        command: s.command.clone().unwrap_or_default(),
        args: s.args.clone(),
        env: s.env.clone(),
        url: if s.command.is_none() {
            s.url.clone()
        } else {
            None
        },
        headers: s.headers.clone(),
        tools: s
            .tools
            .iter()
            .map(|(p, a)| (p.clone(), (*a).to_string()))
            .collect(),
        clients: s.clients.clone(),
    }
}

/// The client a target's servers are kept to: none with `--shared`; else
/// `--client`, else the client whose config it is. A file at no known
/// client's place, without `--client`, is shared (and the import says how
/// to keep it to its client).
fn client_of(t: &Target, args: &ImportArgs) -> Option<String> {
    if args.shared {
        return None;
    }
    args.client
        .clone()
        .or_else(|| t.client.map(|c| c.as_str().to_string()))
}

/// A server keyward.toml has already (or this import adds for another
/// file), which a file's entry now goes through: its client must see it
/// too, so a second client that had the very same server keeps it; a
/// shared import lets every client see it (its entry starts `keyward
/// serve` without `--client`, which sees only servers without a list).
/// What changed, per plan: `(server, what)`.
fn clients_of_reused(
    doc: &mut ConfigDoc,
    plans: &[(Target, String, FilePlan)],
) -> Result<Vec<Vec<(String, String)>>, CliError> {
    let mut out = Vec::with_capacity(plans.len());
    for (_, _, p) in plans {
        let mut changed = Vec::new();
        for name in &p.wrapped {
            let what = match &p.client {
                Some(c) if doc.add_server_client(name, c)? => format!("now seen by {c} too"),
                None if doc.share_server(name)? => "now seen by every client".to_string(),
                _ => continue,
            };
            changed.push((name.clone(), what));
        }
        out.push(changed);
    }
    Ok(out)
}

/// What import will do, file by file; values appear only masked.
fn report(plans: &[(Target, String, FilePlan)], opts: &Options, reused: &[Vec<(String, String)>]) {
    for (i, (t, _, p)) in plans.iter().enumerate() {
        if p.edits.is_empty() && p.skipped.is_empty() && p.notes.is_empty() {
            continue;
        }
        let client = t
            .client
            .map(|c| format!(" ({})", c.as_str()))
            .unwrap_or_default();
        println!("{}{client}", t.path.display());
        for s in &p.secrets {
            let preview = std::str::from_utf8(s.value.expose())
                .map(detect::mask)
                .unwrap_or_default();
            println!("  + vault secret `{}`  from {} ({preview})", s.name, s.from);
        }
        let tools = match opts.policy {
            ToolPolicy::Confirm => "every tool `confirm`",
            ToolPolicy::AllowAll => "every tool allowed",
            ToolPolicy::ReadOnly => {
                "read-like tools allowed (get_*, list_*, search_*, read_*, ...), others denied"
            }
        };
        for s in &p.servers {
            println!(
                "  + server `{}` in keyward.toml  from {}; {tools}",
                s.name, s.from
            );
        }
        for (name, what) in reused.get(i).into_iter().flatten() {
            println!(
                "  = server `{name}` in keyward.toml (the same server, already there): {what}"
            );
        }
        for s in &p.skipped {
            println!("  ! left as is: {}: {}", s.location, s.reason);
        }
        for n in &p.notes {
            println!("  note: {n}");
        }
    }
    let wrapped = plans.iter().any(|(_, _, p)| !p.servers.is_empty());
    if wrapped && opts.policy == ToolPolicy::Confirm {
        println!(
            "note: every tool of a wrapped server is `confirm`: each call waits for your answer (in \
             your MCP client, `keyward approve` or the dashboard; no answer is a deny). Use \
             --read-only or --allow-all, or edit [servers.NAME.tools] in keyward.toml"
        );
    }
}

/// Says plainly which client will see which servers: each client its
/// own (the `clients` lists; its entry starts `keyward serve --client
/// NAME`) and the servers without a list, or, when shared, every server.
/// And how to have it the other way.
fn who_sees(plans: &[(Target, String, FilePlan)], cfg: &Config, shared: bool) {
    let clients: Vec<&(Target, String, FilePlan)> =
        plans.iter().filter(|(_, _, p)| p.keyward_entry).collect();
    if clients.is_empty() || cfg.servers.is_empty() {
        return;
    }
    let list = |names: &[&String]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let kept = clients.iter().any(|(_, _, p)| p.client.is_some());
    let lists = cfg.servers.values().any(|s| s.clients.is_some());
    if kept {
        println!(
            "note: each client keeps to its own servers: keyward.toml's `clients` lists say which \
             client sees which server, and each client's `keyward` entry starts `keyward serve \
             --client NAME`:"
        );
    } else if lists {
        println!(
            "note: keyward serves the servers without a `clients` list to every client that starts \
             it without --client: each such client's `keyward` entry shows them all, not only the \
             ones it had:"
        );
    } else {
        println!(
            "note: keyward serves one set of servers to every client that starts it: each client's \
             `keyward` entry shows every server in keyward.toml ({} now), not only the ones it had:",
            cfg.servers.len()
        );
    }
    for (t, _, p) in &clients {
        let seen: Vec<&String> = cfg
            .servers
            .iter()
            .filter(|(_, s)| s.visible_to(p.client.as_deref()))
            .map(|(n, _)| n)
            .collect();
        let own: Vec<&String> = seen
            .iter()
            .copied()
            .filter(|n| p.wrapped.contains(n))
            .collect();
        let others: Vec<&String> = seen
            .iter()
            .copied()
            .filter(|n| !p.wrapped.contains(n))
            .collect();
        let shown = match (own.is_empty(), others.is_empty()) {
            (true, true) => "no server".to_string(),
            (false, true) => format!("{} (all its own)", list(&own)),
            (true, false) => format!("{} (none of them its own)", list(&others)),
            (false, false) => format!(
                "{} (its own), and {} (not its own)",
                list(&own),
                list(&others)
            ),
        };
        // The client it is kept to, else the one whose config it is.
        let client = p
            .client
            .clone()
            .or_else(|| t.client.map(|c| c.as_str().to_string()))
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        println!("  {}{client} will see {shown}", t.path.display());
    }
    let added: Vec<&String> = cfg
        .servers
        .iter()
        .filter(|(n, s)| {
            s.clients.is_none()
                && plans
                    .iter()
                    .any(|(_, _, p)| p.servers.iter().any(|w| &w.name == *n))
        })
        .map(|(n, _)| n)
        .collect();
    let earlier = cfg
        .servers
        .keys()
        .any(|n| !plans.iter().any(|(_, _, p)| p.wrapped.contains(n)));
    if !added.is_empty() && earlier {
        println!(
            "  and every client that already starts keyward (imported earlier) will see {} too",
            list(&added)
        );
    }
    if kept {
        println!(
            "  a server without a `clients` list is seen by every client; `keyward serve` without \
             --client (a client set up by hand) sees only those"
        );
        println!(
            "  to let every client see every server instead: import with --shared, or remove the \
             `clients` lines from keyward.toml"
        );
    }
    for (t, _, p) in &clients {
        if p.client.is_none() && t.client.is_none() && !shared {
            println!(
                "  the client of {} is not known, so its servers are for every client; to keep it \
                 to them, import it with --client NAME (e.g. --client cursor)",
                t.path.display()
            );
        }
    }
    if shared {
        println!("  to keep each client to the servers it had instead, import without --shared");
    }
}

fn read_config(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(format!("larger than {MAX_CONFIG_BYTES} bytes"));
    }
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

/// How clients should start keyward: this binary's absolute path (GUI
/// clients do not see the shell's PATH), else `keyward`.
fn keyward_command() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
        .and_then(|p| p.to_str().map(String::from))
        .unwrap_or_else(|| "keyward".to_string())
}

fn absolute(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| PathBuf::from(p))
        .display()
        .to_string()
}
