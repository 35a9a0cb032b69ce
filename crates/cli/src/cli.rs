//! Command-line arguments. Secret values are never arguments: they come
//! from stdin or a prompt.

use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "keyward",
    version,
    about = "A credential gateway for AI agents: one MCP server that holds your API keys, \
             checks every call against your rules, scrubs secrets from answers and records it all.",
    after_help = "Files live in $KEYWARD_HOME, or the platform's config and data directories."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// See keyward work, before any agent is wired up: a throwaway home, a
    /// local echo API and the calls an agent would make.
    ///
    /// Runs in a temp dir (keyward.toml, a vault with a random demo key, an
    /// audit log) and on 127.0.0.1 only: your own keyward home, client
    /// configs and OS keychain are never read or written. The calls go
    /// through the same gateway `keyward serve` runs: an allowed call whose
    /// echoed key comes back [REDACTED], a denied one, one you confirm at the
    /// terminal; then the audit log and its verification. Exits 1 naming
    /// each step that did not behave as expected.
    #[command(after_help = DEMO_EXAMPLE)]
    Demo(DemoArgs),
    /// Create keyward.toml and the encrypted vault.
    Init(InitArgs),
    /// Store, list and remove secrets in the vault.
    #[command(subcommand)]
    Secret(SecretCmd),
    /// Add, list and remove HTTP services.
    #[command(subcommand)]
    Service(ServiceCmd),
    /// Show what the rules decide for a call, and why.
    Check {
        service: String,
        method: String,
        path: String,
    },
    /// Run the MCP server on stdin/stdout (put this in your MCP client's config);
    /// with --http, run it as one service for all your agents.
    #[command(after_help = SERVE_EXAMPLE)]
    Serve(ServeArgs),
    /// Make, list and revoke the bearer tokens agents use with `keyward serve --http`.
    #[command(subcommand)]
    Agent(AgentCmd),
    /// A stdio MCP server that forwards to the running `keyward serve --http`
    /// (starting it if needed), for clients that only spawn stdio servers.
    ///
    /// The agent token comes from KEYWARD_AGENT_TOKEN (put it in the client
    /// config's `env`) or --token-file; never an argument.
    #[command(after_help = CONNECT_EXAMPLE)]
    Connect(ConnectArgs),
    /// Check the config, every secret reference, the vault, the audit log,
    /// the OS credential store and OpenBao/Vault; exit 1 if anything is broken.
    Doctor,
    /// Show the audit log; `keyward audit verify` checks its hash chain.
    Audit(AuditArgs),
    /// Add, list and remove upstream MCP servers keyward runs for the agent.
    #[command(subcommand)]
    Servers(ServersCmd),
    /// Review and approve changes to keyward.toml: `keyward serve` runs
    /// only the last config a human approved with the vault passphrase.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Run a program with the secret references in its environment resolved.
    ///
    /// Every variable whose value is a reference with a scheme (keyward://NAME,
    /// env://VAR, keychain://SERVICE/ACCOUNT, vault://MOUNT/PATH#FIELD,
    /// file:///PATH) gets the secret's value; other values stay as they are.
    /// keyward then replaces itself with PROGRAM, so stdin, stdout and signals
    /// go straight to it. Secrets are only ever put in the environment, never
    /// in arguments; KEYWARD_PASSPHRASE and KEYWARD_VAULT_KEY_FILE are removed.
    #[command(
        override_usage = "keyward run [--env KEY=REF]... -- PROGRAM [ARGS]...",
        after_help = RUN_EXAMPLE
    )]
    Run(RunArgs),
    /// Move the plaintext secrets of MCP client configs into keyward.
    ///
    /// Each server with a plaintext secret in its env or headers: the value
    /// goes into the vault (as SERVER.VAR), then either the server moves
    /// into keyward.toml and the client gets one `keyward serve` entry
    /// (--mode wrap, the default), or the server stays and starts through
    /// `keyward run` with references in its env (--mode run). Every file is
    /// backed up first (sealed under the vault key); --undo restores them.
    #[command(after_help = IMPORT_EXAMPLE)]
    Import(ImportArgs),
    /// Find plaintext secrets in MCP client configs, .env and shell rc files.
    ///
    /// With no PATH: every known MCP client config of this platform, and the
    /// project's (.mcp.json, .vscode/mcp.json, .cursor/mcp.json) in the
    /// current directory. A directory PATH is searched for those files,
    /// .env* and shell rc files. Values are never printed, only masked
    /// previews. Exit status: 1 if a secret was found, else 2 if a file could
    /// not be scanned, else 0.
    #[command(after_help = SCAN_EXAMPLE)]
    Scan(ScanArgs),
    /// List the calls waiting for a human's confirmation (`confirm` rules),
    /// in every running keyward.
    Approvals,
    /// Approve a waiting call: once, or for a while (which creates a grant
    /// for the same scope). Needs the vault passphrase.
    #[command(after_help = APPROVE_EXAMPLE)]
    Approve {
        /// The question's id, from `keyward approvals`.
        id: String,
        /// Also allow what the question would grant, for this long (5m, 1h).
        #[arg(long = "for", value_name = "DURATION")]
        for_: Option<String>,
        /// Also allow it until the agent's session ends.
        #[arg(long)]
        session: bool,
    },
    /// Deny a waiting call.
    Deny {
        /// The question's id, from `keyward approvals`.
        id: String,
    },
    /// List the grants in force; `keyward grants revoke ID|--all` ends them.
    Grants(GrantsArgs),
    /// The kill switch: deny every call, in every running keyward (and any
    /// started later), until `keyward unlock`. Calls waiting for approval
    /// are denied at once.
    Lock,
    /// Lift `keyward lock`. Needs the vault passphrase.
    Unlock,
}

const DEMO_EXAMPLE: &str = "Examples:
  keyward demo          # asks you to confirm one call
  keyward demo --yes    # without a terminal: confirm it (--no: refuse it)
  keyward demo --keep   # keep the demo home; then KEYWARD_HOME=PATH keyward audit";

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Answer the confirmation with yes, without asking.
    #[arg(long, conflicts_with = "no")]
    pub(crate) yes: bool,
    /// Answer the confirmation with no, without asking.
    #[arg(long)]
    pub(crate) no: bool,
    /// Keep the demo's home (a temp dir) and print its path, instead of
    /// removing it at the end.
    #[arg(long)]
    pub(crate) keep: bool,
}

const APPROVE_EXAMPLE: &str = "Examples:
  keyward approvals                 # what is waiting, with ids
  keyward approve 3f9c2a1b77d04e10  # this call only
  keyward approve 3f9c2a1b77d04e10 --for 1h
  keyward deny 3f9c2a1b77d04e10";

#[derive(clap::Args, Debug)]
pub(crate) struct GrantsArgs {
    #[command(subcommand)]
    pub action: Option<GrantsAction>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum GrantsAction {
    /// End a grant now (or every grant with --all).
    Revoke {
        id: Option<String>,
        #[arg(long)]
        all: bool,
    },
}

const SCAN_EXAMPLE: &str = "Examples:
  keyward scan                        # every MCP client config found, and this project's
  keyward scan ~/.bashrc .env ./infra # files, or directories to search
  keyward scan --sarif > scan.sarif   # for code-scanning tools";

#[derive(Args)]
pub(crate) struct ScanArgs {
    /// Files or directories to scan instead of the known client configs.
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Print the findings as JSON (file, path, line, rule, title, preview).
    #[arg(long, conflicts_with = "sarif")]
    pub(crate) json: bool,
    /// Print SARIF 2.1.0 (for GitHub code scanning and other tools).
    #[arg(long)]
    pub(crate) sarif: bool,
    /// Also list the values skipped as placeholders or examples (masked,
    /// with the reason); `--json` always has them under "skipped".
    #[arg(long)]
    pub(crate) show_skipped: bool,
}

const IMPORT_EXAMPLE: &str = "Examples:
  keyward import --dry-run            # every client config found: what would change (values masked)
  keyward import cursor --read-only   # Cursor's servers behind keyward; read-like tools allowed
  keyward import ./.mcp.json --mode run
  keyward import ./mcp.json --client cursor  # a file at no known place: say whose it is
  keyward import --shared             # every client sees every imported server
  keyward import --undo               # put the last import's files back";

#[derive(Args)]
pub(crate) struct ImportArgs {
    /// A client (claude-desktop, claude-code, cursor, vscode, windsurf, zed,
    /// codex, gemini) or a config file; none: every client config found.
    #[arg(value_name = "CLIENT|PATH", conflicts_with = "undo")]
    pub(crate) target: Option<String>,
    /// wrap: the servers run behind keyward; run: they stay in the client
    /// config and start through `keyward run`.
    #[arg(long, value_parser = ["wrap", "run"], default_value = "wrap")]
    pub(crate) mode: String,
    /// Print the diff of every file that would change (values masked); change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Allow every tool of a wrapped server (default: every tool is `confirm`).
    #[arg(long, conflicts_with = "read_only")]
    pub(crate) allow_all: bool,
    /// Allow only tools named like reads (get_*, list_*, search_*, read_*, ...).
    #[arg(long)]
    pub(crate) read_only: bool,
    /// Store a value under your own vault name instead of SERVER.VAR,
    /// e.g. --name github.GITHUB_PERSONAL_ACCESS_TOKEN=gh_pat. Repeatable.
    #[arg(long = "name", value_name = "DEFAULT=NAME")]
    pub(crate) names: Vec<String>,
    /// Let every client see every imported server: no `clients` lists, and
    /// each client's entry starts plain `keyward serve` (default: each
    /// client keeps to the servers it had).
    #[arg(long, conflicts_with_all = ["client", "undo"])]
    pub(crate) shared: bool,
    /// The client the file belongs to, by the name its `keyward serve
    /// --client NAME` entry and keyward.toml's `clients` lists use (default:
    /// the client's own id, e.g. cursor). Needed to keep a file given by path
    /// at no known client's place to its servers.
    #[arg(
        long,
        value_name = "NAME",
        requires = "target",
        conflicts_with = "undo"
    )]
    pub(crate) client: Option<String>,
    /// Also move a secret passed as an argument (a database URL with its
    /// password, `--api-key X`) to the vault; the wrapped server's `args`
    /// get its reference. The client config no longer holds the value, but
    /// while the server runs its command line is visible to local
    /// processes (`ps`).
    #[arg(long = "args")]
    pub(crate) move_args: bool,
    /// Restore the files the last import changed.
    #[arg(long, conflicts_with_all = ["dry_run", "allow_all", "read_only", "move_args"])]
    pub(crate) undo: bool,
    /// With --undo: restore even over files edited since the import.
    #[arg(long, requires = "undo")]
    pub(crate) force: bool,
}

const RUN_EXAMPLE: &str = r#"Example, in an MCP client's config (the secret stays in keyward's vault):
  "command": "keyward",
  "args": ["run", "--", "npx", "-y", "@modelcontextprotocol/server-postgres"],
  "env": {"DATABASE_URL": "keyward://pg_url"}"#;

#[derive(Args)]
pub(crate) struct RunArgs {
    /// Set KEY to the secret REF names (keyward://NAME, a bare vault NAME,
    /// env://VAR, ...). Repeatable; wins over KEY from the environment.
    #[arg(long = "env", value_name = "KEY=REF")]
    pub(crate) env: Vec<String>,
    /// The program (looked up in PATH unless it contains a `/`) and its arguments.
    #[arg(
        value_name = "PROGRAM",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub(crate) command: Vec<OsString>,
}

const SERVE_EXAMPLE: &str = "Examples:
  keyward serve                       # stdio, for one MCP client that starts it
  keyward serve --http                # http://127.0.0.1:8717/mcp for every agent with a token
  keyward serve --http 127.0.0.1:9000
  keyward serve --client cursor       # stdio, as Cursor: its servers and the shared ones";

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Serve MCP over Streamable HTTP at http://ADDR/mcp instead of stdio
    /// (ADDR defaults to 127.0.0.1:8717). Agents authenticate with tokens
    /// from `keyward agent add`.
    #[arg(
        long,
        value_name = "ADDR",
        num_args = 0..=1,
        default_missing_value = "127.0.0.1:8717"
    )]
    pub(crate) http: Option<String>,
    /// With --http: allow an address that is not loopback (plain HTTP: tokens
    /// and answers cross the network unencrypted).
    #[arg(long, requires = "http")]
    pub(crate) allow_remote: bool,
    /// With --allow-remote: another host name clients use for the service
    /// (checked against Host and Origin). Repeatable.
    #[arg(long = "allowed-host", value_name = "HOST", requires = "allow_remote")]
    pub(crate) allowed_hosts: Vec<String>,
    /// This stdio session is the MCP client NAME (as `keyward import`
    /// writes it: claude-desktop, cursor, ...): it sees the servers whose
    /// `clients` list names NAME, and those without a list. Without it:
    /// only those without a list. Not with --http, where each agent's
    /// token name is its client name.
    #[arg(long, value_name = "NAME", conflicts_with = "http")]
    pub(crate) client: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum AgentCmd {
    /// Make a token for a new agent; it is printed once (only its hash is kept).
    Add { name: String },
    /// List the agents: names and when they were added (never tokens).
    List,
    /// Revoke an agent's token; a running service refuses it from its next request on.
    Rm { name: String },
}

const CONNECT_EXAMPLE: &str = r#"Example, in an MCP client's config:
  "command": "keyward",
  "args": ["connect"],
  "env": {"KEYWARD_AGENT_TOKEN": "kwa_..."}"#;

#[derive(Args)]
pub(crate) struct ConnectArgs {
    /// Read the agent token from this file (first line) instead of KEYWARD_AGENT_TOKEN.
    #[arg(long, value_name = "PATH")]
    pub(crate) token_file: Option<PathBuf>,
    /// Where to start the service when none is running (default 127.0.0.1:8717).
    #[arg(long, value_name = "ADDR")]
    pub(crate) addr: Option<String>,
    /// Never start a service; fail when none is running.
    #[arg(long)]
    pub(crate) no_start: bool,
}

#[derive(Subcommand)]
pub(crate) enum ServersCmd {
    /// Add an upstream MCP server (a command keyward starts) to keyward.toml.
    #[command(
        override_usage = "keyward servers add NAME [--env KEY=REF]... [--allow PATTERN]... [--confirm PATTERN]... [--deny PATTERN]... [--rate COUNT/PERIOD] [--client NAME]... -- COMMAND [ARGS]..."
    )]
    Add(Box<ServersAddArgs>),
    /// List servers, their environment (references only) and tool rules.
    List {
        /// Also start each server and show every tool it offers with what
        /// the rules decide (needs the vault, like `keyward serve`).
        #[arg(long)]
        tools: bool,
    },
    /// Remove a server from keyward.toml.
    Rm { name: String },
    /// Accept the changed tool definitions of a server (shows what changed).
    Accept { name: String },
}

#[derive(Subcommand)]
pub(crate) enum ConfigCmd {
    /// Show what changed in keyward.toml since the last approved config.
    /// Exit status: 0 when it is the approved config, 1 when it differs
    /// (or nothing was approved yet), 2 on an error.
    Diff,
    /// Make keyward.toml the approved config, after showing the diff;
    /// needs the vault passphrase (typed, or KEYWARD_PASSPHRASE).
    Approve,
}

#[derive(Args)]
pub(crate) struct ServersAddArgs {
    pub(crate) name: String,
    /// Environment variable of the server: a secret reference
    /// (keyward://NAME, env://VAR, ...) resolved at start, or a literal.
    /// Repeatable.
    #[arg(long = "env", value_name = "KEY=REF")]
    pub(crate) env: Vec<String>,
    /// Allow the tools matching this glob (`get_*`, `search_code`). Repeatable.
    #[arg(long = "allow", value_name = "PATTERN")]
    pub(crate) allow: Vec<String>,
    /// Ask a human before each call of the tools matching this glob (in
    /// the MCP client, on the dashboard or with `keyward approve`). Repeatable.
    #[arg(long = "confirm", value_name = "PATTERN")]
    pub(crate) confirm: Vec<String>,
    /// Deny the tools matching this glob; a deny always wins. Repeatable.
    #[arg(long = "deny", value_name = "PATTERN")]
    pub(crate) deny: Vec<String>,
    /// Rate limit (`10/minute`, `100/hour`, `5/day`) on every --allow and
    /// --confirm pattern of this command, per agent and pattern.
    #[arg(long, value_name = "COUNT/PERIOD")]
    pub(crate) rate: Option<String>,
    /// Only the MCP client NAME sees this server (`keyward serve --client
    /// NAME`, or the agent NAME of `keyward serve --http`). Repeatable;
    /// none: every client sees it.
    #[arg(long = "client", value_name = "NAME")]
    pub(crate) clients: Vec<String>,
    /// The server's command (a bare name looked up in PATH, or an absolute
    /// path) and its arguments. A whole argument may be a reference
    /// (keyward://NAME), put in the command line at start, where local
    /// processes (`ps`) can read it: prefer --env where the server can.
    #[arg(
        value_name = "COMMAND",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub(crate) command: Vec<String>,
}

#[derive(Args)]
pub(crate) struct InitArgs {
    /// Do not keep the vault key in the OS credential store.
    #[arg(long)]
    pub(crate) no_keychain: bool,
    /// Also write the vault key to this file (mode 0600), for KEYWARD_VAULT_KEY_FILE.
    #[arg(long, value_name = "PATH")]
    pub(crate) write_key_file: Option<PathBuf>,
}

const SECRET_SET_EXAMPLE: &str = "Examples:
  printf '%s\\n' \"$STRIPE_KEY\" | keyward secret set stripe_key   # from a variable
  keyward secret set stripe_key                 # typed at a prompt, not shown
  pbpaste | keyward secret set stripe_key       # from the clipboard (wl-paste, xclip -o)";

#[derive(Subcommand)]
pub(crate) enum SecretCmd {
    /// Store a secret; the value is read from stdin (one line) or asked for without echo.
    #[command(after_help = SECRET_SET_EXAMPLE)]
    Set {
        /// The secret's name, used in references (keyward://NAME).
        name: String,
        /// Never given: a value as an argument is refused with how to pipe
        /// it (it would be in the shell history and in `ps`).
        #[arg(hide = true, value_name = "VALUE")]
        value: Option<std::ffi::OsString>,
        /// Where to store it: `local` (the encrypted vault), `keychain` (the
        /// OS credential store: service `keyward`, account NAME), or
        /// `vault:MOUNT/PATH[#FIELD]` (OpenBao/HashiCorp Vault KV v2; field
        /// NAME unless #FIELD; other fields are kept). Prints the reference.
        #[arg(long, default_value = "local", value_name = "BACKEND")]
        backend: String,
    },
    /// List the vault's secrets (names, sizes, dates, age), then every
    /// reference in keyward.toml with its backend and whether it resolves
    /// now (never values).
    List,
    /// Remove a secret: from the vault, or from the OS credential store
    /// where `secret set --backend keychain` put it.
    Rm {
        name: String,
        /// `local` (the vault) or `keychain`; by default the vault, then
        /// the OS credential store when the vault has no such secret.
        #[arg(long, value_parser = ["local", "keychain"], value_name = "BACKEND")]
        backend: Option<String>,
    },
    /// Replace an existing secret's value (read like `set`); a running
    /// `keyward serve` picks it up without a restart.
    Rotate { name: String },
}

#[derive(Subcommand)]
pub(crate) enum ServiceCmd {
    /// Add an HTTP service to keyward.toml.
    Add(Box<ServiceAddArgs>),
    /// List services and their rules.
    List,
    /// Remove a service from keyward.toml.
    Rm { name: String },
}

#[derive(Args)]
pub(crate) struct ServiceAddArgs {
    pub(crate) name: String,
    #[arg(long)]
    pub(crate) base_url: String,
    #[arg(long, value_parser = ["bearer", "basic", "header", "query", "none"])]
    pub(crate) auth: String,
    /// Vault secret name or reference (keyward://NAME, env://VAR, ...).
    #[arg(long)]
    pub(crate) secret: Option<String>,
    /// User name for basic auth.
    #[arg(long)]
    pub(crate) username: Option<String>,
    /// Header name for `--auth header`.
    #[arg(long)]
    pub(crate) header: Option<String>,
    /// Query parameter name for `--auth query`.
    #[arg(long)]
    pub(crate) param: Option<String>,
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// Allow rule, e.g. 'GET /v1/charges/**' or 'GET,POST /v1/**'. Repeatable.
    #[arg(long = "allow", value_name = "METHODS PATH")]
    pub(crate) allow: Vec<String>,
    /// Confirm rule, same form as --allow: each matching call waits for a
    /// human's yes (in the MCP client, on the dashboard or with `keyward
    /// approve`). Repeatable.
    #[arg(long = "confirm", value_name = "METHODS PATH")]
    pub(crate) confirm: Vec<String>,
    /// Deny rule, same form as --allow; a deny always wins. Repeatable.
    #[arg(long = "deny", value_name = "METHODS PATH")]
    pub(crate) deny: Vec<String>,
    /// Rate limit (`10/minute`, `100/hour`, `5/day`) on every --allow and
    /// --confirm rule of this command, per agent and rule.
    #[arg(long, value_name = "COUNT/PERIOD")]
    pub(crate) rate: Option<String>,
}

const AUDIT_EXAMPLE: &str = "Examples:
  keyward audit --since 1h                  # what happened in the last hour
  keyward audit --agent claude-code --decision deny
  keyward audit --target 'fs__*' -n 20      # the last 20 calls of fs's tools
  keyward audit --follow                    # the last 10, then each new record as it comes
  keyward audit --json | jq .               # the records as written
  keyward audit verify                      # check the hash chain";

#[derive(Args)]
#[command(after_help = AUDIT_EXAMPLE)]
pub(crate) struct AuditArgs {
    #[command(subcommand)]
    pub(crate) action: Option<AuditCmd>,
    /// Print the records as they are in the log: one JSON object a line.
    #[arg(long)]
    pub(crate) json: bool,
    /// Only the last N records (of those the filters let through).
    #[arg(short = 'n', long = "last", value_name = "N")]
    pub(crate) last: Option<usize>,
    /// Only records since this long ago (`90s`, `30m`, `1h`, `2d`) or this
    /// time (RFC 3339: `2026-12-03T14:00:00Z`, `2026-12-03T15:00:00+01:00`).
    #[arg(long, value_name = "DURATION|TIME")]
    pub(crate) since: Option<String>,
    /// Only records of this agent: its whole name (`claude-code 1.2.3`) or
    /// its first word (`claude-code`).
    #[arg(long, value_name = "NAME")]
    pub(crate) agent: Option<String>,
    /// Only records with this decision (`allow`, `deny`, `rate_limited`,
    /// `error`, `asked`, ...); `allow` also matches an approval's
    /// `allow once` / `allow for 5m`. Repeatable, or comma-separated.
    #[arg(long, value_name = "DECISION", value_delimiter = ',')]
    pub(crate) decision: Vec<String>,
    /// Only records whose target matches this glob (`*` any run, `?` one
    /// character): a service (`stripe`), a server (`fs`), a server's tool
    /// as the agent names it (`fs__read_*`), a command (`gh`).
    #[arg(long, value_name = "GLOB")]
    pub(crate) target: Option<String>,
    /// Keep printing records as they are written (the last 10 first, unless
    /// -n says otherwise); stop with Ctrl-C.
    #[arg(short = 'f', long)]
    pub(crate) follow: bool,
}

#[derive(Subcommand)]
pub(crate) enum AuditCmd {
    /// Check the hash chain; exits non-zero naming the first bad record.
    Verify,
}
