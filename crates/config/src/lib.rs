//! keyward's configuration: where files live, and `keyward.toml` parsed into
//! validated types once, before anything is served.
//!
//! The file holds references to secrets, never values. Unknown keys are
//! errors (a typo in a rule must not silently widen or narrow a policy).

mod approvals;
mod backends;
mod duration;
mod edit;
mod error;
mod http;
mod model;
mod paths;
mod secret_refs;
mod upstream;
mod validate;
mod validate_commands;
mod validate_servers;
mod validate_workflows;
mod values;
mod workflow;
mod workflow_template;

pub use approvals::{ApprovalSettings, DEFAULT_APPROVAL_TIMEOUT, MAX_APPROVAL_TIMEOUT};
pub use backends::{Backends, DEFAULT_MAX_AGE, SecretsPolicy, parse_age};
pub use duration::parse_duration;
pub use edit::{ConfigDoc, ServerSpec, ServiceSpec, TEMPLATE, write_template};
pub use error::ConfigError;
pub use http::{DEFAULT_MAX_SESSIONS_PER_AGENT, HttpSettings, MAX_SESSIONS_PER_AGENT};
pub use model::{Auth, Config, Limits, Service};
pub use paths::Paths;
pub use upstream::{
    Command, DEFAULT_MAX_OUTPUT_BYTES, EnvValue, Server, ServerTransport, TemplatedValue,
};
pub use values::validate_client_name;
pub use workflow::{
    ArgValue, Input, InputKind, MAX_RENDERED_BYTES, MAX_STEPS, RESERVED_TOOL_NAMES, SUMMARY_CHARS,
    Step, StepCall, Template, TemplateError, Workflow, result_fields,
};

#[cfg(test)]
#[path = "upstream_tests.rs"]
mod upstream_tests;

#[cfg(test)]
#[path = "upstream_errors_tests.rs"]
mod upstream_errors_tests;

#[cfg(test)]
#[path = "edit_server_tests.rs"]
mod edit_server_tests;

#[cfg(test)]
#[path = "workflow_tests.rs"]
mod workflow_tests;

#[cfg(test)]
#[path = "clients_tests.rs"]
mod clients_tests;
