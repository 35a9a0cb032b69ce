//! The last good value of every secret reference the gateway uses, and when
//! each must be fetched again.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use keyward_vault::{ResolveError, SecretRef, SecretValue};

/// After a failed refresh, how long until the next try (at most the TTL).
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// When a reference's value can change, and so when it is fetched again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// `env://`: keyward's environment is fixed at start.
    Never,
    /// `keyward://`: read again whenever the vault file changed.
    OnVaultChange,
    /// `file://`: on a vault change (the usual "I rotated something"
    /// moment) and after the TTL.
    VaultChangeOrTtl,
    /// Remote stores (`keychain://`, `vault://`): after the TTL.
    Ttl,
}

impl Refresh {
    pub fn of(r: &SecretRef) -> Refresh {
        match r {
            SecretRef::Env(_) => Refresh::Never,
            SecretRef::Vault(_) => Refresh::OnVaultChange,
            SecretRef::File(_) => Refresh::VaultChangeOrTtl,
            SecretRef::Keychain { .. } | SecretRef::OpenBao { .. } => Refresh::Ttl,
        }
    }
}

struct Entry {
    value: SecretValue,
    /// When the value was last fetched successfully.
    fetched: Instant,
    /// Set after a failed refresh: not before then.
    retry_at: Option<Instant>,
}

/// What applying one fetch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Changed,
    Same,
    /// The fetch failed; the last good value stays.
    Failed,
}

#[derive(Default)]
pub struct RefCache {
    entries: HashMap<SecretRef, Entry>,
}

impl RefCache {
    pub fn get(&self, r: &SecretRef) -> Option<&SecretValue> {
        self.entries.get(r).map(|e| &e.value)
    }

    /// Every value held (for the scrubber).
    pub fn values(&self) -> impl Iterator<Item = &SecretValue> {
        self.entries.values().map(|e| &e.value)
    }

    /// The first value of a reference (at start-up).
    pub fn insert(&mut self, r: SecretRef, value: SecretValue, now: Instant) {
        self.entries.insert(
            r,
            Entry {
                value,
                fetched: now,
                retry_at: None,
            },
        );
    }

    /// The references to fetch again now.
    pub fn due(&self, now: Instant, ttl: Duration, vault_changed: bool) -> Vec<SecretRef> {
        self.entries
            .iter()
            .filter(|(r, e)| {
                if e.retry_at.is_some_and(|t| now < t) {
                    return false;
                }
                let expired = now.saturating_duration_since(e.fetched) >= ttl;
                match Refresh::of(r) {
                    Refresh::Never => false,
                    Refresh::OnVaultChange => vault_changed || e.retry_at.is_some(),
                    Refresh::VaultChangeOrTtl => vault_changed || expired,
                    Refresh::Ttl => expired,
                }
            })
            .map(|(r, _)| r.clone())
            .collect()
    }

    /// Records a fetch. A failure keeps the last good value and schedules
    /// the next try; the caller logs it.
    pub fn apply(
        &mut self,
        r: &SecretRef,
        fetched: Result<SecretValue, ResolveError>,
        now: Instant,
        ttl: Duration,
    ) -> Applied {
        let Some(e) = self.entries.get_mut(r) else {
            return Applied::Failed;
        };
        match fetched {
            Ok(value) => {
                e.fetched = now;
                e.retry_at = None;
                if value == e.value {
                    Applied::Same
                } else {
                    e.value = value;
                    Applied::Changed
                }
            }
            Err(_) => {
                e.retry_at = Some(now + RETRY_AFTER.min(ttl));
                Applied::Failed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const TTL: Duration = Duration::from_secs(300);

    fn v(s: &str) -> SecretValue {
        SecretValue::from_str(s)
    }

    fn failure(r: &SecretRef) -> ResolveError {
        ResolveError::NotFound {
            reference: r.clone(),
            what: "gone".into(),
        }
    }

    #[test]
    fn a_failing_refresh_keeps_the_last_good_value_and_retries_later() {
        let r = SecretRef::Keychain {
            service: "svc".into(),
            account: "acct".into(),
        };
        let t0 = Instant::now();
        let mut c = RefCache::default();
        c.insert(r.clone(), v("kw_canary_good"), t0);
        let t1 = t0 + TTL;
        assert_eq!(c.due(t1, TTL, false), vec![r.clone()]);
        assert_eq!(c.apply(&r, Err(failure(&r)), t1, TTL), Applied::Failed);
        assert_eq!(c.get(&r), Some(&v("kw_canary_good")));
        assert!(c.due(t1 + Duration::from_secs(1), TTL, false).is_empty());
        let t2 = t1 + RETRY_AFTER;
        assert_eq!(c.due(t2, TTL, false), vec![r.clone()]);
        assert_eq!(
            c.apply(&r, Ok(v("kw_canary_new")), t2, TTL),
            Applied::Changed
        );
        assert_eq!(c.get(&r), Some(&v("kw_canary_new")));
        assert!(c.due(t2 + Duration::from_secs(1), TTL, false).is_empty());
    }

    #[test]
    fn each_kind_is_due_on_its_own_trigger() {
        let env = SecretRef::Env("TOKEN".into());
        let vault = SecretRef::Vault("gh".into());
        let file = SecretRef::File(PathBuf::from("/run/secrets/x"));
        let remote = SecretRef::OpenBao {
            mount: "secret".into(),
            path: "p".into(),
            field: "f".into(),
        };
        let t0 = Instant::now();
        let mut c = RefCache::default();
        for r in [&env, &vault, &file, &remote] {
            c.insert(r.clone(), v("kw_canary_x"), t0);
        }
        let sorted = |mut d: Vec<SecretRef>| {
            d.sort_by_key(|r| r.to_string());
            d
        };
        assert!(c.due(t0, TTL, false).is_empty());
        assert_eq!(
            sorted(c.due(t0, TTL, true)),
            sorted(vec![vault.clone(), file.clone()])
        );
        assert_eq!(
            sorted(c.due(t0 + TTL, TTL, false)),
            sorted(vec![file.clone(), remote.clone()])
        );
        assert!(!c.due(t0 + TTL * 100, TTL, true).contains(&env));
    }

    #[test]
    fn an_unchanged_value_is_same() {
        let r = SecretRef::Vault("gh".into());
        let t0 = Instant::now();
        let mut c = RefCache::default();
        c.insert(r.clone(), v("kw_canary_same"), t0);
        assert_eq!(c.apply(&r, Ok(v("kw_canary_same")), t0, TTL), Applied::Same);
    }
}
