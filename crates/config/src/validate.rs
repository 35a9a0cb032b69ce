//! keyward.toml as written by people, and its validation into [`Config`].

use std::collections::BTreeMap;
use std::path::Path;

use keyward_policy::{Action, HttpRule, Method, PathPattern};
use keyward_vault::SecretRef;
use serde::Deserialize;
use url::Url;

use crate::backends::{RawBackends, RawSecrets, validate_backends, validate_secrets};
use crate::model::{Auth, Config, Limits, Service};
use crate::validate_commands::{RawCommand, validate_command};
use crate::validate_servers::{RawServer, validate_server};
use crate::values::parse_rate;
use crate::{ConfigError, parse_duration};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    services: BTreeMap<String, RawService>,
    #[serde(default)]
    limits: Option<RawLimits>,
    #[serde(default)]
    servers: BTreeMap<String, RawServer>,
    #[serde(default)]
    commands: BTreeMap<String, RawCommand>,
    backends: Option<RawBackends>,
    secrets: Option<RawSecrets>,
    approvals: Option<crate::approvals::RawApprovals>,
    http: Option<crate::http::RawHttp>,
    #[serde(default)]
    workflows: BTreeMap<String, crate::validate_workflows::RawWorkflow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    timeout: Option<String>,
    max_request_bytes: Option<usize>,
    max_response_bytes: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    base_url: String,
    description: Option<String>,
    auth: Option<RawAuth>,
    timeout: Option<String>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, tag = "type", rename_all = "lowercase")]
enum RawAuth {
    None,
    Bearer { secret: String },
    Basic { username: String, secret: String },
    Header { name: String, secret: String },
    Query { name: String, secret: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    action: Action,
    methods: Option<Vec<String>>,
    paths: Vec<String>,
    rate: Option<String>,
    burst: Option<u32>,
}

/// Headers that an auth `header` may not name: they would change routing or
/// framing rather than carry a credential.
const FORBIDDEN_AUTH_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "te",
    "upgrade",
    "cookie",
];

/// Where the configuration came from, for error messages.
pub(crate) struct Ctx<'a> {
    path: &'a Path,
}

impl Ctx<'_> {
    /// An error naming the key at fault (`at`), in dotted TOML form.
    pub(crate) fn invalid(&self, at: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            at: at.into(),
            message: message.into(),
        }
    }
}

impl Config {
    /// Parses and validates `text`, read from `path` (used in messages).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let ctx = Ctx { path };
        let limits = validate_limits(&ctx, raw.limits)?;
        let mut services = BTreeMap::new();
        for (name, raw) in raw.services {
            let service = validate_service(&ctx, &name, raw)?;
            services.insert(name, service);
        }
        let mut servers = BTreeMap::new();
        for (name, raw) in raw.servers {
            let server = validate_server(&ctx, &name, raw)?;
            servers.insert(name, server);
        }
        let mut commands = BTreeMap::new();
        for (name, raw) in raw.commands {
            let command = validate_command(&ctx, &name, raw, limits.timeout)?;
            commands.insert(name, command);
        }
        let backends = validate_backends(&ctx, raw.backends)?;
        let secrets = validate_secrets(&ctx, raw.secrets)?;
        let approvals = crate::approvals::validate_approvals(&ctx, raw.approvals)?;
        let http = crate::http::validate_http(&ctx, raw.http)?;
        let targets = crate::validate_workflows::Targets {
            services: &services,
            servers: &servers,
            commands: &commands,
        };
        let mut workflows = BTreeMap::new();
        for (name, raw) in raw.workflows {
            let workflow =
                crate::validate_workflows::validate_workflow(&ctx, &name, raw, &targets)?;
            workflows.insert(name, workflow);
        }
        crate::validate_servers::validate_unprefixed(
            &ctx,
            &servers,
            workflows.keys().map(String::as_str),
        )?;
        Ok(Config {
            services,
            limits,
            servers,
            commands,
            backends,
            secrets,
            approvals,
            http,
            workflows,
        })
    }

    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }
}

fn validate_limits(ctx: &Ctx<'_>, raw: Option<RawLimits>) -> Result<Limits, ConfigError> {
    let mut limits = Limits::default();
    let Some(raw) = raw else { return Ok(limits) };
    if let Some(t) = raw.timeout {
        limits.timeout = parse_duration(&t).map_err(|m| ctx.invalid("limits.timeout", m))?;
    }
    if let Some(n) = raw.max_request_bytes {
        limits.max_request_bytes = n;
    }
    if let Some(n) = raw.max_response_bytes {
        if n == 0 {
            return Err(ctx.invalid("limits.max_response_bytes", "must be greater than zero"));
        }
        limits.max_response_bytes = n;
    }
    Ok(limits)
}

/// Service names become part of tool arguments and audit records: keep them
/// to a plain, unambiguous alphabet.
pub(crate) fn validate_service_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid service name `{}`: use 1-64 lowercase letters, digits, `_` or `-`, starting with a letter or digit",
            name.escape_debug()
        ))
    }
}

/// A base URL is an origin plus an optional path prefix; anything else in it
/// (credentials, query, fragment) would be ambiguous or leak.
pub(crate) fn validate_base_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("`{s}` is not a valid URL: {e}"))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(format!("`{s}`: only http and https are supported"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{s}` has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{s}` contains credentials; put them in the vault and use `auth`"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`{s}` has a query or fragment; a base URL may only carry a path prefix"
        ));
    }
    // The prefix must itself be a canonical path, checked on the text as
    // written: the url crate would quietly resolve `..` and `%2e`.
    let after_scheme = s.split_once("://").map_or("", |(_, rest)| rest);
    let raw_path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    let prefix = raw_path.trim_end_matches('/');
    if !prefix.is_empty() {
        keyward_policy::NormalizedPath::parse(prefix)
            .map_err(|e| format!("`{s}`: its path prefix is not canonical: {e}"))?;
    }
    Ok(url)
}

fn validate_service(ctx: &Ctx<'_>, name: &str, raw: RawService) -> Result<Service, ConfigError> {
    let at = |field: &str| format!("services.{name}.{field}");
    validate_service_name(name).map_err(|m| ctx.invalid(format!("services.{name}"), m))?;
    let base_url = validate_base_url(&raw.base_url).map_err(|m| ctx.invalid(at("base_url"), m))?;
    let auth = match raw.auth {
        None => Auth::None,
        Some(a) => validate_auth(ctx, &at("auth"), a)?,
    };
    let timeout = raw
        .timeout
        .map(|t| parse_duration(&t))
        .transpose()
        .map_err(|m| ctx.invalid(at("timeout"), m))?;
    let rules = raw
        .rules
        .into_iter()
        .enumerate()
        .map(|(i, r)| validate_rule(ctx, &format!("services.{name}.rules[{i}]"), r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Service {
        name: name.to_string(),
        base_url,
        description: raw.description,
        auth,
        rules,
        timeout,
    })
}

fn secret_ref(ctx: &Ctx<'_>, at: &str, s: &str) -> Result<SecretRef, ConfigError> {
    SecretRef::parse(s).map_err(|e| ctx.invalid(format!("{at}.secret"), e.to_string()))
}

fn validate_auth(ctx: &Ctx<'_>, at: &str, raw: RawAuth) -> Result<Auth, ConfigError> {
    Ok(match raw {
        RawAuth::None => Auth::None,
        RawAuth::Bearer { secret } => Auth::Bearer {
            secret: secret_ref(ctx, at, &secret)?,
        },
        RawAuth::Basic { username, secret } => {
            if username.contains(':') || username.chars().any(char::is_control) {
                return Err(ctx.invalid(
                    format!("{at}.username"),
                    "must not contain `:` or control characters",
                ));
            }
            Auth::Basic {
                username,
                secret: secret_ref(ctx, at, &secret)?,
            }
        }
        RawAuth::Header { name, secret } => {
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !valid || FORBIDDEN_AUTH_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(ctx.invalid(
                    format!("{at}.name"),
                    format!("`{}` cannot carry a credential", name.escape_debug()),
                ));
            }
            Auth::Header {
                name,
                secret: secret_ref(ctx, at, &secret)?,
            }
        }
        RawAuth::Query { name, secret } => {
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            if !valid {
                return Err(ctx.invalid(
                    format!("{at}.name"),
                    "use letters, digits, `-`, `.`, `_` or `~`",
                ));
            }
            Auth::Query {
                name,
                secret: secret_ref(ctx, at, &secret)?,
            }
        }
    })
}

fn validate_rule(ctx: &Ctx<'_>, at: &str, raw: RawRule) -> Result<HttpRule, ConfigError> {
    let methods = raw
        .methods
        .map(|ms| {
            ms.iter()
                .map(|m| {
                    Method::parse(m)
                        .map_err(|e| ctx.invalid(format!("{at}.methods"), e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    if raw.paths.is_empty() {
        return Err(ctx.invalid(format!("{at}.paths"), "a rule needs at least one path"));
    }
    let paths = raw
        .paths
        .iter()
        .map(|p| {
            PathPattern::parse(p).map_err(|e| ctx.invalid(format!("{at}.paths"), e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rate = parse_rate(ctx, at, raw.rate.as_deref(), raw.burst)?;
    let rule = HttpRule {
        action: raw.action,
        methods,
        paths,
        rate,
    };
    rule.validate()
        .map_err(|e| ctx.invalid(at.to_string(), e.to_string()))?;
    Ok(rule)
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
