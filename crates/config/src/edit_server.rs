//! `keyward servers add` / `rm`: upstream MCP servers in keyward.toml.

use toml_edit::{Array, InlineTable, Item, Table, value};

use super::ConfigDoc;
use crate::ConfigError;
use crate::values::validate_upstream_name;

/// A stdio server as `keyward servers add NAME [--env KEY=REF]... --
/// COMMAND ARGS...` describes it.
#[derive(Clone, Debug, Default)]
pub struct ServerSpec {
    pub name: String,
    pub command: String,
    pub args: Vec<String>,
    /// `(KEY, value)`: a secret reference (`keyward://NAME`, `env://VAR`,
    /// ...) or a literal, as in the file.
    pub env: Vec<(String, String)>,
    /// A remote server (Streamable HTTP) instead of `command`.
    pub url: Option<String>,
    /// Headers of a remote server: literals or `Bearer keyward://NAME`.
    pub headers: Vec<(String, String)>,
    /// `(pattern, action)` rows for `[servers.NAME.tools]`; none leaves the
    /// table empty (every tool denied) with a hint comment.
    pub tools: Vec<(String, String)>,
    /// `clients = [...]`: the MCP clients that see the server; empty
    /// writes no key (every client sees it).
    pub clients: Vec<String>,
}

/// The comment written into the (empty) tools table of a new server, so
/// that the user sees both what to write and what holds until then.
pub(crate) const TOOLS_HINT: &str = "# \"get_*\" = \"allow\"  — no pattern: every tool is denied";

impl ConfigDoc {
    /// Appends `[servers.NAME]` (command, args, env) and an empty
    /// `[servers.NAME.tools]` whose only content is the comment
    /// `# "get_*" = "allow"  — no pattern: every tool is denied`; every tool of the
    /// new server stays denied until the user writes tool patterns. The
    /// document is validated as a whole; on error it is left unchanged.
    pub fn add_server(&mut self, spec: &ServerSpec) -> Result<(), ConfigError> {
        let path = self.path.clone();
        let invalid = |at: &str, message: String| ConfigError::Invalid {
            path: path.clone(),
            at: at.to_string(),
            message,
        };
        validate_upstream_name("server", &spec.name).map_err(|m| invalid("name", m))?;
        let env = inline_pairs(&spec.env).map_err(|m| invalid("--env", m))?;
        let headers = inline_pairs(&spec.headers).map_err(|m| invalid("headers", m))?;
        let mut table = Table::new();
        if let Some(url) = &spec.url {
            table.insert("url", value(url));
            if !headers.is_empty() {
                table.insert("headers", value(headers));
            }
        } else {
            table.insert("command", value(&spec.command));
            if !spec.args.is_empty() {
                let args: Array = spec.args.iter().map(String::as_str).collect();
                table.insert("args", value(args));
            }
            if !env.is_empty() {
                table.insert("env", value(env));
            }
        }
        if !spec.clients.is_empty() {
            let clients: Array = spec.clients.iter().map(String::as_str).collect();
            table.insert("clients", value(clients));
        }
        let mut tools = Table::new();
        if spec.tools.is_empty() {
            tools.decor_mut().set_suffix(format!("\n{TOOLS_HINT}"));
        }
        for (pattern, action) in &spec.tools {
            tools.insert(pattern, value(action));
        }
        // At the very end of the file: inserted among the other servers,
        // the new table would slip in between a table and the comments
        // that follow it.
        let pos = self.last_position() + 1;
        table.set_position(Some(pos));
        tools.set_position(Some(pos + 1));
        table.insert("tools", Item::Table(tools));
        if self.section_table("servers")?.contains_key(&spec.name) {
            return Err(ConfigError::ServerExists(spec.name.clone()));
        }
        let moved_trailing = self.move_trailing_into(&mut table);
        self.section_table("servers")?
            .insert(&spec.name, Item::Table(table));
        if let Err(e) = self.validate() {
            self.undo_insert("servers", &spec.name, moved_trailing);
            return Err(e);
        }
        Ok(())
    }

    /// The names of the `[servers.NAME]` tables, in file order.
    pub fn server_names(&self) -> Vec<String> {
        self.doc
            .get("servers")
            .and_then(Item::as_table_like)
            .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
            .unwrap_or_default()
    }

    /// Whether `[servers.NAME]` exists.
    pub fn has_server(&self, name: &str) -> bool {
        self.doc.get("servers").and_then(|s| s.get(name)).is_some()
    }

    /// Removes `[servers.NAME]` and its tools, keeping comments as
    /// [`ConfigDoc::remove_service`] does (and dropping the hint
    /// [`ConfigDoc::add_server`] wrote, if it is still untouched).
    pub fn remove_server(&mut self, name: &str) -> Result<(), ConfigError> {
        if self.remove_entry("servers", name, Some(TOOLS_HINT))? {
            Ok(())
        } else {
            Err(ConfigError::NoSuchServer(name.to_string()))
        }
    }
}

impl ConfigDoc {
    /// Lets `client` see `[servers.NAME]` too: appended to its `clients`
    /// list. A server without a list is seen by every client already and
    /// is left as it is. Whether the document changed; validated as a
    /// whole, and left unchanged on error.
    pub fn add_server_client(&mut self, name: &str, client: &str) -> Result<bool, ConfigError> {
        let before = self.doc.clone();
        let Some(server) = self.server_table(name) else {
            return Err(ConfigError::NoSuchServer(name.to_string()));
        };
        let Some(list) = server.get_mut("clients").and_then(Item::as_array_mut) else {
            return Ok(false);
        };
        if list.iter().any(|v| v.as_str() == Some(client)) {
            return Ok(false);
        }
        list.push(client);
        self.validated_or(before).map(|()| true)
    }

    /// Lets every client see `[servers.NAME]`: its `clients` key removed.
    /// Whether the document changed.
    pub fn share_server(&mut self, name: &str) -> Result<bool, ConfigError> {
        let before = self.doc.clone();
        let Some(server) = self.server_table(name) else {
            return Err(ConfigError::NoSuchServer(name.to_string()));
        };
        if server.remove("clients").is_none() {
            return Ok(false);
        }
        self.validated_or(before).map(|()| true)
    }

    fn server_table(&mut self, name: &str) -> Option<&mut dyn toml_edit::TableLike> {
        self.doc
            .get_mut("servers")
            .and_then(|s| s.get_mut(name))
            .and_then(Item::as_table_like_mut)
    }

    /// Validates the edited document; on error puts `before` back.
    fn validated_or(&mut self, before: toml_edit::DocumentMut) -> Result<(), ConfigError> {
        match self.validate() {
            Ok(_) => Ok(()),
            Err(e) => {
                self.doc = before;
                Err(e)
            }
        }
    }
}

/// `KEY = "value"` pairs as an inline table; a key given twice is an error.
fn inline_pairs(pairs: &[(String, String)]) -> Result<InlineTable, String> {
    let mut t = InlineTable::new();
    for (k, v) in pairs {
        if t.contains_key(k) {
            return Err(format!("`{}` is given twice", k.escape_debug()));
        }
        t.insert(k, v.as_str().into());
    }
    Ok(t)
}
