//! Changes to a client config, applied in place so that everything else in
//! the file — comments, order, indentation, trailing commas — stays as the
//! user wrote it (JSONC through `jsonc-parser`'s CST, TOML through
//! `toml_edit`).

use jsonc_parser::cst::{CstInputValue, CstObject};
use toml_edit::{Array, InlineTable, Item, Table, value};

use crate::clients::{self, ClientError, Container, object_at};
use crate::locate::Format;

/// One change to a client config.
#[derive(Clone, PartialEq, Eq)]
pub enum Edit {
    /// Take a server out (it now runs behind keyward).
    Remove { container: Container, name: String },
    /// Add a server entry (keyward's own) unless one of that name exists.
    Add {
        container: Container,
        name: String,
        entry: NewEntry,
    },
    /// Keep the server but start it through `keyward run`: a new command
    /// and args, and some environment values replaced by references.
    Run {
        container: Container,
        name: String,
        command: String,
        args: Vec<String>,
        /// Zed's `{"command": {"path", "args", "env"}}` shape.
        nested_command: bool,
        env: Vec<(String, String)>,
        /// Variables to add to the entry's environment (`KEYWARD_HOME`).
        add_env: Vec<(String, String)>,
    },
}

/// Values are references and keyward's own settings, but an `Edit` is
/// shown by location only, like [`clients::ServerEntry`].
impl std::fmt::Debug for Edit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, container, name) = match self {
            Edit::Remove { container, name } => ("remove", container, name),
            Edit::Add {
                container, name, ..
            } => ("add", container, name),
            Edit::Run {
                container, name, ..
            } => ("run", container, name),
        };
        let mut parts: Vec<&str> = container.iter().map(String::as_str).collect();
        parts.push(name);
        write!(f, "{kind} {}", clients::dotted(&parts))
    }
}

/// A server entry keyward writes (its own `keyward serve`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEntry {
    pub command: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// VS Code wants `"type": "stdio"`.
    pub stdio_type: bool,
}

/// Why an edit could not be applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RewriteError {
    #[error(transparent)]
    Parse(#[from] ClientError),
    #[error("`{0}` is not an object in the file any more")]
    Missing(String),
}

/// `text` with `edits` applied.
pub fn apply(text: &str, format: Format, edits: &[Edit]) -> Result<String, RewriteError> {
    match format {
        Format::Toml => apply_toml(text, edits),
        Format::Json | Format::Jsonc => apply_json(text, edits),
    }
}

fn apply_json(text: &str, edits: &[Edit]) -> Result<String, RewriteError> {
    let root = clients::parse_json(text)?;
    let top = root.object_value_or_set();
    for edit in edits {
        match edit {
            Edit::Remove { container, name } => {
                if let Some(prop) = object_at(&top, container).and_then(|o| o.get(name)) {
                    prop.remove();
                }
            }
            Edit::Add {
                container,
                name,
                entry,
            } => {
                let obj = object_or_create(&top, container);
                if obj.get(name).is_none() {
                    obj.append(name, json_entry(entry));
                }
            }
            Edit::Run {
                container,
                name,
                command,
                args,
                nested_command,
                env,
                add_env,
            } => {
                let missing = || RewriteError::Missing(format!("{}.{name}", container.join(".")));
                let entry = object_at(&top, container)
                    .and_then(|o| o.object_value(name))
                    .ok_or_else(missing)?;
                let target = if *nested_command {
                    entry.object_value("command").ok_or_else(missing)?
                } else {
                    entry.clone()
                };
                let command_key = if *nested_command { "path" } else { "command" };
                set_prop(&target, command_key, command.as_str().into());
                set_prop(&target, "args", strings(args));
                // Zed's older shape may keep env beside or inside `command`.
                let env_obj = target
                    .object_value("env")
                    .or_else(|| entry.object_value("env"));
                if let Some(env_obj) = env_obj {
                    for (k, v) in env {
                        if let Some(p) = env_obj.get(k) {
                            p.set_value(v.as_str().into());
                        }
                    }
                    for (k, v) in add_env {
                        set_prop(&env_obj, k, v.as_str().into());
                    }
                } else if !add_env.is_empty() {
                    target.append("env", pairs(add_env));
                }
            }
        }
    }
    Ok(root.to_string())
}

fn object_or_create(top: &CstObject, keys: &[String]) -> CstObject {
    let mut obj = top.clone();
    for k in keys {
        obj = obj.object_value_or_set(k);
    }
    obj
}

fn set_prop(obj: &CstObject, key: &str, v: CstInputValue) {
    match obj.get(key) {
        Some(p) => p.set_value(v),
        None => {
            obj.append(key, v);
        }
    }
}

fn strings(items: &[String]) -> CstInputValue {
    CstInputValue::Array(items.iter().map(|s| s.as_str().into()).collect())
}

fn pairs(items: &[(String, String)]) -> CstInputValue {
    CstInputValue::Object(
        items
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().into()))
            .collect(),
    )
}

fn json_entry(e: &NewEntry) -> CstInputValue {
    let mut fields = Vec::new();
    if e.stdio_type {
        fields.push(("type".to_string(), "stdio".into()));
    }
    fields.push(("command".to_string(), e.command.as_str().into()));
    fields.push(("args".to_string(), strings(&e.args)));
    if !e.env.is_empty() {
        fields.push(("env".to_string(), pairs(&e.env)));
    }
    CstInputValue::Object(fields)
}

fn apply_toml(text: &str, edits: &[Edit]) -> Result<String, RewriteError> {
    let mut doc = clients::parse_toml(text)?;
    for edit in edits {
        match edit {
            Edit::Remove { container, name } => {
                if let Some(t) = toml_table(&mut doc, container) {
                    t.remove(name);
                }
            }
            Edit::Add {
                container,
                name,
                entry,
            } => {
                let parent = toml_table_or_create(&mut doc, container);
                if !parent.contains_key(name) {
                    let mut t = Table::new();
                    t.insert("command", value(&entry.command));
                    t.insert("args", value(entry.args.iter().collect::<Array>()));
                    if !entry.env.is_empty() {
                        t.insert("env", value(inline(&entry.env)));
                    }
                    parent.insert(name, Item::Table(t));
                }
            }
            Edit::Run {
                container,
                name,
                command,
                args,
                env,
                add_env,
                ..
            } => {
                let missing = || RewriteError::Missing(format!("{}.{name}", container.join(".")));
                let entry = toml_table(&mut doc, container)
                    .and_then(|t| t.get_mut(name))
                    .and_then(Item::as_table_like_mut)
                    .ok_or_else(missing)?;
                entry.insert("command", value(command));
                entry.insert("args", value(args.iter().collect::<Array>()));
                let has_env = entry.get("env").is_some_and(|e| e.is_table_like());
                if !has_env && (!env.is_empty() || !add_env.is_empty()) {
                    entry.insert("env", value(InlineTable::new()));
                }
                if let Some(env_t) = entry.get_mut("env").and_then(Item::as_table_like_mut) {
                    for (k, v) in env.iter().chain(add_env) {
                        // Replaces the value, keeping the key's decoration.
                        match env_t.get_mut(k) {
                            Some(item) if item.is_value() => {
                                let decor = item.as_value().map(|v| v.decor().clone());
                                *item = value(v);
                                if let (Some(d), Some(val)) = (decor, item.as_value_mut()) {
                                    *val.decor_mut() = d;
                                }
                            }
                            _ => {
                                env_t.insert(k, value(v));
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(doc.to_string())
}

fn inline(pairs: &[(String, String)]) -> InlineTable {
    let mut t = InlineTable::new();
    for (k, v) in pairs {
        t.insert(k, v.as_str().into());
    }
    t
}

fn toml_table<'a>(
    doc: &'a mut toml_edit::DocumentMut,
    keys: &[String],
) -> Option<&'a mut dyn toml_edit::TableLike> {
    let mut t: &mut dyn toml_edit::TableLike = doc.as_table_mut();
    for k in keys {
        t = t.get_mut(k)?.as_table_like_mut()?;
    }
    Some(t)
}

fn toml_table_or_create<'a>(doc: &'a mut toml_edit::DocumentMut, keys: &[String]) -> &'a mut Table {
    let mut t = doc.as_table_mut();
    for k in keys {
        let item = t.entry(k).or_insert_with(|| {
            let mut new = Table::new();
            new.set_implicit(true);
            Item::Table(new)
        });
        if !item.is_table() {
            *item = Item::Table(Table::new());
        }
        let Some(next) = item.as_table_mut() else {
            unreachable!("just made a table")
        };
        t = next;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyward() -> NewEntry {
        NewEntry {
            command: "/usr/local/bin/keyward".into(),
            args: vec!["serve".into()],
            env: vec![],
            stdio_type: false,
        }
    }

    #[test]
    fn wrap_keeps_comments_and_other_servers() {
        let text = r#"{
  // my servers
  "mcpServers": {
    "github": { "command": "npx", "env": { "T": "ghp_secret" } }, // trailing note
    "plain": { "command": "uvx", "args": ["mcp-server-time"] },
  },
  "theme": "dark",
}"#;
        let c: Container = vec!["mcpServers".into()];
        let out = apply(
            text,
            Format::Jsonc,
            &[
                Edit::Remove {
                    container: c.clone(),
                    name: "github".into(),
                },
                Edit::Add {
                    container: c,
                    name: "keyward".into(),
                    entry: keyward(),
                },
            ],
        )
        .unwrap();
        assert!(!out.contains("ghp_secret"), "{out}");
        assert!(out.contains("// my servers"), "{out}");
        assert!(out.contains("\"plain\": { \"command\": \"uvx\""), "{out}");
        assert!(out.contains("\"theme\": \"dark\""), "{out}");
        let v = clients::parse_json(&out).unwrap().to_serde_value().unwrap();
        assert_eq!(v["mcpServers"]["keyward"]["args"][0], "serve");
        assert!(v["mcpServers"].get("github").is_none());
    }

    #[test]
    fn add_is_idempotent_and_creates_containers() {
        let c: Container = vec!["mcp".into(), "servers".into()];
        let add = Edit::Add {
            container: c,
            name: "keyward".into(),
            entry: keyward(),
        };
        let once = apply("{ \"a\": 1 }", Format::Jsonc, std::slice::from_ref(&add)).unwrap();
        let twice = apply(&once, Format::Jsonc, &[add]).unwrap();
        assert_eq!(once, twice);
        assert!(once.contains("\"keyward\""));
    }

    #[test]
    fn run_mode_replaces_command_args_and_env_values_only() {
        let text = "{\n  \"mcpServers\": {\n    \"pg\": {\n      \"command\": \"npx\",\n      \"args\": [\"-y\", \"server-postgres\"],\n      \"env\": { \"DATABASE_URL\": \"postgres://u:pw@h/db\", \"MODE\": \"ro\" }\n    }\n  }\n}\n";
        let out = apply(
            text,
            Format::Json,
            &[Edit::Run {
                container: vec!["mcpServers".into()],
                name: "pg".into(),
                command: "keyward".into(),
                args: vec![
                    "run".into(),
                    "--".into(),
                    "npx".into(),
                    "-y".into(),
                    "server-postgres".into(),
                ],
                nested_command: false,
                env: vec![("DATABASE_URL".into(), "keyward://pg.DATABASE_URL".into())],
                add_env: vec![],
            }],
        )
        .unwrap();
        assert!(!out.contains("pw@"), "{out}");
        assert!(out.contains("\"MODE\": \"ro\""), "{out}");
        assert!(out.contains("keyward://pg.DATABASE_URL"), "{out}");
        assert!(out.contains("\"command\": \"keyward\""), "{out}");
    }

    #[test]
    fn toml_wrap_and_run_keep_the_rest() {
        let text = "# codex\nmodel = \"o3\"\n\n[mcp_servers.gh]\ncommand = \"npx\" # the server\nenv = { GITHUB_TOKEN = \"ghp_x\" }\n\n[mcp_servers.time]\ncommand = \"uvx\"\n";
        let c: Container = vec!["mcp_servers".into()];
        let out = apply(
            text,
            Format::Toml,
            &[
                Edit::Remove {
                    container: c.clone(),
                    name: "gh".into(),
                },
                Edit::Add {
                    container: c.clone(),
                    name: "keyward".into(),
                    entry: keyward(),
                },
            ],
        )
        .unwrap();
        assert!(out.starts_with("# codex\nmodel = \"o3\"\n"), "{out}");
        assert!(!out.contains("ghp_x"), "{out}");
        assert!(out.contains("[mcp_servers.time]"), "{out}");
        assert!(out.contains("[mcp_servers.keyward]"), "{out}");

        let out = apply(
            text,
            Format::Toml,
            &[Edit::Run {
                container: c,
                name: "gh".into(),
                command: "keyward".into(),
                args: vec!["run".into(), "--".into(), "npx".into()],
                nested_command: false,
                env: vec![("GITHUB_TOKEN".into(), "keyward://gh.GITHUB_TOKEN".into())],
                add_env: vec![],
            }],
        )
        .unwrap();
        assert!(!out.contains("ghp_x"), "{out}");
        assert!(
            out.contains("GITHUB_TOKEN = \"keyward://gh.GITHUB_TOKEN\""),
            "{out}"
        );
        assert!(out.contains("# codex"), "{out}");
    }
}
