//! What `keyward import` will do to one client config: which values move
//! into the vault under which names, which servers move behind keyward (or
//! start through `keyward run`), and the file's new text. Pure: no IO; the
//! CLI decides names against the real vault and keyward.toml through
//! [`Names`], then carries the plan out.

use std::path::Path;

use keyward_vault::{SecretValue, has_secret_scheme};
use zeroize::Zeroizing;

use crate::clients::{self, ServerEntry};
use crate::detect;
use crate::locate::{Client, Format};
use crate::rewrite::{self, Edit, NewEntry, RewriteError};

mod args;

pub use args::ARGS_TRADE_OFF;
use args::{arg_secrets, args_note};

/// `wrap`: the server runs behind keyward (`[servers.NAME]`), the client
/// keeps one `keyward` entry. `run`: the server stays in the client config,
/// started as `keyward run -- …` with references in its environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Wrap,
    Run,
}

/// The first tool policy of a wrapped server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolPolicy {
    /// Every tool needs a human's yes (`"*" = "confirm"`).
    Confirm,
    /// Every tool is allowed (`"*" = "allow"`).
    AllowAll,
    /// Tools whose names read as reads are allowed; no other rule, so every
    /// other tool is denied.
    ReadOnly,
}

/// Verbs that name reading tools, for [`ToolPolicy::ReadOnly`].
pub const READ_VERBS: &[&str] = &[
    "get", "list", "search", "read", "fetch", "describe", "view", "show", "find",
];

impl ToolPolicy {
    /// `(pattern, action)` rows for `[servers.NAME.tools]`.
    pub fn rules(self) -> Vec<(String, &'static str)> {
        match self {
            ToolPolicy::Confirm => vec![("*".into(), "confirm")],
            ToolPolicy::AllowAll => vec![("*".into(), "allow")],
            ToolPolicy::ReadOnly => READ_VERBS
                .iter()
                .flat_map(|v| [format!("{v}_*"), format!("{v}-*")])
                .map(|p| (p, "allow"))
                .collect(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    pub mode: Mode,
    pub policy: ToolPolicy,
    /// How the client should start keyward (an absolute path where known).
    pub keyward_command: String,
    /// Variables the client must pass to keyward (`KEYWARD_HOME`).
    pub keyward_env: Vec<(String, String)>,
    /// `(default name, chosen name)`: the user's names for vault entries
    /// (`--name github.GITHUB_PERSONAL_ACCESS_TOKEN=gh_pat`).
    pub renames: Vec<(String, String)>,
    /// The client this file belongs to, by the name keyward.toml's
    /// `clients` lists and `keyward serve --client` use: its wrapped
    /// servers are kept to it, and its `keyward` entry starts `keyward
    /// serve --client NAME` (a `--client` the file's `keyward` entry has
    /// already wins). `None`: shared, every client sees them.
    pub client: Option<String>,
    /// `--args`: a secret in a wrapped server's arguments moves too (the
    /// argument becomes a reference that keyward resolves when it starts
    /// the server). Without it, such a server is left as it is.
    pub args: bool,
}

impl Options {
    fn vault_name(&self, default: String) -> String {
        self.renames
            .iter()
            .find(|(from, _)| *from == default)
            .map(|(_, to)| to.clone())
            .unwrap_or(default)
    }
}

/// A value on its way into the vault. Debug shows the name only.
pub struct MovedSecret {
    pub name: String,
    pub value: SecretValue,
    pub rule: &'static str,
    /// Where it was, e.g. `mcpServers.github.env.GITHUB_PERSONAL_ACCESS_TOKEN`.
    pub from: String,
}

impl std::fmt::Debug for MovedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MovedSecret({} from {})", self.name, self.from)
    }
}

/// A server to add to keyward.toml. Values in `env`/`headers` are
/// references (`keyward://NAME`) or the client's literals, which the
/// detector did not take for secrets but may still be private: `Debug`
/// shows names only.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedServer {
    pub name: String,
    pub command: Option<String>,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub url: Option<String>,
    pub headers: Vec<(String, String)>,
    pub tools: Vec<(String, &'static str)>,
    /// The client entry it came from.
    pub from: String,
    /// `clients = [...]` of a new server: the client it is kept to; empty:
    /// every client sees it.
    pub clients: Vec<String>,
}

impl std::fmt::Debug for WrappedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrappedServer")
            .field("name", &self.name)
            .field("from", &self.from)
            .field("env", &self.env.iter().map(|(k, _)| k).collect::<Vec<_>>())
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// A server that holds a secret import cannot move, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub location: String,
    pub reason: String,
}

/// What the name chooser says of a candidate name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameState {
    /// Nobody uses it.
    Free,
    /// It holds exactly this already: reuse it, write nothing.
    Same,
    /// Taken by something else.
    Taken,
}

/// Answers for names in the vault and keyward.toml (and in what this
/// import has planned so far).
pub trait Names {
    fn secret(&mut self, name: &str, value: &SecretValue) -> NameState;
    fn server(&mut self, server: &WrappedServer) -> NameState;
}

/// The plan for one file. `Debug` leaves the new text out: it can still
/// hold secrets import could not move (in arguments).
#[derive(Default)]
pub struct FilePlan {
    pub edits: Vec<Edit>,
    pub new_text: String,
    /// New vault entries (names already [`NameState::Same`] are left out).
    pub secrets: Vec<MovedSecret>,
    /// Every secret value this plan takes out of the file, for masking.
    pub masked: Vec<SecretValue>,
    /// New keyward.toml servers (reused ones are left out).
    pub servers: Vec<WrappedServer>,
    /// The keyward.toml servers this file's entries now go through, new
    /// and reused, in order (wrap mode).
    pub wrapped: Vec<String>,
    /// The file starts `keyward serve` after the import: it had a
    /// `keyward` entry already, or gets one. Such a client sees the servers
    /// of keyward.toml kept to it and every server without a `clients`
    /// list (all of them, when nothing is kept to a client).
    pub keyward_entry: bool,
    /// The client this file's wrapped servers are kept to (see
    /// [`Options::client`]); `None`: every client sees them. A reused
    /// server (in [`FilePlan::wrapped`], not in [`FilePlan::servers`])
    /// must let this client see it too.
    pub client: Option<String>,
    pub skipped: Vec<Skipped>,
    pub notes: Vec<String>,
}

impl std::fmt::Debug for FilePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilePlan")
            .field("edits", &self.edits)
            .field("secrets", &self.secrets)
            .field("servers", &self.servers)
            .field("wrapped", &self.wrapped)
            .field("keyward_entry", &self.keyward_entry)
            .field("client", &self.client)
            .field("skipped", &self.skipped)
            .field("notes", &self.notes)
            .finish_non_exhaustive()
    }
}

impl FilePlan {
    pub fn changes_file(&self) -> bool {
        !self.edits.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    #[error(transparent)]
    Read(#[from] clients::ClientError),
    #[error(transparent)]
    Rewrite(#[from] RewriteError),
}

/// The name keyward gives the server `name` of a client config:
/// lowercase letters, digits, `_` and `-`.
pub fn server_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            c
        } else {
            '-'
        };
        let doubled = matches!((out.chars().last(), c), (Some('-'), '-') | (Some('_'), '_'));
        if !doubled {
            out.push(c);
        }
    }
    let out = out.trim_matches(|c| c == '-' || c == '_');
    let out: String = out.chars().take(48).collect();
    if out.is_empty() { "server".into() } else { out }
}

/// `SERVER.VAR` with anything a secret name cannot hold turned into `_`.
pub fn secret_name(server: &str, var: &str) -> String {
    let var: String = var
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{server}.{var}")
}

/// The first of `base`, `base-2`, `base-3`… that `state` calls free or the
/// same; `None` after many tries.
fn choose(base: &str, mut state: impl FnMut(&str) -> NameState) -> Option<(String, NameState)> {
    (1..=99).find_map(|i| {
        let candidate = if i == 1 {
            base.to_string()
        } else {
            format!("{base}-{i}")
        };
        match state(&candidate) {
            NameState::Taken => None,
            s => Some((candidate, s)),
        }
    })
}

/// A header value's secret part: the token after `Bearer `/`Basic `/
/// `Token ` (the header keeps its scheme word), or the whole value.
fn split_scheme(value: &str) -> (&str, &str) {
    if let Some((scheme, rest)) = value.split_once(' ')
        && ["bearer", "basic", "token"]
            .iter()
            .any(|s| scheme.eq_ignore_ascii_case(s))
        && !rest.trim().is_empty()
    {
        return (&value[..scheme.len() + 1], rest.trim());
    }
    ("", value)
}

/// Whether the entry is already started through keyward.
fn is_keyward(entry: &ServerEntry) -> bool {
    entry
        .command
        .as_deref()
        .is_some_and(|c| Path::new(c).file_stem().is_some_and(|s| s == "keyward"))
}

/// Plans the import of one file.
pub fn plan_file(
    text: &str,
    format: Format,
    client: Option<Client>,
    opts: &Options,
    names: &mut dyn Names,
) -> Result<FilePlan, PlanError> {
    let mut plan = FilePlan::default();
    let entries = clients::read_entries(text, format, client)?;
    plan.client = file_client(&entries, opts);
    let mut keyward_added: Vec<clients::Container> = Vec::new();
    for entry in &entries {
        if is_keyward(entry) {
            // `keyward run -- …` starts one server, not the gateway.
            plan.keyward_entry |= entry.args.first().is_some_and(|a| a == "serve");
            continue;
        }
        let Some(found) = secrets_of(entry, opts, &mut plan) else {
            continue;
        };
        let base = server_name(&entry.name);
        let remote = entry.url.is_some() && entry.command.is_none();
        let mode = if remote { Mode::Wrap } else { opts.mode };
        if remote && opts.mode == Mode::Run {
            plan.notes.push(format!(
                "{}: a remote server cannot start through `keyward run`; it is wrapped instead",
                entry.location()
            ));
        }
        // Names for the values: SERVER.VAR, made unique against the vault.
        let mut refs: Vec<(Part, String, String)> = Vec::new();
        for f in found {
            let value = SecretValue::from_str(&f.secret);
            let wanted = opts.vault_name(secret_name(&base, &f.key));
            let Some((name, state)) = choose(&wanted, |n| names.secret(n, &value)) else {
                plan.skipped.push(Skipped {
                    location: entry.location(),
                    reason: "no free vault name for its secrets".into(),
                });
                continue;
            };
            let reference = format!("{}keyward://{name}", f.prefix);
            if state == NameState::Free {
                plan.secrets.push(MovedSecret {
                    name,
                    value,
                    rule: f.rule,
                    from: f.from,
                });
            }
            plan.masked.push(SecretValue::from_str(&f.secret));
            refs.push((f.part, f.key, reference));
        }
        let reference_of = |part: Part, key: &str| {
            refs.iter()
                .find(|(p, k, _)| *p == part && (k == key || matches!(part, Part::Arg(_))))
                .map(|(_, _, r)| r.clone())
        };
        match mode {
            Mode::Wrap => {
                let mut server = WrappedServer {
                    name: base.clone(),
                    command: entry.command.clone(),
                    args: entry
                        .args
                        .iter()
                        .enumerate()
                        .map(|(i, a)| reference_of(Part::Arg(i), "").unwrap_or(a.clone()))
                        .collect(),
                    env: entry
                        .env
                        .iter()
                        .map(|(k, v)| (k.clone(), reference_of(Part::Env, k).unwrap_or(v.clone())))
                        .collect(),
                    url: entry.url.clone(),
                    headers: entry
                        .headers
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                reference_of(Part::Header, k).unwrap_or(v.clone()),
                            )
                        })
                        .collect(),
                    tools: opts.policy.rules(),
                    from: entry.location(),
                    clients: plan.client.iter().cloned().collect(),
                };
                let Some((name, state)) = choose(&base, |n| {
                    let candidate = WrappedServer {
                        name: n.to_string(),
                        ..server.clone()
                    };
                    names.server(&candidate)
                }) else {
                    plan.skipped.push(Skipped {
                        location: entry.location(),
                        reason: "no free server name in keyward.toml".into(),
                    });
                    continue;
                };
                server.name = name;
                if let Some(note) = args_note(&entry.location(), &server, &refs) {
                    plan.notes.push(note);
                }
                if !plan.wrapped.contains(&server.name) {
                    plan.wrapped.push(server.name.clone());
                }
                plan.keyward_entry = true;
                if state == NameState::Free {
                    plan.servers.push(server);
                }
                plan.edits.push(Edit::Remove {
                    container: entry.container.clone(),
                    name: entry.name.clone(),
                });
                if !keyward_added.contains(&entry.container) {
                    keyward_added.push(entry.container.clone());
                    plan.edits.push(Edit::Add {
                        container: entry.container.clone(),
                        name: "keyward".into(),
                        entry: NewEntry {
                            command: opts.keyward_command.clone(),
                            args: serve_args(plan.client.as_deref()),
                            env: opts.keyward_env.clone(),
                            stdio_type: client == Some(Client::VsCode),
                        },
                    });
                }
            }
            Mode::Run => {
                let Some(command) = entry.command.clone() else {
                    continue;
                };
                let mut args = vec!["run".to_string(), "--".to_string(), command];
                args.extend(entry.args.iter().cloned());
                let add_env = opts
                    .keyward_env
                    .iter()
                    .filter(|(k, _)| !entry.env.iter().any(|(e, _)| e == k))
                    .cloned()
                    .collect();
                plan.edits.push(Edit::Run {
                    container: entry.container.clone(),
                    name: entry.name.clone(),
                    command: opts.keyward_command.clone(),
                    args,
                    nested_command: entry.nested_command,
                    env: refs
                        .iter()
                        .filter(|(p, _, _)| *p == Part::Env)
                        .map(|(_, k, r)| (k.clone(), r.clone()))
                        .collect(),
                    add_env,
                });
            }
        }
    }
    plan.edits
        .extend(keyward_entries_for_client(&entries, &plan));
    plan.new_text = if plan.edits.is_empty() {
        text.to_string()
    } else {
        rewrite::apply(text, format, &plan.edits)?
    };
    Ok(plan)
}

/// `keyward serve`, as the `keyward` entry of a file kept to `client`
/// starts it.
pub fn serve_args(client: Option<&str>) -> Vec<String> {
    let mut args = vec!["serve".to_string()];
    if let Some(c) = client {
        args.extend(["--client".to_string(), c.to_string()]);
    }
    args
}

/// The `--client NAME` of a `keyward serve` entry's arguments.
pub fn serve_client(args: &[String]) -> Option<&str> {
    if args.first().map(String::as_str) != Some("serve") {
        return None;
    }
    let mut rest = args.iter().skip(1);
    while let Some(a) = rest.next() {
        if let Some(name) = a.strip_prefix("--client=") {
            return Some(name);
        }
        if a == "--client" {
            return rest.next().map(String::as_str);
        }
    }
    None
}

/// The client a file's servers are kept to: none when shared; else the
/// `--client` its `keyward serve` entry already has (that session must
/// see them), else the one the import was given.
fn file_client(entries: &[ServerEntry], opts: &Options) -> Option<String> {
    opts.client.as_ref()?;
    entry_client(entries).or_else(|| opts.client.clone())
}

/// The `--client` of the file's `keyward serve` entry.
fn entry_client(entries: &[ServerEntry]) -> Option<String> {
    entries
        .iter()
        .filter(|e| is_keyward(e))
        .find_map(|e| serve_client(&e.args))
        .map(String::from)
}

/// A `keyward serve` entry the file had already, without `--client`,
/// would not see the servers now kept to the file's client: it gets
/// `--client NAME` (it still sees every server without a `clients` list,
/// so it loses nothing). Only when this import wraps servers of the file.
fn keyward_entries_for_client(entries: &[ServerEntry], plan: &FilePlan) -> Vec<Edit> {
    let Some(client) = plan.client.as_deref() else {
        return Vec::new();
    };
    if plan.wrapped.is_empty() {
        return Vec::new();
    }
    entries
        .iter()
        .filter(|e| is_keyward(e) && e.args.first().is_some_and(|a| a == "serve"))
        .filter(|e| serve_client(&e.args).is_none())
        .map(|e| {
            let mut args = serve_args(Some(client));
            args.extend(e.args.iter().skip(1).cloned());
            Edit::Run {
                container: e.container.clone(),
                name: e.name.clone(),
                command: e.command.clone().unwrap_or_else(|| "keyward".into()),
                args,
                nested_command: e.nested_command,
                env: Vec::new(),
                add_env: Vec::new(),
            }
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Env,
    Header,
    /// `args[i]`, moved whole (`--args`).
    Arg(usize),
}

/// A secret found in an entry.
struct Found {
    part: Part,
    key: String,
    /// What goes before the reference in the new value (`Bearer `).
    prefix: String,
    secret: Zeroizing<String>,
    rule: &'static str,
    from: String,
}

/// The entry's movable secrets; `None` when it has none, or has one that
/// cannot move (then `plan.skipped` says why).
fn secrets_of(entry: &ServerEntry, opts: &Options, plan: &mut FilePlan) -> Option<Vec<Found>> {
    let at = entry.location();
    let mut found = arg_secrets(entry, opts, plan)?;
    if let Some(url) = &entry.url
        && let Some(d) = detect::detect(Some("url"), url)
    {
        plan.skipped.push(Skipped {
            location: at,
            reason: format!(
                "its url holds a secret ({}); move it to a header, then import again",
                d.title
            ),
        });
        return None;
    }
    for (k, v) in &entry.env {
        if has_secret_scheme(v) {
            continue;
        }
        if let Some(d) = detect::detect(Some(k), v) {
            found.push(Found {
                part: Part::Env,
                key: k.clone(),
                prefix: String::new(),
                secret: Zeroizing::new(v.clone()),
                rule: d.rule,
                from: format!("{at}.env.{}", clients::dotted(&[k])),
            });
        }
    }
    for (k, v) in &entry.headers {
        let (prefix, secret) = split_scheme(v);
        if has_secret_scheme(secret) {
            continue;
        }
        if let Some(d) = detect::detect(Some(k), v) {
            found.push(Found {
                part: Part::Header,
                key: k.clone(),
                prefix: prefix.to_string(),
                secret: Zeroizing::new(secret.to_string()),
                rule: d.rule,
                from: format!("{at}.headers.{}", clients::dotted(&[k])),
            });
        }
    }
    (!found.is_empty()).then_some(found)
}
