//! Names for what import adds, checked against the vault, keyward.toml and
//! what this import has planned already: a name holding exactly the same
//! thing is reused (so running import twice adds nothing), a name holding
//! something else is never overwritten.

use keyward_config::ConfigDoc;
use keyward_migrate::plan::{NameState, Names, WrappedServer};
use keyward_vault::{SecretValue, Vault};
use toml_edit::{DocumentMut, Item};

pub(super) struct ImportNames<'a> {
    vault: &'a Vault,
    config: DocumentMut,
    secrets: Vec<(String, SecretValue)>,
    servers: Vec<WrappedServer>,
}

impl<'a> ImportNames<'a> {
    pub(super) fn new(vault: &'a Vault, doc: &ConfigDoc) -> Self {
        ImportNames {
            vault,
            config: doc.text().parse().unwrap_or_default(),
            secrets: Vec::new(),
            servers: Vec::new(),
        }
    }
}

impl Names for ImportNames<'_> {
    fn secret(&mut self, name: &str, value: &SecretValue) -> NameState {
        let held = self
            .secrets
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .or_else(|| self.vault.get(name));
        match held {
            Some(v) if v == value => NameState::Same,
            Some(_) => NameState::Taken,
            None => {
                self.secrets.push((name.to_string(), value.clone()));
                NameState::Free
            }
        }
    }

    fn server(&mut self, server: &WrappedServer) -> NameState {
        if let Some(planned) = self.servers.iter().find(|s| s.name == server.name) {
            return if same_server(planned, server) {
                NameState::Same
            } else {
                NameState::Taken
            };
        }
        match self.config.get("servers").and_then(|s| s.get(&server.name)) {
            Some(existing) if matches_config(existing, server) => NameState::Same,
            Some(_) => NameState::Taken,
            None => {
                self.servers.push(server.clone());
                NameState::Free
            }
        }
    }
}

fn same_server(a: &WrappedServer, b: &WrappedServer) -> bool {
    a.command == b.command
        && a.args == b.args
        && a.env == b.env
        && a.url == b.url
        && a.headers == b.headers
}

/// Whether `[servers.NAME]` already runs this same server (same command,
/// arguments and environment, or the same url and headers).
fn matches_config(item: &Item, s: &WrappedServer) -> bool {
    let str_of = |k: &str| item.get(k).and_then(Item::as_str).map(String::from);
    let list = |k: &str| -> Vec<String> {
        item.get(k)
            .and_then(Item::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let map = |k: &str| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = item
            .get(k)
            .and_then(Item::as_table_like)
            .map(|t| {
                t.iter()
                    .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let sorted = |v: &[(String, String)]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    if s.command.is_some() {
        str_of("command") == s.command && list("args") == s.args && map("env") == sorted(&s.env)
    } else {
        str_of("url") == s.url && map("headers") == sorted(&s.headers)
    }
}
