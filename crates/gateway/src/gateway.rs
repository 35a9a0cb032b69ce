//! The gateway's state, built once at start-up from a validated config;
//! its secrets are live (see [`crate::live`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use keyward_audit::AuditLog;
use keyward_config::{Config, Limits, Service};
use keyward_connectors::http::{Credential, HttpConnector};
use keyward_policy::RateLimiter;
use keyward_redact::{Generations, Scrubber, ScrubberBuilder};
use keyward_vault::{EnvSource, Resolver, SecretRef, SecretValue, Vault};

use crate::GatewayError;
use crate::approval::{Approvals, PassphraseCheck, SystemClock};
use crate::live::cache::RefCache;
use crate::live::{DEFAULT_CACHE_TTL, KEEP_GENERATIONS, Live, Refetch, Refresher, Secrets};
use crate::pipeline::{inject, inject_upstreams};
use crate::upstream::{CommandRuntime, ListChanged, PinStore, ServerRuntime};

/// A configured HTTP service. Its credential is part of the live secrets
/// ([`Gateway::secrets`]).
#[derive(Debug)]
pub struct ServiceRuntime {
    pub service: Service,
}

/// Everything a call needs. Cheap to clone: the state is shared.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    services: BTreeMap<String, ServiceRuntime>,
    servers: BTreeMap<String, Arc<ServerRuntime>>,
    commands: BTreeMap<String, CommandRuntime>,
    secrets: Live<Secrets>,
    /// The current scrubber, for the upstreams' stderr (their log lines
    /// are cleaned of every value keyward knows, not only their own).
    stderr_scrubber: Arc<Live<Scrubber>>,
    refresher: Refresher,
    pins: PinStore,
    list_changed: ListChanged,
    inherit: Vec<(String, String)>,
    limits: Limits,
    /// `[workflows.*]`, each one tool for the agent.
    workflows: BTreeMap<String, keyward_config::Workflow>,
    http: HttpConnector,
    audit: AuditLog,
    limiter: RateLimiter,
    rate_checks: AtomicU64,
    /// Set when keyward.toml has changes nobody approved yet (the gateway
    /// serves the last approved config): for the dashboard's banner.
    config_notice: std::sync::OnceLock<String>,
    /// The questions, grants and lock shared by every session.
    approvals: Approvals,
    /// Checks the human's passphrase (answers from outside the client).
    passphrase: Option<PassphraseCheck>,
    /// `[approvals] notify`.
    notify: bool,
    /// `[approvals] elicitation`.
    elicitation: bool,
    /// Where the dashboard is, when `keyward serve --http` runs one.
    dashboard_url: std::sync::OnceLock<String>,
    /// Program pins and the private-HOME root; no command runs without.
    exec: std::sync::OnceLock<crate::pipeline::command_sandbox::ExecSetup>,
}

/// How often the limiter drops budgets that have refilled completely
/// (otherwise its key map only grows).
const PRUNE_EVERY: u64 = 4096;

impl Gateway {
    /// Resolves every service's credential (failing on the first one that
    /// cannot be resolved, naming it) and builds the scrubber from all
    /// values keyward knows: the whole vault plus every resolved reference.
    /// Remote and `file://` values are refreshed after the cache TTL
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
        config: Config,
        vault: Option<&Vault>,
        follow: Option<Vault>,
        env: &dyn EnvSource,
        audit: AuditLog,
        pins: PinStore,
    ) -> Result<Gateway, GatewayError> {
        let now = Instant::now();
        let approvals = Approvals::new(config.approvals.timeout, Arc::new(SystemClock));
        let notify = config.approvals.notify;
        let elicitation = config.approvals.elicitation;
        let passphrase = follow.as_ref().map(PassphraseCheck::new);
        // `[backends.vault] cache_ttl` is the one TTL the config has; it
        // applies to every value that can change (vault://, keychain://,
        // file://).
        let ttl = config
            .backends
            .vault
            .as_ref()
            .map_or(DEFAULT_CACHE_TTL, |v| v.cache_ttl);
        let mut cache = RefCache::default();
        let resolver = Resolver::new(vault, env).with_backends(config.backends.vault.as_ref());
        // Kept for refreshes (it holds the remote stores' clients).
        let openbao = resolver.openbao().cloned();
        let mut fetch = |where_: &str, r: &SecretRef| -> Result<SecretValue, GatewayError> {
            if let Some(v) = cache.get(r) {
                return Ok(v.clone());
            }
            let v = resolver.resolve(r).map_err(|source| GatewayError::Secret {
                service: where_.to_string(),
                source: Box::new(source),
            })?;
            cache.insert(r.clone(), v.clone(), now);
            Ok(v)
        };
        let services: BTreeMap<String, ServiceRuntime> = config
            .services
            .into_iter()
            .map(|(name, service)| (name, ServiceRuntime { service }))
            .collect();
        let credentials = inject::credentials(&services, &mut fetch)?;
        let list_changed = ListChanged::default();
        let stderr_scrubber = Arc::new(Live::new(ScrubberBuilder::new().build()));
        let upstreams = inject_upstreams::resolve_upstreams(
            config.servers,
            config.commands,
            &mut fetch,
            env,
            &list_changed,
            &stderr_scrubber,
        )?;
        let backend = openbao
            .as_ref()
            .map(|o| o.credential_values())
            .unwrap_or_default();
        let set = inject::scrub_set(vault, cache.values(), &credentials, &backend);
        let generations = Generations::new(set, KEEP_GENERATIONS);
        let secrets = Secrets {
            generation: 0,
            credentials,
            command_env: upstreams.command_env,
            scrubber: generations.scrubber(),
        };
        stderr_scrubber.store(secrets.scrubber.clone());
        Ok(Gateway {
            inner: Arc::new(Inner {
                services,
                servers: upstreams.servers,
                commands: upstreams.commands,
                secrets: Live::new(secrets),
                stderr_scrubber,
                refresher: Refresher::new(follow, openbao, cache, generations, ttl),
                pins,
                list_changed,
                inherit: inject_upstreams::inherited(env),
                limits: config.limits,
                workflows: config.workflows,
                http: HttpConnector::new()?,
                audit,
                limiter: RateLimiter::new(),
                rate_checks: AtomicU64::new(0),
                config_notice: std::sync::OnceLock::new(),
                approvals,
                passphrase,
                notify,
                elicitation,
                dashboard_url: std::sync::OnceLock::new(),
                exec: std::sync::OnceLock::new(),
            }),
        })
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
        &self.inner.approvals
    }

    /// Checks the vault passphrase; `None` for a gateway built without
    /// following a vault (nothing can be approved from outside then).
    pub fn passphrase(&self) -> Option<&PassphraseCheck> {
        self.inner.passphrase.as_ref()
    }

    /// Whether a confirm may ask the calling client (MCP elicitation).
    pub fn elicitation(&self) -> bool {
        self.inner.elicitation
    }

    /// Whether questions are also sent as desktop notifications.
    pub fn notify(&self) -> bool {
        self.inner.notify
    }

    /// Sets, once before serving, the program pins of the approved config
    /// and where private HOMEs are made. Until then no command runs.
    pub fn set_exec(&self, setup: crate::pipeline::command_sandbox::ExecSetup) {
        let _ = self.inner.exec.set(setup);
    }

    pub fn exec(&self) -> Option<&crate::pipeline::command_sandbox::ExecSetup> {
        self.inner.exec.get()
    }

    /// Records where the dashboard listens (set once by the HTTP service).
    pub fn set_dashboard_url(&self, url: String) {
        let _ = self.inner.dashboard_url.set(url);
    }

    pub fn dashboard_url(&self) -> Option<String> {
        self.inner.dashboard_url.get().cloned()
    }

    pub fn services(&self) -> &BTreeMap<String, ServiceRuntime> {
        &self.inner.services
    }

    pub fn servers(&self) -> &BTreeMap<String, Arc<ServerRuntime>> {
        &self.inner.servers
    }

    pub fn commands(&self) -> &BTreeMap<String, CommandRuntime> {
        &self.inner.commands
    }

    pub fn pins(&self) -> &PinStore {
        &self.inner.pins
    }

    pub fn list_changed(&self) -> &ListChanged {
        &self.inner.list_changed
    }

    /// The allow-listed part of keyward's environment children get.
    pub fn inherit(&self) -> &[(String, String)] {
        &self.inner.inherit
    }

    pub fn workflows(&self) -> &BTreeMap<String, keyward_config::Workflow> {
        &self.inner.workflows
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The current generation of credentials, command environments and
    /// scrubber. Load it once per use and keep the `Arc`.
    pub fn secrets(&self) -> Arc<Secrets> {
        self.inner.secrets.load()
    }

    /// The current scrubber (it also knows the values of the last few
    /// generations).
    pub fn scrubber(&self) -> Scrubber {
        self.inner.secrets.load().scrubber.clone()
    }

    pub fn http(&self) -> &HttpConnector {
        &self.inner.http
    }

    pub fn audit(&self) -> &AuditLog {
        &self.inner.audit
    }

    /// The rate limiter, pruned of idle keys every [`PRUNE_EVERY`] uses.
    pub fn limiter(&self) -> &RateLimiter {
        let n = self.inner.rate_checks.fetch_add(1, Ordering::Relaxed);
        if n % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.inner.limiter.retain_recent();
        }
        &self.inner.limiter
    }

    /// How long remote values are cached.
    pub fn cache_ttl(&self) -> Duration {
        self.inner.refresher.ttl()
    }

    /// Checks for changed values now (blocking: call it from a blocking
    /// thread, as [`crate::live::run`] does).
    pub fn refresh_now(&self) {
        self.inner.refresher.tick(self);
    }

    /// After a 401: fetches `service`'s credential again, bypassing the
    /// cache, waiting at most `timeout`. `Changed` means the current
    /// credential differs from `used` (the one the failed call carried),
    /// whether this refetch or an earlier refresh changed it.
    pub async fn refetch_credential(
        &self,
        service: &str,
        used: &Credential,
        timeout: Duration,
    ) -> Refetch {
        let Some(reference) = self
            .services()
            .get(service)
            .and_then(|rt| rt.service.auth.secret().cloned())
        else {
            return Refetch::Unchanged;
        };
        let gw = self.clone();
        let task = tokio::task::spawn_blocking(move || gw.inner.refresher.force(&gw, &[reference]));
        let fetched = match tokio::time::timeout(timeout, task).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Refetch::Failed,
            Err(_) => {
                tracing::warn!(
                    service,
                    "refetching the credential took longer than the call may wait"
                );
                Refetch::Failed
            }
        };
        let now = self.secrets();
        match now.credential(service) {
            Some(c) if c != used => Refetch::Changed,
            // Nothing new to retry with.
            _ if fetched == Refetch::Changed => Refetch::Unchanged,
            _ => fetched,
        }
    }

    pub(crate) fn install_secrets(&self, secrets: Secrets) {
        self.inner.stderr_scrubber.store(secrets.scrubber.clone());
        let old = self.inner.secrets.store(secrets);
        drop(old);
    }

    pub(crate) fn downgrade(&self) -> WeakGateway {
        WeakGateway(Arc::downgrade(&self.inner))
    }
}

/// A handle that does not keep the gateway alive (for its background task).
pub(crate) struct WeakGateway(Weak<Inner>);

impl WeakGateway {
    pub(crate) fn upgrade(&self) -> Option<Gateway> {
        self.0.upgrade().map(|inner| Gateway { inner })
    }
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("services", &self.inner.services.keys().collect::<Vec<_>>())
            .field("servers", &self.inner.servers.keys().collect::<Vec<_>>())
            .field("commands", &self.inner.commands.keys().collect::<Vec<_>>())
            .field("secrets", &self.inner.secrets)
            .finish_non_exhaustive()
    }
}
