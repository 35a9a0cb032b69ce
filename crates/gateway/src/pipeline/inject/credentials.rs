//! Each service's reference into the HTTP credential it carries (at
//! start-up, so a missing secret makes the service unavailable before the
//! first call, naming the reference; then again whenever the value behind the reference
//! changed, see [`super::refresh`]); and the scrubber's set of every value
//! keyward holds.

use std::collections::BTreeMap;

use keyward_config::{Auth, Service};
use keyward_connectors::http::Credential;
use keyward_redact::SecretSet;
use keyward_vault::{SecretRef, SecretValue, Vault};

use crate::GatewayError;
use crate::pipeline::route::ServiceRuntime;

/// Where a reference's value comes from: resolved afresh at start-up, read
/// from the cache of last good values afterwards. `where_` names the place
/// that uses the reference, for the error.
pub type Lookup<'a> = dyn FnMut(&str, &SecretRef) -> Result<SecretValue, GatewayError> + 'a;

pub fn credentials(
    services: &BTreeMap<String, ServiceRuntime>,
    lookup: &mut Lookup<'_>,
) -> Result<BTreeMap<String, Credential>, GatewayError> {
    services
        .iter()
        .filter(|(_, rt)| rt.unavailable.is_none())
        .map(|(name, rt)| Ok((name.clone(), credential_for(lookup, &rt.service)?)))
        .collect()
}

pub(crate) fn credential_for(
    lookup: &mut Lookup<'_>,
    service: &Service,
) -> Result<Credential, GatewayError> {
    let Some(reference) = service.auth.secret() else {
        return Ok(Credential::None);
    };
    let value = lookup(&service.name, reference)?;
    if value.is_empty() {
        return Err(GatewayError::Credential {
            service: service.name.clone(),
            message: format!("the secret `{reference}` is empty"),
        });
    }
    Ok(match &service.auth {
        Auth::None => Credential::None,
        Auth::Bearer { .. } => Credential::Bearer(value),
        Auth::Basic { username, .. } => Credential::Basic {
            username: username.clone(),
            password: value,
        },
        Auth::Header { name, .. } => Credential::Header {
            name: name.clone(),
            value,
        },
        Auth::Query { name, .. } => Credential::Query {
            name: name.clone(),
            value,
        },
    })
}

/// Every value keyward holds goes into the scrubber, not only the ones in
/// use: a secret of one service must not come back through another.
/// `resolved` is every value a reference resolved to (services, upstream
/// servers, commands).
pub fn scrub_set<'a>(
    vault: Option<&Vault>,
    resolved: impl Iterator<Item = &'a SecretValue>,
    credentials: &BTreeMap<String, Credential>,
    backend_credentials: &[SecretValue],
) -> SecretSet {
    let mut set = SecretSet::new();
    for value in resolved {
        set.add_secret(value.expose());
    }
    // keyward's own OpenBao/Vault token (or AppRole ids): never the
    // agent's to see either.
    for value in backend_credentials {
        set.add_secret(value.expose());
    }
    if let Some(v) = vault {
        for (_, value) in v.values() {
            set.add_secret(value.expose());
        }
    }
    for credential in credentials.values() {
        match credential {
            Credential::None => {}
            Credential::Bearer(v)
            | Credential::Header { value: v, .. }
            | Credential::Query { value: v, .. } => {
                set.add_secret(v.expose());
            }
            Credential::Basic { username, password } => {
                set.add_secret(password.expose());
                set.add_basic_auth(username.as_bytes(), password.expose());
            }
        }
    }
    set
}
