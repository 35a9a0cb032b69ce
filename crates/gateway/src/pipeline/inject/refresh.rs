//! [`Refresher`]: fetches values again when they may have changed and
//! installs a new [`Secrets`] generation when one did.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use keyward_redact::Generations;
use keyward_vault::{OpenBao, Resolver, SecretRef, SecretValue, Vault};

use keyward_redact::Scrubber;

use super::cache::{Applied, RefCache, Refresh};
use super::{Live, Secrets, credentials, upstreams};
use crate::GatewayError;
use crate::pipeline::route::Tables;

/// Where a refresh installs what it found: the live secrets, the stderr
/// scrubber, and the servers to restart (from the tables).
pub(crate) struct Install<'a> {
    pub(crate) tables: &'a Tables,
    pub(crate) secrets: &'a Live<Secrets>,
    pub(crate) stderr: &'a Live<Scrubber>,
}

/// What a forced refetch found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refetch {
    /// The value is different now.
    Changed,
    /// Fetched again: the same value.
    Unchanged,
    /// The fetch failed (or took longer than the call may wait); the last
    /// good value stays.
    Failed,
    /// Not fetched: the same reference was refetched less than
    /// [`FORCE_EVERY`] ago (an agent that keeps calling an endpoint that
    /// answers 401 must not hammer the secret store).
    Skipped,
}

/// At most one forced refetch of a reference in this interval.
pub const FORCE_EVERY: Duration = Duration::from_secs(5);

impl Refetch {
    /// For the audit record.
    pub fn as_str(self) -> &'static str {
        match self {
            Refetch::Changed => "changed",
            Refetch::Unchanged => "unchanged",
            Refetch::Failed => "failed",
            Refetch::Skipped => "skipped",
        }
    }
}

/// Identifies one version of the vault file cheaply (the vault is replaced
/// by rename on every write, so the inode changes too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> std::io::Result<Stamp> {
        let m = std::fs::metadata(path)?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&m);
        #[cfg(not(unix))]
        let inode = 0;
        Ok(Stamp {
            len: m.len(),
            modified: m.modified().ok(),
            inode,
        })
    }
}

struct State {
    /// keyward's own copy of the open vault (and so of its key), when the
    /// gateway was given one to follow.
    vault: Option<Vault>,
    /// The OpenBao / Vault client, for `vault://` references.
    openbao: Option<OpenBao>,
    /// `None` until first checked: the first check always re-reads, so a
    /// change between unlocking and starting is not missed.
    stamp: Option<Stamp>,
    cache: RefCache,
    generations: Generations,
    generation: u64,
    /// When each reference was last refetched by force.
    forced: HashMap<SecretRef, Instant>,
}

/// Owns everything a refresh needs. Used only from blocking threads (and
/// at start-up), so its lock may be held across IO.
pub struct Refresher {
    state: Mutex<State>,
    ttl: Duration,
}

impl Refresher {
    pub(crate) fn new(
        vault: Option<Vault>,
        openbao: Option<OpenBao>,
        cache: RefCache,
        generations: Generations,
        ttl: Duration,
    ) -> Refresher {
        Refresher {
            state: Mutex::new(State {
                vault,
                openbao,
                stamp: None,
                cache,
                generations,
                generation: 0,
                forced: HashMap::new(),
            }),
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The periodic check (blocking).
    pub(crate) fn tick(&self, to: Install<'_>) {
        self.run(to, &[]);
    }

    /// Fetches `refs` again now, whatever the cache says (blocking).
    /// Each reference at most once per [`FORCE_EVERY`].
    pub(crate) fn force(&self, to: Install<'_>, refs: &[SecretRef]) -> Refetch {
        let refs: Vec<SecretRef> = {
            let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            st.forced
                .retain(|_, at| now.saturating_duration_since(*at) < FORCE_EVERY);
            let fresh: Vec<SecretRef> = refs
                .iter()
                .filter(|r| !st.forced.contains_key(*r))
                .cloned()
                .collect();
            for r in &fresh {
                st.forced.insert(r.clone(), now);
            }
            fresh
        };
        if refs.is_empty() {
            return Refetch::Skipped;
        }
        self.run(to, &refs)
    }

    fn run(&self, to: Install<'_>, force: &[SecretRef]) -> Refetch {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let force_vault = force.iter().any(|r| matches!(r, SecretRef::Vault(_)));
        let vault_changed = check_vault(&mut st, force_vault);
        let mut due = st.cache.due(now, self.ttl, vault_changed);
        for r in force {
            if Refresh::of(r) != Refresh::Never && !due.contains(r) {
                due.push(r.clone());
            }
        }
        let mut changed = false;
        let mut forced = Refetch::Unchanged;
        for r in &due {
            let fetched = {
                // env:// is never fetched again (keyward's environment
                // does not change), so no environment is needed here. Due
                // means due: bypass the client's own cache.
                Resolver::new(st.vault.as_ref(), &())
                    .with_openbao(st.openbao.clone())
                    .resolve_fresh(r)
            };
            if let Err(e) = &fetched {
                tracing::warn!(reference = %r, error = %e, "refreshing a secret failed; keeping its last good value");
            }
            let applied = st.cache.apply(r, fetched, now, self.ttl);
            changed |= applied == Applied::Changed;
            if force.contains(r) {
                forced = match (forced, applied) {
                    (Refetch::Failed, _) | (_, Applied::Failed) => Refetch::Failed,
                    (_, Applied::Changed) => Refetch::Changed,
                    (f, Applied::Same) => f,
                };
            }
        }
        if changed || vault_changed {
            install(&to, &mut st, changed);
        }
        forced
    }
}

/// Re-reads the vault if its file changed (or `force`). A vault that cannot
/// be read keeps the values read before.
fn check_vault(st: &mut State, force: bool) -> bool {
    let Some(vault) = st.vault.as_mut() else {
        return false;
    };
    let stamp = match Stamp::of(vault.path()) {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(error = %e, "cannot stat the vault file");
            return false;
        }
    };
    if st.stamp == Some(stamp) && !force {
        return false;
    }
    // Recorded even if the read fails, so a broken file is reported once,
    // not every second; the next write changes the stamp again.
    st.stamp = Some(stamp);
    match vault.reload() {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "cannot re-read the vault; keeping the values read before");
            false
        }
    }
}

/// Builds the next generation from the cache and installs it: first the
/// scrubber and credentials (one swap), then any upstream server whose
/// injected values changed is replaced (it restarts on its next call).
/// Nothing is installed when no reference changed (`refs_changed`) and
/// the vault holds the same values as before.
fn install(to: &Install<'_>, st: &mut State, refs_changed: bool) {
    let State {
        vault,
        cache,
        generations,
        generation,
        openbao,
        ..
    } = st;
    let mut lookup = |where_: &str, r: &SecretRef| -> Result<SecretValue, GatewayError> {
        cache
            .get(r)
            .cloned()
            .ok_or_else(|| GatewayError::Credential {
                service: where_.to_string(),
                message: format!("`{r}` was not resolved at start-up"),
            })
    };
    let built = (|| {
        let credentials = credentials::credentials(&to.tables.services, &mut lookup)?;
        let command_env = to
            .tables
            .commands
            .iter()
            .filter(|(_, rt)| rt.unavailable.is_none())
            .map(|(name, rt)| {
                upstreams::command_values(name, &rt.command, &mut lookup).map(|v| (name.clone(), v))
            })
            .collect::<Result<_, GatewayError>>()?;
        let servers = to
            .tables
            .servers
            .iter()
            .filter(|(_, rt)| rt.unavailable.is_none())
            .map(|(name, rt)| {
                upstreams::server_values(&rt.server, &mut lookup).map(|v| (name.clone(), v))
            })
            .collect::<Result<Vec<_>, GatewayError>>()?;
        Ok::<_, GatewayError>((credentials, command_env, servers))
    })();
    let (credentials, command_env, servers) = match built {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "cannot rebuild the secrets; keeping the current ones");
            return;
        }
    };
    let backend = openbao
        .as_ref()
        .map(|o| o.credential_values())
        .unwrap_or_default();
    let set = credentials::scrub_set(vault.as_ref(), cache.values(), &credentials, &backend);
    if !generations.advance(set) && !refs_changed {
        return;
    }
    *generation += 1;
    let scrubber = generations.scrubber();
    to.stderr.store(scrubber.clone());
    drop(to.secrets.store(Secrets {
        generation: *generation,
        credentials,
        command_env,
        scrubber,
    }));
    tracing::info!(generation = *generation, "secrets reloaded");
    for (name, values) in servers {
        if let Some(rt) = to.tables.servers.get(&name)
            && rt.upstream.replace_values(values)
        {
            rt.stale.store(true, std::sync::atomic::Ordering::SeqCst);
            to.tables.list_changed.notify();
        }
    }
}
