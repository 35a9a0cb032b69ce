//! Edits of keyward.toml made by the CLI. They go through `toml_edit` so
//! that the user's comments and layout survive, and every edit is validated
//! by parsing the whole result before it is written.

use std::path::{Path, PathBuf};

use keyward_policy::{Action, HttpRule, Rate};
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, value};

use crate::validate::{validate_base_url, validate_service_name};
use crate::{Config, ConfigError};

#[path = "edit_layout.rs"]
mod layout;
#[path = "edit_server.rs"]
mod server;
pub use server::ServerSpec;

/// What `keyward init` writes: a commented, empty configuration.
pub const TEMPLATE: &str = r#"# keyward configuration. Secrets are never stored here: `secret` fields hold
# a vault name (`stripe_key`, `keyward://stripe_key`) or a reference such as
# `env://STRIPE_KEY`.
#
# [services.stripe]
# base_url = "https://api.stripe.com"
# description = "Stripe, read-only"
# auth = { type = "bearer", secret = "stripe_key" }
#
# [[services.stripe.rules]]
# action = "allow"                      # allow | deny | confirm
# methods = ["GET"]                     # absent = every method
# paths = ["/v1/charges", "/v1/charges/**"]
# rate = "60/minute"                    # optional, per agent
#
# [servers.github]                      # an MCP server keyward runs for the agent
# command = "npx"
# args = ["-y", "@modelcontextprotocol/server-github"]
# env = { GITHUB_PERSONAL_ACCESS_TOKEN = "keyward://github_pat" }   # keyward://, env://...
#                                       # are references; other values are literal
# [servers.github.tools]                # a tool no pattern matches is denied
# "get_*" = "allow"
# "create_issue" = { action = "confirm", rate = "10/hour" }
# "delete_*" = "deny"
#
# [commands.gh]                         # a CLI tool for `run_command` (never a shell)
# program = "gh"
# args = ["issue list *", "pr view *"]  # allowed argument patterns
# deny_args = ["* --repo* *"]           # deny wins
# env = { GH_TOKEN = "keyward://github_pat" }
"#;

/// A service as `keyward service add` describes it.
#[derive(Clone, Debug, Default)]
pub struct ServiceSpec {
    pub name: String,
    pub base_url: String,
    pub description: Option<String>,
    /// `bearer`, `basic`, `header`, `query` or `none`.
    pub auth: String,
    pub secret: Option<String>,
    pub username: Option<String>,
    pub header: Option<String>,
    pub param: Option<String>,
    /// Short rule forms: `GET,HEAD /v1/charges/**`.
    pub allow: Vec<String>,
    /// Rules whose calls wait for a human's yes (same form as `allow`).
    pub confirm: Vec<String>,
    pub deny: Vec<String>,
    /// A rate (`10/hour`) for every `allow` and `confirm` rule of the
    /// spec, per agent and rule (a deny needs none).
    pub rate: Option<String>,
}

/// keyward.toml loaded for editing.
pub struct ConfigDoc {
    path: PathBuf,
    doc: DocumentMut,
}

impl ConfigDoc {
    pub fn load(path: &Path) -> Result<ConfigDoc, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let doc = text
            .parse::<DocumentMut>()
            .map_err(|e| ConfigError::Parse {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        Ok(ConfigDoc {
            path: path.to_path_buf(),
            doc,
        })
    }

    /// Validates the document as a whole; edits call this before saving.
    pub fn validate(&self) -> Result<Config, ConfigError> {
        Config::parse(&self.doc.to_string(), &self.path)
    }

    pub fn add_service(&mut self, spec: &ServiceSpec) -> Result<(), ConfigError> {
        let path = self.path.clone();
        let invalid = |at: &str, message: String| ConfigError::Invalid {
            path: path.clone(),
            at: at.to_string(),
            message,
        };
        validate_service_name(&spec.name).map_err(|m| invalid("name", m))?;
        validate_base_url(&spec.base_url).map_err(|m| invalid("--base-url", m))?;
        let mut table = Table::new();
        table.insert("base_url", value(&spec.base_url));
        if let Some(d) = &spec.description {
            table.insert("description", value(d));
        }
        table.insert(
            "auth",
            value(auth_table(spec).map_err(|m| invalid("--auth", m))?),
        );
        let rate = match &spec.rate {
            Some(r) => Some(
                r.parse::<Rate>()
                    .map_err(|e| invalid("--rate", e.to_string()))?,
            ),
            None => None,
        };
        if rate.is_some() && spec.allow.is_empty() && spec.confirm.is_empty() {
            return Err(invalid(
                "--rate",
                "a rate limits the calls of `--allow` and `--confirm` rules; give one".into(),
            ));
        }
        let mut rules = toml_edit::ArrayOfTables::new();
        for (action, forms) in [
            (Action::Allow, &spec.allow),
            (Action::Confirm, &spec.confirm),
            (Action::Deny, &spec.deny),
        ] {
            for form in forms {
                let mut rule = HttpRule::parse_short(action, form)
                    .map_err(|e| invalid(&format!("--{action}"), e.to_string()))?;
                if action != Action::Deny {
                    rule.rate = rate;
                }
                rules.push(rule_table(&rule));
            }
        }
        if !rules.is_empty() {
            table.insert("rules", Item::ArrayOfTables(rules));
        }
        // A file of comments only (the template) keeps them as trailing text,
        // which would end up below the first table: keep them on top.
        let comments_only = self.doc.as_table().is_empty();
        if self.section_table("services")?.contains_key(&spec.name) {
            return Err(ConfigError::ServiceExists(spec.name.clone()));
        }
        let moved_trailing = if comments_only {
            self.move_trailing_into(&mut table)
        } else {
            None
        };
        self.section_table("services")?
            .insert(&spec.name, Item::Table(table));
        if let Err(e) = self.validate() {
            // Leave the document as it was: the caller may keep using it.
            self.undo_insert("services", &spec.name, moved_trailing);
            return Err(e);
        }
        Ok(())
    }

    /// Removes a service. A comment block above it that is separated from
    /// its header by a blank line belongs to what comes before (often the
    /// file's own header) and is kept, moved onto the next table.
    pub fn remove_service(&mut self, name: &str) -> Result<(), ConfigError> {
        if self.remove_entry("services", name, None)? {
            Ok(())
        } else {
            Err(ConfigError::NoSuchService(name.to_string()))
        }
    }

    /// The document as it would be saved.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// Writes the document atomically (temp file, fsync, rename).
    pub fn save(&self) -> Result<(), ConfigError> {
        save_file(&self.path, self.doc.to_string().as_bytes())
    }
}

fn auth_table(spec: &ServiceSpec) -> Result<InlineTable, String> {
    let mut t = InlineTable::new();
    t.insert("type", spec.auth.as_str().into());
    if spec.auth == "none" {
        return Ok(t);
    }
    let need = |v: &Option<String>, flag: &str| {
        v.clone()
            .ok_or_else(|| format!("--auth {} needs {flag}", spec.auth))
    };
    match spec.auth.as_str() {
        "bearer" => {}
        "basic" => {
            t.insert("username", need(&spec.username, "--username")?.into());
        }
        "header" => {
            t.insert("name", need(&spec.header, "--header")?.into());
        }
        "query" => {
            t.insert("name", need(&spec.param, "--param")?.into());
        }
        other => {
            return Err(format!(
                "unknown auth type `{other}` (bearer, basic, header, query, none)"
            ));
        }
    }
    t.insert("secret", need(&spec.secret, "--secret")?.into());
    Ok(t)
}

fn rule_table(rule: &HttpRule) -> Table {
    let mut t = Table::new();
    t.insert("action", value(rule.action.to_string()));
    if let Some(methods) = &rule.methods {
        let arr: Array = methods.iter().map(|m| m.as_str()).collect();
        t.insert("methods", value(arr));
    }
    let paths: Array = rule.paths.iter().map(|p| p.as_str()).collect();
    t.insert("paths", value(paths));
    if let Some(rate) = &rule.rate {
        t.insert("rate", value(rate.to_string()));
    }
    t
}

/// Creates `path` (0600) with `contents` only if it does not exist yet.
pub(crate) fn create_new(path: &Path, contents: &[u8]) -> Result<(), ConfigError> {
    keyward_fsio::create_new_private(path, contents).map_err(|e| write_error(path, e))
}

/// Replaces `path` atomically, keeping the mode the user chose for it.
fn save_file(path: &Path, contents: &[u8]) -> Result<(), ConfigError> {
    keyward_fsio::write(path, contents, keyward_fsio::Mode::KeepExisting)
        .map_err(|e| write_error(path, e))
}

fn write_error(path: &Path, e: keyward_fsio::Error) -> ConfigError {
    ConfigError::Write {
        path: path.to_path_buf(),
        source: e.into_io(),
    }
}

/// Writes the template to `path` unless a file is already there.
pub fn write_template(path: &Path) -> Result<bool, ConfigError> {
    if path.exists() {
        return Ok(false);
    }
    create_new(path, TEMPLATE.as_bytes())?;
    Ok(true)
}
