//! The MCP server entries of a client config, whatever the client calls the
//! table that holds them.
//!
//! | client | where the servers are |
//! |---|---|
//! | Claude Desktop, Cursor, Windsurf, Gemini CLI, `.mcp.json` | `mcpServers` |
//! | Claude Code (`~/.claude.json`) | `mcpServers` and `projects.<dir>.mcpServers` |
//! | VS Code `mcp.json` | `servers` |
//! | VS Code `settings.json` | `mcp.servers` |
//! | Zed `settings.json` | `context_servers` (`command` may be `{path, args, env}`) |
//! | Codex `config.toml` | `[mcp_servers.NAME]` |
//!
//! Entries are read, never evaluated: a value that is not a string (a
//! number in `env`, say) is left alone and reported as such by the planner.

use jsonc_parser::ParseOptions;
use jsonc_parser::cst::{CstNode, CstObject, CstRootNode};
use toml_edit::{DocumentMut, Item};

use crate::locate::{Client, Format};

/// Where a table of servers sits, as object keys from the root.
pub type Container = Vec<String>;

/// One MCP server as a client config describes it.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerEntry {
    pub container: Container,
    /// The entry's key in the container (the client's name for the server).
    pub name: String,
    pub command: Option<String>,
    pub args: Vec<String>,
    /// String-valued environment variables, in file order.
    pub env: Vec<(String, String)>,
    pub url: Option<String>,
    /// String-valued HTTP headers of a remote server, in file order.
    pub headers: Vec<(String, String)>,
    /// Zed's older shape: `"command": {"path": …, "args": […], "env": {…}}`.
    pub nested_command: bool,
}

impl ServerEntry {
    /// Where the entry is, e.g. `mcpServers.github`.
    pub fn location(&self) -> String {
        let mut parts: Vec<&str> = self.container.iter().map(String::as_str).collect();
        parts.push(&self.name);
        dotted(&parts)
    }
}

/// `a.b."odd key"`, written exactly as `keyward scan` writes paths.
pub(crate) fn dotted(parts: &[&str]) -> String {
    let path: Vec<crate::walk::PathSeg> = parts
        .iter()
        .map(|p| crate::walk::PathSeg::Key((*p).to_string()))
        .collect();
    crate::walk::dotted(&path)
}

/// Values are not printed: entries hold secrets.
impl std::fmt::Debug for ServerEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerEntry")
            .field("location", &self.location())
            .field("env", &self.env.iter().map(|(k, _)| k).collect::<Vec<_>>())
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Why a client config could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The parser's message; it names a position, never the text.
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("not valid TOML: {0}")]
    Toml(String),
}

/// The containers a client keeps servers in. `None` (a file given by path
/// whose client is unknown) tries all of them.
pub(crate) fn json_containers(client: Option<Client>) -> Vec<Vec<&'static str>> {
    let all = || {
        vec![
            vec!["mcpServers"],
            vec!["servers"],
            vec!["mcp", "servers"],
            vec!["context_servers"],
        ]
    };
    match client {
        Some(Client::VsCode) => vec![vec!["servers"], vec!["mcp", "servers"]],
        Some(Client::Zed) => vec![vec!["context_servers"]],
        Some(Client::Codex) => vec![],
        Some(_) => vec![vec!["mcpServers"]],
        None => all(),
    }
}

/// Every server entry of a config file.
pub fn read_entries(
    text: &str,
    format: Format,
    client: Option<Client>,
) -> Result<Vec<ServerEntry>, ClientError> {
    match format {
        Format::Toml => read_toml(text),
        Format::Json | Format::Jsonc => read_json(&parse_json(text)?, client),
    }
}

pub(crate) fn parse_json(text: &str) -> Result<CstRootNode, ClientError> {
    // The error's own Display quotes the line, which may hold a secret.
    CstRootNode::parse(text, &ParseOptions::default()).map_err(|e| {
        ClientError::Json(format!(
            "{} at line {}, column {}",
            e.kind(),
            e.line_display(),
            e.column_display()
        ))
    })
}

pub(crate) fn read_json(
    root: &CstRootNode,
    client: Option<Client>,
) -> Result<Vec<ServerEntry>, ClientError> {
    let Some(top) = root.object_value() else {
        return Ok(Vec::new());
    };
    let mut containers: Vec<Container> = json_containers(client)
        .into_iter()
        .map(|c| c.into_iter().map(String::from).collect())
        .collect();
    // Claude Code keeps per-project servers in ~/.claude.json.
    if matches!(client, Some(Client::ClaudeCode) | None)
        && let Some(projects) = top.object_value("projects")
    {
        for p in projects.properties() {
            if let Some(dir) = p.decoded_name() {
                containers.push(vec!["projects".into(), dir, "mcpServers".into()]);
            }
        }
    }
    let mut out = Vec::new();
    for container in containers {
        let Some(obj) = object_at(&top, &container) else {
            continue;
        };
        for prop in obj.properties() {
            let (Some(name), Some(entry)) = (prop.decoded_name(), prop.object_value()) else {
                continue;
            };
            out.push(json_entry(container.clone(), name, &entry));
        }
    }
    Ok(out)
}

/// The object at `keys` below `top`, if every step is an object.
pub(crate) fn object_at(top: &CstObject, keys: &[String]) -> Option<CstObject> {
    let mut obj = top.clone();
    for k in keys {
        obj = obj.object_value(k)?;
    }
    Some(obj)
}

fn json_entry(container: Container, name: String, e: &CstObject) -> ServerEntry {
    let mut entry = ServerEntry {
        container,
        name,
        command: None,
        args: Vec::new(),
        env: Vec::new(),
        url: None,
        headers: Vec::new(),
        nested_command: false,
    };
    let mut source = e.clone();
    if let Some(nested) = e.object_value("command") {
        entry.nested_command = true;
        entry.command = json_string(&nested, "path");
        source = nested;
    } else {
        entry.command = json_string(e, "command");
    }
    entry.args = json_strings(&source, "args");
    entry.env = json_string_map(&source, "env");
    if entry.nested_command && entry.env.is_empty() {
        entry.env = json_string_map(e, "env");
    }
    // `serverUrl`: Windsurf; `httpUrl`: Gemini CLI's Streamable HTTP servers.
    entry.url = json_string(e, "url")
        .or_else(|| json_string(e, "serverUrl"))
        .or_else(|| json_string(e, "httpUrl"));
    entry.headers = json_string_map(e, "headers");
    entry
}

fn string_of(node: &CstNode) -> Option<String> {
    node.as_string_lit()?.decoded_value().ok()
}

fn json_string(obj: &CstObject, key: &str) -> Option<String> {
    string_of(&obj.get(key)?.value()?)
}

fn json_strings(obj: &CstObject, key: &str) -> Vec<String> {
    obj.array_value(key)
        .map(|a| a.elements().iter().filter_map(string_of).collect())
        .unwrap_or_default()
}

fn json_string_map(obj: &CstObject, key: &str) -> Vec<(String, String)> {
    let Some(map) = obj.object_value(key) else {
        return Vec::new();
    };
    map.properties()
        .iter()
        .filter_map(|p| Some((p.decoded_name()?, string_of(&p.value()?)?)))
        .collect()
}

pub(crate) fn parse_toml(text: &str) -> Result<DocumentMut, ClientError> {
    text.parse::<DocumentMut>()
        .map_err(|e| ClientError::Toml(toml_message(&e)))
}

/// toml_edit's message quotes the offending line, which may hold a
/// secret: keep only its first line (the position and the reason).
fn toml_message(e: &toml_edit::TomlError) -> String {
    let msg = e.message().to_string();
    match e.span() {
        Some(span) => format!("{msg} (at byte {})", span.start),
        None => msg,
    }
}

fn read_toml(text: &str) -> Result<Vec<ServerEntry>, ClientError> {
    let doc = parse_toml(text)?;
    let Some(servers) = doc.get("mcp_servers").and_then(Item::as_table_like) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (name, item) in servers.iter() {
        let Some(t) = item.as_table_like() else {
            continue;
        };
        let s = |k: &str| t.get(k).and_then(Item::as_str).map(String::from);
        let map = |k: &str| -> Vec<(String, String)> {
            t.get(k)
                .and_then(Item::as_table_like)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default()
        };
        out.push(ServerEntry {
            container: vec!["mcp_servers".into()],
            name: name.to_string(),
            command: s("command"),
            args: t
                .get("args")
                .and_then(Item::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            env: map("env"),
            url: s("url"),
            headers: map("http_headers"),
            nested_command: false,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mcp_servers_with_comments_and_trailing_commas() {
        let text = r#"{
  // the user's comment
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github",],
      "env": { "GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_x", "N": 3 },
    },
    "remote": { "url": "https://mcp.example.com/mcp", "headers": { "Authorization": "Bearer t" } },
    "odd": 5,
  },
}"#;
        let e = read_entries(text, Format::Jsonc, Some(Client::Cursor)).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].name, "github");
        assert_eq!(e[0].command.as_deref(), Some("npx"));
        assert_eq!(e[0].args, ["-y", "@modelcontextprotocol/server-github"]);
        assert_eq!(
            e[0].env,
            [(
                "GITHUB_PERSONAL_ACCESS_TOKEN".to_string(),
                "ghp_x".to_string()
            )]
        );
        assert_eq!(e[1].url.as_deref(), Some("https://mcp.example.com/mcp"));
        assert_eq!(e[1].headers[0].0, "Authorization");
        assert_eq!(e[1].location(), "mcpServers.remote");
    }

    #[test]
    fn claude_code_projects_and_vscode_settings_and_zed() {
        let claude = r#"{"mcpServers": {"a": {"command": "x"}},
            "projects": {"/home/me/p": {"mcpServers": {"b": {"command": "y"}}}}}"#;
        let e = read_entries(claude, Format::Json, Some(Client::ClaudeCode)).unwrap();
        let names: Vec<String> = e.iter().map(ServerEntry::location).collect();
        assert_eq!(
            names,
            ["mcpServers.a", "projects.\"/home/me/p\".mcpServers.b"]
        );

        let vscode = r#"{ "editor.fontSize": 12, "mcp": { "servers": { "s": { "type": "stdio", "command": "z" } } } }"#;
        let e = read_entries(vscode, Format::Jsonc, Some(Client::VsCode)).unwrap();
        assert_eq!(e[0].location(), "mcp.servers.s");

        let zed = r#"{ "context_servers": { "old": { "command": { "path": "p", "args": ["a"], "env": {"K": "v"} } } } }"#;
        let e = read_entries(zed, Format::Jsonc, Some(Client::Zed)).unwrap();
        assert!(e[0].nested_command);
        assert_eq!(e[0].command.as_deref(), Some("p"));
        assert_eq!(e[0].args, ["a"]);
        assert_eq!(e[0].env, [("K".to_string(), "v".to_string())]);
    }

    #[test]
    fn reads_codex_toml() {
        let text = "# mine\n[mcp_servers.pg]\ncommand = \"npx\"\nargs = [\"-y\", \"s\"]\nenv = { DATABASE_URL = \"postgres://u:p@h/db\" }\n";
        let e = read_entries(text, Format::Toml, Some(Client::Codex)).unwrap();
        assert_eq!(e[0].name, "pg");
        assert_eq!(e[0].env[0].0, "DATABASE_URL");
    }

    #[test]
    fn parse_errors_never_quote_the_text() {
        let text = "[mcp_servers.pg]\nenv = { K = \"kw_canary_toml_1\" \n";
        let err = read_entries(text, Format::Toml, None)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("kw_canary"), "{err}");
        let text = "{\"mcpServers\": {\"a\": {\"env\": {\"K\": \"kw_canary_json_1\" !!}}}}";
        let err = read_entries(text, Format::Json, None)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("kw_canary"), "{err}");
    }

    #[test]
    fn debug_never_shows_values() {
        let text = r#"{"mcpServers": {"a": {"command": "x", "env": {"K": "kw_canary_dbg_1"}}}}"#;
        let e = read_entries(text, Format::Json, None).unwrap();
        assert!(!format!("{e:?}").contains("kw_canary"));
    }
}
