//! What the gateway hands the MCP connector: how to reach one upstream, with
//! its secrets already resolved, and where to report what it does.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use keyward_redact::{Scrubber, ScrubberBuilder};
use keyward_vault::SecretValue;

/// A server run as a child process speaking MCP over its stdin/stdout.
#[derive(Clone)]
pub struct StdioSpec {
    /// Resolved to an absolute path by the caller.
    pub command: PathBuf,
    /// Literals, and values resolved from secret references
    /// ([`Arg::Secret`]).
    pub args: Vec<Arg>,
    /// Declared environment, references already resolved; values may be
    /// secrets.
    pub env: Vec<(String, SecretValue)>,
    pub cwd: Option<PathBuf>,
    /// The allow-listed part of keyward's environment (PATH, HOME,
    /// LANG/LC_*, TMPDIR), chosen by the caller.
    pub inherit: Vec<(String, String)>,
}

/// One argument of a stdio server's command line.
#[derive(Clone, PartialEq, Eq)]
pub enum Arg {
    /// Written in the config as it is; shown in messages.
    Literal(String),
    /// Resolved from a secret reference. It is in the child's argv while
    /// the child runs (local processes can read it there, e.g. with `ps`);
    /// keyward never shows it: `Debug` prints `<secret>`, and the
    /// upstream's own scrubber knows it.
    Secret(SecretValue),
}

impl Arg {
    pub fn as_os_str(&self) -> &std::ffi::OsStr {
        use std::os::unix::ffi::OsStrExt;
        match self {
            Arg::Literal(s) => std::ffi::OsStr::new(s),
            Arg::Secret(v) => std::ffi::OsStr::from_bytes(v.expose()),
        }
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Literal(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Literal(s)
    }
}

impl fmt::Debug for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Literal(s) => fmt::Debug::fmt(s, f),
            Arg::Secret(_) => f.write_str("<secret>"),
        }
    }
}

/// A remote server reached over Streamable HTTP.
#[derive(Clone)]
pub struct HttpSpec {
    pub url: url::Url,
    /// Sent with every request; values may be secrets and are marked
    /// sensitive.
    pub headers: Vec<(String, SecretValue)>,
}

#[derive(Clone)]
pub enum UpstreamSpec {
    Stdio(StdioSpec),
    Http(HttpSpec),
}

impl UpstreamSpec {
    /// What to call the upstream in messages: the command or the URL
    /// without its query (never an env or header value).
    pub fn display_target(&self) -> String {
        match self {
            UpstreamSpec::Stdio(s) => s.command.display().to_string(),
            UpstreamSpec::Http(h) => {
                let mut u = h.url.clone();
                u.set_query(None);
                let _ = u.set_password(None);
                u.to_string()
            }
        }
    }

    /// A scrubber for the values injected into this upstream, so that its
    /// stderr and error messages can be cleaned before they are stored in
    /// an error or handed on (defence in depth: the gateway scrubs again).
    pub(crate) fn own_scrubber(&self) -> Scrubber {
        let mut b = ScrubberBuilder::new();
        let values = match self {
            UpstreamSpec::Stdio(s) => {
                for a in &s.args {
                    if let Arg::Secret(v) = a {
                        b.add_secret(v.expose());
                    }
                }
                &s.env
            }
            UpstreamSpec::Http(h) => &h.headers,
        };
        for (_, v) in values {
            b.add_secret(v.expose());
        }
        b.build()
    }
}

/// Names only: values may be secrets.
impl fmt::Debug for UpstreamSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpstreamSpec::Stdio(s) => f
                .debug_struct("Stdio")
                .field("command", &s.command)
                .field("args", &s.args)
                .field("env", &names(&s.env))
                .field("cwd", &s.cwd)
                .field("inherit", &names(&s.inherit))
                .finish(),
            UpstreamSpec::Http(h) => f
                .debug_struct("Http")
                .field("url", &self.display_target())
                .field("headers", &names(&h.headers))
                .finish(),
        }
    }
}

impl fmt::Debug for StdioSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        UpstreamSpec::Stdio(self.clone()).fmt(f)
    }
}

impl fmt::Debug for HttpSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        UpstreamSpec::Http(self.clone()).fmt(f)
    }
}

fn names<V>(pairs: &[(String, V)]) -> Vec<&str> {
    pairs.iter().map(|(k, _)| k.as_str()).collect()
}

/// Callbacks through which an upstream reports to the gateway. They run on
/// connector tasks: keep them short and non-blocking.
#[derive(Clone)]
pub struct UpstreamEvents {
    /// One line of the child's stderr (lossy UTF-8, without the newline,
    /// at most 4 KiB; longer lines arrive in pieces), already scrubbed of
    /// this upstream's own injected values. The gateway scrubs it again and
    /// logs it.
    pub on_stderr: Arc<dyn Fn(&str) + Send + Sync>,
    /// `notifications/tools/list_changed` arrived: re-list the tools.
    pub on_tools_changed: Arc<dyn Fn() + Send + Sync>,
    /// The upstream stopped for a reason other than `shutdown()` (or
    /// dropping the last handle). Called at most once per started upstream.
    pub on_exit: Arc<dyn Fn() + Send + Sync>,
}

impl UpstreamEvents {
    /// Callbacks that do nothing.
    pub fn none() -> UpstreamEvents {
        UpstreamEvents {
            on_stderr: Arc::new(|_| {}),
            on_tools_changed: Arc::new(|| {}),
            on_exit: Arc::new(|| {}),
        }
    }
}

impl fmt::Debug for UpstreamEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UpstreamEvents { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// issue 12, item 9: a secret argument is the child's, not the log's.
    #[test]
    fn a_secret_argument_is_never_shown_and_is_scrubbed() {
        let canary = "kw_canary_arg_5bq8Vd2Lr9Tx";
        let spec = UpstreamSpec::Stdio(StdioSpec {
            command: "/usr/bin/server".into(),
            args: vec![
                "--verbose-logging".into(),
                Arg::Secret(SecretValue::from_str(canary)),
            ],
            env: vec![],
            cwd: None,
            inherit: vec![],
        });
        let shown = format!("{spec:?}");
        assert!(!shown.contains(canary), "{shown}");
        assert!(
            shown.contains("--verbose-logging") && shown.contains("<secret>"),
            "{shown}"
        );
        let (text, _) = spec
            .own_scrubber()
            .scrub_str(&format!("--verbose-logging {canary}"));
        assert!(
            !text.contains(canary) && text.contains("--verbose-logging"),
            "{text}"
        );
        let UpstreamSpec::Stdio(s) = &spec else {
            unreachable!()
        };
        assert_eq!(s.args[1].as_os_str(), std::ffi::OsStr::new(canary));
    }
}
