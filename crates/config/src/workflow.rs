//! The validated `[workflows.*]` of keyward.toml: named sequences of calls
//! that the agent starts as one tool.
//!
//! Every string of a step's call is a [`Template`] over the workflow's
//! inputs and the results of earlier steps. What a step result exposes to
//! later templates is fixed here ([`result_fields`]), so that a reference
//! to a field that never exists is an error at load, not at run time.

use std::collections::BTreeMap;

use keyward_policy::Method;

pub use crate::workflow_template::{MAX_RENDERED_BYTES, Template, TemplateError};

/// Tool names keyward itself offers; a workflow may not take one.
pub const RESERVED_TOOL_NAMES: &[&str] = &[
    "list_services",
    "http_request",
    "run_command",
    "request_access",
];

/// The most steps one workflow may have.
pub const MAX_STEPS: usize = 32;

/// `[workflows.NAME]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Workflow {
    /// The tool name the agent sees.
    pub name: String,
    pub description: String,
    /// Input name -> its type. The agent must give every one.
    pub inputs: BTreeMap<String, Input>,
    /// In order; at least one.
    pub steps: Vec<Step>,
}

/// One input of a workflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub kind: InputKind,
    pub description: Option<String>,
}

/// The JSON type of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    String,
    Number,
    Integer,
    Boolean,
}

impl InputKind {
    pub fn parse(s: &str) -> Option<InputKind> {
        Some(match s {
            "string" => InputKind::String,
            "number" => InputKind::Number,
            "integer" => InputKind::Integer,
            "boolean" => InputKind::Boolean,
            _ => return None,
        })
    }

    /// The JSON Schema `type`.
    pub fn as_str(&self) -> &'static str {
        match self {
            InputKind::String => "string",
            InputKind::Number => "number",
            InputKind::Integer => "integer",
            InputKind::Boolean => "boolean",
        }
    }
}

/// `[[workflows.NAME.steps]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Unique in the workflow; later steps read `steps.ID.*`.
    pub id: String,
    pub call: StepCall,
    /// `confirm = true`: a human confirms this step even where the rules
    /// allow the call (it never turns a deny into an allow).
    pub confirm: bool,
}

/// What a step calls: the same three things the agent can call directly.
#[derive(Clone, Debug, PartialEq)]
pub enum StepCall {
    /// An HTTP request through a configured service (`http_request`).
    Http {
        service: String,
        method: Method,
        /// Rendered, then normalised and checked like any agent path.
        path: Template,
        query: BTreeMap<String, Template>,
        headers: BTreeMap<String, Template>,
        /// A text body.
        body: Option<Template>,
        /// A JSON body (`json = { ... }`), strings templated.
        json: Option<ArgValue>,
    },
    /// A tool of an upstream MCP server, `SERVER__TOOL`.
    Tool {
        server: String,
        tool: String,
        args: BTreeMap<String, ArgValue>,
    },
    /// An allow-listed command (`run_command`).
    Command {
        command: String,
        args: Vec<Template>,
        stdin: Option<Template>,
    },
}

impl StepCall {
    /// `http`, `tool` or `command`: which fields the result has.
    pub fn kind(&self) -> &'static str {
        match self {
            StepCall::Http { .. } => "http",
            StepCall::Tool { .. } => "tool",
            StepCall::Command { .. } => "command",
        }
    }

    /// One line for the agent and for humans: `GET pagerduty /incidents/{{incident}}`.
    pub fn describe(&self) -> String {
        match self {
            StepCall::Http {
                service,
                method,
                path,
                ..
            } => format!("{} {service} {}", method.as_str(), path.source()),
            StepCall::Tool { server, tool, .. } => format!("tool {server}__{tool}"),
            StepCall::Command { command, .. } => format!("command {command}"),
        }
    }
}

/// A value in a tool's arguments or a JSON body: TOML's types, with every
/// string a template. A string that is one `{{ expression }}` keeps the
/// expression's type (`count = "{{ n }}"` passes a number).
#[derive(Clone, Debug, PartialEq)]
pub enum ArgValue {
    Bool(bool),
    Integer(i64),
    Float(f64),
    Text(Template),
    List(Vec<ArgValue>),
    Map(BTreeMap<String, ArgValue>),
}

/// What the result of a step of `kind` exposes to later steps, as
/// `steps.ID.FIELD`:
///
/// | field       | http | tool | command | what |
/// |-------------|------|------|---------|------|
/// | `ok`        | ✓    | ✓    | ✓       | the step succeeded (always true for a step a later one can read) |
/// | `text`      | ✓    | ✓    | ✓       | the step's scrubbed text output: the body, the tool's text content, stdout |
/// | `summary`   | ✓    | ✓    | ✓       | `text` cut to 2,000 characters |
/// | `json`      | ✓    | ✓    | ✓       | `text` parsed as JSON (a tool's structured content first); absent when it is not JSON |
/// | `status`    | ✓    |      |         | the HTTP status |
/// | `headers`   | ✓    |      |         | response headers, name -> value |
/// | `body`      | ✓    |      |         | the body as text (base64 when binary) |
/// | `exit_code` |      |      | ✓       | the exit code |
/// | `stdout`, `stderr` | |    | ✓       | the output streams |
///
/// Every value is what the agent would have seen: scrubbed of secrets.
pub fn result_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "http" => &["ok", "text", "summary", "json", "status", "headers", "body"],
        "tool" => &["ok", "text", "summary", "json"],
        "command" => &[
            "ok",
            "text",
            "summary",
            "json",
            "exit_code",
            "stdout",
            "stderr",
        ],
        _ => &[],
    }
}

/// How much of a step's text `summary` keeps.
pub const SUMMARY_CHARS: usize = 2000;
