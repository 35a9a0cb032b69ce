//! The gateway is the wiring: it builds the pipeline's [`Stages`] from a
//! validated config, keeps them for every session, and follows changes of
//! the secrets. No stage calls back into it.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use keyward_audit::AuditLog;
use keyward_config::Config;
use keyward_connectors::http::HttpConnector;
use keyward_redact::Scrubber;
use keyward_vault::{EnvSource, Vault};

use crate::GatewayError;
use crate::approvals::{Approvals, PassphraseCheck, SystemClock};
use crate::pipeline::Stages;
use crate::pipeline::approval::Desk;
use crate::pipeline::inject::{self, Inject, Secrets};
use crate::pipeline::kind::command_sandbox::ExecSetup;
use crate::pipeline::policy::Limiter;
use crate::pipeline::route::{ServiceRuntime, Tables};
use crate::pipeline::upstream::Connectors;
use crate::servers::{CommandRuntime, ListChanged, PinStore, ServerRuntime};

/// A running keyward: its stages, and what the transports around them
/// need. Cheap to clone: the state is shared.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    stages: Stages,
    /// Set when keyward.toml has changes nobody approved yet (the gateway
    /// serves the last approved config): for the dashboard's banner.
    config_notice: OnceLock<String>,
    /// Checks the human's passphrase (answers from outside the client).
    passphrase: Option<PassphraseCheck>,
}

impl Gateway {
    /// Resolves every secret reference (failing on the first one that
    /// cannot be resolved, naming it) and builds the stages. Remote and
    /// `file://` values are refreshed after the cache TTL
    /// (`[backends.vault] cache_ttl`, default 5 minutes); the vault's
    /// values stay as they are now (see [`Gateway::following`]).
    pub fn new(
        config: Config,
        vault: Option<&Vault>,
        env: &dyn EnvSource,
        audit: AuditLog,
        pins: PinStore,
    ) -> Result<Gateway, GatewayError> {
        Gateway::build(config, vault, None, env, audit, pins)
    }

    /// Like [`Gateway::new`], and keeps `vault` (with its key) to re-read
    /// it whenever its file changes: what `keyward serve` uses.
    pub fn following(
        config: Config,
        vault: Vault,
        env: &dyn EnvSource,
        audit: AuditLog,
        pins: PinStore,
    ) -> Result<Gateway, GatewayError> {
        // The copy the refresher owns; the resolution below reads `vault`.
        let own = Vault::open_with_key(vault.path(), vault.key())?;
        Gateway::build(config, Some(&vault), Some(own), env, audit, pins)
    }

    fn build(
        mut config: Config,
        vault: Option<&Vault>,
        follow: Option<Vault>,
        env: &dyn EnvSource,
        audit: AuditLog,
        pins: PinStore,
    ) -> Result<Gateway, GatewayError> {
        let passphrase = follow.as_ref().map(PassphraseCheck::new);
        let list_changed = ListChanged::default();
        let resolved = Inject::resolve(&mut config, vault, follow, env, &list_changed)?;
        let audit = Arc::new(audit);
        let tables = Tables {
            services: resolved.services,
            servers: resolved.servers,
            commands: resolved.commands,
            workflows: std::mem::take(&mut config.workflows),
            limits: config.limits,
            pins,
            list_changed,
        };
        let desk = Desk {
            approvals: Approvals::new(config.approvals.timeout, Arc::new(SystemClock)),
            audit: audit.clone(),
            elicitation: config.approvals.elicitation,
            notify: config.approvals.notify,
            dashboard_url: Arc::new(OnceLock::new()),
        };
        let stages = Stages {
            tables: Arc::new(tables),
            limiter: Limiter::default(),
            desk,
            inject: Arc::new(resolved.inject),
            connectors: Connectors {
                http: HttpConnector::new()?,
                exec: OnceLock::new(),
                inherit: inject::upstreams::inherited(env),
            },
            audit,
        };
        Ok(Gateway {
            inner: Arc::new(Inner {
                stages,
                config_notice: OnceLock::new(),
                passphrase,
            }),
        })
    }

    /// The pipeline's stages, for the transports.
    pub fn stages(&self) -> &Stages {
        &self.inner.stages
    }

    /// Follows changes of the secrets until the gateway is dropped by
    /// everyone else (see [`inject::follow`]).
    pub fn follow_secrets(&self) -> impl Future<Output = ()> + Send + 'static {
        let st = self.stages();
        inject::follow(Arc::downgrade(&st.inject), Arc::downgrade(&st.tables))
    }

    /// Records, once at start-up, that keyward.toml has unapproved changes
    /// (the text says what to do). Later calls are ignored.
    pub fn set_config_notice(&self, notice: String) {
        let _ = self.inner.config_notice.set(notice);
    }

    /// Why keyward.toml is not what is being served, if it is not.
    pub fn config_notice(&self) -> Option<&str> {
        self.inner.config_notice.get().map(String::as_str)
    }

    /// The approval queue, grants and lock of this keyward.
    pub fn approvals(&self) -> &Approvals {
        &self.inner.stages.desk.approvals
    }

    /// The approval stage's desk: answering, locking, unlocking.
    pub fn desk(&self) -> &Desk {
        &self.inner.stages.desk
    }

    /// Checks the vault passphrase; `None` for a gateway built without
    /// following a vault (nothing can be approved from outside then).
    pub fn passphrase(&self) -> Option<&PassphraseCheck> {
        self.inner.passphrase.as_ref()
    }

    /// Sets, once before serving, the program pins of the approved config
    /// and where private HOMEs are made. Until then no command runs.
    pub fn set_exec(&self, setup: ExecSetup) {
        let _ = self.inner.stages.connectors.exec.set(setup);
    }

    /// Records where the dashboard listens (set once by the HTTP service).
    pub fn set_dashboard_url(&self, url: String) {
        let _ = self.inner.stages.desk.dashboard_url.set(url);
    }

    pub fn dashboard_url(&self) -> Option<String> {
        self.inner.stages.desk.dashboard_url.get().cloned()
    }

    pub fn services(&self) -> &BTreeMap<String, ServiceRuntime> {
        &self.inner.stages.tables.services
    }

    pub fn servers(&self) -> &BTreeMap<String, Arc<ServerRuntime>> {
        &self.inner.stages.tables.servers
    }

    pub fn commands(&self) -> &BTreeMap<String, CommandRuntime> {
        &self.inner.stages.tables.commands
    }

    pub fn pins(&self) -> &PinStore {
        &self.inner.stages.tables.pins
    }

    pub fn list_changed(&self) -> &ListChanged {
        &self.inner.stages.tables.list_changed
    }

    pub fn audit(&self) -> &AuditLog {
        &self.inner.stages.audit
    }

    /// The current generation of credentials, command environments and
    /// scrubber.
    pub fn secrets(&self) -> Arc<Secrets> {
        self.inner.stages.inject.current()
    }

    /// The current scrubber.
    pub fn scrubber(&self) -> Scrubber {
        self.inner.stages.scrubber()
    }

    /// Checks for changed values now (blocking: call it from a blocking
    /// thread).
    pub fn refresh_now(&self) {
        let st = self.stages();
        st.inject.refresh_now(&st.tables);
    }
}

impl Gateway {
    /// A handle that does not keep the gateway alive (for background
    /// tasks that end with it).
    pub(crate) fn downgrade(&self) -> WeakGateway {
        WeakGateway(Arc::downgrade(&self.inner))
    }
}

/// A handle that does not keep the gateway alive.
pub(crate) struct WeakGateway(std::sync::Weak<Inner>);

impl WeakGateway {
    pub(crate) fn upgrade(&self) -> Option<Gateway> {
        self.0.upgrade().map(|inner| Gateway { inner })
    }
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.stages();
        f.debug_struct("Gateway")
            .field("services", &st.tables.services.keys().collect::<Vec<_>>())
            .field("servers", &st.tables.servers.keys().collect::<Vec<_>>())
            .field("commands", &st.tables.commands.keys().collect::<Vec<_>>())
            .field("secrets", &st.inject.current())
            .finish_non_exhaustive()
    }
}
