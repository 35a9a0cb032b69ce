//! inject: the only stage that touches plaintext secrets. It resolves
//! every reference at start-up (a missing secret makes only its own
//! service, server or command unavailable, named in the reason; a later
//! refresh does not retry it: the fix is a restart),
//! keeps the values live ([`refresh`]: the vault file, the cache TTL of
//! remote stores, the refetch after a 401), and hands the connectors the
//! [`Credential`] a call carries. The same values seed the scrubber.
//!
//! - The local vault file is checked about once a second (its metadata:
//!   size, mtime, inode); on a change it is re-read with the key keyward
//!   already holds and every `keyward://` and `file://` reference is read
//!   again.
//! - `file://`, `keychain://` and `vault://` values are fetched again after
//!   the cache TTL; `env://` never changes.
//! - An upstream's 401 forces one refetch of that service's credential
//!   ([`refetch`]), at most once per reference per [`FORCE_EVERY`].
//! - A refresh that fails keeps the last good value (and logs the
//!   reference, never a value); it is tried again after
//!   [`cache::RETRY_AFTER`].
//! - The scrubber is rebuilt from the new values *and* those of the last
//!   [`KEEP_GENERATIONS`] changes, and swapped in before the new
//!   credentials, so an answer is always scrubbed of the value it was
//!   sent with.
//!
//! All fetching runs on blocking threads, never on the async path. The
//! next credential kinds (OAuth tokens, signed requests, minted tokens)
//! belong here: a new [`Credential`] variant, made here, applied by its
//! connector.

pub mod cache;
mod credentials;
mod refresh;
mod secrets;
pub mod upstreams;

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyward_config::Config;
use keyward_connectors::http;
use keyward_policy::Target;
use keyward_redact::{Generations, Scrubber, ScrubberBuilder};
use keyward_vault::{EnvSource, Resolver, SecretRef, SecretValue, Vault};

use self::cache::RefCache;
use self::credentials::credential_for;
pub use self::credentials::{Lookup, credentials, scrub_set};
pub use self::refresh::{FORCE_EVERY, Refetch, Refresher};
pub use self::secrets::Secrets;
use super::Stages;
use super::route::{ServiceRuntime, Tables};
use crate::GatewayError;
pub use crate::cell::Live;
use crate::servers::{CommandRuntime, ListChanged, ServerRuntime};

/// How long a value from a remote store (and a `file://` value) is used
/// before it is fetched again, unless the config says otherwise.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);

/// How often the vault file (and expired references) are checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// How many past generations of values the scrubber keeps matching.
pub const KEEP_GENERATIONS: usize = 3;

/// What a call carries to its connector.
#[derive(Clone, Debug, PartialEq)]
pub enum Credential {
    /// Nothing (an upstream MCP server got its secrets when it started).
    None,
    /// Attached to an HTTP request by the HTTP connector.
    Http(http::Credential),
    /// A command's environment, references resolved.
    Env(Vec<(String, SecretValue)>),
}

impl Credential {
    /// Whether the call carries no secret at all.
    pub fn is_none(&self) -> bool {
        matches!(
            self,
            Credential::None | Credential::Http(http::Credential::None)
        )
    }
}

/// The live secrets: one snapshot ([`Secrets`]) replaced whole when a
/// value changes, and what refreshes it.
pub struct Inject {
    secrets: Live<Secrets>,
    /// The current scrubber, for the upstreams' stderr (their log lines
    /// are cleaned of every value keyward knows, not only their own).
    stderr: Arc<Live<Scrubber>>,
    refresher: Refresher,
}

/// The resolved secrets, and the upstreams built with them.
pub struct Resolved {
    pub inject: Inject,
    pub services: std::collections::BTreeMap<String, ServiceRuntime>,
    pub servers: std::collections::BTreeMap<String, Arc<ServerRuntime>>,
    pub commands: std::collections::BTreeMap<String, CommandRuntime>,
}

impl Inject {
    /// Resolves every reference of `config` (a target whose reference
    /// cannot be resolved is marked unavailable, with the reason, and
    /// logged) and builds the scrubber from all
    /// values keyward knows: the whole vault plus every resolved
    /// reference. `follow` is keyward's own copy of the vault, re-read
    /// whenever its file changes.
    pub fn resolve(
        config: &mut Config,
        vault: Option<&Vault>,
        follow: Option<Vault>,
        env: &dyn EnvSource,
        list_changed: &ListChanged,
    ) -> Result<Resolved, GatewayError> {
        let now = Instant::now();
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
        // A reference that does not resolve makes its own service
        // unavailable (with the reason); the others serve.
        let mut credentials = std::collections::BTreeMap::new();
        let services: std::collections::BTreeMap<String, ServiceRuntime> =
            std::mem::take(&mut config.services)
                .into_iter()
                .map(|(name, service)| {
                    let unavailable = match credential_for(&mut fetch, &service) {
                        Ok(c) => {
                            credentials.insert(name.clone(), c);
                            None
                        }
                        Err(e) => Some(unavailable(&e)),
                    };
                    (
                        name,
                        ServiceRuntime {
                            service,
                            unavailable,
                        },
                    )
                })
                .collect();
        let stderr = Arc::new(Live::new(ScrubberBuilder::new().build()));
        let upstreams = upstreams::resolve_upstreams(
            std::mem::take(&mut config.servers),
            std::mem::take(&mut config.commands),
            &mut fetch,
            env,
            list_changed,
            &stderr,
        )?;
        let backend = openbao
            .as_ref()
            .map(|o| o.credential_values())
            .unwrap_or_default();
        let set = scrub_set(vault, cache.values(), &credentials, &backend);
        let generations = Generations::new(set, KEEP_GENERATIONS);
        let secrets = Secrets {
            generation: 0,
            credentials,
            command_env: upstreams.command_env,
            scrubber: generations.scrubber(),
        };
        stderr.store(secrets.scrubber.clone());
        Ok(Resolved {
            inject: Inject {
                secrets: Live::new(secrets),
                stderr,
                refresher: Refresher::new(follow, openbao, cache, generations, ttl),
            },
            services,
            servers: upstreams.servers,
            commands: upstreams.commands,
        })
    }

    /// The current generation of credentials, command environments and
    /// scrubber. Load it once per use and keep the `Arc`.
    pub fn current(&self) -> Arc<Secrets> {
        self.secrets.load()
    }

    /// The current scrubber (it also knows the values of the last few
    /// generations).
    pub fn scrubber(&self) -> Scrubber {
        self.secrets.load().scrubber.clone()
    }

    /// How long remote values are cached.
    pub fn cache_ttl(&self) -> Duration {
        self.refresher.ttl()
    }

    /// Checks for changed values now (blocking: call it from a blocking
    /// thread, as [`follow`] does).
    pub fn refresh_now(&self, tables: &Tables) {
        self.refresher.tick(self.install(tables));
    }

    fn install<'a>(&'a self, tables: &'a Tables) -> refresh::Install<'a> {
        refresh::Install {
            tables,
            secrets: &self.secrets,
            stderr: &self.stderr,
        }
    }
}

/// The reason a target is unavailable, logged once at start-up.
pub(crate) fn unavailable(e: &GatewayError) -> String {
    tracing::warn!(error = %e, "unavailable until keyward restarts; the rest serves");
    e.unavailable_reason()
}

/// The credential `target` carries, from the current generation.
pub fn credential(inject: &Inject, target: &Target<'_>) -> Credential {
    let secrets = inject.current();
    match target {
        Target::Http { service, .. } => secrets
            .credential(service)
            .cloned()
            .map_or(Credential::None, Credential::Http),
        Target::Command { command, .. } => Credential::Env(secrets.command_env(command).to_vec()),
        _ => Credential::None,
    }
}

/// After the upstream refused `used`: fetches `target`'s secret again,
/// bypassing the cache, waiting at most `timeout`. `Changed` means the
/// current credential differs from `used`, whether this refetch or an
/// earlier refresh changed it.
pub async fn refetch(
    st: &Stages,
    target: &Target<'_>,
    used: &Credential,
    timeout: Duration,
) -> Refetch {
    let Target::Http { service, .. } = target else {
        return Refetch::Unchanged;
    };
    let Some(reference) = st
        .tables
        .services
        .get(*service)
        .and_then(|rt| rt.service.auth.secret().cloned())
    else {
        return Refetch::Unchanged;
    };
    let (inject, tables) = (st.inject.clone(), st.tables.clone());
    let task = tokio::task::spawn_blocking(move || {
        inject
            .refresher
            .force(inject.install(&tables), &[reference])
    });
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
    match credential(&st.inject, target) {
        now if &now != used => Refetch::Changed,
        // Nothing new to retry with.
        _ if fetched == Refetch::Changed => Refetch::Unchanged,
        _ => fetched,
    }
}

/// Checks for changes every [`CHECK_EVERY`] until nobody else holds the
/// stages. Each check runs on a blocking thread; the next one starts after
/// it finished, so a slow backend delays only refreshes.
pub async fn follow(inject: std::sync::Weak<Inject>, tables: std::sync::Weak<Tables>) {
    loop {
        tokio::time::sleep(CHECK_EVERY).await;
        let (Some(inject), Some(tables)) = (inject.upgrade(), tables.upgrade()) else {
            return;
        };
        if tokio::task::spawn_blocking(move || inject.refresh_now(&tables))
            .await
            .is_err()
        {
            tracing::error!("the secret refresh task panicked; values stay as they are");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A credential reaches logs only through `Debug`: it must never print
    /// the value, whatever kind it is.
    #[test]
    fn a_credentials_debug_never_shows_its_value() {
        let canary = "kw_canary_debug_9f3c1e";
        let value = || SecretValue::from_str(canary);
        let shown = format!(
            "{:?} {:?} {:?}",
            Credential::Http(http::Credential::Bearer(value())),
            Credential::Http(http::Credential::Basic {
                username: "u".into(),
                password: value(),
            }),
            Credential::Env(vec![("TOKEN".into(), value())]),
        );
        assert!(!shown.contains(canary), "{shown}");
        assert!(shown.contains("TOKEN"), "{shown}");
    }
}
