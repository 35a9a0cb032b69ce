//! `[workflows.*]` as written by people, and its validation into
//! [`Workflow`]: names, inputs, steps, the calls they make (to services,
//! servers and commands that exist), and templates that compile and read
//! only declared inputs and earlier steps.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use keyward_policy::Method;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::upstream::{Command, Server};
use crate::validate::Ctx;
use crate::values::{key, validate_upstream_name};
use crate::workflow::{
    ArgValue, Input, InputKind, MAX_STEPS, RESERVED_TOOL_NAMES, Step, StepCall, Template, Workflow,
    result_fields,
};
use crate::{ConfigError, Service};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorkflow {
    description: Option<String>,
    #[serde(default)]
    inputs: BTreeMap<String, RawInput>,
    #[serde(default)]
    steps: Vec<RawStep>,
}

/// An input: `"string"`, or `{ type = "string", description = "..." }`.
enum RawInput {
    Type(String),
    Full(RawInputTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInputTable {
    #[serde(rename = "type")]
    kind: String,
    description: Option<String>,
}

impl<'de> Deserialize<'de> for RawInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawInput;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    r#"a type ("string", "number", "integer", "boolean") or a table { type, description }"#,
                )
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawInput, E> {
                Ok(RawInput::Type(s.to_owned()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawInput, A::Error> {
                RawInputTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawInput::Full)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Option<String>,
    call: Option<RawCall>,
    confirm: Option<bool>,
}

/// The union of the three call forms; [`validate_call`] says which fields
/// belong to which.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCall {
    service: Option<String>,
    method: Option<String>,
    path: Option<String>,
    query: Option<BTreeMap<String, String>>,
    headers: Option<BTreeMap<String, String>>,
    body: Option<String>,
    json: Option<toml::Value>,
    tool: Option<String>,
    command: Option<String>,
    args: Option<toml::Value>,
    stdin: Option<String>,
}

/// What the rest of the config offers a workflow to call.
pub(crate) struct Targets<'a> {
    pub(crate) services: &'a BTreeMap<String, Service>,
    pub(crate) servers: &'a BTreeMap<String, Server>,
    pub(crate) commands: &'a BTreeMap<String, Command>,
}

/// Words a template cannot use as a variable name, and `steps`.
const RESERVED_INPUTS: &[&str] = &[
    "steps", "true", "false", "none", "True", "False", "None", "loop", "self", "super", "and",
    "or", "not", "in", "is", "if", "else", "caller", "varargs", "kwargs",
];

pub(crate) fn validate_workflow(
    ctx: &Ctx<'_>,
    name: &str,
    raw: RawWorkflow,
    targets: &Targets<'_>,
) -> Result<Workflow, ConfigError> {
    let here = format!("workflows.{}", key(name));
    validate_upstream_name("workflow", name).map_err(|m| ctx.invalid(&here, m))?;
    if RESERVED_TOOL_NAMES.contains(&name) {
        return Err(ctx.invalid(
            &here,
            format!("`{name}` is one of keyward's own tools; name the workflow otherwise"),
        ));
    }
    let description = match raw.description.map(|d| d.trim().to_string()) {
        Some(d) if !d.is_empty() => d,
        _ => {
            return Err(ctx.invalid(
                format!("{here}.description"),
                "a workflow needs a description: it is what the agent reads to choose the tool",
            ));
        }
    };
    let mut inputs = BTreeMap::new();
    for (input, raw) in raw.inputs {
        let at = format!("{here}.inputs.{}", key(&input));
        validate_identifier("input", &input).map_err(|m| ctx.invalid(&at, m))?;
        if RESERVED_INPUTS.contains(&input.as_str()) {
            return Err(ctx.invalid(
                &at,
                format!("`{input}` is a reserved word in templates; name the input otherwise"),
            ));
        }
        let (kind, description) = match raw {
            RawInput::Type(t) => (t, None),
            RawInput::Full(t) => (t.kind, t.description),
        };
        let Some(kind) = InputKind::parse(&kind) else {
            return Err(ctx.invalid(
                &at,
                format!(
                    "unknown type `{}`: use string, number, integer or boolean",
                    kind.escape_debug()
                ),
            ));
        };
        inputs.insert(input, Input { kind, description });
    }
    if raw.steps.is_empty() {
        return Err(ctx.invalid(
            format!("{here}.steps"),
            "a workflow needs at least one step ([[workflows.NAME.steps]])",
        ));
    }
    if raw.steps.len() > MAX_STEPS {
        return Err(ctx.invalid(
            format!("{here}.steps"),
            format!("at most {MAX_STEPS} steps"),
        ));
    }
    let all_ids: BTreeSet<String> = raw.steps.iter().filter_map(|s| s.id.clone()).collect();
    let mut scope = Scope {
        inputs: &inputs,
        earlier: Vec::new(),
        all_ids: &all_ids,
    };
    let mut steps = Vec::new();
    for (i, raw) in raw.steps.into_iter().enumerate() {
        let at = format!("{here}.steps[{i}]");
        let Some(id) = raw.id else {
            return Err(ctx.invalid(
                format!("{at}.id"),
                "a step needs an id (later steps read its result as steps.ID)",
            ));
        };
        validate_identifier("step id", &id).map_err(|m| ctx.invalid(format!("{at}.id"), m))?;
        if scope.earlier.iter().any(|(e, _)| *e == id) {
            return Err(ctx.invalid(format!("{at}.id"), format!("step id `{id}` is used twice")));
        }
        let Some(call) = raw.call else {
            return Err(ctx.invalid(
                format!("{at}.call"),
                "a step needs a call: { service, method, path }, { tool, args } or { command, args }",
            ));
        };
        let call = validate_call(ctx, &format!("{at}.call"), call, targets, &scope)?;
        scope.earlier.push((id.clone(), call.kind()));
        steps.push(Step {
            id,
            call,
            confirm: raw.confirm.unwrap_or(false),
        });
    }
    Ok(Workflow {
        name: name.to_string(),
        description,
        inputs,
        steps,
    })
}

/// `[a-z][a-z0-9_]*`, at most 64: a name a template can write bare.
fn validate_identifier(kind: &str, name: &str) -> Result<(), String> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid {kind} `{}`: use 1-64 lowercase letters, digits or `_`, starting with a letter",
            name.escape_debug()
        ))
    }
}

/// What a template of one step may read.
struct Scope<'a> {
    inputs: &'a BTreeMap<String, Input>,
    /// The steps before this one: id and call kind.
    earlier: Vec<(String, &'static str)>,
    all_ids: &'a BTreeSet<String>,
}

impl Scope<'_> {
    /// Compiles `source` and checks every name it reads.
    fn template(&self, ctx: &Ctx<'_>, at: &str, source: &str) -> Result<Template, ConfigError> {
        let t = Template::parse(source).map_err(|e| ctx.invalid(at, format!("template: {e}")))?;
        for r in t.references() {
            self.check_reference(r).map_err(|m| ctx.invalid(at, m))?;
        }
        Ok(t)
    }

    fn check_reference(&self, dotted: &str) -> Result<(), String> {
        let mut segments = dotted.split('.');
        let first = segments.next().unwrap_or_default();
        if first != "steps" {
            if self.inputs.contains_key(first) {
                return Ok(());
            }
            let known: Vec<&str> = self.inputs.keys().map(String::as_str).collect();
            return Err(format!(
                "`{first}` is neither an input of the workflow (inputs: {}) nor steps.ID",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
        let Some(id) = segments.next() else {
            return Err("read a step's result as `steps.ID.FIELD`".into());
        };
        let Some((_, kind)) = self.earlier.iter().find(|(e, _)| e == id) else {
            return Err(if self.all_ids.contains(id) {
                format!(
                    "`steps.{id}` has not run yet at this step: a step reads only the results of earlier steps"
                )
            } else {
                format!("there is no step `{id}`")
            });
        };
        if let Some(field) = segments.next() {
            let fields = result_fields(kind);
            if !fields.contains(&field) {
                return Err(format!(
                    "step `{id}` ({kind}) has no field `{field}`; it has: {}",
                    fields.join(", ")
                ));
            }
        }
        Ok(())
    }
}

fn validate_call(
    ctx: &Ctx<'_>,
    at: &str,
    raw: RawCall,
    targets: &Targets<'_>,
    scope: &Scope<'_>,
) -> Result<StepCall, ConfigError> {
    let named = [
        raw.service.is_some(),
        raw.tool.is_some(),
        raw.command.is_some(),
    ];
    if named.iter().filter(|b| **b).count() != 1 {
        return Err(ctx.invalid(
            at,
            "a call names exactly one of `service` (an HTTP request), `tool` (an upstream MCP tool, SERVER__TOOL) or `command`",
        ));
    }
    let field = |f: &str| format!("{at}.{f}");
    let not_here = |f: &str, kind: &str| {
        ctx.invalid(field(f), format!("`{f}` does not belong in a {kind} call"))
    };
    if let Some(service) = raw.service {
        if raw.args.is_some() {
            return Err(not_here("args", "service"));
        }
        if raw.stdin.is_some() {
            return Err(not_here("stdin", "service"));
        }
        if !targets.services.contains_key(&service) {
            return Err(ctx.invalid(
                field("service"),
                format!("no service `{}` is configured", service.escape_debug()),
            ));
        }
        let Some(method) = raw.method else {
            return Err(ctx.invalid(field("method"), "an HTTP call needs a method"));
        };
        let method =
            Method::parse(&method).map_err(|e| ctx.invalid(field("method"), e.to_string()))?;
        let Some(path) = raw.path else {
            return Err(ctx.invalid(field("path"), "an HTTP call needs a path"));
        };
        let path = scope.template(ctx, &field("path"), &path)?;
        let mut query = BTreeMap::new();
        for (k, v) in raw.query.unwrap_or_default() {
            let t = scope.template(ctx, &format!("{at}.query.{}", key(&k)), &v)?;
            query.insert(k, t);
        }
        let mut headers = BTreeMap::new();
        for (k, v) in raw.headers.unwrap_or_default() {
            let t = scope.template(ctx, &format!("{at}.headers.{}", key(&k)), &v)?;
            headers.insert(k, t);
        }
        if raw.body.is_some() && raw.json.is_some() {
            return Err(ctx.invalid(field("json"), "give either `body` or `json`, not both"));
        }
        let body = raw
            .body
            .map(|b| scope.template(ctx, &field("body"), &b))
            .transpose()?;
        let json = raw
            .json
            .map(|j| arg_value(ctx, &field("json"), j, scope))
            .transpose()?;
        return Ok(StepCall::Http {
            service,
            method,
            path,
            query,
            headers,
            body,
            json,
        });
    }
    for (f, set) in [
        ("method", raw.method.is_some()),
        ("path", raw.path.is_some()),
        ("query", raw.query.is_some()),
        ("headers", raw.headers.is_some()),
        ("body", raw.body.is_some()),
        ("json", raw.json.is_some()),
    ] {
        if set {
            return Err(not_here(
                f,
                if raw.tool.is_some() {
                    "tool"
                } else {
                    "command"
                },
            ));
        }
    }
    if let Some(tool) = raw.tool {
        if raw.stdin.is_some() {
            return Err(not_here("stdin", "tool"));
        }
        let Some((server, name)) = tool
            .split_once("__")
            .filter(|(s, t)| !s.is_empty() && !t.is_empty())
        else {
            return Err(ctx.invalid(
                field("tool"),
                format!(
                    "`{}` is not SERVER__TOOL (the name the agent sees)",
                    tool.escape_debug()
                ),
            ));
        };
        if !targets.servers.contains_key(server) {
            return Err(ctx.invalid(
                field("tool"),
                format!("no server `{}` is configured", server.escape_debug()),
            ));
        }
        let args = match raw.args {
            None => BTreeMap::new(),
            Some(toml::Value::Table(t)) => {
                let mut args = BTreeMap::new();
                for (k, v) in t {
                    let a = arg_value(ctx, &format!("{at}.args.{}", key(&k)), v, scope)?;
                    args.insert(k, a);
                }
                args
            }
            Some(_) => {
                return Err(ctx.invalid(
                    field("args"),
                    "a tool's arguments are a table: args = { name = \"value\" }",
                ));
            }
        };
        return Ok(StepCall::Tool {
            server: server.to_string(),
            tool: name.to_string(),
            args,
        });
    }
    let command = raw.command.unwrap_or_default();
    if !targets.commands.contains_key(&command) {
        return Err(ctx.invalid(
            field("command"),
            format!("no command `{}` is configured", command.escape_debug()),
        ));
    }
    let args = match raw.args {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                toml::Value::String(s) => scope.template(ctx, &format!("{at}.args[{i}]"), &s),
                _ => Err(ctx.invalid(
                    format!("{at}.args[{i}]"),
                    "a command's arguments are strings",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return Err(ctx.invalid(
                field("args"),
                "a command's arguments are a list of strings: args = [\"--flag\", \"{{ x }}\"]",
            ));
        }
    };
    let stdin = raw
        .stdin
        .map(|s| scope.template(ctx, &field("stdin"), &s))
        .transpose()?;
    Ok(StepCall::Command {
        command,
        args,
        stdin,
    })
}

fn arg_value(
    ctx: &Ctx<'_>,
    at: &str,
    v: toml::Value,
    scope: &Scope<'_>,
) -> Result<ArgValue, ConfigError> {
    Ok(match v {
        toml::Value::String(s) => ArgValue::Text(scope.template(ctx, at, &s)?),
        toml::Value::Integer(n) => ArgValue::Integer(n),
        toml::Value::Float(f) => ArgValue::Float(f),
        toml::Value::Boolean(b) => ArgValue::Bool(b),
        toml::Value::Datetime(d) => ArgValue::Text(scope.template(ctx, at, &d.to_string())?),
        toml::Value::Array(items) => ArgValue::List(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| arg_value(ctx, &format!("{at}[{i}]"), v, scope))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => {
            let mut m = BTreeMap::new();
            for (k, v) in t {
                let a = arg_value(ctx, &format!("{at}.{}", key(&k)), v, scope)?;
                m.insert(k, a);
            }
            ArgValue::Map(m)
        }
    })
}
