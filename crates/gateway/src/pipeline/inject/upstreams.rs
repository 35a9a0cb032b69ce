//! Resolution for upstream MCP servers and CLI tools: every secret
//! reference resolved (an unresolvable one makes its own server or
//! command unavailable, named in the reason), every
//! program found on PATH, and each child's environment built from scratch
//! out of its declared values plus a short allow-list of keyward's own.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use keyward_config::{Command, EnvValue, Server, ServerTransport, TemplatedValue};
use keyward_connectors::exec::resolve_program;
use keyward_connectors::mcp::{Arg, HttpSpec, StdioSpec, UpstreamEvents, UpstreamSpec};
use keyward_redact::Scrubber;
use keyward_vault::{EnvSource, SecretValue};

use super::{Live, Lookup};
use crate::GatewayError;
use crate::servers::{Catalog, CommandRuntime, Injected, ListChanged, LiveUpstream, ServerRuntime};

/// The only parts of keyward's environment a child sees. Everything else —
/// KEYWARD_PASSPHRASE above all — stays out.
pub const INHERITED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
];

pub fn inherited(env: &dyn EnvSource) -> Vec<(String, String)> {
    INHERITED_ENV
        .iter()
        .filter_map(|k| env.var(k).map(|v| (k.to_string(), v)))
        .collect()
}

/// Resolved upstreams. Their secret values are looked up again (and a
/// server restarted with them) when they change; see [`super::refresh`].
pub struct Resolved {
    pub servers: BTreeMap<String, Arc<ServerRuntime>>,
    pub commands: BTreeMap<String, CommandRuntime>,
    /// Each command's environment, references resolved.
    pub command_env: BTreeMap<String, Vec<(String, SecretValue)>>,
}

pub fn resolve_upstreams(
    servers: BTreeMap<String, Server>,
    commands: BTreeMap<String, Command>,
    lookup: &mut Lookup<'_>,
    env: &dyn EnvSource,
    list_changed: &ListChanged,
    stderr_scrubber: &Arc<Live<Scrubber>>,
) -> Result<Resolved, GatewayError> {
    let inherit = inherited(env);
    let path_var = env.var("PATH");
    let mut out_servers = BTreeMap::new();
    for (name, server) in servers {
        let (spec, unavailable) = match server_spec(&server, lookup, path_var.as_deref(), &inherit)
        {
            Ok(spec) => (spec, None),
            // Never started: an empty spec stands in for it.
            Err(e) => (unstarted_spec(&server), Some(super::unavailable(&e))),
        };
        let stale = Arc::new(AtomicBool::new(false));
        let events = events_for(&name, &stale, list_changed, stderr_scrubber);
        out_servers.insert(
            name.clone(),
            Arc::new(ServerRuntime {
                server,
                upstream: LiveUpstream::new(&name, spec, events),
                catalog: Mutex::new(Catalog::default()),
                stale,
                resource_uris: Mutex::default(),
                unavailable,
            }),
        );
    }
    let mut out_commands = BTreeMap::new();
    let mut command_env = BTreeMap::new();
    for (name, command) in commands {
        let where_ = format!("commands.{name}");
        let resolved = resolve_program(&command.program, path_var.as_deref())
            .map_err(|e| GatewayError::Credential {
                service: where_.clone(),
                message: format!("cannot find `{}`: {e}", command.program),
            })
            .and_then(|program| Ok((program, command_values(&name, &command, lookup)?)));
        let (program, unavailable) = match resolved {
            Ok((program, env)) => {
                command_env.insert(name.clone(), env);
                (program, None)
            }
            Err(e) => (
                std::path::PathBuf::from(&command.program),
                Some(super::unavailable(&e)),
            ),
        };
        out_commands.insert(
            name,
            CommandRuntime {
                command,
                program,
                unavailable,
            },
        );
    }
    Ok(Resolved {
        servers: out_servers,
        commands: out_commands,
        command_env,
    })
}

/// How a server is started: its program found, its values resolved.
fn server_spec(
    server: &Server,
    lookup: &mut Lookup<'_>,
    path_var: Option<&str>,
    inherit: &[(String, String)],
) -> Result<UpstreamSpec, GatewayError> {
    let Injected { args, values } = server_values(server, lookup)?;
    Ok(match &server.transport {
        ServerTransport::Stdio { command, cwd, .. } => UpstreamSpec::Stdio(StdioSpec {
            command: resolve_program(command, path_var).map_err(|e| GatewayError::Credential {
                service: format!("servers.{}", server.name),
                message: format!("cannot find `{command}`: {e}"),
            })?,
            args,
            env: values,
            cwd: cwd.clone(),
            inherit: inherit.to_vec(),
        }),
        ServerTransport::Http { url, .. } => UpstreamSpec::Http(HttpSpec {
            url: url.clone(),
            headers: values,
        }),
    })
}

/// The spec of an unavailable server, which is never started: no values
/// (its literal arguments only), nothing inherited.
fn unstarted_spec(server: &Server) -> UpstreamSpec {
    match &server.transport {
        ServerTransport::Stdio {
            command, args, cwd, ..
        } => UpstreamSpec::Stdio(StdioSpec {
            command: std::path::PathBuf::from(command),
            args: args
                .iter()
                .filter_map(|a| match a {
                    EnvValue::Literal(s) => Some(Arg::Literal(s.clone())),
                    EnvValue::Secret(_) => None,
                })
                .collect(),
            env: Vec::new(),
            cwd: cwd.clone(),
            inherit: Vec::new(),
        }),
        ServerTransport::Http { url, .. } => UpstreamSpec::Http(HttpSpec {
            url: url.clone(),
            headers: Vec::new(),
        }),
    }
}

/// A server's injected values, references resolved: its arguments and
/// environment (stdio) or its headers (Streamable HTTP). At start-up and
/// on every refresh, so that a changed value restarts the server.
pub fn server_values(server: &Server, lookup: &mut Lookup<'_>) -> Result<Injected, GatewayError> {
    let where_ = format!("servers.{}", server.name);
    match &server.transport {
        ServerTransport::Stdio { args, env, .. } => Ok(Injected {
            args: args
                .iter()
                .enumerate()
                .map(|(i, a)| resolve_value(&format!("{where_}.args[{i}]"), a, lookup))
                .collect::<Result<_, _>>()?,
            values: resolve_env(&where_, env, lookup)?,
        }),
        ServerTransport::Http { headers, .. } => Ok(Injected {
            args: Vec::new(),
            values: headers
                .iter()
                .map(|(k, v)| {
                    let value = match v {
                        TemplatedValue::Literal(s) => SecretValue::new(s.clone().into_bytes()),
                        TemplatedValue::Secret { prefix, secret } => {
                            let s = lookup(&where_, secret)?;
                            let mut bytes = prefix.clone().into_bytes();
                            bytes.extend_from_slice(s.expose());
                            SecretValue::new(bytes)
                        }
                    };
                    Ok((k.clone(), value))
                })
                .collect::<Result<_, GatewayError>>()?,
        }),
    }
}

/// A command's environment, references resolved.
pub fn command_values(
    name: &str,
    command: &Command,
    lookup: &mut Lookup<'_>,
) -> Result<Vec<(String, SecretValue)>, GatewayError> {
    resolve_env(&format!("commands.{name}"), &command.env, lookup)
}

fn resolve_env(
    where_: &str,
    declared: &BTreeMap<String, EnvValue>,
    lookup: &mut Lookup<'_>,
) -> Result<Vec<(String, SecretValue)>, GatewayError> {
    declared
        .iter()
        .map(|(k, v)| {
            let value = match resolve_value(&format!("{where_}.env.{k}"), v, lookup)? {
                Arg::Literal(s) => SecretValue::new(s.into_bytes()),
                Arg::Secret(s) => s,
            };
            Ok((k.clone(), value))
        })
        .collect()
}

/// One declared value of a child (an env value or an argument, written
/// at `at`): a literal as it is, a reference resolved. The one place both
/// are resolved, so that an argument's reference is looked up, cached,
/// refreshed and scrubbed exactly as an env value's is.
fn resolve_value(at: &str, v: &EnvValue, lookup: &mut Lookup<'_>) -> Result<Arg, GatewayError> {
    Ok(match v {
        EnvValue::Literal(s) => Arg::Literal(s.clone()),
        EnvValue::Secret(r) => Arg::Secret(lookup(at, r)?),
    })
}

/// The upstream's stderr goes to keyward's log, scrubbed of every value
/// keyward knows (the connector has already removed the child's own: a
/// child can also print a value it was never given, e.g. one it read
/// from a file); a tools change or an exit marks the catalog stale and
/// tells the agent.
fn events_for(
    name: &str,
    stale: &Arc<AtomicBool>,
    list_changed: &ListChanged,
    scrubber: &Arc<Live<Scrubber>>,
) -> UpstreamEvents {
    let server = name.to_string();
    let (s1, s2) = (stale.clone(), stale.clone());
    let (l1, l2) = (list_changed.clone(), list_changed.clone());
    let scrubber = scrubber.clone();
    UpstreamEvents {
        on_stderr: Arc::new(move |line| {
            let (line, _) = scrubber.load().scrub_str(line);
            tracing::info!(server = %server, "stderr: {line}")
        }),
        on_tools_changed: Arc::new(move || {
            s1.store(true, Ordering::SeqCst);
            l1.notify();
        }),
        on_exit: Arc::new(move || {
            s2.store(true, Ordering::SeqCst);
            l2.notify();
        }),
    }
}
