//! `[approvals]`: how keyward asks a human about a `confirm` rule.

use std::time::Duration;

use serde::Deserialize;

use crate::validate::Ctx;
use crate::{ConfigError, parse_duration};

/// How long a question waits, and whether a desktop notification is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalSettings {
    /// No answer within this time means deny (`timeout`, default 2 min).
    pub timeout: Duration,
    /// Send a desktop notification (`notify-send`) when a question is asked
    /// (`notify`, default true; nothing happens where it is not installed).
    pub notify: bool,
    /// Ask the calling MCP client through elicitation (`elicitation`,
    /// default true). Off, only the passphrase channels (dashboard, CLI)
    /// can answer.
    pub elicitation: bool,
}

/// The default wait for a human's answer.
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_secs(120);

/// The longest wait keyward.toml may ask for: a held call keeps the agent's
/// request open.
pub const MAX_APPROVAL_TIMEOUT: Duration = Duration::from_secs(3600);

impl Default for ApprovalSettings {
    fn default() -> Self {
        ApprovalSettings {
            timeout: DEFAULT_APPROVAL_TIMEOUT,
            notify: true,
            elicitation: true,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawApprovals {
    timeout: Option<String>,
    notify: Option<bool>,
    elicitation: Option<bool>,
}

pub(crate) fn validate_approvals(
    ctx: &Ctx<'_>,
    raw: Option<RawApprovals>,
) -> Result<ApprovalSettings, ConfigError> {
    let mut settings = ApprovalSettings::default();
    let Some(raw) = raw else {
        return Ok(settings);
    };
    if let Some(t) = raw.timeout {
        let d = parse_duration(&t).map_err(|m| ctx.invalid("approvals.timeout", m))?;
        if d > MAX_APPROVAL_TIMEOUT {
            return Err(ctx.invalid("approvals.timeout", "must be at most 1h"));
        }
        settings.timeout = d;
    }
    if let Some(n) = raw.notify {
        settings.notify = n;
    }
    if let Some(e) = raw.elicitation {
        settings.elicitation = e;
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use crate::Config;

    #[test]
    fn defaults_and_overrides() {
        let c = Config::parse("", Path::new("k.toml")).expect("empty config");
        assert_eq!(c.approvals.timeout, Duration::from_secs(120));
        assert!(c.approvals.notify);
        let c = Config::parse(
            "[approvals]\ntimeout = \"30s\"\nnotify = false\n",
            Path::new("k.toml"),
        )
        .expect("valid");
        assert_eq!(c.approvals.timeout, Duration::from_secs(30));
        assert!(!c.approvals.notify);
    }

    #[test]
    fn bad_values_are_named() {
        for (bad, named) in [
            ("timeout = \"soon\"", "approvals.timeout"),
            ("timeout = \"2h\"", "approvals.timeout"),
            ("wait = \"1m\"", "wait"),
        ] {
            let e = Config::parse(&format!("[approvals]\n{bad}\n"), Path::new("k.toml"))
                .expect_err(bad)
                .to_string();
            assert!(e.contains(named), "{bad}: {e}");
        }
    }
}
