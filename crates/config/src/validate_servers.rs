//! `[servers.*]` as written by people, and its validation into [`Server`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use keyward_policy::{Action, NamePattern, ToolRule};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;
use url::Url;

use crate::upstream::{EnvValue, Server, ServerTransport, TemplatedValue};
use crate::validate::Ctx;
use crate::values::{
    key, parse_arg_value, parse_env_value, parse_header_value, parse_rate, validate_client_name,
    validate_env_name, validate_program, validate_upstream_name,
};
use crate::{ConfigError, parse_duration};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    command: Option<String>,
    args: Option<Vec<String>>,
    env: Option<BTreeMap<String, String>>,
    cwd: Option<String>,
    url: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    timeout: Option<String>,
    description: Option<String>,
    /// Whether the server's resources / prompts reach the agent (default deny).
    resources: Option<keyward_policy::Action>,
    prompts: Option<keyward_policy::Action>,
    /// `false`: the agent sees the server's names without `SERVER__`.
    prefix: Option<bool>,
    /// The MCP clients that see the server; absent: every client.
    clients: Option<Vec<String>>,
    /// Spanned keys give back the file order, which a plain map loses.
    #[serde(default)]
    tools: BTreeMap<Spanned<String>, RawTool>,
}

/// A tool entry: `"allow"`, or `{ action = "confirm", rate = "10/hour" }`.
enum RawTool {
    Action(String),
    Full(RawToolTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToolTable {
    action: String,
    rate: Option<String>,
    burst: Option<u32>,
}

impl<'de> Deserialize<'de> for RawTool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawTool;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"an action ("allow", "confirm" or "deny") or a table { action, rate, burst }"#)
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawTool, E> {
                Ok(RawTool::Action(s.to_owned()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawTool, A::Error> {
                RawToolTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawTool::Full)
            }
        }
        d.deserialize_any(V)
    }
}

/// Headers the configuration may not set on a remote server: they change
/// routing or framing, or belong to the MCP transport itself.
const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "te",
    "upgrade",
    "mcp-session-id",
    "mcp-protocol-version",
];

pub(crate) fn validate_server(
    ctx: &Ctx<'_>,
    name: &str,
    raw: RawServer,
) -> Result<Server, ConfigError> {
    let base = format!("servers.{}", key(name));
    let at = |field: &str| format!("{base}.{field}");
    validate_upstream_name("server", name).map_err(|m| ctx.invalid(&base, m))?;
    let transport = match (raw.command, raw.url) {
        (Some(_), Some(_)) => {
            return Err(ctx.invalid(
                at("url"),
                "a server has either `command` (a local server) or `url` (a remote one), not both",
            ));
        }
        (None, None) => {
            return Err(ctx.invalid(
                &base,
                "needs `command` (a local server started by keyward) or `url` (a remote server)",
            ));
        }
        (Some(command), None) => {
            if raw.headers.is_some() {
                return Err(ctx.invalid(at("headers"), "only a `url` server has headers"));
            }
            validate_program(&command).map_err(|m| ctx.invalid(at("command"), m))?;
            let args = raw
                .args
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    parse_arg_value(a).map_err(|m| ctx.invalid(format!("{base}.args[{i}]"), m))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let cwd = raw
                .cwd
                .map(|c| validate_cwd(&c).map_err(|m| ctx.invalid(at("cwd"), m)))
                .transpose()?;
            ServerTransport::Stdio {
                command,
                args,
                env: validate_env(ctx, &at("env"), raw.env.unwrap_or_default())?,
                cwd,
            }
        }
        (None, Some(url)) => {
            for (field, set) in [
                ("args", raw.args.is_some()),
                ("env", raw.env.is_some()),
                ("cwd", raw.cwd.is_some()),
            ] {
                if set {
                    return Err(ctx.invalid(at(field), "only a `command` server has this"));
                }
            }
            ServerTransport::Http {
                url: validate_server_url(&url).map_err(|m| ctx.invalid(at("url"), m))?,
                headers: validate_headers(ctx, &at("headers"), raw.headers.unwrap_or_default())?,
            }
        }
    };
    let timeout = raw
        .timeout
        .map(|t| parse_duration(&t))
        .transpose()
        .map_err(|m| ctx.invalid(at("timeout"), m))?;
    let mut tools: Vec<(usize, String, RawTool)> = raw
        .tools
        .into_iter()
        .map(|(k, v)| (k.span().start, k.into_inner(), v))
        .collect();
    tools.sort_by_key(|(start, _, _)| *start);
    let tools = tools
        .into_iter()
        .map(|(_, pattern, raw)| {
            validate_tool(
                ctx,
                &format!("{base}.tools.{}", key(&pattern)),
                &pattern,
                raw,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let clients = raw
        .clients
        .map(|list| validate_clients(&list).map_err(|m| ctx.invalid(at("clients"), m)))
        .transpose()?;
    Ok(Server {
        name: name.to_string(),
        transport,
        tools,
        timeout,
        description: raw.description,
        resources: raw.resources.unwrap_or(keyward_policy::Action::Deny),
        prompts: raw.prompts.unwrap_or(keyward_policy::Action::Deny),
        prefix: raw.prefix.unwrap_or(true),
        clients,
    })
}

/// A `clients` list: at least one valid name, each once.
fn validate_clients(list: &[String]) -> Result<Vec<String>, String> {
    if list.is_empty() {
        return Err(
            "an empty list would hide the server from every client: name at least one client \
             (e.g. [\"claude-desktop\"]), or remove the key to let every client see it"
                .into(),
        );
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for name in list {
        validate_client_name(name)?;
        if out.contains(name) {
            return Err(format!("client `{name}` is named twice"));
        }
        out.push(name.clone());
    }
    Ok(out)
}

/// The names an unprefixed server (`prefix = false`) must leave alone can
/// be checked only where every server and workflow is known: at most one
/// server is unprefixed (two could list the same name), and no rule of it
/// names one of keyward's own tools or a workflow by its exact name. A
/// colliding name that a wildcard rule lets through is withheld by the
/// gateway when it lists the tools.
pub(crate) fn validate_unprefixed<'a>(
    ctx: &Ctx<'_>,
    servers: &BTreeMap<String, Server>,
    workflows: impl Iterator<Item = &'a str> + Clone,
) -> Result<(), ConfigError> {
    let mut unprefixed = servers.values().filter(|s| !s.prefix);
    let Some(server) = unprefixed.next() else {
        return Ok(());
    };
    let base = format!("servers.{}", key(&server.name));
    if let Some(other) = unprefixed.next() {
        return Err(ctx.invalid(
            format!("servers.{}.prefix", key(&other.name)),
            format!(
                "only one server may have `prefix = false` (`{}` already has): two unprefixed servers \
                 could offer the same tool name",
                server.name
            ),
        ));
    }
    for rule in server.tools.iter().filter(|r| r.action != Action::Deny) {
        let name = rule.pattern.as_str();
        let literal = !name.contains(['*', '?']);
        let taken = crate::RESERVED_TOOL_NAMES
            .iter()
            .copied()
            .chain(workflows.clone())
            .any(|own| own == name);
        if literal && taken {
            return Err(ctx.invalid(
                format!("{base}.tools.{}", key(name)),
                format!(
                    "with `prefix = false` this rule names `{name}`, which is keyward's own \
                     (a tool or a workflow), so the agent could never reach the server's tool; \
                     keep the prefix, or drop the rule"
                ),
            ));
        }
    }
    Ok(())
}

fn validate_tool(
    ctx: &Ctx<'_>,
    at: &str,
    pattern: &str,
    raw: RawTool,
) -> Result<ToolRule, ConfigError> {
    let pattern = NamePattern::parse(pattern).map_err(|e| ctx.invalid(at, e.to_string()))?;
    let (action, rate) = match raw {
        RawTool::Action(a) => (a, None),
        RawTool::Full(t) => {
            let rate = parse_rate(ctx, at, t.rate.as_deref(), t.burst)?;
            (t.action, rate)
        }
    };
    let action = match action.as_str() {
        "allow" => Action::Allow,
        "confirm" => Action::Confirm,
        "deny" => Action::Deny,
        other => {
            return Err(ctx.invalid(
                at,
                format!(
                    "unknown action `{}`: use allow, confirm or deny",
                    other.escape_debug()
                ),
            ));
        }
    };
    Ok(ToolRule {
        pattern,
        action,
        rate,
    })
}

/// Env names and values of a child process (servers and commands).
pub(crate) fn validate_env(
    ctx: &Ctx<'_>,
    at: &str,
    raw: BTreeMap<String, String>,
) -> Result<BTreeMap<String, EnvValue>, ConfigError> {
    raw.into_iter()
        .map(|(name, value)| {
            let here = format!("{at}.{}", key(&name));
            validate_env_name(&name).map_err(|m| ctx.invalid(&here, m))?;
            let value = parse_env_value(&value).map_err(|m| ctx.invalid(&here, m))?;
            Ok((name, value))
        })
        .collect()
}

fn validate_headers(
    ctx: &Ctx<'_>,
    at: &str,
    raw: BTreeMap<String, String>,
) -> Result<BTreeMap<String, TemplatedValue>, ConfigError> {
    let mut seen = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (name, value) in raw {
        let here = format!("{at}.{}", key(&name));
        let lower = name.to_ascii_lowercase();
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token || FORBIDDEN_HEADERS.contains(&lower.as_str()) {
            return Err(ctx.invalid(
                &here,
                format!("`{}` cannot be set on a remote server", name.escape_debug()),
            ));
        }
        if let Some(first) = seen.insert(lower, name.clone()) {
            return Err(ctx.invalid(
                &here,
                format!("the same header as `{first}` (header names ignore case)"),
            ));
        }
        let value = parse_header_value(&value).map_err(|m| ctx.invalid(&here, m))?;
        out.insert(name, value);
    }
    Ok(out)
}

fn validate_cwd(c: &str) -> Result<PathBuf, String> {
    if c.contains('\0') || !Path::new(c).is_absolute() {
        return Err("must be an absolute path".into());
    }
    Ok(PathBuf::from(c))
}

/// An http(s) URL with a host and no userinfo (credentials go in
/// `headers`, as references) and no fragment. A query is allowed: some
/// servers take options there.
fn validate_server_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("`{s}` is not a valid URL: {e}"))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(format!("`{s}`: only http and https are supported"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{s}` has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Not echoed: the userinfo may be a real password.
        return Err(
            "the URL contains credentials (not shown); put them in `headers` as a \
             reference, e.g. Authorization = \"Bearer keyward://NAME\""
                .into(),
        );
    }
    if url.fragment().is_some() {
        return Err(format!("`{s}` has a fragment"));
    }
    Ok(url)
}

#[cfg(test)]
#[path = "unprefixed_tests.rs"]
mod unprefixed_tests;
