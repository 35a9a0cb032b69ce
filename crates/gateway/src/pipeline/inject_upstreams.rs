//! Start-up resolution for upstream MCP servers and CLI tools: every secret
//! reference resolved (an unresolvable one stops start-up, named), every
//! program found on PATH, and each child's environment built from scratch
//! out of its declared values plus a short allow-list of keyward's own.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use keyward_config::{Command, EnvValue, Server, ServerTransport, TemplatedValue};
use keyward_connectors::exec::resolve_program;
use keyward_connectors::mcp::{HttpSpec, StdioSpec, Supervised, UpstreamEvents, UpstreamSpec};
use keyward_vault::{EnvSource, Resolver, SecretValue};

use crate::GatewayError;
use crate::upstream::{Catalog, CommandRuntime, ListChanged, ServerRuntime};

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

/// Resolved upstreams, and every secret value injected into them (for the
/// scrubber).
pub struct Resolved {
    pub servers: BTreeMap<String, Arc<ServerRuntime>>,
    pub commands: BTreeMap<String, CommandRuntime>,
    pub injected: Vec<SecretValue>,
}

pub fn resolve_upstreams(
    servers: BTreeMap<String, Server>,
    commands: BTreeMap<String, Command>,
    resolver: &Resolver<'_>,
    env: &dyn EnvSource,
    list_changed: &ListChanged,
) -> Result<Resolved, GatewayError> {
    let mut injected = Vec::new();
    let inherit = inherited(env);
    let path_var = env.var("PATH");
    let mut out_servers = BTreeMap::new();
    for (name, server) in servers {
        let where_ = format!("servers.{name}");
        let spec = match &server.transport {
            ServerTransport::Stdio {
                command,
                args,
                env: declared,
                cwd,
            } => UpstreamSpec::Stdio(StdioSpec {
                command: resolve_program(command, path_var.as_deref()).map_err(|e| {
                    GatewayError::Credential {
                        service: where_.clone(),
                        message: format!("cannot find `{command}`: {e}"),
                    }
                })?,
                args: args.clone(),
                env: resolve_env(&where_, declared, resolver, &mut injected)?,
                cwd: cwd.clone(),
                inherit: inherit.clone(),
            }),
            ServerTransport::Http { url, headers } => {
                let mut resolved = Vec::new();
                for (k, v) in headers {
                    let value = match v {
                        TemplatedValue::Literal(s) => SecretValue::new(s.clone().into_bytes()),
                        TemplatedValue::Secret { prefix, secret } => {
                            let s = resolve(&where_, secret, resolver)?;
                            injected.push(s.clone());
                            let mut bytes = prefix.clone().into_bytes();
                            bytes.extend_from_slice(s.expose());
                            SecretValue::new(bytes)
                        }
                    };
                    resolved.push((k.clone(), value));
                }
                UpstreamSpec::Http(HttpSpec {
                    url: url.clone(),
                    headers: resolved,
                })
            }
        };
        let stale = Arc::new(AtomicBool::new(false));
        let events = events_for(&name, &stale, list_changed);
        let upstream = Supervised::new(&name, spec, events);
        out_servers.insert(
            name,
            Arc::new(ServerRuntime {
                server,
                upstream,
                catalog: Mutex::new(Catalog::default()),
                stale,
                resource_uris: Mutex::default(),
            }),
        );
    }
    let mut out_commands = BTreeMap::new();
    for (name, command) in commands {
        let where_ = format!("commands.{name}");
        let program = resolve_program(&command.program, path_var.as_deref()).map_err(|e| {
            GatewayError::Credential {
                service: where_.clone(),
                message: format!("cannot find `{}`: {e}", command.program),
            }
        })?;
        let env = resolve_env(&where_, &command.env, resolver, &mut injected)?;
        out_commands.insert(
            name,
            CommandRuntime {
                command,
                program,
                env,
            },
        );
    }
    Ok(Resolved {
        servers: out_servers,
        commands: out_commands,
        injected,
    })
}

fn resolve(
    where_: &str,
    reference: &keyward_vault::SecretRef,
    resolver: &Resolver<'_>,
) -> Result<SecretValue, GatewayError> {
    resolver
        .resolve(reference)
        .map_err(|source| GatewayError::Secret {
            service: where_.to_string(),
            source: Box::new(source),
        })
}

fn resolve_env(
    where_: &str,
    declared: &BTreeMap<String, EnvValue>,
    resolver: &Resolver<'_>,
    injected: &mut Vec<SecretValue>,
) -> Result<Vec<(String, SecretValue)>, GatewayError> {
    declared
        .iter()
        .map(|(k, v)| {
            let value = match v {
                EnvValue::Literal(s) => SecretValue::new(s.clone().into_bytes()),
                EnvValue::Secret(r) => {
                    let s = resolve(&format!("{where_}.env.{k}"), r, resolver)?;
                    injected.push(s.clone());
                    s
                }
            };
            Ok((k.clone(), value))
        })
        .collect()
}

/// The upstream's stderr goes to keyward's log (already scrubbed of the
/// values injected into it by the connector); a tools change or an exit
/// marks the catalog stale and tells the agent.
fn events_for(name: &str, stale: &Arc<AtomicBool>, list_changed: &ListChanged) -> UpstreamEvents {
    let server = name.to_string();
    let (s1, s2) = (stale.clone(), stale.clone());
    let (l1, l2) = (list_changed.clone(), list_changed.clone());
    UpstreamEvents {
        on_stderr: Arc::new(move |line| tracing::info!(server = %server, "stderr: {line}")),
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
