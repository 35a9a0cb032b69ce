//! `[http]`: settings of `keyward serve --http` (the Streamable HTTP
//! service for many agents).

use serde::Deserialize;

use crate::ConfigError;
use crate::validate::Ctx;

/// Bounds on what the agents of `keyward serve --http` may hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSettings {
    /// How many MCP sessions (`initialize`s) one agent token may hold at
    /// once (`max_sessions_per_agent`, default
    /// [`DEFAULT_MAX_SESSIONS_PER_AGENT`]). One more closes that agent's
    /// least recently used idle session, as a `DELETE` would.
    pub max_sessions_per_agent: usize,
}

/// The default cap on one agent's sessions: far more than a few clients of
/// one agent need, and a bound on the memory one token can make keyward
/// keep (SECURITY.md item 12).
pub const DEFAULT_MAX_SESSIONS_PER_AGENT: usize = 32;

/// The largest cap keyward.toml may ask for.
pub const MAX_SESSIONS_PER_AGENT: usize = 10_000;

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            max_sessions_per_agent: DEFAULT_MAX_SESSIONS_PER_AGENT,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHttp {
    max_sessions_per_agent: Option<i64>,
}

pub(crate) fn validate_http(
    ctx: &Ctx<'_>,
    raw: Option<RawHttp>,
) -> Result<HttpSettings, ConfigError> {
    let mut settings = HttpSettings::default();
    let Some(raw) = raw else {
        return Ok(settings);
    };
    if let Some(n) = raw.max_sessions_per_agent {
        settings.max_sessions_per_agent = usize::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_SESSIONS_PER_AGENT).contains(n))
            .ok_or_else(|| {
                ctx.invalid(
                    "http.max_sessions_per_agent",
                    format!("must be between 1 and {MAX_SESSIONS_PER_AGENT}"),
                )
            })?;
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::DEFAULT_MAX_SESSIONS_PER_AGENT;
    use crate::Config;

    #[test]
    fn a_config_without_an_http_section_keeps_the_default_cap() {
        let c = Config::parse("", Path::new("k.toml")).expect("empty config");
        assert_eq!(
            c.http.max_sessions_per_agent,
            DEFAULT_MAX_SESSIONS_PER_AGENT
        );
        let c = Config::parse("[http]\nmax_sessions_per_agent = 3\n", Path::new("k.toml"))
            .expect("valid");
        assert_eq!(c.http.max_sessions_per_agent, 3);
    }

    #[test]
    fn bad_caps_and_unknown_keys_are_named() {
        for (bad, named) in [
            ("max_sessions_per_agent = 0", "http.max_sessions_per_agent"),
            ("max_sessions_per_agent = -1", "http.max_sessions_per_agent"),
            (
                "max_sessions_per_agent = 10001",
                "http.max_sessions_per_agent",
            ),
            ("max_sessions_per_agent = \"32\"", "max_sessions_per_agent"),
            ("sessions = 3", "sessions"),
        ] {
            let e = Config::parse(&format!("[http]\n{bad}\n"), Path::new("k.toml"))
                .expect_err(bad)
                .to_string();
            assert!(e.contains(named), "{bad}: {e}");
        }
    }
}
