//! The validated `[servers.*]` (upstream MCP servers) and `[commands.*]`
//! (allow-listed CLI tools) of keyward.toml.
//!
//! Like the rest of the file they hold secret references, never values:
//! an env value, argument or header with an explicit reference scheme is
//! resolved by the gateway at spawn or connect time, and never written
//! anywhere.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use keyward_policy::{CommandRule, CwdPattern, Rate, ToolRule};
use keyward_vault::SecretRef;
use url::Url;

/// An upstream MCP server whose tools keyward passes on to the agent as
/// `SERVER__TOOL`, each call checked against [`Server::tools`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    pub name: String,
    pub transport: ServerTransport,
    /// Per-tool rules in file order (the order only numbers rules in
    /// messages; it never changes a decision). Empty: every tool denied.
    pub tools: Vec<ToolRule>,
    /// Per tool call; `None` means `limits.timeout`.
    pub timeout: Option<Duration>,
    pub description: Option<String>,
    /// `resources = "allow"` passes the server's resources through to the
    /// agent (read-only, scrubbed); anything else keeps them hidden. Closed
    /// by default. `confirm` is treated as deny until approvals exist.
    pub resources: keyward_policy::Action,
    /// The same for the server's prompts.
    pub prompts: keyward_policy::Action,
    /// `prefix = false` mounts the server's tools and prompts under their
    /// own names (`get_issue`, not `github__get_issue`). At most one server
    /// may be unprefixed, its rules may not name keyward's own tools or a
    /// workflow, and a listed name that collides anyway is withheld by the
    /// gateway. Default: true.
    pub prefix: bool,
    /// `clients = ["claude-desktop", "cursor"]`: the MCP clients that see
    /// this server (`keyward serve --client NAME` on stdio, the agent's
    /// token name over HTTP). `None` (the key absent): every client. For
    /// any other client the gateway treats the server as not configured:
    /// not listed, and a call to it is refused as unknown.
    pub clients: Option<Vec<String>>,
}

impl Server {
    /// Whether a session that is `client` (`None`: it named none) sees
    /// this server. A server with a `clients` list is seen only by the
    /// clients it names; a session that named no client sees only the
    /// servers without one.
    pub fn visible_to(&self, client: Option<&str>) -> bool {
        match &self.clients {
            None => true,
            Some(list) => client.is_some_and(|c| list.iter().any(|n| n == c)),
        }
    }
}

/// How keyward reaches an upstream server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerTransport {
    /// A child process speaking MCP on stdin/stdout. Its environment is
    /// built from scratch by the gateway: `env` plus a small allow-list.
    Stdio {
        /// A bare program name (resolved against `PATH` by the gateway) or
        /// an absolute path.
        command: String,
        /// Literals, or whole-argument secret references (`keyward://NAME`,
        /// read as env values are, except that `file://` stays a literal:
        /// file URLs are ordinary arguments of some servers). A resolved
        /// reference is in the child's argv while it runs, where local
        /// processes can read it (`ps`): `env` is the better place for a
        /// secret whenever the server can read one from there.
        args: Vec<EnvValue>,
        env: BTreeMap<String, EnvValue>,
        /// Absolute; `None` leaves the choice to the gateway.
        cwd: Option<PathBuf>,
    },
    /// A remote server over Streamable HTTP.
    Http {
        /// http or https, with a host, without userinfo or fragment.
        url: Url,
        /// Header name as written -> value; names are unique ignoring case.
        headers: BTreeMap<String, TemplatedValue>,
    },
}

/// The value of an environment variable given to a child process, or of
/// one argument of a server's command line.
///
/// A value with an explicit reference scheme (`keyward://`, `env://`,
/// `keychain://`, `vault://`, `file://`, any case) is a secret reference;
/// any other value is a literal, which is not a secret and is not scrubbed.
/// A bare name is a literal here (unlike `secret` fields of services):
/// `LOG_LEVEL = "info"` must not be looked up in the vault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvValue {
    Literal(String),
    Secret(SecretRef),
}

impl EnvValue {
    pub fn secret(&self) -> Option<&SecretRef> {
        match self {
            EnvValue::Literal(_) => None,
            EnvValue::Secret(r) => Some(r),
        }
    }
}

/// A header value of a remote server: a literal, or a secret reference
/// with an optional literal prefix. `"Bearer keyward://tok"` is
/// `Secret { prefix: "Bearer ", secret: Vault("tok") }`; the value sent is
/// the prefix followed by the resolved secret. Only the LAST
/// space-separated word may be a reference (`"<prefix> <reference>"`), so
/// there is exactly one way to read a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplatedValue {
    Literal(String),
    Secret { prefix: String, secret: SecretRef },
}

impl TemplatedValue {
    pub fn secret(&self) -> Option<&SecretRef> {
        match self {
            TemplatedValue::Literal(_) => None,
            TemplatedValue::Secret { secret, .. } => Some(secret),
        }
    }

    /// The literal text before the secret (`"Bearer "`), or the whole
    /// literal value.
    pub fn prefix(&self) -> &str {
        match self {
            TemplatedValue::Literal(s) | TemplatedValue::Secret { prefix: s, .. } => s,
        }
    }
}

/// An allow-listed command the agent may run through `run_command`. No
/// shell is ever involved: `program` is executed with the agent's argv
/// after [`keyward_policy::evaluate_command`] allowed it under `rules`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub name: String,
    /// A bare program name (resolved against `PATH` by the gateway at load)
    /// or an absolute path.
    pub program: String,
    /// The `args` patterns as allow rules, then the `deny_args` patterns as
    /// deny rules, in file order.
    pub rules: Vec<CommandRule>,
    pub env: BTreeMap<String, EnvValue>,
    /// Default: `limits.timeout`.
    pub timeout: Duration,
    /// Per agent, for the command as a whole.
    pub rate: Option<Rate>,
    /// Per output stream (stdout, stderr); more is cut off.
    pub max_output_bytes: usize,
    pub description: Option<String>,
    /// `cwd`: the working directories the agent may ask for. Empty (the
    /// default): none; the program runs in `/`. The gateway matches the
    /// canonical form of the requested directory, so a symlink or `..`
    /// cannot escape a pattern.
    pub cwd: Vec<CwdPattern>,
    /// `home`: HOME for the program. `None` (the default): a private
    /// directory keyward creates empty for each run and removes after it,
    /// so no dotfile the agent wrote is read.
    pub home: Option<PathBuf>,
}

/// Default for [`Command::max_output_bytes`]: 1 MiB.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 1024 * 1024;
