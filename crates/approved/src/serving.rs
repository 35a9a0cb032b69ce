//! The config `keyward serve` runs: the approved copy, read before the
//! vault unlocks (its shape answers `initialize`), and trusted only once
//! [`Serving::confirm`] checked its seal.

use keyward_audit::{AuditLog, Decision, Event, Kind};
use keyward_config::{Config, ConfigError, Paths};
use keyward_vault::Vault;

use crate::diff;
use crate::error::ApprovedError;
use crate::programs::{PinsProblem, Programs};
use crate::store::{Approved, Store, short_hash};

/// What `keyward serve` shows when keyward.toml has unapproved changes
/// (stderr, the audit record, the gateway's config notice).
pub const PENDING_NOTICE: &str = "keyward.toml has changes that are not approved yet; serving the last approved config; review with `keyward config diff`, apply with `keyward config approve`";

/// The approved config, not trusted until [`Serving::confirm`].
pub struct Serving {
    config: Config,
    approved: Approved,
    pending: Option<Pending>,
}

/// How keyward.toml differs from what is served.
struct Pending {
    stats: diff::Stats,
    /// keyward.toml does not even validate (approving it would fail).
    invalid: Option<String>,
}

/// The approved config once its seal was checked.
#[derive(Debug)]
#[non_exhaustive]
pub struct Confirmed {
    pub config: Config,
    /// Set when the config has commands and no program pin can be
    /// trusted: every command is refused until `keyward config approve`.
    pub pins_problem: Option<PinsProblem>,
    /// Set when keyward.toml has changes that are not approved: the
    /// notice for the human and the agent (already audited). Agent text
    /// in it is not escaped.
    pub notice: Option<String>,
}

impl Serving {
    /// The approved config for `keyward serve`. Fails when nothing was ever
    /// approved here, or when the approved copy does not parse.
    pub fn load(paths: &Paths) -> Result<Serving, ApprovedError> {
        let file = paths.config_file();
        let store = Store::new(paths);
        let Some(approved) = store.read()? else {
            return Err(ApprovedError::NothingApproved {
                data_dir: paths.data_dir.clone(),
            });
        };
        let config = Config::parse(&approved.text, &store.text_path())?;
        let current = std::fs::read_to_string(&file).map_err(|source| ConfigError::Read {
            path: file.clone(),
            source,
        })?;
        let pending = (current != approved.text).then(|| Pending {
            stats: diff::unified(&approved.text, &current, "", "").1,
            invalid: Config::parse(&current, &file).err().map(|e| e.to_string()),
        });
        Ok(Serving {
            config,
            approved,
            pending,
        })
    }

    /// The approved config, not yet checked against its seal.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The program pins approved with the config, checked against the
    /// vault with the config itself; or why none can be trusted.
    pub fn program_pins(&self, vault: &Vault) -> Result<Programs, PinsProblem> {
        self.approved.check(vault)?;
        self.approved.programs(vault)
    }

    /// Once the vault is open, before any call: the approved copy must be
    /// the one a passphrase holder sealed, else keyward refuses to start.
    /// A pending change is audited and returned as a notice.
    pub fn confirm(self, vault: &Vault, audit: &AuditLog) -> Result<Confirmed, ApprovedError> {
        self.approved
            .check(vault)
            .map_err(ApprovedError::Untrusted)?;
        let pins_problem = if self.config.commands.is_empty() {
            None
        } else {
            self.approved.programs(vault).err()
        };
        let Some(pending) = self.pending else {
            return Ok(Confirmed {
                config: self.config,
                pins_problem,
                notice: None,
            });
        };
        let mut notice = format!("{PENDING_NOTICE} ({})", pending.stats);
        if let Some(e) = &pending.invalid {
            notice.push_str(&format!("; note: keyward.toml is not valid: {e}"));
        }
        audit.append(Event {
            agent: "keyward serve".into(),
            kind: Kind::Config,
            target: "keyward.toml".into(),
            decision: Decision::Pending,
            rule: Some(format!(
                "serving approved sha256:{}",
                short_hash(&self.approved.text)
            )),
            error: Some(format!("not approved: {}", pending.stats)),
            ..Event::default()
        })?;
        Ok(Confirmed {
            config: self.config,
            pins_problem,
            notice: Some(notice),
        })
    }
}
