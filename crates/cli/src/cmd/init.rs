use std::process::ExitCode;

use keyward_approved::Initial;
use keyward_config::{Paths, write_template};
use keyward_vault::{KdfParams, Vault, key_file_write, keychain_store};

use crate::cli::InitArgs;
use crate::config_approval::{printable, warn_not_pinned};
use crate::env::ProcessEnv;
use crate::error::CliError;
use crate::files::create_private_dir;
use crate::prompt;

pub(crate) fn run(paths: &Paths, env: &ProcessEnv, args: InitArgs) -> Result<ExitCode, CliError> {
    let config = paths.config_file();
    let vault_path = paths.vault_file();
    if vault_path.exists() {
        return keep_existing(paths, &config);
    }
    // Everything that can stop init comes before its first file: without a
    // passphrase there is no vault, and keyward.toml without a vault is
    // half a setup that every later command trips over.
    let passphrase = match &env.passphrase {
        Some(p) => {
            if let Some(weak) = prompt::weak_passphrase(p) {
                eprintln!("warning: KEYWARD_PASSPHRASE: {weak}");
            }
            p.clone()
        }
        None if prompt::can_prompt() => prompt::new_passphrase()?,
        None => {
            return Err(CliError::msg(
                "no passphrase, so nothing was created: run `keyward init` in a terminal, or set \
                 KEYWARD_PASSPHRASE (the passphrase is what proves a human approved a call: keep it \
                 from your agents)",
            ));
        }
    };
    for dir in [&paths.config_dir, &paths.data_dir] {
        create_private_dir(dir)?;
    }
    let created_config = write_template(&config)?;
    let vault = match Vault::create(&vault_path, &passphrase, KdfParams::DEFAULT) {
        Ok(v) => v,
        Err(e) => {
            // No half setup: the template goes again with the vault that failed.
            if created_config {
                let _ = std::fs::remove_file(&config);
            }
            return Err(e.into());
        }
    };
    if created_config {
        println!("created {}", config.display());
    } else {
        println!("kept existing {}", config.display());
    }
    println!("created vault {}", vault_path.display());
    approve_initial(paths, &vault)?;
    // The first, empty, sealed tool pins: from now on a missing store
    // means it was removed (SECURITY.md item 11).
    keyward_gateway::servers::PinStore::create(&crate::cmd::pins_file(paths), vault.sealer())
        .map_err(|e| CliError::msg(e.to_string()))?;

    if args.no_keychain || env.no_keychain {
        println!("not using the OS credential store (--no-keychain or KEYWARD_NO_KEYCHAIN)");
    } else {
        match keychain_store(vault.id(), vault.key()) {
            Ok(()) => println!(
                "vault key kept in the OS credential store: `keyward serve` unlocks without a prompt"
            ),
            // NoStore's own text already says "no OS credential store is
            // reachable": not said twice (issue 12).
            Err(keyward_vault::KeyStoreError::NoStore) => println!(
                "note: no OS credential store reachable (on Linux: a Secret Service such as \
                 gnome-keyring or KeePassXC must run on the session D-Bus), so the vault key is \
                 not kept in one; `keyward serve` will need KEYWARD_VAULT_KEY_FILE or KEYWARD_PASSPHRASE"
            ),
            Err(e) => println!(
                "note: the vault key is not kept in the OS credential store: {e}; `keyward serve` \
                 will need KEYWARD_VAULT_KEY_FILE or KEYWARD_PASSPHRASE"
            ),
        }
    }
    if let Some(file) = &args.write_key_file {
        key_file_write(file, vault.key())?;
        println!(
            "vault key written to {} (mode 0600): set KEYWARD_VAULT_KEY_FILE={} where no OS store exists",
            file.display(),
            file.display()
        );
    }
    println!(
        "\nnext: printf '%s\\n' \"$TOKEN\" | keyward secret set NAME, then keyward service add ..."
    );
    Ok(ExitCode::SUCCESS)
}

/// A second `keyward init`: the vault is there, nothing changes.
fn keep_existing(paths: &Paths, config: &std::path::Path) -> Result<ExitCode, CliError> {
    for dir in [&paths.config_dir, &paths.data_dir] {
        create_private_dir(dir)?;
    }
    if write_template(config)? {
        println!("created {}", config.display());
    } else {
        println!("kept existing {}", config.display());
    }
    println!(
        "kept existing vault {} (nothing changed)",
        paths.vault_file().display()
    );
    // A home made before config approval: `keyward serve` refuses it.
    if keyward_approved::Store::new(paths).read()?.is_none() {
        println!(
            "note: keyward.toml has not been approved in this keyward home yet, so `keyward serve` \
             refuses to start: review it, then run `keyward config approve`"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The config written (or found) when the vault is created is approved
/// then, by the human who just chose the passphrase, if it is valid.
fn approve_initial(paths: &Paths, vault: &Vault) -> Result<(), CliError> {
    let path_var = std::env::var("PATH").ok();
    match keyward_approved::approve_initial(paths, vault, path_var.as_deref())? {
        Initial::Invalid(e) => println!(
            "note: keyward.toml is not valid, so it is not approved: {}; fix it, then `keyward config approve`",
            printable(&e.to_string())
        ),
        Initial::Approved { not_pinned } => {
            warn_not_pinned(&not_pinned);
            println!(
                "approved keyward.toml: `keyward serve` runs it; later changes take effect after `keyward config approve`"
            );
        }
    }
    Ok(())
}
