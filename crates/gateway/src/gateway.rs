//! The gateway's state, built once at start-up from a validated config.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use keyward_audit::AuditLog;
use keyward_config::{Config, Limits, Service};
use keyward_connectors::http::{Credential, HttpConnector};
use keyward_policy::RateLimiter;
use keyward_redact::Scrubber;
use keyward_vault::{EnvSource, Resolver, Vault};

use crate::GatewayError;
use crate::pipeline::{inject, inject_upstreams};
use crate::upstream::{CommandRuntime, ListChanged, PinStore, ServerRuntime};

/// A service with its credential resolved.
#[derive(Debug)]
pub struct ServiceRuntime {
    pub service: Service,
    pub credential: Credential,
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
    pins: PinStore,
    list_changed: ListChanged,
    inherit: Vec<(String, String)>,
    limits: Limits,
    scrubber: Scrubber,
    http: HttpConnector,
    audit: AuditLog,
    limiter: RateLimiter,
    rate_checks: AtomicU64,
}

/// How often the limiter drops budgets that have refilled completely
/// (otherwise its key map only grows).
const PRUNE_EVERY: u64 = 4096;

impl Gateway {
    /// Resolves every service's credential (failing on the first one that
    /// cannot be resolved, naming it) and builds the scrubber from all
    /// values keyward knows: the whole vault plus every resolved reference.
    pub fn new(
        config: Config,
        vault: Option<&Vault>,
        env: &dyn EnvSource,
        audit: AuditLog,
        pins: PinStore,
    ) -> Result<Gateway, GatewayError> {
        let services = inject::resolve_services(config.services, vault, env)?;
        let list_changed = ListChanged::default();
        let resolver = Resolver { vault, env };
        let upstreams = inject_upstreams::resolve_upstreams(
            config.servers,
            config.commands,
            &resolver,
            env,
            &list_changed,
        )?;
        let scrubber = inject::build_scrubber(vault, services.values(), &upstreams.injected);
        Ok(Gateway {
            inner: Arc::new(Inner {
                services,
                servers: upstreams.servers,
                commands: upstreams.commands,
                pins,
                list_changed,
                inherit: inject_upstreams::inherited(env),
                limits: config.limits,
                scrubber,
                http: HttpConnector::new()?,
                audit,
                limiter: RateLimiter::new(),
                rate_checks: AtomicU64::new(0),
            }),
        })
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

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub fn scrubber(&self) -> &Scrubber {
        &self.inner.scrubber
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
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("services", &self.inner.services.keys().collect::<Vec<_>>())
            .field("servers", &self.inner.servers.keys().collect::<Vec<_>>())
            .field("commands", &self.inner.commands.keys().collect::<Vec<_>>())
            .field("scrubber", &self.inner.scrubber)
            .finish_non_exhaustive()
    }
}
